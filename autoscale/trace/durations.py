"""Service-duration distributions (seconds), each drawing with an explicit ``numpy.random.Generator``.

Loaders of rate series (counts without durations) and the synthetic workloads take one
of these as ``service=``; the Azure 2019 loader draws from per-function percentile
points with :func:`sample_percentiles`.

Examples
--------
>>> import numpy as np
>>> d = lognormal(median=0.5, sigma=0.5)
>>> x = d.sample(10_000, np.random.default_rng(1))
>>> 0.48 < float(np.median(x)) < 0.52
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, TraceError

__all__ = [
    "DEFAULT_SERVICE", "Constant", "DurationDistribution", "Empirical", "Exponential", "Lognormal",
    "SPEC_SYNTAX", "constant", "empirical", "exponential", "invented", "lognormal", "parse", "sample_percentiles",
]


def _positive(name: str, value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TraceError(f"{name} = {value!r}, must be a finite number > 0 s") from None
    if not (np.isfinite(value) and value > 0):
        raise TraceError(f"{name} = {value}, must be a finite number > 0 s")
    return value


class DurationDistribution:
    """Base of the service-duration distributions: ``sample(n, rng)`` returns ``n`` durations > 0 s."""

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def describe(self) -> str:
        """The distribution and its parameters in words, for provenance (``lognormal, median 0.5 s, sigma 0.5``)."""
        return repr(self)


@dataclass(frozen=True)
class Constant(DurationDistribution):
    """Every request takes ``seconds``."""

    seconds: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "seconds", _positive("duration", self.seconds))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.full(int(n), self.seconds)

    def describe(self) -> str:
        return f"constant {self.seconds:g} s"


@dataclass(frozen=True)
class Exponential(DurationDistribution):
    """Exponential durations with the given ``mean`` (s)."""

    mean: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "mean", _positive("mean duration", self.mean))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        d = rng.exponential(self.mean, int(n))
        # An exponential draw is 0.0 with probability ~2**-53 per draw; keep the trace valid.
        return np.maximum(d, np.finfo(np.float64).tiny)

    def describe(self) -> str:
        return f"exponential, mean {self.mean:g} s"


@dataclass(frozen=True)
class Lognormal(DurationDistribution):
    """Lognormal durations: ``median * exp(sigma * Z)``, ``Z`` standard normal (median in s, sigma >= 0)."""

    median: float
    sigma: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "median", _positive("median duration", self.median))
        if not (np.isfinite(self.sigma) and 0 <= self.sigma <= 10):
            raise TraceError(f"sigma = {self.sigma}, must be in [0, 10]")

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.median * np.exp(self.sigma * rng.standard_normal(int(n)))

    def describe(self) -> str:
        return f"lognormal, median {self.median:g} s, sigma {self.sigma:g}"


@dataclass(frozen=True, eq=False)
class Empirical(DurationDistribution):
    """Durations resampled with replacement from observed ``samples`` (s)."""

    samples: np.ndarray

    def __post_init__(self) -> None:
        s = np.array(self.samples, dtype=np.float64, copy=True).ravel()
        if s.size == 0:
            raise TraceError("empirical durations: need at least one sample")
        bad = np.flatnonzero(~(np.isfinite(s) & (s > 0)))
        if bad.size:
            raise TraceError(f"empirical durations: sample {bad[0]} = {s[bad[0]]}, must be a finite number > 0 s")
        s.setflags(write=False)
        object.__setattr__(self, "samples", s)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.samples[rng.integers(0, self.samples.size, int(n))]

    def describe(self) -> str:
        return (f"resampled from {self.samples.size:,} observed durations (median {np.median(self.samples):g} s, "
                f"max {self.samples.max():g} s)")


def invented(service: DurationDistribution, seed=None) -> str:
    """The provenance of durations drawn for a trace that records none.

    >>> invented(lognormal(0.5, 0.5), seed=0)
    'invented (the trace records none): drawn from lognormal, median 0.5 s, sigma 0.5, seed 0'
    """
    return f"invented (the trace records none): drawn from {service.describe()}" + (
        "" if seed is None else f", seed {seed}")


def constant(seconds: float) -> Constant:
    """Every request takes ``seconds``."""
    return Constant(seconds)


def exponential(mean: float) -> Exponential:
    """Exponential durations with mean ``mean`` s."""
    return Exponential(mean)


def lognormal(median: float, sigma: float) -> Lognormal:
    """Lognormal durations with median ``median`` s and log-scale ``sigma``."""
    return Lognormal(median, sigma)


def empirical(samples) -> Empirical:
    """Durations resampled from ``samples`` (s)."""
    return Empirical(samples)


#: Durations for traces that record none (rate series, Huawei tables, CSVs without a
#: duration column): lognormal with a 0.5 s median and sigma 0.5 (p99 about 1.6 s).
DEFAULT_SERVICE = Lognormal(median=0.5, sigma=0.5)


#: How a distribution is written on the command line (:func:`parse`; help texts and messages).
SPEC_SYNTAX = ("a constant (200ms, 0.2), exponential:MEAN (exponential:200ms) or lognormal:MEDIAN,SIGMA "
               "(lognormal:500ms,0.5)")


def parse(text: str, what: str = "service time") -> DurationDistribution:
    """A distribution from its command-line spelling: ``200ms``, ``exponential:200ms``, ``lognormal:500ms,0.5``.

    A bare time (seconds, or a Go duration such as ``200ms``) or ``constant:TIME`` is a
    constant; ``exponential:MEAN`` and ``lognormal:MEDIAN,SIGMA`` take their times the
    same way. The result's :meth:`~DurationDistribution.describe` is what provenance shows.

    >>> parse("200ms"), parse("exponential:0.2").describe(), parse("lognormal:500ms,0.5").describe()
    (Constant(seconds=0.2), 'exponential, mean 0.2 s', 'lognormal, median 0.5 s, sigma 0.5')
    """
    from ..values import parse_seconds

    kind, sep, rest = text.strip().partition(":")
    if not sep:
        kind, rest = "constant", text.strip()
    kind = kind.strip().lower()
    args = [a.strip() for a in rest.split(",")]
    wanted = {"constant": 1, "exponential": 1, "lognormal": 2}
    if kind not in wanted:
        raise ConfigError(f"{what} = {text}: unknown distribution {kind!r}; give {SPEC_SYNTAX}")
    if len(args) != wanted[kind] or not all(args):
        raise ConfigError(f"{what} = {text}: {kind} takes {wanted[kind]} value(s); give {SPEC_SYNTAX}")
    try:
        first = parse_seconds(args[0], what)
        if kind == "lognormal":
            try:
                sigma = float(args[1])
            except ValueError:
                raise ConfigError(f"{what} = {text}: sigma = {args[1]}, must be a number in [0, 10]") from None
            return Lognormal(first, sigma)
        return Constant(first) if kind == "constant" else Exponential(first)
    except TraceError as exc:
        raise ConfigError(f"{what} = {text}: {exc}") from None


def sample_percentiles(points: np.ndarray, quantiles: np.ndarray, which: np.ndarray,
                       rng: np.random.Generator) -> np.ndarray:
    """Draw one duration per request from per-function percentile points, vectorised.

    The inverse CDF of function ``f`` is piecewise linear through
    ``(quantiles[k], points[f, k])``: a uniform ``u`` falling between ``quantiles[k]``
    and ``quantiles[k + 1]`` maps to the straight line between ``points[f, k]`` and
    ``points[f, k + 1]``. For the Azure 2019 points (0, 1, 25, 50, 75, 99, 100 %) of
    ``[1, 4, 10, 20, 30, 90, 400]`` ms, ``u = 0.6`` gives ``20 + (0.1 / 0.25) * 10 = 24`` ms.

    Parameters
    ----------
    points : float array [F, K]
        Non-decreasing in ``k`` for every function.
    quantiles : float array [K]
        Increasing, from 0 to 1.
    which : int array [N]
        The function of each request.
    rng : numpy.random.Generator
    """
    q = np.asarray(quantiles, dtype=np.float64)
    K = points.shape[1]
    flat = np.ascontiguousarray(points, dtype=np.float64).ravel()
    # Large arrays are reused in place: on a 18 M-request day each fresh array costs more
    # (first-touch page faults) than the arithmetic on it.
    w = rng.random(which.size)
    k = np.searchsorted(q, w, side="right")
    k -= 1
    np.clip(k, 0, K - 2, out=k)
    buf = np.take(q, k)
    w -= buf                                   # u - q[k]
    np.take(np.diff(q), k, out=buf)
    w /= buf                                   # fraction of the way from q[k] to q[k + 1]
    index = buf.view(np.int64)
    np.multiply(which, K, out=index, casting="unsafe")
    k += index                                 # flat index of points[f, k]
    lo = np.take(flat, k, out=buf)
    k += 1
    out = np.take(flat, k)
    out -= lo
    out *= w
    out += lo
    return out
