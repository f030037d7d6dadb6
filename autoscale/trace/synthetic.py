"""Seeded synthetic workloads: Poisson, bursty on-off (a two-state MMPP), diurnal, step, ramp, spike and periodic.

Every generator takes ``seed`` (an int or a ``numpy.random.Generator``) and ``service``
(a duration distribution from :mod:`autoscale.trace.durations`, re-exported here;
default lognormal, median 0.5 s, sigma 0.5). Time-varying rates are drawn as a
non-homogeneous Poisson process by thinning a homogeneous one at the peak rate.
A generator whose requests (the peak rate times the duration) would not fit in memory
is refused before it draws any (:mod:`autoscale.trace.sizes`; ``max_memory=`` of
:func:`poisson`, :func:`from_rate` and :func:`on_off` sets the limit).

Examples
--------
>>> t = poisson(rate=10.0, duration=60.0, service=constant(0.2), seed=1)
>>> 450 < len(t) < 750, float(t.durations[0])
(True, 0.2)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import TraceError
from .durations import DEFAULT_SERVICE, DurationDistribution, constant, empirical, exponential, invented, lognormal
from .sizes import BYTES_PER_REQUEST, Footprint, memory_limit
from .trace import Provenance, Trace

__all__ = [
    "constant", "diurnal", "empirical", "exponential", "from_rate", "lognormal", "on_off",
    "periodic", "poisson", "ramp", "spike", "step",
]



def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    raise TypeError(f"seed must be an int or a numpy.random.Generator, not {type(seed).__name__}")


def _check(name: str, value, *, positive: bool = True) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TraceError(f"{name} = {value!r}, must be a finite number") from None
    ok = np.isfinite(value) and (value > 0 if positive else value >= 0)
    if not ok:
        raise TraceError(f"{name} = {value}, must be a finite number {'> 0' if positive else '>= 0'}")
    return value


def _volume(peak: float, duration: float, max_memory=None) -> None:
    """Refuse a generator whose candidate arrivals (``peak`` req/s over ``duration`` s) would not fit in memory."""
    expected = peak * duration
    footprint = Footprint(requests=int(min(expected, 2**62)))
    limit = memory_limit(max_memory)
    if footprint.bytes <= limit.bytes:
        return
    fits = max(limit.bytes // BYTES_PER_REQUEST, 1)
    footprint.check(f"rate {peak:g} req/s over {duration:g} s: about {expected:,.0f} requests", limit,
                    [f"a shorter duration (duration={fits / peak:.3g} s at this rate)",
                     f"a lower rate ({fits / duration:.3g} req/s over this duration)",
                     "generate a day at a time (duration=86400) and thin the result (Trace.thin)"])


def _finish(arrivals: np.ndarray, service: DurationDistribution | None, rng, name: str, description: str) -> Trace:
    if arrivals.size == 0:
        raise TraceError(f"{name}: the process produced no request; raise the rate or the duration")
    service = DEFAULT_SERVICE if service is None else service
    if not isinstance(service, DurationDistribution):
        raise TypeError(f"service must be a duration distribution, not {type(service).__name__}")
    return Trace(arrivals=arrivals, durations=service.sample(arrivals.size, rng), name=name,
                 provenance=Provenance(f"synthetic: {description}", durations=invented(service)))


def poisson(rate: float, duration: float, service: DurationDistribution | None = None, seed=0,
            max_memory=None) -> Trace:
    """Poisson arrivals at ``rate`` req/s over ``[0, duration)`` s."""
    rng = _rng(seed)
    rate, duration = _check("rate", rate), _check("duration", duration)
    _volume(rate, duration, max_memory)
    n = rng.poisson(rate * duration)
    return _finish(np.sort(rng.uniform(0.0, duration, n)), service, rng, f"poisson-{rate:g}rps",
                   f"Poisson {rate:g} req/s for {duration:g} s, seed {seed}")


def from_rate(rate: Callable[[np.ndarray], np.ndarray], duration: float, peak: float,
              service: DurationDistribution | None = None, seed=0, name: str = "rate", max_memory=None) -> Trace:
    """A non-homogeneous Poisson process with rate ``rate(t)`` req/s, ``0 <= rate(t) <= peak``, by thinning.

    ``rate`` is called once on the sorted candidate times (an array), so it must be vectorised.
    """
    rng = _rng(seed)
    peak, duration = _check("peak", peak), _check("duration", duration)
    _volume(peak, duration, max_memory)
    n = rng.poisson(peak * duration)
    t = np.sort(rng.uniform(0.0, duration, n))
    r = np.asarray(rate(t), dtype=np.float64)
    if r.shape != t.shape:
        raise TraceError(f"{name}: rate(t) returned shape {r.shape}, expected {t.shape}")
    bad = np.flatnonzero(~np.isfinite(r) | (r < 0) | (r > peak * (1 + 1e-9)))
    if bad.size:
        i = bad[0]
        raise TraceError(f"{name}: rate({t[i]:g} s) = {r[i]:g}, must be in [0, peak = {peak:g}] req/s")
    keep = rng.random(n) * peak < r
    return _finish(t[keep], service, rng, name, f"{name}: thinned Poisson, peak {peak:g} req/s, seed {seed}")


def on_off(rate_on: float, mean_on: float, mean_off: float, duration: float, rate_off: float = 0.0,
           service: DurationDistribution | None = None, seed=0, max_memory=None) -> Trace:
    """Bursty traffic: a two-state Markov-modulated Poisson process (MMPP).

    The process alternates between *on* periods (rate ``rate_on``) and *off* periods
    (rate ``rate_off``, 0 by default), with exponential lengths of means ``mean_on`` and
    ``mean_off`` s; it starts *on*. With ``rate_on = 50``, ``mean_on = 10`` and
    ``mean_off = 40`` the long-run mean rate is ``50 * 10 / 50 = 10`` req/s.
    """
    rng = _rng(seed)
    rate_on, rate_off = _check("rate_on", rate_on), _check("rate_off", rate_off, positive=False)
    mean_on, mean_off = _check("mean_on", mean_on), _check("mean_off", mean_off)
    duration = _check("duration", duration)
    peak = max(rate_on, rate_off)
    _volume(peak, duration, max_memory)
    # enough cycles to cover the duration with overwhelming probability, topped up if not
    cycles = int(duration / (mean_on + mean_off) * 2) + 16
    edges = np.zeros(1)
    while edges[-1] < duration:
        lengths = np.empty(2 * cycles)
        lengths[0::2] = rng.exponential(mean_on, cycles)
        lengths[1::2] = rng.exponential(mean_off, cycles)
        edges = np.concatenate([edges, edges[-1] + np.cumsum(lengths)])
    n = rng.poisson(peak * duration)
    t = np.sort(rng.uniform(0.0, duration, n))
    off = (np.searchsorted(edges, t, side="right") - 1) % 2 == 1
    keep = rng.random(n) * peak < np.where(off, rate_off, rate_on)
    return _finish(t[keep], service, rng, f"on-off-{rate_on:g}rps",
                   f"on-off MMPP: {rate_on:g} req/s on (mean {mean_on:g} s), {rate_off:g} req/s off "
                   f"(mean {mean_off:g} s), {duration:g} s, seed {seed}")


def diurnal(mean_rate: float, amplitude: float, duration: float, period: float = 86400.0,
            service: DurationDistribution | None = None, seed=0, phase: float = 0.0) -> Trace:
    """A sinusoidal day: ``mean_rate * (1 + amplitude * sin(2 pi (t + phase) / period))``, amplitude in [0, 1]."""
    mean_rate, period = _check("mean_rate", mean_rate), _check("period", period)
    if not (np.isfinite(amplitude) and 0 <= amplitude <= 1):
        raise TraceError(f"amplitude = {amplitude}, must be in [0, 1]")
    return from_rate(lambda t: mean_rate * (1 + amplitude * np.sin(2 * np.pi * (t + phase) / period)), duration,
                     mean_rate * (1 + amplitude), service, seed, f"diurnal-{mean_rate:g}rps")


def step(rate_before: float, rate_after: float, at: float, duration: float,
         service: DurationDistribution | None = None, seed=0) -> Trace:
    """A rate that jumps from ``rate_before`` to ``rate_after`` req/s at time ``at`` s."""
    rate_before = _check("rate_before", rate_before, positive=False)
    rate_after = _check("rate_after", rate_after, positive=False)
    at = _check("at", at, positive=False)
    return from_rate(lambda t: np.where(t < at, rate_before, rate_after), duration,
                     max(rate_before, rate_after), service, seed, f"step-{rate_before:g}-{rate_after:g}rps")


def ramp(rate_start: float, rate_end: float, duration: float, service: DurationDistribution | None = None,
         seed=0) -> Trace:
    """A rate changing linearly from ``rate_start`` to ``rate_end`` req/s over ``duration`` s."""
    rate_start = _check("rate_start", rate_start, positive=False)
    rate_end = _check("rate_end", rate_end, positive=False)
    duration = _check("duration", duration)
    return from_rate(lambda t: rate_start + (rate_end - rate_start) * (t / duration), duration,
                     max(rate_start, rate_end), service, seed, f"ramp-{rate_start:g}-{rate_end:g}rps")


def spike(base_rate: float, spike_rate: float, at: float, length: float, duration: float,
          service: DurationDistribution | None = None, seed=0) -> Trace:
    """``base_rate`` req/s with a burst of ``spike_rate`` req/s during ``[at, at + length)`` s."""
    base_rate = _check("base_rate", base_rate, positive=False)
    spike_rate = _check("spike_rate", spike_rate, positive=False)
    at, length = _check("at", at, positive=False), _check("length", length)
    return from_rate(lambda t: np.where((t >= at) & (t < at + length), spike_rate, base_rate), duration,
                     max(base_rate, spike_rate), service, seed, f"spike-{spike_rate:g}rps")


def periodic(period: float, size: int, duration: float, start: float = 0.0, spread: float = 0.0,
             service: DurationDistribution | None = None, seed=0) -> Trace:
    """A job that fires every ``period`` s and sends ``size`` requests each time: a cron job, a queue drain.

    Runs fire at ``start``, ``start + period``, ... while before ``duration``. Each run's
    requests arrive uniformly at random within ``spread`` s after the run fires (0: all
    at once). ``period = 0.01, size = 1`` is one request every 10 ms; ``period = 120,
    size = 30, spread = 1`` is a burst of 30 requests within a second every two minutes.

    >>> t = periodic(period=30.0, size=3, duration=90.0, spread=0.0, service=constant(0.5))
    >>> t.arrivals.tolist()
    [0.0, 0.0, 0.0, 30.0, 30.0, 30.0, 60.0, 60.0, 60.0]
    """
    rng = _rng(seed)
    period, duration = _check("period", period), _check("duration", duration)
    start, spread = _check("start", start, positive=False), _check("spread", spread, positive=False)
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise TraceError(f"size = {size!r}, must be a whole number >= 1 (requests per run)")
    if spread > period:
        raise TraceError(f"spread = {spread:g} s, must be in [0, period = {period:g}] s")
    if start >= duration:
        raise TraceError(f"start = {start:g} s, must be before duration = {duration:g} s")
    _volume(size / period, duration)  # before anything is allocated
    runs = int(np.ceil((duration - start) / period))
    fire = start + period * np.arange(runs)
    fire = fire[fire < duration]
    offsets = rng.uniform(0.0, spread, (fire.size, int(size))) if spread > 0 else np.zeros((fire.size, int(size)))
    arrivals = np.sort((fire[:, None] + offsets).ravel())
    return _finish(arrivals, service, rng, f"periodic-{period:g}s",
                   f"periodic: {int(size)} request(s) every {period:g} s from {start:g} s, spread {spread:g} s, "
                   f"{duration:g} s, seed {seed}")
