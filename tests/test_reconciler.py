"""The KPA reconciler (``pkg/reconciler/autoscaling/kpa``) as timestamped scenarios, plus batch consistency under hypothesis."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoscale.config import KPAConfig
from autoscale.reconciler import ActiveState, Mode, Reconciler, activator_count
from autoscale.spec import KPASpec


class Scenario:
    """One configuration's reconciler, driven with scalars."""

    def __init__(self, **kw):
        self.spec = KPASpec.from_configs(KPAConfig(**kw))
        self.r = Reconciler(self.spec, now=0.0)

    def at(self, now, desired, ready, in_path=True, ebc=-1):
        out = self.r.reconcile(float(now), np.array([desired]), np.array([ebc]), np.array([ready]),
                               np.array([in_path]))
        return int(out.want[0]), int(out.replicas[0])

    @property
    def state(self):
        return ActiveState(int(self.r.state[0]))


def test_new_revision_starts_at_initial_scale_and_waits_for_metrics():
    s = Scenario()
    assert s.r.replicas[0] == 1 and s.state is ActiveState.ACTIVATING
    assert s.at(1, desired=-1, ready=0) == (-1, 1)
    assert s.state is ActiveState.ACTIVATING
    s.at(3, desired=-1, ready=1)
    assert s.state is ActiveState.ACTIVE


def test_active_revision_holds_one_pod_for_a_stable_window_then_goes_inactive():
    s = Scenario()
    s.at(3, desired=1, ready=1)  # Active since t = 3
    assert s.at(30, desired=0, ready=1) == (1, 1)
    assert s.state is ActiveState.ACTIVE
    want, replicas = s.at(63, desired=0, ready=1)
    assert (want, replicas) == (0, 1), "at ActiveFor >= stable window: want 0 without touching pods"
    assert s.state is ActiveState.INACTIVE


def test_last_pod_removed_at_once_when_activator_proxied_longer_than_grace():
    s = Scenario()  # default TBC 211 keeps the SKS in Proxy from t = 0
    s.at(3, desired=1, ready=1)
    s.at(63, desired=0, ready=1)
    assert s.at(64, desired=0, ready=1) == (0, 0)


def test_last_pod_waits_out_the_grace_period_after_leaving_serve():
    s = Scenario(target_burst_capacity=0)
    s.at(3, desired=1, ready=1, ebc=0)
    assert s.r.mode[0] == Mode.SERVE
    s.at(63, desired=0, ready=1, ebc=0)  # want 0: SKS back to Proxy at t = 63
    assert s.r.mode[0] == Mode.PROXY
    assert s.at(70, desired=0, ready=1) == (0, 1)
    assert s.at(92, desired=0, ready=1) == (0, 1)
    assert s.at(93, desired=0, ready=1) == (0, 0)  # 30 s grace


def test_last_pod_waits_while_the_activator_is_not_yet_in_the_path():
    s = Scenario()
    s.at(3, desired=1, ready=1)
    s.at(63, desired=0, ready=1)
    assert s.at(200, desired=0, ready=1, in_path=False) == (0, 1)


def test_pod_retention_period_keeps_the_last_pod():
    s = Scenario(scale_to_zero_pod_retention_period=100)
    s.at(3, desired=1, ready=1)
    s.at(63, desired=0, ready=1)
    assert s.at(100, desired=0, ready=1) == (0, 1)
    assert s.at(163, desired=0, ready=1) == (0, 0)


def test_scale_to_zero_disabled_keeps_one_pod():
    s = Scenario(enable_scale_to_zero=False)
    s.at(3, desired=1, ready=1)
    assert s.at(500, desired=0, ready=1) == (1, 1)


def test_min_and_max_scale_bound_the_decision():
    s = Scenario(min_scale=2, max_scale=5)
    s.at(3, desired=1, ready=1)
    assert s.r.replicas[0] == 2
    assert s.at(5, desired=10, ready=2) == (5, 5)
    assert s.at(500, desired=0, ready=5) == (2, 2)


def test_initial_scale_raises_the_floor_until_first_reached():
    s = Scenario(initial_scale=3)
    assert s.r.replicas[0] == 3
    assert s.at(2, desired=1, ready=1) == (3, 3)
    assert s.state is ActiveState.ACTIVATING
    s.at(4, desired=1, ready=3)  # initialized now
    assert s.at(6, desired=1, ready=3) == (1, 1)


def test_activation_times_out_after_progress_deadline_plus_30s():
    s = Scenario(progress_deadline=60)
    s.at(1, desired=0, ready=0)
    assert s.at(90, desired=0, ready=0) == (-1, 1)
    assert s.at(91, desired=0, ready=0) == (0, 0)
    assert s.state is ActiveState.INACTIVE


def test_unknown_desired_scale_leaves_an_active_revision_alone():
    # scaler.go scale: -1 while not Activating comes back as -1; kpa.go keeps the last
    # DesiredScale and the PA stays Active (it is not marked Inactive, no clock starts).
    s = Scenario()
    assert s.at(1, desired=1, ready=1) == (1, 1)
    assert s.state is ActiveState.ACTIVE
    since = float(s.r.state_since[0])
    assert s.at(2, desired=-1, ready=1) == (-1, 1)
    assert s.state is ActiveState.ACTIVE and float(s.r.state_since[0]) == since
    assert int(s.r.desired_scale[0]) == 1
    assert Mode(int(s.r.mode[0])) is Mode.PROXY  # want -1 is never Serve


def test_unknown_desired_scale_while_inactive_stays_inactive():
    s = Scenario()
    s.at(1, desired=1, ready=1)
    s.at(70, desired=0, ready=1)
    assert s.state is ActiveState.INACTIVE
    since = float(s.r.state_since[0])
    assert s.at(71, desired=-1, ready=1) == (-1, 1)
    assert s.state is ActiveState.INACTIVE and float(s.r.state_since[0]) == since


def test_unreachable_revision_ignores_min_scale_in_the_active_threshold():
    # kpa.go activeThreshold takes its minimum from ScaleBounds, which is 0 when the
    # revision is unreachable: one ready pod makes the PA Active, so it can go Inactive
    # after a stable window instead of staying Activating until the activation timeout.
    s = Scenario(min_scale=2, reachable=False)
    assert int(s.r.min_ready()[0]) == 1
    s.at(1, desired=0, ready=1)
    assert s.state is ActiveState.ACTIVE
    assert s.at(30, desired=0, ready=1) == (1, 1)
    assert s.at(61, desired=0, ready=1) == (0, 1)
    assert s.state is ActiveState.INACTIVE
    assert s.at(62, desired=0, ready=1) == (0, 0)  # proxied since t = 0, longer than the grace period
    reachable = Scenario(min_scale=2)
    assert int(reachable.r.min_ready()[0]) == 2


@pytest.mark.parametrize(
    "tbc, want, ebc, ready, mode",
    [(-1, 5, -1, 5, Mode.PROXY), (0, 2, 0, 2, Mode.SERVE), (0, 2, 0, 0, Mode.PROXY), (211, 3, -5, 3, Mode.PROXY),
     (211, 30, 10, 30, Mode.SERVE)],
    ids=["tbc-1-always-proxy", "tbc0-serve", "no-ready-pods-forces-proxy", "negative-ebc", "enough-capacity"],
)
def test_sks_mode(tbc, want, ebc, ready, mode):
    s = Scenario(target_burst_capacity=tbc)
    s.at(1, desired=want, ready=ready, ebc=ebc)
    assert Mode(int(s.r.mode[0])) is mode


@pytest.mark.parametrize(
    "tbc, ready, expected",
    [(200, 0, 2), (200, 1, 3), (200, 15, 17), (-1, 5, 5), (0, 50, 2)],
)
def test_activator_count(tbc, ready, expected):
    spec = KPASpec.from_configs(KPAConfig(target_burst_capacity=tbc))  # total 100
    assert activator_count(spec, np.array([ready]))[0] == expected


def test_masked_rows_keep_their_state():
    spec = KPASpec.from_configs([KPAConfig(), KPAConfig()])
    r = Reconciler(spec, now=0.0)
    r.reconcile(3.0, np.array([1, 1]), np.array([-1, -1]), np.array([1, 1]), np.array([True, True]),
                mask=np.array([True, False]))
    assert list(r.state) == [ActiveState.ACTIVE, ActiveState.ACTIVATING]


cfgs = st.builds(
    KPAConfig,
    target_burst_capacity=st.sampled_from([-1.0, 0.0, 211.0]),
    min_scale=st.sampled_from([0, 1, 3]),
    initial_scale=st.sampled_from([1, 2]),
    enable_scale_to_zero=st.booleans(),
    scale_to_zero_pod_retention_period=st.sampled_from([0.0, 20.0]),
)
steps = st.lists(st.tuples(st.integers(-1, 8), st.integers(0, 8), st.booleans(), st.integers(-20, 20)),
                 min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(cs=st.lists(cfgs, min_size=1, max_size=4), seq=steps)
def test_scale_within_bounds_and_batch_equals_alone(cs, seq):
    batch = Reconciler(KPASpec.from_configs(cs), now=0.0)
    alone = [Reconciler(KPASpec.from_configs(c), now=0.0) for c in cs]
    n = len(cs)
    for i, (desired, ready, in_path, ebc) in enumerate(seq):
        t = 5.0 * (i + 1)
        out = batch.reconcile(t, np.full(n, desired), np.full(n, ebc), np.full(n, ready), np.full(n, in_path))
        for j, (c, r) in enumerate(zip(cs, alone)):
            one = r.reconcile(t, np.array([desired]), np.array([ebc]), np.array([ready]), np.array([in_path]))
            assert out.replicas[j] == one.replicas[0] and out.mode[j] == one.mode[0]
            assert out.replicas[j] >= 0
            if c.max_scale:
                assert out.replicas[j] <= c.max_scale
            if batch.initialized[j] and out.patched[j]:
                assert out.replicas[j] >= c.min_scale
            if out.mode[j] == Mode.SERVE:
                assert out.want[j] > 0 and ebc >= 0 and ready > 0


def test_actual_scale_is_the_ready_pods_each_reconcile_saw():
    # kpa.go computeStatus: ActualScale = the ready pods counted by this reconcile.
    rec = Reconciler(KPASpec.from_configs([KPAConfig(), KPAConfig(min_scale=2)]), now=0.0)
    assert list(rec.actual_scale) == [0, 0]
    r = rec.reconcile(1.0, np.array([3, 2]), np.array([0, 0]), np.array([1, 2]), np.array([True, True]))
    assert list(r.actual_scale) == [1, 2] and list(rec.actual_scale) == [1, 2]
    r = rec.reconcile(2.0, np.array([3, 2]), np.array([0, 0]), np.array([3, 0]), np.array([True, True]),
                      mask=np.array([True, False]))
    assert list(r.actual_scale) == [3, 2]  # the second row was not reconciled and keeps its status
