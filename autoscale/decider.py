"""The KPA decider: from observed stable and panic values to a desired pod count, batched.

This is Knative's ``(*autoscaler).Scale`` (``pkg/autoscaler/scaling/autoscaler.go``)
together with the status the MultiScaler keeps for it (``pkg/autoscaler/scaling/multiscaler.go``:
``DesiredScale`` starting at -1, the excess burst capacity, change notification). The
observed values come in as arguments; the metric collector that produces them is
:class:`autoscale.collector.Collector`.

The rule is one compiled function of one configuration, :func:`decide`, which the
replay loop (:mod:`autoscale.loop`) calls directly and :class:`Decider` calls row by
row for a batch.

Examples
--------
Default configuration, 1 ready pod, a burst of 30 concurrent requests seen by the
panic window while the stable window still averages 5:

>>> from autoscale import KPAConfig, KPASpec
>>> from autoscale.decider import Decider
>>> import numpy as np
>>> spec = KPASpec.from_configs(KPAConfig(container_concurrency=10))   # target 7
>>> d = Decider(spec, now=0.0, ready=np.array([1]))
>>> dec = d.scale(2.0, ready=np.array([1]), stable=np.array([5.0]), panic=np.array([30.0]))
>>> int(dec.desired[0]), bool(dec.panicking[0])
(5, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from ._numba import JIT, LEAF
from .spec import (
    P_ACTIVATION_SCALE, P_DELAY_SLOTS, P_DOWN_RATE, P_PANIC_THRESHOLD, P_REACHABLE, P_STABLE_WINDOW, P_TARGET,
    P_TBC, P_TOTAL, P_UP_RATE, KPASpec, as_batch,
)
from .windows import NEVER, max_window_record

__all__ = ["Decision", "Decider", "decide", "new_decider_state"]

# A decider's state: float64 [panic time (NaN: not panicking)], int64 [max panic pods,
# published desired scale, published excess burst capacity].
DF_PANIC_TIME = 0
N_DF = 1
DI_MAX_PANIC, DI_DESIRED, DI_EBC = range(3)
N_DI = 3


@nb.njit(**LEAF)
def new_decider_state(pf, pi, initial_scale, ready, now, df, di):
    """Fill a decider's state at creation: start in panic holding ``ready`` pods when more than one."""
    df[DF_PANIC_TIME] = now if ready > 1 else np.nan
    di[DI_MAX_PANIC] = ready
    di[DI_DESIRED] = -1
    tbc = pf[P_TBC]
    if tbc == -1.0 or tbc == 0.0:
        di[DI_EBC] = int(tbc)
    else:
        di[DI_EBC] = int(math.trunc(initial_scale * pf[P_TOTAL] - tbc))


@nb.njit(**LEAF)
def decide(pf, pi, df, di, dw_values, dw_index, now, ready, stable, panic, ok):
    """One decider tick of one configuration at ``now`` (seconds); updates its state where ``ok``.

    ``pf`` and ``pi`` are the configuration's rows of :meth:`KPASpec.packed`; ``dw_values``
    and ``dw_index`` its scale-down-delay window. Returns ``(desired, ebc, changed,
    stable_pods, panic_pods)``: the published desired scale and excess burst capacity
    after the tick, whether the KPA is notified, and ``ceil(observed / target)``.
    Where ``ok`` is false (no metric data, or not ticking) nothing changes.
    """
    target = pf[P_TARGET]
    reachable = pi[P_REACHABLE] != 0
    ready_f = float(max(1, ready))  # the rate limits act as if one pod were ready
    max_up = math.ceil(pf[P_UP_RATE] * ready_f)
    max_down = math.floor(ready_f / pf[P_DOWN_RATE]) if reachable else 0.0
    dspc = math.ceil(stable / target)
    dppc = math.ceil(panic / target)
    want_s = int(min(max(dspc, max_down), max_up))
    want_p = int(min(max(dppc, max_down), max_up))
    # Activation scale applies after the clamp, so it may exceed the up-limit.
    act = pi[P_ACTIVATION_SCALE]
    if act > 1:
        if dspc > 0 and act > want_s:
            want_s = act
        if dppc > 0 and act > want_p:
            want_p = act

    # Panic is entered, and extended, on every tick whose wanted panic pods reach
    # threshold x ready; it ends strictly one stable window after the last such tick.
    over = (dppc / ready_f) >= pf[P_PANIC_THRESHOLD]
    panic_time = df[DF_PANIC_TIME]
    max_panic = di[DI_MAX_PANIC]
    if over:
        panic_time = now
    elif not math.isnan(panic_time) and panic_time + pi[P_STABLE_WINDOW] < now:
        panic_time = np.nan
        max_panic = 0
    want = want_s
    if not math.isnan(panic_time):
        panic_want = max(want_s, want_p)
        if panic_want > max_panic:
            max_panic = panic_want
        want = max_panic  # never scale down while panicking

    k = pi[P_DELAY_SLOTS]
    if ok and reachable and k > 0:
        want = int(max_window_record(dw_values, dw_index, k, now, float(want), 2.0))

    tbc = pf[P_TBC]
    if tbc == 0.0:
        ebc = 0
    elif tbc > 0.0:
        ebc = int(math.floor(ready * pf[P_TOTAL] - tbc - panic))
    else:
        ebc = -1

    if not ok:
        return di[DI_DESIRED], di[DI_EBC], False, dspc, dppc
    df[DF_PANIC_TIME] = panic_time
    di[DI_MAX_PANIC] = max_panic
    changed = want != di[DI_DESIRED] or (ebc >= 0) != (di[DI_EBC] >= 0)
    di[DI_DESIRED] = want
    di[DI_EBC] = ebc
    return want, ebc, changed, dspc, dppc


@nb.njit(**JIT)
def _decide_batch(pf, pi, df, di, dw_values, dw_index, now, ready, stable, panic, ok, desired, ebc, changed,
                  dspc, dppc):
    for b in range(pf.shape[0]):
        desired[b], ebc[b], changed[b], dspc[b], dppc[b] = decide(
            pf[b], pi[b], df[b], di[b], dw_values[b], dw_index[b], now[b], ready[b], stable[b], panic[b], ok[b])


@dataclass(frozen=True, eq=False)
class Decision:
    """One decider tick for a batch. Arrays of shape ``(B,)``.

    Where ``valid`` is false (no metric data yet) the tick changed nothing and the other
    fields of that row hold the previously published status.
    """

    desired: np.ndarray  #: int64 pods the decider wants (after panic memory and delay)
    excess_burst_capacity: np.ndarray  #: int64, negative means the activator must stay in path
    valid: np.ndarray  #: bool
    panicking: np.ndarray  #: bool, panic mode after this tick
    stable_pods: np.ndarray  #: float, ceil(stable / target) before rate limits
    panic_pods: np.ndarray  #: float, ceil(panic / target) before rate limits
    changed: np.ndarray  #: bool, desired changed or EBC changed sign (the KPA is notified)

    def at(self, i: int = 0) -> dict:
        """The decision of configuration ``i`` as plain Python values."""
        return {
            "desired": int(self.desired[i]),
            "excess_burst_capacity": int(self.excess_burst_capacity[i]),
            "valid": bool(self.valid[i]),
            "panicking": bool(self.panicking[i]),
        }


class Decider:
    """A batch of KPA deciders with their published status (each row runs :func:`decide`).

    Parameters
    ----------
    spec : KPASpec
        The batch of configurations.
    now : float
        Creation time, seconds.
    ready : array of int, shape (B,)
        Ready pods at creation. With more than one, the decider starts in panic holding
        that many pods, so a restarted autoscaler (which has lost its metric history)
        does not scale the revision down for at least one stable window.
    """

    def __init__(self, spec: KPASpec, now: float, ready: np.ndarray) -> None:
        self.spec = spec
        b = spec.batch
        self._pf, self._pi = spec.packed()
        ready = as_batch(ready, b, np.int64)
        self._df = np.empty((b, N_DF))
        self._di = np.empty((b, N_DI), dtype=np.int64)
        # Knative builds the delay window only when the delay is positive at construction.
        width = max(int(self._pi[:, P_DELAY_SLOTS].max()), 1)
        self._dw_values = np.full((b, width), -np.inf)
        self._dw_index = np.full((b, width), NEVER, dtype=np.int64)
        for i in range(b):
            new_decider_state(self._pf[i], self._pi[i], int(spec.initial_scale[i]), int(ready[i]), float(now),
                              self._df[i], self._di[i])

    @property
    def panic_time(self) -> np.ndarray:
        """When panic was last entered or extended, seconds (NaN: not panicking)."""
        return self._df[:, DF_PANIC_TIME].copy()

    @property
    def max_panic_pods(self) -> np.ndarray:
        return self._di[:, DI_MAX_PANIC].copy()

    @property
    def desired_scale(self) -> np.ndarray:
        """The published desired scale (-1 until the first valid tick)."""
        return self._di[:, DI_DESIRED].copy()

    @property
    def excess_burst_capacity(self) -> np.ndarray:
        """The published excess burst capacity."""
        return self._di[:, DI_EBC].copy()

    @property
    def panicking(self) -> np.ndarray:
        return ~np.isnan(self._df[:, DF_PANIC_TIME])

    def scale(
        self,
        now: float,
        ready: np.ndarray,
        stable: np.ndarray,
        panic: np.ndarray,
        valid: np.ndarray | None = None,
        mask: np.ndarray | None = None,
    ) -> Decision:
        """Run one tick at ``now`` (seconds) and update the published status.

        Parameters
        ----------
        ready : int array
            Ready pods (Running, Ready, not terminating); 0 allowed.
        stable, panic : float arrays
            Observed revision-wide totals over the stable and panic windows.
        valid : bool array, optional
            False where the collector has no data (``ErrNoData``); those rows are
            left untouched and return an invalid decision.
        mask : bool array, optional
            Rows that tick now; the others are left untouched (also invalid here).
            ``now`` may be an array, one time per configuration (pokes).
        """
        b = self.spec.batch
        ok = np.ones(b, bool) if valid is None else np.array(np.broadcast_to(valid, (b,)), dtype=bool)
        if mask is not None:
            ok &= np.asarray(mask, dtype=bool)
        now = np.ascontiguousarray(as_batch(now, b, np.float64))
        ready = np.ascontiguousarray(as_batch(ready, b, np.int64))
        stable = np.ascontiguousarray(as_batch(stable, b, np.float64))
        panic = np.ascontiguousarray(as_batch(panic, b, np.float64))
        desired = np.empty(b, dtype=np.int64)
        ebc = np.empty(b, dtype=np.int64)
        changed = np.empty(b, dtype=np.bool_)
        dspc = np.empty(b)
        dppc = np.empty(b)
        _decide_batch(self._pf, self._pi, self._df, self._di, self._dw_values, self._dw_index, now, ready, stable,
                      panic, ok, desired, ebc, changed, dspc, dppc)
        return Decision(desired=desired, excess_burst_capacity=ebc, valid=ok, panicking=self.panicking,
                        stable_pods=dspc, panic_pods=dppc, changed=changed)
