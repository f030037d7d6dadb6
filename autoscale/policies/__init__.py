"""Scaling policies: the KPA and the policies the literature compares it with, behind one protocol.

:mod:`autoscale.policies.base` defines the protocol (:class:`Policy`, :class:`Signals`,
:class:`Context`). The registry maps names to policy classes; :func:`get` builds one with
its parameters, and :func:`register` adds your own so that ``autoscale compare`` and
sweeps can name it.

Examples
--------
>>> from autoscale.policies import get, names
>>> names()
['kpa', 'hpa', 'fixed', 'keepalive', 'hybrid', 'forecast', 'oracle']
>>> get("keepalive", keep_alive=60).describe()
'keepalive(keep_alive=60.0)'
>>> parse_param("keepalive", "keep-alive", "5m")
('keep_alive', 300.0)
"""

from __future__ import annotations

import math

from ..errors import ConfigError
from .base import Context, FunctionPolicy, Policy, Signals, as_policy, check_policy
from .forecast import Forecast
from .hpa import HPA
from .hybrid import Hybrid
from .kpa import KPA
from .oracle import Oracle
from .simple import Fixed, KeepAlive

__all__ = [
    "Context", "FunctionPolicy", "Policy", "Signals", "as_policy", "check_policy", "get", "names", "name_end",
    "parse_param", "split_param", "register",
    "KPA", "HPA", "Fixed", "KeepAlive", "Hybrid", "Forecast", "Oracle", "REGISTRY",
]

#: Policy name -> class (or any callable returning a policy from keyword parameters).
REGISTRY: dict = {
    "kpa": KPA, "hpa": HPA, "fixed": Fixed, "keepalive": KeepAlive, "hybrid": Hybrid, "forecast": Forecast,
    "oracle": Oracle,
}
#: The built-in policies, as registered on import in every process (a Dask worker's too).
_BUILTIN: dict = dict(REGISTRY)


def register(name: str, factory) -> None:
    """Make ``factory(**params)`` available as policy ``name``.

    Registered in the client process only, it also runs in a sweep on Dask: the sweep
    sends ``factory`` to the workers pickled by value (:func:`autoscale.sweep.run_sweep`).
    """
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"policy name {name!r}: use letters, digits, '-' and '_'")
    REGISTRY[name] = factory


def names() -> list[str]:
    """Registered policy names, in registration order."""
    return list(REGISTRY)


def get(name: str, **params) -> Policy:
    """The policy registered as ``name``, built with ``params``."""
    try:
        factory = REGISTRY[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, REGISTRY, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown policy {name!r}{hint} (known: {', '.join(REGISTRY)})") from None
    import inspect

    try:
        accepted = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        accepted = None
    if accepted is not None and not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        unknown = sorted(set(params) - set(accepted))
        if unknown:
            known = ", ".join(accepted) or "none"
            raise ConfigError(f"policy {name!r}: unknown parameter {', '.join(unknown)} (parameters: {known})")
    return factory(**params)


def _parameter(name: str, key: str):
    """The constructor parameter ``key`` of policy ``name`` (``-`` read as ``_``), or None when unknown."""
    import inspect

    factory = REGISTRY.get(name)
    try:
        params = inspect.signature(factory).parameters if factory is not None else {}
    except (TypeError, ValueError):
        params = {}
    key = key.strip().replace("-", "_")
    for candidate in (key, key + "_"):  # ``range`` names Hybrid's ``range_``
        p = params.get(candidate)
        if p is not None and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            return candidate, p, candidate in getattr(factory, "durations", ())
    return key, None, False


def _literal(text: str):
    """A value of unknown type: none, a bool, an int, a float, seconds with a unit, or the text."""
    from ..values import parse_seconds

    low = text.strip().lower()
    if low in ("none", "null"):
        return None
    if low in ("true", "false"):
        return low == "true"
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    try:
        return parse_seconds(text, "policy parameter")
    except ConfigError:
        return text.strip()


def name_end(text: str) -> int:
    """Where the policy name of ``POLICY.KEY...`` or ``POLICY:KEY...`` ends: the first ``.`` or ``:`` (or the length).

    >>> name_end("keepalive:keep-alive=5m"), name_end("kpa")
    (9, 3)
    """
    return min((i for i in (text.find("."), text.find(":")) if i >= 0), default=len(text))


def split_param(item: str, option: str = "--param") -> tuple[str, str, str]:
    """``"keepalive.keep_alive=300"`` or ``"keepalive:keep-alive=300"`` -> ``("keepalive", "keep_alive", "300")`` (the key as written).

    The policy name ends at the first ``.`` or ``:``; the value follows the first ``=``.

    >>> split_param("keepalive:keep-alive=5m")
    ('keepalive', 'keep-alive', '5m')
    """
    head, sep, value = item.partition("=")
    cut = name_end(head)
    name, key = (head[:cut].strip(), head[cut + 1:].strip()) if cut < len(head) else ("", "")
    if not sep or not name or not key:
        raise ConfigError(f"{option} {item}: expected POLICY.KEY=VALUE (or POLICY:KEY=VALUE), "
                          "for example keepalive.keep_alive=300")
    return name, key, value


def parse_param(name: str, key: str, text: str) -> tuple[str, object]:
    """A policy parameter from text, read as the policy's constructor takes it: ``(key, value)``.

    ``-`` in ``key`` reads as ``_``. A parameter in seconds (see :attr:`Policy.durations`)
    is a plain number or a duration with a unit (``90s``, ``5m``, ``1h``); a whole
    number where the default is one; a number, a bool or a string by the default's type;
    ``none`` where the default is None. A parameter of unknown type is read as the first
    of those that fits. Unknown keys and out-of-range values are left to :func:`get`.

    Raises
    ------
    ConfigError
        Naming the policy, the parameter, the text and what it must be.
    """
    from ..values import parse_seconds

    key, param, in_seconds = _parameter(name, key)
    text = text.strip()
    if param is None:
        return key, _literal(text)
    default = param.default
    optional = default is None
    if optional and text.lower() in ("none", "null"):
        return key, None
    annotation = str(param.annotation)
    where = f"{name}.{key} = {text}"
    whole = isinstance(default, int) and not isinstance(default, bool) or (optional and annotation.startswith("int"))
    if in_seconds:
        try:
            value = parse_seconds(text, where)
        except ConfigError:
            value = math.nan
        if not math.isfinite(value) or (whole and not value.is_integer()):
            kind = "a whole number of seconds" if whole else "a number of seconds"
            raise ConfigError(f"{where}, must be {kind} or a duration such as 300, 90s, 5m or 1h"
                              + (" (or none)" if optional else "")) from None
        return key, int(value) if whole else value
    if isinstance(default, bool):
        if text.lower() not in ("true", "false"):
            raise ConfigError(f"{where}, must be true or false")
        return key, text.lower() == "true"
    if whole:
        try:
            return key, int(text)
        except ValueError:
            raise ConfigError(f"{where}, must be a whole number" + (" (or none)" if optional else "")) from None
    if isinstance(default, float) or (optional and annotation.startswith("float")):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ConfigError(f"{where}, must be a finite number" + (" (or none)" if optional else ""))
        return key, value
    if isinstance(default, str):
        return key, text
    return key, _literal(text)
