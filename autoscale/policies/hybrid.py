"""The hybrid histogram policy of "Serverless in the Wild" (Shahrad et al., USENIX ATC 2020, §4.2)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from .base import Policy

__all__ = ["Hybrid"]


@dataclass
class _HybridState:
    counts: np.ndarray  # (B, bins) idle-time histogram
    oob: np.ndarray  # (B,) idle times beyond the histogram's range
    oob_mean: np.ndarray  # (B,) running mean of those, seconds
    idle_since: np.ndarray  # (B,) when the function last became idle (nan: busy, or no request yet)
    prewarm: np.ndarray  # (B,) pre-warm window, seconds
    keep: np.ndarray  # (B,) keep-alive window, seconds
    mode: np.ndarray  # (B,) 0 fixed keep-alive, 1 histogram, 2 out-of-bounds prediction
    seen: np.ndarray  # (B,) a request has arrived: idle times are counted from the first one on


class Hybrid(Policy):
    """Per-function idle-time histogram deciding when to unload, pre-warm and keep alive.

    Instances are created per request and retired when idle, as with
    :class:`~autoscale.policies.simple.KeepAlive`; what the histogram decides is for how
    long, and whether to pre-load an instance before the next request is expected.

    - **Idle times.** An idle time (IT) runs from the moment the function has no request
      in the system to the next arrival, measured each second; ITs go into a histogram of
      ``bin`` s bins (1 minute) over ``range_`` s (4 hours).
    - **Windows.** With a representative histogram, the pre-warm window is the
      ``head`` percentile (5th) of the ITs less a ``margin`` (10 %), and the keep-alive
      window is the ``tail`` percentile (99th) plus the margin, less the pre-warm window
      (the paper's bin-edge rounding: the head percentile's bin's lower edge, the tail's
      upper edge).
      After each execution the instance is unloaded if the pre-warm window is positive,
      one instance is loaded when the pre-warm window has passed, and it is kept for the
      keep-alive window; with a zero pre-warm window instances stay for the keep-alive
      window after their last request.
    - **Not representative.** While the histogram holds fewer than ``min_samples`` ITs,
      or the coefficient of variation of its bin counts is below ``cv_threshold`` (2),
      the policy falls back to a fixed keep-alive of the whole range, with no pre-warm.
    - **Out of bounds.** When more than ``oob_threshold`` of the ITs exceed the range,
      the paper forecasts the next IT with ARIMA; here the forecast is the mean of the
      out-of-bound ITs seen, with a pre-warm of 85 % of it and a keep-alive of 30 % of
      it (the paper's 15 % margins on each side). This replacement is documented in
      docs/model.md.

    Every configuration of the batch keeps its own histogram.
    """

    name = "hybrid"
    durations = ("bin", "range_")
    period = 1
    routing = "activator"
    on_demand = True

    def __init__(self, bin: float = 60.0, range_: float = 4 * 3600.0, head: float = 5.0, tail: float = 99.0,
                 margin: float = 0.1, cv_threshold: float = 2.0, min_samples: int = 10,
                 oob_threshold: float = 0.5) -> None:
        checks = (
            ("bin", bin, 0 < bin), ("range_", range_, range_ >= bin), ("head", head, 0 <= head < tail),
            ("tail", tail, head < tail <= 100), ("margin", margin, 0 <= margin < 1),
            ("cv_threshold", cv_threshold, cv_threshold >= 0), ("min_samples", min_samples, min_samples >= 1),
            ("oob_threshold", oob_threshold, 0 < oob_threshold <= 1),
        )
        for key, value, ok in checks:
            if not ok or not math.isfinite(value):
                raise ConfigError(f"hybrid: {key} = {value!r} is out of range")
        self.bin, self.range_ = float(bin), float(range_)
        self.head, self.tail, self.margin = float(head), float(tail), float(margin)
        self.cv_threshold, self.min_samples, self.oob_threshold = float(cv_threshold), int(min_samples), float(oob_threshold)
        self.bins = int(math.ceil(self.range_ / self.bin))

    def params(self) -> dict:
        return {"bin": self.bin, "range_": self.range_, "head": self.head, "tail": self.tail, "margin": self.margin,
                "cv_threshold": self.cv_threshold, "min_samples": self.min_samples,
                "oob_threshold": self.oob_threshold}

    def start(self, ctx):
        b = ctx.batch
        return _HybridState(counts=np.zeros((b, self.bins)), oob=np.zeros(b), oob_mean=np.zeros(b),
                            idle_since=np.full(b, np.nan), seen=np.zeros(b, dtype=bool), prewarm=np.zeros(b), keep=np.full(b, self.range_),
                            mode=np.zeros(b, dtype=np.int64))

    def windows(self, counts: np.ndarray, oob: np.ndarray, oob_mean: np.ndarray):
        """Pre-warm and keep-alive windows (seconds) and the mode of each row."""
        n = counts.sum(axis=1)
        total = n + oob
        mean = counts.mean(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cv = np.where(mean > 0, counts.std(axis=1) / mean, 0.0)
        cum = np.cumsum(counts, axis=1)
        head_bin = (cum < np.ceil(self.head / 100 * n)[:, None]).sum(axis=1)
        tail_bin = (cum < np.ceil(self.tail / 100 * n)[:, None]).sum(axis=1)
        prewarm = head_bin * self.bin * (1 - self.margin)
        keep = (tail_bin + 1) * self.bin * (1 + self.margin) - prewarm
        representative = (n >= self.min_samples) & (cv >= self.cv_threshold)
        out_of_bounds = (total >= self.min_samples) & (oob > self.oob_threshold * total)
        mode = np.where(out_of_bounds, 2, np.where(representative, 1, 0))
        prewarm = np.where(mode == 1, prewarm, np.where(mode == 2, 0.85 * oob_mean, 0.0))
        keep = np.where(mode == 1, keep, np.where(mode == 2, 0.30 * oob_mean, self.range_))
        return prewarm, keep, mode

    def decide(self, state: _HybridState, signals):
        now = float(np.max(signals.now))
        busy = (signals.in_system > 0) | (signals.arrivals > 0)
        # A request ended an idle period: record its idle time (to 1 s).
        ended = (signals.arrivals > 0) & ~np.isnan(state.idle_since)
        if ended.any():
            it = np.maximum(now - 1.0 - state.idle_since, 0.0)
            inside = ended & (it < self.range_)
            k = np.minimum((it / self.bin).astype(np.int64), self.bins - 1)
            rows = np.flatnonzero(inside)
            state.counts[rows, k[rows]] += 1
            far = ended & ~inside
            state.oob_mean = np.where(far, (state.oob_mean * state.oob + it) / np.maximum(state.oob + 1, 1),
                                      state.oob_mean)
            state.oob = state.oob + far
            state.prewarm, state.keep, state.mode = self.windows(state.counts, state.oob, state.oob_mean)
        state.seen |= busy
        becomes_idle = ~busy & state.seen & np.isnan(state.idle_since)
        state.idle_since = np.where(busy, np.nan, np.where(becomes_idle, now, state.idle_since))
        # Pre-warmed instance: one, from the end of the pre-warm window to the end of the keep-alive.
        idle_for = now - state.idle_since
        warm = (state.prewarm > 0) & (idle_for >= state.prewarm) & (idle_for < state.prewarm + state.keep)
        return warm.astype(np.int64)

    def keep_alive(self, state: _HybridState):
        # With a pre-warm window the instance is unloaded as soon as it is idle.
        return np.where(state.prewarm > 0, 0.0, state.keep)
