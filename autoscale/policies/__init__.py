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
"""

from __future__ import annotations

from ..errors import ConfigError
from .base import Context, FunctionPolicy, Policy, Signals, as_policy, check_policy
from .forecast import Forecast
from .hpa import HPA
from .hybrid import Hybrid
from .kpa import KPA
from .oracle import Oracle
from .simple import Fixed, KeepAlive

__all__ = [
    "Context", "FunctionPolicy", "Policy", "Signals", "as_policy", "check_policy", "get", "names", "register",
    "KPA", "HPA", "Fixed", "KeepAlive", "Hybrid", "Forecast", "Oracle", "REGISTRY",
]

#: Policy name -> class (or any callable returning a policy from keyword parameters).
REGISTRY: dict = {
    "kpa": KPA, "hpa": HPA, "fixed": Fixed, "keepalive": KeepAlive, "hybrid": Hybrid, "forecast": Forecast,
    "oracle": Oracle,
}


def register(name: str, factory) -> None:
    """Make ``factory(**params)`` available as policy ``name``."""
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
