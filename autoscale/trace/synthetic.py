"""Seeded synthetic workloads: arrival processes and service-time distributions.

Examples
--------
>>> t = poisson(rate=10.0, duration=60.0, service=lognormal(median=0.5, sigma=0.5), seed=1)
>>> 450 < len(t) < 750
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import TraceError
from .trace import Trace

__all__ = [
    "Service", "constant", "exponential", "lognormal", "empirical",
    "poisson", "from_rate", "on_off", "diurnal", "step", "ramp", "spike",
]


@dataclass(frozen=True)
class Service:
    """A service-time distribution (seconds) that draws with an explicit generator."""

    kind: str
    a: float = 0.0
    b: float = 0.0
    samples: tuple[float, ...] = ()

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.kind == "constant":
            return np.full(n, self.a)
        if self.kind == "exponential":
            return rng.exponential(self.a, n)
        if self.kind == "lognormal":
            return rng.lognormal(np.log(self.a), self.b, n)
        return rng.choice(np.asarray(self.samples), n)


def _positive(name: str, value: float) -> float:
    if not (np.isfinite(value) and value > 0):
        raise TraceError(f"{name} = {value}, must be a finite number > 0")
    return float(value)


def constant(seconds: float) -> Service:
    return Service("constant", _positive("duration", seconds))


def exponential(mean: float) -> Service:
    return Service("exponential", _positive("mean duration", mean))


def lognormal(median: float, sigma: float) -> Service:
    if not (np.isfinite(sigma) and sigma >= 0):
        raise TraceError(f"sigma = {sigma}, must be >= 0")
    return Service("lognormal", _positive("median duration", median), float(sigma))


def empirical(samples) -> Service:
    s = np.asarray(samples, dtype=np.float64)
    if s.size == 0 or np.any(~np.isfinite(s) | (s <= 0)):
        raise TraceError("empirical durations: need at least one sample, every one finite and > 0 s")
    return Service("empirical", samples=tuple(s.tolist()))


_DEFAULT_SERVICE = Service("lognormal", 0.5, 0.5)


def _finish(arrivals: np.ndarray, service: Service | None, rng, name: str) -> Trace:
    if arrivals.size == 0:
        raise TraceError(f"{name}: the process produced no request; raise the rate or the duration")
    service = _DEFAULT_SERVICE if service is None else service
    return Trace(arrivals=arrivals, durations=service.sample(arrivals.size, rng), name=name,
                 provenance=f"synthetic: {name}")


def poisson(rate: float, duration: float, service: Service | None = None, seed: int = 0) -> Trace:
    """Poisson arrivals at ``rate`` req/s over ``duration`` s."""
    rng = np.random.default_rng(seed)
    _positive("rate", rate), _positive("duration", duration)
    n = rng.poisson(rate * duration)
    return _finish(np.sort(rng.uniform(0.0, duration, n)), service, rng, f"poisson-{rate:g}rps")


def from_rate(rate: Callable[[np.ndarray], np.ndarray], duration: float, peak: float,
              service: Service | None = None, seed: int = 0, name: str = "rate") -> Trace:
    """A non-homogeneous Poisson process with rate ``rate(t)`` <= ``peak`` req/s, by thinning."""
    rng = np.random.default_rng(seed)
    _positive("peak", peak), _positive("duration", duration)
    n = rng.poisson(peak * duration)
    t = np.sort(rng.uniform(0.0, duration, n))
    r = np.asarray(rate(t), dtype=np.float64)
    if np.any(r < 0) or np.any(r > peak * (1 + 1e-9)):
        raise TraceError(f"{name}: rate(t) must stay within [0, peak = {peak}] req/s")
    keep = rng.random(n) * peak < r
    return _finish(t[keep], service, rng, name)


def on_off(rate_on: float, mean_on: float, mean_off: float, duration: float, rate_off: float = 0.0,
           service: Service | None = None, seed: int = 0) -> Trace:
    """Bursty on-off traffic (a two-state MMPP): exponential on and off periods (s)."""
    rng = np.random.default_rng(seed)
    _positive("mean_on", mean_on), _positive("mean_off", mean_off)
    n = int(duration / (mean_on + mean_off) * 4) + 16
    lengths = np.empty(2 * n)
    lengths[0::2] = rng.exponential(mean_on, n)
    lengths[1::2] = rng.exponential(mean_off, n)
    edges = np.concatenate([[0.0], np.cumsum(lengths)])
    peak = max(rate_on, rate_off)
    count = rng.poisson(peak * duration)
    t = np.sort(rng.uniform(0.0, duration, count))
    state = (np.searchsorted(edges, t, side="right") - 1) % 2  # 0 = on
    r = np.where(state == 0, rate_on, rate_off)
    keep = rng.random(count) * peak < r
    return _finish(t[keep], service, rng, f"on-off-{rate_on:g}rps")


def diurnal(mean_rate: float, amplitude: float, duration: float, period: float = 86400.0,
            service: Service | None = None, seed: int = 0) -> Trace:
    """A sinusoidal day: ``mean_rate * (1 + amplitude * sin(2 pi t / period))``, amplitude in [0, 1]."""
    if not 0 <= amplitude <= 1:
        raise TraceError(f"amplitude = {amplitude}, must be in [0, 1]")
    return from_rate(lambda t: mean_rate * (1 + amplitude * np.sin(2 * np.pi * t / period)), duration,
                     mean_rate * (1 + amplitude), service, seed, f"diurnal-{mean_rate:g}rps")


def step(rate_before: float, rate_after: float, at: float, duration: float,
         service: Service | None = None, seed: int = 0) -> Trace:
    """A rate that jumps from ``rate_before`` to ``rate_after`` at time ``at``."""
    return from_rate(lambda t: np.where(t < at, rate_before, rate_after), duration,
                     max(rate_before, rate_after), service, seed, f"step-{rate_before:g}-{rate_after:g}rps")


def ramp(rate_start: float, rate_end: float, duration: float, service: Service | None = None,
         seed: int = 0) -> Trace:
    """A rate rising (or falling) linearly from ``rate_start`` to ``rate_end``."""
    return from_rate(lambda t: rate_start + (rate_end - rate_start) * t / duration, duration,
                     max(rate_start, rate_end), service, seed, f"ramp-{rate_start:g}-{rate_end:g}rps")


def spike(base_rate: float, spike_rate: float, at: float, length: float, duration: float,
          service: Service | None = None, seed: int = 0) -> Trace:
    """``base_rate`` with a burst of ``spike_rate`` during ``[at, at + length)``."""
    return from_rate(lambda t: np.where((t >= at) & (t < at + length), spike_rate, base_rate), duration,
                     max(base_rate, spike_rate), service, seed, f"spike-{spike_rate:g}rps")
