"""The policy protocol: what a scaling policy sees, what it decides, and how the engine runs it.

A policy decides, once per tick and for the whole batch at once, how many pods each
configuration should have. Its state is explicit: :meth:`Policy.start` builds it from a
:class:`Context` and :meth:`Policy.decide` receives it back with the :class:`Signals` of
the tick. The engine (:func:`autoscale.replay`), the event-level reference
(:func:`autoscale.reference.simulate`) and sweeps run any object that follows the
protocol; a plain function ``f(signals) -> pods`` qualifies too (:func:`as_policy`).

What a policy observes, every tick, for each configuration of the batch:

- the pods: ready, starting and draining;
- the KPA's metric pipeline: the stable and panic window averages of the metric the
  configuration scales on (``stable``, ``panic``, ``valid``), built from the scraped
  and activator-reported concurrency (or rps), exactly as the KPA decider sees them;
- the last second's means and counts: ``concurrency`` and ``rps`` as the autoscaler
  observes them (a scrape sample of the pods plus the activator's stat);
  ``pod_concurrency`` (every ready pod, no sampling, as a Kubernetes metrics pipeline
  reads it); ``system_concurrency`` (every request in the system, in pods or waiting in
  the activator); ``busy`` (requests executing, not queued: the CPU the pods burn);
  ``arrivals`` (requests that arrived);
- ``in_system``: requests queued or executing at the tick;
- up to :attr:`Policy.history` seconds of those per-second totals (:meth:`Signals.recent`).

Through the :class:`Context` a policy may also read the trace, the platform (cold-start
distribution) and the configurations; only the oracle reads the trace's future.

What a policy decides: an int array, one entry per configuration. For most policies it
is the number of pods wanted; for policies that scale per request
(``on_demand = True``) it is the number of instances to keep warm beyond the ones
requests create, and ``keep_alive(state)`` gives how long an idle instance lives.

Examples
--------
A policy as a plain function: one pod per 5 concurrent requests seen in the last second.

>>> import numpy as np
>>> from autoscale.policies import as_policy
>>> pol = as_policy(lambda s: np.ceil(s.concurrency / 5), name="per5")
>>> pol.name, pol.period
('per5', 1)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError

__all__ = ["Context", "Signals", "Policy", "FunctionPolicy", "as_policy", "ROUTINGS", "SIGNAL_HISTORY"]

#: How requests reach the pods under a policy.
#:
#: ``"kpa"``: Knative's reconciler decides (the activator is in the path when the excess
#: burst capacity is negative or no pod is wanted or ready). ``"activator"``: always
#: through the activator's capacity-aware queue (a front end that holds requests until an
#: instance is free, as FaaS platforms do). ``"direct"``: straight to a random ready pod
#: (a Kubernetes Service); while no pod is ready, requests wait in the activator.
ROUTINGS = ("kpa", "activator", "direct")

#: Per-second totals kept for :meth:`Signals.recent`.
SIGNAL_HISTORY = ("concurrency", "rps", "pod_concurrency", "system_concurrency", "busy", "arrivals")


@dataclass(frozen=True, eq=False)
class Context:
    """What a policy may know before the replay starts.

    Attributes
    ----------
    configs : list of KPAConfig
        The batch; ``spec`` holds the same as arrays (for example ``spec.target`` and
        ``spec.container_concurrency``).
    trace : autoscale.trace.Trace
        The requests to be replayed. Reading their future is cheating for every policy
        except the oracle, which exists to do exactly that. When each configuration
        replays its own requests (several services or revisions), ``row_traces`` has
        one trace per configuration.
    platform : autoscale.Platform
        Cold starts and network delays.
    duration : int
        Whole seconds the replay runs.
    seed : int
    """

    configs: list
    spec: Any
    trace: Any
    platform: Any
    duration: int
    seed: int
    row_traces: list | None = None  #: one trace per configuration when each replays its own

    @property
    def batch(self) -> int:
        return len(self.configs)

    @property
    def capacity(self) -> np.ndarray:
        """Requests a pod runs at once: containerConcurrency, or the KPA target when unlimited (CC 0)."""
        cc = self.spec.container_concurrency
        return np.where(cc > 0, cc, np.maximum(self.spec.target, 1.0)).astype(np.float64)


@dataclass(frozen=True, eq=False)
class Signals:
    """What a policy observes at one tick. Arrays have shape ``(B,)``.

    ``mask`` marks the configurations that tick now; the engine uses the decision of
    those rows only (the others keep their last one).
    """

    now: float | np.ndarray
    mask: np.ndarray
    ready: np.ndarray
    starting: np.ndarray
    draining: np.ndarray
    in_system: np.ndarray
    stable: np.ndarray
    panic: np.ndarray
    valid: np.ndarray
    concurrency: np.ndarray
    rps: np.ndarray
    pod_concurrency: np.ndarray
    system_concurrency: np.ndarray
    busy: np.ndarray
    arrivals: np.ndarray
    _history: dict = field(default_factory=dict, repr=False)

    @property
    def live(self) -> np.ndarray:
        """Pods starting or ready (the deployment's replicas)."""
        return self.ready + self.starting

    def recent(self, name: str, seconds: int) -> np.ndarray:
        """The last ``seconds`` per-second values of ``name``, oldest first, shape ``(B, seconds)``.

        ``name`` is one of :data:`SIGNAL_HISTORY`; seconds before the replay started
        read as 0. At most :attr:`Policy.history` seconds are kept.
        """
        if name not in SIGNAL_HISTORY:
            raise KeyError(f"no history of {name!r}; kept are {', '.join(SIGNAL_HISTORY)}")
        buf = self._history.get(name)
        if buf is None or seconds > buf.shape[1]:
            kept = 0 if buf is None else buf.shape[1]
            raise ConfigError(f"{seconds} s of history asked, the policy keeps {kept} s (set Policy.history)")
        return buf[:, buf.shape[1] - seconds:]


class Policy:
    """Base class of scaling policies; subclasses override :meth:`decide` and usually :meth:`start`.

    Class attributes describe how the engine runs the policy:

    ``name``
        Label in results.
    ``period``
        Whole seconds between ticks (the KPA's 2 s, HPA's 15 s sync period).
    ``history``
        Seconds of per-second totals the policy reads through :meth:`Signals.recent`.
    ``routing``
        One of :data:`ROUTINGS`.
    ``on_demand``
        Instances are created per request (an arrival that finds no free instance
        starts one) and retired after :meth:`keep_alive` seconds idle; :meth:`decide`
        then returns the number of instances to keep beyond those (pre-warmed).
    ``wakes``
        Tick at once, off schedule, when a request reaches a configuration the policy
        wants at zero pods (the KPA's poke from the activator).
    ``durations``
        The constructor's parameters that are seconds: the command line reads them as
        a plain number of seconds or with a unit (``90s``, ``5m``, ``1h``).
    """

    name: str = "policy"
    period: int = 1
    history: int = 0
    routing: str = "direct"
    on_demand: bool = False
    wakes: bool = False
    durations: tuple[str, ...] = ()

    def start(self, ctx: Context) -> Any:
        """The policy's state at time 0 (anything; ``None`` by default)."""
        return None

    def decide(self, state: Any, signals: Signals) -> np.ndarray:
        """Pods wanted per configuration (int array of shape ``(B,)``, ``>= 0``)."""
        raise NotImplementedError

    def keep_alive(self, state: Any) -> np.ndarray | float | None:
        """For ``on_demand`` policies: seconds an idle instance lives, per configuration or one for all."""
        return None

    def params(self) -> dict:
        """The policy's parameters, for results and reports."""
        return {}

    def describe(self) -> str:
        """``name(key=value, ...)``."""
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{self.name}({args})"

    def __repr__(self) -> str:
        return self.describe()


class FunctionPolicy(Policy):
    """A stateless policy from a function of the signals: ``f(signals) -> pods``."""

    def __init__(self, fn: Callable[[Signals], Any], name: str | None = None, period: int = 1,
                 history: int = 0, routing: str = "direct") -> None:
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "function")
        self.period = period
        self.history = history
        self.routing = routing

    def decide(self, state, signals):
        return self.fn(signals)

    def params(self) -> dict:
        return {"period": self.period}


def as_policy(obj, name: str | None = None, **kw) -> Policy:
    """A :class:`Policy` from a policy object, a registry name, or a function of the signals."""
    from . import get

    if isinstance(obj, Policy):
        return obj
    if isinstance(obj, str):
        return get(obj, **kw)
    if hasattr(obj, "decide") and hasattr(obj, "start"):
        return obj  # follows the protocol without subclassing
    if callable(obj):
        return FunctionPolicy(obj, name=name, **kw)
    raise TypeError(f"not a policy: {obj!r} (give a Policy, a registry name, or a function of the signals)")


def check_policy(policy) -> None:
    """Raise ``ValueError`` if the policy's run attributes are outside their ranges."""
    period = getattr(policy, "period", 1)
    if not (isinstance(period, (int, np.integer)) and period >= 1):
        raise ConfigError(f"policy {policy.name!r}: period = {period!r}, must be a whole number of seconds >= 1")
    history = getattr(policy, "history", 0)
    if not (isinstance(history, (int, np.integer)) and history >= 0):
        raise ConfigError(f"policy {policy.name!r}: history = {history!r}, must be a whole number of seconds >= 0")
    routing = getattr(policy, "routing", "direct")
    if routing not in ROUTINGS:
        raise ConfigError(f"policy {policy.name!r}: routing = {routing!r}, must be one of {', '.join(ROUTINGS)}")
