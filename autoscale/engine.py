"""The replay engine: one trace through Knative's whole loop, for a batch of configurations at once.

Each simulated second runs, in this order (spec §8):

1. the data plane advances through the second at exact event times
   (:mod:`autoscale.dataplane`);
2. an activator's immediate first-request push is recorded, and pokes the decider
   when it wants zero pods (scale from zero), with the decision taking effect at the
   push time;
3. at the second boundary the queue-proxies report, the scraper samples the ready
   pods and the activator reports; the collector records them (:mod:`autoscale.collector`);
4. the decider ticks every 2 s, or at once on a poke (:mod:`autoscale.decider`);
5. the reconciler applies the decision (:mod:`autoscale.reconciler`): replicas become
   pods, and a change of Proxy/Serve mode reaches the network after the platform's delay.

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

import numpy as np

from .collector import Collector
from .config import KPAConfig
from .dataplane import (
    CF_BUSY_SECONDS, CF_IDLE_SECONDS, CF_LAT_MAX, CF_POD_SECONDS, CF_WAIT_MAX, CI_503, CI_504, CI_COLD,
    CI_CREATED, CI_DONE, CI_TOTAL, DataPlane,
)
from .decider import Decider
from .platform import Platform
from .reconciler import Mode, Reconciler
from .results import ReplayResult, TimeSeries
from .rng import seed_state
from .spec import KPASpec

__all__ = ["replay", "simulated_seconds"]


def simulated_seconds(trace, duration: float | None = None) -> int:
    """Whole seconds a replay runs: ``ceil(duration)``, or by default one second past the
    time the last request would end if it were served on arrival."""
    if duration is None:
        return int(np.ceil(float(np.max(trace.arrivals + trace.durations)))) + 1
    if not (np.isfinite(duration) and duration > 0):
        raise ValueError(f"duration = {duration}, must be > 0 s")
    return int(np.ceil(duration))


def _cold_start_arrays(platform: Platform, batch: int):
    cs = platform.cold_start
    kind = np.full(batch, cs.code, dtype=np.int64)
    par = np.tile(np.array([cs.shift, cs.mu, cs.sigma]), (batch, 1))
    samples = np.asarray(cs.samples if cs.samples else (0.0,), dtype=np.float64)
    emp = np.tile(samples, (batch, 1))
    emp_n = np.full(batch, samples.size, dtype=np.int64)
    return kind, par, emp, emp_n


def replay(
    trace,
    configs: KPAConfig | Sequence[KPAConfig],
    *,
    platform: Platform | None = None,
    seed: int = 0,
    duration: float | None = None,
    timeseries: bool = False,
    max_points: int = 2000,
    parallel: bool | None = None,
) -> ReplayResult:
    """Replay ``trace`` through the KPA for every configuration in ``configs``.

    Parameters
    ----------
    trace : autoscale.trace.Trace
        Requests: arrival times and service durations, seconds.
    configs : KPAConfig or sequence of KPAConfig
        One configuration, or a batch run at once.
    platform : Platform, optional
        Cold starts and network delay; Knative's measured defaults when omitted.
    seed : int
        Seed of the random streams (routing, scrape sampling, cold starts). Every
        configuration uses the same streams, so each gives the same result in any batch.
    duration : float, optional
        Seconds to simulate from 0; by default up to the second after the last request
        would end if it were served on arrival (the same for every configuration, so a
        configuration's result does not depend on its batch). Requests still in the system
        then count as ``in_flight``.
    timeseries : bool
        Keep per-configuration time series, downsampled to at most ``max_points``.
    parallel : bool, optional
        Run the configurations on all of numba's threads (``True``) or on one (``False``).
        By default batches of 16 or more run in parallel. The results are identical
        either way; choose ``False`` when other work keeps the cores busy (for example
        several replays in parallel processes), since the threads meet once a second.

    Returns
    -------
    ReplayResult
    """
    platform = Platform() if platform is None else platform
    spec = KPASpec.from_configs(configs)
    arrivals = np.asarray(trace.arrivals, dtype=np.float64)
    durations = np.asarray(trace.durations, dtype=np.float64)
    t_end = simulated_seconds(trace, duration)
    b = spec.batch

    dp = DataPlane(
        arrivals, durations, spec.container_concurrency, spec.timeout_seconds,
        _cold_start_arrays(platform, b), seed_state(seed), spec.stable_window, spec.has_scrape_target,
        parallel=parallel,
    )
    collector = Collector(spec)
    decider = Decider(spec, now=0.0, ready=np.zeros(b, dtype=np.int64))
    rec = Reconciler(spec, now=0.0)
    dp.apply_replicas(np.zeros(b), rec.replicas, np.ones(b, dtype=bool))

    bounds = np.searchsorted(arrivals, np.arange(t_end + 1, dtype=np.float64), side="left")
    routed_proxy = np.ones(b, dtype=bool)  # the mode last sent to the network
    delay = platform.mode_switch_delay
    ones = np.ones(b)
    everyone = np.ones(b, dtype=bool)

    panic_seconds = np.zeros(b)
    path_seconds = np.zeros(b)
    peak_pods = np.zeros(b, dtype=np.int64)
    scale_events = np.zeros(b, dtype=np.int64)
    from_zero = np.zeros(b, dtype=np.int64)
    ts = TimeSeries.allocate(b, t_end, max_points) if timeseries else None
    demand = trace.concurrency_per_second(0, t_end) if timeseries else None
    stable_seen = np.zeros(b)
    panic_seen = np.zeros(b)
    errors_seen = np.zeros((b, 2), dtype=np.int64)  # 503 and 504 so far, for the time series

    def apply(now, result, mask, immediately):
        nonlocal routed_proxy
        patched = result.patched & mask
        if patched.any():
            if immediately:
                dp.apply_replicas(now, result.replicas, patched)
            else:  # at the start of the next second, which is ``now``
                dp.schedule_replicas(result.replicas, patched)
            scale_events[:] += patched
            from_zero[:] += patched & (prev_replicas == 0) & (result.replicas > 0)
        want_proxy = result.mode == Mode.PROXY
        switch = mask & (want_proxy != routed_proxy)
        if switch.any():
            dp.set_mode(now + delay, want_proxy, switch)
            routed_proxy = np.where(switch, want_proxy, routed_proxy)

    for s in range(t_end):
        # The data plane runs second s and reports at its end (the reports are recorded
        # below, after any push of second s: the push lands in bucket s, the reports in s + 1).
        out = dp.second(float(s), float(s + 1), int(bounds[s]), int(bounds[s + 1]))

        # The activator's immediate push on a first request, and the poke it may cause.
        push = dp.push_time
        pushed = ~np.isnan(push)
        if pushed.any():
            collector.record(s, ones, ones, pushed)
            poke = pushed & (decider.desired_scale == 0)
            if poke.any():
                obs = collector.observe(s)
                now = np.where(poke, push, float(s))
                decider.scale(now, dp.ready, obs.stable, obs.panic, valid=obs.valid, mask=poke)
                prev_replicas = rec.replicas.copy()
                result = rec.reconcile(now, decider.desired_scale, decider.excess_burst_capacity, dp.ready,
                                       dp.in_path, mask=poke)
                apply(now, result, poke, immediately=True)

        # Second boundary: queue-proxy and activator reports, scrape, collector.
        t1 = s + 1
        scraped = out[:, 4] > 0
        reported = out[:, 7] > 0
        # The scraper's estimate and the activator's stat land in the same bucket and add up.
        collector.record(t1, out[:, 0] - out[:, 1] + out[:, 5], out[:, 2] - out[:, 3] + out[:, 6], scraped | reported)

        ready = dp.ready
        poke = reported & (out[:, 5] != 0) & (decider.desired_scale == 0)
        tick = poke if t1 % 2 else np.ones(b, dtype=bool)
        if tick.any():
            obs = collector.observe(t1)
            decision = decider.scale(float(t1), ready, obs.stable, obs.panic, valid=obs.valid, mask=tick)
            seen = decision.valid
            stable_seen = np.where(seen, obs.stable, stable_seen)
            panic_seen = np.where(seen, obs.panic, panic_seen)
        prev_replicas = rec.replicas.copy()
        result = rec.reconcile(float(t1), decider.desired_scale, decider.excess_burst_capacity, ready, dp.in_path)
        apply(float(t1), result, everyone, immediately=False)

        panicking = decider.panicking
        in_path = dp.in_path
        panic_seconds += panicking
        path_seconds += in_path
        pods = dp.ready + dp.starting + dp.draining
        np.maximum(peak_pods, pods, out=peak_pods)
        if ts is not None:
            errors = dp.ci[:, [CI_503, CI_504]]
            new = errors - errors_seen
            errors_seen = errors
            ts.add(s, demand[s], stable_seen, panic_seen, decider.desired_scale, dp.starting, dp.ready,
                   panicking, in_path, new[:, 0], new[:, 1])

    dp.finish(float(t_end))
    cf, ci = dp.cf, dp.ci
    counters = {
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
    return ReplayResult(
        spec=spec,
        trace_name=getattr(trace, "name", ""),
        provenance=str(getattr(trace, "provenance", "")),
        duration=float(t_end),
        counters=counters,
        latency_hist=dp.hist_lat.copy(),
        wait_hist=dp.hist_wait.copy(),
        timeseries=ts.finish() if ts is not None else None,
        seed=seed,
        platform=platform,
    )
