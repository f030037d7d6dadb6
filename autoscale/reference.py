"""The event-level reference simulator: one configuration, one request at a time, every event at its exact time.

This is the slow, obvious twin of :func:`autoscale.engine.replay`. Pods, requests and
the activator are plain Python objects; a single ``heapq`` holds every timestamped
event (arrivals, completions, revision timeouts, pods becoming ready, network mode
switches). The control plane is the shared one (:class:`~autoscale.collector.Collector`,
:class:`~autoscale.decider.Decider`, :class:`~autoscale.reconciler.Reconciler`, run
with a batch of one), driven on the engine's per-second schedule (``docs/model.md`` §1):

* every whole second ``T``: the queue-proxies and the activator report, the scraper
  samples the ready pods, the collector records both; the decider ticks on even
  seconds (and on any second where the activator's report pokes it); the reconciler
  runs; new replicas become pods at ``T``; a change of Proxy/Serve mode reaches the
  network at ``T + platform.mode_switch_delay``, except that a switch to Serve held back
  only because no pod was ready is sent when the first pod becomes ready;
* the activator's immediate first-request push is recorded at its own time and, when
  the decider wants zero pods, pokes it there and then (scale from zero).

Random numbers come from :class:`autoscale.rng.SplitMix64` streams seeded like the
engine's, one per purpose, each drawn in the engine's order: a cold start and an address
per created pod; one routing draw per Serve-mode arrival (a uniformly random ready pod in
slot order) and the random choice of two for CC = 0 in the activator; the scrape's
partial Fisher-Yates shuffle. In
the common cases the reference therefore reproduces the engine request for request.

Where the engine approximates, the reference does the exact thing. The differences:

1. **Pod-queue timeouts.** Each request queued in a queue-proxy gets its own timeout
   event at ``arrival + timeout`` (504), which frees its queue slot at once. The
   engine expires queued requests at a second boundary from the head of the queue
   only, or when the pod dequeues them. A request that waited in the activator first
   can expire behind younger ones, so there it holds its slot (and causes 503s) until
   it reaches the head; a draining pod emptied by a timeout terminates at the boundary.
2. **Poke time.** The poke caused by the activator's first-request push runs at the
   push instant, with the ready pods and routing of that instant; the pods it creates
   draw their cold starts there. The engine runs it after the whole second, using the
   state at the end of the second (the decision is stamped with the push time).
3. **Mode switches.** Every switch sent to the network arrives, in order. The engine
   keeps one pending switch per configuration: a newer one replaces an older one that
   has not yet arrived.
4. **First report of a stats object.** Knative's request stats average over the time
   since they were created (knative.dev/networking ``pkg/http/stats``). The activator's stats entry is created by the
   first request after an idle report, so its first report averages over the rest of
   that second only; a pod's queue-proxy stats start at pod creation. The engine
   divides every integral by the whole second.
5. **Activator dispatch.** Queued activator requests are dispatched whenever capacity
   may have appeared, including when a proxied request times out in a pod's queue.
   The engine dispatches on arrivals, completions and pods becoming ready.
6. **Waiting-time histogram.** Built from completed requests only, as the result
   documents; the engine adds every request when it starts (including ones that later
   time out) and ``wait_max`` over every started request that does not time out.
7. **Time fractions and peak.** ``panic_fraction`` and ``activator_fraction`` are exact
   time averages over ``[0, duration)``, and ``peak_pods`` the exact maximum of live
   pods; the engine samples them once per second after the reconcile.

Everything else follows the engine's rules: the queue-proxy runs CC requests and
queues 10 x CC (503 beyond; no limit with CC = 0); the revision timeout counts from
the arrival (504 in the activator queue, the pod queue, or while executing); the
activator balances load with random choice of 2 (CC = 0), first available (CC 1-3) or
round robin (CC > 3) by requests outstanding from the activator; pods removed by a
scale-down go starting-newest first, then ready-most-recently-ready first, and a busy
ready pod drains before it terminates. Events at one instant run in the engine's order:
queue timeouts, completions, pods becoming ready, mode switches, activator timeouts,
arrivals; the second's boundary work at ``T`` runs before any event at ``T``.

Examples
--------
>>> from autoscale import KPAConfig
>>> from autoscale.reference import simulate
>>> from autoscale.trace import synthetic
>>> trace = synthetic.poisson(rate=5.0, duration=60.0, service=synthetic.constant(0.2), seed=1)
>>> ref = simulate(trace, KPAConfig(container_concurrency=1))
>>> s = ref.result.summary.iloc[0]
>>> int(s["completed"] + s["status_503"] + s["status_504"] + s["in_flight"]) == len(ref.requests)
True
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .collector import Collector
from ._state import HIST_BINS, hist_bin
from .scraper import sample_size
from .engine import simulated_seconds
from .platform import Platform
from .policies.base import SIGNAL_HISTORY, Context, Signals, as_policy, check_policy
from .reconciler import Mode, Reconciler
from .results import ReplayResult, TimeSeries
from .rng import STREAMS, SplitMix64, seed_states
from .spec import KPASpec

__all__ = ["OUTCOMES", "ReferenceResult", "simulate"]

# Event kinds, in the order the engine handles events that share one instant.
_QUEUE_TIMEOUT, _COMPLETE, _READY, _SWITCH, _ACT_TIMEOUT, _ARRIVAL, _SEND = range(7)

# Pod states.
_STARTING, _READY_STATE, _DRAINING, _GONE = "starting", "ready", "draining", "terminated"

#: Request outcomes, as they appear in :attr:`ReferenceResult.requests`.
OUTCOMES = ("completed", "503", "504", "in_flight")


@dataclass(eq=False)
class _Request:
    index: int
    arrival: float
    duration: float
    via: bool = False  # went through an activator
    act: int = -1  # the activator it went through
    pod: int = -1  # pod id that took it (-1: never reached a pod)
    admitted: float = math.nan  # reached the queue-proxy
    queued: bool = False  # waited in the queue-proxy's breaker
    seq: int = -1  # admission order into any queue-proxy
    start: float = math.nan
    end: float = math.nan
    outcome: str = "in_flight"
    failed_in: str = ""  # for 503/504: "activator", "queue", "executing", "queue-proxy"
    timed_out: bool = False  # its completion event is the revision timeout
    client: object = None  # the closed-loop client that sent it (None: a request of the trace)


@dataclass(eq=False)
class _Client:
    """A closed-loop client: its pool, the spans it may send in (ingress time), and what it has sent."""

    index: int
    pool: int
    windows: list
    budget: int  # requests it may send (-1: no limit)
    window: int = 0
    sent: int = 0
    last: float = -math.inf


@dataclass(eq=False)
class _Stats:
    """Knative's request stats (knative.dev/networking ``pkg/http/stats``): a time-weighted concurrency integral since ``since``."""

    since: float
    last: float
    conc: int = 0
    proxied: int = 0
    integral: float = 0.0
    pintegral: float = 0.0
    count: int = 0
    pcount: int = 0

    def advance(self, t: float) -> None:
        if t > self.last:
            dt = t - self.last
            self.integral += self.conc * dt
            self.pintegral += self.proxied * dt
            self.last = t

    def change(self, t: float, d: int, dp: int = 0) -> None:
        self.advance(t)
        self.conc += d
        self.proxied += dp

    def report(self, t: float) -> tuple[float, float, int, int]:
        """Average concurrency and proxied concurrency since the last report, and counts; then reset."""
        self.advance(t)
        in_use = t - self.since
        avg = self.integral / in_use if in_use > 0 else 0.0
        pavg = self.pintegral / in_use if in_use > 0 else 0.0
        out = (avg, pavg, self.count, self.pcount)
        self.integral = self.pintegral = 0.0
        self.count = self.pcount = 0
        self.since = t
        return out


@dataclass(eq=False)
class _Activator:
    """One activator's part in serving the revision: its queue, stats entry, throttler view and round robin."""

    index: int  # its place in the revision's public endpoints, as it last saw them
    count: int  # the activators in those endpoints
    queue: deque = field(default_factory=deque)
    stats: _Stats = field(default_factory=lambda: _Stats(since=0.0, last=0.0))
    entry: bool = False  # its stats entry is live
    pushed: bool = False  # it pushed a first request since its last report
    rr: float = -1.0  # address of its last round-robin pick


@dataclass(eq=False)
class _Pod:
    id: int
    slot: int
    created: float
    ready_at: float  # scheduled readiness (cold start drawn at creation)
    stats: _Stats
    state: str = _STARTING
    ready: float = math.nan  # when it really became ready
    drain_start: float = math.nan
    terminated: float = math.nan
    executing: list = field(default_factory=list)
    queue: deque = field(default_factory=deque)
    outstanding: list = field(default_factory=lambda: [0])  # per activator: requests it sent, not finished
    address: float = 0.0  # the pod's address; the activator orders its backends by it
    idle_since: float = 0.0
    idle_seconds: float = 0.0


@dataclass(eq=False)
class ReferenceResult:
    """What the reference produced for one configuration.

    Attributes
    ----------
    result : ReplayResult
        The same summary, histograms and counters as the engine's, batch of one.
    requests : pandas.DataFrame
        One row per request that arrived before the end: ``arrival``, ``duration``,
        ``admitted`` (reached a queue-proxy), ``start``, ``end`` (s; NaN where it did
        not happen), ``pod`` (pod id, -1 if none), ``outcome`` (one of
        ``completed``, ``503``, ``504``, ``in_flight``), ``failed_in`` (for 503/504: the
        ``activator``, the pod ``queue``, ``executing`` or the ``queue-proxy``),
        ``via_activator``, ``activator`` (the one it went through, -1: sent direct),
        ``queued`` (waited in a queue-proxy) and ``seq`` (order
        of admission into the queue-proxies).
    pod_log : pandas.DataFrame
        One row per pod: ``pod``, ``slot``, ``created``, ``ready_at`` (scheduled),
        ``ready`` (NaN if never), ``drain_start``, ``terminated`` (NaN if alive at
        the end), ``state`` at the end.
    control : pandas.DataFrame
        One row per second boundary ``time``: what the control plane saw and did
        (``ready``, ``starting``, ``draining``, ``stable``, ``panic``, ``valid``,
        ``desired``, ``ebc``, ``panicking``, ``replicas``, ``mode``, ``in_path``).
    """

    result: ReplayResult
    requests: pd.DataFrame
    pod_log: pd.DataFrame
    control: pd.DataFrame

    @property
    def summary(self) -> pd.DataFrame:
        return self.result.summary

    def latencies(self) -> np.ndarray:
        """Exact end-to-end times of the completed requests, seconds."""
        r = self.requests
        done = r["outcome"] == "completed"
        return (r["end"] - r["arrival"])[done].to_numpy()


class _Simulation:
    def __init__(self, trace, config, platform: Platform, seed: int, t_end: int, policy, pools=()) -> None:
        self.spec = KPASpec.from_configs([config])
        s = self.spec
        self.platform = platform
        self.t_end = t_end
        self.cc = int(s.container_concurrency[0])
        self.timeout = float(s.timeout_seconds[0])
        self.stable_window = float(s.stable_window[0])
        self.policy = policy
        self.kpa = policy.routing == "kpa"
        self.on_demand = bool(getattr(policy, "on_demand", False))
        self.wakes = bool(getattr(policy, "wakes", False))
        self.period = int(getattr(policy, "period", 1))
        self.scrape = bool(s.has_scrape_target[0]) if self.kpa else True
        self.seed = seed
        # One stream per purpose, as the engine draws them.
        self.streams = dict(zip(STREAMS, (SplitMix64(int(x)) for x in seed_states(seed))))

        arrivals = np.asarray(trace.arrivals, dtype=np.float64)
        durations = np.asarray(trace.durations, dtype=np.float64)
        self.requests = [
            _Request(i, float(a), float(d)) for i, (a, d) in enumerate(zip(arrivals, durations)) if a < t_end
        ]

        self.events: list = []
        self.counter = 0
        for r in self.requests:
            self._schedule(r.arrival, _ARRIVAL, r)
        # Closed-loop clients, numbered across their pools as the engine numbers them.
        self.pools = tuple(pools)
        self.clients: list[_Client] = []
        for k, pool in enumerate(self.pools):
            for c in range(pool.clients_max):
                client = _Client(len(self.clients), k, pool.windows(c), -1 if pool.requests is None else pool.requests)
                self.clients.append(client)
                if client.budget != 0:
                    self._plan_send(client, -math.inf)

        # Pods: slot i holds a live pod or None; a new pod takes the lowest free slot.
        self.slots: list = []
        self.pods: list[_Pod] = []
        # Activators, each with a FIFO queue, a stats entry and a round-robin position; a front
        # end that scales per request has one.
        k = 1 if self.on_demand else platform.activators
        self.acts = [_Activator(index=a, count=k) for a in range(k)]
        self.endpoints = k  # activators in the revision's public endpoints: 0 .. endpoints - 1
        self.in_path = True
        self.routed_proxy = True  # the mode last sent to the network
        self.serve_wish = False  # Serve is wanted but no pod is ready: the first one sends the switch
        self.admissions = 0

        self.collector = Collector(s)
        self.state = policy.start(Context(configs=[config], spec=s, trace=trace, platform=platform, duration=t_end,
                                          seed=seed))
        self.rec = Reconciler(s, now=0.0) if self.kpa else None
        if self.kpa:
            self._set_endpoints(0.0, min(int(self.rec.activators[0]), len(self.acts)))
        self.desired = -1 if self.kpa else 0  # the policy's last decision
        self.ebc = 0
        self.replicas = int(self.rec.replicas[0]) if self.kpa else 0
        self.keep_alive = math.inf  # on-demand policies: idle seconds before an instance is retired
        self.floor = 0  # ... and the instances kept regardless
        self.floor_time = 0.0
        # Per-second totals a policy observes: requests in the system and executing.
        self.system = _Stats(since=0.0, last=0.0)
        self.busy = _Stats(since=0.0, last=0.0)
        self.arrived = 0
        self.history = {name: deque([0.0] * policy.history, maxlen=policy.history) for name in SIGNAL_HISTORY}
        self.last = dict.fromkeys(SIGNAL_HISTORY, 0.0)

        # Outputs.
        self.cold_delayed = 0
        self.created = 0
        self.scale_events = 0
        self.from_zero = 0
        self.live = 0
        self.peak = 0
        self.panic_time = 0.0
        self.path_time = 0.0
        self.panic_since = 0.0
        self.path_since = 0.0
        self.panicking = False
        self.control: list[dict] = []

        if self.kpa:
            self._apply(0.0, self.replicas)
        else:  # every other policy decides at time 0, before the first request
            self._decide(0.0, self.collector.observe(0))
            self._control(0.0)

    # -- plumbing ------------------------------------------------------------------------

    def _schedule(self, t: float, kind: int, obj) -> None:
        heapq.heappush(self.events, (t, kind, self.counter, obj))
        self.counter += 1

    # -- closed-loop clients ---------------------------------------------------------------

    def _draw(self, dist) -> float:
        """A think or service time, drawn from the client stream as the engine draws it."""
        from .trace.durations import Constant, Exponential, Lognormal

        rng = self.streams["client"]
        if dist is None:
            return 0.0
        if isinstance(dist, Constant):
            return dist.seconds
        if isinstance(dist, Exponential):
            return -dist.mean * math.log(1.0 - rng.uniform())
        if isinstance(dist, Lognormal):
            return math.exp(math.log(dist.median) + dist.sigma * rng.normal())
        return float(dist.samples[rng.below(dist.samples.size)])

    def _plan_send(self, client: _Client, t: float) -> None:
        """The client's next request reaches the ingress at t, or when its next span opens."""
        w = client.window
        while w < len(client.windows) and client.windows[w][1] <= t:
            w += 1
        client.window = w
        if w < len(client.windows):
            heapq.heappush(self.events, (max(t, client.windows[w][0]), _SEND, client.index, client))

    def _on_send(self, client: _Client, t: float) -> None:
        pool = self.pools[client.pool]
        req = _Request(len(self.requests), t, self._draw(pool._service), client=client)
        self.requests.append(req)
        client.last = t
        client.sent += 1
        self._on_arrival(req, t)

    def _answered(self, req: _Request) -> None:
        """A request ended; its client, if it has one, plans the next."""
        client = req.client
        if client is None:
            return
        pool = self.pools[client.pool]
        if client.budget >= 0 and client.sent >= client.budget:
            return
        nxt = req.end + 2.0 * pool.delay + self._draw(pool._think)
        if pool.rate is not None:
            nxt = max(nxt, client.last + 1.0 / pool.rate)
        self._plan_send(client, nxt)

    def _load(self) -> np.ndarray:
        """What each pool observed, in the layout of :mod:`autoscale.clients` (one configuration)."""
        from . import clients as K

        out = np.zeros((1, max(len(self.pools), 1), K.N_KO), dtype=np.int64)
        code = {"completed": K.KO_OK, "503": K.KO_503, "504": K.KO_504}
        for r in self.requests:
            if r.client is None:
                continue
            k = r.client.pool
            out[0, k, K.KO_SENT] += 1
            if r.outcome in code:
                out[0, k, code[r.outcome]] += 1
                out[0, k, K.KO_HIST + hist_bin(r.end - r.arrival + 2.0 * self.pools[k].delay)] += 1
                out[0, k, K.KO_LAST] = max(out[0, k, K.KO_LAST], int((r.end + self.pools[k].delay) * 1e6 + 0.5))
        return out

    def _ready_pods(self) -> list[_Pod]:
        return [p for p in self.slots if p is not None and p.state == _READY_STATE]

    def _count(self, state: str) -> int:
        return sum(1 for p in self.slots if p is not None and p.state == state)

    def _set_panicking(self, t: float, value: bool) -> None:
        if value != self.panicking:
            if self.panicking:
                self.panic_time += t - self.panic_since
            self.panicking = value
            self.panic_since = t

    def _set_in_path(self, t: float, value: bool) -> None:
        if value != self.in_path:
            if self.in_path:
                self.path_time += t - self.path_since
            self.in_path = value
            self.path_since = t

    # -- pods ----------------------------------------------------------------------------

    def _cold_start(self) -> float:
        cs = self.platform.cold_start
        if cs.kind == "constant":
            return cs.shift
        if cs.kind == "lognormal":
            return cs.shift + math.exp(cs.mu + cs.sigma * self.streams["cold_start"].normal())
        return cs.samples[self.streams["cold_start"].below(len(cs.samples))]

    def _create_pod(self, t: float) -> _Pod:
        try:
            slot = self.slots.index(None)
        except ValueError:
            slot = len(self.slots)
            self.slots.append(None)
        pod = _Pod(id=len(self.pods), slot=slot, created=t, ready_at=t + self._cold_start(),
                   stats=_Stats(since=t, last=t), idle_since=t, address=self.streams["address"].uniform(),
                   outstanding=[0] * len(self.acts))
        self.slots[slot] = pod
        self.pods.append(pod)
        self.created += 1
        self.live += 1
        self.peak = max(self.peak, self.live)
        self._schedule(pod.ready_at, _READY, pod)
        return pod

    def _terminate(self, pod: _Pod, t: float) -> None:
        if not pod.executing:
            pod.idle_seconds += t - pod.idle_since
        pod.state = _GONE
        pod.terminated = t
        self.slots[pod.slot] = None
        self.live -= 1

    def _apply(self, t: float, replicas: int) -> None:
        """The deployment: create or remove pods until starting + ready pods equal ``replicas``."""
        live = [p for p in self.slots if p is not None and p.state in (_STARTING, _READY_STATE)]
        n = len(live)
        while n < replicas:
            self._create_pod(t)
            n += 1
        while n > replicas:
            starting = [p for p in self.slots if p is not None and p.state == _STARTING]
            if starting:
                # newest first; among equals the highest slot
                victim = max(starting, key=lambda p: (p.created, p.slot))
                self._terminate(victim, max(t, victim.created))
            else:
                ready = self._ready_pods()
                victim = max(ready, key=lambda p: (p.ready_at, p.slot))
                if not victim.executing and not victim.queue:
                    self._terminate(victim, t)
                else:
                    victim.state = _DRAINING
                    victim.drain_start = t
            n -= 1

    def _retire_idle(self, t: float) -> None:
        """Remove ready instances idle for the keep-alive by ``t``, longest idle first, down to the floor."""
        if self.keep_alive == math.inf:
            return
        while self._count(_STARTING) + self._count(_READY_STATE) > self.floor:
            idle = [p for p in self._ready_pods() if not p.executing and not p.queue]
            if not idle:
                return
            expiry = {p.id: max(p.idle_since, p.ready) + self.keep_alive for p in idle}
            victim = min(idle, key=lambda p: (expiry[p.id], p.slot))
            if expiry[victim.id] > t:
                return
            self._terminate(victim, max(expiry[victim.id], self.floor_time))

    def _maybe_finish_drain(self, pod: _Pod, t: float) -> None:
        if pod.state == _DRAINING and not pod.executing and not pod.queue:
            self._terminate(pod, t)

    # -- requests on a pod ---------------------------------------------------------------

    def _start(self, pod: _Pod, req: _Request, t: float) -> None:
        if not pod.executing:
            pod.idle_seconds += t - pod.idle_since
        pod.executing.append(req)
        self.busy.change(t, 1)
        req.start = t
        end = t + req.duration
        deadline = req.arrival + self.timeout
        if end > deadline:
            end = deadline
            req.timed_out = True
        self._schedule(end, _COMPLETE, req)

    def _admit(self, pod: _Pod, req: _Request, t: float) -> bool:
        """The request reaches ``pod``'s queue-proxy: execute, queue, or answer 503."""
        req.pod = pod.id
        req.admitted = t
        pod.stats.count += 1
        pod.stats.pcount += req.via
        cc = self.cc
        if cc == 0 or len(pod.executing) < cc:
            pod.stats.change(t, 1, int(req.via))
            req.seq = self.admissions
            self.admissions += 1
            self._start(pod, req, t)
            return True
        if len(pod.queue) < 10 * cc:
            pod.stats.change(t, 1, int(req.via))
            req.seq = self.admissions
            self.admissions += 1
            req.queued = True
            pod.queue.append(req)
            self._schedule(req.arrival + self.timeout, _QUEUE_TIMEOUT, req)
            return True
        req.outcome = "503"
        req.failed_in = "queue-proxy"
        req.end = t
        self.system.change(t, -1)
        self._answered(req)
        return False

    def _release_activator(self, pod: _Pod, req: _Request, t: float) -> None:
        if req.via:
            pod.outstanding[req.act] -= 1
            self.acts[req.act].stats.change(t, -1)

    # -- the activator -------------------------------------------------------------------

    def _assigned(self, a: int, ready: list) -> list:
        """The ready pods activator ``a``'s throttler uses (``throttler.go``, ``assignSlice``), in address order."""
        by_address = sorted(ready, key=lambda p: p.address)
        act = self.acts[a]
        n, lt = act.count, len(by_address)
        if len(self.acts) == 1 or act.index < 0 or lt <= 1 or n <= 1:
            return by_address
        if n > lt:
            return [by_address[act.index % lt]]
        size = lt // n
        mine = by_address[act.index * size: act.index * size + size]
        remnants = lt % n
        if act.index < remnants:
            mine.append(by_address[lt - remnants + act.index])
        return sorted(mine, key=lambda p: p.address)

    def _pick_activator(self, a: int) -> _Pod | None:
        """The pod activator ``a`` sends its next request to, or None."""
        ready = self._ready_pods()  # slot order
        cc = self.cc
        if self.on_demand and cc > 0:
            # A FaaS front end: the newest instance with room (the first of equals in slot order).
            free = [p for p in ready if p.outstanding[a] < cc]
            return max(free, key=lambda p: (p.created, -p.slot)) if free else None
        if cc == 0:
            if not ready:
                return None
            if len(ready) == 1:
                return ready[0]
            n = len(ready)
            k1 = self.streams["routing"].below(n)
            k2 = self.streams["routing"].below(n - 1)
            if k2 >= k1:
                k2 += 1
            p1, p2 = ready[k1], ready[k2]
            if p1.outstanding[a] != p2.outstanding[a]:
                return p1 if p1.outstanding[a] < p2.outstanding[a] else p2
            return p1 if self.streams["routing"].uniform() < 0.5 else p2
        by_address = [p for p in self._assigned(a, ready) if p.outstanding[a] < cc]
        if not by_address:
            return None
        if cc <= 3:
            return by_address[0]  # first available
        # Round robin in address order, starting after the last pick.
        act = self.acts[a]
        pick = next((p for p in by_address if p.address > act.rr), by_address[0])
        act.rr = pick.address
        return pick

    def _dispatch(self, t: float, only: int | None = None) -> None:
        """Activators with queued requests (or just ``only``) send them to pods while they have room."""
        for a, act in enumerate(self.acts):
            if only is not None and a != only:
                continue
            while act.queue:
                pod = self._pick_activator(a)
                if pod is None:
                    break
                req = act.queue.popleft()
                pod.outstanding[a] += 1
                if not self._admit(pod, req, t):
                    pod.outstanding[a] -= 1
                    act.stats.change(t, -1)

    def _queued(self) -> bool:
        return any(act.queue for act in self.acts)

    def _into_activator(self, req: _Request, t: float) -> None:
        req.via = True
        # The ingress sends it to one of the activators in the revision's endpoints.
        a = self.streams["activator"].below(self.endpoints) if self.endpoints > 1 else 0
        req.act = a
        act = self.acts[a]
        pushed = False
        if not act.entry:
            # First request with no live stats entry: a fresh entry, pushed at once.
            act.entry = True
            act.pushed = True
            act.stats = _Stats(since=t, last=t, conc=act.stats.conc)
            pushed = True
        act.stats.change(t, 1)
        act.stats.count += 1
        act.queue.append(req)
        self._schedule(req.arrival + self.timeout, _ACT_TIMEOUT, req)
        self._dispatch(t, only=a)
        if self.on_demand and act.queue:
            # Scale per request: no instance had room, so this request waits for an
            # instance of its own (a cold start).
            self.cold_delayed += 1
            if self.cc == 0:
                if not self._count(_STARTING):
                    self._create_pod(t)
            else:
                self._bind(req, t)
        if pushed:
            self._push(t)

    def _bind(self, req: _Request, t: float) -> None:
        """Give a request that started a cold start to a starting instance with a free slot, or a new one."""
        self.acts[req.act].queue.remove(req)
        pod = next((p for p in self.slots if p is not None and p.state == _STARTING and len(p.queue) < self.cc),
                   None)
        if pod is None:
            pod = self._create_pod(t)
        pod.outstanding[req.act] += 1
        req.pod = pod.id
        req.admitted = t
        pod.stats.count += 1
        pod.stats.pcount += 1
        pod.stats.change(t, 1, 1)
        req.seq = self.admissions
        self.admissions += 1
        req.queued = True
        pod.queue.append(req)
        self._schedule(req.arrival + self.timeout, _QUEUE_TIMEOUT, req)

    def _push(self, t: float) -> None:
        """The activator's immediate stat {concurrency 1, count 1}; pokes a decider that wants 0."""
        second = int(math.floor(t))
        one = np.ones(1)
        self.collector.record(second, one, one)
        if self.wakes and self.desired == 0:
            self._decide(t, self.collector.observe(second))
            self._control(t)

    # -- events --------------------------------------------------------------------------

    def _on_arrival(self, req: _Request, t: float) -> None:
        self.arrived += 1
        self.system.change(t, 1)
        if self.on_demand:
            self._retire_idle(t)
        ready = self._ready_pods()
        if not ready and not self.on_demand:
            self.cold_delayed += 1
        if not self.in_path and ready:
            pod = ready[self.streams["routing"].below(len(ready))]
            self._admit(pod, req, t)
        else:
            self._into_activator(req, t)

    def _on_complete(self, req: _Request, t: float) -> None:
        pod = self.pods[req.pod]
        pod.executing.remove(req)
        self.busy.change(t, -1)
        self.system.change(t, -1)
        pod.stats.change(t, -1, -int(req.via))
        if not pod.executing:
            pod.idle_since = t
        req.end = t
        if req.timed_out:
            req.outcome = "504"
            req.failed_in = "executing"
        else:
            req.outcome = "completed"
        self._answered(req)
        self._release_activator(pod, req, t)
        if pod.queue:
            self._start(pod, pod.queue.popleft(), t)
        self._maybe_finish_drain(pod, t)
        if self._queued():
            self._dispatch(t)

    def _on_queue_timeout(self, req: _Request, t: float) -> None:
        pod = self.pods[req.pod]
        if req.outcome != "in_flight" or not math.isnan(req.start):
            return  # it started (or ended) before its deadline
        pod.queue.remove(req)
        pod.stats.change(t, -1, -int(req.via))
        self.system.change(t, -1)
        req.outcome = "504"
        req.failed_in = "queue"
        req.end = t
        self._answered(req)
        self._release_activator(pod, req, t)
        self._maybe_finish_drain(pod, t)
        if req.via and self._queued():
            self._dispatch(t)

    def _on_activator_timeout(self, req: _Request, t: float) -> None:
        if req.pod >= 0 or req.outcome != "in_flight":
            return  # it left the activator queue
        self.acts[req.act].queue.remove(req)
        self.acts[req.act].stats.change(t, -1)
        self.system.change(t, -1)
        req.outcome = "504"
        req.failed_in = "activator"
        req.end = t
        self._answered(req)

    def _on_ready(self, pod: _Pod, t: float) -> None:
        if pod.state != _STARTING:
            return  # removed while starting, or already made ready with another pod
        # Every pod due by now becomes ready at once, then the activator dispatches.
        for p in self.slots:
            if p is not None and p.state == _STARTING and p.ready_at <= t:
                p.state = _READY_STATE
                p.ready = t
                # Requests bound to it while it started (scale per request) start now.
                while p.queue and len(p.executing) < self.cc:
                    self._start(p, p.queue.popleft(), t)
        if self.serve_wish:
            # The SKS held Proxy only for want of a ready endpoint.
            self.serve_wish = False
            self._schedule(t + self.platform.mode_switch_delay, _SWITCH, False)
            self.routed_proxy = False
        if self._queued():
            self._dispatch(t)

    def _run_until(self, t1: float) -> None:
        ev = self.events
        while ev and ev[0][0] < t1:
            t, kind, _, obj = heapq.heappop(ev)
            if kind == _ARRIVAL:
                self._on_arrival(obj, t)
            elif kind == _COMPLETE:
                self._on_complete(obj, t)
            elif kind == _QUEUE_TIMEOUT:
                self._on_queue_timeout(obj, t)
            elif kind == _ACT_TIMEOUT:
                self._on_activator_timeout(obj, t)
            elif kind == _READY:
                self._on_ready(obj, t)
            elif kind == _SWITCH:
                self._set_in_path(t, obj)
            elif kind == _SEND:
                self._on_send(obj, t)

    # -- control plane -------------------------------------------------------------------

    def _signals(self, t, obs) -> Signals:
        one = lambda v: np.array([v])  # noqa: E731
        return Signals(
            now=t, mask=np.ones(1, dtype=bool), ready=one(len(self._ready_pods())), starting=one(self._count(_STARTING)),
            draining=one(self._count(_DRAINING)), in_system=one(self.system.conc), stable=obs.stable,
            panic=obs.panic, valid=obs.valid, _history={k: np.array([list(v)]) for k, v in self.history.items()},
            **{k: one(v) for k, v in self.last.items()},
        )

    def _decide(self, t: float, obs) -> None:
        """One tick of the policy."""
        out = self.policy.decide(self.state, self._signals(t, obs))
        self.desired = int(np.asarray(getattr(out, "desired", out)).reshape(-1)[0])
        if self.kpa:
            self.ebc = int(np.asarray(out.excess_burst_capacity)[0])
        flag = getattr(out, "panicking", None)
        if flag is not None:
            self._set_panicking(t, bool(np.asarray(flag)[0]))
        if self.on_demand:
            ka = self.policy.keep_alive(self.state)
            if ka is not None:
                self.keep_alive = float(np.asarray(ka).reshape(-1)[0])

    def _control(self, t: float):
        """The decision becomes replicas, and the activator's place in the path."""
        ready = len(self._ready_pods())
        prev = self.replicas
        mode = None
        if self.kpa:
            pods = ready + self._count(_STARTING) + self._count(_DRAINING)
            result = self.rec.reconcile_on_events(t, np.array([self.desired]), np.array([self.ebc]),
                                                  np.array([ready]), np.array([pods]), np.array([self.in_path]))
            if not result.ran[0]:
                return Mode(int(result.mode[0])).name  # nothing Knative would reconcile on
            new, patched = int(result.replicas[0]), bool(result.patched[0])
            want_proxy = bool(result.mode[0] == Mode.PROXY)
            mode = Mode(int(result.mode[0])).name
            self.serve_wish = bool(result.serve_on_ready[0])
            if want_proxy:  # the SKS puts the activators the reconciler asks for in the endpoints
                self._set_endpoints(t, min(int(result.activators[0]), len(self.acts)))
        elif self.on_demand:
            if self.desired != self.floor:
                self.floor, self.floor_time = self.desired, t
            live = self._count(_STARTING) + ready
            patched = self.desired > live
            new = self.desired if patched else live
            want_proxy = True
            self.serve_wish = False
        else:
            new = self.desired
            patched = new != self.replicas
            want_proxy = self.policy.routing == "activator" or ready == 0
            self.serve_wish = self.policy.routing != "activator" and ready == 0 and new > 0
        if patched:
            self._apply(t, new)
            self.scale_events += 1
            self.from_zero += prev == 0 and new > 0
        self.replicas = new if patched else self.replicas
        if want_proxy != self.routed_proxy:
            self._schedule(t + self.platform.mode_switch_delay, _SWITCH, want_proxy)
            self.routed_proxy = want_proxy
        return mode or ("PROXY" if want_proxy else "SERVE")

    def _set_endpoints(self, t: float, n: int) -> None:
        """The revision's public endpoints now hold activators 0 .. n-1; the others keep what they last saw."""
        if n == self.endpoints:
            return
        self.endpoints = n
        for a, act in enumerate(self.acts[:n]):
            act.index, act.count = a, n
        if self._queued():
            self._dispatch(t)

    def _scrape(self, t: int, reports: dict) -> tuple[float, float, float, float] | None:
        """Sample n(N) ready pods, old ones first, and estimate the revision totals (``pkg/autoscaler/metrics/stats_scraper.go``)."""
        ready = self._ready_pods()
        if not self.scrape or not ready:
            return None
        old = [p for p in ready if p.created <= t - self.stable_window]
        young = [p for p in ready if not (p.created <= t - self.stable_window)]
        order = old + young
        n = sample_size(len(ready))
        # Partial Fisher-Yates within the old group, then (if needed) within the young group.
        lo, hi = 0, len(old)
        for _ in range(2):
            m = hi - lo
            for i in range(min(n - lo, m)):
                k = lo + i + self.streams["scrape"].below(m - i)
                order[lo + i], order[k] = order[k], order[lo + i]
            if n <= hi:
                break
            lo, hi = hi, len(ready)
        sums = [0.0, 0.0, 0.0, 0.0]
        for p in order[:n]:
            avg, pavg, cnt, pcnt = reports[p.id]
            sums[0] += avg
            sums[1] += pavg
            sums[2] += cnt
            sums[3] += pcnt
        N = len(ready)
        return tuple(v / n * N for v in sums)

    def _boundary(self, t: int) -> None:
        """Second boundary ``t``: retire idle instances, reports, scrape, collector, policy, control."""
        if self.on_demand:
            self._retire_idle(float(t))
        reports = {p.id: p.stats.report(float(t)) for p in self.slots if p is not None}
        pod_conc = sum(reports[p.id][0] for p in self._ready_pods())
        scraped = self._scrape(t, reports)
        conc = rps = 0.0
        if scraped is not None:
            c, pc, r, pr = scraped
            conc, rps = c - pc, r - pr
            self.collector.record(t, np.array([conc]), np.array([rps]))

        act = None  # the activators' stats, summed: (concurrency, requests)
        for a_ in self.acts:
            if a_.entry:
                avg, _, cnt, _ = a_.stats.report(float(t))
                cnt = float(cnt)
                if avg == 0.0:
                    a_.entry = False
                if a_.pushed:
                    avg = max(avg - 1.0, 0.0)
                    cnt = max(cnt - 1.0, 0.0)
                act = (avg, cnt) if act is None else (act[0] + avg, act[1] + cnt)
                conc, rps = conc + avg, rps + cnt
                self.collector.record(t, np.array([avg]), np.array([cnt]))
            else:
                a_.stats.report(float(t))
            a_.pushed = False
        system, _, _, _ = self.system.report(float(t))
        busy, _, _, _ = self.busy.report(float(t))
        self.last = {"concurrency": conc, "rps": rps, "pod_concurrency": pod_conc, "system_concurrency": system,
                     "busy": busy, "arrivals": float(self.arrived)}
        self.arrived = 0
        for name, buf in self.history.items():
            buf.append(self.last[name])

        poke = self.wakes and act is not None and act[0] != 0 and self.desired == 0
        obs = self.collector.observe(t)
        ticked = t % self.period == 0 or poke
        if ticked:
            self._decide(float(t), obs)
        mode = self._control(float(t))
        self.control.append({
            "time": t,
            "ready": len(self._ready_pods()),
            "starting": self._count(_STARTING),
            "draining": self._count(_DRAINING),
            "stable": float(obs.stable[0]),
            "panic": float(obs.panic[0]),
            "valid": bool(obs.valid[0]),
            "ticked": bool(ticked),
            "desired": self.desired,
            "ebc": self.ebc,
            "panicking": self.panicking,
            "replicas": self.replicas,
            "mode": mode,
            "in_path": self.in_path,
        })

    # -- the run -------------------------------------------------------------------------

    def run(self, trace, timeseries: bool, max_points: int) -> ReferenceResult:
        t_end = self.t_end
        ts = TimeSeries.allocate(1, t_end, max_points) if timeseries else None
        demand = trace.concurrency_per_second(0, t_end) if timeseries and not self.pools else None
        stable_seen = panic_seen = 0.0
        for s in range(t_end):
            self._run_until(float(s + 1))
            self._boundary(s + 1)
            if ts is not None:
                row = self.control[-1]
                if row["ticked"] and row["valid"]:
                    stable_seen, panic_seen = row["stable"], row["panic"]
                # Clients' demand is what they have in the system, as the engine records it.
                now = self.last["system_concurrency"] if self.pools else demand[s]
                ts.add(s, now, np.array([stable_seen]), np.array([panic_seen]),
                       np.array([row["desired"]]), np.array([row["starting"]]), np.array([row["ready"]]),
                       np.array([row["panicking"]]), np.array([self.in_path]))
        counters, lat_hist, wait_hist = self._counters()
        result = ReplayResult(
            spec=self.spec,
            trace_name=getattr(trace, "name", ""),
            provenance=str(getattr(trace, "provenance", "")),
            duration=float(t_end),
            counters=counters,
            latency_hist=lat_hist,
            wait_hist=wait_hist,
            timeseries=ts.finish() if ts is not None else None,
            seed=self.seed,
            platform=self.platform,
            policy=self.policy.name,
            policy_params=dict(self.policy.params()),
        )
        return ReferenceResult(result=result, requests=self._request_frame(), pod_log=self._pod_frame(),
                               control=pd.DataFrame(self.control))

    def _request_frame(self) -> pd.DataFrame:
        rows = self.requests
        return pd.DataFrame({
            "request": np.array([r.index for r in rows], dtype=np.int64),
            "arrival": np.array([r.arrival for r in rows]),
            "duration": np.array([r.duration for r in rows]),
            "admitted": np.array([r.admitted for r in rows]),
            "start": np.array([r.start for r in rows]),
            "end": np.array([r.end for r in rows]),
            "pod": np.array([r.pod for r in rows], dtype=np.int64),
            "outcome": pd.Categorical([r.outcome for r in rows], categories=OUTCOMES),
            "failed_in": [r.failed_in for r in rows],
            "via_activator": np.array([r.via for r in rows], dtype=bool),
            "activator": np.array([r.act for r in rows], dtype=np.int64),
            "queued": np.array([r.queued for r in rows], dtype=bool),
            "seq": np.array([r.seq for r in rows], dtype=np.int64),
            "client": np.array([-1 if r.client is None else r.client.index for r in rows], dtype=np.int64),
        })

    def _pod_frame(self) -> pd.DataFrame:
        pods = self.pods
        return pd.DataFrame({
            "pod": np.array([p.id for p in pods], dtype=np.int64),
            "slot": np.array([p.slot for p in pods], dtype=np.int64),
            "created": np.array([p.created for p in pods]),
            "ready_at": np.array([p.ready_at for p in pods]),
            "ready": np.array([p.ready for p in pods]),
            "drain_start": np.array([p.drain_start for p in pods]),
            "terminated": np.array([p.terminated for p in pods]),
            "state": [p.state for p in pods],
        })

    def _counters(self):
        t_end = float(self.t_end)
        # close the open panic and in-path intervals at the end
        if self.panicking:
            self.panic_time += t_end - self.panic_since
        if self.in_path:
            self.path_time += t_end - self.path_since
        pod_seconds = idle = 0.0
        for p in self.pods:
            alive = p.state != _GONE
            stop = t_end if alive else p.terminated
            pod_seconds += stop - p.created
            idle += p.idle_seconds
            if alive and not p.executing:
                idle += t_end - p.idle_since

        lat_hist = np.zeros((1, HIST_BINS), dtype=np.int64)
        wait_hist = np.zeros((1, HIST_BINS), dtype=np.int64)
        counts = dict.fromkeys(OUTCOMES, 0)
        busy = lat_max = wait_max = 0.0
        for r in self.requests:
            counts[r.outcome] += 1
            if not math.isnan(r.start):  # waiting time: every request that started executing
                wait = r.start - r.arrival
                wait_hist[0, hist_bin(wait)] += 1
                wait_max = max(wait_max, wait)
            if r.outcome == "completed":
                lat = r.end - r.arrival
                lat_hist[0, hist_bin(lat)] += 1
                busy += r.duration
                lat_max = max(lat_max, lat)

        def one(v, dtype=np.float64):
            return np.array([v], dtype=dtype)

        counters = {
            "requests": one(len(self.requests), np.int64),
            "completed": one(counts["completed"], np.int64),
            "status_503": one(counts["503"], np.int64),
            "status_504": one(counts["504"], np.int64),
            "cold_start_delayed": one(self.cold_delayed, np.int64),
            "pods_created": one(self.created, np.int64),
            "pod_seconds": one(pod_seconds),
            "idle_pod_seconds": one(idle),
            "busy_seconds": one(busy),
            "latency_max": one(lat_max),
            "wait_max": one(wait_max),
            "peak_pods": one(self.peak, np.int64),
            "scale_events": one(self.scale_events, np.int64),
            "scale_from_zero": one(self.from_zero, np.int64),
            "panic_fraction": one(self.panic_time / t_end),
            "activator_fraction": one(self.path_time / t_end),
        }
        return counters, lat_hist, wait_hist


def simulate(
    trace,
    config,
    *,
    policy=None,
    platform: Platform | None = None,
    seed: int = 0,
    duration: float | None = None,
    timeseries: bool = False,
    max_points: int = 2000,
) -> ReferenceResult:
    """Simulate one configuration event by event; the slow, exact twin of :func:`autoscale.engine.replay`.

    Parameters
    ----------
    trace : autoscale.trace.Trace or autoscale.workload.ClosedLoop
        Requests: arrival times and service durations, seconds; or closed-loop clients
        (beside an optional trace), whose requests are made during the replay. The result's
        ``load`` and ``load_summary`` then hold what each client pool observed.
    config : KPAConfig
        One configuration.
    policy : Policy, str or callable, optional
        The scaling policy, as for :func:`autoscale.engine.replay`; the KPA by default.
    platform : Platform, optional
        Cold starts and network delay; Knative's measured defaults when omitted.
    seed : int
        Seed of the random streams, the same as the engine's for the same seed.
    duration : float, optional
        Seconds to simulate from 0; by default as :func:`autoscale.engine.replay` does.
    timeseries : bool
        Keep the time series, as :func:`autoscale.engine.replay` does.

    Returns
    -------
    ReferenceResult
    """
    platform = Platform() if platform is None else platform
    policy = as_policy("kpa" if policy is None else policy)
    check_policy(policy)
    from .workload import ClosedLoop, LoadOutcome

    pools = ()
    if isinstance(trace, ClosedLoop):
        workload, trace = trace, trace.requests()
        pools = workload.pools
        t_end = workload.seconds() if duration is None else simulated_seconds(trace, duration)
    else:
        t_end = simulated_seconds(trace, duration)
    sim = _Simulation(trace, config, platform, seed, t_end, policy, pools)
    out = sim.run(trace, timeseries, max_points)
    if pools:
        out.result.load = LoadOutcome(pools, sim._load(), float(t_end))
        out.result.trace_name, out.result.provenance = workload.name, workload.provenance
    return out
