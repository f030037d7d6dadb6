"""Several activators: the ingress's random pick, each activator's own queue and throttler, and the pod slices.

Knative runs several activator replicas (``pkg/activator/net/throttler.go``): each has
its own queue, stats and throttler, and with CC > 0 its throttler uses only the pods
``assignSlice`` gives it. The compiled engine and the event-level reference implement
this separately; here they are checked against Knative's slicing written out plainly,
against each other, and for the behaviours that follow (two activators can send one pod
with CC 1 two requests at once).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoscale import KPAConfig, Platform, replay
from autoscale._state import (
    AI_INDEX, AI_NA, CI_NACT, CI_NREADY, CI_PHIGH, N_PF, PF_ADDR, PI_AMASK, PI_STATE, READY, act_i, config_fields,
    pod_fields,
)
from autoscale.activator import _assign
from autoscale.errors import ConfigError
from autoscale.reconciler import Reconciler, activator_count
from autoscale.reference import simulate
from autoscale.spec import KPASpec

from strategies import make_trace


def knative_slice(n_pods: int, index: int, n_activators: int) -> list[int]:
    """Positions (in address order) of the pods activator ``index`` of ``n_activators`` uses with CC > 0.

    A plain transcription of ``assignSlice`` and ``pickIndices`` in knative/serving
    ``pkg/activator/net/throttler.go``.
    """
    if index == -1 or n_pods <= 1 or n_activators == 1:
        return list(range(n_pods))
    if n_activators > n_pods:
        return [index % n_pods]
    size = n_pods // n_activators
    begin = index * size
    picked = list(range(begin, begin + size))
    remnants = n_pods % n_activators
    if remnants > 0:
        tail = list(range(n_pods - remnants, n_pods))
        if len(tail) > index:
            picked.append(tail[index])
    return picked


def test_knative_examples():
    # the examples in throttler.go's comments: 20 pods over 3 activators, 24 over 5
    assert knative_slice(20, 0, 3) == [0, 1, 2, 3, 4, 5, 18]
    assert knative_slice(20, 1, 3) == [6, 7, 8, 9, 10, 11, 19]
    assert knative_slice(20, 2, 3) == list(range(12, 18))
    assert [len(knative_slice(24, i, 5)) for i in range(5)] == [5, 5, 5, 5, 4]
    assert knative_slice(3, 4, 5) == [1]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_compiled_assignment_matches_knative(data):
    k = data.draw(st.integers(2, 6), label="activators")
    slots = data.draw(st.integers(1, 12), label="slots")
    states = data.draw(st.lists(st.sampled_from([0, 1, 2, 3]), min_size=slots, max_size=slots), label="states")
    addresses = data.draw(st.lists(st.floats(0, 1, exclude_max=True), min_size=slots, max_size=slots,
                                   unique=True), label="addresses")
    views = data.draw(st.lists(st.tuples(st.integers(-1, 5), st.integers(1, 6)), min_size=k, max_size=k),
                      label="views")
    n_cf, n_ci = config_fields(k)
    ci = np.zeros((1, n_ci), dtype=np.int64)
    pf = np.zeros((1, N_PF, slots))
    pi = np.zeros((1, pod_fields(k), slots), dtype=np.int64)
    ci[0, CI_NACT] = k
    ci[0, CI_PHIGH] = slots
    ci[0, CI_NREADY] = sum(s == READY for s in states)
    pi[0, PI_STATE] = states
    pf[0, PF_ADDR] = addresses
    for a, (index, na) in enumerate(views):
        index = min(index, na - 1)
        ci[0, act_i(a) + AI_INDEX] = index
        ci[0, act_i(a) + AI_NA] = na
    _assign(pf, pi, ci, 0)
    ready = sorted((p for p in range(slots) if states[p] == READY), key=lambda p: addresses[p])
    for a in range(k):
        index, na = int(ci[0, act_i(a) + AI_INDEX]), int(ci[0, act_i(a) + AI_NA])
        want = {ready[i] for i in knative_slice(len(ready), index, na)} if ready else set()
        got = {p for p in ready if pi[0, PI_AMASK, p] >> a & 1}
        assert got == want, (a, index, na, len(ready))


def _poisson(rate, span, seed=1, median=0.3):
    rng = np.random.default_rng(seed)
    arrivals = np.sort(rng.uniform(0.0, span, rng.poisson(rate * span)))
    return make_trace(arrivals, median * np.exp(rng.standard_normal(arrivals.size)), name="poisson")


POISSON = _poisson(12.0, 240.0)
GRID = [(cc, tbc, k) for cc in (0, 1, 3, 10) for tbc in (211, -1) for k in (2, 3)]


@pytest.mark.parametrize("cc, tbc, k", GRID, ids=[f"cc{cc}-tbc{tbc}-k{k}" for cc, tbc, k in GRID])
def test_engine_and_reference_agree_request_for_request(cc, tbc, k):
    config = KPAConfig(container_concurrency=cc, target_burst_capacity=tbc)
    platform = Platform(activators=k)
    engine = replay(POISSON, config, platform=platform, seed=3)
    ref = simulate(POISSON, config, platform=platform, seed=3)
    e, r = engine.summary.iloc[0], ref.summary.iloc[0]
    for col in ("requests", "completed", "status_503", "status_504", "pods_created", "scale_events",
                "cold_start_delayed", "peak_pods"):
        assert e[col] == r[col], col
    assert e["pod_seconds"] == pytest.approx(r["pod_seconds"], rel=1e-9)
    np.testing.assert_array_equal(engine.latency_hist, ref.result.latency_hist)
    # the requests really went through several activators
    used = ref.requests.loc[ref.requests["via_activator"], "activator"]
    assert used.nunique() >= 2


def test_python_path_matches_compiled_loop():
    from autoscale.policies.kpa import KPA

    class Mine(KPA):  # a subclass runs on the per-second Python path
        pass

    config = KPAConfig(container_concurrency=3, target_burst_capacity=211)
    platform = Platform(activators=3)
    fast = replay(POISSON, config, platform=platform, seed=5)
    slow = replay(POISSON, config, platform=platform, seed=5, policy=Mine())
    cols = ["completed", "status_503", "status_504", "pods_created", "pod_seconds", "latency_p99_s"]
    assert fast.summary[cols].equals(slow.summary[cols])


def test_two_activators_can_send_one_pod_two_requests_with_cc_1():
    # One pod (min = max = 1), CC 1, two requests at once: with one activator the second
    # waits in the activator; with two, each activator counts only its own request, so
    # the pod gets both and its queue-proxy queues one.
    arrivals = np.array([30.0 + 0.1 * i for i in range(40)])
    trace = make_trace(arrivals, np.full(arrivals.size, 5.0), name="pairs")
    config = KPAConfig(container_concurrency=1, target_burst_capacity=-1, min_scale=1, max_scale=1)
    one = simulate(trace, config, platform=Platform(activators=1), seed=0).requests
    two = simulate(trace, config, platform=Platform(activators=2), seed=0).requests
    assert not one["queued"].any()  # the activator never sends a second request to a busy pod
    assert two["queued"].any()
    assert set(two["activator"]) == {0, 1}
    # the engine agrees on the consequence: requests wait in the queue-proxy, not the activator
    e1 = replay(trace, config, platform=Platform(activators=1), seed=0).summary.iloc[0]
    e2 = replay(trace, config, platform=Platform(activators=2), seed=0).summary.iloc[0]
    r2 = simulate(trace, config, platform=Platform(activators=2), seed=0).summary.iloc[0]
    assert e2["completed"] == r2["completed"] and e2["status_504"] == r2["status_504"]
    assert e1["completed"] == e2["completed"]


def test_activator_capacity_sizes_the_subset():
    spec = KPASpec.from_configs([KPAConfig(target_burst_capacity=211, activator_capacity=a) for a in (100.0, 1000.0)])
    assert list(activator_count(spec, np.array([0, 0]))) == [3, 2]
    trace = _poisson(12.0, 120.0, seed=2)
    for capacity, allowed in ((100.0, {0, 1, 2}), (1000.0, {0, 1})):
        # TBC 211 keeps the activator in the path (the pods' spare capacity stays under 211)
        config = KPAConfig(container_concurrency=1, target_burst_capacity=211, activator_capacity=capacity)
        req = simulate(trace, config, platform=Platform(activators=4), seed=1).requests
        used = set(req.loc[req["via_activator"], "activator"])
        assert used == allowed, (capacity, used)
    rec = Reconciler(spec, now=0.0)
    assert list(rec.activators) == [2, 2]  # kpa.go starts with minActivators before the first reconcile
    rec.reconcile(1.0, np.array([1, 1]), np.array([0, 0]), np.array([0, 0]), np.array([True, True]))
    assert list(rec.activators) == [3, 2]


def test_one_activator_is_the_default_and_unchanged():
    trace = _poisson(5.0, 120.0, seed=4)
    config = KPAConfig(container_concurrency=3)
    a = replay(trace, config, seed=2).summary
    b = replay(trace, config, platform=Platform(activators=1), seed=2).summary
    assert a.equals(b)
    assert Platform().activators == 1


@pytest.mark.parametrize("bad", [0, 33, 1.5, True, "2"])
def test_activator_count_is_checked(bad):
    with pytest.raises(ConfigError, match="activators"):
        Platform(activators=bad)


def test_with_settings_parses_the_command_line_forms():
    p = Platform().with_settings({"activators": "3", "mode-switch-delay": "2s"})
    assert p.activators == 3 and p.mode_switch_delay == 2.0
    assert p.setting("activators") == 3
    with pytest.raises(ConfigError, match=r"activators = 'x', must be a whole number in \[1, 32\]"):
        Platform().with_settings({"activators": "x"})


def test_the_command_line_sets_the_activators(tmp_path, capsys):
    import pandas as pd

    from autoscale.cli import main

    path = tmp_path / "requests.csv"
    POISSON.to_csv(path)
    assert main(["run", "--trace", str(path), "--set", "activators=3", "--set", "container-concurrency=1"]) == 0
    assert main(["run", "--trace", str(path), "--set", "activators=0"]) == 2
    assert "activators = 0, must be a whole number in [1, 32]" in capsys.readouterr().err
    out = tmp_path / "sweep"
    assert main(["sweep", "--trace", str(path), "--out", str(out), "--quiet", "--grid", "activators=1,3",
                 "--set", "container-concurrency=1"]) == 0
    table = pd.read_csv(out / "results.csv")
    assert sorted(table["activators"]) == [1, 3]
    # three activators change the CC 1 replay (each counts only its own requests against a pod's slot)
    p99 = table.set_index("activators")["latency_p99_s"]
    assert p99[1] != p99[3]
