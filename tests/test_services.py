"""Many services in one batch sharing the activator pool, and asynchronous invocation with retries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from autoscale import ColdStart, ConfigError, KPAConfig, Platform, replay
from autoscale.cli import main
from autoscale.invocation import Async
from autoscale.policies import Fixed
from autoscale.services import replay_services
from autoscale.trace import Trace, synthetic

COLD = Platform(cold_start=ColdStart.constant(2.0))


@pytest.fixture(scope="module")
def cluster_trace():
    parts = []
    for k, (rate, d) in enumerate([(4.0, 0.3), (1.0, 1.0), (0.2, 0.5), (8.0, 0.1)]):
        t = synthetic.poisson(rate=rate, duration=240.0, service=synthetic.exponential(d), seed=10 + k)
        parts.append(Trace(arrivals=t.arrivals, durations=t.durations, name=f"fn{k}"))
    return Trace.merge(parts, name="cluster")


# -- many services ---------------------------------------------------------------------------

def test_each_service_runs_as_it_would_alone(cluster_trace):
    """With no limit on the activator pool, a service inside the batch equals the same service alone."""
    cfgs = {"fn0": KPAConfig(container_concurrency=1), "fn1": KPAConfig(target_burst_capacity=0),
            "fn2": KPAConfig(container_concurrency=2), "fn3": KPAConfig()}
    run = replay_services(cluster_trace, cfgs, duration=300, seed=5)
    table = run.summary.set_index("service")
    assert list(table.index) == ["fn0", "fn1", "fn2", "fn3"]
    for name, cfg in cfgs.items():
        alone = replay(cluster_trace.select(function=name), cfg, duration=300, seed=5).summary.iloc[0]
        row = table.loc[name]
        for col in ("requests", "completed", "status_503", "cold_start_delayed", "pod_seconds", "idle_pod_seconds",
                    "latency_p50_s", "latency_p99_s", "scale_events", "peak_pods", "activator_fraction"):
            assert row[col] == pytest.approx(alone[col]), (name, col)


def test_cluster_totals_add_up(cluster_trace):
    run = replay_services(cluster_trace, KPAConfig(container_concurrency=1), duration=300, timeseries=True)
    s, c = run.summary, run.cluster.iloc[0]
    assert c["services"] == 4 and c["requests"] == len(cluster_trace)
    assert c["pod_seconds"] == pytest.approx(s["pod_seconds"].sum())
    pods = run.pods_over_time()
    assert c["peak_pods"] == pods.max() <= s["peak_pods"].sum()
    assert c["mean_pods"] == pytest.approx(s["pod_seconds"].sum() / 300)
    # each service's time series shows its own demand
    demand = run.result.timeseries.values["demand"]
    assert demand[3].mean() > demand[2].mean()
    fig, axes = run.plot()  # small multiples, three a row
    assert [ax.get_title().split("\n")[0] for ax in axes[::2].flat if ax.get_visible()] == ["fn0", "fn1", "fn2",
                                                                                             "fn3"]


def test_a_small_activator_pool_is_shared_and_rejects_beyond_it(cluster_trace):
    cfg = KPAConfig(container_concurrency=1, target_burst_capacity=-1)  # every request through the activator
    free = replay_services(cluster_trace, cfg, duration=300, activator_pool=10**6).summary
    tight = replay_services(cluster_trace, cfg, duration=300, activator_pool=4).summary
    assert (free["activator_rejected"] == 0).all()
    assert tight["activator_rejected"].sum() > 0
    assert (tight["status_503"] >= tight["activator_rejected"]).all()
    for s in (free, tight):
        assert (s["completed"] + s["status_503"] + s["status_504"] + s["in_flight"] == s["requests"]).all()


def test_services_from_a_mapping_and_bad_input(cluster_trace):
    a = cluster_trace.select(function="fn0")
    run = replay_services({"x": a}, KPAConfig(), duration=60)
    assert list(run.summary["service"]) == ["x"]
    with pytest.raises(ConfigError, match="no function 'nope'"):
        replay_services(cluster_trace, functions=["nope"])
    with pytest.raises(ConfigError, match="no configuration for fn1"):
        replay_services(cluster_trace, {"fn0": KPAConfig()}, functions=["fn0", "fn1"])
    with pytest.raises(ConfigError, match="activator pool"):
        replay_services(cluster_trace, activator_pool=0)


def test_cli_per_function(cluster_trace, tmp_path, capsys):
    path = cluster_trace.to_csv(tmp_path / "cluster.csv")
    out = tmp_path / "services.csv"
    assert main(["run", "--trace", str(path), "--per-function", "--duration", "120", "--activator-pool", "50",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "4 services" in printed and "sum_of_service_peaks" in printed
    table = pd.read_csv(out)
    assert list(table["service"]) == ["fn0", "fn1", "fn2", "fn3"]
    cluster = pd.read_csv(tmp_path / "services-cluster.csv")
    assert cluster["requests"].iloc[0] == table["requests"].sum()


# -- asynchronous invocation -------------------------------------------------------------

def _conserved(s):
    assert (s["async_completed"] + s["dead_lettered"] + s["async_pending"] == s["async_requests"]).all()
    # every attempt dispatched reached the service once: the originals plus the retries, less
    # those still waiting in the dispatcher's queue or for their retry
    assert (s["requests"] + s["async_waiting"] == s["async_requests"] + s["retries"]).all()
    assert (s["async_waiting"] <= s["async_pending"]).all()


def test_async_conserves_every_request():
    trace = synthetic.poisson(rate=10.0, duration=120.0, service=synthetic.exponential(0.5), seed=2)
    configs = [KPAConfig(container_concurrency=1), KPAConfig(container_concurrency=1, max_scale=1, timeout_seconds=5)]
    for inv in (Async(), Async(concurrency=3), Async(rate=4.0, retries=2), Async(retries=0)):
        s = replay(trace, configs, invocation=inv).summary
        _conserved(s)
        assert (s["async_requests"] == len(trace)).all()
    # The overloaded configuration fails some attempts, retries them, and dead-letters what is left.
    s = replay(trace, configs, invocation=Async(retries=2, backoff_delay=1.0)).summary.iloc[1]
    assert s["retries"] > 0 and s["dead_lettered"] > 0
    assert s["retries"] <= 2 * len(trace)


def test_retries_follow_the_backoff_then_dead_letter():
    """Every attempt times out: each request is tried 1 + retries times, then dead-lettered."""
    trace = Trace(arrivals=np.array([1.0, 2.0]), durations=np.array([50.0, 50.0]), name="slow")
    cfg = KPAConfig(container_concurrency=1, timeout_seconds=5)
    s = replay(trace, cfg, policy=Fixed(replicas=2), platform=COLD, duration=400,
               invocation=Async(retries=3, backoff_delay=1.0)).summary.iloc[0]
    assert s["dead_lettered"] == 2 and s["async_completed"] == 0
    assert s["retries"] == 6 and s["requests"] == 8 and s["status_504"] == 8
    _conserved(pd.DataFrame([s]))
    # Exponential backoff 2, 4, 8 s after each 5 s timeout: the last attempt ends at
    # 1 + 5 + (2 + 5) + (4 + 5) + (8 + 5) = 35 s, well inside the replay, and nothing is pending.
    assert s["async_pending"] == 0


def test_dispatcher_concurrency_limits_in_flight_invocations():
    """Twenty requests at once, one in flight at a time: each waits for the ones before it."""
    trace = Trace(arrivals=np.full(20, 5.0), durations=np.full(20, 1.0), name="burst")
    cfg = KPAConfig(container_concurrency=10)
    s = replay(trace, cfg, policy=Fixed(replicas=1), platform=COLD, invocation=Async(concurrency=1)).summary.iloc[0]
    assert s["async_completed"] == 20
    assert s["completion_max_s"] == pytest.approx(20.0, rel=1e-9)  # served one after another, the pod ready at 2 s
    assert s["latency_max_s"] == pytest.approx(1.0)  # the service never queues: one invocation at a time
    unlimited = replay(trace, cfg, policy=Fixed(replicas=1), platform=COLD, invocation=Async()).summary.iloc[0]
    assert unlimited["completion_max_s"] == pytest.approx(2.0)  # ten at a time on the pod (CC 10), ten queued


def test_async_shaves_the_peak_against_sync():
    trace = synthetic.spike(base_rate=1.0, spike_rate=40.0, at=60.0, length=10.0, duration=180.0,
                            service=synthetic.constant(1.0), seed=4)
    cfg = KPAConfig(container_concurrency=1)
    sync = replay(trace, cfg).summary.iloc[0]
    queued = replay(trace, cfg, invocation=Async(concurrency=5)).summary.iloc[0]
    assert queued["peak_pods"] < sync["peak_pods"]
    assert queued["completion_p99_s"] > sync["latency_p99_s"]


def test_async_settings_are_validated():
    with pytest.raises(ConfigError, match="concurrency"):
        Async(concurrency=-1)
    with pytest.raises(ConfigError, match="backoff_policy"):
        Async(backoff_policy="random")
    with pytest.raises(ConfigError, match="rate"):
        Async(rate=0)


def test_cli_async_and_compare_sync_against_async(tmp_path, capsys):
    trace = synthetic.poisson(rate=5.0, duration=60.0, service=synthetic.constant(0.4), seed=8)
    path = trace.to_csv(tmp_path / "t.csv")
    assert main(["run", "--trace", str(path), "--async", "--async-concurrency", "2", "--retries", "1"]) == 0
    assert "dead_lettered" in capsys.readouterr().out
    out = tmp_path / "cmp.csv"
    assert main(["compare", "--trace", str(path), "--policies", "kpa,keepalive", "--invocations", "sync,async",
                 "--async-concurrency", "3", "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(table["policy"]) == ["kpa", "keepalive", "kpa (async)", "keepalive (async)"]
    assert table["async_completed"].isna().sum() == 2
    assert main(["compare", "--trace", str(path), "--policies", "kpa", "--invocations", "later"]) == 2


# -- revisions behind a route ----------------------------------------------------------------

def test_route_splits_tags_and_rollout_replay_every_revision():
    """80/20 with a tagged canary, then a rollout to v2: every request is served once, revisions scale apart."""
    from autoscale.traffic import Rollout, Route, TrafficTarget, assign
    from autoscale.services import replay_route

    trace = synthetic.poisson(rate=20.0, duration=600.0, service=synthetic.exponential(0.3), seed=6)
    tags = np.where(np.arange(len(trace)) % 50 == 0, "canary", None).astype(object)
    route = Route([TrafficTarget("v1", 80), TrafficTarget("v2", 20, tag="canary")],
                  rollout=Rollout(to="v2", start=300.0, duration=120.0))
    revisions = {"v1": KPAConfig(container_concurrency=2), "v2": KPAConfig(container_concurrency=1)}
    run = replay_route(trace, revisions, route, tags=tags, seed=3, timeseries=True)
    s = run.summary.set_index("revision")
    # Nothing lost: the revisions' requests add up to the trace, each ends in one outcome.
    assert s["requests"].sum() == len(trace) == run.cluster["requests"].iloc[0]
    assert (s["completed"] + s["status_503"] + s["status_504"] + s["in_flight"] == s["requests"]).all()
    # Tags route exactly; untagged requests follow the split in effect at their arrival.
    index = run.assignment
    assert (index[tags == "canary"] == 1).all()
    early = (trace.arrivals < 300.0) & (tags != "canary")
    share = (index[early] == 1).mean()
    n = early.sum()
    assert abs(share - 0.2) < 4 * np.sqrt(0.2 * 0.8 / n)
    late = (trace.arrivals >= 420.0) & (tags != "canary")
    assert (index[late] == 1).all()
    again, _ = assign(route, trace.arrivals, seed=3, tags=tags)
    np.testing.assert_array_equal(index, again)
    # Each revision has its own autoscaler: v2 (CC 1) ends with more pods than v1 once it has all the traffic.
    ready = run.result.timeseries.values["ready"]
    t = run.result.timeseries.time
    assert ready[1][(t > 450) & (t < 590)].mean() > ready[0][(t > 450) & (t < 590)].mean()
    # ... and each equals that revision replayed alone on its own requests.
    for k, name in enumerate(run.names):
        own = Trace(arrivals=trace.arrivals[index == k], durations=trace.durations[index == k], name=name)
        alone = replay(own, revisions[name], seed=3, duration=run.result.duration).summary.iloc[0]
        assert alone["pod_seconds"] == pytest.approx(s.loc[name, "pod_seconds"])
    fig, axes = run.plot()
    assert [ax.get_title() for ax in axes[0]] == ["v1", "v2"]


def test_cli_route_file(tmp_path, capsys):
    trace = synthetic.poisson(rate=5.0, duration=200.0, service=synthetic.constant(0.2), seed=7)
    path = trace.to_csv(tmp_path / "t.csv")
    route = tmp_path / "route.yaml"
    route.write_text(
        "revisions:\n  v1: {container-concurrency: 10}\n  v2: {container-concurrency: 1}\n"
        "traffic:\n  - {revisionName: v1, percent: 90}\n  - {revisionName: v2, percent: 10}\n"
        "schedule:\n  - at: 100s\n    traffic:\n      - {revisionName: v1, percent: 50}\n"
        "      - {revisionName: v2, percent: 50}\n")
    out = tmp_path / "rev.csv"
    assert main(["run", "--trace", str(path), "--route", str(route), "--out", str(out)]) == 0
    assert "2 revisions" in capsys.readouterr().out
    table = pd.read_csv(out)
    assert list(table["revision"]) == ["v1", "v2"] and table["requests"].sum() == len(trace)
    assert pd.read_csv(tmp_path / "rev-service.csv")["requests"].iloc[0] == len(trace)
    route.write_text("revisions:\n  v1: {}\ntraffic:\n  - {revisionName: v1, percent: 99}\n")
    assert main(["run", "--trace", str(path), "--route", str(route)]) == 2
    assert "100" in capsys.readouterr().err


def test_async_attempt_table_holds_the_attempts_in_flight_not_every_attempt():
    """Ten minutes at 5 req/s through a dispatcher of three: the table of attempts stays as
    small as the attempts queued or in flight at once, while the run makes 3,000 of them."""
    trace = synthetic.poisson(rate=5.0, duration=600.0, service=synthetic.constant(0.1), seed=5)
    cfg = KPAConfig(container_concurrency=10)
    alone = replay(trace, cfg, policy=Fixed(replicas=2), platform=COLD, invocation=Async(concurrency=3))
    s = alone.summary.iloc[0]
    assert s["async_completed"] == len(trace) and s["requests"] == len(trace)
    # At a feed, at most: three in flight, the second's arrivals, and what queued while
    # the pods started (the first 2 s).
    per_second = np.bincount(trace.arrivals.astype(int))
    bound = 3 + int(per_second.max()) + int(per_second[:3].sum())
    assert alone.invocation.attempt_slots <= bound < len(trace) // 20
    # Ids reused across the configurations of a batch change no result.
    configs = [cfg, KPAConfig(container_concurrency=1, timeout_seconds=2), cfg]
    batch = replay(trace, configs, policy=Fixed(replicas=2), platform=COLD,
                   invocation=Async(concurrency=3, retries=2)).summary
    for k, c in enumerate(configs):
        one = replay(trace, c, policy=Fixed(replicas=2), platform=COLD,
                     invocation=Async(concurrency=3, retries=2)).summary.iloc[0]
        columns = one.index.drop("config")
        pd.testing.assert_series_equal(batch.iloc[k][columns], one[columns], check_names=False)
