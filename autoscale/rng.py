"""A tiny counter-based random stream (SplitMix64) shared by the compiled engine and the reference.

The batched engine keeps its streams per configuration inside compiled code, where a
``numpy.random.Generator`` cannot go. SplitMix64 is small enough to write twice, so
the event-level reference draws exactly the same numbers in plain Python.

Every configuration starts from the same seed (common random numbers), with one stream
per purpose, spawned from the seed with ``SeedSequence.spawn`` (:func:`seed_states`):
cold starts, request routing, the scraper's sample, pod addresses, the choice of
activator, and closed-loop clients' think and service times. A configuration gives the
same result inside any batch as alone, and two configurations are compared on the same
cold starts and routing even when one of them scrapes and the other does not.

Examples
--------
>>> s = SplitMix64(seed_state(42))
>>> u = s.uniform()
>>> 0.0 <= u < 1.0
True
"""

from __future__ import annotations

import math

import numpy as np

from .errors import ConfigError

__all__ = ["SplitMix64", "STREAMS", "seed_state", "seed_states"]

#: The purposes with a stream of their own, in the order of :func:`seed_states`
#: (``RS_*`` in :mod:`autoscale._state`).
STREAMS = ("cold_start", "routing", "scrape", "address", "activator", "client")

_MASK = 0xFFFFFFFFFFFFFFFF
GOLDEN = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB


def _sequence(seed: int | None) -> np.random.SeedSequence:
    """The seed's SeedSequence (seed 0 for None); a seed that is not a whole number >= 0 is refused."""
    if seed is not None and not (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0):
        raise ConfigError(f"seed = {seed!r}, must be a whole number >= 0")
    return np.random.SeedSequence(0 if seed is None else seed)


def seed_state(seed: int | None) -> int:
    """The 64-bit starting state for a seed, through numpy's SeedSequence (0 for None)."""
    return int(_sequence(seed).generate_state(1, dtype=np.uint64)[0])


def seed_states(seed: int | None) -> np.ndarray:
    """The starting states of the streams of :data:`STREAMS` for a seed (uint64, one each).

    Each is a child of the seed's ``SeedSequence`` (``spawn``), so the streams are
    independent of one another and each depends only on the seed.
    """
    return np.array([int(c.generate_state(1, dtype=np.uint64)[0]) for c in _sequence(seed).spawn(len(STREAMS))],
                    dtype=np.uint64)


class SplitMix64:
    """The plain-Python twin of the compiled stream in :mod:`autoscale.dataplane`."""

    def __init__(self, state: int) -> None:
        self.state = state & _MASK

    def next(self) -> int:
        self.state = (self.state + GOLDEN) & _MASK
        z = self.state
        z = ((z ^ (z >> 30)) * MIX1) & _MASK
        z = ((z ^ (z >> 27)) * MIX2) & _MASK
        return z ^ (z >> 31)

    def uniform(self) -> float:
        """A float in [0, 1) with 53 random bits."""
        return (self.next() >> 11) * (1.0 / 9007199254740992.0)

    def normal(self) -> float:
        """A standard normal draw by Box-Muller (two uniforms, one result)."""
        u1 = 1.0 - self.uniform()
        u2 = self.uniform()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def below(self, n: int) -> int:
        """An integer in [0, n)."""
        return min(int(self.uniform() * n), n - 1)
