"""The configuration of one revision's KPA, validated on construction and resolved from Knative's sources.

A :class:`KPAConfig` holds the settings the decider and the reconciler read for one
revision (Knative Serving 1.23: ``pkg/autoscaler/config/config.go``, ``pkg/apis/autoscaling``). :func:`resolve` builds one from the places
Knative takes them from, in increasing precedence::

    defaults < config-autoscaler ConfigMap < revision annotations / spec < explicit overrides

and records where every value came from.

Examples
--------
>>> from autoscale.config import KPAConfig, resolve
>>> c = KPAConfig(container_concurrency=10)
>>> c.total, c.target_value, c.panic_window
(10.0, 7.0, 6.0)
>>> r = resolve(configmap={"stable-window": "90s"}, overrides={"target": "50"})
>>> r.config.stable_window, r.sources["stable-window"], r.config.total
(90.0, 'configmap', 50.0)
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import enum
import numbers
import os
import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import yaml

from .errors import ConfigError

__all__ = [
    "Metric",
    "Aggregation",
    "KPAConfig",
    "ResolvedConfig",
    "RevisionTemplate",
    "resolve",
    "parse_duration",
    "parse_seconds",
    "parse_bool",
    # names and bounds shared by validation, docs and tests
    "ANNOTATION_PREFIX",
    "PROGRESS_DEADLINE_ANNOTATION",
    "KPA_CLASS",
    "HPA_CLASS",
    "KEY_TO_FIELD",
    "ANNOTATION_TO_FIELD",
    "IGNORED_CONFIGMAP_KEYS",
    "TARGET_MIN",
    "RPS_TARGET_UTILIZATION",
    "CC_TARGET_PERCENTAGE_RANGE",
    "TBC_UNLIMITED",
    "STABLE_WINDOW_RANGE",
    "PANIC_WINDOW_PERCENTAGE_RANGE",
    "PANIC_THRESHOLD_PERCENTAGE_ANNOTATION_RANGE",
    "MAX_SCALE_RATE_MIN",
    "ACTIVATOR_CAPACITY_MIN",
    "ANNOTATION_DURATION_RANGE",
    "ACTIVATION_SCALE_MIN",
    "TARGET_UTILIZATION_PERCENTAGE_RANGE",
    "CONTAINER_CONCURRENCY_RANGE",
    "TIMEOUT_SECONDS_RANGE",
    "INT32_MAX",
]

# -- names -------------------------------------------------------------------------------

ANNOTATION_PREFIX = "autoscaling.knative.dev/"
PROGRESS_DEADLINE_ANNOTATION = "serving.knative.dev/progress-deadline"
KPA_CLASS = "kpa.autoscaling.knative.dev"
HPA_CLASS = "hpa.autoscaling.knative.dev"

#: Config-map keys Knative reads but ignores, with the reason (``pkg/autoscaler/config/config.go``).
IGNORED_CONFIGMAP_KEYS: Mapping[str, str] = types.MappingProxyType({
    "tick-interval": "the decider tick is hard-coded to 2s",
})

# -- bounds ------------------------------------------------------------------------------
# A range is (low, high), inclusive unless the comment says otherwise; None = unbounded.
# Durations are in seconds.

TARGET_MIN = 0.01  #: smallest target / total Knative accepts (``autoscaling.TargetMin``)
RPS_TARGET_UTILIZATION = 0.7  #: utilisation of the rps metric; not settable in the config map
#: Raw ``container-concurrency-target-percentage``, low end exclusive. A value <= 1 is a
#: fraction, a larger one a percentage, so (0, 100] covers the fractions (0, 1].
CC_TARGET_PERCENTAGE_RANGE = (0.0, 100.0)
TBC_UNLIMITED = -1.0  #: target-burst-capacity meaning "activator always in the path"
STABLE_WINDOW_RANGE = (6.0, 3600.0)  #: whole seconds
PANIC_WINDOW_PERCENTAGE_RANGE = (1.0, 100.0)
#: The annotation range. The config map does not validate it; we require > 0 there.
PANIC_THRESHOLD_PERCENTAGE_ANNOTATION_RANGE = (110.0, 1000.0)
MAX_SCALE_RATE_MIN = 1.0  #: both scale rates must be strictly above this
ACTIVATOR_CAPACITY_MIN = 1.0
#: Annotation range of scale-down-delay and scale-to-zero-pod-retention-period (the
#: config map only requires >= 0).
ANNOTATION_DURATION_RANGE = (0.0, 3600.0)
ACTIVATION_SCALE_MIN = 2  #: when set; 0 means unset
TARGET_UTILIZATION_PERCENTAGE_RANGE = (1.0, 100.0)
CONTAINER_CONCURRENCY_RANGE = (0, 1000)  #: 0 = unlimited
#: Revision timeout, low end exclusive. Knative's cap is max-revision-timeout-seconds
#: (600 s by default); we allow up to an hour so longer-timeout clusters can be modelled.
TIMEOUT_SECONDS_RANGE = (0.0, 3600.0)
INT32_MAX = 2**31 - 1  #: Knative parses every integer key as int32


# -- enums -------------------------------------------------------------------------------


class Metric(enum.Enum):
    """The scaling metric of the KPA (``autoscaling.knative.dev/metric``)."""

    CONCURRENCY = "concurrency"
    RPS = "rps"


class Aggregation(enum.Enum):
    """How the metric windows average (``autoscaling.knative.dev/metric-aggregation-algorithm``)."""

    LINEAR = "linear"
    WEIGHTED_EXPONENTIAL = "weighted-exponential"


_AGGREGATION_ALIASES = {"weightedExponential": Aggregation.WEIGHTED_EXPONENTIAL}


# -- formatting --------------------------------------------------------------------------


def _fmt_num(x: float) -> str:
    """70.0 -> "70", 0.7 -> "0.7"; the way Knative's YAML writes numbers."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x) if isinstance(x, float) else str(x)


def _fmt_duration(seconds: float) -> str:
    """A duration value the way the config map writes it: 60.0 -> "60s", 0.5 -> "0.5s"."""
    return _fmt_num(float(seconds)) + "s"


def _fmt_bound(seconds: float) -> str:
    """A duration bound in its largest whole unit: 3600 -> "1h", 6 -> "6s"."""
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return _fmt_duration(seconds)


# -- parsing Knative's string syntax -----------------------------------------------------

_NS_PER_UNIT = {
    "ns": 1, "us": 10**3, "\u00b5s": 10**3, "\u03bcs": 10**3,
    "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9,
}
_DURATION_PART = re.compile(r"(\d*)(?:\.(\d*))?([^\d.]+)")
_INT_RE = re.compile(r"[+-]?\d+")
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_BOOLS = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}


def _duration_ns(text: str) -> int | None:
    """Go ``time.ParseDuration`` in integer nanoseconds, or None when the text is not one."""
    s = text
    sign = 1
    if s[:1] in ("+", "-"):
        sign, s = (-1 if s[0] == "-" else 1), s[1:]
    if s == "0":  # the only unit-less duration Go accepts
        return 0
    if not s:
        return None
    total, pos = Fraction(0), 0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if m is None:
            return None
        whole, frac, unit = m.groups()
        if not whole and not frac or unit not in _NS_PER_UNIT:
            return None
        amount = Fraction(int(whole or 0))
        if frac:
            amount += Fraction(int(frac), 10 ** len(frac))
        total += amount * _NS_PER_UNIT[unit]
        pos = m.end()
    ns = int(total)  # Go truncates sub-nanosecond fractions
    if ns > 2**63 - 1:
        return None
    return sign * ns


def parse_duration(text: str, key: str = "duration") -> float:
    """Parse a Go duration (``"60s"``, ``"1m30s"``, ``"500ms"``, ``"0"``) into seconds.

    Knative parses every duration key with Go's ``time.ParseDuration``, which needs a
    unit on every number, so a bare ``"60"`` is rejected (only ``"0"`` is allowed bare).

    Parameters
    ----------
    text : str
        The duration text.
    key : str
        The key being parsed, named in the error.

    Returns
    -------
    float
        Seconds.

    Raises
    ------
    ConfigError
        When ``text`` is not a Go duration.

    Examples
    --------
    >>> parse_duration("1m30s"), parse_duration("500ms"), parse_duration("0")
    (90.0, 0.5, 0.0)
    """
    if not isinstance(text, str):
        raise TypeError(f"{key}: expected a duration string, got {type(text).__name__}")
    ns = _duration_ns(text.strip())
    if ns is None:
        raise ConfigError(
            f"{key} = {text}, must be a duration with a unit on every number, "
            f"such as 60s, 1m30s or 500ms")
    return ns / 1e9


def parse_seconds(text: str, key: str = "duration") -> float:
    """Seconds from a plain number (``"90"``, ``"0.5"``) or a Go duration (``"90s"``, ``"5m"``, ``"1h"``).

    The command line's reading of a time: wherever seconds are asked for, a bare number
    is seconds and a unit may be given. Knative's own files keep Go's rule (see
    :func:`parse_duration`). The value may be negative or infinite; callers check the range.

    Raises
    ------
    ConfigError
        When ``text`` is neither a number nor a Go duration.

    Examples
    --------
    >>> parse_seconds("90"), parse_seconds("5m"), parse_seconds("1h"), parse_seconds("1.5")
    (90.0, 300.0, 3600.0, 1.5)
    """
    if not isinstance(text, str):
        raise TypeError(f"{key}: expected a str, got {type(text).__name__}")
    s = text.strip()
    if _NUMBER_RE.fullmatch(s):
        return float(s)
    ns = _duration_ns(s)
    if ns is None:
        raise ConfigError(f"{key} = {text}, must be a number of seconds or a duration such as 90s, 5m or 1h")
    return ns / 1e9


def first_repeat(values) -> int:
    """The index of the first value equal to an earlier one, or -1 (a repeated key or grid value is refused).

    >>> first_repeat([1, 2, 1]), first_repeat(["a", "b"])
    (2, -1)
    """
    seen = []
    for i, v in enumerate(values):
        if v in seen:
            return i
        seen.append(v)
    return -1


def parse_bool(text: str, key: str = "bool") -> bool:
    """Parse Go bool syntax: 1, t, T, TRUE, true, True and 0, f, F, FALSE, false, False.

    Examples
    --------
    >>> parse_bool("True"), parse_bool("0")
    (True, False)
    """
    if not isinstance(text, str):
        raise TypeError(f"{key}: expected a bool string, got {type(text).__name__}")
    try:
        return _BOOLS[text.strip()]
    except KeyError:
        raise ConfigError(f"{key} = {text}, must be a bool: true or false "
                          f"(also 1, t, T, TRUE, True, 0, f, F, FALSE, False)") from None


def _parse_float(text: str, key: str) -> float:
    # Go's ParseFloat: decimal or hex, inf/nan words, no digit-separating underscores.
    s = text.strip()
    try:
        if "_" in s:
            raise ValueError
        return float(s) if not s.lower().lstrip("+-").startswith("0x") else float.fromhex(s)
    except ValueError:
        raise ConfigError(f"{key} = {text}, must be a number") from None


def _parse_int(text: str, key: str) -> int:
    s = text.strip()
    if not _INT_RE.fullmatch(s):
        raise ConfigError(f"{key} = {text}, must be an integer")
    value = int(s)
    if not -INT32_MAX - 1 <= value <= INT32_MAX:
        raise ConfigError(f"{key} = {text}, must be a 32-bit integer")
    return value


# -- the key table -----------------------------------------------------------------------
# Each check takes a coerced value and returns None, or the requirement it breaks
# ("must be ..."). The caller adds the key and the value in front.

_Check = Callable[[Any], "str | None"]


def _range_check(lo, hi, *, lo_open=False, hi_open=False, whole=False, duration=False) -> _Check:
    fmt = _fmt_bound if duration else _fmt_num

    def check(v):
        ok = lo is None or (v > lo if lo_open else v >= lo)
        ok = ok and (hi is None or (v < hi if hi_open else v <= hi))  # NaN fails both
        ok = ok and (not whole or float(v).is_integer())
        if ok:
            return None
        if hi is None:
            text = f"must be {'>' if lo_open else '>='} {fmt(lo)}"
        else:
            text = f"must be in {'(' if lo_open else '['}{fmt(lo)}, {fmt(hi)}{')' if hi_open else ']'}"
        return text + (" in whole seconds" if whole else "")

    return check


def _tbc_check(v):
    if v >= 0 or v == TBC_UNLIMITED:
        return None
    return "must be >= 0 or exactly -1"


def _cc_percentage_check(v):
    lo, hi = CC_TARGET_PERCENTAGE_RANGE
    if lo < v <= hi:
        return None
    return (f"must be in ({_fmt_num(lo)}, {_fmt_num(hi)}] "
            f"(a value <= 1 is a fraction, a larger one a percentage)")


def _activation_scale_check(v):
    if v == 0 or v >= ACTIVATION_SCALE_MIN:
        return None
    return f"must be 0 (unset) or >= {ACTIVATION_SCALE_MIN}"


def _class_check(v):
    if v == KPA_CLASS:
        return None
    if v == HPA_CLASS:
        return f"the HPA class is out of scope of the KPA model; must be {KPA_CLASS}"
    return f"must be {KPA_CLASS} (only the KPA is modelled)"


def _ok(v):
    return None


@dataclass(frozen=True)
class _Key:
    """One setting: its field, Knative key, kind and rules."""

    field: str
    key: str  # the Knative name used by to_dict, the table and the messages
    kind: str  # float, int, bool, duration, metric, aggregation, class
    check: _Check = _ok  # the config-map (and constructor) rule
    configmap: bool = False
    annotation: str | None = None  # suffix after ANNOTATION_PREFIX
    aliases: tuple[str, ...] = ()  # camelCase suffixes Knative also accepts
    annotation_check: _Check | None = None  # when it differs from `check`
    optional: bool = False  # None allowed (= unset)


_KEYS: tuple[_Key, ...] = (
    _Key("container_concurrency_target_percentage", "container-concurrency-target-percentage",
         "float", _cc_percentage_check, configmap=True),
    _Key("container_concurrency_target_default", "container-concurrency-target-default",
         "float", _range_check(TARGET_MIN, None), configmap=True),
    _Key("requests_per_second_target_default", "requests-per-second-target-default",
         "float", _range_check(TARGET_MIN, None), configmap=True),
    _Key("target_burst_capacity", "target-burst-capacity", "float", _tbc_check,
         configmap=True, annotation="target-burst-capacity", aliases=("targetBurstCapacity",)),
    _Key("stable_window", "stable-window", "duration",
         _range_check(*STABLE_WINDOW_RANGE, whole=True, duration=True),
         configmap=True, annotation="window"),
    _Key("panic_window_percentage", "panic-window-percentage", "float",
         _range_check(*PANIC_WINDOW_PERCENTAGE_RANGE), configmap=True,
         annotation="panic-window-percentage", aliases=("panicWindowPercentage",)),
    _Key("panic_threshold_percentage", "panic-threshold-percentage", "float",
         _range_check(0.0, None, lo_open=True), configmap=True,
         annotation="panic-threshold-percentage", aliases=("panicThresholdPercentage",),
         annotation_check=_range_check(*PANIC_THRESHOLD_PERCENTAGE_ANNOTATION_RANGE)),
    _Key("max_scale_up_rate", "max-scale-up-rate", "float",
         _range_check(MAX_SCALE_RATE_MIN, None, lo_open=True), configmap=True),
    _Key("max_scale_down_rate", "max-scale-down-rate", "float",
         _range_check(MAX_SCALE_RATE_MIN, None, lo_open=True), configmap=True),
    _Key("enable_scale_to_zero", "enable-scale-to-zero", "bool", configmap=True),
    _Key("scale_to_zero_grace_period", "scale-to-zero-grace-period", "duration",
         _range_check(0.0, None, lo_open=True, duration=True), configmap=True),
    _Key("scale_to_zero_pod_retention_period", "scale-to-zero-pod-retention-period", "duration",
         _range_check(0.0, None, duration=True), configmap=True,
         annotation="scale-to-zero-pod-retention-period", aliases=("scaleToZeroPodRetentionPeriod",),
         annotation_check=_range_check(*ANNOTATION_DURATION_RANGE, duration=True)),
    _Key("scale_down_delay", "scale-down-delay", "duration",
         _range_check(0.0, None, whole=True, duration=True), configmap=True,
         annotation="scale-down-delay", aliases=("scaleDownDelay",),
         annotation_check=_range_check(*ANNOTATION_DURATION_RANGE, whole=True, duration=True)),
    _Key("activator_capacity", "activator-capacity", "float",
         _range_check(ACTIVATOR_CAPACITY_MIN, None), configmap=True),
    # ">= 1 unless allow-zero-initial-scale" is a cross check; alone it must be >= 0.
    _Key("initial_scale", "initial-scale", "int", _range_check(0, None), configmap=True,
         annotation="initial-scale", aliases=("initialScale",)),
    _Key("allow_zero_initial_scale", "allow-zero-initial-scale", "bool", configmap=True),
    _Key("min_scale", "min-scale", "int", _range_check(0, None), configmap=True,
         annotation="min-scale", aliases=("minScale",)),
    _Key("max_scale", "max-scale", "int", _range_check(0, None), configmap=True,
         annotation="max-scale", aliases=("maxScale",)),
    _Key("max_scale_limit", "max-scale-limit", "int", _range_check(0, None), configmap=True),
    _Key("pod_autoscaler_class", "pod-autoscaler-class", "class", _class_check,
         configmap=True, annotation="class"),
    _Key("metric", "metric", "metric", annotation="metric"),
    _Key("target", "target", "float", _range_check(TARGET_MIN, None), annotation="target",
         optional=True),
    _Key("target_utilization_percentage", "target-utilization-percentage", "float",
         _range_check(*TARGET_UTILIZATION_PERCENTAGE_RANGE),
         annotation="target-utilization-percentage", aliases=("targetUtilizationPercentage",),
         optional=True),
    _Key("activation_scale", "activation-scale", "int", _activation_scale_check,
         annotation="activation-scale", aliases=("activationScale",),
         annotation_check=_range_check(ACTIVATION_SCALE_MIN, None)),
    _Key("metric_aggregation_algorithm", "metric-aggregation-algorithm", "aggregation",
         annotation="metric-aggregation-algorithm", aliases=("metricAggregationAlgorithm",)),
    _Key("container_concurrency", "container-concurrency", "int",
         _range_check(*CONTAINER_CONCURRENCY_RANGE)),
    _Key("timeout_seconds", "timeout-seconds", "float",
         _range_check(*TIMEOUT_SECONDS_RANGE, lo_open=True)),
    _Key("progress_deadline", "progress-deadline", "duration",
         _range_check(0.0, None, lo_open=True, duration=True)),
    _Key("reachable", "reachable", "bool"),
)

_BY_FIELD = {k.field: k for k in _KEYS}
_BY_KEY = {k.key: k for k in _KEYS}
_CONFIGMAP_KEYS = {k.key: k for k in _KEYS if k.configmap}
_ANNOTATIONS: dict[str, _Key] = {}
for _k in _KEYS:
    for _suffix in ((_k.annotation,) + _k.aliases if _k.annotation else ()):
        _ANNOTATIONS[ANNOTATION_PREFIX + _suffix] = _k
_ANNOTATIONS[PROGRESS_DEADLINE_ANNOTATION] = _BY_FIELD["progress_deadline"]

#: Knative key (as used by :meth:`KPAConfig.to_dict`) -> field name.
KEY_TO_FIELD: Mapping[str, str] = types.MappingProxyType({k.key: k.field for k in _KEYS})
#: Annotation name, camelCase aliases included -> field name.
ANNOTATION_TO_FIELD: Mapping[str, str] = types.MappingProxyType(
    {name: k.field for name, k in _ANNOTATIONS.items()})

# Override keys: Knative keys, bare annotation suffixes, full annotation names, field names.
_OVERRIDE_KEYS: dict[str, tuple[_Key, bool]] = {}  # name -> (key, uses annotation rules)
for _k in _KEYS:
    _OVERRIDE_KEYS[_k.key] = (_k, False)
    _OVERRIDE_KEYS[_k.field] = (_k, False)
    if _k.annotation:
        _OVERRIDE_KEYS.setdefault(_k.annotation, (_k, False))
for _name, _k in _ANNOTATIONS.items():
    _OVERRIDE_KEYS[_name] = (_k, True)
del _k, _suffix, _name


# -- coercion of Python values -----------------------------------------------------------


def _is_real(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _coerce(k: _Key, v: Any) -> Any:
    """Turn a Python value into the field's type; TypeError for the wrong type."""
    if v is None and k.optional:
        return None
    kind = k.kind
    if kind == "float" or kind == "duration":
        if kind == "duration" and isinstance(v, datetime.timedelta):
            return v.total_seconds()
        if _is_real(v):
            return float(v)
        unit = " (seconds)" if kind == "duration" else ""
        raise TypeError(f"{k.field} must be a number{unit}, got {type(v).__name__} {v!r}")
    if kind == "int":
        if isinstance(v, numbers.Integral) and not isinstance(v, bool):
            return int(v)
        raise TypeError(f"{k.field} must be an int, got {type(v).__name__} {v!r}")
    if kind == "bool":
        if isinstance(v, bool):
            return v
        raise TypeError(f"{k.field} must be a bool, got {type(v).__name__} {v!r}")
    if kind == "class":
        if isinstance(v, str):
            return v
        raise TypeError(f"{k.field} must be a str, got {type(v).__name__} {v!r}")
    enum_type = Metric if kind == "metric" else Aggregation
    if isinstance(v, enum_type):
        return v
    if isinstance(v, str):
        return _parse_enum(k, v, k.key)
    raise TypeError(f"{k.field} must be a {enum_type.__name__} or str, got {type(v).__name__} {v!r}")


def _parse_enum(k: _Key, text: str, name: str):
    s = text.strip()
    if k.kind == "metric":
        try:
            return Metric(s)
        except ValueError:
            hint = (", the HPA metrics cpu and memory are out of scope of the KPA model"
                    if s in ("cpu", "memory") else "")
            raise ConfigError(f"{name} = {text}{hint}; must be concurrency or rps") from None
    if s in _AGGREGATION_ALIASES:
        return _AGGREGATION_ALIASES[s]
    try:
        return Aggregation(s)
    except ValueError:
        raise ConfigError(f"{name} = {text}, must be linear, weighted-exponential "
                          f"or weightedExponential") from None


def _parse_text(k: _Key, text: str, name: str) -> Any:
    """Parse Knative's string syntax for key ``k``; ``name`` is how the user spelled it."""
    if k.kind == "duration":
        return parse_duration(text, name)
    if k.kind == "float":
        return _parse_float(text, name)
    if k.kind == "int":
        return _parse_int(text, name)
    if k.kind == "bool":
        return parse_bool(text, name)
    if k.kind == "class":
        return text.strip()
    return _parse_enum(k, text, name)


def _fmt_value(k: _Key, v: Any) -> str:
    """A value the Knative way: durations "60s", bools "true", enums by value, unset "-"."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, enum.Enum):
        return v.value
    if k.kind == "duration":
        return _fmt_duration(v)
    if isinstance(v, (int, float)):
        return _fmt_num(v)
    return str(v)


def _requirement(k: _Key, v: Any, annotation: bool) -> str | None:
    check = k.annotation_check if annotation and k.annotation_check else k.check
    return check(v)


# -- the configuration -------------------------------------------------------------------


@dataclass(frozen=True)
class KPAConfig:
    """The resolved KPA configuration of one revision (Knative Serving 1.23 defaults).

    Every field is validated on construction. Durations are seconds (float); ints are
    accepted for floats and strings for the enums; any other wrong type raises
    ``TypeError``, and a value out of range raises :class:`~autoscale.errors.ConfigError`
    naming the Knative key, the value and the allowed range.

    Ranges are those of the ``config-autoscaler`` config map (``pkg/autoscaler/config/config.go``), or of the
    revision spec for ``container_concurrency``, ``timeout_seconds`` and
    ``progress_deadline``. The annotation-only settings (``target``,
    ``target_utilization_percentage``, ``activation_scale``) use their annotation ranges.
    Two choices go beyond Knative:

    - ``panic_threshold_percentage`` must be > 0. Knative does not validate it in the
      config map, and only the annotation has the range [110, 1000]; :func:`resolve`
      applies that range to annotations. A threshold <= 0 would mean "always panic".
    - ``timeout_seconds`` may be up to 3600 s. Knative's cap is the cluster's
      ``max-revision-timeout-seconds``, 600 s by default.

    Parameters
    ----------
    container_concurrency_target_percentage : float
        Target utilisation of the concurrency metric. A value > 1 is a percentage and is
        divided by 100; a value <= 1 is used as the fraction. 70 and 0.7 mean the same.
    container_concurrency_target_default : float
        Per-pod concurrency "total" when ``container_concurrency`` is 0 (unlimited).
    requests_per_second_target_default : float
        Per-pod rps "total" for the rps metric.
    target_burst_capacity : float
        Headroom in concurrent requests before the activator leaves the path; -1 means
        the activator always stays in the path.
    stable_window : float
        Stable averaging window, seconds, whole, in [6, 3600].
    panic_window_percentage, panic_threshold_percentage : float
        Panic window as % of the stable window; panic threshold in % of ready pods.
    max_scale_up_rate, max_scale_down_rate : float
        Per-tick growth and shrink caps, as ratios over ready pods (> 1).
    enable_scale_to_zero : bool
    scale_to_zero_grace_period, scale_to_zero_pod_retention_period, scale_down_delay : float
        Seconds. The scale-down delay is whole seconds.
    activator_capacity : float
        Concurrent requests one activator handles (>= 1).
    initial_scale : int
        Initial replicas, already resolved by Knative's ``GetInitialScale`` rule (see
        :func:`resolve`); 0 only with ``allow_zero_initial_scale``.
    allow_zero_initial_scale : bool
    min_scale, max_scale, max_scale_limit : int
        0 means unbounded / no limit. ``min_scale <= max_scale`` when ``max_scale > 0``;
        when ``max_scale_limit > 0``, ``max_scale`` must be in [1, max_scale_limit].
    pod_autoscaler_class : str
        Only ``kpa.autoscaling.knative.dev``; the HPA class is out of scope.
    metric : Metric or str
    target : float or None
        The ``target`` annotation: replaces the per-pod total (>= 0.01).
    target_utilization_percentage : float or None
        The annotation, in [1, 100]; replaces the utilisation of either metric.
    activation_scale : int
        Minimum scale when scaling from zero; 0 = unset, else >= 2 and within
        [min_scale, max_scale] (max when > 0).
    metric_aggregation_algorithm : Aggregation or str
    container_concurrency : int
        The revision's hard concurrency limit, in [0, 1000]; 0 = unlimited.
    timeout_seconds : float
        Revision request timeout, in (0, 3600].
    progress_deadline : float
        Seconds to wait for pods when activating (> 0).
    reachable : bool
        False for a revision no route sends traffic to.

    Examples
    --------
    >>> c = KPAConfig(stable_window=60, panic_window_percentage=51)
    >>> c.panic_window          # 60 s x 51 % = 30.6 s -> 31 s
    31.0
    >>> KPAConfig(metric="rps").target_value   # 200 rps x 0.7
    140.0
    >>> KPAConfig(stable_window=3)
    Traceback (most recent call last):
    ...
    autoscale.errors.ConfigError: stable-window = 3s, must be in [6s, 1h] in whole seconds
    """

    container_concurrency_target_percentage: float = 70.0
    container_concurrency_target_default: float = 100.0
    requests_per_second_target_default: float = 200.0
    target_burst_capacity: float = 211.0
    stable_window: float = 60.0
    panic_window_percentage: float = 10.0
    panic_threshold_percentage: float = 200.0
    max_scale_up_rate: float = 1000.0
    max_scale_down_rate: float = 2.0
    enable_scale_to_zero: bool = True
    scale_to_zero_grace_period: float = 30.0
    scale_to_zero_pod_retention_period: float = 0.0
    scale_down_delay: float = 0.0
    activator_capacity: float = 100.0
    initial_scale: int = 1
    allow_zero_initial_scale: bool = False
    min_scale: int = 0
    max_scale: int = 0
    max_scale_limit: int = 0
    pod_autoscaler_class: str = KPA_CLASS
    metric: Metric = Metric.CONCURRENCY
    target: float | None = None
    target_utilization_percentage: float | None = None
    activation_scale: int = 0
    metric_aggregation_algorithm: Aggregation = Aggregation.LINEAR
    container_concurrency: int = 0
    timeout_seconds: float = 300.0
    progress_deadline: float = 600.0
    reachable: bool = True

    def __post_init__(self) -> None:
        for k in _KEYS:
            value = _coerce(k, getattr(self, k.field))
            object.__setattr__(self, k.field, value)
        for k in _KEYS:
            value = getattr(self, k.field)
            if value is not None and (req := k.check(value)) is not None:
                raise ConfigError(f"{k.key} = {_fmt_value(k, value)}, {req}")
            if k.kind == "int" and not -INT32_MAX - 1 <= value <= INT32_MAX:
                raise ConfigError(f"{k.key} = {value}, must be a 32-bit integer")
        self._cross_check()

    def _cross_check(self) -> None:
        if self.initial_scale == 0 and not self.allow_zero_initial_scale:
            raise ConfigError("initial-scale = 0, must be >= 1 unless allow-zero-initial-scale is true")
        # 0.7 x 100 = 70 concurrent requests per pod; Knative wants at least 0.01.
        effective = self.container_concurrency_target_fraction * self.container_concurrency_target_default
        if effective < TARGET_MIN:
            raise ConfigError(
                f"container-concurrency-target-percentage x container-concurrency-target-default = "
                f"{_fmt_num(self.container_concurrency_target_fraction)} x "
                f"{_fmt_num(self.container_concurrency_target_default)} = {effective:g}, "
                f"must be >= {TARGET_MIN}")
        if self.max_scale > 0 and self.min_scale > self.max_scale:
            raise ConfigError(f"min-scale = {self.min_scale}, must be <= max-scale = {self.max_scale} "
                              f"(max-scale 0 means unbounded)")
        limit = self.max_scale_limit
        if limit > 0 and not 1 <= self.max_scale <= limit:
            shown = "0 (unbounded)" if self.max_scale == 0 else str(self.max_scale)
            raise ConfigError(f"max-scale = {shown}, must be in [1, {limit}] "
                              f"because max-scale-limit = {limit}")
        a = self.activation_scale
        if a > 0:
            if a < self.min_scale:
                raise ConfigError(f"activation-scale = {a}, must be >= min-scale = {self.min_scale}")
            if self.max_scale > 0 and a > self.max_scale:
                raise ConfigError(f"activation-scale = {a}, must be <= max-scale = {self.max_scale}")

    # -- derived values (resources ResolveMetricTarget, MakeMetric, MakeDecider) ---------------

    @property
    def container_concurrency_target_fraction(self) -> float:
        """The concurrency utilisation as a fraction: 70 -> 0.7, and 0.7 stays 0.7."""
        p = self.container_concurrency_target_percentage
        return p / 100.0 if p > 1.0 else p

    @property
    def target_utilization(self) -> float:
        """Utilisation fraction of the chosen metric; the annotation, when set, wins."""
        if self.target_utilization_percentage is not None:
            return self.target_utilization_percentage / 100.0
        if self.metric is Metric.RPS:
            return RPS_TARGET_UTILIZATION
        return self.container_concurrency_target_fraction

    @property
    def total(self) -> float:
        """Per-pod "total" (``TotalValue``): concurrency or requests/s a pod is sized for.

        CC = 0 -> 100, CC = 10 -> 10, rps -> 200. The ``target`` annotation replaces it,
        but never above a hard concurrency limit: target 50 with CC 10 -> 10.
        """
        cc = self.container_concurrency
        if self.metric is Metric.RPS:
            total = self.requests_per_second_target_default
        else:
            total = float(cc) if cc > 0 else self.container_concurrency_target_default
        if self.target is not None:
            total = self.target
            if self.metric is Metric.CONCURRENCY and cc > 0:
                total = min(total, float(cc))
        return total

    @property
    def target_value(self) -> float:
        """Per-pod target (``TargetValue``) = max(0.01, total x utilisation): 100 x 0.7 = 70."""
        return max(TARGET_MIN, self.total * self.target_utilization)

    @property
    def panic_window(self) -> float:
        """Panic window in whole seconds, at least 1 s.

        Computed as Knative does, in nanoseconds: the product is truncated to a whole
        nanosecond, then rounded to the second with halves away from zero.
        60 s at 10 % -> 6 s; 60 s at 51 % -> 30.6 s -> 31 s; 25 s at 10 % = 2.5 s -> 3 s;
        10 s at 10 % -> 1 s.
        """
        window_ns = round(self.stable_window * 1e9)  # a whole number of seconds, exact
        ns = int(window_ns * self.panic_window_percentage / 100.0)  # > 0: both factors are
        # Half away from zero on a positive integer; Python's round() would go to even.
        seconds = (ns + 500_000_000) // 1_000_000_000
        return max(1.0, float(seconds))

    @property
    def panic_threshold(self) -> float:
        """Panic threshold as a ratio of wanted to ready pods: 200 % -> 2.0."""
        return self.panic_threshold_percentage / 100.0

    @property
    def effective_initial_scale(self) -> int:
        """Initial scale as ``GetInitialScale`` gives it.

        This is just :attr:`initial_scale`: :func:`resolve` has already applied the rule
        (the annotation, unless it is 0 and zero is not allowed, else the config map).
        """
        return self.initial_scale

    # -- copies and views ----------------------------------------------------------------

    def replace(self, **changes: Any) -> "KPAConfig":
        """A validated copy with some fields changed.

        Examples
        --------
        >>> KPAConfig().replace(container_concurrency=10).target_value
        7.0
        """
        unknown = sorted(set(changes) - set(_BY_FIELD))
        if unknown:
            raise ConfigError(f"unknown KPAConfig field(s) {', '.join(unknown)}; "
                              f"valid names: {', '.join(_BY_FIELD)}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Knative key -> value: durations in seconds, enums as their strings, unset as None.

        ``resolve(overrides=c.to_dict()).config == c``.

        Examples
        --------
        >>> KPAConfig().to_dict()["stable-window"]
        60.0
        """
        out = {}
        for k in _KEYS:
            v = getattr(self, k.field)
            out[k.key] = v.value if isinstance(v, enum.Enum) else v
        return out

    @classmethod
    def resolve(cls, configmap=None, service=None, overrides=None) -> "KPAConfig":
        """The configuration alone, from :func:`resolve` (which also gives the sources).

        Examples
        --------
        >>> KPAConfig.resolve(overrides={"window": "30s"}).stable_window
        30.0
        """
        return resolve(configmap=configmap, service=service, overrides=overrides).config


# -- resolution --------------------------------------------------------------------------

#: Derived rows of :meth:`ResolvedConfig.table`: key -> (property, is a duration).
_DERIVED = (
    ("target-value", "target_value", False),
    ("total", "total", False),
    ("target-utilization", "target_utilization", False),
    ("panic-window", "panic_window", True),
)


@dataclass(frozen=True)
class ResolvedConfig:
    """A configuration together with where each of its values came from.

    Attributes
    ----------
    config : KPAConfig
    sources : Mapping[str, str]
        Knative key (as in :meth:`KPAConfig.to_dict`) -> ``"default"``, ``"configmap"``,
        ``"annotation"``, ``"spec"`` (the revision spec) or ``"override"``.
    notes : tuple of str
        Things Knative ignores that the inputs contained (``tick-interval``, an
        ``initial-scale`` annotation of 0 when zero is not allowed).
    """

    config: KPAConfig
    sources: Mapping[str, str]
    notes: tuple[str, ...] = ()

    def table(self):
        """A ``pandas.DataFrame`` with columns key, value, source.

        One row per key, values formatted the Knative way ("60s", "true"), then the
        derived rows ``target-value``, ``total``, ``target-utilization`` and
        ``panic-window`` with source ``"derived"``.

        Examples
        --------
        >>> t = resolve().table()
        >>> t.set_index("key").loc["panic-window", "value"]
        '6s'
        """
        import pandas as pd

        rows = [(k.key, _fmt_value(k, getattr(self.config, k.field)), self.sources[k.key])
                for k in _KEYS]
        for key, prop, is_duration in _DERIVED:
            v = getattr(self.config, prop)
            rows.append((key, _fmt_duration(v) if is_duration else _fmt_num(v), "derived"))
        return pd.DataFrame(rows, columns=["key", "value", "source"])


def _close(name: str, candidates) -> str:
    matches = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    return f"; did you mean {', '.join(matches)}?" if matches else ""


def _close_override(name: str) -> str:
    """Close matches among override keys, one spelling per setting (kebab before snake)."""
    matches, fields = [], set()
    for m in difflib.get_close_matches(name, list(_OVERRIDE_KEYS), n=9, cutoff=0.6):
        field = _OVERRIDE_KEYS[m][0].field
        if field not in fields:
            fields.add(field)
            matches.append(m)
    return f"; did you mean {', '.join(matches[:3])}?" if matches else ""


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (PyYAML keeps the last silently)."""

    def construct_mapping(self, node, deep=False):
        first: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                line = first.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:  # an unhashable key: the base class reports it
                continue
            if line != key_node.start_mark.line + 1:
                raise _DuplicateKey(key, line, key_node.start_mark.line + 1)
        return super().construct_mapping(node, deep=deep)


class _DuplicateKey(Exception):
    def __init__(self, key, first: int, again: int) -> None:
        super().__init__(key, first, again)
        self.key, self.first, self.again = key, first, again


def _load_yaml(path) -> list[Any]:
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    try:
        return [d for d in yaml.load_all(text, Loader=_UniqueKeyLoader) if d is not None]
    except _DuplicateKey as dup:
        raise ConfigError(f"{path}:{dup.again}: {dup.key} is given twice (first on line {dup.first}); "
                          "keep one") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None


def _mapping(obj, where: str, label: str) -> Mapping:
    if obj is None:
        return {}
    if not isinstance(obj, Mapping):
        raise ConfigError(f"{label}: {where} must be a mapping, got {type(obj).__name__}")
    return obj


def _configmap_data(configmap) -> tuple[Mapping, str]:
    """The ``data`` of a config-autoscaler ConfigMap file or dict, and a label for messages."""
    if isinstance(configmap, Mapping):
        if configmap.get("kind") == "ConfigMap":
            return _mapping(configmap.get("data"), "data", "configmap"), "configmap"
        return configmap, "configmap"
    if not isinstance(configmap, (str, os.PathLike)):
        raise TypeError(f"configmap must be a path or a mapping, got {type(configmap).__name__}")
    label = os.fspath(configmap)
    docs = [d for d in _load_yaml(configmap) if isinstance(d, Mapping) and d.get("kind") == "ConfigMap"]
    if len(docs) > 1:
        docs = [d for d in docs if _mapping(d.get("metadata"), "metadata", label).get("name")
                == "config-autoscaler"]
    if len(docs) != 1:
        raise ConfigError(f"{label}: expected one ConfigMap (kind: ConfigMap, "
                          f"metadata.name: config-autoscaler), found {len(docs)}")
    return _mapping(docs[0].get("data"), "data", label), label


@dataclass(frozen=True)
class RevisionTemplate:
    """One revision's autoscaling inputs as a manifest holds them, and where they were read.

    What :func:`resolve` reads of a revision: its annotations (a Service's
    ``spec.template.metadata.annotations``, a Revision's ``metadata.annotations``) and
    its spec (``spec.template.spec``, a Revision's ``spec``). ``label`` names the file
    and document in messages, ``spec_path`` the spec's place in the document.
    :func:`autoscale.manifests.load_manifests` makes these from Knative's manifests.
    """

    name: str
    annotations: Mapping[str, Any]
    spec: Mapping[str, Any]
    label: str = "revision"
    spec_path: str = "spec.template.spec"


def _service_parts(service) -> tuple[Mapping, Mapping, str, str]:
    """Template annotations and template spec of a Knative Service, a label, and the spec's path.

    A file may hold several documents of one Service (its earlier versions, as
    ``kubectl apply`` would see them one after another): the last one is the Service
    as it is now.
    """
    if isinstance(service, RevisionTemplate):
        return service.annotations, service.spec, service.label, service.spec_path
    if isinstance(service, Mapping):
        label, docs = "service", [service]
    elif isinstance(service, (str, os.PathLike)):
        label, docs = os.fspath(service), _load_yaml(service)
    else:
        raise TypeError(f"service must be a path, a mapping or a RevisionTemplate, got {type(service).__name__}")
    found = [d for d in docs if isinstance(d, Mapping) and d.get("kind") == "Service"
             and str(d.get("apiVersion", "")).startswith("serving.knative.dev/")]
    names = {str(_mapping(d.get("metadata"), "metadata", label).get("name")) for d in found}
    if not found or len(names) > 1:
        kinds = ", ".join(f"{d.get('apiVersion')}/{d.get('kind')}" for d in docs if isinstance(d, Mapping))
        raise ConfigError(f"{label}: expected one Knative Service (apiVersion: serving.knative.dev/v1, "
                          f"kind: Service), found {len(found) if len(names) <= 1 else len(names)}"
                          + (f" among {kinds}" if kinds else ""))
    svc = found[-1]
    top = _mapping(_mapping(svc.get("metadata"), "metadata", label).get("annotations"),
                   "metadata.annotations", label)
    for name in top:
        if str(name).startswith(ANNOTATION_PREFIX):
            raise ConfigError(f"{label}: metadata.annotations.{name}: autoscaling annotations must be "
                              f"put under spec.template.metadata.annotations to work")
    template = _mapping(_mapping(svc.get("spec"), "spec", label).get("template"), "spec.template", label)
    meta = _mapping(template.get("metadata"), "spec.template.metadata", label)
    annotations = _mapping(meta.get("annotations"), "spec.template.metadata.annotations", label)
    spec = _mapping(template.get("spec"), "spec.template.spec", label)
    return annotations, spec, label, "spec.template.spec"


def _string_value(raw, label: str, name: str) -> str:
    if not isinstance(raw, str):
        raise ConfigError(f"{label}: {name} = {raw!r}, Kubernetes needs a string here; quote it: "
                          f"'{raw}'")
    return raw


class _Resolver:
    """Collects values layer by layer and remembers each value's source and origin."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.sources = {k.key: "default" for k in _KEYS}
        self.origins: dict[str, str] = {}
        self.notes: list[str] = []
        self.configmap_values: dict[str, tuple[Any, str]] = {}  # field -> (value, origin)

    def set(self, k: _Key, value: Any, source: str, origin: str) -> None:
        self.values[k.field] = value
        self.sources[k.key] = source
        self.origins[k.key] = origin

    def checked(self, k: _Key, value: Any, name: str, shown: str, label: str, annotation: bool) -> Any:
        req = _requirement(k, value, annotation) if value is not None else None
        if req is not None:
            raise ConfigError(f"{label}{name} = {shown}, {req}")
        return value

    def configmap(self, configmap) -> None:
        data, label = _configmap_data(configmap)
        for name, raw in data.items():
            name = str(name)
            if name == "_example":
                continue
            if name in IGNORED_CONFIGMAP_KEYS:
                self.notes.append(f"{label}: {name} is ignored, as Knative ignores it "
                                  f"({IGNORED_CONFIGMAP_KEYS[name]})")
                continue
            k = _CONFIGMAP_KEYS.get(name)
            if k is None:
                raise ConfigError(f"{label}: unknown config-autoscaler key {name}"
                                  f"{_close(name, _CONFIGMAP_KEYS)}")
            text = _string_value(raw, label, name)
            value = self.checked(k, self._parse(k, text, label, name), name, text, f"{label}: ", False)
            self.configmap_values[k.field] = (value, f"configmap {label}")
            self.set(k, value, "configmap", f"configmap {label}")

    def service(self, service) -> None:
        annotations, spec, label, spec_path = _service_parts(service)
        seen: dict[str, str] = {}
        for name, raw in annotations.items():
            name = str(name)
            if not (name.startswith(ANNOTATION_PREFIX) or name == PROGRESS_DEADLINE_ANNOTATION):
                continue  # another component's annotation
            k = _ANNOTATIONS.get(name)
            if k is None:
                known = [n for n in _ANNOTATIONS if n.startswith(ANNOTATION_PREFIX)]
                raise ConfigError(f"{label}: unknown autoscaling annotation {name}{_close(name, known)}")
            if k.field in seen:
                raise ConfigError(f"{label}: annotations {seen[k.field]} and {name} both set "
                                  f"{k.key}; keep one")
            seen[k.field] = name
            text = _string_value(raw, label, name)
            value = self.checked(k, self._parse(k, text, label, name), name, text, f"{label}: ", True)
            self.set(k, value, "annotation", f"annotation {name} in {label}")
        for spec_name, field in (("containerConcurrency", "container_concurrency"),
                                 ("timeoutSeconds", "timeout_seconds")):
            if spec_name not in spec:
                continue
            k, raw, where = _BY_FIELD[field], spec[spec_name], f"{spec_path}.{spec_name}"
            if not isinstance(raw, int) or isinstance(raw, bool):
                raise ConfigError(f"{label}: {where} = {raw!r}, must be an integer")
            value = self.checked(k, _coerce(k, raw), where, str(raw), f"{label}: ", False)
            self.set(k, value, "spec", f"{where} in {label}")

    def overrides(self, overrides: Mapping[str, Any]) -> None:
        if not isinstance(overrides, Mapping):
            raise TypeError(f"overrides must be a mapping, got {type(overrides).__name__}")
        seen: dict[str, str] = {}
        for name, raw in overrides.items():
            entry = _OVERRIDE_KEYS.get(name)
            if entry is None:
                raise ConfigError(f"unknown override key {name}{_close_override(str(name))}")
            k, annotation = entry
            if k.field in seen:
                raise ConfigError(f"overrides {seen[k.field]} and {name} both set {k.key}; keep one")
            seen[k.field] = name
            if isinstance(raw, str):
                parse = parse_seconds if k.kind == "duration" else lambda text, key: _parse_text(k, text, key)
                value, shown = parse(raw, str(name)), raw
            else:
                value = _coerce(k, raw)
                shown = _fmt_value(k, value)
            value = self.checked(k, value, name, shown, "", annotation)
            self.set(k, value, "override", f"override {name}")

    @staticmethod
    def _parse(k: _Key, text: str, label: str, name: str) -> Any:
        try:
            return _parse_text(k, text, name)
        except ConfigError as exc:
            raise ConfigError(f"{label}: {exc}") from None

    def initial_scale_rule(self) -> None:
        """``GetInitialScale``: an annotation of 0 counts only if zero is allowed."""
        k = _BY_FIELD["initial_scale"]
        allow = self.values.get("allow_zero_initial_scale", False)
        if self.sources[k.key] == "annotation" and self.values[k.field] == 0 and not allow:
            origin = self.origins.pop(k.key)
            if k.field in self.configmap_values:
                value, cm_origin = self.configmap_values[k.field]
                self.set(k, value, "configmap", cm_origin)
            else:
                del self.values[k.field]
                self.sources[k.key] = "default"
            self.notes.append(f"{origin} = 0 is ignored because allow-zero-initial-scale is false; "
                              f"initial-scale comes from the {self.sources[k.key]}")

    def build(self) -> ResolvedConfig:
        try:
            config = KPAConfig(**self.values)
        except ConfigError as exc:
            msg = str(exc)
            involved = [f"{key} from {origin}" for key, origin in self.origins.items()
                        if re.search(rf"(?<![\w-]){re.escape(key)}(?![\w-])", msg)]
            raise ConfigError(msg + (f" ({'; '.join(involved)})" if involved else "")) from None
        return ResolvedConfig(config, types.MappingProxyType(dict(self.sources)), tuple(self.notes))


def resolve(configmap=None, service=None, overrides=None) -> ResolvedConfig:
    """Resolve one revision's configuration from Knative's sources, recording each value's source.

    Precedence: default < config map < revision annotations and spec < overrides.

    Parameters
    ----------
    configmap : path or mapping, optional
        A YAML file holding the ``config-autoscaler`` ConfigMap (with several ConfigMaps
        in the file, the one named ``config-autoscaler``), or a mapping of its ``data``
        (string values, as Kubernetes requires). ``_example`` is skipped and
        ``tick-interval`` is accepted and ignored (with a note), as Knative does. Values
        use the config map's ranges (``pkg/autoscaler/config/config.go``).
    service : path, mapping or RevisionTemplate, optional
        A Knative Service manifest (``apiVersion: serving.knative.dev/v1``, ``kind:
        Service``), as a YAML file or the parsed mapping; a file holding several
        documents of the Service is read from the last. Or one revision of a
        manifest (:class:`RevisionTemplate`). Read from ``spec.template``:
        ``metadata.annotations`` starting with ``autoscaling.knative.dev/`` (camelCase
        aliases such as ``minScale`` accepted), ``serving.knative.dev/progress-deadline``,
        and ``spec.containerConcurrency`` and ``spec.timeoutSeconds``. Other annotations
        belong to other components and are ignored. Annotations use the annotation
        ranges (``pkg/apis/autoscaling/annotation_validation.go``), e.g. panic-threshold-percentage in [110, 1000].
    overrides : mapping, optional
        Key -> value, applied last. Keys are Knative keys (as in
        :meth:`KPAConfig.to_dict`, e.g. ``stable-window``), bare annotation names
        (``window``, ``class``), full annotation names, or field names. String values
        are parsed with Knative's syntax (``"90s"``, ``"true"``), except that a
        duration may also be a plain number of seconds (``"90"``); other values are
        Python values (durations in seconds). A full annotation name is checked against
        the annotation range; any other name against the :class:`KPAConfig` range.

    Returns
    -------
    ResolvedConfig

    Raises
    ------
    ConfigError
        For an unknown key (with close matches), an unparsable or out-of-range value
        (naming the file and key), or a YAML syntax error (naming the file and line).

    Notes
    -----
    Initial scale follows Knative's ``GetInitialScale``: an ``initial-scale``
    annotation is used unless it is 0 and ``allow-zero-initial-scale`` is false, in
    which case the config map's ``initial-scale`` (or the default) is used.

    Examples
    --------
    >>> svc = {"apiVersion": "serving.knative.dev/v1", "kind": "Service",
    ...        "spec": {"template": {
    ...            "metadata": {"annotations": {"autoscaling.knative.dev/minScale": "2"}},
    ...            "spec": {"containerConcurrency": 10}}}}
    >>> r = resolve(configmap={"max-scale": "20"}, service=svc, overrides={"stable-window": "90s"})
    >>> [r.sources[k] for k in ("max-scale", "min-scale", "container-concurrency", "stable-window")]
    ['configmap', 'annotation', 'spec', 'override']
    >>> r.config.target_value   # CC 10 at 70 %
    7.0
    """
    r = _Resolver()
    if configmap is not None:
        r.configmap(configmap)
    if service is not None:
        r.service(service)
    if overrides is not None:
        r.overrides(overrides)
    r.initial_scale_rule()
    return r.build()
