"""The KPA reconciler: scale bounds, the scale-to-zero state machine, Proxy/Serve mode and activators (``pkg/reconciler/autoscaling/kpa``).

It turns the decider's published desired scale into deployment replicas, keeps the
PodAutoscaler's Active condition (Activating, Active, Inactive) with its transition
time, and decides whether the activator is in the request path. The rule is one compiled
function of one configuration, :func:`reconcile`, which the replay loop
(:mod:`autoscale.loop`) calls directly and :class:`Reconciler` calls row by row for a
batch (every array has the configurations on its leading axis).

Knative reconciles on events (a decider status change, a pod change, a timer it set
for itself). The replay loop calls the rule once a second instead; each rule is a
function of the state and the time, so an extra reconcile changes nothing, but a timer
is seen at the end of its second and a condition Knative notices only on its next
requeue is seen at once (``docs/model.md`` §3.5).

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
           "new_reconciler_state"]


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

# A reconciler's state: float64 [when the Active condition last changed, when the SKS
# last entered Proxy], int64 [deployment replicas, Active condition, SKS mode, whether
# the revision has been initialised (reached its initial scale), PA DesiredScale,
# activators].
RF_STATE_SINCE, RF_PROXY_SINCE = range(2)
N_RF = 2
RI_REPLICAS, RI_STATE, RI_MODE, RI_INITIALIZED, RI_DESIRED, RI_ACTIVATORS = range(6)
N_RI = 6


@dataclass(frozen=True, eq=False)
class ReconcileResult:
    """One reconcile of a batch; arrays of shape ``(B,)``."""

    want: np.ndarray  #: int64, the scale the reconciler wants (-1 = unknown, do nothing)
    replicas: np.ndarray  #: int64 deployment replicas after any patch
    patched: np.ndarray  #: bool, the deployment was patched this reconcile
    mode: np.ndarray  #: int8 Mode the SKS is set to
    activators: np.ndarray  #: int64 activators serving the revision in Proxy mode
    state: np.ndarray  #: int8 ActiveState after the reconcile


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
    """``scaler.go`` ``(*scaler).scale``: the scale the reconciler wants, and whether to apply it.

    An unknown desired scale (-1) while the PA is not Activating comes back as it came,
    not applied. Otherwise the scale bounds, then the scale-to-zero rules.
    """
    state = ri[RI_STATE]
    activating = state == _ACTIVATING
    if desired < 0 and not activating:
        return -1, False  # metrics not ready yet: do nothing
    reachable = pi[P_REACHABLE] != 0
    lo = pi[P_MIN_SCALE] if reachable else 0
    if pi[P_INITIAL_SCALE] > 1 and not ri[RI_INITIALIZED] and reachable:
        lo = max(lo, pi[P_INITIAL_SCALE])
    hi = pi[P_MAX_SCALE]
    x = lo if desired < lo else (hi if hi != 0 and desired > hi else desired)
    if x != 0:
        return x, True
    if pi[P_SCALE_TO_ZERO] == 0:
        return 1, True  # enable-scale-to-zero = false turns every 0 into 1
    elapsed = now - rf[RF_STATE_SINCE]
    if activating:
        # Give up (scale to 0) only after the activation timeout.
        if elapsed > pf[P_ACTIVATION_TIMEOUT]:
            return 0, True
        return -1, False
    if state == _ACTIVE:
        # Hold one pod until the PA has been Active for a stable window; then want 0
        # without touching the pods, which marks the PA Inactive.
        if elapsed < pi[P_STABLE_WINDOW]:
            return 1, True
        return 0, False
    # Inactive: remove the last pod once the activator is in the path and both the grace
    # period (or the time already proxied) and the retention period allow.
    probed = pf[P_TBC] == -1.0 or in_path
    retention = pf[P_RETENTION] if reachable else 0.0
    proxy_for = now - rf[RF_PROXY_SINCE] if ri[RI_MODE] == _PROXY else 0.0
    grace = pf[P_GRACE]
    remove = (elapsed >= max(grace, retention)) or (
        not (retention > 0 and elapsed < retention) and grace - proxy_for <= 0)
    return 0, probed and remove


@nb.njit(**LEAF)
def reconcile(pf, pi, rf, ri, now, desired, ebc, ready, in_path):
    """Reconcile one configuration at ``now`` (seconds). Returns ``(want, patched)``.

    ``desired`` and ``ebc`` are the decider's published desired scale (-1 = unknown) and
    excess burst capacity, ``ready`` the ready pods, ``in_path`` whether the network
    really routes through the activator now (the probe). The SKS mode is left in
    ``ri[RI_MODE]`` and the replicas in ``ri[RI_REPLICAS]``.
    """
    state = ri[RI_STATE]
    want, apply = _scale(pf, pi, rf, ri, now, desired, in_path)
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
    return want, patched


@nb.njit(**JIT)
def _reconcile_batch(pf, pi, rf, ri, now, desired, ebc, ready, in_path, mask, want, patched):
    for b in range(pf.shape[0]):
        if mask[b]:
            want[b], patched[b] = reconcile(pf[b], pi[b], rf[b], ri[b], now[b], desired[b], ebc[b], ready[b],
                                            in_path[b])
        else:
            want[b], patched[b] = -1, False


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
        return self._ri[:, RI_ACTIVATORS].copy()

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
        b = self.spec.batch
        now = np.ascontiguousarray(as_batch(now, b, np.float64))
        desired = np.ascontiguousarray(as_batch(desired, b, np.int64))
        ebc = np.ascontiguousarray(as_batch(ebc, b, np.int64))
        ready = np.ascontiguousarray(as_batch(ready, b, np.int64))
        in_path = np.ascontiguousarray(as_batch(activator_in_path, b, np.bool_))
        mask = np.ones(b, dtype=np.bool_) if mask is None else np.ascontiguousarray(as_batch(mask, b, np.bool_))
        want = np.empty(b, dtype=np.int64)
        patched = np.empty(b, dtype=np.bool_)
        _reconcile_batch(self._pf, self._pi, self._rf, self._ri, now, desired, ebc, ready, in_path, mask, want,
                         patched)
        return ReconcileResult(want=want, replicas=self.replicas, patched=patched, mode=self.mode,
                               activators=self.activators, state=self.state)
