"""Chains of functions: synchronous calls that hold the caller's slot, and destinations fed by outcomes.

A :class:`Chain` is a set of :class:`Service` objects, each with its own configuration,
scaling policy, platform (its own cold start) and service time, joined by two kinds of
edge:

* a :class:`Call` is synchronous: while executing a request, the caller calls the callee
  at a fraction ``at`` of its own service time, and the request holds the caller's slot
  until the callee's answer is back (``delay`` seconds each way on the network). A
  callee's 503 or 504 fails the caller's request when it comes back (counted in the
  caller's ``failed_downstream``; the caller answers at once, its later calls are not
  made). A service may make several calls, one after another in order of ``at``; the
  calls of all services form a DAG.
* a :class:`Destination` is asynchronous, as an asynchronous invocation's destinations
  are (Knative Eventing's ``reply`` and ``deadLetterSink``, Lambda's and Function
  Compute's on-success and on-failure destinations): each request the source answers
  successfully (``on="success"``) or fails (``on="failure"``) becomes a request of the
  target, ``delay`` seconds after the answer.

:func:`replay_chain` replays the chain from the entry service's trace, one recorded
replay (``replay(..., record=True)``) per service. A caller's service time depends on
its callees' latencies, which depend on their arrivals, which are the caller's call
times: a fixed point, solved over whole replays. Each sweep replays the services in
topological order (callers before callees, sources before destinations): a caller with
the callee latencies of the previous sweep, then each callee with the arrivals its
callers just produced. The sweeps stop when a sweep changes no service's requests (its
arrivals and service times bitwise identical to the previous sweep's; the replays are
deterministic, so the outcomes are too); the result says how many sweeps it took, and
:class:`ChainConvergenceError` is raised after ``max_sweeps`` (:data:`MAX_ITERATIONS`).

Each entry request unrolls into visits along every path of the DAG (a service called by
two callers of the same request gets two requests); a visit's own service time is drawn
once per entry request, from the service's ``service_time`` distribution seeded by the
replay's seed and the visit's place in the DAG, so every sweep sees the same draws.
``docs/model.md`` (chains and destinations) lists the assumptions.

Examples
--------
>>> from autoscale import KPAConfig, Platform, ColdStart
>>> from autoscale.chains import Call, Chain, Service, replay_chain
>>> from autoscale.trace import synthetic
>>> trace = synthetic.periodic(period=300.0, size=5, duration=300.0, start=150.0, service=synthetic.constant(0.1))
>>> cold = lambda s: Platform(cold_start=ColdStart.constant(s))
>>> chain = Chain(services=[Service("front", KPAConfig(), platform=cold(1.0)),
...                         Service("back", KPAConfig(), service_time=0.2, platform=cold(2.0))],
...               entry="front", calls=[Call("front", "back", at=0.5)])
>>> run = replay_chain(chain, trace, duration=200.0)  # both at zero pods by 150 s
>>> bool(run.end_to_end["latency_s"].min() > 3.0)  # both cold starts, one after the other
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .config import KPAConfig
from .errors import AutoscaleError, ConfigError
from .platform import Platform
from .results import STATUS_503, STATUS_504, STATUS_IN_FLIGHT, STATUS_OK
from .trace.durations import Constant, DurationDistribution
from .traffic import _mapping

__all__ = [
    "MAX_ITERATIONS", "MAX_DELAY", "Call", "Chain", "ChainConvergenceError", "ChainFile", "ChainResult",
    "Destination", "Service", "load_chain", "replay_chain",
]

#: Sweeps :func:`replay_chain` runs at most before it gives up on the fixed point.
MAX_ITERATIONS = 200
#: Largest network or delivery delay of a call or destination, seconds.
MAX_DELAY = 3600.0
#: Most visits a chain's DAG may unroll into per entry request.
MAX_VISITS = 1000
_ON = ("success", "failure")
_OK, _503, _504, _IN_FLIGHT = STATUS_OK, STATUS_503, STATUS_504, STATUS_IN_FLIGHT  # what recorded outcomes hold


class ChainConvergenceError(AutoscaleError):
    """The replays of a chain did not reach a fixed point within the allowed sweeps; ``sweeps`` holds that number."""

    def __init__(self, message: str, sweeps: int = 0) -> None:
        super().__init__(message)
        self.sweeps = sweeps


def _is_number(value) -> bool:
    """A real number (not a bool)."""
    return not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))


def _delay(value, what: str) -> float:
    if not _is_number(value):
        raise TypeError(f"{what} must be a number of seconds, got {type(value).__name__}")
    value = float(value)
    if not (math.isfinite(value) and 0.0 <= value <= MAX_DELAY):
        raise ConfigError(f"{what} = {value} s, must be in [0, {MAX_DELAY:g}] s")
    return value


@dataclass(frozen=True)
class Service:
    """One function of a chain.

    Parameters
    ----------
    name : str
    config : KPAConfig or sequence of KPAConfig
        Its revision's configuration (Knative's defaults when omitted); several make a batch:
        the chain replays once per configuration, with configuration ``b`` of every service
        that has several (a service with one uses it in every replay of the batch).
    service_time : DurationDistribution or float, optional
        Its own service time per request, seconds (a number is a constant); the entry
        service's come from the trace, so it has none.
    platform : Platform, optional
        Its cold start, network switch delay and activators (Knative's defaults when omitted).
    policy : Policy or str, optional
        Its scaling policy, as for :func:`autoscale.replay` (the KPA by default).
    """

    name: str
    config: KPAConfig | Sequence[KPAConfig] = field(default_factory=KPAConfig)
    service_time: DurationDistribution | float | None = None
    platform: Platform | None = None
    policy: object = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"service name = {self.name!r}, must be a non-empty string")
        if not isinstance(self.config, KPAConfig):
            configs = tuple(self.config) if isinstance(self.config, Sequence) else ()
            if not configs or not all(isinstance(c, KPAConfig) for c in configs):
                raise TypeError(f"service {self.name}: config must be a KPAConfig or a non-empty sequence of them, "
                                f"got {type(self.config).__name__}")
            object.__setattr__(self, "config", configs[0] if len(configs) == 1 else configs)
        st = self.service_time
        if st is not None and not isinstance(st, DurationDistribution):
            if not _is_number(st):
                raise TypeError(f"service {self.name}: service_time must be a number of seconds or a "
                                f"DurationDistribution, got {type(st).__name__}")
            if not (math.isfinite(float(st)) and float(st) > 0):
                raise ConfigError(f"service {self.name}: service_time = {st} s, must be a finite number > 0 s")
            object.__setattr__(self, "service_time", Constant(float(st)))
        if self.platform is not None and not isinstance(self.platform, Platform):
            raise TypeError(f"service {self.name}: platform must be a Platform, got {type(self.platform).__name__}")

    @property
    def configs(self) -> tuple[KPAConfig, ...]:
        """Its configurations: one, or the batch."""
        return (self.config,) if isinstance(self.config, KPAConfig) else self.config


@dataclass(frozen=True)
class Call:
    """A synchronous call: ``caller`` calls ``callee`` at fraction ``at`` of its own service time.

    ``delay`` is the network's one-way delay, seconds: the request reaches the callee
    ``delay`` after it is sent and the answer the caller ``delay`` after the callee gives it.
    """

    caller: str
    callee: str
    at: float = 0.5
    delay: float = 0.0

    def __post_init__(self) -> None:
        where = f"call {self.caller} -> {self.callee}"
        if not _is_number(self.at):
            raise TypeError(f"{where}: at = {self.at!r}, must be a number in [0, 1] (a fraction of the caller's "
                            f"service time), not a {type(self.at).__name__}")
        if not (0.0 <= float(self.at) <= 1.0):
            raise ConfigError(f"{where}: at = {self.at}, must be in [0, 1] (a fraction of the caller's service time)")
        object.__setattr__(self, "at", float(self.at))
        object.__setattr__(self, "delay", _delay(self.delay, f"{where}: delay"))


@dataclass(frozen=True)
class Destination:
    """Where a service's outcomes go: its successes (``on="success"``, a reply) or failures (a dead letter).

    Each such request of ``source`` becomes a request of ``target``, ``delay`` seconds after
    ``source`` answered it. A failure is a 503, a 504, or a callee's failure.
    """

    source: str
    target: str
    on: str = "success"
    delay: float = 0.0

    def __post_init__(self) -> None:
        where = f"destination {self.source} -> {self.target}"
        if self.on not in _ON:
            raise ConfigError(f"{where}: on = {self.on!r}, must be one of {', '.join(_ON)}")
        object.__setattr__(self, "delay", _delay(self.delay, f"{where}: delay"))

    @property
    def kind(self) -> str:
        """``reply`` (successes) or ``dead_letter`` (failures)."""
        return "reply" if self.on == "success" else "dead_letter"


@dataclass(frozen=True)
class Chain:
    """Services joined by synchronous calls and destinations, entered at ``entry``.

    Raises
    ------
    ConfigError
        For two services of one name, an unknown service in a call or destination, a
        service that calls itself, a cycle (of calls and destinations together), a
        service no request can reach, or an entry that something calls.
    """

    services: Sequence[Service]
    entry: str
    calls: Sequence[Call] = ()
    destinations: Sequence[Destination] = ()

    def __post_init__(self) -> None:
        services = tuple(self.services.values()) if isinstance(self.services, Mapping) else tuple(self.services)
        for s in services:
            if not isinstance(s, Service):
                raise TypeError(f"chain services must be Service objects, got {type(s).__name__}")
        calls, dests = tuple(self.calls), tuple(self.destinations)
        for c in calls:
            if not isinstance(c, Call):
                raise TypeError(f"chain calls must be Call objects, got {type(c).__name__}")
        for d in dests:
            if not isinstance(d, Destination):
                raise TypeError(f"chain destinations must be Destination objects, got {type(d).__name__}")
        object.__setattr__(self, "services", services)
        object.__setattr__(self, "calls", calls)
        object.__setattr__(self, "destinations", dests)
        names = [s.name for s in services]
        if not names:
            raise ConfigError("chain services: empty; a chain has at least its entry service")
        seen = set()
        for n in names:
            if n in seen:
                raise ConfigError(f"chain services: two services named {n!r}; names must be unique")
            seen.add(n)
        if self.entry not in seen:
            raise ConfigError(f"chain entry = {self.entry!r}, unknown service; the services are: {', '.join(names)}")
        edges = [("call", c.caller, c.callee) for c in calls] + [(d.kind, d.source, d.target) for d in dests]
        for kind, a, b in edges:
            for end, n in (("from", a), ("to", b)):
                if n not in seen:
                    raise ConfigError(f"chain {kind} {a} -> {b}: {end} = {n!r}, unknown service; the services "
                                      f"are: {', '.join(names)}")
            if a == b:
                raise ConfigError(f"chain {kind} {a} -> {b}: a service cannot send its own requests to itself")
            if b == self.entry:
                raise ConfigError(f"chain {kind} {a} -> {b}: {b} is the entry; the entry takes the trace's "
                                  f"requests only")
        out = {n: [] for n in names}
        for _, a, b in edges:
            out[a].append(b)
        sizes = sorted({len(s.configs) for s in services} - {1})
        if len(sizes) > 1:
            sized = [f"{s.name} {len(s.configs)}" for s in services if len(s.configs) > 1]
            raise ConfigError(f"chain services: configurations per service {', '.join(sized)}; a batch gives every "
                              f"service one configuration or the same number")
        object.__setattr__(self, "_batch", sizes[0] if sizes else 1)
        object.__setattr__(self, "_order", _topological(names, out))
        reach, stack = {self.entry}, [self.entry]
        while stack:
            for b in out[stack.pop()]:
                if b not in reach:
                    reach.add(b)
                    stack.append(b)
        lost = [n for n in names if n not in reach]
        if lost:
            raise ConfigError(f"chain service {lost[0]}: no call or destination from the entry {self.entry} "
                              f"reaches it")

    def service(self, name: str) -> Service:
        for s in self.services:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def batch(self) -> int:
        """Configurations the chain replays at once (the most any service has)."""
        return self._batch

    @property
    def order(self) -> tuple[str, ...]:
        """The services in topological order: every caller and source before its callees and destinations."""
        return self._order


def _topological(names: list[str], out: dict[str, list[str]]) -> tuple[str, ...]:
    """Kahn's order, ties in definition order; a cycle is refused, named service by service."""
    indegree = {n: 0 for n in names}
    for n in names:
        for b in out[n]:
            indegree[b] += 1
    order, ready = [], [n for n in names if indegree[n] == 0]
    while ready:
        n = ready.pop(0)
        order.append(n)
        for b in out[n]:
            indegree[b] -= 1
            if indegree[b] == 0:
                ready.append(b)
                ready.sort(key=names.index)
    if len(order) < len(names):
        left = [n for n in names if n not in order]
        # Every service left has a caller or source among those left (else Kahn's order would have taken
        # it): walk back along those edges until a service repeats, and that walk, reversed, is a cycle.
        path, n = [], left[0]
        while n not in path:
            path.append(n)
            n = next(a for a in left if n in out[a])
        back = path[path.index(n):] + [n]
        cycle = back[::-1]
        raise ConfigError(f"chain: calls and destinations form a cycle {' -> '.join(cycle)}; a chain must be "
                          f"acyclic")
    return tuple(order)


@dataclass(eq=False)
class _Visit:
    """One node of the unrolled DAG: a service reached along one path, with arrays over the entry requests."""

    index: int
    service: str
    parent: int  # -1 for the entry
    edge: object  # the Call or Destination from the parent (None for the entry)
    path: str
    calls: list = field(default_factory=list)  # child visit indices, in order of ``at``
    dests: list = field(default_factory=list)
    own: np.ndarray = None
    present: np.ndarray = None
    arrival: np.ndarray = None
    duration: np.ndarray = None
    start: np.ndarray = None
    end: np.ndarray = None
    status: np.ndarray = None
    failed: np.ndarray = None  # code of a callee's failure that ended the request (0: none)
    origin: np.ndarray = None  # service index where that failure happened (-1: none)
    sends: dict = field(default_factory=dict)  # child index -> (reached, send time after the start)

    @property
    def failed_downstream(self) -> np.ndarray:
        """Per configuration and entry request: answered 200 by the service, failed by a callee."""
        return (self.status == _OK) & (self.failed != 0)

    @property
    def kind(self) -> str:
        if self.edge is None:
            return "entry"
        return "call" if isinstance(self.edge, Call) else self.edge.kind


def _unroll(chain: Chain) -> list[_Visit]:
    calls = {n: sorted((c for c in chain.calls if c.caller == n), key=lambda c: c.at) for n in chain.order}
    dests = {n: [d for d in chain.destinations if d.source == n] for n in chain.order}
    visits: list[_Visit] = []

    def add(service, parent, edge, path):
        if len(visits) >= MAX_VISITS:
            raise ConfigError(f"chain: the calls and destinations unroll into more than {MAX_VISITS} visits per "
                              f"entry request; simplify the graph")
        v = _Visit(index=len(visits), service=service, parent=parent, edge=edge, path=path)
        visits.append(v)
        for c in calls[service]:
            v.calls.append(add(c.callee, v.index, c, f"{path} > {c.callee}"))
        for d in dests[service]:
            v.dests.append(add(d.target, v.index, d, f"{path} > {d.target} ({d.kind})"))
        return v.index

    add(chain.entry, -1, None, chain.entry)
    return visits


def _answered(v: _Visit):
    """Per entry request: the visit's request failed (its own 503/504 or a callee's), succeeded, or is unanswered."""
    own_fail = (v.status == _503) | (v.status == _504)
    ok = v.present & (v.status == _OK) & (v.failed == 0)
    fail = v.present & (own_fail | v.failed_downstream)
    return ok, fail


def _durations(v: _Visit, visits: list[_Visit], timeout: np.ndarray, names: list[str]) -> None:
    """The visit's service times from its callees' last outcomes (or their own times before their first replay).

    Arrays are (configurations, entry requests); ``timeout`` is each configuration's revision timeout, (B, 1).
    """
    shape = v.present.shape
    offset = np.zeros(shape)
    cut = np.zeros(shape, dtype=bool)
    total = np.broadcast_to(v.own, shape).copy()
    failed = np.zeros(shape, dtype=np.int64)
    origin = np.full(shape, -1, dtype=np.int64)
    never = np.zeros(shape, dtype=bool)  # a callee that never answered within the replay
    v.sends = {}
    for k in v.calls:
        child = visits[k]
        call = child.edge
        reached = ~cut & ~never
        v.sends[k] = (reached.copy(), call.at * v.own + offset)
        known = child.present & (child.status != _IN_FLIGHT) & ~np.isnan(child.end)
        latency = np.where(known, child.end - child.arrival, child.own)
        unanswered = child.present & ~known & ~np.isnan(child.arrival)
        _, fail = _answered(child)
        offset = np.where(reached, offset + 2.0 * call.delay + latency, offset)
        never |= reached & unanswered
        stop = reached & fail & known
        total = np.where(stop, call.at * v.own + offset, total)
        # A callee that answered 200 passes on its own callee's failure; a 503 or 504 is its own.
        failed = np.where(stop, np.where(child.status == _OK, child.failed, child.status), failed)
        origin = np.where(stop, np.where(child.status == _OK, child.origin, names.index(child.service)), origin)
        cut |= stop
    total = np.where(cut, total, v.own + offset)
    # A callee that never answered holds the request until its revision timeout (a 504).
    v.duration = np.where(never, timeout + 1.0, total)
    v.failed, v.origin = failed, origin


def _arrivals(v: _Visit, visits: list[_Visit]) -> None:
    """The visit's requests from its parent's outcomes in this sweep."""
    parent = visits[v.parent]
    edge = v.edge
    if isinstance(edge, Call):
        reached, send = parent.sends[v.index]
        sent = parent.start + send
        end = np.where(np.isnan(parent.end), np.inf, parent.end)
        # A parent that completed made every call it reached (the last may be sent at its very end: a
        # callee's 503 on arrival over a network of no delay); one cut short by its timeout made those
        # sent before its end.
        made = (parent.status == _OK) | (sent < end)
        v.present = parent.present & ~np.isnan(parent.start) & reached & made
        v.arrival = np.where(v.present, sent + edge.delay, np.nan)
    else:
        ok, fail = _answered(parent)
        v.present = ok if edge.on == "success" else fail
        v.arrival = np.where(v.present, parent.end + edge.delay, np.nan)


def _horizon(chain: Chain, visits: list[_Visit], last_arrival: float) -> int:
    """Seconds by which every request of every visit has been answered: each ends by its arrival plus its
    revision timeout, and a visit's requests arrive before its parent's end (plus the delay)."""
    ends = []
    for v in visits:
        before = last_arrival if v.parent < 0 else ends[v.parent] + v.edge.delay
        ends.append(before + max(c.timeout_seconds for c in chain.service(v.service).configs))
    return int(math.ceil(max(ends))) + 1


def _end_to_end(first: _Visit, arrivals: np.ndarray, names: list[str], b: int) -> pd.DataFrame:
    """Configuration ``b``'s row per entry request, from the entry visit's outcomes."""
    ok, fail = (x[b] for x in _answered(first))
    status, failed, end = first.status[b], first.failed[b], first.end[b]
    downstream = first.failed_downstream[b]
    failed_at = np.where(downstream, np.array(names, dtype=object)[np.maximum(first.origin[b], 0)],
                         np.where(fail, first.service, ""))
    return pd.DataFrame({
        "arrival_s": arrivals, "end_s": end, "latency_s": np.where(ok, end - arrivals, np.nan),
        "status": np.where(downstream, failed, status), "failed_at": failed_at.astype(str),
    }, index=pd.RangeIndex(arrivals.size, name="request"))


@dataclass(eq=False)
class ChainResult:
    """What a chain's replay produced.

    Attributes
    ----------
    chain : Chain
    results : dict of str -> ReplayResult
        Each service's replay at the fixed point (a row per configuration of the batch),
        with its recorded ``outcomes``.
    sweeps : int
        Sweeps over the services until one changed nothing (that one included).
    end_to_end : pandas.DataFrame
        One row per entry request (for a batch, per configuration and entry request, in
        columns ``config`` and ``request`` first): ``arrival_s``, ``end_s`` (when the entry answered), ``latency_s`` (NaN
        unless it succeeded), ``status`` (200; 503 or 504, its own or a callee's; 0
        unanswered at the end) and ``failed_at`` (the service where the failure happened,
        "" for a success).
    duration : float
        Seconds every service was replayed.
    """

    chain: Chain
    results: dict
    sweeps: int
    end_to_end: pd.DataFrame
    duration: float
    _visits: list = field(default=None, repr=False)

    @property
    def batch(self) -> int:
        return self.chain.batch

    @property
    def summary(self) -> pd.DataFrame:
        """One row per service (and configuration, for a batch), in topological order: its role (entry, callee,
        destination), its replay's summary, and ``failed_downstream`` (requests it answered with a callee's
        failure; counted in its ``completed``)."""
        rows, keys = [], []
        for name in self.chain.order:
            frame = self.results[name].summary
            if self.batch == 1:
                frame = frame.drop(columns=["config"])
            cols = list(frame.columns)
            keys += [k for k in cols[cols.index("policy") + 1:cols.index("requests")] if k not in keys]
            kinds = {v.kind for v in self._visits if v.service == name}
            role = "entry" if "entry" in kinds else ",".join(
                r for r, ks in (("callee", {"call"}), ("destination", {"reply", "dead_letter"})) if kinds & ks)
            frame.insert(0, "service", name)
            frame.insert(1, "role", role)
            frame["failed_downstream"] = sum((v.present & v.failed_downstream).sum(axis=1)
                                             for v in self._visits if v.service == name)
            rows.append(frame)
        out = pd.concat(rows, ignore_index=True)
        # The configuration keys that vary in any service's batch come after the policy, as in a replay's summary.
        head = [c for c in ("service", "role", "config", "policy") if c in out.columns] + keys
        return out[head + [c for c in out.columns if c not in head]]

    def to_pandas(self) -> pd.DataFrame:
        """The summary table (see :attr:`summary`)."""
        return self.summary

    def _row(self, config: int) -> int:
        if isinstance(config, bool) or not isinstance(config, (int, np.integer)) or not 0 <= config < self.batch:
            raise ValueError(f"config = {config!r}, must be a configuration index in [0, {self.batch - 1}]")
        return int(config)

    def requests(self, service: str, config: int = 0) -> pd.DataFrame:
        """The requests of one service (in configuration ``config`` of a batch): ``entry_request``, ``path`` (the
        visit's path through the DAG), ``kind``, ``arrival_s``, ``start_s``, ``end_s``, ``status``,
        ``failed_downstream``; in arrival order."""
        b = self._row(config)
        parts = []
        for v in self._visits:
            if v.service != service:
                continue
            j = np.flatnonzero(v.present[b])
            parts.append(pd.DataFrame({
                "entry_request": j, "path": v.path, "kind": v.kind, "arrival_s": v.arrival[b, j],
                "start_s": v.start[b, j], "end_s": v.end[b, j], "status": v.status[b, j],
                "failed_downstream": v.failed_downstream[b, j],
            }))
        if not parts:
            raise KeyError(f"no service {service!r} in the chain; the services are: {', '.join(self.chain.order)}")
        return pd.concat(parts).sort_values("arrival_s", kind="stable").reset_index(drop=True)

    def end_to_end_of(self, config: int = 0) -> pd.DataFrame:
        """The end-to-end rows of configuration ``config`` (all of :attr:`end_to_end` without a batch)."""
        b = self._row(config)
        e2e = self.end_to_end
        return e2e if self.batch == 1 else e2e[e2e["config"] == b].drop(columns=["config"]).set_index("request")

    def percentiles(self, qs=(50, 90, 99, 99.9), config: int = 0) -> pd.DataFrame:
        """Exact latency percentiles, seconds, of configuration ``config``: the end-to-end time of the successful
        entry requests, then each service's latency (arrival to answer) of the requests it answered successfully.
        Rows ``end_to_end`` and one per service; columns ``p50``, ``p90``, ... (NaN without any such request)."""
        rows = {"end_to_end": self.end_to_end_of(config)["latency_s"].dropna().to_numpy()}
        for name in self.chain.order:
            r = self.requests(name, config)
            ok = (r["status"] == _OK) & ~r["failed_downstream"]
            rows[name] = (r["end_s"] - r["arrival_s"])[ok].to_numpy()
        cols = [f"p{q:g}".replace(".", "") for q in qs]
        data = {k: [float(np.percentile(x, q)) if x.size else math.nan for q in qs] for k, x in rows.items()}
        return pd.DataFrame.from_dict(data, orient="index", columns=cols)

    def plot(self, config: int = 0, axes=None):
        """Ready pods of every service over time, and each entry request's end-to-end latency against its arrival,
        for configuration ``config``. Needs ``timeseries=True`` at replay. Returns ``(figure, axes)``; never shows.
        """
        from .plotting import chain_cascade

        return chain_cascade(self, config=self._row(config), axes=axes)


def replay_chain(
    chain: Chain,
    trace,
    *,
    seed: int = 0,
    duration: float | None = None,
    timeseries: bool = False,
    max_points: int = 2000,
    max_sweeps: int = MAX_ITERATIONS,
) -> ChainResult:
    """Replay a chain of services from the entry service's trace, to the fixed point of its synchronous calls.

    Parameters
    ----------
    chain : Chain
        With several configurations for a service, the chain replays as a batch: one
        chain per configuration, each service's replays in one batched call.
    trace : autoscale.trace.Trace
        The entry service's requests: their arrivals, and their durations as the entry's
        own service times.
    seed : int
        Seeds every service's replay (the ``i``-th service of ``chain.services`` replays
        with ``seed + i``) and the draws of the callees' service times (the same in every
        configuration of a batch).
    duration : float, optional
        Seconds every service replays; by default until every request of every service
        has been answered (the last entry arrival plus the revision timeouts and delays
        along the longest path); entry requests arriving at or after it are not replayed.
    timeseries, max_points
        Keep each service's time series, as for :func:`autoscale.replay` (for :meth:`ChainResult.plot`).
    max_sweeps : int
        Sweeps before :class:`ChainConvergenceError` (:data:`MAX_ITERATIONS` by default).

    Returns
    -------
    ChainResult
    """
    from .engine import Requests, Streams, run, simulated_seconds
    from .spec import KPASpec

    if not isinstance(chain, Chain):
        raise TypeError(f"chain must be a Chain, got {type(chain).__name__}")
    if not (hasattr(trace, "arrivals") and hasattr(trace, "durations")):
        raise TypeError(f"trace must be a Trace (arrivals and durations), got {type(trace).__name__}")
    if isinstance(max_sweeps, bool) or not isinstance(max_sweeps, (int, np.integer)) or max_sweeps < 1:
        raise ConfigError(f"max_sweeps = {max_sweeps!r}, must be a whole number >= 1")
    entry = chain.service(chain.entry)
    if entry.service_time is not None:
        raise ConfigError(f"service {entry.name}: the entry's service times are the trace's durations; give it no "
                          f"service_time")
    missing = [s.name for s in chain.services if s.name != chain.entry and s.service_time is None]
    if missing:
        raise ConfigError(f"service {missing[0]}: service_time missing; every service but the entry needs one")
    arrivals = np.asarray(trace.arrivals, dtype=np.float64)
    entry_own = np.asarray(trace.durations, dtype=np.float64)
    if duration is not None:
        # The entry requests the replay sees: those arriving before its end, as a replay's summary counts them.
        t_end = simulated_seconds(None, duration)
        kept = arrivals < t_end
        arrivals, entry_own = arrivals[kept], entry_own[kept]
    n, batch = arrivals.size, chain.batch
    shape = (batch, n)
    names = [s.name for s in chain.services]
    visits = _unroll(chain)
    for v in visits:
        if v.parent < 0:
            v.own = entry_own.copy()
            v.present = np.ones(shape, dtype=bool)
            v.arrival = np.broadcast_to(arrivals, shape).copy()
        else:
            rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, v.index])
            v.own = np.asarray(chain.service(v.service).service_time.sample(n, rng), dtype=np.float64)
            v.present = np.zeros(shape, dtype=bool)
            v.arrival = np.full(shape, np.nan)
        v.start, v.end = np.full(shape, np.nan), np.full(shape, np.nan)
        v.status = np.zeros(shape, dtype=np.int64)
        v.failed = np.zeros(shape, dtype=np.int64)
        v.origin = np.full(shape, -1, dtype=np.int64)
    if duration is None:
        t_end = _horizon(chain, visits, float(arrivals.max()) if n else 0.0)
    by_service = {name: [v for v in visits if v.service == name] for name in chain.order}
    configs = {s.name: list(s.configs) * (batch if len(s.configs) == 1 else 1) for s in chain.services}
    last: dict[str, tuple] = {}
    results: dict = {}
    services = {s.name: s for s in chain.services}
    timeouts = {name: np.array([[c.timeout_seconds] for c in configs[name]]) for name in chain.order}
    sweeps = 0
    converged = False
    while sweeps < max_sweeps:
        sweeps += 1
        changed = False
        for name in chain.order:
            service = services[name]
            own_visits = by_service[name]
            timeout = timeouts[name]
            for v in own_visits:
                if v.parent >= 0:
                    _arrivals(v, visits)
                _durations(v, visits, timeout, names)
            rows, orders = [], []
            for b in range(batch):
                arr = np.concatenate([v.arrival[b, v.present[b]] for v in own_visits])
                dur = np.concatenate([v.duration[b, v.present[b]] for v in own_visits])
                order = np.argsort(arr, kind="stable")
                rows.append(Requests(arr[order], dur[order]))
                orders.append(order)
            before = last.get(name)
            masks = [v.present.copy() for v in own_visits]  # which entry request each replayed request is
            if before is not None and all(np.array_equal(p, q) for p, q in zip(before[1], masks)) and all(
                    np.array_equal(p.arrivals, q.arrivals) and np.array_equal(p.durations, q.durations)
                    for p, q in zip(before[0], rows)):
                continue  # the same requests of the same entry requests: the same outcomes as the last replay
            changed = True
            last[name] = (rows, masks)
            streams = Streams.per_row(rows, name=name)
            result = run(streams, KPASpec.from_configs(configs[name]), policy=service.policy,
                         platform=service.platform, seed=int(seed) + names.index(name), t_end=t_end,
                         timeseries=timeseries, max_points=max_points, record=True, progress=False)
            results[name] = result
            out = result.outcomes  # one row: every request of the batch by its place in the streams
            start = streams.segments[0]
            for v in own_visits:
                v.start, v.end = np.full(shape, np.nan), np.full(shape, np.nan)
                v.status = np.zeros(shape, dtype=np.int64)
            for b, order in enumerate(orders):
                back = np.empty_like(order)
                back[order] = np.arange(order.size)
                pos = 0
                for v in own_visits:
                    j = np.flatnonzero(v.present[b])
                    at = start[b] + back[pos:pos + j.size]
                    pos += j.size
                    v.start[b, j] = out.start[0, at]
                    v.end[b, j] = out.end[0, at]
                    v.status[b, j] = out.status[0, at]
        if not changed:
            converged = True
            break
    if not converged:
        raise ChainConvergenceError(f"chain entered at {chain.entry}: the services' requests still changed after "
                                    f"{sweeps} sweeps (max_sweeps = {max_sweeps}); the calls did not reach a fixed "
                                    f"point: allow more sweeps (max_sweeps=), or see docs/model.md, chains and "
                                    f"destinations, on when they need not", sweeps=sweeps)
    frames = [_end_to_end(visits[0], arrivals, names, b) for b in range(batch)]
    if batch == 1:
        e2e = frames[0]
    else:
        e2e = pd.concat([f.reset_index().assign(config=b) for b, f in enumerate(frames)], ignore_index=True)
        e2e = e2e[["config", *e2e.columns.drop("config")]]
    return ChainResult(chain=chain, results=results, sweeps=sweeps, end_to_end=e2e, duration=float(t_end),
                       _visits=visits)


# -- chain files ---------------------------------------------------------------------------

#: Keys of a chain file, of a service in it, of a call, of a destination, and of a synthetic trace.
CHAIN_KEYS = ("trace", "duration", "entry", "services", "calls", "destinations")
SERVICE_KEYS = ("config", "service-time", "policy", "cold-start", "mode-switch-delay", "activators")
CALL_KEYS = ("from", "to", "at", "delay")
DESTINATION_KEYS = ("from", "to", "on", "delay")
SYNTHETIC = ("poisson", "on-off", "step", "ramp", "spike", "periodic")


@dataclass(frozen=True)
class ChainFile:
    """A chain file read by :func:`load_chain`: the chain, the entry's trace, and the file's duration (if any)."""

    chain: Chain
    trace: object
    duration: float | None = None

    def replay(self, *, seed: int = 0, duration: float | None = None, **kwargs) -> ChainResult:
        """:func:`replay_chain` of the file's chain and trace (``duration`` over the file's)."""
        return replay_chain(self.chain, self.trace, seed=seed,
                            duration=self.duration if duration is None else duration, **kwargs)


def _refused(exc: Exception, where: str, label: str) -> ConfigError:
    """A parser's error about the value at ``where`` of file ``label``, named once (the parser may name it too)."""
    text = str(exc)
    return ConfigError(f"{label}: {text}" if text.startswith(where) else f"{label}: {where}: {text}")


def _seconds_value(value, where: str, label: str) -> float:
    from .values import parse_seconds

    if isinstance(value, bool) or value is None:
        raise ConfigError(f"{label}: {where} = {value!r}, must be a duration such as 2s (or a number of seconds)")
    try:
        return parse_seconds(value, where) if isinstance(value, str) else float(value)
    except (ConfigError, TypeError, ValueError) as exc:
        raise _refused(exc, where, label) from None


def _distribution(value, where: str, label: str) -> DurationDistribution:
    from .errors import TraceError
    from .trace.durations import SPEC_SYNTAX, parse

    try:
        if isinstance(value, str):
            return parse(value, where)
        if not isinstance(value, bool) and isinstance(value, (int, float)):
            return Constant(float(value))
    except (ConfigError, TraceError) as exc:
        raise _refused(exc, where, label) from None
    raise ConfigError(f"{label}: {where} = {value!r}, must be {SPEC_SYNTAX}")


def _trace_from(raw, label: str, folder):
    """The entry's trace: a bundled name or a file (relative to the chain file), or a synthetic generator."""
    import inspect
    from pathlib import Path

    from .errors import TraceError
    from .trace import load, synthetic

    if isinstance(raw, str):
        path = Path(raw)
        if not path.is_absolute() and (folder / path).exists():
            path = folder / path
        try:
            return load(str(path) if path.exists() else raw)
        except TraceError as exc:
            raise ConfigError(f"{label}: trace: {exc}") from None
    if not isinstance(raw, Mapping) or "synthetic" not in raw:
        raise ConfigError(f"{label}: trace must be a bundled trace name, a trace file, or a mapping such as "
                          f"{{synthetic: periodic, period: 300s, size: 40, duration: 900s, service-time: 100ms}}")
    kind = raw["synthetic"]
    if kind not in SYNTHETIC:
        raise ConfigError(f"{label}: trace.synthetic = {kind!r}, must be one of {', '.join(SYNTHETIC)}")
    make = getattr(synthetic, kind.replace("-", "_"))
    params = [p for p in inspect.signature(make).parameters if p not in ("service", "seed", "max_memory")]
    allowed = ("synthetic", "service-time", "seed", *(p.replace("_", "-") for p in params))
    _mapping(raw, "trace", label, allowed)
    kw = {}
    for key, value in raw.items():
        if key == "synthetic":
            continue
        if key == "service-time":
            kw["service"] = _distribution(value, "trace.service-time", label)
        elif key == "seed" or key == "size":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{label}: trace.{key} = {value!r}, must be a whole number")
            kw[key] = value
        elif isinstance(value, str):
            kw[key.replace("-", "_")] = _seconds_value(value, f"trace.{key}", label)
        else:
            kw[key.replace("-", "_")] = value
    try:
        return make(**kw)
    except (ConfigError, TraceError, TypeError) as exc:
        raise ConfigError(f"{label}: trace: {exc}") from None


def _service_from(name, raw, label: str) -> Service:
    from .configmap import resolve

    where = f"services.{name}"
    raw = {} if raw is None else _mapping(raw, where, label, SERVICE_KEYS)
    raw_config = raw.get("config", {})
    if raw_config is None:
        raise ConfigError(f"{label}: {where}.config is empty; give a mapping of config-autoscaler keys (or "
                          f"leave the key out for Knative's defaults)")
    listed = isinstance(raw_config, list)
    configs = []
    for i, keys in enumerate(raw_config if listed else [raw_config]):
        at = f"{where}.config" + (f"[{i}]" if listed else "")
        if not isinstance(keys, Mapping):
            raise ConfigError(f"{label}: {at} must be a mapping of config-autoscaler keys to values (or a list of "
                              f"them, a batch)")
        try:
            configs.append(resolve(overrides=dict(keys)).config)
        except (ConfigError, TypeError) as exc:
            raise ConfigError(f"{label}: {at}: {exc}") from None
    if not configs:
        raise ConfigError(f"{label}: {where}.config: an empty list; give one mapping or several")
    config = configs[0] if len(configs) == 1 else configs
    platform_keys = {k: raw[k] for k in ("cold-start", "mode-switch-delay", "activators") if k in raw}
    try:
        platform = Platform().with_settings(platform_keys)
    except ConfigError as exc:
        raise ConfigError(f"{label}: {where}: {exc}") from None
    service_time = None
    if "service-time" in raw:
        service_time = _distribution(raw["service-time"], f"{where}.service-time", label)
    policy = raw.get("policy")
    if policy is not None and not isinstance(policy, str):
        raise ConfigError(f"{label}: {where}.policy = {policy!r}, must be a policy name such as kpa")
    if policy is not None:
        from .policies import names as policy_names

        if policy not in policy_names():
            raise ConfigError(f"{label}: {where}.policy = {policy!r}, must be one of {', '.join(policy_names())}")
    try:
        return Service(str(name), config=config, service_time=service_time, platform=platform, policy=policy)
    except (ConfigError, TypeError) as exc:
        raise ConfigError(f"{label}: {where}: {exc}") from None


def _edges_from(raw, key: str, label: str, allowed, make):
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError(f"{label}: {key} must be a list of mappings with keys {', '.join(allowed)}")
    out = []
    for i, item in enumerate(raw):
        where = f"{key}[{i}]"
        if isinstance(item, Mapping) and True in item and "on" in allowed:
            # YAML 1.1 reads a bare key on as true: {on: failure} arrives as {True: "failure"}.
            item = {("on" if k is True else k): v for k, v in item.items()}
        item = _mapping(item, where, label, allowed)
        for need in ("from", "to"):
            if need not in item:
                raise ConfigError(f"{label}: {where}: {need} missing; name a service")
        kw = {}
        if "delay" in item:
            kw["delay"] = _seconds_value(item["delay"], f"{where}.delay", label)
        try:
            out.append(make(item, kw))
        except (ConfigError, TypeError) as exc:
            raise ConfigError(f"{label}: {where}: {exc}") from None
    return out


def load_chain(path) -> ChainFile:
    """Read a chain file (YAML): the entry's trace, the services, their calls and destinations.

    The file::

        trace:                   # a bundled trace name, a trace file, or a synthetic trace
          synthetic: periodic    # poisson, on-off, step, ramp, spike or periodic, with its parameters
          period: 300s
          size: 40
          duration: 900s
          service-time: 100ms    # the entry's own service time (a constant, exponential:, lognormal:)
        duration: 900s           # optional: seconds every service replays
        entry: frontend
        services:
          frontend: {cold-start: 1s, config: {container-concurrency: 10}}
          auth: {cold-start: 3s, service-time: 50ms}
          db: {cold-start: 5s, service-time: "lognormal:20ms,0.5", policy: kpa}
          audit: {service-time: 10ms}
        calls:                   # synchronous: the caller holds its slot until the answer
          - {from: frontend, to: auth, at: 0.5, delay: 2ms}
          - {from: auth, to: db, at: 0.5}
        destinations:            # asynchronous: successes (reply) or failures (dead letters)
          - {from: frontend, on: failure, to: audit, delay: 100ms}

    A service's ``config`` holds config-autoscaler keys or annotations (a list of such mappings
    is a batch: the chain replays once per configuration); ``cold-start`` (a constant),
    ``mode-switch-delay`` and ``activators`` are its platform's.

    Raises
    ------
    ConfigError
        Naming the file and the key: an unknown key, an unknown service, a cycle, a bad
        value, a YAML syntax error.
    """
    import os
    from pathlib import Path

    from ._yaml import load_yaml

    label = os.fspath(path)
    docs = load_yaml(path)
    if len(docs) != 1:
        raise ConfigError(f"{label}: expected one YAML document holding the chain, found {len(docs)}")
    data = _mapping(docs[0], "the chain", label, CHAIN_KEYS)
    for need in ("trace", "entry", "services"):
        if need not in data:
            raise ConfigError(f"{label}: {need}: missing")
    services = data["services"]
    if not isinstance(services, Mapping) or not services:
        raise ConfigError(f"{label}: services must be a non-empty mapping of name -> service, such as "
                          f"{{frontend: {{cold-start: 1s}}}}")
    built = [_service_from(name, raw, label) for name, raw in services.items()]
    for s in built:
        if s.name == str(data["entry"]) and s.service_time is not None:
            raise ConfigError(f"{label}: services.{s.name}.service-time: the entry's service times are the "
                              f"trace's durations; leave it out (the trace's own service-time sets them)")
        if s.name != str(data["entry"]) and s.service_time is None:
            raise ConfigError(f"{label}: services.{s.name}.service-time: missing; every service but the entry "
                              f"needs one (a duration such as 50ms, or exponential:50ms, lognormal:20ms,0.5)")
    calls = _edges_from(data.get("calls"), "calls", label, CALL_KEYS,
                        lambda item, kw: Call(item["from"], item["to"], at=item.get("at", 0.5), **kw))
    dests = _edges_from(data.get("destinations"), "destinations", label, DESTINATION_KEYS,
                        lambda item, kw: Destination(item["from"], item["to"], on=item.get("on", "success"), **kw))
    try:
        chain = Chain(services=built, entry=data["entry"], calls=calls, destinations=dests)
    except (ConfigError, TypeError) as exc:
        raise ConfigError(f"{label}: {exc}") from None
    duration = None
    if data.get("duration") is not None:
        duration = _seconds_value(data["duration"], "duration", label)
        if not (math.isfinite(duration) and duration > 0):
            raise ConfigError(f"{label}: duration = {data['duration']}, must be > 0 s and finite")
    trace = _trace_from(data["trace"], label, Path(label).parent)
    return ChainFile(chain=chain, trace=trace, duration=duration)
