"""Scaling policies: one conformance check for every registered policy, then each policy's own rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoscale import ColdStart, ConfigError, KPAConfig, Platform, replay
from autoscale.policies import (
    HPA, REGISTRY, Fixed, Forecast, Hybrid, KeepAlive, Oracle, Policy, Signals, as_policy, get, names, register,
)
from autoscale.policies.forecast import _HoltState
from autoscale.policies.oracle import peak_concurrency_per_second
from autoscale.reference import simulate
from autoscale.trace import Trace, synthetic

CONSTANT_START = Platform(cold_start=ColdStart.constant(2.0))


def _trace(rate=3.0, duration=300.0, seed=4, service=0.4):
    return synthetic.poisson(rate=rate, duration=duration, service=synthetic.exponential(service), seed=seed)


def _pods_decided(policy, configs, trace, seed=0):
    """Every decision the policy makes during a replay, recorded by a wrapper."""
    seen = []

    class Recorder(Policy):
        name = policy.name
        period = policy.period
        history = policy.history
        routing = policy.routing
        on_demand = policy.on_demand
        wakes = policy.wakes

        def start(self, ctx):
            return policy.start(ctx)

        def decide(self, state, signals):
            out = policy.decide(state, signals)
            seen.append(np.array(getattr(out, "desired", out), copy=True))
            return out

        def keep_alive(self, state):
            return policy.keep_alive(state)

    result = replay(trace, configs, policy=Recorder(), seed=seed)
    return result, seen


# -- conformance: every registered policy -------------------------------------------------

@pytest.mark.parametrize("name", names())
def test_conformance(name):
    """Shapes, whole non-negative pods, conservation, determinism, and batch = alone, for every policy."""
    trace = _trace()
    configs = [KPAConfig(container_concurrency=1), KPAConfig(container_concurrency=5, target_burst_capacity=0)]
    result, decisions = _pods_decided(get(name), configs, trace, seed=7)
    assert decisions, "the policy never decided"
    for d in decisions:
        assert d.shape == (2,)
        assert np.issubdtype(d.dtype, np.integer) or np.all(d == np.round(d))
        if name != "kpa":  # the KPA publishes -1 while it has no metrics yet
            assert (d >= 0).all()
    s = result.summary
    assert (s["policy"] == name).all()
    assert (s["completed"] + s["status_503"] + s["status_504"] + s["in_flight"] == len(trace)).all()
    assert (s["pod_seconds"] >= 0).all() and (s["peak_pods"] >= 0).all()
    again = replay(trace, configs, policy=name, seed=7).summary
    pd.testing.assert_frame_equal(s, again)
    for i, cfg in enumerate(configs):
        alone = replay(trace, cfg, policy=name, seed=7).summary
        row = s.iloc[[i]].drop(columns=["config"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(row[alone.columns.drop("config")], alone.drop(columns=["config"]),
                                      check_dtype=False)


@pytest.mark.parametrize("name", [n for n in names() if n != "forecast"])
def test_engine_agrees_with_the_reference(name):
    """The event-level reference runs every policy too, and agrees with the engine on a calm trace.

    (The forecaster scales to zero and is woken by pokes, whose timing the engine
    approximates: see docs/model.md.)
    """
    trace = _trace(duration=400.0)
    cols = ["completed", "status_503", "status_504", "cold_start_delayed", "pods_created", "pod_seconds",
            "idle_pod_seconds", "scale_events"]
    for cfg in (KPAConfig(container_concurrency=1), KPAConfig(container_concurrency=4)):
        fast = replay(trace, cfg, policy=name, seed=3).summary[cols].iloc[0]
        slow = simulate(trace, cfg, policy=name, seed=3).result.summary[cols].iloc[0]
        np.testing.assert_allclose(fast.to_numpy(float), slow.to_numpy(float), rtol=1e-9, atol=1e-9)


def test_registry_and_errors():
    assert names()[:7] == ["kpa", "hpa", "fixed", "keepalive", "hybrid", "forecast", "oracle"]
    with pytest.raises(ConfigError, match="did you mean 'hpa'"):
        get("hpx")
    with pytest.raises(ConfigError, match="unknown parameter replica .*parameters: replicas"):
        get("fixed", replica=3)
    with pytest.raises(ConfigError, match="replicas = -1"):
        Fixed(replicas=-1)
    with pytest.raises(ConfigError, match="metric"):
        HPA(metric="memory")
    with pytest.raises(ConfigError, match="keep_alive"):
        KeepAlive(keep_alive=-5)
    with pytest.raises(ConfigError, match="alpha"):
        Forecast(alpha=0)
    with pytest.raises(ConfigError, match="lead_quantile"):
        Oracle(lead_quantile=1.0)
    with pytest.raises(ConfigError, match="margin"):
        Hybrid(margin=1.5)


def test_a_policy_deciding_negative_pods_is_refused():
    with pytest.raises(ValueError, match="whole numbers >= 0"):
        replay(_trace(duration=30.0), KPAConfig(), policy=lambda s: -np.ones(s.mask.shape))


def test_plain_function_and_registration():
    """A function of the signals is a policy; registered, it runs by name in engine and reference."""
    def per_two(signals):
        return np.ceil(signals.system_concurrency / 2).astype(int) + 1

    trace = _trace(duration=120.0)
    direct = replay(trace, KPAConfig(container_concurrency=2), policy=per_two)
    assert direct.policy == "per_two"
    register("per-two", lambda: as_policy(per_two, name="per-two"))
    try:
        named = replay(trace, KPAConfig(container_concurrency=2), policy="per-two")
        ref = simulate(trace, KPAConfig(container_concurrency=2), policy="per-two").result
    finally:
        del REGISTRY["per-two"]
    assert named.summary["pod_seconds"].iloc[0] == direct.summary["pod_seconds"].iloc[0]
    assert ref.summary["pod_seconds"].iloc[0] == pytest.approx(direct.summary["pod_seconds"].iloc[0])
    assert direct.summary["peak_pods"].iloc[0] >= 2


def test_signal_history_is_bounded_by_the_policy():
    class Greedy(Policy):
        name, history = "greedy", 3

        def decide(self, state, signals):
            signals.recent("arrivals", 4)

    with pytest.raises(ValueError, match="4 s of history asked, the policy keeps 3 s"):
        replay(_trace(duration=10.0), KPAConfig(), policy=Greedy())


# -- fixed ---------------------------------------------------------------------------------

def test_fixed_keeps_its_pods_for_the_whole_replay():
    trace = _trace(duration=200.0)
    r = replay(trace, KPAConfig(container_concurrency=10), policy=Fixed(replicas=3), platform=CONSTANT_START)
    s = r.summary.iloc[0]
    assert s["pods_created"] == 3 and s["peak_pods"] == 3
    assert s["pod_seconds"] == pytest.approx(3 * r.duration)


# -- keep-alive ----------------------------------------------------------------------------

def _two_requests(gap):
    return Trace(arrivals=np.array([10.0, 10.0 + gap]), durations=np.array([1.0, 1.0]), name="two")


@pytest.mark.parametrize("gap,cold,pods", [(30.0, 1, 1), (200.0, 2, 2)])
def test_keepalive_reuses_an_instance_inside_the_keep_alive_only(gap, cold, pods):
    """One instance per request; idle for longer than keep_alive, it is gone and the next request starts cold."""
    trace = _two_requests(gap)
    cfg = KPAConfig(container_concurrency=1)
    for run in (replay(trace, cfg, policy=KeepAlive(keep_alive=100), platform=CONSTANT_START, duration=600),
                simulate(trace, cfg, policy=KeepAlive(keep_alive=100), platform=CONSTANT_START, duration=600).result):
        s = run.summary.iloc[0]
        assert s["cold_start_delayed"] == cold
        assert s["pods_created"] == pods
        # Each instance lives from creation to 100 s after its last request ended (cold start 2 s).
        if pods == 1:
            expected = (10.0 + gap + 1.0 + 100.0) - 10.0
        else:
            expected = 2 * (2.0 + 1.0 + 100.0)
        assert s["pod_seconds"] == pytest.approx(expected)
        assert s["latency_max_s"] == pytest.approx(3.0)  # cold start + duration


def test_keepalive_starts_one_instance_per_concurrent_request():
    trace = Trace(arrivals=np.array([5.0, 5.1, 5.2, 5.3]), durations=np.full(4, 10.0), name="burst")
    s = replay(trace, KPAConfig(container_concurrency=1), policy="keepalive", platform=CONSTANT_START).summary.iloc[0]
    assert s["pods_created"] == 4 and s["cold_start_delayed"] == 4 and s["peak_pods"] == 4


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), keep_alive=st.sampled_from([0.25, 1.0, 3.0, 7.5, 40.0]),
       cc=st.sampled_from([1, 3]), cold=st.sampled_from([0.01, 0.5, 2.0]), rate=st.sampled_from([0.3, 1.0, 4.0]))
def test_keepalive_retirement_agrees_with_the_reference_pod_for_pod(seed, keep_alive, cc, cold, rate):
    """Instances retire at the exact end of their keep-alive, in both simulators: every pod-second, cold start
    and latency the same, on traces whose gaps straddle the keep-alive."""
    rng = np.random.default_rng(seed)
    arrivals = np.sort(rng.uniform(0.0, 240.0, rng.poisson(rate * 240.0)))
    trace = Trace(arrivals=arrivals, durations=rng.exponential(1.0, arrivals.size), name="keepalive")
    cfg = KPAConfig(container_concurrency=cc)
    platform = Platform(cold_start=ColdStart.constant(cold))
    policy = KeepAlive(keep_alive=keep_alive)
    ours = replay(trace, cfg, policy=policy, platform=platform, duration=300)
    ref = simulate(trace, cfg, policy=policy, platform=platform, duration=300).result
    e, r = ours.summary.iloc[0], ref.summary.iloc[0]
    for col in ("completed", "cold_start_delayed", "pods_created"):
        assert e[col] == r[col], col
    for col in ("pod_seconds", "idle_pod_seconds", "latency_max_s"):
        assert e[col] == pytest.approx(r[col], rel=1e-9, abs=1e-9), col
    np.testing.assert_array_equal(ours.latency_hist, ref.latency_hist)


@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize("cc", [1, 3])
def test_instances_started_together_are_chosen_as_the_reference_chooses(seed, cc):
    """Arrivals on a 0.1 s grid start several instances at the same instant: among the newest with room,
    both simulators send a request to the same one (the first in slot order), pod-second for pod-second."""
    rng = np.random.default_rng(seed)
    arrivals = np.sort(np.round(rng.uniform(0.0, 300.0, rng.poisson(8.0 * 300.0)), 1))
    trace = Trace(arrivals=arrivals, durations=np.round(rng.exponential(1.5, arrivals.size), 2) + 0.01, name="ties")
    cfg = KPAConfig(container_concurrency=cc)
    platform = Platform(cold_start=ColdStart.constant(0.5))
    policy = KeepAlive(keep_alive=5.0)
    ours = replay(trace, cfg, policy=policy, platform=platform, duration=320)
    ref = simulate(trace, cfg, policy=policy, platform=platform, duration=320).result
    e, r = ours.summary.iloc[0], ref.summary.iloc[0]
    for col in ("completed", "cold_start_delayed", "pods_created"):
        assert e[col] == r[col], col
    for col in ("pod_seconds", "idle_pod_seconds"):
        assert e[col] == pytest.approx(r[col], rel=1e-12), col
    np.testing.assert_array_equal(ours.latency_hist, ref.latency_hist)


@pytest.mark.parametrize("keep_alive", [0.5, 3.0])
def test_an_instance_ready_with_nothing_to_do_retires_a_keep_alive_after_it_became_ready(keep_alive):
    """The request that started it timed out (1 s) while it started (2 s): ready at 12 s and idle, it goes at
    12 s + keep-alive, whatever the last retirement check before it saw."""
    trace = Trace(arrivals=np.array([10.0]), durations=np.array([1.0]), name="one")
    cfg = KPAConfig(container_concurrency=1, timeout_seconds=1)
    s = replay(trace, cfg, policy=KeepAlive(keep_alive=keep_alive), platform=CONSTANT_START, duration=60).summary
    s = s.iloc[0]
    assert s["status_504"] == 1 and s["pods_created"] == 1
    assert s["pod_seconds"] == pytest.approx(2.0 + keep_alive)


# -- HPA -----------------------------------------------------------------------------------

def _signals(ready, pod_concurrency, now=15.0, starting=0, window=15):
    b = len(ready)
    z = np.zeros(b)
    hist = np.repeat(np.asarray(pod_concurrency, dtype=float)[:, None], window, axis=1)
    return Signals(now=now, mask=np.ones(b, bool), ready=np.asarray(ready), starting=np.full(b, starting),
                   draining=np.zeros(b, int), in_system=z, stable=z, panic=z, valid=np.ones(b, bool), concurrency=z,
                   rps=z, pod_concurrency=hist[:, -1], system_concurrency=z, busy=z, arrivals=z,
                   _history={"pod_concurrency": hist, "busy": hist})


class _Ctx:
    def __init__(self, b, target=10.0, cc=0):
        class Spec:
            pass
        self.batch = b
        self.spec = Spec()
        self.spec.target = np.full(b, target)
        self.spec.container_concurrency = np.full(b, cc)


def test_hpa_ratio_rule_tolerance_and_rate_limit():
    hpa = HPA(target=10.0)
    state = hpa.start(_Ctx(4))
    state.replicas = np.array([4, 4, 4, 1])
    # total concurrency over 4 ready pods: 43 (ratio 1.075, inside tolerance), 60, 20; 1 pod at 100
    out = hpa.decide(state, _signals(np.array([4, 4, 4, 1]), [43.0, 60.0, 20.0, 100.0]))
    # 60 -> ceil(1.5 * 4) = 6; 20 -> 2 (no earlier recommendation in the stabilisation window);
    # 100 on 1 pod -> ratio 10 -> 10 wanted, limited to max(2 x 1, 1 + 4) = 5
    assert out.tolist() == [4, 6, 2, 5]
    # Starting pods count as idle on a scale-up: 60 over 4 ready + 2 starting is ratio 1.0, so no change.
    state.replicas = np.array([6, 6, 6, 6])
    out = hpa.decide(state, _signals(np.array([4, 4, 4, 4]), [60.0, 60.0, 60.0, 60.0], now=30.0, starting=2))
    assert out.tolist() == [6, 6, 6, 6]


def test_hpa_scale_down_waits_for_the_stabilisation_window():
    """Load for 8 pods at t = 15 s, then for 2: the scale stays at 8 until that recommendation is 300 s old."""
    hpa = HPA(target=10.0, scale_down_stabilisation=300)
    state = hpa.start(_Ctx(1))
    state.replicas = np.array([8])
    seen = {}
    for k in range(1, 26):
        t = 15.0 * k
        load = 80.0 if k == 1 else 20.0
        seen[t] = int(hpa.decide(state, _signals(np.array([int(state.replicas[0])]), [load], now=t))[0])
    assert all(v == 8 for t, v in seen.items() if t < 315.0)
    assert seen[315.0] == 2 and seen[375.0] == 2


def test_hpa_never_goes_below_one_replica():
    trace = Trace(arrivals=np.array([1.0]), durations=np.array([0.5]), name="one")
    r = replay(trace, KPAConfig(), policy="hpa", duration=900, timeseries=True)
    assert r.timeseries.values["ready"][0][-10:].min() >= 1
    assert r.summary["pod_seconds"].iloc[0] >= 890


def test_hpa_cpu_metric_reads_busy_time():
    hpa = HPA(metric="cpu", target_utilisation=0.5)
    state = hpa.start(_Ctx(1, cc=4))
    state.replicas = np.array([2])
    sig = _signals(np.array([2]), [6.0])  # 6 executing on 2 pods of 4 slots: 75 % against 50 %
    assert hpa.decide(state, sig).tolist() == [3]


# -- hybrid histogram ------------------------------------------------------------------------

def test_hybrid_windows_from_the_histogram():
    h = Hybrid()
    counts = np.zeros((3, h.bins))
    counts[0, 10] = 50  # every idle time in the 10-minute bin: concentrated, representative
    counts[1, :] = 1  # flat: coefficient of variation 0, not representative
    counts[2, 5] = 3  # too few samples
    prewarm, keep, mode = h.windows(counts, np.zeros(3), np.zeros(3))
    assert mode.tolist() == [1, 0, 0]
    assert prewarm[0] == pytest.approx(10 * 60 * 0.9)
    assert keep[0] == pytest.approx(11 * 60 * 1.1 - 10 * 60 * 0.9)
    assert prewarm[1] == 0 and keep[1] == 4 * 3600
    # Mostly out of bounds: pre-warm at 85 % of their mean, keep 30 % of it.
    prewarm, keep, mode = h.windows(np.zeros((1, h.bins)), np.array([20.0]), np.array([6 * 3600.0]))
    assert mode.tolist() == [2]
    assert prewarm[0] == pytest.approx(0.85 * 6 * 3600) and keep[0] == pytest.approx(0.30 * 6 * 3600)


def test_hybrid_prewarms_a_periodic_function():
    """A request every 10 minutes: after learning, the instance is unloaded and pre-warmed just before each one."""
    arrivals = np.arange(60.0, 60.0 + 600.0 * 40, 600.0)
    trace = Trace(arrivals=arrivals, durations=np.full(arrivals.size, 1.0), name="periodic")
    cfg = KPAConfig(container_concurrency=1)
    hybrid = replay(trace, cfg, policy=Hybrid(min_samples=5), platform=CONSTANT_START).summary.iloc[0]
    keep = replay(trace, cfg, policy=KeepAlive(keep_alive=1200), platform=CONSTANT_START).summary.iloc[0]
    fixed_short = replay(trace, cfg, policy=KeepAlive(keep_alive=60), platform=CONSTANT_START).summary.iloc[0]
    assert fixed_short["cold_start_delayed"] == arrivals.size
    assert hybrid["cold_start_delayed"] <= 7  # the learning period only
    assert hybrid["pod_seconds"] < 0.5 * keep["pod_seconds"]


# -- forecaster ------------------------------------------------------------------------------

def test_forecast_extrapolates_a_ramp():
    """Holt's trend on a ramp of one request per second: the forecast runs the horizon ahead."""
    f = Forecast(alpha=0.8, beta=0.8, period=1, horizon=5.0, target=1.0)
    state = _HoltState(level=np.zeros(1), trend=np.zeros(1), started=False, horizon=5.0, target=np.ones(1))
    base = _signals(np.array([1]), [0.0])
    fields = {name: getattr(base, name) for name in base.__dataclass_fields__ if name != "_history"}
    for k in range(1, 40):
        sig = Signals(**{**fields, "system_concurrency": np.array([float(k)]),
                         "_history": {"system_concurrency": np.array([[float(k)]])}})
        out = f.decide(state, sig)
    assert out[0] == pytest.approx(39 + 5, abs=1)


# -- oracle ----------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 20), st.floats(0.001, 5)), min_size=1, max_size=30))
def test_peak_concurrency_matches_a_naive_scan(reqs):
    a = np.array([r[0] for r in reqs])
    d = np.array([r[1] for r in reqs])
    seconds = 27
    fast = peak_concurrency_per_second(a, d, seconds)
    # Naive: the level just after each event, and at each second's start.
    naive = np.zeros(seconds, dtype=int)
    instants = sorted(set(a.tolist()) | set((a + d).tolist()) | set(range(seconds)))
    for t in instants:
        if 0 <= t < seconds:
            level = int(np.sum((a <= t) & (a + d > t)))
            k = int(np.floor(t))
            naive[k] = max(naive[k], level)
    np.testing.assert_array_equal(fast, naive)


def test_oracle_has_pods_ready_just_in_time():
    """With a constant cold start and no request before the lead time, no request waits for a pod."""
    base = _trace(rate=4.0, duration=600.0, seed=9)
    trace = Trace(arrivals=base.arrivals + 10.0, durations=base.durations, name="late")
    cfg = KPAConfig(container_concurrency=2)
    s = replay(trace, cfg, policy="oracle", platform=CONSTANT_START).summary.iloc[0]
    assert s["cold_start_delayed"] == 0 and s["status_503"] == 0
    assert s["wait_max_s"] == 0.0
    # ... and just enough: never more pods than the next lead time (2 s, plus 2) needs at its peak.
    r = replay(trace, cfg, policy="oracle", platform=CONSTANT_START, timeseries=True, max_points=10**6)
    seconds = int(r.duration)
    need = np.ceil(peak_concurrency_per_second(trace.arrivals, trace.durations, seconds + 5) / 2)
    window = np.array([need[t: t + 4].max() for t in range(seconds)])  # decided at t, applied during t
    live = r.timeseries.values["ready"][0] + r.timeseries.values["starting"][0]
    assert (live <= window).all()
    assert s["pod_seconds"] < Fixed(replicas=int(need.max())).replicas * r.duration


def test_peak_concurrency_counts_an_instant_after_all_its_events():
    # Both requests end exactly at 1.0 (0.999 + 0.001 rounds to 1.0): nothing is in service then.
    a = np.array([0.999, 0.999])
    d = np.array([0.001, 0.001])
    assert peak_concurrency_per_second(a, d, 3).tolist() == [2, 0, 0]
