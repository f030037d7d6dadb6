"""The configuration of one revision's KPA, validated on construction, and where each of its values came from.

A :class:`KPAConfig` holds the settings the decider and the reconciler read for one
revision (Knative Serving 1.23: ``pkg/autoscaler/config/config.go``,
``pkg/apis/autoscaling``), with one row per setting in the key table: its Knative key,
annotation and range. :func:`resolve` (:mod:`autoscale.configmap`) builds one from the
places Knative takes them from, in increasing precedence::

    defaults < config-autoscaler ConfigMap < revision annotations / spec < explicit overrides

and records where every value came from in a :class:`ResolvedConfig`. Knative's value
syntax (Go durations, bools and numbers) is read and written by :mod:`autoscale.values`.

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
import enum
import numbers
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError
from .values import (
    INT32_MAX,
    format_bound,
    format_duration,
    format_number,
    parse_bool,
    parse_duration,
    parse_float,
    parse_int,
    parse_seconds,
)

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


# -- the key table -----------------------------------------------------------------------
# Each check takes a coerced value and returns None, or the requirement it breaks
# ("must be ..."). The caller adds the key and the value in front.

_Check = Callable[[Any], "str | None"]


def _range_check(lo, hi, *, lo_open=False, hi_open=False, whole=False, duration=False) -> _Check:
    fmt = format_bound if duration else format_number

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
    return (f"must be in ({format_number(lo)}, {format_number(hi)}] "
            f"(a value <= 1 is a fraction, a larger one a percentage)")


def _activation_scale_check(v):
    if v == 0 or v >= ACTIVATION_SCALE_MIN:
        return None
    return f"must be 0 (unset) or >= {ACTIVATION_SCALE_MIN}"


def _class_check(v):
    # Either class Knative ships. A revision of the HPA class is scaled by the HPA, not the
    # KPA: the engine refuses to replay it under the KPA policy (see ``engine.run``).
    if v in (KPA_CLASS, HPA_CLASS):
        return None
    return f"must be {KPA_CLASS} or {HPA_CLASS} (the classes Knative ships)"


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
        return parse_float(text, name)
    if k.kind == "int":
        return parse_int(text, name)
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
        return format_duration(v)
    if isinstance(v, (int, float)):
        return format_number(v)
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
                f"{format_number(self.container_concurrency_target_fraction)} x "
                f"{format_number(self.container_concurrency_target_default)} = {effective:g}, "
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


# -- a configuration and its sources ----------------------------------------------------

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
            rows.append((key, format_duration(v) if is_duration else format_number(v), "derived"))
        return pd.DataFrame(rows, columns=["key", "value", "source"])


# resolve and RevisionTemplate live with the manifests they read; imported last, because
# autoscale.configmap builds on everything above.
from .configmap import RevisionTemplate, resolve  # noqa: E402
