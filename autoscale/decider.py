"""The KPA decider: from observed stable and panic values to a desired pod count, batched (spec §5, §6).

This is Knative's ``autoscaler.Scale`` together with the status the MultiScaler keeps
for it (``DesiredScale`` starting at -1, the excess burst capacity, change
notification). The observed values come in as arguments; the metric collector that
produces them is :class:`autoscale.metrics.Collector`.

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

from dataclasses import dataclass

import numpy as np

from .spec import KPASpec, as_batch
from .windows import MaxTimeWindow

__all__ = ["Decision", "Decider"]


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
    """A batch of KPA deciders with their published status.

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
        ready = as_batch(ready, b, np.int64)
        start_panic = ready > 1
        self.panic_time = np.where(start_panic, float(now), np.nan)
        self.max_panic_pods = ready.copy()
        # Knative builds the delay window only when the delay is positive at construction.
        self.delay_window = MaxTimeWindow(spec.scale_down_delay)
        self.has_delay = spec.scale_down_delay > 0
        # MultiScaler status: desired unknown, EBC from the initial scale.
        self.desired_scale = np.full(b, -1, dtype=np.int64)
        tbc = spec.tbc
        initial_ebc = np.trunc(spec.initial_scale * spec.total - tbc)
        self.excess_burst_capacity = np.where((tbc == -1) | (tbc == 0), tbc, initial_ebc).astype(np.int64)

    @property
    def panicking(self) -> np.ndarray:
        return ~np.isnan(self.panic_time)

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
        s = self.spec
        b = s.batch
        ready_raw = as_batch(ready, b, np.int64)
        ok = np.ones(b, bool) if valid is None else np.asarray(valid, dtype=bool)
        if mask is not None:
            ok = ok & np.asarray(mask, dtype=bool)
        now = np.asarray(now, dtype=np.float64)  # a scalar, or one time per configuration
        ready_f = np.maximum(1, ready_raw).astype(np.float64)  # limits act as if 1 pod were ready

        max_up = np.ceil(s.max_scale_up_rate * ready_f)
        max_down = np.where(s.reachable, np.floor(ready_f / s.max_scale_down_rate), 0.0)
        dspc = np.ceil(stable / s.target)
        dppc = np.ceil(panic / s.target)
        want_s = np.minimum(np.maximum(dspc, max_down), max_up).astype(np.int64)
        want_p = np.minimum(np.maximum(dppc, max_down), max_up).astype(np.int64)

        # Activation scale applies after the clamp, so it may exceed the up-limit.
        act = s.activation_scale
        use_act = act > 1
        want_s = np.where(use_act & (dspc > 0) & (act > want_s), act, want_s)
        want_p = np.where(use_act & (dppc > 0) & (act > want_p), act, want_p)

        # Panic is entered, and extended, on every tick whose wanted panic pods reach
        # threshold x ready; it ends strictly one stable window after the last such tick.
        over = (dppc / ready_f) >= s.panic_threshold
        panic_time = self.panic_time.copy()
        max_panic = self.max_panic_pods.copy()
        panic_time = np.where(over, now, panic_time)
        leave = ~over & ~np.isnan(panic_time) & (panic_time + s.stable_window < now)
        panic_time = np.where(leave, np.nan, panic_time)
        max_panic = np.where(leave, 0, max_panic)

        in_panic = ~np.isnan(panic_time)
        want = want_s.copy()
        panic_want = np.maximum(want_s, want_p)
        max_panic = np.where(in_panic & (panic_want > max_panic), panic_want, max_panic)
        want = np.where(in_panic, max_panic, want)  # never scale down while panicking

        delay_rows = ok & s.reachable & self.has_delay
        if delay_rows.any():
            delayed = self.delay_window.record(now, want.astype(np.float64), delay_rows)
            want = np.where(delay_rows, delayed, want).astype(np.int64)

        ebc = np.where(
            s.tbc == 0,
            0.0,
            np.where(s.tbc > 0, np.floor(ready_raw * s.total - s.tbc - panic), -1.0),
        ).astype(np.int64)

        # Commit state and status only where the tick was valid.
        self.panic_time = np.where(ok, panic_time, self.panic_time)
        self.max_panic_pods = np.where(ok, max_panic, self.max_panic_pods)
        old_desired = self.desired_scale
        old_ebc = self.excess_burst_capacity
        changed = ok & ((want != old_desired) | ((ebc >= 0) != (old_ebc >= 0)))
        self.desired_scale = np.where(ok, want, old_desired)
        self.excess_burst_capacity = np.where(ok, ebc, old_ebc)
        return Decision(
            desired=self.desired_scale.copy(),
            excess_burst_capacity=self.excess_burst_capacity.copy(),
            valid=ok,
            panicking=self.panicking,
            stable_pods=dspc,
            panic_pods=dppc,
            changed=changed,
        )
