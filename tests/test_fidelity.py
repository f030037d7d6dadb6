"""Where the model follows Knative's own code beyond the decider: random streams, backend order, reachability.

The reconciler's rules on their own are in ``test_reconciler.py``.

Each test is a timestamped scenario that states the Knative behaviour it checks and the
source it comes from (knative/serving).
"""

from __future__ import annotations

import numpy as np
import pytest

from autoscale import KPAConfig, KPASpec, Platform, reference, replay
from autoscale._state import (
    CI_PHIGH, N_PF, N_RS, PF_ADDR, PI_ACT, PI_STATE, READY, config_fields, pod_fields, reset_rows,
)
from autoscale.activator import _pick_activator
from autoscale.platform import ColdStart
from autoscale.pods import _new_pod
from autoscale.reconciler import Mode, Reconciler
from autoscale.rng import STREAMS, SplitMix64, seed_states
from autoscale.trace import Trace, synthetic
from autoscale.trace.durations import Exponential

_CONFIG_COLUMNS = {"config", "target-burst-capacity"}


def _rows(result):
    """The outcome columns of a summary, configuration keys left out."""
    cols = [c for c in result.summary.columns if c not in _CONFIG_COLUMNS]
    return result.summary[cols]


@pytest.mark.parametrize("seed", [0, 5])
def test_tbc_211_and_minus_1_give_identical_rows_when_knative_behaves_the_same(seed):
    # CC 0 with one pod: TBC 211 keeps EBC = 100 - 211 - load < 0, so the activator stays
    # in the path exactly as with TBC -1. The one difference is that TBC 211 scrapes the
    # pod (it subtracts the proxied load, which is all of it); with one stream per
    # purpose, those scrape draws leave cold starts and routing alone.
    trace = synthetic.on_off(rate_on=0.4, mean_on=120.0, mean_off=600.0, duration=4 * 3600.0,
                             service=Exponential(0.5), seed=seed)
    configs = [KPAConfig(target_burst_capacity=211, max_scale=1), KPAConfig(target_burst_capacity=-1, max_scale=1)]
    result = replay(trace, configs, seed=seed)
    rows = _rows(result)
    assert result.summary["cold_start_delayed"].iloc[0] > 0  # the scenario has cold starts to compare
    assert rows.iloc[0].to_dict() == rows.iloc[1].to_dict()
    np.testing.assert_array_equal(result.latency_hist[0], result.latency_hist[1])


def test_a_configuration_that_scrapes_draws_the_same_cold_starts():
    # Same deployment history, different scraping: the pods created get the same cold
    # starts, so the delayed requests and pod-seconds agree to the last bit.
    trace = synthetic.poisson(0.02, 6 * 3600.0, service=Exponential(1.0), seed=3)
    configs = [KPAConfig(target_burst_capacity=211), KPAConfig(target_burst_capacity=-1)]
    s = replay(trace, configs, seed=1).summary
    assert s["pod_seconds"].iloc[0] == s["pod_seconds"].iloc[1]
    assert s["cold_start_delayed"].iloc[0] == s["cold_start_delayed"].iloc[1]


class TestBackendsInAddressOrder:
    """``throttler.go`` sorts the pod trackers by address; ``lb_policy.go`` walks them in that order."""

    @staticmethod
    def _pods(addresses, outstanding):
        n = len(addresses)
        n_cf, n_ci = config_fields(1)
        pf = np.zeros((1, N_PF, n))
        pi = np.zeros((1, pod_fields(1), n), dtype=np.int64)
        cf = np.zeros((1, n_cf))
        ci = np.zeros((1, n_ci), dtype=np.int64)
        reset_rows(cf, ci)
        ci[0, CI_PHIGH] = n
        pf[0, PF_ADDR] = addresses
        pi[0, PI_STATE] = READY
        pi[0, PI_ACT] = outstanding
        return pf, pi, cf, ci, np.ones((1, N_RS), dtype=np.uint64)

    def test_first_available_takes_the_lowest_address_with_room(self):
        pf, pi, cf, ci, rng = self._pods([0.7, 0.2, 0.5], [0, 0, 0])
        assert _pick_activator(pf, pi, cf, ci, rng, 0, 1, 0) == 1  # not slot 0, the oldest
        pi[0, PI_ACT, 1] = 1
        assert _pick_activator(pf, pi, cf, ci, rng, 0, 1, 0) == 2
        pi[0, PI_ACT, 2] = 1
        assert _pick_activator(pf, pi, cf, ci, rng, 0, 1, 0) == 0
        pi[0, PI_ACT, 0] = 1
        assert _pick_activator(pf, pi, cf, ci, rng, 0, 1, 0) == -1

    def test_round_robin_walks_the_addresses_and_skips_full_pods(self):
        pf, pi, cf, ci, rng = self._pods([0.7, 0.2, 0.5, 0.9], [0, 0, 0, 4])
        picks = [_pick_activator(pf, pi, cf, ci, rng, 0, 4, 0) for _ in range(6)]
        assert picks == [1, 2, 0, 1, 2, 0]  # slot 3 is full (4 outstanding)
        pi[0, PI_ACT, 3] = 0
        assert [_pick_activator(pf, pi, cf, ci, rng, 0, 4, 0) for _ in range(4)] == [3, 1, 2, 0]


def test_every_pod_gets_its_own_random_address_at_creation():
    n_cf, n_ci = config_fields(1)
    pf = np.zeros((1, N_PF, 4))
    pi = np.zeros((1, pod_fields(1), 4), dtype=np.int64)
    cf, ci = np.zeros((1, n_cf)), np.zeros((1, n_ci), dtype=np.int64)
    reset_rows(cf, ci)
    rng = seed_states(9).reshape(1, N_RS).copy()
    cs = (np.zeros(1, np.int64), np.full((1, 3), 2.0), np.zeros((1, 1)), np.ones(1, np.int64))
    for k in range(4):
        _new_pod(0, float(k), pf, pi, ci, rng, *cs)
    twin = SplitMix64(int(seed_states(9)[STREAMS.index("address")]))
    assert pf[0, PF_ADDR].tolist() == [twin.uniform() for _ in range(4)]


def test_unreachable_revision_with_min_scale_lets_its_pod_go_after_a_stable_window():
    # kpa.go activeThreshold: the minimum of ScaleBounds is 0 when unreachable, so one
    # ready pod is enough to be Active; the PA goes Inactive after a stable window and the
    # pod goes (the activator has been in the path since creation), not after the 630 s
    # activation timeout.
    trace = synthetic.poisson(0.5, 20.0, service=Exponential(0.2), seed=0)
    result = replay(trace, [KPAConfig(min_scale=2, reachable=False)], duration=900.0, timeseries=True)
    ts = result.timeseries
    ready = ts.values["ready"][0]
    gone = ts.time[(ready == 0) & (ts.time > 30)]
    assert len(gone) and gone[0] < 200, "the last pod leaves about a stable window after the traffic"
    assert result.summary["pod_seconds"].iloc[0] < 300



# --- the reconciler on Knative's events and timers (scaler.go handleScaleToZero) ---------

def _active_in_proxy(tbc=211.0):
    """A reconciler whose PA went Active at t = 10 with one ready pod, the SKS in Proxy."""
    r = Reconciler(KPASpec.from_configs(KPAConfig(target_burst_capacity=tbc)), now=0.0)
    out = r.reconcile_on_events(10.0, desired=1, ebc=-111, ready=1, pods=1, activator_in_path=True)
    assert out.ran[0] and r.state_names() == ["Active"]
    return r


def test_each_reconcile_says_when_it_asks_to_run_again():
    # Active for less than the stable window: hold one pod and come back after the rest of
    # the window (sw - ActiveFor); past the window with the SKS already proxying: come back
    # after 3 s; Activating: after the whole activation timeout (600 s + 30 s).
    r = _active_in_proxy()
    out = r.reconcile(40.0, desired=np.array([0]), ebc=np.array([-111]), ready=np.array([1]),
                      activator_in_path=np.array([True]))
    assert (int(out.want[0]), float(out.requeue_after[0]), bool(out.probed[0])) == (1, 30.0, False)
    assert r.requeue_at[0] == 70.0
    out = r.reconcile(70.0, desired=np.array([0]), ebc=np.array([-111]), ready=np.array([1]),
                      activator_in_path=np.array([True]))
    assert (int(out.want[0]), float(out.requeue_after[0])) == (0, 3.0)
    fresh = Reconciler(KPASpec.from_configs(KPAConfig(initial_scale=1)), now=0.0)
    out = fresh.reconcile(1.0, desired=np.array([0]), ebc=np.array([-111]), ready=np.array([0]),
                          activator_in_path=np.array([True]))
    assert (int(out.want[0]), float(out.requeue_after[0])) == (-1, 630.0)


def test_nothing_is_reconciled_until_an_event_or_a_timer():
    r = _active_in_proxy()
    quiet = dict(desired=1, ebc=-111, ready=1, pods=1, activator_in_path=True)
    for t in (11.0, 12.0, 40.0):
        assert not r.reconcile_on_events(t, **quiet).ran[0]  # no change, no timer asked
    assert r.reconcile_on_events(41.0, **{**quiet, "ready": 2, "pods": 2}).ran[0]  # a pod event
    # The decider's status: a new desired scale is an event; an EBC change within its sign is not.
    assert r.reconcile_on_events(42.0, **{**quiet, "ready": 2, "pods": 2, "desired": 2}).ran[0]
    assert not r.reconcile_on_events(43.0, **{**quiet, "ready": 2, "pods": 2, "desired": 2, "ebc": -50}).ran[0]
    assert r.reconcile_on_events(44.0, **{**quiet, "ready": 2, "pods": 2, "desired": 2, "ebc": 5}).ran[0]


def test_the_last_pod_goes_when_the_pa_goes_inactive_if_the_activator_proxied_long_enough():
    # TBC 211 keeps the SKS in Proxy; once the decider wants 0 past the stable window the
    # PA goes Inactive, and the status change reconciles the PA again at once: the grace
    # period has long passed in Proxy, so the pod goes in the same instant (the fast path).
    r = _active_in_proxy()
    out = r.reconcile_on_events(100.0, desired=0, ebc=-111, ready=1, pods=1, activator_in_path=True)
    assert r.state_names() == ["Inactive"] and int(r.replicas[0]) == 0 and out.patched[0]
    assert out.probed[0]  # TBC != -1: it checked that the activator is in the path


def test_an_inactive_pa_not_yet_behind_the_activator_probes_then_waits_out_the_grace_period():
    # TBC 0: Serve while pods are wanted. When the decider wants 0 the PA goes Inactive and
    # the SKS to Proxy, but the network has not switched yet: the probe fails and the
    # asynchronous probe starts. Its success requeues the PA 1 s later, which then waits
    # out the grace period less the time proxied, and removes the pod at 30 s Inactive.
    r = Reconciler(KPASpec.from_configs(KPAConfig(target_burst_capacity=0)), now=0.0)
    serve = dict(ebc=0, ready=1, pods=1)
    r.reconcile_on_events(10.0, desired=1, activator_in_path=False, **serve)
    assert r.mode[0] == Mode.SERVE
    out = r.reconcile_on_events(100.0, desired=0, activator_in_path=False, **serve)
    assert r.state_names() == ["Inactive"] and r.mode[0] == Mode.PROXY and r.probing[0]
    assert int(r.replicas[0]) == 1 and out.probed[0]
    assert not r.reconcile_on_events(101.0, desired=0, activator_in_path=True, **serve).ran[0]
    assert not r.probing[0] and r.requeue_at[0] == 102.0  # the probe found the activator
    out = r.reconcile_on_events(102.0, desired=0, activator_in_path=True, **serve)
    assert out.ran[0] and float(out.requeue_after[0]) == 28.0 and int(r.replicas[0]) == 1
    assert not r.reconcile_on_events(129.0, desired=0, activator_in_path=True, **serve).ran[0]
    out = r.reconcile_on_events(130.0, desired=0, activator_in_path=True, **serve)
    assert out.ran[0] and out.patched[0] and int(r.replicas[0]) == 0


def test_serve_starts_when_the_first_pod_is_ready_not_at_the_next_second():
    # TBC 0 and CC 0: the SKS wants Serve from the first decision, but forces Proxy while no
    # endpoint is ready. The SKS reconciler reacts to the endpoints changing, so the switch
    # to Serve leaves when the pod (created at 0 s, the initial scale) is ready at 2.5 s and
    # reaches the network 0.2 s later, at 2.7 s; the switch back to Proxy after the traffic
    # leaves on a whole second (a reconcile) and lands 0.2 s later. The reference keeps
    # exact time in Proxy, so it ends in .5; the engine samples the path at each second's
    # end, which sees Serve at 3 s (a switch sent at the next whole second would land at
    # 3.2 s and add a second).
    trace = Trace(arrivals=np.array([0.2]), durations=np.array([0.1]), name="one")
    platform = Platform(cold_start=ColdStart(kind="constant", shift=2.5), mode_switch_delay=0.2)
    config = KPAConfig(target_burst_capacity=0)
    exact = reference.simulate(trace, config, platform=platform, duration=300.0)
    exact_proxied = float(exact.summary["activator_fraction"].iloc[0]) * 300.0
    assert exact_proxied % 1.0 == pytest.approx(0.5, abs=1e-9)
    result = replay(trace, [config], platform=platform, duration=300.0)
    sampled = float(result.summary["activator_fraction"].iloc[0]) * 300.0
    assert sampled == pytest.approx(exact_proxied - 0.5, abs=1e-9)
