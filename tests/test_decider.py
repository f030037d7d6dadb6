"""The KPA decider (``pkg/autoscaler/scaling/autoscaler.go``, ``multiscaler.go``) as timestamped scenarios, plus its invariants under hypothesis."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoscale.config import KPAConfig
from autoscale.decider import Decider
from autoscale.spec import KPASpec


def make(ready=0, now=0.0, **kw):
    spec = KPASpec.from_configs(KPAConfig(**kw))
    return Decider(spec, now=now, ready=np.array([ready]))


def tick(d, now, ready, stable, panic, valid=True):
    return d.scale(now, np.array([ready]), np.array([float(stable)]), np.array([float(panic)]),
                   valid=np.array([valid])).at(0)


def test_status_starts_unknown_with_initial_ebc():
    # TBC 42, total 25 (CC 25 at 100 %), initial scale 2: 2 x 25 - 42 = 8
    d = make(container_concurrency=25, target_burst_capacity=42, initial_scale=2,
             container_concurrency_target_percentage=100)
    assert d.desired_scale[0] == -1
    assert d.excess_burst_capacity[0] == 8
    assert make(target_burst_capacity=-1).excess_burst_capacity[0] == -1
    assert make(target_burst_capacity=0).excess_burst_capacity[0] == 0


def test_stable_load_wants_ceil_of_observed_over_target():
    d = make(ready=0, container_concurrency=10)  # target 7
    out = tick(d, 2, ready=3, stable=20, panic=20)
    assert out["desired"] == 3 and not out["panicking"]


def test_no_data_is_an_invalid_tick_that_changes_nothing():
    d = make(container_concurrency=10)
    out = tick(d, 2, ready=1, stable=0, panic=0, valid=False)
    assert not out["valid"]
    assert d.desired_scale[0] == -1


def test_scale_down_is_rate_limited_to_half_the_ready_pods():
    d = make(container_concurrency=10)
    assert tick(d, 2, ready=8, stable=0, panic=0)["desired"] == 4
    assert tick(d, 4, ready=4, stable=0, panic=0)["desired"] == 2
    assert tick(d, 6, ready=2, stable=0, panic=0)["desired"] == 1
    assert tick(d, 8, ready=1, stable=0, panic=0)["desired"] == 0


def test_scale_up_rate_allows_at_least_one_more_pod():
    d = make(container_concurrency=10, max_scale_up_rate=1.1)
    assert tick(d, 2, ready=2, stable=700, panic=70)["desired"] == 3


def test_from_zero_the_first_tick_reaches_rate_times_one():
    d = make(container_concurrency=10, max_scale_up_rate=10)
    out = tick(d, 2, ready=0, stable=7000, panic=7000)
    assert out["desired"] == 10


def test_panic_when_wanted_panic_pods_reach_twice_ready():
    # target 10: panic 25 on 1 pod gives 3 wanted, 3 >= 2 x 1
    d = make(container_concurrency=0, container_concurrency_target_default=10,
             container_concurrency_target_percentage=100)
    out = tick(d, 2, ready=1, stable=5, panic=25)
    assert out["panicking"] and out["desired"] == 3


def test_panic_ends_one_stable_window_after_last_overload():
    d = make(container_concurrency=10)  # target 7, stable window 60 s
    assert tick(d, 2, ready=1, stable=7, panic=70)["panicking"]
    assert tick(d, 10, ready=10, stable=7, panic=200)["panicking"]  # over again: extends to 10 + 60
    out = tick(d, 70, ready=10, stable=7, panic=7)
    assert out["panicking"], "exactly one stable window later is not yet strictly later"
    out = tick(d, 72, ready=10, stable=7, panic=7)
    assert not out["panicking"]
    assert out["desired"] == 5  # rate limited: floor(10 / 2)


def test_panic_never_scales_down_even_if_ready_drops():
    d = make(container_concurrency=10)
    assert tick(d, 2, ready=1, stable=7, panic=70)["desired"] == 10
    assert tick(d, 4, ready=1, stable=7, panic=30)["desired"] == 10  # still panicking (5 >= 2)
    assert tick(d, 6, ready=6, stable=7, panic=7)["desired"] == 10


def test_start_in_panic_with_more_than_one_ready_pod():
    d = make(ready=5, container_concurrency=10)
    assert d.panicking[0]
    assert tick(d, 2, ready=5, stable=0, panic=0)["desired"] == 5
    assert not make(ready=1, container_concurrency=10).panicking[0]


def test_activation_scale_applies_after_the_rate_limit():
    d = make(container_concurrency=10, activation_scale=5, max_scale_up_rate=2)
    assert tick(d, 2, ready=0, stable=1, panic=1)["desired"] == 5
    # no load: activation scale does not apply
    d = make(container_concurrency=10, activation_scale=5)
    assert tick(d, 2, ready=1, stable=0, panic=0)["desired"] == 0


def test_scale_down_delay_keeps_the_maximum_over_the_delay():
    d = make(container_concurrency=10, scale_down_delay=10)
    # 10 s delay = 5 slots of 2 s; the decision of 4 at t = 2 s is kept through t = 10 s
    assert tick(d, 2, ready=1, stable=28, panic=7)["desired"] == 4
    assert tick(d, 4, ready=4, stable=7, panic=7)["desired"] == 4
    assert tick(d, 10, ready=4, stable=7, panic=7)["desired"] == 4
    # then the rate-limited decisions of 2 (floor(4 / 2)) are the maximum
    assert tick(d, 12, ready=4, stable=7, panic=7)["desired"] == 2


def test_unreachable_revision_has_no_scale_down_floor_and_no_delay():
    d = make(container_concurrency=10, reachable=False, scale_down_delay=60)
    assert tick(d, 2, ready=8, stable=0, panic=0)["desired"] == 0


@pytest.mark.parametrize(
    "tbc, ready, panic, ebc",
    [(211, 1, 0, 10 - 211), (211, 30, 50, 300 - 211 - 50), (0, 3, 100, 0), (-1, 3, 0, -1), (5, 0, 0, -5)],
    ids=["default-1pod", "default-30pods", "tbc0", "tbc-1", "zero-ready"],
)
def test_excess_burst_capacity(tbc, ready, panic, ebc):
    d = make(container_concurrency=10, target_burst_capacity=tbc)
    assert tick(d, 2, ready=ready, stable=panic, panic=panic)["excess_burst_capacity"] == ebc


def test_change_notification_on_desired_or_ebc_sign():
    d = make(container_concurrency=10, target_burst_capacity=5)
    out = d.scale(2.0, np.array([1]), np.array([7.0]), np.array([7.0]))
    assert out.changed[0]  # -1 -> 1
    out = d.scale(4.0, np.array([1]), np.array([7.0]), np.array([7.0]))
    assert not out.changed[0]
    out = d.scale(6.0, np.array([1]), np.array([7.0]), np.array([1.0]))  # EBC 10-5-1 = 4 >= 0
    assert out.changed[0]


configs = st.builds(
    KPAConfig,
    container_concurrency=st.sampled_from([0, 1, 10, 100]),
    target_burst_capacity=st.sampled_from([-1.0, 0.0, 50.0, 211.0]),
    max_scale_up_rate=st.sampled_from([1.5, 10.0, 1000.0]),
    max_scale_down_rate=st.sampled_from([1.5, 2.0, 8.0]),
    panic_threshold_percentage=st.sampled_from([110.0, 200.0, 1000.0]),
    stable_window=st.sampled_from([6.0, 60.0]),
)
observations = st.lists(
    st.tuples(st.integers(0, 40), st.floats(0, 2000, allow_nan=False), st.floats(0, 4000, allow_nan=False)),
    min_size=1, max_size=40,
)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(cfg=configs, obs=observations)
def test_desired_stays_within_rate_limits_outside_panic_and_holds_in_panic(cfg, obs):
    spec = KPASpec.from_configs(cfg)
    d = Decider(spec, now=0.0, ready=np.array([0]))
    prev = None
    was_panicking = False
    for i, (ready, stable, panic) in enumerate(obs):
        out = d.scale(2.0 * (i + 1), np.array([ready]), np.array([stable]), np.array([panic]))
        want = int(out.desired[0])
        assert want >= 0
        r = max(1, ready)
        if not out.panicking[0]:
            lo = math.floor(r / cfg.max_scale_down_rate)
            hi = math.ceil(cfg.max_scale_up_rate * r)
            assert lo <= want <= hi
        elif was_panicking and prev is not None:
            assert want >= prev
        prev, was_panicking = want, bool(out.panicking[0])


@settings(max_examples=40, deadline=None, derandomize=True)
@given(cfgs=st.lists(configs, min_size=2, max_size=4), obs=observations)
def test_batch_equals_each_configuration_alone(cfgs, obs):
    batch = Decider(KPASpec.from_configs(cfgs), now=0.0, ready=np.zeros(len(cfgs), dtype=int))
    alone = [Decider(KPASpec.from_configs(c), now=0.0, ready=np.array([0])) for c in cfgs]
    for i, (ready, stable, panic) in enumerate(obs):
        t = 2.0 * (i + 1)
        got = batch.scale(t, np.full(len(cfgs), ready), np.full(len(cfgs), stable), np.full(len(cfgs), panic))
        for j, d in enumerate(alone):
            one = d.scale(t, np.array([ready]), np.array([stable]), np.array([panic]))
            assert got.desired[j] == one.desired[0]
            assert got.excess_burst_capacity[j] == one.excess_burst_capacity[0]
            assert got.panicking[j] == one.panicking[0]
