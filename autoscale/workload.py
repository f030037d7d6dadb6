"""Workloads as load generators make them: closed-loop clients, and open-loop arrival rates.

A trace is open loop: its requests arrive when they arrived, whatever the service does.
Most experiments against Knative are run with a closed-loop load generator instead
(``hey -c 20``, ``wrk -c 50``, k6's virtual users): a fixed number of clients, each
sending its next request only when its previous one is answered. Around a cold start
the difference is large: 20 clients put at most 20 requests into the activator, where
an open-loop replay of the same mean rate piles up every arrival of the cold start.

:class:`Clients` is one pool of such clients; :class:`ClosedLoop` is a workload of one
or more pools (and, optionally, an open-loop trace beside them), which
:func:`autoscale.replay`, :func:`autoscale.compare` and sweeps take wherever they take
a trace. The clients run inside the replay of each configuration
(:mod:`autoscale.clients`), deterministically under the seed.
:func:`constant_arrival_rate` and :func:`ramping_arrival_rate` are the open-loop
generators of the same tools (``vegeta -rate``, k6's ``constant-arrival-rate`` and
``ramping-arrival-rate``): requests at evenly spaced times, returned as a
:class:`~autoscale.trace.Trace`. :mod:`autoscale.loadgen` reads the tools' own command
lines and option files into these objects.

The client model (``docs/model.md`` §9): a request reaches the ingress ``delay`` after
its client sends it and its response reaches the client ``delay`` after the revision
answers; a 503 or 504 is a response like any other, so the client thinks and sends its
next request (load generators count it as an error and go on); think times and service
times are drawn from the configuration's ``client`` random stream.

Examples
--------
>>> from autoscale.trace import durations as d
>>> pool = Clients(20, service=d.exponential(0.2), duration=600, rate=1.0)
>>> pool.clients_max, pool.end_time()
(20, 600.0005)
>>> ramp = Clients(0, service=0.1, stages=((10, 4), (10, 0)))
>>> ramp.windows(3)  # the line touches 4 only at its peak: never active
[]
>>> [tuple(round(x, 4) for x in w) for w in ramp.windows(0)]
[(2.5005, 17.5005)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import ConfigError
from .trace.durations import Constant, DurationDistribution, Empirical, Exponential, Lognormal
from .trace.synthetic import _finish, _rng, _volume
from .trace.trace import Trace

__all__ = ["Clients", "ClosedLoop", "LoadOutcome", "constant_arrival_rate", "ramping_arrival_rate"]

#: One-way network delay between a client and the ingress, seconds (a client in the cluster's region).
DEFAULT_DELAY = 0.0005


def _number(where: str, name: str, value, *, low: float = 0.0, strict: bool = False, inf: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {name} = {value!r}, must be a number") from None
    ok = (x > low if strict else x >= low) and (math.isfinite(x) or (inf and x == math.inf))
    if not ok:
        rel = ">" if strict else ">="
        raise ConfigError(f"{where}: {name} = {value!r}, must be a finite number {rel} {low:g}")
    return x


def _count(where: str, name: str, value, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ConfigError(f"{where}: {name} = {value!r}, must be a whole number >= {low}")
    return int(value)


def _distribution(where: str, name: str, value, zero_ok: bool):
    """A service or think time: a distribution, a number of seconds, or a trace (its durations)."""
    if isinstance(value, Trace):
        return Empirical(np.asarray(value.durations, dtype=np.float64))
    if isinstance(value, DurationDistribution):
        if not isinstance(value, (Constant, Exponential, Lognormal, Empirical)):
            raise ConfigError(f"{where}: {name} = {value!r}: clients draw from constant, exponential, "
                              "lognormal or empirical distributions")
        return value
    x = _number(where, name, value, strict=not zero_ok)
    return None if x == 0 else Constant(x)


def _encode(dist) -> tuple[float, float, float]:
    """(kind, a, b) of :mod:`autoscale.clients` for a distribution (None: always 0 s)."""
    from . import clients as K

    if dist is None:
        return K.D_NONE, 0.0, 0.0
    if isinstance(dist, Constant):
        return K.D_CONSTANT, dist.seconds, 0.0
    if isinstance(dist, Exponential):
        return K.D_EXPONENTIAL, dist.mean, 0.0
    if isinstance(dist, Lognormal):
        return K.D_LOGNORMAL, math.log(dist.median), dist.sigma
    return K.D_EMPIRICAL, 0.0, 0.0


def _describe(dist) -> str:
    return "none" if dist is None else dist.describe()


@dataclass(frozen=True, eq=False)
class Clients:
    """A pool of closed-loop clients, each sending its next request when the previous one is answered.

    Parameters
    ----------
    clients : int
        Clients in the pool (with ``stages``: the clients at the start, k6's ``startVUs``).
    service : DurationDistribution, float or Trace
        Service time of each request: a distribution of :mod:`autoscale.trace.durations`,
        a constant in seconds, or a trace whose durations are resampled.
    duration : float, optional
        Seconds the clients send for, from ``start`` (``hey -z``, ``wrk -d``). A request
        is sent only before the end; one in flight then is still answered.
    start : float
        When the clients start, seconds from the replay's start.
    think : DurationDistribution or float
        Time a client waits between a response and its next request (0: none).
    rate : float, optional
        Requests per second each client sends at most (``hey -q``): a request leaves no
        sooner than ``1 / rate`` after the client's previous one.
    requests : int, optional
        Requests each client sends in all (``hey -n`` divided among its workers, k6's
        ``per-vu-iterations``); the client stops after them.
    stages : sequence of (seconds, clients)
        A ramp (k6 ``ramping-vus``): over each stage the number of active clients moves
        linearly to the stage's target; client ``k`` is active while the line is at or
        above ``k + 1``. Replaces ``duration``.
    delay : float
        One-way network delay between a client and the ingress, seconds.
    name : str
        The pool's name in the results.
    """

    clients: int
    service: object
    duration: float | None = None
    start: float = 0.0
    think: object = 0.0
    rate: float | None = None
    requests: int | None = None
    stages: tuple = ()
    delay: float = DEFAULT_DELAY
    name: str = "clients"
    _service: object = field(init=False, repr=False)
    _think: object = field(init=False, repr=False)

    def __post_init__(self) -> None:
        where = f"client pool {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"client pool name = {self.name!r}, must be a non-empty string")
        _count(where, "clients", self.clients, 0 if self.stages else 1)
        object.__setattr__(self, "_service", _distribution(where, "service", self.service, zero_ok=False))
        object.__setattr__(self, "_think", _distribution(where, "think", self.think, zero_ok=True))
        object.__setattr__(self, "start", _number(where, "start", self.start))
        object.__setattr__(self, "delay", _number(where, "delay", self.delay))
        if self.rate is not None:
            object.__setattr__(self, "rate", _number(where, "rate", self.rate, strict=True))
        if self.requests is not None:
            _count(where, "requests", self.requests, 1)
        stages = tuple(self.stages)
        if stages:
            if self.duration is not None:
                raise ConfigError(f"{where}: give duration or stages, not both (the stages set the duration)")
            clean = []
            for k, st in enumerate(stages):
                try:
                    secs, target = st
                except (TypeError, ValueError):
                    raise ConfigError(f"{where}: stage {k} = {st!r}, must be a pair (seconds, clients)") from None
                clean.append((_number(where, f"stage {k} seconds", secs), _count(where, f"stage {k} clients", target)))
            object.__setattr__(self, "stages", tuple(clean))
            if max(self.clients, *(t for _, t in clean)) == 0:
                raise ConfigError(f"{where}: the stages never have a client (every target is 0)")
        elif self.duration is not None:
            object.__setattr__(self, "duration", _number(where, "duration", self.duration, strict=True))
        elif self.requests is None:
            raise ConfigError(f"{where}: give a duration, stages or a number of requests per client; "
                              "otherwise the clients never stop")

    # -- what the compiled clients read ----------------------------------------------------------

    @property
    def clients_max(self) -> int:
        """The most clients the pool ever has active."""
        return max(self.clients, *(t for _, t in self.stages)) if self.stages else self.clients

    @property
    def empirical_size(self) -> int:
        return self._service.samples.size if isinstance(self._service, Empirical) else 0

    def empirical_samples(self) -> np.ndarray:
        return self._service.samples if isinstance(self._service, Empirical) else np.zeros(0)

    def parameters(self) -> np.ndarray:
        """The pool's row of :mod:`autoscale.clients`' parameters (``KP_*``)."""
        from . import clients as K

        row = np.zeros(K.N_KP)
        row[K.KP_DELAY] = self.delay
        row[K.KP_GAP] = 0.0 if self.rate is None else 1.0 / self.rate
        row[K.KP_THINK_KIND], row[K.KP_THINK_A], row[K.KP_THINK_B] = _encode(self._think)
        row[K.KP_SVC_KIND], row[K.KP_SVC_A], row[K.KP_SVC_B] = _encode(self._service)
        row[K.KP_SVC_N] = self.empirical_size
        return row

    def _active(self, c: int) -> list[tuple[float, float]]:
        """The spans of client time when client ``c`` sends."""
        if not self.stages:
            end = math.inf if self.duration is None else self.start + self.duration
            return [(self.start, end)]
        level = c + 1
        spans: list[tuple[float, float]] = []
        t0, v0 = self.start, float(self.clients)
        for secs, target in self.stages:
            t1, v1 = t0 + secs, float(target)
            if secs > 0:
                if v0 >= level and v1 >= level:
                    on, off = t0, t1
                elif v0 < level <= v1:
                    on, off = t0 + (level - v0) / (v1 - v0) * secs, t1
                elif v1 < level <= v0:
                    on, off = t0, t0 + (v0 - level) / (v0 - v1) * secs
                else:
                    on = off = None
                if on is not None:
                    if spans and spans[-1][1] >= on:
                        spans[-1] = (spans[-1][0], off)
                    else:
                        spans.append((on, off))
            t0, v0 = t1, v1
        return spans

    def windows(self, c: int) -> list[tuple[float, float]]:
        """When client ``c``'s requests may reach the ingress: [on, off) spans, seconds."""
        return [(on + self.delay, off + self.delay) for on, off in self._active(c) if off > on]

    def end_time(self) -> float:
        """When the last request may reach the ingress (inf: the clients stop after their requests)."""
        ends = [w[-1][1] for w in (self.windows(c) for c in range(self.clients_max)) if w]
        return max(ends) if ends else self.start

    def expected_end(self) -> float:
        """The end, or for clients limited only by their requests, twice the time they would take served at once."""
        end = self.end_time()
        if math.isfinite(end):
            return end
        per = self._mean(self._service) + self._mean(self._think) + 2 * self.delay
        if self.rate is not None:
            per = max(per, 1.0 / self.rate)
        return self.start + 2.0 * self.requests * per + 60.0

    @staticmethod
    def _mean(dist) -> float:
        if dist is None:
            return 0.0
        if isinstance(dist, Constant):
            return dist.seconds
        if isinstance(dist, Exponential):
            return dist.mean
        if isinstance(dist, Lognormal):
            return dist.median * math.exp(dist.sigma ** 2 / 2)
        return float(np.mean(dist.samples))

    def describe(self) -> str:
        """The pool in words, for provenance."""
        parts = [f"{self.clients_max} closed-loop clients"]
        if self.stages:
            parts.append("ramping " + ", ".join(f"{t} over {s:g} s" for s, t in self.stages)
                         + f" from {self.clients}")
        elif self.duration is not None:
            parts.append(f"for {self.duration:g} s")
        if self.start:
            parts.append(f"from {self.start:g} s")
        if self.requests is not None:
            parts.append(f"{self.requests} requests each")
        if self.rate is not None:
            parts.append(f"at most {self.rate:g} req/s each")
        parts.append(f"think {_describe(self._think)}")
        parts.append(f"service {_describe(self._service)}")
        parts.append(f"network delay {self.delay * 1e3:g} ms each way")
        return f"{self.name}: " + ", ".join(parts)


class ClosedLoop:
    """A workload of closed-loop client pools, optionally beside an open-loop ``trace``.

    Accepted by :func:`autoscale.replay`, :func:`autoscale.compare` and sweeps wherever
    they accept a trace. The replay lasts until the last client's end (plus the second
    it falls in) unless given a duration.

    >>> from autoscale.trace import durations as d
    >>> w = ClosedLoop(Clients(5, service=d.exponential(0.1), duration=60, name="hey"))
    >>> w.name, len(w.pools), w.end_time()
    ('hey', 1, 60.0005)
    """

    def __init__(self, *pools: Clients, trace: Trace | None = None, name: str | None = None) -> None:
        if not pools:
            raise ConfigError("a closed-loop workload needs at least one pool of Clients")
        bad = [p for p in pools if not isinstance(p, Clients)]
        if bad:
            raise ConfigError(f"closed-loop pools must be Clients, got {bad[0]!r}")
        names = [p.name for p in pools]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ConfigError(f"closed-loop pools need distinct names; {dup[0]!r} is given twice")
        if trace is not None and not isinstance(trace, Trace):
            raise ConfigError(f"trace = {trace!r}, must be an autoscale.trace.Trace")
        self.pools = tuple(pools)
        self.trace = trace
        self.name = name or "+".join(names)

    def __repr__(self) -> str:
        return f"ClosedLoop({', '.join(map(repr, self.pools))}, trace={self.trace!r})"

    @property
    def clients(self) -> int:
        return sum(p.clients_max for p in self.pools)

    def requests(self):
        """The open-loop requests beside the clients: the trace, or no request (``arrivals`` and
        ``durations`` empty)."""
        if self.trace is not None:
            return self.trace
        from .engine import Requests

        return Requests(np.zeros(0), np.zeros(0))

    def end_time(self) -> float:
        return max(p.expected_end() for p in self.pools)

    def seconds(self) -> int:
        """The replay's default length: through the last client's end and the last request's end, if served at once."""
        end = self.end_time()
        if self.trace is not None and len(self.trace):
            end = max(end, float(np.max(self.trace.arrivals + self.trace.durations)))
        return int(math.floor(end)) + 1

    @property
    def durations(self) -> str:
        """Where the service times come from, pool by pool (as a trace's provenance says of its durations)."""
        parts = [f"{p.name}: {_describe(p._service)}" for p in self.pools]
        if self.trace is not None:
            parts.append(f"open loop: {self.trace.provenance.durations or 'as recorded'}")
        return "; ".join(parts)

    @property
    def provenance(self) -> str:
        parts = [p.describe() for p in self.pools]
        if self.trace is not None:
            parts.append(f"open-loop requests from {getattr(self.trace, 'name', 'a trace')}")
        return "; ".join(parts)


def constant_arrival_rate(rate: float, duration: float, service=None, start: float = 0.0, seed=0,
                          name: str = "constant-arrival-rate") -> Trace:
    """Open loop at ``rate`` requests per second for ``duration`` s, evenly spaced (``vegeta -rate``, k6).

    >>> t = constant_arrival_rate(2, 3, service=0.1)
    >>> t.arrivals.tolist()
    [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    """
    return ramping_arrival_rate(rate, ((duration, rate),), service=service, start=start, seed=seed, name=name)


def ramping_arrival_rate(start_rate: float, stages, service=None, start: float = 0.0, seed=0,
                         name: str = "ramping-arrival-rate") -> Trace:
    """Open loop whose rate moves linearly over each stage ``(seconds, rate)`` (k6 ``ramping-arrival-rate``).

    Request ``k`` arrives when the integral of the rate reaches ``k``: evenly spaced at a
    constant rate, closer together as the rate grows.

    >>> t = ramping_arrival_rate(0, ((4, 2),), service=0.1)
    >>> [round(float(x), 3) for x in t.arrivals]
    [0.0, 2.0, 2.828, 3.464]
    """
    where = name
    r0 = _number(where, "start rate", start_rate)
    start = _number(where, "start", start)
    times = []
    t0, done = start, 0.0  # requests so far (the integral of the rate)
    for k, st in enumerate(stages):
        try:
            secs, target = st
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: stage {k} = {st!r}, must be a pair (seconds, rate)") from None
        secs = _number(where, f"stage {k} seconds", secs)
        r1 = _number(where, f"stage {k} rate", target)
        if secs > 0:
            total = (r0 + r1) / 2 * secs
            _volume(done + total, 1.0)  # refuses, with the options, what would not fit in memory
            first = math.ceil(done - 1e-9)
            last = done + total
            ks = np.arange(first, math.ceil(last - 1e-9), dtype=np.float64) - done
            if ks.size:
                if r1 == r0:
                    off = ks / r0
                else:  # solve r0 x + (r1 - r0) x^2 / (2 secs) = k for x
                    a = (r1 - r0) / (2 * secs)
                    off = (-r0 + np.sqrt(r0 * r0 + 4 * a * ks)) / (2 * a)
                times.append(t0 + np.minimum(off, secs))
            done = last
        t0, r0 = t0 + secs, r1
    arrivals = np.concatenate(times) if times else np.zeros(0)
    if service is None:
        from .trace.durations import DEFAULT_SERVICE
        service = DEFAULT_SERVICE
    dist = _distribution(where, "service", service, zero_ok=False)
    return _finish(arrivals, dist, _rng(seed), name, f"{name}: open loop, {arrivals.size:,} evenly spaced requests")


class LoadOutcome:
    """What each client pool observed in each configuration, as a load generator reports it.

    ``counts[b, pool]`` holds the requests sent and the responses of each status, when
    the last response arrived, then the histogram of client-observed latencies (from
    sending to the response's arrival, both network delays included; every response,
    as ``hey`` and k6 count them).
    """

    def __init__(self, pools, out: np.ndarray, duration: float) -> None:
        from . import clients as K

        self.pools = tuple(pools)
        self.duration = float(duration)
        self.sent = out[:, :, K.KO_SENT].copy()
        self.status = out[:, :, K.KO_OK:K.KO_504 + 1].copy()  # 200, 503, 504
        self.hist = out[:, :, K.KO_HIST:].copy()
        self.last = out[:, :, K.KO_LAST] / 1e6  # seconds; 0 before any response

    def table(self) -> pd.DataFrame:
        """A row per configuration and pool: requests sent and answered, requests per second
        achieved (responses over the pool's active time within the replay: from its start to
        the end of its window, or, for a pool with a request budget, to its last response if
        that comes sooner, as ``hey -n`` times its run), responses of each status, and latency
        percentiles."""
        from .outputs import QUANTILES
        from .results import hist_quantile

        rows = []
        for b in range(self.sent.shape[0]):
            for k, pool in enumerate(self.pools):
                end = min(pool.end_time(), self.duration)
                if pool.requests is not None and self.last[b, k] > 0:
                    end = min(end, self.last[b, k])
                span = max(end - (pool.start + pool.delay), 1e-9)
                answered = int(self.status[b, k].sum())
                row = {"config": b, "pool": pool.name, "clients": pool.clients_max, "sent": int(self.sent[b, k]),
                       "responses": answered, "in_flight": int(self.sent[b, k]) - answered,
                       "rps": answered / span, "status_200": int(self.status[b, k, 0]),
                       "status_503": int(self.status[b, k, 1]), "status_504": int(self.status[b, k, 2])}
                for name, q in QUANTILES.items():
                    row[f"latency_{name}_s"] = float(hist_quantile(self.hist[b, k], q))
                rows.append(row)
        return pd.DataFrame(rows)

    def histogram(self, config: int = 0, pool: int | str = 0) -> tuple[np.ndarray, np.ndarray]:
        """(bin edges in seconds, counts) of a pool's client-observed latencies."""
        from .results import hist_edges

        k = pool if isinstance(pool, int) else [p.name for p in self.pools].index(pool)
        return hist_edges(), self.hist[config, k].copy()
