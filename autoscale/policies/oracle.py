"""The oracle: reads the trace's future and has just enough pods ready just in time."""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError
from .base import Policy

__all__ = ["Oracle", "peak_concurrency_per_second"]


def peak_concurrency_per_second(arrivals: np.ndarray, durations: np.ndarray, seconds: int) -> np.ndarray:
    """Highest number of requests in service at any instant of each second ``[s, s + 1)``.

    Requests are taken as served on arrival for their duration, each occupying
    ``[arrival, arrival + duration)``; an end and an arrival at the same instant do not
    overlap.

    >>> peak_concurrency_per_second(np.array([0.0, 0.5, 1.2]), np.array([1.0, 1.0, 0.1]), 3).tolist()
    [2, 2, 0]
    """
    ends = arrivals + durations
    times = np.concatenate([ends, arrivals])
    steps = np.concatenate([-np.ones(ends.size, dtype=np.int64), np.ones(arrivals.size, dtype=np.int64)])
    order = np.lexsort((steps, times))  # at equal times the ends (-1) come first
    times, level = times[order], np.cumsum(steps[order])
    peak = np.zeros(seconds, dtype=np.int64)
    if times.size == 0:
        return peak
    # The level at an instant is the one after all its events (several ends at one
    # instant pass through higher levels that never hold).
    settled = np.append(times[1:] != times[:-1], True)
    times, level = times[settled], level[settled]
    sec = np.floor(times).astype(np.int64)
    inside = (sec >= 0) & (sec < seconds)
    np.maximum.at(peak, sec[inside], level[inside])
    # The level at each second's first instant: after every event at or before it.
    first = np.searchsorted(times, np.arange(seconds, dtype=np.float64), side="right")
    carried = np.where(first > 0, level[np.maximum(first - 1, 0)], 0)
    return np.maximum(peak, carried)


class Oracle(Policy):
    """Just enough pods, ready just in time, from the trace's future: the cost floor with no cold-start delay.

    The exact rule: with ``peak[s]`` the highest number of requests in service during
    second ``s`` if every request were served on arrival
    (:func:`peak_concurrency_per_second`), and ``c`` the requests a pod runs at once
    (containerConcurrency; the KPA target when CC is 0), second ``s`` needs
    ``need[s] = ceil(peak[s] / c)`` pods. Pods asked for at second ``t`` are created at
    ``t`` and ready by ``t + L``, where ``L`` is the cold start's upper bound (the
    constant, the largest empirical sample, or the ``lead_quantile`` quantile of a
    lognormal, rounded up to whole seconds). So the oracle wants, at each second ``t``,
    ``max(need[t .. t + L + 1])`` pods: every second is covered by pods asked for at
    least ``L`` seconds before it, and no pod lives longer than the seconds that need it
    plus its own start. Requests go through the activator, which places each on a pod
    with a free slot.

    This is a lower bound on pod-seconds among policies without cold-start delay at one-second
    resolution; with a lognormal cold start, one pod start in ``1 / (1 - lead_quantile)``
    may still be late.
    """

    name = "oracle"
    period = 1
    routing = "activator"

    def __init__(self, lead_quantile: float = 0.999) -> None:
        if not (0.5 <= lead_quantile < 1):
            raise ConfigError(f"oracle: lead_quantile = {lead_quantile!r}, must be in [0.5, 1)")
        self.lead_quantile = float(lead_quantile)

    def params(self) -> dict:
        return {"lead_quantile": self.lead_quantile}

    def lead(self, cold_start) -> int:
        """Whole seconds from asking for a pod to its being ready, at the latest."""
        if cold_start.kind == "lognormal":
            bound = cold_start.quantile(self.lead_quantile)
        else:
            bound = cold_start.quantile(1.0)
        return int(math.ceil(bound))

    def start(self, ctx):
        seconds = ctx.duration + 1
        traces = ctx.row_traces if ctx.row_traces is not None else [ctx.trace]
        peak = np.stack([peak_concurrency_per_second(np.asarray(t.arrivals, dtype=np.float64),
                                                     np.asarray(t.durations, dtype=np.float64), seconds)
                         for t in traces])  # (1 or B, seconds)
        need = np.ceil(peak / ctx.capacity[:, None]).astype(np.int64)  # (B, seconds)
        horizon = self.lead(ctx.platform.cold_start) + 2
        # Running maximum over the next ``horizon`` seconds (a sliding window, via padding).
        padded = np.concatenate([need, np.zeros((need.shape[0], horizon), dtype=np.int64)], axis=1)
        windows = np.lib.stride_tricks.sliding_window_view(padded, horizon, axis=1)[:, :seconds]
        return windows.max(axis=2)

    def decide(self, wanted, signals):
        t = int(round(float(np.max(signals.now))))
        return wanted[:, min(t, wanted.shape[1] - 1)].copy()
