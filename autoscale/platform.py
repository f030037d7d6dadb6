"""What the model assumes of the cluster outside Knative: pod cold starts and network propagation.

These are not Knative settings, so they live apart from :class:`autoscale.KPAConfig`.
Their defaults are documented in docs/model.md.

Examples
--------
>>> cs = ColdStart.knative_default()
>>> round(cs.mean(), 2), round(cs.quantile(0.99), 2), cs.minimum()
(3.1, 4.2, 1.9)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ._state import MAX_ACTIVATORS
from .errors import ConfigError

__all__ = ["ColdStart", "Platform", "PLATFORM_KEYS"]

#: Settings of the platform, rather than of Knative, that runs and sweeps take by name
#: (``--set activators=3``): ``cold-start`` (a constant cold start, a duration such as
#: ``2s`` or a number of seconds), ``mode-switch-delay`` (a duration) and ``activators``.
PLATFORM_KEYS = ("cold-start", "mode-switch-delay", "activators")
_PLATFORM_ALIASES = {"cold_start": "cold-start", "mode_switch_delay": "mode-switch-delay"}

_KINDS = ("constant", "lognormal", "empirical")

# Knative's measured pod start (minimum 1.9 s, mean 3.1 s, p99 4.2 s), fitted as
# 1.9 s plus a lognormal with mean 1.2 s and p99 2.3 s: sigma solves
# ln 2.3 - ln 1.2 = 2.3263 sigma - sigma^2 / 2, so sigma = 0.2990 and mu = ln 1.2 - sigma^2/2.
_Z99 = 2.3263478740408408


def _fit_sigma(mean: float, p99: float) -> float:
    a = math.log(p99) - math.log(mean)
    # sigma^2 / 2 - z sigma + a = 0, the smaller root
    return _Z99 - math.sqrt(_Z99 * _Z99 - 2.0 * a)


@dataclass(frozen=True)
class ColdStart:
    """Pod start latency: from creation to Ready, seconds.

    Parameters
    ----------
    kind : {"constant", "lognormal", "empirical"}
    shift : float
        Minimum latency added to the draw (constant: the latency itself).
    mu, sigma : float
        Log-mean and log-standard deviation of the lognormal part.
    samples : tuple of float
        Latencies to draw from uniformly, for ``empirical``.
    """

    kind: str = "lognormal"
    shift: float = 1.9
    mu: float = math.log(1.2) - _fit_sigma(1.2, 2.3) ** 2 / 2.0
    sigma: float = _fit_sigma(1.2, 2.3)
    samples: tuple[float, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ConfigError(f"cold-start kind = {self.kind!r}, must be one of {', '.join(_KINDS)}")
        if not (math.isfinite(self.shift) and self.shift >= 0):
            raise ConfigError(f"cold-start shift = {self.shift}, must be a finite number >= 0 s")
        if self.kind == "lognormal" and not (self.sigma >= 0 and math.isfinite(self.mu)):
            raise ConfigError(f"cold-start sigma = {self.sigma}, must be >= 0 (mu finite)")
        if self.kind == "empirical":
            if not self.samples:
                raise ConfigError("cold-start samples: an empirical cold start needs at least one sample")
            bad = [s for s in self.samples if not (math.isfinite(s) and s >= 0)]
            if bad:
                raise ConfigError(f"cold-start samples contain {bad[0]}, every sample must be >= 0 s")

    @classmethod
    def knative_default(cls) -> "ColdStart":
        """Knative's measured pod start: minimum 1.9 s, mean 3.1 s, p99 4.2 s."""
        return cls()

    @classmethod
    def constant(cls, seconds: float) -> "ColdStart":
        return cls(kind="constant", shift=float(seconds), mu=0.0, sigma=0.0)

    @classmethod
    def lognormal(cls, minimum: float, mean: float, p99: float) -> "ColdStart":
        """A shifted lognormal with the given minimum, mean and 99th percentile (seconds)."""
        if not minimum < mean < p99:
            raise ConfigError(f"cold-start lognormal needs minimum < mean < p99, got {minimum}, {mean}, {p99}")
        m, q = mean - minimum, p99 - minimum
        if math.log(q / m) * 2.0 >= _Z99 * _Z99:
            raise ConfigError(f"cold-start p99 = {p99} is too far above the mean {mean} for a lognormal")
        sigma = _fit_sigma(m, q)
        return cls(kind="lognormal", shift=float(minimum), mu=math.log(m) - sigma * sigma / 2.0, sigma=sigma)

    @classmethod
    def empirical(cls, samples) -> "ColdStart":
        return cls(kind="empirical", shift=0.0, mu=0.0, sigma=0.0, samples=tuple(float(s) for s in samples))

    @property
    def code(self) -> int:
        return _KINDS.index(self.kind)

    def minimum(self) -> float:
        if self.kind == "empirical":
            return min(self.samples)
        return self.shift

    def mean(self) -> float:
        if self.kind == "constant":
            return self.shift
        if self.kind == "empirical":
            return float(np.mean(self.samples))
        return self.shift + math.exp(self.mu + self.sigma**2 / 2.0)

    def quantile(self, q: float) -> float:
        if self.kind == "constant":
            return self.shift
        if self.kind == "empirical":
            return float(np.quantile(self.samples, q))
        from scipy.stats import norm

        return self.shift + math.exp(self.mu + self.sigma * float(norm.ppf(q)))


@dataclass(frozen=True)
class Platform:
    """The cluster around Knative.

    Parameters
    ----------
    cold_start : ColdStart
        Pod start latency distribution.
    mode_switch_delay : float
        Seconds from the KPA choosing Proxy or Serve to the network routing that way
        (SKS endpoints and ingress programming). Default 1 s.
    activators : int
        Activator replicas in the cluster, 1 to 32. Default 1, as Knative installs it (the
        ``activator`` deployment's HPA starts at one replica, ``config/core/deployments``);
        a highly available installation runs 2 or 3. A revision in Proxy mode is served by
        as many of them as its reconciler asks for (``activator-capacity``), at most these.
    """

    cold_start: ColdStart = field(default_factory=ColdStart)
    mode_switch_delay: float = 1.0
    activators: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.cold_start, ColdStart):
            raise TypeError(f"cold_start must be a ColdStart, got {type(self.cold_start).__name__}")
        if not (math.isfinite(self.mode_switch_delay) and 0 <= self.mode_switch_delay <= 60):
            raise ConfigError(f"mode-switch-delay = {self.mode_switch_delay}s, must be in [0s, 60s]")
        if isinstance(self.activators, bool) or not isinstance(self.activators, (int, np.integer)) \
                or not 1 <= self.activators <= MAX_ACTIVATORS:
            raise ConfigError(f"activators = {self.activators!r}, must be a whole number in [1, {MAX_ACTIVATORS}]")

    def with_settings(self, values) -> "Platform":
        """This platform with the :data:`PLATFORM_KEYS` in the mapping ``values`` applied.

        Values are strings as the command line gives them (``"2s"``, ``"3"``) or numbers.
        """
        from .values import parse_seconds

        kw = {}
        for key, value in values.items():
            key = _PLATFORM_ALIASES.get(key, key)
            if key == "activators":
                kw["activators"] = _whole(value, key)
                continue
            if key not in PLATFORM_KEYS:
                raise ConfigError(f"{key}: not a platform setting (those are {', '.join(PLATFORM_KEYS)})")
            if isinstance(value, bool) or value is None:
                raise ConfigError(f"{key} = {value}, must be a duration such as 2s (or a number of seconds)")
            seconds = parse_seconds(value, key) if isinstance(value, str) else float(value)
            if not (math.isfinite(seconds) and seconds >= 0):
                raise ConfigError(f"{key} = {value}, must be a duration >= 0s")
            if key == "cold-start":
                kw["cold_start"] = ColdStart.constant(seconds)
            else:
                kw["mode_switch_delay"] = seconds
        return replace(self, **kw) if kw else self

    def setting(self, key: str) -> float:
        """The value of one of :data:`PLATFORM_KEYS` (a cold start that is not constant reads NaN)."""
        key = _PLATFORM_ALIASES.get(key, key)
        if key == "mode-switch-delay":
            return self.mode_switch_delay
        if key == "activators":
            return self.activators
        cs = self.cold_start
        return cs.shift if cs.kind == "constant" else math.nan


def _whole(value, key: str) -> int:
    """A whole number from a string or a number, or a ConfigError naming ``key``."""
    bad = ConfigError(f"{key} = {value!r}, must be a whole number in [1, {MAX_ACTIVATORS}]")
    if isinstance(value, bool):
        raise bad
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise bad from None
    if isinstance(value, (int, np.integer)) or (isinstance(value, float) and value.is_integer()):
        return int(value)
    raise bad
