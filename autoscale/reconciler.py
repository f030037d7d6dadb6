"""The KPA reconciler: scale bounds, the scale-to-zero state machine, Proxy/Serve mode and activators (spec §7).

It turns the decider's published desired scale into deployment replicas, keeps the
PodAutoscaler's Active condition (Activating, Active, Inactive) with its transition
time, and decides whether the activator is in the request path. Batched: every array
has the configurations on its leading axis.

Knative reconciles on events (a decider status change, a pod change, a timer it set
for itself). Calling :meth:`Reconciler.reconcile` every second is a superset of those
triggers: each rule is a function of the state and the time, so an extra reconcile
changes nothing, and a timer fires at most 1 s late.

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
from dataclasses import dataclass

import numpy as np

from .spec import KPASpec, as_batch

__all__ = ["ActiveState", "Mode", "Reconciler", "ReconcileResult", "activator_count"]


class ActiveState(enum.IntEnum):
    """The PodAutoscaler's Active condition: Unknown, True, False."""

    ACTIVATING = 0
    ACTIVE = 1
    INACTIVE = 2


class Mode(enum.IntEnum):
    """The ServerlessService mode: activator in the path (Proxy) or pods direct (Serve)."""

    PROXY = 0
    SERVE = 1


# Plain integers for the array code (enum member access is slow in a per-second loop).
_ACTIVATING, _ACTIVE, _INACTIVE = int(ActiveState.ACTIVATING), int(ActiveState.ACTIVE), int(ActiveState.INACTIVE)
_PROXY, _SERVE = int(Mode.PROXY), int(Mode.SERVE)


@dataclass(frozen=True, eq=False)
class ReconcileResult:
    """One reconcile of a batch; arrays of shape ``(B,)``."""

    want: np.ndarray  #: int64, the scale the reconciler wants (-1 = unknown, do nothing)
    replicas: np.ndarray  #: int64 deployment replicas after any patch
    patched: np.ndarray  #: bool, the deployment was patched this reconcile
    mode: np.ndarray  #: int8 Mode the SKS is set to
    activators: np.ndarray  #: int64 activators serving the revision in Proxy mode
    state: np.ndarray  #: int8 ActiveState after the reconcile


def activator_count(spec: KPASpec, ready: np.ndarray) -> np.ndarray:
    """Activators that serve the revision in Proxy mode (at least 2).

    Enough to absorb the pods' capacity plus TBC at ``activator-capacity`` each:
    1 ready pod of total 100 with TBC 200 needs ceil(300/100) = 3. TBC = 0 always gives 2.
    """
    ready = np.asarray(ready, dtype=np.float64)
    cap = ready * spec.total + np.maximum(spec.tbc, 0.0)
    n = np.maximum(2.0, np.ceil(cap / spec.activator_capacity))
    return np.where(spec.tbc == 0, 2, n).astype(np.int64)


class Reconciler:
    """A batch of KPA reconcilers with the PA, SKS and deployment state they keep.

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
        self.replicas = spec.initial_scale.astype(np.int64).copy()
        self.state = np.full(b, ActiveState.ACTIVATING, dtype=np.int8)
        self.state_since = np.full(b, float(now))
        self.mode = np.full(b, Mode.PROXY, dtype=np.int8)
        self.proxy_since = np.full(b, float(now))
        self.initialized = np.zeros(b, dtype=bool)
        self.desired_scale = np.full(b, -1, dtype=np.int64)  # PA status DesiredScale
        self.activators = np.full(b, 2, dtype=np.int64)

    _STATE = ("replicas", "state", "state_since", "mode", "proxy_since", "initialized", "desired_scale",
              "activators")

    def state_names(self) -> list[str]:
        """The Active condition of each configuration, as words."""
        return [ActiveState(int(s)).name.capitalize() for s in self.state]

    def min_ready(self) -> np.ndarray:
        """Ready pods needed to count as Active: max(min, initial) until initialized, then max(min, 1)."""
        s = self.spec
        return np.where(self.initialized, np.maximum(s.min_scale, 1), np.maximum(s.min_scale, s.initial_scale))

    def _scale(self, now: float, desired: np.ndarray, ready: np.ndarray, in_path: np.ndarray):
        """``scaler.scale``: bounds, then the scale-to-zero rules. Returns (want, apply)."""
        s = self.spec
        activating = self.state == _ACTIVATING
        skip = (desired < 0) & ~activating  # metrics not ready: do nothing

        lo = np.where(s.reachable, s.min_scale, 0)
        raise_initial = (s.initial_scale > 1) & ~self.initialized & s.reachable
        lo = np.where(raise_initial, np.maximum(lo, s.initial_scale), lo)
        hi = s.max_scale
        x = np.where(desired < lo, lo, np.where((hi != 0) & (desired > hi), hi, desired))
        apply = ~skip
        zero = ~skip & (x == 0)
        elapsed = now - self.state_since

        # enable-scale-to-zero = false turns every 0 into 1.
        keep_one = zero & ~s.enable_scale_to_zero
        x = np.where(keep_one, 1, x)
        zero &= s.enable_scale_to_zero

        # Activating: give up (scale to 0) only after the activation timeout.
        z = zero & activating
        timed_out = elapsed > s.activation_timeout
        x = np.where(z & ~timed_out, -1, x)
        apply = np.where(z, timed_out, apply)

        # Active: hold one pod until the PA has been Active for a stable window; then
        # want 0 without touching the pods, which marks the PA Inactive.
        z = zero & (self.state == _ACTIVE)
        held = elapsed < s.stable_window
        x = np.where(z & held, 1, x)
        apply = np.where(z, held, apply)

        # Inactive: remove the last pod once the activator is in the path and both the
        # grace period (or the time already proxied) and the retention period allow.
        z = zero & (self.state == _INACTIVE)
        probed = (s.tbc == -1) | in_path
        retention = np.where(s.reachable, s.retention_period, 0.0)
        proxy_for = np.where(self.mode == _PROXY, now - self.proxy_since, 0.0)
        remove = (
            (elapsed >= np.maximum(s.grace_period, retention))
            | (~((retention > 0) & (elapsed < retention)) & (s.grace_period - proxy_for <= 0))
        )
        apply = np.where(z, probed & remove, apply)
        x = np.where(z, 0, x)
        return x.astype(np.int64), apply & ~skip

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
            Rows to reconcile; the others keep their state. ``now`` may be an array.
        """
        if mask is not None and not np.asarray(mask).all():
            before = {k: getattr(self, k).copy() for k in self._STATE}
            result = self.reconcile(now, desired, ebc, ready, activator_in_path)
            keep = ~np.asarray(mask, dtype=bool)
            for k, old in before.items():
                getattr(self, k)[keep] = old[keep]
            return ReconcileResult(
                want=result.want, replicas=self.replicas.copy(), patched=result.patched & ~keep,
                mode=self.mode.copy(), activators=self.activators.copy(), state=self.state.copy(),
            )
        s = self.spec
        b = s.batch
        now = np.asarray(now, dtype=np.float64)  # a scalar, or one time per configuration
        desired = as_batch(desired, b, np.int64)
        ebc = as_batch(ebc, b, np.int64)
        ready = as_batch(ready, b, np.int64)
        in_path = as_batch(activator_in_path, b, bool)

        want, apply = self._scale(now, desired, ready, in_path)
        patched = apply & (want != self.replicas)
        self.replicas = np.where(patched, want, self.replicas)

        # SKS mode: Serve only when pods are wanted and the burst capacity suffices;
        # the SKS reconciler forces Proxy while no pod is ready.
        serve = (want > 0) & (ebc >= 0) & (ready > 0)
        mode = np.where(serve, _SERVE, _PROXY).astype(np.int8)
        became_proxy = (mode == _PROXY) & (self.mode != _PROXY)
        self.proxy_since = np.where(became_proxy, now, self.proxy_since)
        self.mode = mode
        self.activators = activator_count(s, ready)

        # PA status.
        self.desired_scale = np.where(want >= 0, want, self.desired_scale)
        min_ready = self.min_ready()
        self.initialized |= ready >= min_ready
        prev = self.state
        go_inactive = (want == 0) | (min_ready == 0)
        live = (want > 0) | ((want == -1) & (prev != _INACTIVE))
        up = np.where(ready < min_ready, _ACTIVATING, _ACTIVE)
        new = np.where(go_inactive, _INACTIVE, np.where(live, up, prev)).astype(np.int8)
        self.state_since = np.where(new != prev, now, self.state_since)
        self.state = new
        return ReconcileResult(
            want=want,
            replicas=self.replicas.copy(),
            patched=patched,
            mode=mode.copy(),
            activators=self.activators.copy(),
            state=new.copy(),
        )
