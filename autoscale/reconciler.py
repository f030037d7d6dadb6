"""The KPA reconciler: scale bounds, scale to zero, Proxy/Serve mode and activators (``pkg/reconciler/autoscaling/kpa``).

It turns the decider's published desired scale into deployment replicas, keeps the
PodAutoscaler's Active condition (Activating, Active, Inactive) with its transition
time, and decides whether the activator is in the request path. The rule is one compiled
function of one configuration, :func:`reconcile`, which the replay loop
(:mod:`autoscale.loop`) calls directly and :class:`Reconciler` calls row by row for a
batch (every array has the configurations on its leading axis).

Knative reconciles on events, and so does the replay loop, through
:func:`reconcile_on_events`: when the decider's status changes (its desired scale, or the
sign of its excess burst capacity: ``pkg/autoscaler/scaling/multiscaler.go``
``updateLatestScale``), when a pod is created, becomes ready or goes, when a timer the
reconciler set for itself fires (``scaler.go`` ``handleScaleToZero`` asks to be called
again after the stable window, the grace period less the time proxied, the pod
retention, the activation timeout, or 3 s while the SKS already proxies), when the
asynchronous activator probe finishes (polled every second; the PA is requeued 1 s
later), and at once again after a reconcile that changed the PA's status or the SKS
(their own watch events). The loop looks at these events at every second boundary and
at a poke (``docs/model.md`` §3.5).

Examples
--------
The default configuration after a pod became ready and load stopped: the decider wants
0, but the PA has been Active for less than a stable window, so one pod is held.

>>> import numpy as np
>>> from autoscale import KPAConfig, KPASpec
>>> from autoscale.reconciler import Reconciler
>>> r = Reconciler(KPASpec.from_configs(KPAConfig()), now=0.0)
>>> out = r.reconcile(5.0, desired=np.array([1]), ebc=np.array([-111]), ready=np.array([1]),
...                   activator_in_path=np.array([True]))
>>> r.state_names()
['Active']
>>> out = r.reconcile(30.0, desired=np.array([0]), ebc=np.array([-111]), ready=np.array([1]),
...                   activator_in_path=np.array([True]))
>>> int(out.want[0]), int(r.replicas[0])
(1, 1)
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from ._numba import JIT, LEAF
from .spec import (
    P_ACTIVATION_TIMEOUT, P_ACTIVATOR_CAPACITY, P_GRACE, P_INITIAL_SCALE, P_MAX_SCALE, P_MIN_SCALE, P_REACHABLE,
    P_RETENTION, P_SCALE_TO_ZERO, P_STABLE_WINDOW, P_TBC, P_TOTAL, KPASpec, as_batch,
)

__all__ = ["ActiveState", "Mode", "Reconciler", "ReconcileResult", "activator_count", "reconcile",
           "reconcile_on_events", "new_reconciler_state", "serve_waits_for_pod"]


class ActiveState(enum.IntEnum):
    """The PodAutoscaler's Active condition: Unknown, True, False."""

    ACTIVATING = 0
    ACTIVE = 1
    INACTIVE = 2


class Mode(enum.IntEnum):
    """The ServerlessService mode: activator in the path (Proxy) or pods direct (Serve)."""

    PROXY = 0
    SERVE = 1


_ACTIVATING, _ACTIVE, _INACTIVE = int(ActiveState.ACTIVATING), int(ActiveState.ACTIVE), int(ActiveState.INACTIVE)
_PROXY, _SERVE = int(Mode.PROXY), int(Mode.SERVE)
_INF_S = math.inf

# A reconciler's state: float64 [when the Active condition last changed, when the SKS
# last entered Proxy], int64 [deployment replicas, Active condition, SKS mode, whether
# the revision has been initialised (reached its initial scale), PA DesiredScale,
# activators].
RF_STATE_SINCE, RF_PROXY_SINCE, RF_REQUEUE, RF_PROBE_SINCE = range(4)
N_RF = 4
RI_REPLICAS, RI_STATE, RI_MODE, RI_INITIALIZED, RI_DESIRED, RI_ACTIVATORS = range(6)
RI_SEEN_DESIRED, RI_SEEN_EBC_SIGN, RI_SEEN_READY, RI_SEEN_PODS, RI_ACTUAL = range(6, 11)
N_RI = 11
# RF_REQUEUE: when the work queue hands the PA back (the earliest requeue asked for; inf:
# none); RF_PROBE_SINCE: when the asynchronous activator probe started (NaN: none in
# flight). RI_SEEN_*: the decider status and pod counts the last event check saw.
# RI_ACTUAL: the PA's ActualScale, the ready pods at its last reconcile (``kpa.go`` ``computeStatus``).
PROBE_PERIOD = 1.0  # scaler.go probePeriod
PROBE_TIMEOUT = 45.0  # scaler.go probeTimeout
PROBE_REQUEUE = 1.0  # scaler.go reenqeuePeriod: the PA comes back this long after the probe ends
PROXY_REQUEUE = 3.0  # scaler.go: an Active PA past its stable window whose SKS already proxies
MAX_CASCADE = 4  # reconciles in a row at one instant, each caused by the one before changing status


@dataclass(frozen=True, eq=False)
class ReconcileResult:
    """One reconcile of a batch; arrays of shape ``(B,)``."""

    want: np.ndarray  #: int64, the scale the reconciler wants (-1 = unknown, do nothing)
    requeue_after: np.ndarray  #: float64 seconds after which the reconcile asked to run again (inf: none)
    probed: np.ndarray  #: bool, the reconcile probed whether the activator is in the path
    ran: np.ndarray  #: bool, the row was reconciled (always, for :meth:`Reconciler.reconcile`)
    replicas: np.ndarray  #: int64 deployment replicas after any patch
    patched: np.ndarray  #: bool, the deployment was patched this reconcile
    mode: np.ndarray  #: int8 Mode the SKS is set to
    activators: np.ndarray  #: int64 activators serving the revision in Proxy mode
    state: np.ndarray  #: int8 ActiveState after the reconcile
    actual_scale: np.ndarray  #: int64 the PA's ActualScale: the ready pods this reconcile saw
    #: bool, Serve is wanted but no pod is ready: the first ready pod sends the switch (:func:`serve_waits_for_pod`)
    serve_on_ready: np.ndarray


@nb.njit(**LEAF)
def activators_for(pf, ready):
    """Activators that serve the revision in Proxy mode (at least 2): see :func:`activator_count`."""
    if pf[P_TBC] == 0.0:
        return 2
    cap = ready * pf[P_TOTAL] + max(pf[P_TBC], 0.0)
    return int(max(2.0, math.ceil(cap / pf[P_ACTIVATOR_CAPACITY])))


def activator_count(spec: KPASpec, ready: np.ndarray) -> np.ndarray:
    """Activators that serve the revision in Proxy mode (at least 2).

    Enough to absorb the pods' capacity plus TBC at ``activator-capacity`` each:
    1 ready pod of total 100 with TBC 200 needs ceil(300/100) = 3. TBC = 0 always gives 2.
    """
    pf, _ = spec.packed()
    ready = np.broadcast_to(np.asarray(ready, dtype=np.int64), (spec.batch,))
    return np.array([activators_for(pf[b], ready[b]) for b in range(spec.batch)], dtype=np.int64)


@nb.njit(**LEAF)
def new_reconciler_state(pi, now, rf, ri):
    """A revision created at ``now``: the deployment at the initial scale, the PA Activating, the SKS in Proxy."""
    rf[RF_STATE_SINCE] = now
    rf[RF_PROXY_SINCE] = now
    ri[RI_REPLICAS] = pi[P_INITIAL_SCALE]
    ri[RI_STATE] = _ACTIVATING
    ri[RI_MODE] = _PROXY
    ri[RI_INITIALIZED] = 0
    ri[RI_DESIRED] = -1
    ri[RI_ACTIVATORS] = 2
    rf[RF_REQUEUE] = now  # the PA's creation is reconciled at once
    rf[RF_PROBE_SINCE] = np.nan
    ri[RI_SEEN_DESIRED] = -1
    ri[RI_SEEN_EBC_SIGN] = 0
    ri[RI_SEEN_READY] = 0
    ri[RI_SEEN_PODS] = pi[P_INITIAL_SCALE]
    ri[RI_ACTUAL] = 0


@nb.njit(**LEAF)
def min_ready(pi, ri):
    """Ready pods needed to count as Active (``kpa.go`` ``activeThreshold``).

    max(min, initial) until initialised, then max(min, 1); the minimum is the PA's scale
    bound, which is 0 for an unreachable revision.
    """
    lo = pi[P_MIN_SCALE] if pi[P_REACHABLE] != 0 else 0
    if ri[RI_INITIALIZED]:
        return max(lo, 1)
    return max(lo, pi[P_INITIAL_SCALE])


@nb.njit(**LEAF)
def _scale(pf, pi, rf, ri, now, desired, in_path):
    """``scaler.go`` ``(*scaler).scale``: the scale the reconciler wants, whether to apply it,
    the requeue it asks for (seconds, inf: none) and whether it probed the activator path.

    An unknown desired scale (-1) while the PA is not Activating comes back as it came,
    not applied. Otherwise the scale bounds, then the scale-to-zero rules
    (``handleScaleToZero``).
    """
    state = ri[RI_STATE]
    activating = state == _ACTIVATING
    if desired < 0 and not activating:
        return -1, False, _INF_S, False  # metrics not ready yet: do nothing
    reachable = pi[P_REACHABLE] != 0
    lo = pi[P_MIN_SCALE] if reachable else 0
    if pi[P_INITIAL_SCALE] > 1 and not ri[RI_INITIALIZED] and reachable:
        lo = max(lo, pi[P_INITIAL_SCALE])
    hi = pi[P_MAX_SCALE]
    x = lo if desired < lo else (hi if hi != 0 and desired > hi else desired)
    if x != 0:
        return x, True, _INF_S, False
    if pi[P_SCALE_TO_ZERO] == 0:
        return 1, True, _INF_S, False  # enable-scale-to-zero = false turns every 0 into 1
    elapsed = now - rf[RF_STATE_SINCE]
    if activating:
        # Give up (scale to 0) only after the activation timeout; until then come back then.
        if elapsed > pf[P_ACTIVATION_TIMEOUT]:
            return 0, True, _INF_S, False
        return -1, False, pf[P_ACTIVATION_TIMEOUT], False
    if state == _ACTIVE:
        # Hold one pod until the PA has been Active for a stable window; then want 0
        # without touching the pods, which marks the PA Inactive.
        sw = float(pi[P_STABLE_WINDOW])
        if elapsed < sw:
            return 1, True, sw - elapsed, False
        return 0, False, (PROXY_REQUEUE if ri[RI_MODE] == _PROXY else _INF_S), False
    # Inactive: remove the last pod once the activator is in the path and both the grace
    # period (or the time already proxied) and the retention period allow.
    probe = pf[P_TBC] != -1.0  # with TBC -1 the activator is always in the path
    if probe and not in_path:
        if math.isnan(rf[RF_PROBE_SINCE]):
            rf[RF_PROBE_SINCE] = now  # the asynchronous probe; it requeues the PA when done
        return 0, False, _INF_S, True
    retention = pf[P_RETENTION] if reachable else 0.0
    grace = pf[P_GRACE]
    if elapsed >= max(grace, retention):
        return 0, True, _INF_S, probe
    if retention > 0 and elapsed < retention:
        return 0, False, retention - elapsed, probe
    proxy_for = now - rf[RF_PROXY_SINCE] if ri[RI_MODE] == _PROXY else 0.0
    if grace - proxy_for <= 0:
        return 0, True, _INF_S, probe
    return 0, False, grace - proxy_for, probe


@nb.njit(**LEAF)
def reconcile(pf, pi, rf, ri, now, desired, ebc, ready, in_path):
    """Reconcile one configuration at ``now`` (seconds). Returns ``(want, patched, requeue_after, probed)``.

    ``desired`` and ``ebc`` are the decider's published desired scale (-1 = unknown) and
    excess burst capacity, ``ready`` the ready pods, ``in_path`` whether the network
    really routes through the activator now (the probe). The SKS mode is left in
    ``ri[RI_MODE]`` and the replicas in ``ri[RI_REPLICAS]``; a requeue asked for is kept
    in ``rf[RF_REQUEUE]`` (the earliest one wins, as in Kubernetes' delaying work queue).
    """
    state = ri[RI_STATE]
    want, apply, requeue_after, probed = _scale(pf, pi, rf, ri, now, desired, in_path)
    if requeue_after < _INF_S:
        rf[RF_REQUEUE] = min(rf[RF_REQUEUE], now + requeue_after)
    patched = apply and want != ri[RI_REPLICAS]
    if patched:
        ri[RI_REPLICAS] = want

    # SKS mode: Serve only when pods are wanted and the burst capacity suffices; the SKS
    # reconciler forces Proxy while no pod is ready.
    mode = _SERVE if (want > 0 and ebc >= 0 and ready > 0) else _PROXY
    if mode == _PROXY and ri[RI_MODE] != _PROXY:
        rf[RF_PROXY_SINCE] = now
    ri[RI_MODE] = mode
    ri[RI_ACTIVATORS] = activators_for(pf, ready)
    ri[RI_ACTUAL] = ready

    # PA status.
    if want >= 0:
        ri[RI_DESIRED] = want
    need = min_ready(pi, ri)
    if ready >= need:
        ri[RI_INITIALIZED] = 1
    if want == 0 or need == 0:
        new = _INACTIVE
    elif want > 0 or (want == -1 and state != _INACTIVE):
        new = _ACTIVATING if ready < need else _ACTIVE
    else:
        new = state
    if new != state:
        rf[RF_STATE_SINCE] = now
    ri[RI_STATE] = new
    return want, patched, requeue_after, probed


@nb.njit(**LEAF)
def serve_waits_for_pod(want, ebc, ready):
    """The SKS is asked for Serve but has no ready endpoint, so it stays in Proxy until the first pod is ready.

    The KPA asks for Serve when it wants pods and the excess burst capacity is not
    negative (``kpa.go``); the SKS reconciler forces Proxy while the private service has no
    ready endpoint (``pkg/reconciler/serverlessservice``), and its endpoints watch sends
    the switch the moment one appears.
    """
    return want > 0 and ebc >= 0 and ready == 0


@nb.njit(**LEAF)
def _events_due(rf, ri, now, desired, ebc, ready, pods, in_path):
    """Whether an event since the last check makes Knative reconcile by ``now`` (see the module docstring)."""
    due = rf[RF_REQUEUE] <= now
    if due:
        rf[RF_REQUEUE] = _INF_S
    since = rf[RF_PROBE_SINCE]
    if not math.isnan(since) and (in_path or now - since >= PROBE_TIMEOUT):
        rf[RF_PROBE_SINCE] = np.nan  # the probe succeeded or gave up: the PA comes back shortly
        rf[RF_REQUEUE] = min(rf[RF_REQUEUE], now + PROBE_REQUEUE)
    sign = 1 if ebc >= 0 else 0
    if desired != ri[RI_SEEN_DESIRED] or sign != ri[RI_SEEN_EBC_SIGN]:
        due = True
    if ready != ri[RI_SEEN_READY] or pods != ri[RI_SEEN_PODS]:
        due = True
    ri[RI_SEEN_DESIRED] = desired
    ri[RI_SEEN_EBC_SIGN] = sign
    ri[RI_SEEN_READY] = ready
    ri[RI_SEEN_PODS] = pods
    return due


@nb.njit(**LEAF)
def reconcile_on_events(pf, pi, rf, ri, now, desired, ebc, ready, pods, in_path):
    """Reconcile at ``now`` if Knative would have (see the module docstring); ``pods`` counts every live pod.

    Returns ``(want, patched, requeue_after, probed, ran)``: the last reconcile's result, or
    ``(-1, False, inf, False, False)`` when nothing was due. A reconcile that changes the
    PA's status or the SKS is followed at once by another (their watch events), up to
    ``MAX_CASCADE`` in a row.
    """
    if not _events_due(rf, ri, now, desired, ebc, ready, pods, in_path):
        return -1, False, _INF_S, False, False
    want, patched, requeue_after, probed = -1, False, _INF_S, False
    for _ in range(MAX_CASCADE):
        state, mode, published, replicas = ri[RI_STATE], ri[RI_MODE], ri[RI_DESIRED], ri[RI_REPLICAS]
        want, p, requeue_after, probed = reconcile(pf, pi, rf, ri, now, desired, ebc, ready, in_path)
        patched = patched or p
        if (state == ri[RI_STATE] and mode == ri[RI_MODE] and published == ri[RI_DESIRED]
                and replicas == ri[RI_REPLICAS]):
            break
    return want, patched, requeue_after, probed, True


@nb.njit(**JIT)
def _reconcile_batch(pf, pi, rf, ri, now, desired, ebc, ready, pods, in_path, mask, on_events, want, patched,
                     requeue_after, probed, ran, serve_wait):
    for b in range(pf.shape[0]):
        want[b], patched[b], requeue_after[b], probed[b], ran[b] = -1, False, _INF_S, False, False
        if not mask[b]:
            continue
        if on_events:
            want[b], patched[b], requeue_after[b], probed[b], ran[b] = reconcile_on_events(
                pf[b], pi[b], rf[b], ri[b], now[b], desired[b], ebc[b], ready[b], pods[b], in_path[b])
        else:
            want[b], patched[b], requeue_after[b], probed[b] = reconcile(
                pf[b], pi[b], rf[b], ri[b], now[b], desired[b], ebc[b], ready[b], in_path[b])
            ran[b] = True
        serve_wait[b] = serve_waits_for_pod(want[b], ebc[b], ready[b])


class Reconciler:
    """A batch of KPA reconcilers with the PA, SKS and deployment state they keep (each row runs :func:`reconcile`).

    Parameters
    ----------
    spec : KPASpec
    now : float
        Creation time of the revision, seconds. The deployment starts at the initial
        scale, the PA Activating, and the SKS in Proxy mode.
    """

    def __init__(self, spec: KPASpec, now: float) -> None:
        self.spec = spec
        b = spec.batch
        self._pf, self._pi = spec.packed()
        self._rf = np.empty((b, N_RF))
        self._ri = np.empty((b, N_RI), dtype=np.int64)
        for i in range(b):
            new_reconciler_state(self._pi[i], float(now), self._rf[i], self._ri[i])

    @property
    def replicas(self) -> np.ndarray:
        """Deployment replicas."""
        return self._ri[:, RI_REPLICAS].copy()

    @property
    def state(self) -> np.ndarray:
        """The PA's Active condition (:class:`ActiveState` values)."""
        return self._ri[:, RI_STATE].astype(np.int8)

    @property
    def mode(self) -> np.ndarray:
        """The SKS mode (:class:`Mode` values)."""
        return self._ri[:, RI_MODE].astype(np.int8)

    @property
    def initialized(self) -> np.ndarray:
        return self._ri[:, RI_INITIALIZED].astype(bool)

    @property
    def desired_scale(self) -> np.ndarray:
        """The PA status's DesiredScale (-1: unknown)."""
        return self._ri[:, RI_DESIRED].copy()

    @property
    def activators(self) -> np.ndarray:
        """Activators the SKS is asked to put in the revision's endpoints in Proxy mode."""
        return self._ri[:, RI_ACTIVATORS].copy()

    @property
    def actual_scale(self) -> np.ndarray:
        """The PA's ActualScale: ready pods at the last reconcile (``kpa.go`` ``computeStatus``)."""
        return self._ri[:, RI_ACTUAL].copy()

    @property
    def state_since(self) -> np.ndarray:
        return self._rf[:, RF_STATE_SINCE].copy()

    @property
    def proxy_since(self) -> np.ndarray:
        return self._rf[:, RF_PROXY_SINCE].copy()

    def state_names(self) -> list[str]:
        """The Active condition of each configuration, as words."""
        return [ActiveState(int(s)).name.capitalize() for s in self.state]

    def min_ready(self) -> np.ndarray:
        """Ready pods needed to count as Active (see :func:`min_ready`)."""
        return np.array([min_ready(self._pi[b], self._ri[b]) for b in range(self.spec.batch)], dtype=np.int64)

    def reconcile(
        self,
        now: float,
        desired: np.ndarray,
        ebc: np.ndarray,
        ready: np.ndarray,
        activator_in_path: np.ndarray,
        mask: np.ndarray | None = None,
    ) -> ReconcileResult:
        """Reconcile every configuration at ``now`` (seconds).

        Parameters
        ----------
        desired, ebc : int arrays
            The decider's published desired scale (-1 = unknown) and excess burst capacity.
        ready : int array
            Ready pods.
        activator_in_path : bool array
            Whether the network really routes through the activator now (the probe).
        mask : bool array, optional
            Rows to reconcile; the others keep their state (their ``want`` reads -1).
            ``now`` may be an array.
        """
        return self._run(now, desired, ebc, ready, ready, activator_in_path, mask, False)

    def reconcile_on_events(
        self,
        now: float,
        desired: np.ndarray,
        ebc: np.ndarray,
        ready: np.ndarray,
        pods: np.ndarray,
        activator_in_path: np.ndarray,
        mask: np.ndarray | None = None,
    ) -> ReconcileResult:
        """Reconcile the rows where Knative would have by ``now``: see :func:`reconcile_on_events`.

        Call it at every instant something may have happened (the replay loop calls it at
        every second boundary and at a poke); ``pods`` counts every live pod (starting,
        ready, draining). Rows with nothing due keep their state; their ``ran`` is False.
        """
        return self._run(now, desired, ebc, ready, pods, activator_in_path, mask, True)

    @property
    def requeue_at(self) -> np.ndarray:
        """When each PA's requested requeue fires (inf: none)."""
        return self._rf[:, RF_REQUEUE].copy()

    @property
    def probing(self) -> np.ndarray:
        """Rows with an asynchronous activator probe in flight."""
        return ~np.isnan(self._rf[:, RF_PROBE_SINCE])

    def _run(self, now, desired, ebc, ready, pods, activator_in_path, mask, on_events) -> ReconcileResult:
        b = self.spec.batch
        now = np.ascontiguousarray(as_batch(now, b, np.float64))
        desired = np.ascontiguousarray(as_batch(desired, b, np.int64))
        ebc = np.ascontiguousarray(as_batch(ebc, b, np.int64))
        ready = np.ascontiguousarray(as_batch(ready, b, np.int64))
        pods = np.ascontiguousarray(as_batch(pods, b, np.int64))
        in_path = np.ascontiguousarray(as_batch(activator_in_path, b, np.bool_))
        mask = np.ones(b, dtype=np.bool_) if mask is None else np.ascontiguousarray(as_batch(mask, b, np.bool_))
        want = np.empty(b, dtype=np.int64)
        patched = np.empty(b, dtype=np.bool_)
        requeue_after = np.empty(b)
        probed = np.empty(b, dtype=np.bool_)
        ran = np.empty(b, dtype=np.bool_)
        serve_wait = np.empty(b, dtype=np.bool_)
        _reconcile_batch(self._pf, self._pi, self._rf, self._ri, now, desired, ebc, ready, pods, in_path, mask,
                         on_events, want, patched, requeue_after, probed, ran, serve_wait)
        return ReconcileResult(want=want, requeue_after=requeue_after, probed=probed, ran=ran,
                               replicas=self.replicas, patched=patched, mode=self.mode,
                               activators=self.activators, state=self.state, actual_scale=self.actual_scale,
                               serve_on_ready=serve_wait)
