"""Model invariants (DESIGN.md) under hypothesis, on the reference's exact logs and on the engine's results.

Deterministic: every test runs with ``derandomize=True`` and a fixed example budget.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autoscale.engine import replay
from autoscale.reference import OUTCOMES, simulate
from strategies import configs, platforms, traces

SETTINGS = dict(derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def sweep_max(starts, ends) -> int:
    """Largest number of half-open intervals [start, end) open at one instant (ends before starts)."""
    if len(starts) == 0:
        return 0
    times = np.concatenate([np.asarray(starts, float), np.asarray(ends, float)])
    deltas = np.concatenate([np.ones(len(starts)), -np.ones(len(ends))])
    order = np.lexsort((deltas, times))  # by time, then -1 before +1
    return int(np.cumsum(deltas[order]).max())


def check_queue_proxy_limits(ref, cc: int, t_end: float) -> None:
    """Invariant 1: with CC > 0 a pod never executes more than CC nor queues more than 10 x CC."""
    r = ref.requests
    for pod, rows in r[r["pod"] >= 0].groupby("pod"):
        started = rows[rows["start"].notna()]
        exec_end = started["end"].fillna(t_end)
        assert sweep_max(started["start"], exec_end) <= cc, f"pod {pod} executes more than {cc}"
        queued = rows[rows["queued"]]
        # a queued request leaves the queue when it starts, or when it times out (504)
        leave = queued["start"].fillna(queued["end"]).fillna(t_end)
        assert sweep_max(queued["admitted"], leave) <= 10 * cc, f"pod {pod} queues more than {10 * cc}"
    # each activator sends a pod at most CC requests at once, counting only its own (throttler.go's pod trackers)
    via = r[r["via_activator"] & (r["pod"] >= 0)]
    for (pod, act), rows in via.groupby(["pod", "activator"]):
        assert sweep_max(rows["admitted"], rows["end"].fillna(t_end)) <= cc, f"activator {act} over CC on pod {pod}"


def check_conservation(summary_row, n_requests: int) -> None:
    """Invariant 2: completed + 503 + 504 + in flight = requests, none negative."""
    s = summary_row
    parts = [s["completed"], s["status_503"], s["status_504"], s["in_flight"]]
    assert min(parts) >= 0
    assert sum(parts) == s["requests"] == n_requests


def check_starts(ref) -> None:
    """Invariant 5: a request starts only on a ready pod, never before it arrives, FIFO per queue."""
    r = ref.requests
    pods = ref.pod_log.set_index("pod")
    started = r[r["start"].notna()]
    assert (started["start"] >= started["arrival"]).all()
    assert (started["admitted"] >= started["arrival"]).all()
    assert (started["start"] >= started["admitted"]).all()
    ready = pods.loc[started["pod"], "ready"].to_numpy()
    gone = pods.loc[started["pod"], "terminated"].to_numpy()
    assert not np.isnan(ready).any() and (ready <= started["start"].to_numpy()).all()
    assert not (gone < started["start"].to_numpy()).any()
    # not queued: started at once
    direct = started[~started["queued"]]
    assert (direct["start"] == direct["admitted"]).all()
    # FIFO within each pod's queue: in admission order, starts never go back in time
    queued = r[r["queued"] & r["start"].notna()].sort_values("seq")
    for _, rows in queued.groupby("pod"):
        assert rows["start"].is_monotonic_increasing
    # FIFO in each activator: the requests it proxied reach pods in arrival order
    proxied = r[r["via_activator"] & r["admitted"].notna()].sort_values(["arrival", "request"])
    for _, rows in proxied.groupby("activator"):
        assert rows["admitted"].is_monotonic_increasing


def check_pods(ref, engine, config) -> None:
    """Invariant 3 (pods never negative), and the reconciler's max-scale bound."""
    c = ref.control
    for col in ("ready", "starting", "draining", "replicas"):
        assert (c[col] >= 0).all(), col
    assert (c["desired"] >= -1).all()
    if config.max_scale > 0:
        assert (c["replicas"] <= config.max_scale).all()
    log = ref.pod_log
    assert (log["ready"].isna() | (log["ready"] >= log["created"])).all()
    assert (log["terminated"].isna() | (log["terminated"] >= log["created"])).all()
    ts = engine.timeseries.values
    for name in ("starting", "ready"):
        assert (ts[name] >= 0).all(), name
    e = engine.summary.iloc[0]
    for col in ("pod_seconds", "idle_pod_seconds", "peak_pods", "pods_created", "mean_pods"):
        assert e[col] >= 0, col
    assert e["idle_pod_seconds"] <= e["pod_seconds"] + 1e-9


@given(trace=traces(), config=configs(), platform=platforms(), seed=st.integers(0, 1000))
@settings(max_examples=300, **SETTINGS)
def test_reference_and_engine_keep_the_data_plane_invariants(trace, config, platform, seed):
    ref = simulate(trace, config, platform=platform, seed=seed)
    engine = replay(trace, config, platform=platform, seed=seed, timeseries=True)
    t_end = ref.result.duration
    n = int(np.sum(np.asarray(trace.arrivals) < t_end))
    assert len(ref.requests) == n
    assert set(ref.requests["outcome"].unique()) <= set(OUTCOMES)

    if config.container_concurrency > 0:
        check_queue_proxy_limits(ref, config.container_concurrency, t_end)
    check_conservation(ref.summary.iloc[0], n)
    check_conservation(engine.summary.iloc[0], n)
    check_pods(ref, engine, config)
    check_starts(ref)


OUTPUTS_FROM = "requests"  # summary columns from here on are outputs, before it configuration keys


def _outputs(summary: pd.DataFrame) -> pd.DataFrame:
    cols = list(summary.columns)
    return summary[cols[cols.index(OUTPUTS_FROM):]].reset_index(drop=True)


@given(trace=traces(max_span=60.0), batch=st.lists(configs(), min_size=2, max_size=4),
       platform=platforms(), seed=st.integers(0, 1000))
@settings(max_examples=40, **SETTINGS)
def test_a_configuration_gives_the_same_summary_in_any_batch(trace, batch, platform, seed):
    together = _outputs(replay(trace, batch, platform=platform, seed=seed).summary)
    for i, config in enumerate(batch):
        alone = _outputs(replay(trace, config, platform=platform, seed=seed).summary)
        # NaN-aware and exact: NaN percentiles (no completed request) must match too
        pd.testing.assert_frame_equal(together.iloc[[i]].reset_index(drop=True), alone, check_exact=True,
                                      check_dtype=False)


@given(trace=traces(max_span=60.0), config=configs(), platform=platforms(), seed=st.integers(0, 1000))
@settings(max_examples=30, **SETTINGS)
def test_the_same_seed_gives_identical_results(trace, config, platform, seed):
    a = replay(trace, config, platform=platform, seed=seed, timeseries=True)
    b = replay(trace, config, platform=platform, seed=seed, timeseries=True)
    pd.testing.assert_frame_equal(a.summary, b.summary, check_exact=True)
    np.testing.assert_array_equal(a.latency_hist, b.latency_hist)
    np.testing.assert_array_equal(a.wait_hist, b.wait_hist)
    for name, values in a.timeseries.values.items():
        np.testing.assert_array_equal(values, b.timeseries.values[name], err_msg=name)

    x = simulate(trace, config, platform=platform, seed=seed)
    y = simulate(trace, config, platform=platform, seed=seed)
    pd.testing.assert_frame_equal(x.requests, y.requests, check_exact=True)
    pd.testing.assert_frame_equal(x.pod_log, y.pod_log, check_exact=True)
    pd.testing.assert_frame_equal(x.control, y.control, check_exact=True)
    pd.testing.assert_frame_equal(x.summary, y.summary, check_exact=True)
