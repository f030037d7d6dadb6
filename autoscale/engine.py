"""The replay engine: one trace through Knative's whole loop, for a batch of configurations at once.

Under the KPA or any built-in policy, every configuration is replayed in one compiled
call (:mod:`autoscale.loop`), configurations spread over a pool of threads. Any other
policy (a Python object following the protocol of :mod:`autoscale.policies.base`),
asynchronous invocation and a shared activator pool run the loop of :func:`run` here,
in which each simulated second runs, in this order:

1. the data plane advances through the second at exact event times
   (:mod:`autoscale.dataplane`);
2. an activator's immediate first-request push is recorded, and pokes the decider
   when it wants zero pods (scale from zero), with the decision taking effect at the
   push time;
3. at the second boundary the queue-proxies report, the scraper samples the ready
   pods and the activator reports; the collector records them (:mod:`autoscale.collector`);
4. the policy ticks on its period (the KPA decider every 2 s), or at once on a poke;
5. the decision becomes replicas (through Knative's reconciler for the KPA,
   :mod:`autoscale.reconciler`), and a change of Proxy/Serve mode reaches the network
   after the platform's delay.

Both loops run the same compiled rules and give identical results.

Examples
--------
>>> from autoscale import KPAConfig, replay
>>> from autoscale.trace import synthetic
>>> trace = synthetic.poisson(rate=5.0, duration=120.0, service=synthetic.constant(0.2), seed=1)
>>> result = replay(trace, [KPAConfig(container_concurrency=1, target_burst_capacity=tbc) for tbc in (0, -1)])
>>> list(result.summary["completed"] + result.summary["in_flight"] == len(trace))
[True, True]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .collector import Collector
from .config import HPA_CLASS, KPAConfig
from .errors import ConfigError
from ._state import (
    CF_BUSY_SECONDS, CF_IDLE_SECONDS, CF_LAT_MAX, CF_POD_SECONDS, CF_WAIT_MAX, CI_503, CI_504, CI_AREJ, CI_COLD,
    CI_CREATED, CI_DONE, CI_TOTAL, R_ACTIVATOR_CONC, R_ACTIVATOR_REPORTED, R_ACTIVATOR_RPS, R_BUSY, R_CONC,
    R_POD_CONC, R_PROXIED_CONC, R_PROXIED_RPS, R_RPS, R_SCRAPED, R_SYSTEM_CONC,
)
from .dataplane import DataPlane
from .platform import Platform
from .policies.base import SIGNAL_HISTORY, Context, Signals, as_policy, check_policy
from .policies.compiled import plan
from .reconciler import Mode, Reconciler
from .results import ReplayResult, TimeSeries
from .rng import seed_states
from .spec import KPASpec
from .trace.trace import concurrency_per_second

__all__ = ["replay", "run", "Requests", "Streams", "simulated_seconds"]


def simulated_seconds(trace, duration: float | None = None) -> int:
    """Whole seconds a replay runs: ``ceil(duration)``, or by default one second past the
    time the last request of ``trace`` (a Trace or :class:`Streams`) would end if it were
    served on arrival."""
    if duration is None:
        return int(np.ceil(float(np.max(trace.arrivals + trace.durations)))) + 1
    if not (np.isfinite(duration) and duration > 0):
        raise ConfigError(f"duration = {duration} s, must be > 0 and finite")
    return int(np.ceil(duration))


def _check_class(spec: KPASpec, policy) -> None:
    """Refuse to scale a revision of the HPA class with the KPA: Knative gives it to the HPA."""
    if getattr(policy, "name", None) != "kpa":
        return
    rows = [i for i, c in enumerate(spec.configs) if c.pod_autoscaler_class == HPA_CLASS]
    if rows:
        raise ConfigError(f"configuration {', '.join(map(str, rows))}: pod-autoscaler-class = {HPA_CLASS}: "
                          f"Knative scales such a revision with the HPA, not the KPA; replay it with "
                          f"policy='hpa' (autoscale run --policy hpa; autoscale run picks it when every "
                          f"configuration has this class and no --policy is given)")


def _cold_start_arrays(platform: Platform, batch: int):
    cs = platform.cold_start
    kind = np.full(batch, cs.code, dtype=np.int64)
    par = np.tile(np.array([cs.shift, cs.mu, cs.sigma]), (batch, 1))
    samples = np.asarray(cs.samples if cs.samples else (0.0,), dtype=np.float64)
    emp = np.tile(samples, (batch, 1))
    emp_n = np.full(batch, samples.size, dtype=np.int64)
    return kind, par, emp, emp_n


class _History:
    """Ring buffers of the per-second totals a policy may read (``Signals.recent``)."""

    def __init__(self, batch: int, seconds: int) -> None:
        self.seconds = seconds
        self.buf = {name: np.zeros((batch, seconds)) for name in SIGNAL_HISTORY} if seconds else {}
        self.pos = 0

    def add(self, values: dict) -> None:
        if not self.seconds:
            return
        for name, buf in self.buf.items():
            buf[:, self.pos] = values[name]
        self.pos = (self.pos + 1) % self.seconds

    def ordered(self) -> dict:
        p = self.pos
        return {name: np.concatenate([buf[:, p:], buf[:, :p]], axis=1) for name, buf in self.buf.items()}


def replay(
    trace,
    configs: KPAConfig | Sequence[KPAConfig],
    *,
    policy=None,
    platform: Platform | None = None,
    seed: int = 0,
    duration: float | None = None,
    timeseries: bool = False,
    max_points: int = 2000,
    parallel: bool | None = None,
    invocation=None,
    progress=None,
    record: bool = False,
) -> ReplayResult:
    """Replay ``trace`` under a scaling policy for every configuration in ``configs``.

    Parameters
    ----------
    trace : autoscale.trace.Trace or autoscale.workload.ClosedLoop
        Requests: arrival times and service durations, seconds; or closed-loop clients
        (beside an optional trace), whose requests are made during the replay. The result's
        ``load`` and ``load_summary`` then hold what each client pool observed.
    configs : KPAConfig or sequence of KPAConfig
        One configuration, or a batch run at once. Every policy reads the data-plane
        keys (container concurrency, timeout, the target); the KPA reads them all.
    policy : Policy, str or callable, optional
        The scaling policy (:mod:`autoscale.policies`): an object following the
        protocol, a registry name (``"kpa"``, ``"hpa"``, ``"fixed"``, ...), or a
        function of the :class:`~autoscale.policies.Signals`. The KPA by default.
    platform : Platform, optional
        Cold starts and network delay; Knative's measured defaults when omitted.
    seed : int
        Seed of the random streams (cold starts, routing, scrape sampling, pod addresses). Every
        configuration uses the same streams, so each gives the same result in any batch.
    duration : float, optional
        Seconds to simulate from 0; by default up to the second after the last request
        would end if it were served on arrival (the same for every configuration, so a
        configuration's result does not depend on its batch). Requests still in the system
        then count as ``in_flight``. With asynchronous ``invocation`` the default goes on
        until every request has completed or been dead-lettered.
    timeseries : bool
        Keep per-configuration time series, downsampled to at most ``max_points``.
    parallel : bool, optional
        Spread the configurations over numba's threads (``None``, the default, or
        ``True``) or run them one after another on the calling thread (``False``). The
        results are identical either way. Threads take the next configuration when done
        with one and never wait for each other, so other work on the machine slows only
        the configurations on its cores. (In the per-second loop of :func:`run`, batches of
        16 or more run in parallel and meet once a second.)
    invocation : autoscale.invocation.Async, optional
        Invoke asynchronously: requests enter a queue that a dispatcher drains into the
        service, failed invocations are retried with backoff, then dead-lettered. The
        summary then adds the queueing delay, the time to completion, retries and dead
        letters (:mod:`autoscale.invocation`).
    progress : bool or callable, optional
        Under a built-in policy, the configurations of a batch finished so far, on standard
        error, once the replay has run for a few seconds (:mod:`autoscale.progress`): by
        default unless ``AUTOSCALE_PROGRESS=0``; ``False`` for none; a callable is called as
        ``progress(done, total)``. A single configuration shows none. It never changes a result.
    record : bool
        Keep every request's outcome: when it started on a pod, when it was answered and how
        (200, 503, 504), per configuration, in the result's ``outcomes``
        (:class:`~autoscale.results.RequestOutcomes`; memory grows with batch x requests). A
        recorded replay runs the per-second loop of :func:`run`, with the same results.

    Returns
    -------
    ReplayResult
    """
    from .trace.sizes import check_replay
    from .workload import ClosedLoop

    spec = KPASpec.from_configs(configs)
    clients = None
    if isinstance(trace, ClosedLoop):
        workload, trace = trace, trace.requests()
        clients = workload.pools
        streams = Streams(np.asarray(trace.arrivals, dtype=np.float64), np.asarray(trace.durations, dtype=np.float64),
                          None, [trace], workload.name, workload.provenance)
        t_end = workload.seconds() if duration is None else simulated_seconds(trace, duration)
    else:
        streams = Streams.shared(trace)
        t_end = simulated_seconds(trace, duration)
    check_replay(f"replay of {len(trace):,} requests over {t_end:,} s with {spec.batch:,} configuration(s)",
                 requests=len(trace), configurations=spec.batch, seconds=t_end,
                 timeseries_points=max_points if timeseries else 0)
    return run(streams, spec, policy=policy, platform=platform, seed=seed, t_end=t_end,
               timeseries=timeseries, max_points=max_points, parallel=parallel, invocation=invocation,
               drain=duration is None, progress=progress, clients=clients, record=record)


@dataclass(frozen=True, eq=False)
class Requests:
    """The requests one configuration replays: arrival times and durations, seconds (may be empty)."""

    arrivals: np.ndarray
    durations: np.ndarray

    def __len__(self) -> int:
        return self.arrivals.size


@dataclass(frozen=True, eq=False)
class Streams:
    """The requests a batch replays: one trace shared by every configuration, or one each.

    ``segments`` (start, end) gives configuration ``b`` the requests ``start[b]:end[b]``
    of the concatenated ``arrivals`` and ``durations``; ``None`` shares them all.
    """

    arrivals: np.ndarray
    durations: np.ndarray
    segments: tuple | None
    traces: list  # one trace per configuration, or a single shared one
    name: str
    provenance: str

    @classmethod
    def shared(cls, trace) -> "Streams":
        return cls(np.asarray(trace.arrivals, dtype=np.float64), np.asarray(trace.durations, dtype=np.float64),
                   None, [trace], getattr(trace, "name", ""), str(getattr(trace, "provenance", "")))

    @classmethod
    def per_row(cls, rows: Sequence, name: str = "", provenance: str = "") -> "Streams":
        """One request stream per configuration: objects with ``arrivals`` and ``durations`` (possibly empty)."""
        rows = [Requests(np.asarray(r.arrivals, dtype=np.float64), np.asarray(r.durations, dtype=np.float64))
                for r in rows]
        sizes = np.array([r.arrivals.size for r in rows], dtype=np.int64)
        end = np.cumsum(sizes)
        start = end - sizes
        arrivals = np.concatenate([r.arrivals for r in rows])
        durations = np.concatenate([r.durations for r in rows])
        return cls(arrivals, durations, (start, end), rows, name, provenance)

    def row_trace(self, b: int):
        return self.traces[0] if self.segments is None else self.traces[b]

    def demand(self, batch: int, seconds: int, step: int, points: int) -> np.ndarray:
        """Exact mean demand concurrency per time-series bucket, shape (batch, points)."""
        out = np.zeros((batch, points))
        rows = [0] if self.segments is None else range(batch)
        for b in rows:
            row = self.row_trace(b)
            per_second = concurrency_per_second(row.arrivals, row.durations, 0, seconds)
            padded = np.zeros(points * step)
            padded[:seconds] = per_second
            # Column by column: the same sums whatever order numpy's reductions use.
            sums = np.zeros(points)
            for column in padded.reshape(points, step).T:
                sums += column
            counts = np.minimum(step, seconds - np.arange(points) * step)
            out[b] = sums / np.maximum(counts, 1)
        if self.segments is None:
            out[:] = out[0]
        return out


def run(
    streams: Streams,
    spec: KPASpec,
    *,
    policy=None,
    platform: Platform | None = None,
    seed: int = 0,
    t_end: int,
    timeseries: bool = False,
    max_points: int = 2000,
    parallel: bool | None = None,
    invocation=None,
    activator_pool: int | None = None,
    drain: bool = False,
    skip_idle: bool = True,
    progress=None,
    clients=None,
    record: bool = False,
) -> ReplayResult:
    """The replay loop behind :func:`replay` and :func:`autoscale.services.replay_services`.

    ``activator_pool`` caps the requests the activator pool holds across the batch
    (queued or proxied): each second every configuration keeps what it holds and the
    free capacity is split equally; an arrival beyond its share is answered 503.
    With asynchronous ``invocation`` and ``drain``, the replay goes on past ``t_end``
    until every request has completed or been dead-lettered (at most ten times
    ``t_end`` plus an hour).

    Built-in policies without asynchronous invocation or an activator pool run in one
    compiled call per configuration (:mod:`autoscale.loop`); ``skip_idle=False`` makes
    that loop step through idle seconds instead of jumping over them (same results); there
    ``progress`` counts the configurations finished, as in :func:`replay`.
    Everything else runs here, second by second, calling the policy's ``decide`` at its ticks.
    ``clients`` are closed-loop client pools (:class:`autoscale.workload.Clients`) that
    every configuration runs beside its requests.
    ``record`` keeps every request's start, end and status (:class:`~autoscale.results.RequestOutcomes`),
    on the per-second loop: a row per configuration, or with one stream per configuration a
    single row holding every request by its place in the concatenated streams.
    """
    from .clients import ClientArrays

    platform = Platform() if platform is None else platform
    policy = as_policy("kpa" if policy is None else policy)
    check_policy(policy)
    _check_class(spec, policy)
    if clients and invocation is not None:
        raise ConfigError("closed-loop clients wait for each response, and asynchronous invocation answers at "
                          "once: replay a closed-loop workload synchronously (no invocation=)")
    if record and (clients or invocation is not None):
        raise ConfigError("record=True keeps the outcome of each request of a synchronous replay: it does not "
                          "combine with asynchronous invocation or closed-loop clients")
    client_arrays = ClientArrays(clients, spec.batch) if clients else None
    if invocation is None and activator_pool is None and not record:
        ctx = Context(configs=list(spec.configs), spec=spec, trace=streams.traces[0], platform=platform,
                      duration=t_end, seed=seed, row_traces=None if streams.segments is None else streams.traces)
        compiled = plan(policy, ctx)
        if compiled is not None:
            return _run_compiled(streams, spec, policy, compiled, platform, seed, t_end, timeseries, max_points,
                                 parallel, skip_idle, progress, client_arrays)
    arrivals, durations = streams.arrivals, streams.durations
    b = spec.batch
    ones = np.ones(b)
    everyone = np.ones(b, dtype=bool)
    nobody = np.zeros(b, dtype=bool)
    kpa = policy.routing == "kpa"
    on_demand = bool(getattr(policy, "on_demand", False))
    wakes = bool(getattr(policy, "wakes", False))
    period = int(getattr(policy, "period", 1))

    dp = DataPlane(
        arrivals, durations, spec.container_concurrency, spec.timeout_seconds,
        _cold_start_arrays(platform, b), seed_states(seed), spec.stable_window,
        spec.has_scrape_target if kpa else everyone, parallel=parallel, segments=streams.segments,
        activators=platform.activators, clients=client_arrays,
    )
    async_layer = None
    if invocation is not None:
        from .invocation import AsyncLayer

        async_layer = AsyncLayer(invocation, dp, streams, b)
    recorder = None
    if record:
        from .results import _Recorder

        dp.set_recording()
        recorder = _Recorder(streams.arrivals, b, shared=streams.segments is None)
    collector = Collector(spec)
    history = _History(b, int(getattr(policy, "history", 0)))
    state = policy.start(Context(configs=list(spec.configs), spec=spec, trace=streams.traces[0], platform=platform,
                                 duration=t_end, seed=seed,
                                 row_traces=None if streams.segments is None else streams.traces))
    rec = Reconciler(spec, now=0.0) if kpa else None
    if on_demand:
        dp.set_on_demand(everyone)

    desired = np.full(b, -1 if kpa else 0, dtype=np.int64)  # the policy's last decision
    ebc = np.zeros(b, dtype=np.int64)
    panicking = nobody.copy()
    replicas = rec.replicas.copy() if kpa else np.zeros(b, dtype=np.int64)  # what the deployment wants
    last = dict.fromkeys(SIGNAL_HISTORY, np.zeros(b))
    arrived_seen = np.zeros(b, dtype=np.int64)

    routed_proxy = np.ones(b, dtype=bool)  # the mode last sent to the network
    delay = platform.mode_switch_delay

    panic_seconds = np.zeros(b)
    path_seconds = np.zeros(b)
    peak_pods = np.zeros(b, dtype=np.int64)
    scale_events = np.zeros(b, dtype=np.int64)
    from_zero = np.zeros(b, dtype=np.int64)
    ts = TimeSeries.allocate(b, t_end, max_points) if timeseries else None
    no_demand = np.zeros(b)
    pods_total = np.zeros(t_end, dtype=np.int64)  # live pods of the whole batch, each second
    stable_seen = np.zeros(b)
    panic_seen = np.zeros(b)
    errors_seen = np.zeros((b, 2), dtype=np.int64)  # 503 and 504 so far, for the time series

    def decide(now, mask, obs):
        """One tick of the policy for the rows in ``mask``; keeps the last decision elsewhere."""
        nonlocal desired, ebc, panicking, stable_seen, panic_seen
        signals = Signals(
            now=now, mask=mask, ready=dp.ready, starting=dp.starting, draining=dp.draining,
            in_system=dp.in_system, stable=obs.stable, panic=obs.panic, valid=obs.valid,
            _history=history.ordered(), **last,
        )
        out = policy.decide(state, signals)
        wanted = np.asarray(getattr(out, "desired", out))
        if wanted.shape != (b,):
            wanted = np.broadcast_to(wanted, (b,))
        if not np.all(np.isfinite(wanted)) or np.any((wanted < 0) & mask & (not kpa)):
            raise ValueError(f"policy {policy.name!r} decided {wanted!r}: pods must be whole numbers >= 0")
        desired = np.where(mask, np.round(wanted).astype(np.int64), desired)
        if kpa:
            ebc = np.asarray(out.excess_burst_capacity, dtype=np.int64)
        flag = getattr(out, "panicking", None)
        if flag is not None:
            panicking = np.asarray(flag, dtype=bool)
        seen = mask & obs.valid
        stable_seen = np.where(seen, obs.stable, stable_seen)
        panic_seen = np.where(seen, obs.panic, panic_seen)
        if on_demand:
            ka = policy.keep_alive(state)
            if ka is not None:
                dp.set_keep_alive(ka, mask)

    def control(now, mask, immediately):
        """Turn the decisions into replicas (and the activator's place in the path)."""
        nonlocal routed_proxy, replicas
        ready = dp.ready
        if kpa:
            pods = ready + dp.starting + dp.draining
            result = rec.reconcile_on_events(now, desired, ebc, ready, pods, dp.in_path,
                                             mask=None if mask is everyone else mask)
            mask = mask & result.ran  # the rows Knative reconciled
            new, patched, want_proxy = result.replicas, result.patched & mask, result.mode == Mode.PROXY
            wish = result.serve_on_ready
            dp.set_activator_subset(result.activators, mask & want_proxy)  # the SKS subsets them in Proxy mode
        elif on_demand:
            # Requests create instances and idleness retires them; the policy keeps a floor.
            dp.set_floor(np.max(now), desired, mask)
            live = dp.ready + dp.starting
            patched = mask & (desired > live)
            new = np.where(patched, desired, live)
            want_proxy = everyone
            wish = nobody
        else:
            new = np.where(mask, desired, replicas)
            patched = mask & (new != replicas)
            want_proxy = everyone if policy.routing == "activator" else ready == 0
            wish = (ready == 0) & (new > 0) & (policy.routing != "activator")
        if patched.any():
            if immediately:
                dp.apply_replicas(now, new, patched)
            else:  # at the start of the next second, which is ``now``
                dp.schedule_replicas(new, patched)
            scale_events[:] += patched
            from_zero[:] += patched & (replicas == 0) & (new > 0)
        replicas = np.where(patched, new, replicas)
        dp.set_serve_on_ready(delay, np.where(mask, wish, dp.serve_wished))
        switch = mask & (want_proxy != routed_proxy)
        if switch.any():
            dp.set_mode(now + delay, want_proxy, switch)
            routed_proxy = np.where(switch, want_proxy, routed_proxy)

    if not kpa:  # every other policy decides at time 0, before the first request
        decide(0.0, everyone, collector.observe(0))
        control(0.0, everyone, immediately=True)
    else:
        dp.set_activator_subset(rec.activators, everyone)
        dp.apply_replicas(np.zeros(b), replicas, everyone)

    horizon = 10 * t_end + 3600 if (drain and async_layer is not None) else t_end
    s = 0
    while s < t_end or (s < horizon and async_layer.busy()):
        if s >= pods_total.size:  # draining an asynchronous queue past the trace
            pods_total = np.concatenate([pods_total, np.zeros(pods_total.size, dtype=np.int64)])
            if ts is not None:
                ts.grow(pods_total.size)
        if async_layer is not None:
            async_layer.feed(s)
        if activator_pool is not None:
            held = dp.activator_held
            free = max(int(activator_pool) - int(held.sum()), 0)
            share = held + free // b + (np.arange(b) < free % b)
            dp.set_activator_share(share)
        # The data plane runs second s and reports at its end (the reports are recorded
        # below, after any push of second s: the push lands in bucket s, the reports in s + 1).
        wished = dp.serve_wished
        out = dp.second(float(s), float(s + 1))
        routed_proxy &= ~(wished & ~dp.serve_wished)  # the first ready pod sent the switch to Serve
        if async_layer is not None:
            async_layer.collect(s)
        if recorder is not None:
            recorder.collect(dp)

        # The activator's immediate push on a first request, and the poke it may cause.
        push = dp.push_time
        pushed = ~np.isnan(push)
        if pushed.any():
            collector.record(s, ones, ones, pushed)
            poke = pushed & (desired == 0) if wakes else nobody
            if poke.any():
                now = np.where(poke, push, float(s))
                decide(now, poke, collector.observe(s))
                control(now, poke, immediately=True)
            # Pushes of other activators later in the second: recorded after the first one's poke.
            extra = np.maximum(dp.push_count - 1, 0).astype(np.float64)
            if extra.any():
                collector.record(s, extra, extra, extra > 0)

        # Second boundary: queue-proxy and activator reports, scrape, collector.
        t1 = s + 1
        scraped = out[:, R_SCRAPED] > 0
        reported = out[:, R_ACTIVATOR_REPORTED] > 0
        # The scraper's estimate and the activator's stat land in the same bucket and add up.
        conc = out[:, R_CONC] - out[:, R_PROXIED_CONC] + out[:, R_ACTIVATOR_CONC]
        rps = out[:, R_RPS] - out[:, R_PROXIED_RPS] + out[:, R_ACTIVATOR_RPS]
        collector.record(t1, conc, rps, scraped | reported)
        arrived = dp.arrived
        last = {"concurrency": conc, "rps": rps, "pod_concurrency": out[:, R_POD_CONC].copy(),
                "system_concurrency": out[:, R_SYSTEM_CONC].copy(), "busy": out[:, R_BUSY].copy(),
                "arrivals": (arrived - arrived_seen).astype(np.float64)}
        arrived_seen = arrived
        history.add(last)

        tick = everyone if t1 % period == 0 else nobody
        if wakes and not t1 % period == 0:
            tick = reported & (out[:, R_ACTIVATOR_CONC] != 0) & (desired == 0)
        if tick.any():
            decide(float(t1), tick, collector.observe(t1))
        control(float(t1), everyone, immediately=False)

        in_path = dp.in_path
        panic_seconds += panicking
        path_seconds += in_path
        pods = dp.ready + dp.starting + dp.draining
        np.maximum(peak_pods, pods, out=peak_pods)
        pods_total[s] = pods.sum()
        if ts is not None:
            errors = dp.ci[:, [CI_503, CI_504]]
            new = errors - errors_seen
            errors_seen = errors
            ts.add(s, out[:, R_SYSTEM_CONC] if clients else no_demand, stable_seen, panic_seen, desired,
                   dp.starting, dp.ready,
                   panicking, in_path, new[:, 0], new[:, 1], dp.backlog)
        s += 1

    t_end = s
    pods_total = pods_total[:t_end]
    if ts is not None:
        ts.grow(t_end)
        keep = int(np.ceil(t_end / ts.step))
        ts.values = {name: v[:, :keep] for name, v in ts.values.items()}
        ts._count = ts._count[:keep]
        ts.time = ts.time[:keep]

    dp.finish(float(t_end))
    counters = _counters(dp.ci, dp.cf, peak_pods, scale_events, from_zero, panic_seconds, path_seconds, t_end)
    if activator_pool is not None:
        counters["activator_rejected"] = dp.ci[:, CI_AREJ].copy()
    if ts is not None:
        ts.finish()
        if not clients:
            ts.values["demand"] = streams.demand(b, t_end, ts.step, ts.time.size)
    return ReplayResult(
        spec=spec,
        trace_name=streams.name,
        provenance=streams.provenance,
        duration=float(t_end),
        counters=counters,
        latency_hist=dp.hist_lat.copy(),
        wait_hist=dp.hist_wait.copy(),
        timeseries=ts,
        invocation=async_layer.result() if async_layer is not None else None,
        pods_total=pods_total,
        seed=seed,
        platform=platform,
        policy=policy.name,
        policy_params=dict(policy.params()),
        load=client_arrays.outcome(float(t_end)) if clients else None,
        outcomes=recorder.result(t_end) if recorder is not None else None,
    )


def _counters(ci, cf, peak_pods, scale_events, from_zero, panic_seconds, path_seconds, t_end: int) -> dict:
    """A replay's per-configuration counters, from the data plane's final state and the loop's totals."""
    return {
        "requests": ci[:, CI_TOTAL].copy(),
        "completed": ci[:, CI_DONE].copy(),
        "status_503": ci[:, CI_503].copy(),
        "status_504": ci[:, CI_504].copy(),
        "cold_start_delayed": ci[:, CI_COLD].copy(),
        "pods_created": ci[:, CI_CREATED].copy(),
        "pod_seconds": cf[:, CF_POD_SECONDS].copy(),
        "idle_pod_seconds": cf[:, CF_IDLE_SECONDS].copy(),
        "busy_seconds": cf[:, CF_BUSY_SECONDS].copy(),
        "latency_max": cf[:, CF_LAT_MAX].copy(),
        "wait_max": cf[:, CF_WAIT_MAX].copy(),
        "peak_pods": peak_pods,
        "scale_events": scale_events,
        "scale_from_zero": from_zero,
        "panic_fraction": panic_seconds / t_end,
        "activator_fraction": path_seconds / t_end,
    }


def _run_compiled(streams: Streams, spec: KPASpec, policy, compiled, platform: Platform, seed: int, t_end: int,
                  timeseries: bool, max_points: int, parallel: bool | None, skip_idle: bool,
                  progress=None, clients=None) -> ReplayResult:
    """A built-in policy's replay: every configuration in one compiled call of :mod:`autoscale.loop`."""
    from . import _numba, progress as _progress
    from .loop import TS_SERIES, replay_rows

    b = spec.batch
    if streams.segments is None:
        start, end = np.zeros(b, dtype=np.int64), np.full(b, streams.arrivals.size, dtype=np.int64)
    else:
        start, end = (np.asarray(x, dtype=np.int64) for x in streams.segments)
    ts = TimeSeries.allocate(b, t_end, max_points) if timeseries else None
    _numba.announce_compile()
    # One configuration is one compiled call: nothing to count until it ends.
    counting = b > 1 and _progress.enabled(progress)
    with _progress.bar(b, "replay", "configurations", progress=progress if counting else False) as shown:
        out = replay_rows(streams.arrivals, streams.durations, start, end, spec, compiled,
                          _cold_start_arrays(platform, b), seed_states(seed), platform.mode_switch_delay, t_end,
                          ts_points=ts.time.size if ts is not None else 0, ts_step=ts.step if ts is not None else 1,
                          parallel=parallel, skip_idle=skip_idle, activators=platform.activators,
                          on_row=shown.update if counting else None, clients=clients)
    counters = _counters(out.ci, out.cf, out.peak_pods.copy(), out.scale_events.copy(), out.scale_from_zero.copy(),
                         out.panic_seconds, out.path_seconds, t_end)
    if ts is not None:
        ts.values = {name: out.ts[:, k, :].copy() for k, name in enumerate(TS_SERIES)}
        ts._count = np.bincount(np.arange(t_end) // ts.step, minlength=ts.time.size).astype(np.float64)
        ts.finish()
        if clients is None:
            ts.values["demand"] = streams.demand(b, t_end, ts.step, ts.time.size)
    return ReplayResult(
        spec=spec, trace_name=streams.name, provenance=streams.provenance, duration=float(t_end),
        counters=counters, latency_hist=out.hist_lat, wait_hist=out.hist_wait, timeseries=ts,
        pods_total=out.pods_total, seed=seed, platform=platform, policy=policy.name,
        policy_params=dict(policy.params()), load=clients.outcome(float(t_end)) if clients is not None else None,
    )
