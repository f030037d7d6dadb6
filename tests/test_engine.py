"""The replay engine as timestamped scenarios with hand-computed outcomes."""

from __future__ import annotations

import numpy as np
import pytest

from autoscale import ColdStart, KPAConfig, Platform, replay
from autoscale.trace import Trace, synthetic

FAST = Platform(cold_start=ColdStart.constant(2.0), mode_switch_delay=0.0)


def trace(arrivals, durations):
    a = np.asarray(arrivals, dtype=float)
    d = np.broadcast_to(np.asarray(durations, dtype=float), a.shape).copy()
    return Trace(arrivals=a, durations=d, name="scenario")


def row(result, i=0):
    return result.summary.iloc[i]


def test_request_after_scale_to_zero_waits_exactly_one_cold_start():
    # The initial pod is gone well before t = 300 s; the request at 300 is pushed by the
    # activator, pokes the decider, and a pod created at 300.0 is ready at 302.0.
    r = replay(trace([300.0], 0.5), KPAConfig(), platform=FAST, duration=400)
    s = row(r)
    assert s.completed == 1 and s.scale_from_zero == 1
    assert s.latency_max_s == pytest.approx(2.5)
    assert s.cold_start_delayed == 1


def test_queue_proxy_rejects_beyond_cc_plus_ten_cc():
    # One ready pod in Serve mode (TBC 0, min-scale 1) takes 50 simultaneous requests:
    # 1 executes, 10 queue, 39 are rejected with 503.
    cfg = KPAConfig(container_concurrency=1, target_burst_capacity=0, min_scale=1)
    r = replay(trace(np.full(50, 100.0), 10.0), cfg, platform=FAST, duration=300)
    s = row(r)
    assert s.status_503 == 39
    assert s.completed == 11
    assert s.latency_max_s == pytest.approx(110.0)


def test_revision_timeout_answers_504_in_the_activator_and_while_executing():
    # CC 1 behind the activator (TBC -1), timeout 5 s, three 4 s requests at t = 100:
    # the first completes at 104; the others start at 104 (the next slot, or a new pod)
    # and would end at 108 > 105, so both end at 105 with a 504.
    cfg = KPAConfig(container_concurrency=1, target_burst_capacity=-1, min_scale=1, timeout_seconds=5)
    r = replay(trace([100.0, 100.0, 100.0], 4.0), cfg, platform=FAST, duration=200)
    s = row(r)
    assert (s.completed, s.status_504, s.status_503) == (1, 2, 0)


def test_tbc_minus_one_keeps_the_activator_in_the_path():
    rng = np.random.default_rng(5)
    a = np.sort(rng.uniform(0, 300, 1500))
    r = replay(trace(a, 0.3), [KPAConfig(target_burst_capacity=-1), KPAConfig(target_burst_capacity=0)],
               platform=FAST)
    assert r.summary.activator_fraction.iloc[0] == 1.0
    assert r.summary.activator_fraction.iloc[1] < 0.2


def test_without_scale_to_zero_one_pod_stays():
    r = replay(trace([10.0], 0.1), KPAConfig(enable_scale_to_zero=False), platform=FAST, duration=600)
    assert row(r).pod_seconds == pytest.approx(600.0)


def test_conservation_and_cost_accounting():
    rng = np.random.default_rng(11)
    a = np.sort(rng.uniform(0, 600, 6000))
    d = rng.lognormal(np.log(0.5), 0.6, a.size)
    cfgs = [KPAConfig(container_concurrency=cc, target_burst_capacity=tbc) for cc in (0, 2, 10) for tbc in (0, 211)]
    s = replay(trace(a, d), cfgs, duration=620).summary
    assert (s.completed + s.status_503 + s.status_504 + s.in_flight == s.requests).all()
    assert (s.requests == a.size).all()
    assert (s.idle_pod_seconds <= s.pod_seconds + 1e-9).all()
    assert ((s.utilisation > 0) & (s.utilisation <= 1)).all()


def test_timeseries_and_plot():
    rng = np.random.default_rng(2)
    a = np.sort(rng.uniform(0, 200, 800))
    r = replay(trace(a, 0.4), KPAConfig(container_concurrency=5), platform=FAST, timeseries=True, max_points=50)
    f = r.timeseries.frame(0)
    assert 25 <= len(f) <= 50 and f.ready.max() >= 1
    assert f.demand.sum() * r.timeseries.step == pytest.approx(0.4 * 800, rel=0.02)
    fig, axes = r.plot()
    assert axes[0].get_ylabel() == "concurrent requests" and axes[1].get_xlabel() == "time (s)"


def test_parallel_and_serial_kernels_give_identical_results():
    rng = np.random.default_rng(8)
    a = np.sort(rng.uniform(0, 240, 2400))
    d = rng.lognormal(np.log(0.4), 0.7, a.size)
    cfgs = [KPAConfig(container_concurrency=cc, target_burst_capacity=tbc) for cc in (0, 1, 4, 10) for tbc in (0, 50, 211, -1)]
    t = trace(a, d)
    par = replay(t, cfgs, parallel=True)
    ser = replay(t, cfgs, parallel=False)
    assert par.summary.equals(ser.summary)
    np.testing.assert_array_equal(par.latency_hist, ser.latency_hist)


def test_the_summary_names_the_keys_that_vary_in_the_batch_and_only_those():
    from autoscale.results import _config_columns
    from autoscale.spec import KPASpec

    trace = synthetic.poisson(rate=2.0, duration=30.0, service=synthetic.constant(0.1), seed=1)
    cfgs = [KPAConfig(container_concurrency=cc, target_burst_capacity=tbc) for cc in (1, 10) for tbc in (211, -1)]
    summary = replay(trace, cfgs).summary
    keys = list(summary.columns[:summary.columns.get_loc("requests")])
    assert keys == ["config", "policy", "target-burst-capacity", "container-concurrency"]  # the keys' own order
    assert summary["container-concurrency"].tolist() == [1, 1, 10, 10]
    assert summary["target-burst-capacity"].tolist() == [211, -1, 211, -1]
    same = replay(trace, [KPAConfig(container_concurrency=10)] * 3).summary
    assert list(same.columns[:same.columns.get_loc("requests")]) == ["config", "policy"]
    # as a frame's column holds them: 10 and 10.0 are one value, an unset key and NaN too
    frame = _config_columns(KPASpec.from_configs([KPAConfig(target=10), KPAConfig(target=10.0)]))
    assert frame.shape == (2, 0)
