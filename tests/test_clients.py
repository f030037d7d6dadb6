"""Closed-loop clients: the engine against the reference, the client invariants, and the workload objects."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autoscale import KPAConfig, replay
from autoscale.errors import ConfigError
from autoscale.invocation import Async
from autoscale.reference import simulate
from autoscale.trace import durations as d
from autoscale.workload import Clients, ClosedLoop, constant_arrival_rate, ramping_arrival_rate
from strategies import configs, make_trace, platforms
from test_loop import PyFixed, PyKPA, assert_same

SETTINGS = dict(derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _distribution(draw, zero_ok: bool):
    kind = draw(st.sampled_from(["none", "exponential", "lognormal", "empirical"] if zero_ok
                                else ["exponential", "lognormal", "empirical"]))
    if kind == "none":
        return 0.0
    if kind == "exponential":
        return d.exponential(draw(st.floats(0.02, 1.5)))
    if kind == "lognormal":
        return d.lognormal(draw(st.floats(0.02, 1.0)), draw(st.floats(0.1, 1.0)))
    seed = draw(st.integers(0, 1000))
    return d.empirical(np.random.default_rng(seed).exponential(0.3, 50) + 0.01)


@st.composite
def pools(draw, name: str = "clients", max_span: float = 60.0) -> Clients:
    """A small pool: a duration, a ramp or a request budget; continuous service and think times."""
    shape = draw(st.sampled_from(["duration", "stages", "requests"]))
    kw = dict(service=_distribution(draw, False), think=_distribution(draw, True),
              start=draw(st.floats(0.0, 10.0)), name=name,
              delay=draw(st.sampled_from([0.0, 0.0005, 0.02])))
    if draw(st.booleans()):
        kw["rate"] = draw(st.floats(0.2, 5.0))
    if shape == "duration":
        return Clients(draw(st.integers(1, 8)), duration=draw(st.floats(1.0, max_span)), **kw)
    if shape == "stages":
        stages = draw(st.lists(st.tuples(st.floats(0.0, 20.0), st.integers(0, 6)), min_size=1, max_size=3))
        start = draw(st.integers(0 if any(t for _, t in stages) else 1, 4))
        return Clients(start, stages=tuple(stages), **kw)
    return Clients(draw(st.integers(1, 6)), requests=draw(st.integers(1, 20)), **kw)


@st.composite
def workloads(draw) -> ClosedLoop:
    """One or two pools, sometimes beside a short open-loop trace."""
    n = draw(st.integers(1, 2))
    ps = [draw(pools(name=f"pool{k}")) for k in range(n)]
    trace = None
    if draw(st.booleans()):
        rng = np.random.default_rng(draw(st.integers(0, 1000)))
        arr = np.sort(rng.uniform(0, 40, draw(st.integers(1, 30))))
        trace = make_trace(arr, rng.lognormal(-1.5, 0.6, arr.size))
    return ClosedLoop(*ps, trace=trace)


def _check_clients(ref, workload: ClosedLoop) -> None:
    """What closed-loop clients promise, read from the reference's request table."""
    req = ref.requests
    mine = req[req.client >= 0].sort_values(["client", "arrival"])
    owners = [(k, c) for k, p in enumerate(workload.pools) for c in range(p.clients_max)]
    for client, rows in mine.groupby("client"):
        k, c = owners[client]
        pool = workload.pools[k]
        arr = rows.arrival.to_numpy()
        end = rows.end.to_numpy()
        # One request at a time: the next reaches the ingress no sooner than the answer
        # plus the two network delays.
        assert np.all(arr[1:] >= end[:-1] + 2 * pool.delay - 1e-9)
        assert np.all(~np.isnan(end[:-1]))  # only the last one may be unanswered
        if pool.rate is not None:
            assert np.all(np.diff(arr) >= 1 / pool.rate - 1e-9)
        if pool.requests is not None:
            assert len(arr) <= pool.requests
        spans = pool.windows(c)
        assert all(any(on - 1e-9 <= a < off for on, off in spans) for a in arr)
    # Never more client requests in the system at once than clients.
    assert _most_in_system(mine) <= len(owners)


def _most_in_system(requests) -> int:
    """The most requests of a request table in the system at one instant (an end before an arrival at a tie)."""
    ends = requests.end.dropna().to_numpy()
    times = np.concatenate([ends, requests.arrival.to_numpy()])
    steps = np.concatenate([-np.ones(ends.size), np.ones(len(requests))])
    order = np.lexsort((steps, times))
    return int(np.cumsum(steps[order]).max(initial=0))


@given(workload=workloads(), config=configs(), platform=platforms(), seed=st.integers(0, 1000))
@settings(max_examples=60, **SETTINGS)
def test_clients_keep_their_promises_in_the_reference_and_the_engine(workload, config, platform, seed):
    ref = simulate(workload, config, platform=platform, seed=seed)
    _check_clients(ref, workload)
    for table in (replay(workload, config, platform=platform, seed=seed).load_summary, ref.result.load_summary):
        # Every request sent is answered or still in flight; a client has at most one in flight.
        assert (table.sent == table.responses + table.in_flight).all()
        assert ((table.in_flight >= 0) & (table.in_flight <= table.clients)).all()
        assert (table.responses == table.status_200 + table.status_503 + table.status_504).all()


WORKLOAD = ClosedLoop(
    Clients(8, service=d.exponential(0.3), think=d.exponential(0.5), duration=150.0, name="steady"),
    Clients(2, service=d.lognormal(0.2, 0.5), stages=((20, 6), (40, 6), (20, 0)), start=30.0, rate=2.0,
            name="ramp"),
    trace=make_trace(np.linspace(5.0, 140.0, 60), np.full(60, 0.4)))


@pytest.mark.parametrize("cc", [0, 1, 3, 10])
@pytest.mark.parametrize("tbc", [211.0, -1.0])
@pytest.mark.parametrize("activators", [1, 2])
def test_engine_and_reference_agree_request_for_request(cc, tbc, activators):
    from autoscale import Platform

    config = KPAConfig(container_concurrency=cc, target_burst_capacity=tbc)
    platform = Platform(activators=activators)
    engine = replay(WORKLOAD, config, platform=platform, seed=4)
    ref = simulate(WORKLOAD, config, platform=platform, seed=4)
    pd.testing.assert_frame_equal(engine.load_summary, ref.result.load_summary)
    for col in ("requests", "completed", "status_503", "status_504", "pods_created", "pod_seconds"):
        assert engine.summary[col].iloc[0] == pytest.approx(ref.result.summary[col].iloc[0], rel=1e-9), col
    assert engine.load_summary.sent.sum() > 1000


@given(workload=workloads(), cfgs=st.lists(configs(), min_size=1, max_size=3), platform=platforms())
@settings(max_examples=20, **SETTINGS)
def test_clients_under_the_compiled_loop_and_the_per_second_path_agree(workload, cfgs, platform):
    assert_same(replay(workload, cfgs, platform=platform, timeseries=True, max_points=50),
                replay(workload, cfgs, policy=PyKPA(), platform=platform, timeseries=True, max_points=50))
    fast = replay(workload, cfgs, policy="fixed", platform=platform)
    slow = replay(workload, cfgs, policy=PyFixed(), platform=platform)
    assert_same(fast, slow)
    pd.testing.assert_frame_equal(fast.load_summary, slow.load_summary)


@given(workload=workloads(), batch=st.lists(configs(), min_size=2, max_size=4), seed=st.integers(0, 100))
@settings(max_examples=15, **SETTINGS)
def test_a_configuration_with_clients_gives_the_same_in_any_batch(workload, batch, seed):
    together = replay(workload, batch, seed=seed, parallel=True)
    for k, cfg in enumerate(batch):
        alone = replay(workload, cfg, seed=seed)
        got = together.load_summary[together.load_summary.config == k].drop(columns="config").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, alone.load_summary.drop(columns="config"))
        assert together.summary.pod_seconds.iloc[k] == alone.summary.pod_seconds.iloc[0]


def test_skipping_idle_time_with_clients_changes_nothing():
    from autoscale.engine import Streams, run
    from autoscale.spec import KPASpec

    # Clients that think for minutes: the revision scales to zero between their requests.
    w = ClosedLoop(Clients(2, service=d.exponential(0.2), think=d.exponential(400.0), duration=3600.0))
    spec = KPASpec.from_configs([KPAConfig(), KPAConfig(container_concurrency=1, target_burst_capacity=-1)])
    streams = Streams(np.zeros(0), np.zeros(0), None, [w.requests()], w.name, w.provenance)
    on = run(streams, spec, t_end=w.seconds(), clients=w.pools, skip_idle=True, timeseries=True)
    off = run(streams, spec, t_end=w.seconds(), clients=w.pools, skip_idle=False, timeseries=True)
    assert_same(on, off)
    assert (on.load.sent > 5).all()


def test_the_same_seed_gives_the_same_clients_and_another_seed_other_draws():
    w = ClosedLoop(Clients(5, service=d.exponential(0.3), think=d.exponential(1.0), duration=120.0))
    a, b, c = (replay(w, KPAConfig(), seed=s).load_summary for s in (1, 1, 2))
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_closed_loop_clients_hold_the_activator_to_their_number_through_a_cold_start():
    # 20 clients against a revision at zero: at most 20 requests wait for the cold start,
    # where the same mean rate open loop piles up every arrival of the cold start.
    w = ClosedLoop(Clients(20, service=d.exponential(0.2), duration=120.0, rate=1.0))
    cfg = KPAConfig(container_concurrency=1)
    ref = simulate(w, cfg).requests
    assert len(ref) > 1000 and _most_in_system(ref) == 20
    open_loop = constant_arrival_rate(20.0, 120.0, service=d.exponential(0.2))
    ro = simulate(open_loop, cfg).requests
    waiting_at_3s = ((ro.arrival < 3.0) & (ro.start > 3.0)).sum()
    assert waiting_at_3s > 20


def test_a_pool_limited_by_requests_sends_exactly_its_budget():
    w = ClosedLoop(Clients(4, service=d.exponential(0.1), requests=7, name="hey-n"))
    r = replay(w, KPAConfig())
    row = r.load_summary.iloc[0]
    assert row.sent == 28 and row.responses == 28 and row.in_flight == 0


def test_a_rate_limited_pool_sends_no_faster_than_its_rate():
    w = ClosedLoop(Clients(5, service=d.exponential(0.05), duration=60.0, rate=2.0))
    row = replay(w, KPAConfig(min_scale=1)).load_summary.iloc[0]
    # At most one request per half second per client; a little less, as a response
    # arriving after the half second (the first ones wait for a cold start) delays the next.
    assert 5 * 2 * 60 - 30 <= row.sent <= 5 * 2 * 60 + 5
    assert row.rps == pytest.approx(10.0, rel=0.05)


def test_clients_beside_a_trace_keep_the_trace_requests():
    trace = make_trace(np.linspace(1, 50, 40), np.full(40, 0.2))
    w = ClosedLoop(Clients(3, service=0.1, duration=30.0), trace=trace)
    r = replay(w, KPAConfig())
    ref = simulate(w, KPAConfig())
    assert (ref.requests.client == -1).sum() == 40
    assert r.summary.requests.iloc[0] == 40 + r.load_summary.sent.iloc[0]


def test_a_ramp_activates_clients_as_the_line_reaches_them():
    pool = Clients(0, service=0.1, stages=((10, 4), (20, 4), (10, 0)), delay=0.0)
    assert pool.clients_max == 4
    assert pool.windows(0) == [(2.5, 37.5)]
    assert pool.windows(3) == [(10.0, 30.0)]
    twice = Clients(1, service=0.1, stages=((10, 1), (0, 0), (10, 0), (0, 2), (5, 2)), delay=0.0)
    assert twice.windows(0) == [(0.0, 10.0), (20.0, 25.0)]
    assert twice.windows(1) == [(20.0, 25.0)]


def test_client_latency_includes_both_network_delays():
    w = ClosedLoop(Clients(1, service=0.5, duration=30.0, delay=0.05))
    ref = simulate(w, KPAConfig(min_scale=1, initial_scale=1))
    r = replay(w, KPAConfig(min_scale=1, initial_scale=1))
    done = ref.requests[ref.requests.outcome == "completed"]
    gaps = done.arrival.to_numpy()[1:] - done.end.to_numpy()[:-1]
    assert np.allclose(gaps, 0.1)
    assert r.load_summary.latency_p50_s.iloc[0] == pytest.approx(0.6, rel=0.012)


def test_open_loop_generators_space_requests_evenly():
    t = constant_arrival_rate(4.0, 10.0, service=0.1)
    assert len(t) == 40 and np.allclose(np.diff(t.arrivals), 0.25)
    r = ramping_arrival_rate(0.0, ((10.0, 10.0), (10.0, 10.0)), service=0.1)
    assert len(r) == 50 + 100
    # The rate grows linearly over the first stage: arrivals get closer.
    assert np.all(np.diff(np.diff(r.arrivals[:50])) < 0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(clients=0, service=0.1, duration=10), "clients = 0, must be a whole number >= 1"),
    (dict(clients=2, service=0.1), "give a duration, stages or a number of requests"),
    (dict(clients=2, service=-1, duration=10), "service = -1"),
    (dict(clients=2, service=0.1, duration=10, think=-2), "think = -2"),
    (dict(clients=2, service=0.1, duration=10, rate=0), "rate = 0"),
    (dict(clients=2, service=0.1, duration=10, stages=((5, 2),)), "duration or stages, not both"),
    (dict(clients=2, service=0.1, stages=((5, -1),)), "stage 0 clients = -1"),
    (dict(clients=0, service=0.1, stages=((5, 0),)), "never have a client"),
    (dict(clients=2, service=0.1, requests=0), "requests = 0"),
    (dict(clients=2, service=0.1, duration=math.inf), "duration = inf"),
])
def test_a_bad_pool_is_refused_with_the_field_and_range(kwargs, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Clients(**kwargs)


def test_closed_loop_workloads_refuse_what_cannot_work():
    with pytest.raises(ConfigError, match="at least one pool"):
        ClosedLoop()
    with pytest.raises(ConfigError, match="'a' is given twice"):
        ClosedLoop(Clients(1, service=0.1, duration=5, name="a"), Clients(1, service=0.1, duration=5, name="a"))
    w = ClosedLoop(Clients(2, service=0.1, duration=5))
    with pytest.raises(ConfigError, match="asynchronous invocation"):
        replay(w, KPAConfig(), invocation=Async())
