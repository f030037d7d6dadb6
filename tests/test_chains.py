"""Chains of functions (autoscale.chains): the fixed point of synchronous calls, destinations, chain files.

The fixed point is checked against a plain event simulation of the whole chain written
here (every service a fixed pool of single-slot pods behind the activator, which is a
FIFO multi-server queue): the slow, obvious twin of the sweeps over whole replays.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autoscale import ColdStart, ConfigError, KPAConfig, Platform, replay
from autoscale.chains import (
    MAX_ITERATIONS, Call, Chain, ChainConvergenceError, Destination, Service, load_chain, replay_chain,
)
from autoscale.cli import main
from autoscale.trace import synthetic

from strategies import fixed_pool_chains, make_trace

INSTANT = Platform(cold_start=ColdStart.constant(0.0))


def cold(seconds):
    return Platform(cold_start=ColdStart.constant(seconds))


def fixed_pool(pods):
    """``pods`` pods from time 0, never more or fewer, one request each, the activator always in the path."""
    return KPAConfig(container_concurrency=1, target_burst_capacity=-1, min_scale=pods, max_scale=pods,
                     initial_scale=pods)


def simulate_chain(arrivals, entry_times, entry, pools, own, calls):
    """Every entry request through the chain, one event at a time; returns each one's end time.

    ``pools``: service -> pods; ``own``: service -> its constant service time (the entry's
    are ``entry_times``); ``calls``: caller -> [(callee, at, delay)] in order of ``at``.
    A visit runs its own work up to each call's fraction, waits for the callee's answer
    (``delay`` each way), then goes on; it holds its pod throughout. Pods serve in
    arrival order.
    """
    events, seq = [], itertools.count()
    free = dict(pools)
    waiting = {s: deque() for s in pools}

    def push(t, kind, visit):
        heapq.heappush(events, (t, next(seq), kind, visit))

    def advance(v, t):
        steps = calls.get(v["service"], [])
        if v["next"] < len(steps):
            callee, at, delay = steps[v["next"]]
            push(t + (at - v["pos"]) * v["own"], "send", v)
        else:
            push(t + (1.0 - v["pos"]) * v["own"], "finish", v)

    def begin(v, t):
        v["start"] = t
        advance(v, t)

    ends = np.full(len(arrivals), np.nan)
    for j, (a, d) in enumerate(zip(arrivals, entry_times)):
        push(a, "arrive", {"service": entry, "own": d, "pos": 0.0, "next": 0, "parent": None, "entry": j})
    while events:
        t, _, kind, v = heapq.heappop(events)
        s = v["service"]
        if kind == "arrive":
            if free[s] > 0:
                free[s] -= 1
                begin(v, t)
            else:
                waiting[s].append(v)
        elif kind == "send":
            callee, at, delay = calls[s][v["next"]]
            v["pos"], v["next"] = at, v["next"] + 1
            child = {"service": callee, "own": own[callee], "pos": 0.0, "next": 0, "parent": (v, delay),
                     "entry": v["entry"]}
            push(t + delay, "arrive", child)
        elif kind == "resume":
            advance(v, t)
        else:  # finish
            free[s] += 1
            if waiting[s]:
                free[s] -= 1
                begin(waiting[s].popleft(), t)
            if v["parent"] is None:
                ends[v["entry"]] = t
            else:
                parent, delay = v["parent"]
                push(t + delay, "resume", parent)
    return ends


def _trace(n=150, span=60.0, seed=1, median=0.3):
    rng = np.random.default_rng(seed)
    arrivals = np.sort(rng.uniform(1.0, span, n))
    return make_trace(arrivals, median * np.exp(0.5 * rng.standard_normal(n)), name="chain-test")


@pytest.mark.parametrize("seed", [1, 2])
def test_three_function_chain_matches_the_event_simulation(seed):
    trace = _trace(seed=seed)
    pools = {"front": 3, "auth": 2, "db": 2}
    own = {"auth": 0.12, "db": 0.08}
    chain = Chain(services=[Service("front", fixed_pool(3), platform=INSTANT),
                            Service("auth", fixed_pool(2), service_time=own["auth"], platform=INSTANT),
                            Service("db", fixed_pool(2), service_time=own["db"], platform=INSTANT)],
                  entry="front", calls=[Call("front", "auth", at=0.4, delay=0.01), Call("auth", "db", at=0.5)])
    run = replay_chain(chain, trace, seed=seed, duration=120.0)
    expected = simulate_chain(trace.arrivals, trace.durations, "front", pools, own,
                              {"front": [("auth", 0.4, 0.01)], "auth": [("db", 0.5, 0.0)]})
    e2e = run.end_to_end
    assert (e2e["status"] == 200).all()
    np.testing.assert_allclose(e2e["end_s"].to_numpy(), expected, rtol=0, atol=1e-9)
    # The chain made queues somewhere: the end-to-end time is more than the sum of the work.
    work = trace.durations + own["auth"] + own["db"] + 0.02
    assert (e2e["latency_s"].to_numpy() > work + 1e-3).any()
    assert 2 <= run.sweeps < MAX_ITERATIONS


def test_a_dag_with_sequential_calls_matches_the_event_simulation():
    trace = _trace(n=120, seed=4)
    pools = {"a": 2, "b": 1, "c": 2, "d": 1}
    own = {"b": 0.05, "c": 0.1, "d": 0.07}
    services = [Service("a", fixed_pool(2), platform=INSTANT)] + [
        Service(n, fixed_pool(pools[n]), service_time=own[n], platform=INSTANT) for n in ("b", "c", "d")]
    calls = [Call("a", "c", at=0.7, delay=0.002), Call("a", "b", at=0.2), Call("b", "d", at=1.0),
             Call("c", "d", at=0.0, delay=0.001)]
    run = replay_chain(Chain(services=services, entry="a", calls=calls), trace, seed=0, duration=120.0)
    expected = simulate_chain(trace.arrivals, trace.durations, "a", pools, own,
                              {"a": [("b", 0.2, 0.0), ("c", 0.7, 0.002)], "b": [("d", 1.0, 0.0)],
                               "c": [("d", 0.0, 0.001)]})
    np.testing.assert_allclose(run.end_to_end["end_s"].to_numpy(), expected, rtol=0, atol=1e-9)
    # d is reached along two paths: two requests per entry request.
    assert run.summary.set_index("service").loc["d", "requests"] == 2 * len(trace)
    assert set(run.requests("d")["path"]) == {"a > b > d", "a > c > d"}


def test_a_single_service_chain_is_a_plain_replay():
    trace = _trace(n=300, span=200.0, seed=5)
    config = KPAConfig(container_concurrency=2, target_burst_capacity=0)
    run = replay_chain(Chain(services=[Service("only", config)], entry="only"), trace, seed=3, duration=300.0)
    plain = replay(trace, config, seed=3, duration=300.0, record=True)
    row = run.summary.iloc[0]
    assert row["role"] == "entry" and row["failed_downstream"] == 0
    expected = plain.summary.iloc[0]
    for col in plain.summary.columns.drop("config"):
        assert row[col] == expected[col] or (pd.isna(row[col]) and pd.isna(expected[col])), col
    np.testing.assert_array_equal(run.end_to_end["latency_s"].to_numpy(), plain.outcomes.latency[0])
    assert run.sweeps == 2  # one replay, and the sweep that confirms nothing changed


def test_cold_starts_cascade_along_the_chain():
    trace = synthetic.periodic(period=300.0, size=20, duration=600.0, start=5.0, spread=1.0,
                               service=synthetic.constant(0.05), seed=1)
    starts = {"frontend": 1.0, "auth": 3.0, "db": 5.0}
    config = KPAConfig(container_concurrency=10, timeout_seconds=60.0, initial_scale=0, allow_zero_initial_scale=True)
    chain = Chain(services=[Service("frontend", config, platform=cold(1.0)),
                            Service("auth", config, service_time=0.03, platform=cold(3.0)),
                            Service("db", config, service_time=0.02, platform=cold(5.0))],
                  entry="frontend", calls=[Call("frontend", "auth"), Call("auth", "db")])
    run = replay_chain(chain, trace, seed=0)
    lat = run.end_to_end["latency_s"]
    assert lat.notna().all()
    total = sum(starts.values())
    # Every burst finds every service at zero: its first request waits for all three pods in turn.
    first = run.end_to_end.groupby(run.end_to_end["arrival_s"] // 300.0)["latency_s"].first()
    assert (first >= total).all(), first
    assert run.percentiles().loc["end_to_end", "p99"] > total
    # Each service waits for its own cold start and for those of the services behind it.
    for name, behind in (("auth", ("auth", "db")), ("db", ("db",))):
        r = run.requests(name)
        latency = r["end_s"] - r["arrival_s"]
        assert latency.max() >= sum(starts[b] for b in behind), name
    assert (run.requests("db")["end_s"] - run.requests("db")["arrival_s"]).max() < starts["db"] + 2.5  # at most a decider tick (2 s) before the pod is created
    summary = run.summary.set_index("service")
    assert list(summary.index) == ["frontend", "auth", "db"]
    assert (summary["scale_from_zero"] >= 2).all()


def _failing_chain(on_dead=True):
    """front calls a back end that always outlives its revision timeout: every call answers 504."""
    config = KPAConfig(container_concurrency=5, timeout_seconds=2.0)
    services = [Service("front", KPAConfig(container_concurrency=5), platform=INSTANT),
                Service("back", config, service_time=5.0, platform=INSTANT),
                Service("dlq", KPAConfig(), service_time=0.01, platform=INSTANT),
                Service("log", KPAConfig(), service_time=0.01, platform=INSTANT)]
    dests = [Destination("front", "dlq", on="failure", delay=0.5), Destination("front", "log", delay=0.25)]
    return Chain(services=services, entry="front", calls=[Call("front", "back", at=0.5)], destinations=dests)


def test_a_callees_failure_fails_the_caller_and_goes_to_the_dead_letter_destination():
    trace = _trace(n=40, seed=6, median=0.2)
    run = replay_chain(_failing_chain(), trace, seed=0)
    e2e = run.end_to_end
    assert (e2e["status"] == 504).all() and (e2e["failed_at"] == "back").all()
    assert e2e["latency_s"].isna().all()
    summary = run.summary.set_index("service")
    assert summary.loc["front", "failed_downstream"] == len(trace)
    assert summary.loc["back", "status_504"] == len(trace)
    assert summary.loc["dlq", "requests"] == len(trace) and summary.loc["log", "requests"] == 0
    assert summary.loc["dlq", "role"] == "destination" and summary.loc["back", "role"] == "callee"
    # The caller answered when the 504 came back: half its own time, then the callee's 2 s.
    back = run.requests("back").sort_values("entry_request")
    np.testing.assert_allclose(back["end_s"] - back["arrival_s"], 2.0, atol=1e-9)
    dlq = run.requests("dlq")
    np.testing.assert_allclose(dlq["arrival_s"].to_numpy(), np.sort(e2e["end_s"].to_numpy() + 0.5))


def test_destinations_get_exactly_the_sources_successes_and_failures():
    trace = _trace(n=200, span=100.0, seed=7, median=1.0)
    source = KPAConfig(container_concurrency=1, timeout_seconds=1.5, target_burst_capacity=0)
    services = [Service("up", source), Service("ok", KPAConfig(), service_time=0.05),
                Service("bad", KPAConfig(), service_time=0.05)]
    chain = Chain(services=services, entry="up", destinations=[
        Destination("up", "ok", on="success", delay=0.1), Destination("up", "bad", on="failure", delay=0.2)])
    run = replay_chain(chain, trace, seed=2, duration=200.0)
    plain = replay(trace, source, seed=2, duration=200.0, record=True).outcomes
    ok = plain.status[0] == 200
    failed = (plain.status[0] == 503) | (plain.status[0] == 504)
    assert ok.any() and failed.any()
    np.testing.assert_array_equal(run.requests("ok")["arrival_s"].to_numpy(), np.sort(plain.end[0, ok] + 0.1))
    np.testing.assert_array_equal(run.requests("bad")["arrival_s"].to_numpy(), np.sort(plain.end[0, failed] + 0.2))
    assert run.sweeps == 2


def test_too_few_sweeps_raise_the_convergence_error():
    trace = _trace(n=50, seed=8)
    chain = Chain(services=[Service("a", KPAConfig(), platform=INSTANT),
                            Service("b", KPAConfig(), service_time=0.2, platform=INSTANT)],
                  entry="a", calls=[Call("a", "b")])
    with pytest.raises(ChainConvergenceError, match="after 1 sweeps") as info:
        replay_chain(chain, trace, max_sweeps=1)
    assert info.value.sweeps == 1
    assert replay_chain(chain, trace, max_sweeps=MAX_ITERATIONS).sweeps >= 2


@pytest.mark.parametrize("build, message", [
    (lambda: Chain(services=[Service("a"), Service("a")], entry="a"), "two services named 'a'"),
    (lambda: Chain(services=[Service("a")], entry="b"), "entry = 'b', unknown service"),
    (lambda: Chain(services=[Service("a")], entry="a", calls=[Call("a", "z")]), "to = 'z', unknown service"),
    (lambda: Chain(services=[Service("a"), Service("b", service_time=1.0), Service("c", service_time=1.0)],
                   entry="a", calls=[Call("a", "b"), Call("b", "c"), Call("c", "b")]), "cycle b -> c -> b"),
    (lambda: Chain(services=[Service("a"), Service("b", service_time=1.0)], entry="a",
                   calls=[Call("a", "b")], destinations=[Destination("b", "a")]), "is the entry"),
    (lambda: Chain(services=[Service("a"), Service("b", service_time=1.0)], entry="a"), "reaches it"),
    (lambda: Call("a", "b", at=1.5), r"at = 1.5, must be in \[0, 1\]"),
    (lambda: Call("a", "b", delay=-1.0), "delay = -1.0 s"),
    (lambda: Destination("a", "b", on="maybe"), "on = 'maybe'"),
    (lambda: Service("a", service_time=0.0), "service_time = 0.0 s"),
], ids=["duplicate", "entry", "callee", "cycle", "into-entry", "unreachable", "at", "delay", "on", "time"])
def test_bad_chains_are_refused_naming_the_field(build, message):
    with pytest.raises(ConfigError, match=message):
        build()


def test_service_times_are_required_where_the_trace_gives_none():
    trace = _trace(n=10)
    with pytest.raises(ConfigError, match="service b: service_time missing"):
        replay_chain(Chain(services=[Service("a"), Service("b")], entry="a", calls=[Call("a", "b")]), trace)
    with pytest.raises(ConfigError, match="the entry's service times are the trace's durations"):
        replay_chain(Chain(services=[Service("a", service_time=1.0)], entry="a"), trace)
    with pytest.raises(TypeError, match="trace must be a Trace"):
        replay_chain(Chain(services=[Service("a")], entry="a"), [1.0, 2.0])
    with pytest.raises(ConfigError, match="max_sweeps = 0"):
        replay_chain(Chain(services=[Service("a")], entry="a"), trace, max_sweeps=0)


_FILE = """\
trace:
  synthetic: periodic
  period: 120s
  size: 8
  spread: 1s
  start: 5s
  duration: 240s
  service-time: 50ms
entry: web
services:
  web: {cold-start: 1s, config: {container-concurrency: 4, timeout-seconds: 30}}
  api: {cold-start: 2s, service-time: 20ms, config: {timeout-seconds: 30}}
  audit: {cold-start: 0s, service-time: exponential:10ms, config: {timeout-seconds: 30}}
calls:
  - {from: web, to: api, at: 0.5, delay: 1ms}
destinations:
  - {from: web, on: success, to: audit, delay: 100ms}
"""


def test_chain_file_replays_from_the_command_line(tmp_path, capsys):
    path = tmp_path / "chain.yaml"
    path.write_text(_FILE)
    out, png = tmp_path / "out", tmp_path / "cascade.png"
    assert main(["chain", str(path), "--out", str(out), "--plot", str(png), "--seed", "1"]) == 0
    printed = capsys.readouterr().out
    assert "converged in" in printed and "16 of 16 entry requests succeeded" in printed
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["service"]) == ["web", "api", "audit"]
    assert list(summary["role"]) == ["entry", "callee", "destination"]
    assert summary.loc[2, "requests"] == 16
    assert len(pd.read_csv(out / "end_to_end.csv")) == 16
    assert png.stat().st_size > 10_000
    loaded = load_chain(path)
    again = loaded.replay(seed=1)
    assert again.summary["requests"].tolist() == summary["requests"].tolist()


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("entry: web", "entry: web\ncolour: blue"), "unknown key colour"),
    (lambda t: t.replace("{from: web, to: api,", "{from: web, to: apl,"), "to = 'apl', unknown service"),
    (lambda t: t.replace("api: {cold-start: 2s,", "api: {cold-start: 2s, size: 3,"),
     r"services.api: unknown key size"),
    (lambda t: t + "  - {from: audit, on: success, to: web}\n", "is the entry"),
    (lambda t: t.replace("- {from: web, on: success, to: audit, delay: 100ms}",
                         "- {from: web, on: success, to: audit, delay: 100ms}\n"
                         "  - {from: audit, to: api}\n  - {from: api, to: audit}"), "cycle"),
    (lambda t: t.replace("at: 0.5", "at: 2"), r"calls\[0\]: call web -> api: at = 2"),
    (lambda t: t.replace("synthetic: periodic", "synthetic: fractal"), "trace.synthetic = 'fractal'"),
    (lambda t: t.replace("container-concurrency: 4", "container-concurrency: -4"), "services.web.config"),
    (lambda t: t.replace("entry: web\n", ""), "entry: missing"),
    (lambda t: t.replace("api: {cold-start: 2s, service-time: 20ms,", "api: {cold-start: 2s,"),
     r"services.api.service-time: missing"),
    (lambda t: t.replace("api: {cold-start: 2s,", "api: {cold-start: 2s, policy: nosuch,"),
     r"services.api.policy = 'nosuch', must be one of"),
    (lambda t: t.replace("api: {cold-start: 2s,", "api: {config: null, cold-start: 2s,").replace(
        ", config: {timeout-seconds: 30}}\n  audit", "}\n  audit", 1), r"services.api.config is empty"),
    (lambda t: t.replace("api: {cold-start: 2s,", "api: {config: [], cold-start: 2s,").replace(
        ", config: {timeout-seconds: 30}}\n  audit", "}\n  audit", 1), r"services.api.config: an empty list"),
    (lambda t: t.replace("delay: 1ms}", "delay: soon}"), r"bad.yaml: calls\[0\].delay = "),
], ids=["key", "service", "service-key", "into-entry", "cycle", "at", "synthetic", "config", "missing",
        "service-time", "policy", "config-null", "config-empty", "delay"])
def test_bad_chain_files_are_refused_naming_file_and_field(tmp_path, capsys, edit, message):
    path = tmp_path / "bad.yaml"
    path.write_text(edit(_FILE))
    assert main(["chain", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err
    assert pytest.importorskip("re").search(message, err), err


def test_the_example_chain_file_loads():
    loaded = load_chain("examples/chain.yaml")
    assert loaded.chain.order == ("frontend", "auth", "db")
    assert len(loaded.trace) == 90


def test_plot_draws_every_services_pods_and_needs_time_series():
    import matplotlib

    matplotlib.use("Agg")
    trace = _trace(n=30, seed=9)
    chain = Chain(services=[Service("a", KPAConfig(), platform=INSTANT),
                            Service("b", KPAConfig(), service_time=0.1, platform=cold(2.0))],
                  entry="a", calls=[Call("a", "b")])
    with pytest.raises(ValueError, match="timeseries=True"):
        replay_chain(chain, trace, duration=100.0).plot()
    fig, (top, bottom) = replay_chain(chain, trace, duration=100.0, timeseries=True).plot()
    assert [line.get_label() for line in top.get_lines()] == ["a ready", "b ready"]
    assert len(bottom.collections[0].get_offsets()) == len(trace)
    assert bottom.get_ylabel() == "end-to-end latency (s)"


def test_a_batch_of_configurations_replays_each_chain_as_it_would_alone():
    trace = synthetic.periodic(period=200.0, size=12, duration=400.0, start=120.0, spread=2.0,
                               service=synthetic.constant(0.05), seed=2)
    front = KPAConfig(container_concurrency=4)
    auth = [KPAConfig(container_concurrency=1), KPAConfig(container_concurrency=10, min_scale=1)]
    db = [KPAConfig(target_burst_capacity=0), KPAConfig(target_burst_capacity=-1)]

    def chain(a, d):
        return Chain(services=[Service("front", front, platform=cold(1.0)),
                               Service("auth", a, service_time=0.2, platform=cold(2.0)),
                               Service("db", d, service_time=0.1, platform=cold(3.0))],
                     entry="front", calls=[Call("front", "auth", at=0.3), Call("auth", "db", delay=0.01)])

    batched = replay_chain(chain(auth, db), trace, seed=4)
    assert batched.batch == 2 and len(batched.summary) == 6
    assert list(batched.end_to_end["config"].unique()) == [0, 1]
    for b in range(2):
        alone = replay_chain(chain(auth[b], db[b]), trace, seed=4, duration=batched.duration)
        rows = batched.summary[batched.summary["config"] == b].reset_index(drop=True)
        for col in alone.summary.columns:
            np.testing.assert_array_equal(rows[col].to_numpy(), alone.summary[col].to_numpy(), err_msg=col)
        pd.testing.assert_frame_equal(batched.end_to_end_of(b), alone.end_to_end)
        pd.testing.assert_frame_equal(batched.percentiles(config=b), alone.percentiles())
    # A warm auth (min-scale 1) spares the burst its cold start: configuration 1 is faster.
    p99 = [batched.percentiles(config=b).loc["end_to_end", "p99"] for b in range(2)]
    assert p99[1] < p99[0]
    with pytest.raises(ConfigError, match="the same number"):
        Chain(services=[Service("a", [KPAConfig()] * 2), Service("b", [KPAConfig()] * 3, service_time=1.0)],
              entry="a", calls=[Call("a", "b")])


def test_a_chain_file_with_a_list_of_configurations_is_a_batch(tmp_path, capsys):
    path = tmp_path / "batch.yaml"
    path.write_text(_FILE.replace("api: {cold-start: 2s, service-time: 20ms, config: {timeout-seconds: 30}}",
                                  "api: {cold-start: 2s, service-time: 20ms, config: [{min-scale: 0}, "
                                  "{min-scale: 1}]}"))
    assert main(["chain", str(path), "--seed", "1"]) == 0
    printed = capsys.readouterr().out
    assert "min-scale" in printed and "32 of 32 entry requests of the 2 configurations succeeded" in printed
    loaded = load_chain(path)
    assert [c.min_scale for c in loaded.chain.service("api").configs] == [0, 1]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dag=fixed_pool_chains(), seed=st.integers(min_value=0, max_value=2**16))
def test_any_small_dag_matches_the_event_simulation(dag, seed):
    names, pods, own, calls = dag
    trace = _trace(n=60, span=40.0, seed=seed, median=0.15)
    services = [Service(n, fixed_pool(pods[n]), service_time=own.get(n), platform=INSTANT) for n in names]
    chain = Chain(services=services, entry=names[0],
                  calls=[Call(a, b, at=at, delay=d) for a, steps in calls.items() for b, at, d in steps])
    run = replay_chain(chain, trace, seed=seed, duration=200.0)
    expected = simulate_chain(trace.arrivals, trace.durations, names[0], pods, own, calls)
    assert (run.end_to_end["status"] == 200).all()
    np.testing.assert_allclose(run.end_to_end["end_s"].to_numpy(), expected, rtol=0, atol=1e-9)


def test_a_callee_that_answers_503_on_arrival_fails_its_callers_and_converges():
    # 30 requests at once into a callee of one pod with room for one: the rest are refused at
    # arrival (latency 0), so with no network delay the caller answers at the very moment it calls.
    trace = make_trace(np.full(30, 5.0), np.full(30, 0.2), name="burst")
    front = Service("front", KPAConfig(min_scale=1), platform=INSTANT)
    back = Service("back", KPAConfig(container_concurrency=1, target_burst_capacity=0, min_scale=1, max_scale=1),
                   service_time=1.0, platform=INSTANT)
    alone = replay(make_trace(np.full(30, 5.1), np.full(30, 1.0), name="back"), back.config, platform=INSTANT,
                   duration=60.0).summary
    result = replay_chain(Chain(services=[front, back], entry="front", calls=[Call("front", "back", at=0.5)]),
                          trace, duration=60.0)
    back_row = result.summary.set_index("service").loc["back"]
    assert back_row["status_503"] == alone["status_503"].iloc[0] > 0
    assert back_row["completed"] == 30 - back_row["status_503"]
    e2e = result.end_to_end
    assert (e2e["status"] == 503).sum() == back_row["status_503"]
    assert set(e2e.loc[e2e["status"] == 503, "failed_at"]) == {"back"}
    assert result.summary.set_index("service").loc["front", "failed_downstream"] == back_row["status_503"]


def test_a_cycle_behind_a_service_defined_first_is_named():
    services = [Service(n, service_time=None if n == "a" else 0.1) for n in ("a", "d", "b", "c")]
    calls = [Call("a", "b"), Call("b", "c"), Call("c", "b"), Call("c", "d")]
    with pytest.raises(ConfigError, match=r"cycle (b -> c -> b|c -> b -> c)"):
        Chain(services=services, entry="a", calls=calls)


def test_entry_requests_after_the_duration_are_not_replayed():
    trace = synthetic.periodic(period=10.0, size=2, duration=60.0, service=synthetic.constant(0.1), seed=1)
    chain = Chain(services=[Service("a", platform=INSTANT), Service("b", service_time=0.1, platform=INSTANT)],
                  entry="a", calls=[Call("a", "b")])
    result = replay_chain(chain, trace, duration=30.0)
    arrived = int((trace.arrivals < 30.0).sum())
    assert 0 < arrived < len(trace)
    assert len(result.end_to_end) == arrived
    assert result.summary.set_index("service").loc["a", "requests"] == arrived
    assert (result.end_to_end["status"] == 200).sum() == arrived


def test_recorded_outcomes_count_only_the_requests_the_replay_saw():
    trace = synthetic.poisson(rate=2.0, duration=60.0, service=synthetic.constant(0.2), seed=4)
    r = replay(trace, KPAConfig(), duration=30.0, record=True)
    counts = r.outcomes.counts().drop(columns="config")
    summary = r.summary[counts.columns]
    pd.testing.assert_frame_equal(counts, summary, check_dtype=False)
    assert r.outcomes.arrived.sum() < len(trace)


def test_the_file_format_in_load_chains_docstring_loads(tmp_path):
    import autoscale.chains as chains

    doc = chains.load_chain.__doc__
    block = doc.split("The file::\n\n", 1)[1].split("\n\n", 1)[0]
    lines = block.splitlines()
    indent = min(len(x) - len(x.lstrip()) for x in lines if x.strip())
    path = tmp_path / "doc.yaml"
    path.write_text("\n".join(x[indent:] for x in lines) + "\n")
    loaded = load_chain(path)
    assert loaded.chain.order[0] == "frontend" and set(loaded.chain.order) == {"frontend", "auth", "db", "audit"}
