"""KPAConfig against Knative 1.23's defaults, ranges and derivations, and its resolution from Knative sources."""

from __future__ import annotations

import dataclasses
import datetime
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoscale import config as cfgmod
from autoscale.config import (
    ACTIVATION_SCALE_MIN,
    ACTIVATOR_CAPACITY_MIN,
    ANNOTATION_DURATION_RANGE,
    CC_TARGET_PERCENTAGE_RANGE,
    CONTAINER_CONCURRENCY_RANGE,
    HPA_CLASS,
    INT32_MAX,
    KPA_CLASS,
    MAX_SCALE_RATE_MIN,
    PANIC_THRESHOLD_PERCENTAGE_ANNOTATION_RANGE,
    PANIC_WINDOW_PERCENTAGE_RANGE,
    STABLE_WINDOW_RANGE,
    TARGET_MIN,
    TARGET_UTILIZATION_PERCENTAGE_RANGE,
    TIMEOUT_SECONDS_RANGE,
    Aggregation,
    KPAConfig,
    Metric,
    resolve,
)
from autoscale.errors import AutoscaleError, ConfigError

DATA = Path(__file__).parent / "data"
CONFIGMAP = DATA / "configmap.yaml"
SERVICE = DATA / "service.yaml"

SVC_HEAD = {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "metadata": {"name": "s"}}


def service(annotations=None, **spec):
    """A Knative Service mapping with these template annotations and template spec fields."""
    return {**SVC_HEAD, "spec": {"template": {"metadata": {"annotations": annotations or {}},
                                              "spec": spec}}}


# -- public API ----------------------------------------------------------------------------


def test_exported_names_are_pinned():
    assert set(cfgmod.__all__) == {
        "Metric", "Aggregation", "KPAConfig", "ResolvedConfig", "RevisionTemplate", "resolve", "parse_duration",
        "parse_seconds", "parse_bool", "ANNOTATION_PREFIX", "PROGRESS_DEADLINE_ANNOTATION", "KPA_CLASS", "HPA_CLASS",
        "KEY_TO_FIELD", "ANNOTATION_TO_FIELD", "IGNORED_CONFIGMAP_KEYS", "TARGET_MIN",
        "RPS_TARGET_UTILIZATION", "CC_TARGET_PERCENTAGE_RANGE", "TBC_UNLIMITED",
        "STABLE_WINDOW_RANGE", "PANIC_WINDOW_PERCENTAGE_RANGE",
        "PANIC_THRESHOLD_PERCENTAGE_ANNOTATION_RANGE", "MAX_SCALE_RATE_MIN",
        "ACTIVATOR_CAPACITY_MIN", "ANNOTATION_DURATION_RANGE", "ACTIVATION_SCALE_MIN",
        "TARGET_UTILIZATION_PERCENTAGE_RANGE", "CONTAINER_CONCURRENCY_RANGE",
        "TIMEOUT_SECONDS_RANGE", "INT32_MAX",
    }
    for name in cfgmod.__all__:
        assert hasattr(cfgmod, name)


def test_key_table_covers_every_field_once():
    fields = [f.name for f in dataclasses.fields(KPAConfig)]
    assert sorted(cfgmod.KEY_TO_FIELD.values()) == sorted(fields)
    assert set(KPAConfig().to_dict()) == set(cfgmod.KEY_TO_FIELD)


# -- defaults --------------------------------------------------------------------------------

# Knative Serving 1.23: config/core/configmaps/autoscaler.yaml, pkg/apis/config/defaults.go,
# pkg/deployment/config.go.
KNATIVE_DEFAULTS = {
    "container-concurrency-target-percentage": 70.0,
    "container-concurrency-target-default": 100.0,
    "requests-per-second-target-default": 200.0,
    "target-burst-capacity": 211.0,
    "stable-window": 60.0,
    "panic-window-percentage": 10.0,
    "panic-threshold-percentage": 200.0,
    "max-scale-up-rate": 1000.0,
    "max-scale-down-rate": 2.0,
    "enable-scale-to-zero": True,
    "scale-to-zero-grace-period": 30.0,
    "scale-to-zero-pod-retention-period": 0.0,
    "scale-down-delay": 0.0,
    "activator-capacity": 100.0,
    "initial-scale": 1,
    "allow-zero-initial-scale": False,
    "min-scale": 0,
    "max-scale": 0,
    "max-scale-limit": 0,
    "pod-autoscaler-class": "kpa.autoscaling.knative.dev",
    "metric": "concurrency",
    "target": None,
    "target-utilization-percentage": None,
    "activation-scale": 0,
    "metric-aggregation-algorithm": "linear",
    "container-concurrency": 0,
    "timeout-seconds": 300.0,
    "progress-deadline": 600.0,
    "reachable": True,
}


def test_defaults_are_knatives():
    assert KPAConfig().to_dict() == KNATIVE_DEFAULTS


def test_default_derived_values_are_knatives():
    c = KPAConfig()
    assert (c.total, c.target_utilization, c.target_value) == (100.0, 0.7, 70.0)
    assert (c.panic_window, c.panic_threshold, c.effective_initial_scale) == (6.0, 2.0, 1)
    assert c.metric is Metric.CONCURRENCY and c.metric_aggregation_algorithm is Aggregation.LINEAR


# -- validation, table-driven ----------------------------------------------------------------

# (field, value, extra kwargs): each bound just inside.
INSIDE = [
    ("container_concurrency_target_percentage", 100, {}),
    ("container_concurrency_target_percentage", 1, {}),
    ("container_concurrency_target_percentage", 0.0001, {}),
    ("container_concurrency_target_default", TARGET_MIN, {"container_concurrency_target_percentage": 100}),
    ("requests_per_second_target_default", TARGET_MIN, {}),
    ("target_burst_capacity", 0, {}),
    ("target_burst_capacity", -1, {}),
    ("stable_window", 6, {}),
    ("stable_window", 3600, {}),
    ("panic_window_percentage", 1, {}),
    ("panic_window_percentage", 100, {}),
    ("panic_threshold_percentage", 1e-9, {}),
    ("max_scale_up_rate", 1.000001, {}),
    ("max_scale_down_rate", 1.000001, {}),
    ("scale_to_zero_grace_period", 0.001, {}),
    ("scale_to_zero_pod_retention_period", 0, {}),
    ("scale_to_zero_pod_retention_period", 7200, {}),
    ("scale_down_delay", 0, {}),
    ("scale_down_delay", 7200, {}),
    ("activator_capacity", 1, {}),
    ("initial_scale", 1, {}),
    ("initial_scale", 0, {"allow_zero_initial_scale": True}),
    ("min_scale", 0, {}),
    ("min_scale", 5, {"max_scale": 5}),
    ("max_scale", 0, {}),
    ("max_scale", 10, {"max_scale_limit": 10}),
    ("max_scale_limit", 0, {}),
    ("target", TARGET_MIN, {}),
    ("target_utilization_percentage", 1, {}),
    ("target_utilization_percentage", 100, {}),
    ("activation_scale", 0, {}),
    ("activation_scale", 2, {}),
    ("activation_scale", 3, {"min_scale": 3, "max_scale": 3}),
    ("container_concurrency", 0, {}),
    ("container_concurrency", 1000, {}),
    ("timeout_seconds", 0.001, {}),
    ("timeout_seconds", 3600, {}),
    ("progress_deadline", 0.001, {}),
]


@pytest.mark.parametrize("field,value,extra", INSIDE,
                         ids=[f"{f}={v}" + ("+" + ",".join(e) if e else "") for f, v, e in INSIDE])
def test_bound_just_inside_is_accepted(field, value, extra):
    c = KPAConfig(**{field: value, **extra})
    assert getattr(c, field) == value


# (field, value, extra kwargs, the whole message): each bound just outside.
OUTSIDE = [
    ("container_concurrency_target_percentage", 0, {},
     "container-concurrency-target-percentage = 0, must be in (0, 100] "
     "(a value <= 1 is a fraction, a larger one a percentage)"),
    ("container_concurrency_target_percentage", 100.5, {},
     "container-concurrency-target-percentage = 100.5, must be in (0, 100] "
     "(a value <= 1 is a fraction, a larger one a percentage)"),
    ("container_concurrency_target_default", 0.0099, {},
     "container-concurrency-target-default = 0.0099, must be >= 0.01"),
    ("container_concurrency_target_default", 0.01, {},  # 0.7 x 0.01 = 0.007 per pod
     "container-concurrency-target-percentage x container-concurrency-target-default = "
     "0.7 x 0.01 = 0.007, must be >= 0.01"),
    ("requests_per_second_target_default", 0.0099, {},
     "requests-per-second-target-default = 0.0099, must be >= 0.01"),
    ("target_burst_capacity", -2, {}, "target-burst-capacity = -2, must be >= 0 or exactly -1"),
    ("target_burst_capacity", -0.5, {}, "target-burst-capacity = -0.5, must be >= 0 or exactly -1"),
    ("stable_window", 5, {}, "stable-window = 5s, must be in [6s, 1h] in whole seconds"),
    ("stable_window", 3601, {}, "stable-window = 3601s, must be in [6s, 1h] in whole seconds"),
    ("stable_window", 6.5, {}, "stable-window = 6.5s, must be in [6s, 1h] in whole seconds"),
    ("panic_window_percentage", 0.99, {}, "panic-window-percentage = 0.99, must be in [1, 100]"),
    ("panic_window_percentage", 100.01, {}, "panic-window-percentage = 100.01, must be in [1, 100]"),
    ("panic_threshold_percentage", 0, {}, "panic-threshold-percentage = 0, must be > 0"),
    ("max_scale_up_rate", 1, {}, "max-scale-up-rate = 1, must be > 1"),
    ("max_scale_down_rate", 1, {}, "max-scale-down-rate = 1, must be > 1"),
    ("scale_to_zero_grace_period", 0, {}, "scale-to-zero-grace-period = 0s, must be > 0s"),
    ("scale_to_zero_pod_retention_period", -1, {},
     "scale-to-zero-pod-retention-period = -1s, must be >= 0s"),
    ("scale_down_delay", -1, {}, "scale-down-delay = -1s, must be >= 0s in whole seconds"),
    ("scale_down_delay", 0.5, {}, "scale-down-delay = 0.5s, must be >= 0s in whole seconds"),
    ("activator_capacity", 0.99, {}, "activator-capacity = 0.99, must be >= 1"),
    ("initial_scale", 0, {}, "initial-scale = 0, must be >= 1 unless allow-zero-initial-scale is true"),
    ("initial_scale", -1, {"allow_zero_initial_scale": True},
     "initial-scale = -1, must be >= 0"),
    ("min_scale", -1, {}, "min-scale = -1, must be >= 0"),
    ("min_scale", 6, {"max_scale": 5}, "min-scale = 6, must be <= max-scale = 5 (max-scale 0 means unbounded)"),
    ("max_scale", -1, {}, "max-scale = -1, must be >= 0"),
    ("max_scale", 11, {"max_scale_limit": 10}, "max-scale = 11, must be in [1, 10] because max-scale-limit = 10"),
    ("max_scale", 0, {"max_scale_limit": 10},
     "max-scale = 0 (unbounded), must be in [1, 10] because max-scale-limit = 10"),
    ("max_scale_limit", -1, {}, "max-scale-limit = -1, must be >= 0"),
    ("max_scale_limit", INT32_MAX + 1, {"max_scale": 1}, "max-scale-limit = 2147483648, must be a 32-bit integer"),
    ("pod_autoscaler_class", "example.com/custom", {},
     "pod-autoscaler-class = example.com/custom, must be kpa.autoscaling.knative.dev or "
     "hpa.autoscaling.knative.dev (the classes Knative ships)"),
    ("metric", "cpu", {},
     "metric = cpu, the HPA metrics cpu and memory are out of scope of the KPA model; "
     "must be concurrency or rps"),
    ("metric_aggregation_algorithm", "median", {},
     "metric-aggregation-algorithm = median, must be linear, weighted-exponential or weightedExponential"),
    ("target", 0.0099, {}, "target = 0.0099, must be >= 0.01"),
    ("target_utilization_percentage", 0.99, {}, "target-utilization-percentage = 0.99, must be in [1, 100]"),
    ("target_utilization_percentage", 100.5, {}, "target-utilization-percentage = 100.5, must be in [1, 100]"),
    ("activation_scale", 1, {}, "activation-scale = 1, must be 0 (unset) or >= 2"),
    ("activation_scale", 2, {"min_scale": 3}, "activation-scale = 2, must be >= min-scale = 3"),
    ("activation_scale", 6, {"max_scale": 5}, "activation-scale = 6, must be <= max-scale = 5"),
    ("container_concurrency", -1, {}, "container-concurrency = -1, must be in [0, 1000]"),
    ("container_concurrency", 1001, {}, "container-concurrency = 1001, must be in [0, 1000]"),
    ("timeout_seconds", 0, {}, "timeout-seconds = 0, must be in (0, 3600]"),
    ("timeout_seconds", 3600.5, {}, "timeout-seconds = 3600.5, must be in (0, 3600]"),
    ("progress_deadline", 0, {}, "progress-deadline = 0s, must be > 0s"),
]


@pytest.mark.parametrize("field,value,extra,message", OUTSIDE,
                         ids=[f"{f}={v}" + ("+" + ",".join(e) if e else "") for f, v, e, _ in OUTSIDE])
def test_bound_just_outside_names_key_value_and_range(field, value, extra, message):
    with pytest.raises(ConfigError) as info:
        KPAConfig(**{field: value, **extra})
    assert str(info.value) == message
    assert isinstance(info.value, AutoscaleError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(KPAConfig)
                                   if f.type in ("float", "float | None")])
def test_nan_is_rejected_everywhere(field):
    with pytest.raises(ConfigError, match=cfgmod._BY_FIELD[field].key):
        KPAConfig(**{field: math.nan})


@pytest.mark.parametrize("kwargs", [
    {"stable_window": "60s"},           # strings are not seconds
    {"min_scale": 1.0},                 # an int field refuses floats
    {"min_scale": True},                # bools are not ints
    {"target_burst_capacity": True},
    {"enable_scale_to_zero": 1},        # bool fields must be real bools
    {"reachable": "true"},
    {"metric": 1},
    {"pod_autoscaler_class": None},
    {"stable_window": None},            # only target / target-utilization may be None
], ids=lambda kw: ",".join(f"{k}={v!r}" for k, v in kw.items()))
def test_wrong_types_raise_type_error(kwargs):
    with pytest.raises(TypeError):
        KPAConfig(**kwargs)


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError):
        KPAConfig(stable_windw=60)


def test_coercions_from_ints_strings_and_timedeltas():
    c = KPAConfig(stable_window=90, metric="rps", metric_aggregation_algorithm="weightedExponential",
                  scale_down_delay=datetime.timedelta(minutes=2))
    assert isinstance(c.stable_window, float) and c.stable_window == 90.0
    assert c.metric is Metric.RPS
    assert c.metric_aggregation_algorithm is Aggregation.WEIGHTED_EXPONENTIAL
    assert c.scale_down_delay == 120.0
    assert KPAConfig(metric_aggregation_algorithm="weighted-exponential") == c.replace(
        stable_window=60, metric=Metric.CONCURRENCY, scale_down_delay=0)


def test_percentage_and_fraction_mean_the_same():
    assert KPAConfig(container_concurrency_target_percentage=0.7).target_value == 70.0
    assert KPAConfig(container_concurrency_target_percentage=70).target_value == 70.0
    assert KPAConfig(container_concurrency_target_percentage=1).target_utilization == 1.0


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        KPAConfig().stable_window = 30.0


# -- derived values ----------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs,total,target", [
    ({}, 100.0, 70.0),
    ({"container_concurrency": 10}, 10.0, 7.0),
    ({"metric": "rps"}, 200.0, 140.0),
    ({"metric": "rps", "container_concurrency": 10}, 200.0, 140.0),  # CC does not cap rps
    ({"target": 50, "container_concurrency": 10}, 10.0, 7.0),         # never above the hard limit
    ({"target": 5, "container_concurrency": 10}, 5.0, 3.5),
    ({"target": 50}, 50.0, 35.0),
    ({"target": 50, "metric": "rps", "container_concurrency": 10}, 50.0, 35.0),
    ({"target_utilization_percentage": 50}, 100.0, 50.0),
    ({"target_utilization_percentage": 50, "metric": "rps"}, 200.0, 100.0),
    ({"target": 0.01}, 0.01, 0.01),                                  # 0.007 floored at 0.01
], ids=["cc0", "cc10", "rps", "rps-cc10", "target50-cc10", "target5-cc10", "target50",
        "rps-target50", "tu50", "rps-tu50", "target-floor"])
def test_total_and_target(kwargs, total, target):
    c = KPAConfig(**kwargs)
    assert c.total == total
    assert c.target_value == pytest.approx(target, rel=1e-15)


@pytest.mark.parametrize("window,pct,expected", [
    (60, 10, 6.0),
    (60, 51, 31.0),    # 30.6 s
    (25, 10, 3.0),     # 2.5 s: half away from zero, Python's round() would give 2
    (35, 10, 4.0),     # 3.5 s
    (45, 10, 5.0),     # 4.5 s: round half to even would give 4
    (10, 10, 1.0),
    (6, 1, 1.0),       # 0.06 s, raised to the 1 s bucket
    (3600, 100, 3600.0),
    (60, 12.5, 8.0),   # 7.5 s
], ids=lambda v: str(v))
def test_panic_window(window, pct, expected):
    assert KPAConfig(stable_window=window, panic_window_percentage=pct).panic_window == expected


def test_panic_threshold_is_a_ratio():
    assert KPAConfig(panic_threshold_percentage=150).panic_threshold == 1.5


def test_replace_validates_and_rejects_unknown_names():
    c = KPAConfig()
    assert c.replace(container_concurrency=10).total == 10.0
    assert c.container_concurrency == 0
    with pytest.raises(ConfigError, match="stable-window = 3s"):
        c.replace(stable_window=3)
    with pytest.raises(ConfigError, match=r"unknown KPAConfig field\(s\) stable_windw; valid names: .*stable_window"):
        c.replace(stable_windw=3)


# -- resolution --------------------------------------------------------------------------------


def test_resolve_without_sources_gives_defaults():
    r = resolve()
    assert r.config == KPAConfig()
    assert set(r.sources.values()) == {"default"} and set(r.sources) == set(KNATIVE_DEFAULTS)
    assert r.notes == ()


def test_configmap_file_is_read_and_example_ignored():
    r = resolve(configmap=CONFIGMAP)
    c = r.config
    assert (c.container_concurrency_target_percentage, c.stable_window, c.panic_window_percentage) == (0.8, 120.0, 5.0)
    assert (c.target_burst_capacity, c.scale_to_zero_grace_period, c.scale_down_delay) == (150.0, 45.0, 30.0)
    assert (c.max_scale, c.initial_scale, c.enable_scale_to_zero) == (50, 2, True)
    assert r.sources["stable-window"] == "configmap" and r.sources["min-scale"] == "default"
    assert "_example" not in r.sources


def test_tick_interval_is_accepted_and_ignored_with_a_note():
    r = resolve(configmap={"tick-interval": "5s"})
    assert r.config == KPAConfig()
    assert len(r.notes) == 1 and "tick-interval is ignored" in r.notes[0]


def test_configmap_as_data_dict_or_whole_object():
    data = {"stable-window": "30s", "_example": "anything"}
    whole = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "config-autoscaler"}, "data": data}
    assert resolve(configmap=data).config == resolve(configmap=whole).config == KPAConfig(stable_window=30)


def test_service_file_is_read():
    r = resolve(service=SERVICE)
    c = r.config
    assert (c.min_scale, c.max_scale, c.target, c.stable_window) == (1, 20, 8.0, 90.0)
    assert (c.panic_threshold_percentage, c.progress_deadline) == (150.0, 300.0)
    assert (c.container_concurrency, c.timeout_seconds) == (10, 120.0)
    assert c.total == 8.0 and c.target_value == pytest.approx(5.6)
    assert r.sources["min-scale"] == "annotation" and r.sources["progress-deadline"] == "annotation"
    assert r.sources["container-concurrency"] == "spec" and r.sources["timeout-seconds"] == "spec"


def test_precedence_configmap_then_annotations_then_overrides():
    cm = {"stable-window": "30s", "max-scale": "40", "scale-down-delay": "10s", "min-scale": "1"}
    svc = service({"autoscaling.knative.dev/window": "45s", "autoscaling.knative.dev/max-scale": "30"},
                  containerConcurrency=4)
    r = resolve(configmap=cm, service=svc, overrides={"max-scale": "20", "container-concurrency": 8})
    c = r.config
    assert (c.scale_down_delay, c.min_scale, c.stable_window, c.max_scale, c.container_concurrency) == (
        10.0, 1, 45.0, 20, 8)
    assert {k: r.sources[k] for k in ("scale-down-delay", "stable-window", "max-scale",
                                      "container-concurrency", "panic-window-percentage")} == {
        "scale-down-delay": "configmap", "stable-window": "annotation", "max-scale": "override",
        "container-concurrency": "override", "panic-window-percentage": "default"}


def test_fixtures_together():
    r = resolve(configmap=CONFIGMAP, service=SERVICE, overrides={"panic-window-percentage": "10"})
    c = r.config
    assert (c.stable_window, c.max_scale, c.initial_scale, c.panic_window) == (90.0, 20, 2, 9.0)
    assert c.target_value == pytest.approx(8 * 0.8)
    assert r.sources["max-scale"] == "annotation" and r.sources["initial-scale"] == "configmap"


@pytest.mark.parametrize("alias,field,value", [
    ("minScale", "min_scale", 2), ("maxScale", "max_scale", 9), ("initialScale", "initial_scale", 3),
    ("targetBurstCapacity", "target_burst_capacity", -1.0),
    ("panicWindowPercentage", "panic_window_percentage", 20.0),
    ("panicThresholdPercentage", "panic_threshold_percentage", 300.0),
    ("scaleDownDelay", "scale_down_delay", 60.0), ("activationScale", "activation_scale", 2),
    ("targetUtilizationPercentage", "target_utilization_percentage", 80.0),
    ("metricAggregationAlgorithm", "metric_aggregation_algorithm", Aggregation.WEIGHTED_EXPONENTIAL),
    ("scaleToZeroPodRetentionPeriod", "scale_to_zero_pod_retention_period", 60.0),
])
def test_camel_case_annotation_aliases(alias, field, value):
    text = {"scaleDownDelay": "1m", "scaleToZeroPodRetentionPeriod": "1m",
            "metricAggregationAlgorithm": "weightedExponential"}.get(alias, str(value))
    r = resolve(service=service({f"autoscaling.knative.dev/{alias}": text}))
    assert getattr(r.config, field) == value
    assert r.sources[cfgmod._BY_FIELD[field].key] == "annotation"


def test_both_spellings_of_one_annotation_are_rejected():
    svc = service({"autoscaling.knative.dev/minScale": "1", "autoscaling.knative.dev/min-scale": "2"})
    with pytest.raises(ConfigError, match="minScale and autoscaling.knative.dev/min-scale both set min-scale"):
        resolve(service=svc)


def test_other_components_annotations_are_ignored():
    svc = service({"prometheus.io/scrape": "true", "serving.knative.dev/rollout-duration": "60s",
                   "features.knative.dev/http-full-duplex": "Enabled"})
    assert resolve(service=svc).config == KPAConfig()


def test_unknown_configmap_key_names_file_and_close_matches():
    with pytest.raises(ConfigError) as info:
        resolve(configmap={"stable-windows": "60s"})
    assert str(info.value) == ("configmap: unknown config-autoscaler key stable-windows; "
                               "did you mean stable-window?")


def test_unknown_configmap_key_in_file(tmp_path):
    path = tmp_path / "cm.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-autoscaler\n"
                    "data:\n  max-scale-uprate: '10'\n")
    with pytest.raises(ConfigError, match=rf"^{path}: unknown config-autoscaler key max-scale-uprate; "
                                          r"did you mean max-scale-up-rate"):
        resolve(configmap=path)


def test_unknown_annotation_names_file_and_close_matches():
    with pytest.raises(ConfigError, match=r"^service: unknown autoscaling annotation "
                                          r"autoscaling.knative.dev/windows; did you mean "
                                          r"autoscaling.knative.dev/window"):
        resolve(service=service({"autoscaling.knative.dev/windows": "60s"}))


def test_unknown_override_key_lists_close_matches_once_per_setting():
    with pytest.raises(ConfigError) as info:
        resolve(overrides={"stable-windw": "60s"})
    assert str(info.value) == "unknown override key stable-windw; did you mean stable-window?"


def test_override_spellings_all_reach_the_same_field():
    for key in ("stable-window", "stable_window", "window", "autoscaling.knative.dev/window"):
        r = resolve(overrides={key: "90s"})
        assert r.config.stable_window == 90.0 and r.sources["stable-window"] == "override"
    with pytest.raises(ConfigError, match="both set stable-window"):
        resolve(overrides={"window": "90s", "stable-window": "60s"})


def test_override_python_values_and_round_trip():
    c = KPAConfig(stable_window=90, metric="rps", target=12.5, min_scale=2, reachable=False)
    assert resolve(overrides=c.to_dict()).config == c
    assert resolve(overrides={"stable_window": 30, "reachable": "false"}).config == KPAConfig(
        stable_window=30, reachable=False)


def test_configmap_values_use_configmap_ranges():
    # Knative does not bound panic-threshold-percentage in the config map.
    assert resolve(configmap={"panic-threshold-percentage": "105"}).config.panic_threshold == 1.05
    with pytest.raises(ConfigError, match=r"^configmap: scale-down-delay = 1500ms, must be >= 0s in whole seconds$"):
        resolve(configmap={"scale-down-delay": "1500ms"})
    # No upper bound on the delay in the config map; the annotation caps it at 1 h.
    assert resolve(configmap={"scale-down-delay": "2h"}).config.scale_down_delay == 7200.0


ANNOTATION_OUTSIDE = [
    ("panic-threshold-percentage", "105", "panic-threshold-percentage = 105, must be in [110, 1000]"),
    ("panic-threshold-percentage", "1001", "panic-threshold-percentage = 1001, must be in [110, 1000]"),
    ("window", "5s", "window = 5s, must be in [6s, 1h] in whole seconds"),
    ("window", "1h1s", "window = 1h1s, must be in [6s, 1h] in whole seconds"),
    ("scale-down-delay", "61m", "scale-down-delay = 61m, must be in [0s, 1h] in whole seconds"),
    ("scale-to-zero-pod-retention-period", "2h",
     "scale-to-zero-pod-retention-period = 2h, must be in [0s, 1h]"),
    ("activation-scale", "1", "activation-scale = 1, must be >= 2"),
    ("activation-scale", "0", "activation-scale = 0, must be >= 2"),
    ("target", "0.001", "target = 0.001, must be >= 0.01"),
    ("target-utilization-percentage", "101", "target-utilization-percentage = 101, must be in [1, 100]"),
    ("target-burst-capacity", "-2", "target-burst-capacity = -2, must be >= 0 or exactly -1"),
    ("min-scale", "-1", "min-scale = -1, must be >= 0"),
    ("min-scale", "1.5", "min-scale = 1.5, must be an integer"),
    ("max-scale", "3000000000", "max-scale = 3000000000, must be a 32-bit integer"),
    ("window", "60", "window = 60, must be a duration with a unit"),
    ("class", "example.com/custom", "class = example.com/custom, must be kpa.autoscaling.knative.dev or hpa"),
    ("metric", "memory", "metric = memory, the HPA metrics cpu and memory are out of scope"),
]
ANNOTATION_OUTSIDE_IDS = [f"{a}={t}" for a, t, _ in ANNOTATION_OUTSIDE]


@pytest.mark.parametrize("annotation,text,message", ANNOTATION_OUTSIDE, ids=ANNOTATION_OUTSIDE_IDS)
def test_annotations_use_annotation_ranges_and_name_file_and_key(annotation, text, message):
    with pytest.raises(ConfigError) as info:
        resolve(service=service({f"autoscaling.knative.dev/{annotation}": text}))
    assert str(info.value).startswith(f"service: autoscaling.knative.dev/{message}")


def test_annotation_range_applies_to_full_annotation_name_in_overrides():
    assert resolve(overrides={"panic-threshold-percentage": "105"}).config.panic_threshold == 1.05
    with pytest.raises(ConfigError, match=r"must be in \[110, 1000\]"):
        resolve(overrides={"autoscaling.knative.dev/panic-threshold-percentage": "105"})


def test_cross_check_across_sources_names_where_values_came_from():
    with pytest.raises(ConfigError) as info:
        resolve(configmap={"max-scale": "3"}, service=service({"autoscaling.knative.dev/minScale": "5"}))
    msg = str(info.value)
    assert msg.startswith("min-scale = 5, must be <= max-scale = 3")
    assert "min-scale from annotation autoscaling.knative.dev/minScale in service" in msg
    assert "max-scale from configmap configmap" in msg


def test_max_scale_limit_needs_a_bounded_max_scale():
    with pytest.raises(ConfigError, match="max-scale = 0 .unbounded., must be in .1, 10."):
        resolve(configmap={"max-scale-limit": "10"})
    assert resolve(configmap={"max-scale-limit": "10"},
                   service=service({"autoscaling.knative.dev/max-scale": "10"})).config.max_scale == 10


@pytest.mark.parametrize("cm,annotation,allow,expected,source", [
    ({}, "3", None, 3, "annotation"),
    ({"initial-scale": "2"}, "0", None, 2, "configmap"),      # zero not allowed: the config map wins
    ({}, "0", None, 1, "default"),
    ({"initial-scale": "2"}, "0", "true", 0, "annotation"),  # zero allowed: the annotation wins
    ({"initial-scale": "0"}, None, "true", 0, "configmap"),
], ids=["annotation", "zero-falls-back-to-configmap", "zero-falls-back-to-default",
        "zero-allowed", "configmap-zero-allowed"])
def test_get_initial_scale_rule(cm, annotation, allow, expected, source):
    cm = dict(cm)
    if allow is not None:
        cm["allow-zero-initial-scale"] = allow
    ann = {"autoscaling.knative.dev/initial-scale": annotation} if annotation is not None else {}
    r = resolve(configmap=cm, service=service(ann))
    assert r.config.initial_scale == r.config.effective_initial_scale == expected
    assert r.sources["initial-scale"] == source
    assert any("initial-scale" in n for n in r.notes) == (annotation == "0" and allow is None)


def test_configmap_initial_scale_zero_needs_allow():
    with pytest.raises(ConfigError, match="initial-scale = 0, must be >= 1 unless allow-zero-initial-scale"):
        resolve(configmap={"initial-scale": "0"})


def test_autoscaling_annotation_on_service_metadata_is_rejected():
    svc = service()
    svc["metadata"] = {"name": "s", "annotations": {"autoscaling.knative.dev/min-scale": "1"}}
    with pytest.raises(ConfigError, match="must be put under spec.template.metadata.annotations"):
        resolve(service=svc)


def test_non_string_values_need_quotes():
    with pytest.raises(ConfigError, match=r"^configmap: max-scale = 5, Kubernetes needs a string here; quote it: '5'"):
        resolve(configmap={"max-scale": 5})
    with pytest.raises(ConfigError, match="autoscaling.knative.dev/min-scale = 1, Kubernetes needs a string"):
        resolve(service=service({"autoscaling.knative.dev/min-scale": 1}))


def test_spec_fields_must_be_integers():
    with pytest.raises(ConfigError, match=r"spec.template.spec.containerConcurrency = '10', must be an integer"):
        resolve(service=service(containerConcurrency="10"))
    with pytest.raises(ConfigError, match=r"spec.template.spec.timeoutSeconds = 0, must be in \(0, 3600\]"):
        resolve(service=service(timeoutSeconds=0))


def test_a_kubernetes_service_is_not_a_knative_service():
    with pytest.raises(ConfigError, match="expected one Knative Service .* found 0 among v1/Service"):
        resolve(service={"apiVersion": "v1", "kind": "Service", "spec": {}})


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\ndata:\n  stable-window: \"60s\n  x: [\n")
    with pytest.raises(ConfigError, match=rf"^{path}:\d+: invalid YAML"):
        resolve(configmap=path)


def test_configmap_file_with_several_configmaps_picks_config_autoscaler(tmp_path):
    path = tmp_path / "all.yaml"
    path.write_text("kind: ConfigMap\nmetadata: {name: config-deployment}\ndata: {queue-sidecar-image: x}\n"
                    "---\nkind: ConfigMap\nmetadata: {name: config-autoscaler}\ndata: {stable-window: 30s}\n")
    assert resolve(configmap=path).config.stable_window == 30.0


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        resolve(configmap=tmp_path / "nope.yaml")


def test_classmethod_resolve_returns_the_config():
    assert KPAConfig.resolve(configmap=CONFIGMAP).stable_window == 120.0


def test_table_has_every_key_and_the_derived_rows():
    t = resolve(configmap=CONFIGMAP, service=SERVICE).table()
    assert list(t.columns) == ["key", "value", "source"]
    assert list(t["key"]) == list(KNATIVE_DEFAULTS) + ["target-value", "total", "target-utilization",
                                                       "panic-window"]
    v = t.set_index("key")
    assert v.loc["stable-window", "value"] == "90s" and v.loc["stable-window", "source"] == "annotation"
    assert v.loc["enable-scale-to-zero", "value"] == "true"
    assert v.loc["target-utilization-percentage", "value"] == "-"
    assert (v.loc["total", "value"], v.loc["panic-window", "value"]) == ("8", "5s")  # 90 s x 5 % = 4.5 -> 5
    assert set(v.loc[["target-value", "total", "target-utilization", "panic-window"], "source"]) == {"derived"}


# -- hypothesis: inside the bounds constructs, outside raises naming the key ----------------------


def _floats(lo=None, hi=None, *, lo_open=False, hi_open=False):
    return st.floats(min_value=lo, max_value=hi, exclude_min=lo_open and lo is not None,
                     exclude_max=hi_open and hi is not None, allow_nan=False, allow_infinity=False)


_BIG = 1e9
_INT = st.integers(0, INT32_MAX)
# field -> (inside, outside, extra kwargs that keep the cross checks satisfied)
BOUNDS = {
    "container_concurrency_target_percentage": (
        _floats(0.0001, CC_TARGET_PERCENTAGE_RANGE[1]),
        _floats(CC_TARGET_PERCENTAGE_RANGE[1], _BIG, lo_open=True) | _floats(-_BIG, 0.0), {}),
    "container_concurrency_target_default": (
        _floats(TARGET_MIN, _BIG), _floats(-_BIG, TARGET_MIN, hi_open=True),
        {"container_concurrency_target_percentage": 100}),
    "requests_per_second_target_default": (_floats(TARGET_MIN, _BIG), _floats(-_BIG, TARGET_MIN, hi_open=True), {}),
    "target_burst_capacity": (_floats(0.0, _BIG) | st.just(-1.0),
                              _floats(-_BIG, 0.0, hi_open=True).filter(lambda v: v != -1.0), {}),
    "stable_window": (st.integers(*map(int, STABLE_WINDOW_RANGE)),
                      st.integers(-10**6, 5) | st.integers(3601, 10**6)
                      | _floats(6, 3600).filter(lambda v: not v.is_integer()), {}),
    "panic_window_percentage": (_floats(*PANIC_WINDOW_PERCENTAGE_RANGE),
                                _floats(-_BIG, 1.0, hi_open=True) | _floats(100.0, _BIG, lo_open=True), {}),
    "panic_threshold_percentage": (_floats(0.0, _BIG, lo_open=True), _floats(-_BIG, 0.0), {}),
    "max_scale_up_rate": (_floats(MAX_SCALE_RATE_MIN, _BIG, lo_open=True), _floats(-_BIG, MAX_SCALE_RATE_MIN), {}),
    "max_scale_down_rate": (_floats(MAX_SCALE_RATE_MIN, _BIG, lo_open=True), _floats(-_BIG, MAX_SCALE_RATE_MIN), {}),
    "scale_to_zero_grace_period": (_floats(0.0, _BIG, lo_open=True), _floats(-_BIG, 0.0), {}),
    "scale_to_zero_pod_retention_period": (_floats(0.0, _BIG), _floats(-_BIG, 0.0, hi_open=True), {}),
    "scale_down_delay": (st.integers(0, 10**6), st.integers(-10**6, -1)
                         | _floats(0, 3600).filter(lambda v: not v.is_integer()), {}),
    "activator_capacity": (_floats(ACTIVATOR_CAPACITY_MIN, _BIG),
                           _floats(-_BIG, ACTIVATOR_CAPACITY_MIN, hi_open=True), {}),
    "initial_scale": (st.integers(1, INT32_MAX), st.integers(-10**12, 0) | st.integers(INT32_MAX + 1, 10**12), {}),
    "min_scale": (_INT, st.integers(-10**12, -1) | st.integers(INT32_MAX + 1, 10**12), {}),
    "max_scale": (_INT, st.integers(-10**12, -1) | st.integers(INT32_MAX + 1, 10**12), {}),
    "max_scale_limit": (st.integers(1, INT32_MAX), st.integers(-10**12, -1), {"max_scale": 1}),
    "target": (_floats(TARGET_MIN, _BIG), _floats(-_BIG, TARGET_MIN, hi_open=True), {}),
    "target_utilization_percentage": (
        _floats(*TARGET_UTILIZATION_PERCENTAGE_RANGE),
        _floats(-_BIG, 1.0, hi_open=True) | _floats(100.0, _BIG, lo_open=True), {}),
    "activation_scale": (st.just(0) | st.integers(ACTIVATION_SCALE_MIN, INT32_MAX),
                         st.integers(-10**6, -1) | st.just(1), {}),
    "container_concurrency": (st.integers(*CONTAINER_CONCURRENCY_RANGE),
                              st.integers(-10**6, -1) | st.integers(1001, 10**6), {}),
    "timeout_seconds": (_floats(*TIMEOUT_SECONDS_RANGE, lo_open=True),
                        _floats(-_BIG, 0.0) | _floats(3600.0, _BIG, lo_open=True), {}),
    "progress_deadline": (_floats(0.0, _BIG, lo_open=True), _floats(-_BIG, 0.0), {}),
}


def test_every_bounded_field_has_strategies():
    unbounded = {"enable_scale_to_zero", "allow_zero_initial_scale", "pod_autoscaler_class", "metric",
                 "metric_aggregation_algorithm", "reachable"}
    assert set(BOUNDS) | unbounded == {f.name for f in dataclasses.fields(KPAConfig)}
    # the annotation-only ranges are shared constants too
    assert ANNOTATION_DURATION_RANGE == (0.0, 3600.0)
    assert PANIC_THRESHOLD_PERCENTAGE_ANNOTATION_RANGE == (110.0, 1000.0)


@pytest.mark.parametrize("field", sorted(BOUNDS))
@settings(max_examples=30, derandomize=True, deadline=None)
@given(data=st.data())
def test_inside_constructs_outside_raises_naming_the_key(field, data):
    inside, outside, extra = BOUNDS[field]
    value = data.draw(inside, label="inside")
    assert getattr(KPAConfig(**{field: value, **extra}), field) == value
    bad = data.draw(outside, label="outside")
    with pytest.raises(ConfigError) as info:
        KPAConfig(**{field: bad, **extra})
    assert str(info.value).startswith(cfgmod._BY_FIELD[field].key + " = ")


def test_a_revision_template_is_read_with_its_label_and_spec_path():
    rev = cfgmod.RevisionTemplate("s-1", {"autoscaling.knative.dev/target": "4"}, {"containerConcurrency": 8},
                                  label="f.yaml: document 2 (Revision s-1)", spec_path="spec")
    r = resolve(service=rev)
    assert r.config.target == 4 and r.sources["container-concurrency"] == "spec"
    with pytest.raises(ConfigError, match=r"^f.yaml: document 2 \(Revision s-1\): spec.containerConcurrency = "
                                          r"'8', must be an integer"):
        resolve(service=cfgmod.RevisionTemplate("s-1", {}, {"containerConcurrency": "8"},
                                                label="f.yaml: document 2 (Revision s-1)", spec_path="spec"))


def test_several_documents_of_one_service_are_read_from_the_last(tmp_path):
    path = tmp_path / "svc.yaml"
    path.write_text("apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: s}\n"
                    "spec: {template: {spec: {containerConcurrency: 3}}}\n---\n"
                    "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: s}\n"
                    "spec: {template: {spec: {containerConcurrency: 9}}}\n")
    assert resolve(service=path).config.container_concurrency == 9
    path.write_text(path.read_text() + "---\napiVersion: serving.knative.dev/v1\nkind: Service\n"
                    "metadata: {name: other}\nspec: {}\n")
    with pytest.raises(ConfigError, match="expected one Knative Service .* found 2"):
        resolve(service=path)


def test_the_class_is_read_as_knative_reads_it():
    # A config map whose default class is the HPA is fine when the revision's annotation selects the KPA.
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "config-autoscaler"},
          "data": {"pod-autoscaler-class": "hpa.autoscaling.knative.dev"}}
    kpa = resolve(configmap=cm, service=service({"autoscaling.knative.dev/class": "kpa.autoscaling.knative.dev"}))
    assert kpa.config.pod_autoscaler_class == KPA_CLASS
    assert resolve(configmap=cm).config.pod_autoscaler_class == HPA_CLASS


def test_a_revision_of_the_hpa_class_is_not_scaled_by_the_kpa():
    from autoscale import replay
    from autoscale.trace import synthetic

    trace = synthetic.poisson(rate=2.0, duration=60.0, seed=1)
    hpa = KPAConfig(pod_autoscaler_class=HPA_CLASS)
    with pytest.raises(ConfigError, match=r"configuration 1: pod-autoscaler-class = hpa.autoscaling.knative.dev: "
                                          r"Knative scales such a revision with the HPA"):
        replay(trace, [KPAConfig(), hpa])
    assert replay(trace, hpa, policy="hpa").summary.iloc[0]["completed"] > 0


def test_autoscale_run_picks_the_hpa_for_a_revision_of_the_hpa_class(capsys):
    from autoscale.cli import main

    assert main(["run", "--trace", "default", "--duration", "600", "--set", "class=hpa.autoscaling.knative.dev"]) == 0
    assert "policy hpa" in capsys.readouterr().out
