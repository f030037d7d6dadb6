"""Where the model follows Knative's own code beyond the decider: random streams, backend order, reachability.

The reconciler's rules on their own are in ``test_reconciler.py``.

Each test is a timestamped scenario that states the Knative behaviour it checks and the
source it comes from (knative/serving).
"""

from __future__ import annotations

import numpy as np
import pytest

from autoscale import KPAConfig, replay
from autoscale._state import (
    CI_PHIGH, N_CF, N_CI, N_PF, N_PI, N_RS, PF_ADDR, PI_ACT, PI_STATE, READY, reset_rows,
)
from autoscale.activator import _pick_activator
from autoscale.pods import _new_pod
from autoscale.rng import STREAMS, SplitMix64, seed_states
from autoscale.trace import synthetic
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
        pf = np.zeros((1, N_PF, n))
        pi = np.zeros((1, N_PI, n), dtype=np.int64)
        cf = np.zeros((1, N_CF))
        ci = np.zeros((1, N_CI), dtype=np.int64)
        reset_rows(cf, ci)
        ci[0, CI_PHIGH] = n
        pf[0, PF_ADDR] = addresses
        pi[0, PI_STATE] = READY
        pi[0, PI_ACT] = outstanding
        return pf, pi, cf, ci, np.ones((1, N_RS), dtype=np.uint64)

    def test_first_available_takes_the_lowest_address_with_room(self):
        pf, pi, cf, ci, rng = self._pods([0.7, 0.2, 0.5], [0, 0, 0])
        assert _pick_activator(pf, pi, cf, ci, rng, 0, 1) == 1  # not slot 0, the oldest
        pi[0, PI_ACT, 1] = 1
        assert _pick_activator(pf, pi, cf, ci, rng, 0, 1) == 2
        pi[0, PI_ACT, 2] = 1
        assert _pick_activator(pf, pi, cf, ci, rng, 0, 1) == 0
        pi[0, PI_ACT, 0] = 1
        assert _pick_activator(pf, pi, cf, ci, rng, 0, 1) == -1

    def test_round_robin_walks_the_addresses_and_skips_full_pods(self):
        pf, pi, cf, ci, rng = self._pods([0.7, 0.2, 0.5, 0.9], [0, 0, 0, 4])
        picks = [_pick_activator(pf, pi, cf, ci, rng, 0, 4) for _ in range(6)]
        assert picks == [1, 2, 0, 1, 2, 0]  # slot 3 is full (4 outstanding)
        pi[0, PI_ACT, 3] = 0
        assert [_pick_activator(pf, pi, cf, ci, rng, 0, 4) for _ in range(4)] == [3, 1, 2, 0]


def test_every_pod_gets_its_own_random_address_at_creation():
    pf = np.zeros((1, N_PF, 4))
    pi = np.zeros((1, N_PI, 4), dtype=np.int64)
    cf, ci = np.zeros((1, N_CF)), np.zeros((1, N_CI), dtype=np.int64)
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

