"""The compiled replay loop: idle skipping, the thread pool, and the compiled policies against the Python path."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autoscale import KPAConfig, replay
from autoscale.engine import Streams, run, simulated_seconds
from autoscale.policies import HPA, KPA, Fixed, Forecast, Hybrid, KeepAlive, Oracle
from autoscale.spec import KPASpec
from autoscale.trace import synthetic
from strategies import configs, make_trace, platforms, sparse_traces, traces

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
from scenarios import outputs  # noqa: E402

SETTINGS = dict(derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_same(a, b):
    """Every counter, histogram, time series and batch pod count identical."""
    x, y = outputs(a), outputs(b)
    assert sorted(x) == sorted(y)
    for key in x:
        assert np.array_equal(np.asarray(x[key]), np.asarray(y[key]), equal_nan=True), key


def replay_run(trace, cfgs, skip_idle=True, policy=None, **kw):
    spec = KPASpec.from_configs(cfgs)
    return run(Streams.shared(trace), spec, policy=policy, t_end=simulated_seconds(trace), skip_idle=skip_idle, **kw)


@given(trace=sparse_traces(), cfg=configs(), platform=platforms(), ts=st.booleans())
@settings(max_examples=40, **SETTINGS)
def test_skipping_idle_time_changes_nothing(trace, cfg, platform, ts):
    on = replay_run(trace, [cfg], skip_idle=True, platform=platform, timeseries=ts, max_points=300)
    off = replay_run(trace, [cfg], skip_idle=False, platform=platform, timeseries=ts, max_points=300)
    assert_same(on, off)


def test_a_sparse_trace_is_mostly_skipped():
    # Three requests an hour apart: after each, the pod retires (about a stable window plus
    # the grace period) and the hours between are jumped over.
    from autoscale import loop
    from autoscale._state import CI_TOTAL
    from autoscale.engine import _cold_start_arrays
    from autoscale.platform import Platform
    from autoscale.policies.compiled import plan
    from autoscale.policies.base import Context
    from autoscale.rng import seed_states

    trace = make_trace([10.0, 3610.0, 7210.0], [0.5, 0.5, 0.5])
    spec = KPASpec.from_configs([KPAConfig(), KPAConfig(target_burst_capacity=0), KPAConfig(target_burst_capacity=-1)])
    t_end = simulated_seconds(trace)
    ctx = Context(configs=list(spec.configs), spec=spec, trace=trace, platform=Platform(), duration=t_end, seed=0)
    out = loop.replay_rows(trace.arrivals, trace.durations, np.zeros(3, np.int64), np.full(3, 3, np.int64), spec,
                           plan(KPA(), ctx), _cold_start_arrays(Platform(), 3), seed_states(0), 1.0, t_end)
    assert t_end == 7212
    # Each request keeps a pod for at most a few minutes; everything else is skipped.
    assert (out.skipped_seconds > t_end - 3 * 300).all()
    assert (out.ci[:, CI_TOTAL] == 3).all()  # every request arrived


@given(trace=traces(), cfgs=st.lists(configs(), min_size=2, max_size=5), platform=platforms())
@settings(max_examples=20, **SETTINGS)
def test_the_thread_pool_gives_what_one_thread_gives(trace, cfgs, platform):
    assert_same(replay(trace, cfgs, platform=platform, parallel=True, timeseries=True),
                replay(trace, cfgs, platform=platform, parallel=False, timeseries=True))


# Subclasses are not compiled: they run the per-second loop, calling the numpy ``decide``.
class PyKPA(KPA):
    pass


class PyHPA(HPA):
    pass


class PyFixed(Fixed):
    pass


class PyKeepAlive(KeepAlive):
    pass


class PyHybrid(Hybrid):
    pass


class PyForecast(Forecast):
    pass


class PyOracle(Oracle):
    pass


PAIRS = {
    "kpa": (KPA, PyKPA, {}),
    "hpa": (HPA, PyHPA, {}),
    "hpa-cpu": (HPA, PyHPA, {"metric": "cpu", "window": 10, "sync_period": 5, "scale_down_stabilisation": 30.0}),
    "fixed": (Fixed, PyFixed, {"replicas": 2}),
    "keepalive": (KeepAlive, PyKeepAlive, {"keep_alive": 20.0}),
    "hybrid": (Hybrid, PyHybrid, {"bin": 5.0, "range_": 120.0, "min_samples": 3, "cv_threshold": 0.5}),
    "forecast": (Forecast, PyForecast, {"period": 3}),
    "oracle": (Oracle, PyOracle, {}),
}


@pytest.mark.parametrize("name", list(PAIRS))
@given(trace=traces(max_span=200.0), cfgs=st.lists(configs(), min_size=1, max_size=3), platform=platforms())
@settings(max_examples=12, **SETTINGS)
def test_compiled_policy_equals_its_numpy_decide(name, trace, cfgs, platform):
    compiled, python, params = PAIRS[name]
    fast = replay(trace, cfgs, policy=compiled(**params), platform=platform, timeseries=True, max_points=100)
    slow = replay(trace, cfgs, policy=python(**params), platform=platform, timeseries=True, max_points=100)
    assert_same(fast, slow)


@pytest.mark.parametrize("name", [n for n in PAIRS if n != "kpa"])
@given(trace=traces(max_span=200.0), cfgs=st.lists(configs(), min_size=1, max_size=3), platform=platforms())
@settings(max_examples=10, **SETTINGS)
def test_a_policy_that_reads_no_metric_window_replays_the_same_without_them(name, trace, cfgs, platform):
    """Without time series, a policy other than the KPA keeps no metric windows and takes no scrape:
    every counter and histogram is what the replay that keeps them gives."""
    compiled, _, params = PAIRS[name]
    kept = outputs(replay(trace, cfgs, policy=compiled(**params), platform=platform, timeseries=True,
                          max_points=100))
    skipped = outputs(replay(trace, cfgs, policy=compiled(**params), platform=platform))
    for key in skipped:
        assert np.array_equal(np.asarray(kept[key]), np.asarray(skipped[key]), equal_nan=True), key


@pytest.mark.parametrize("name", list(PAIRS))
def test_compiled_policy_equals_its_numpy_decide_on_a_sparse_day(name):
    compiled, python, params = PAIRS[name]
    trace = synthetic.on_off(rate_on=8.0, mean_on=30.0, mean_off=600.0, duration=6 * 3600.0,
                             service=synthetic.lognormal(median=0.3, sigma=0.8), seed=21)
    cfgs = [KPAConfig(container_concurrency=cc) for cc in (0, 1, 10)]
    assert_same(replay(trace, cfgs, policy=compiled(**params), seed=3),
                replay(trace, cfgs, policy=python(**params), seed=3))


def test_a_configuration_replays_the_same_in_any_batch_and_order():
    trace = synthetic.on_off(rate_on=20.0, mean_on=10.0, mean_off=60.0, duration=900.0,
                             service=synthetic.exponential(0.4), seed=5)
    cfgs = [KPAConfig(container_concurrency=cc, target_burst_capacity=t) for cc in (1, 10) for t in (211, 0, -1)]
    whole = replay(trace, cfgs, parallel=True).summary
    for i in (0, 3, 5):
        alone = replay(trace, cfgs[i]).summary
        cols = [c for c in alone.columns if c not in ("config",) and c in whole.columns]
        assert whole.loc[i, cols].tolist() == alone.loc[0, cols].tolist()
    reverse = replay(trace, cfgs[::-1], parallel=True).summary
    assert whole["pod_seconds"].tolist() == reverse["pod_seconds"].tolist()[::-1]


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 15, 16, 60, 128, 129, 240, 1000, 5000])
def test_pairwise_sum_adds_in_numpys_order(n):
    from autoscale.policies.compiled import pairwise_sum_into

    rows = np.random.default_rng(n).lognormal(size=(20, n)) * 1.37
    stack, values = np.zeros((3, 64), dtype=np.int64), np.zeros(64)
    assert [pairwise_sum_into(r, stack, values) for r in rows] == rows.sum(axis=1).tolist()


@pytest.mark.parametrize("cc, target", [(1, None), (0, 2.0), (0, 0.1)])
def test_growing_the_arrays_mid_replay_changes_nothing(cc, target):
    """A burst from zero brings more requests than the first queues hold and asks for more pods than
    the first arrays hold (with a target of 0.1, at its poke already): the loop returns for room and
    resumes, within the second for the poke."""
    from autoscale.trace import Trace

    rng = np.random.default_rng(4)
    burst = np.sort(rng.uniform(200.0, 200.1, 400))
    later = np.sort(rng.uniform(400.0, 401.0, 900))
    arrivals = np.concatenate([burst, later])
    trace = Trace(arrivals, rng.exponential(2.0, arrivals.size))
    cfgs = [KPAConfig(container_concurrency=cc) if target is None else KPAConfig(container_concurrency=cc, target=target)]
    fast = replay(trace, cfgs, policy=KPA(), timeseries=True, max_points=100)
    slow = replay(trace, cfgs, policy=PyKPA(), timeseries=True, max_points=100)
    assert fast.summary["peak_pods"].iloc[0] > 8  # past the first pod arrays
    assert_same(fast, slow)
