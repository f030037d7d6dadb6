"""Time windows and thinning: the part of a trace to keep, applied to counts before they become requests.

A window ``[start, end)`` keeps the requests *arriving* in it and moves ``start`` to
time 0, as :meth:`Trace.slice` does. Each end is seconds from the trace's time 0 (a
number, or a duration such as ``90s``, ``5m``, ``24h``), or, for a trace whose times
are date-times (a per-request CSV of ISO timestamps, a ``period,count`` file of dated
periods), a date-time such as ``1998-05-01 00:00:00`` (read as UTC without an offset).
Either end may be left open.

Thinning to a fraction ``F`` keeps each request independently with probability ``F``.
Loaders of counts thin the counts themselves, a binomial draw per period and function
from a stream of their seed of its own, so a thinned trace never holds the full one,
and they keep only the periods that overlap the window before placing any arrival.
A windowed or thinned load therefore draws its own arrivals and durations (with the
same distribution), not the same numbers as cutting the full trace afterwards.

Examples
--------
>>> w = Window.parse("1h", "2h")
>>> w.bounds(None), w.describe()
((3600.0, 7200.0), 'requests arriving in [3600, 7200) s, rebased to 0')
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import TraceError

__all__ = ["THIN_STREAM", "Window", "check_scale", "parse_time", "thin_counts"]

#: The seed stream of thinning, beside a loader's own seed: ``default_rng([seed, THIN_STREAM])``.
THIN_STREAM = 0x7468696E

TIME_SYNTAX = ("seconds from the trace start, a duration such as 90s, 5m or 24h, or a date-time such as "
               "1998-05-01 00:00:00 for a trace of date-times")


def parse_time(value, what: str = "start"):
    """Seconds (float) or a UTC :class:`pandas.Timestamp` from a number, a duration text, a date-time text or object.

    >>> parse_time("5m"), parse_time(90), parse_time("1998-05-01 00:00")
    (300.0, 90.0, Timestamp('1998-05-01 00:00:00+0000', tz='UTC'))
    """
    from ..values import parse_seconds
    from ..errors import ConfigError

    if value is None:
        return None
    if isinstance(value, (pd.Timestamp, datetime.datetime, np.datetime64)):
        return _utc(pd.Timestamp(value))
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = parse_seconds(value, what)
        except ConfigError:
            try:
                return _utc(pd.Timestamp(value.strip()))
            except (ValueError, TypeError):
                raise TraceError(f"{what} = {value!r}, must be {TIME_SYNTAX}") from None
    else:
        raise TypeError(f"{what}: expected seconds, a str or a datetime, got {type(value).__name__}")
    if not (math.isfinite(seconds) and seconds >= 0):
        raise TraceError(f"{what} = {value!r}, must be finite and >= 0 s ({TIME_SYNTAX})")
    return seconds


def _utc(ts: pd.Timestamp) -> pd.Timestamp:
    if pd.isna(ts):
        raise TraceError("a date-time is missing (NaT)")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def check_scale(scale) -> float | None:
    """``scale`` as a fraction in (0, 1], or None for no thinning."""
    if scale is None:
        return None
    try:
        f = float(scale)
    except (TypeError, ValueError):
        f = math.nan
    if isinstance(scale, bool) or not (0 < f <= 1):
        raise TraceError(f"scale = {scale!r}, must be a fraction in (0, 1] (the share of arrivals to keep)")
    return f


def thin_counts(counts: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Each count thinned to ``fraction``: ``Binomial(count, fraction)``, from the thinning stream of ``seed``."""
    rng = np.random.default_rng([int(seed), THIN_STREAM])
    return rng.binomial(np.asarray(counts, dtype=np.int64), fraction)


def thin_mask(n: int, fraction: float, seed: int) -> np.ndarray:
    """Which of ``n`` requests a thinning to ``fraction`` keeps, from the thinning stream of ``seed``."""
    return np.random.default_rng([int(seed), THIN_STREAM]).random(n) < fraction


@dataclass(frozen=True)
class Window:
    """``[start, end)``: each end seconds from time 0, a UTC :class:`pandas.Timestamp`, or None (open)."""

    start: object = None
    end: object = None

    @classmethod
    def parse(cls, start=None, end=None) -> "Window":
        """Read both ends (see :func:`parse_time`); refuse ``end <= start`` when both are of one kind."""
        lo, hi = parse_time(start, "start"), parse_time(end, "end")
        if lo is not None and hi is not None and type(lo) is type(hi) and not hi > lo:
            raise TraceError(f"end = {end!r} is not after start = {start!r}; a window [start, end) needs "
                             "start < end")
        return cls(lo, hi)

    @property
    def open(self) -> bool:
        """Whether the window keeps everything."""
        return self.start is None and self.end is None

    def bounds(self, origin, where: str = "trace") -> tuple[float, float]:
        """``(lo, hi)`` seconds from time 0 (``hi`` may be inf), with date-times read against ``origin``."""
        def seconds(value, what):
            if value is None:
                return None
            if isinstance(value, pd.Timestamp):
                if origin is None:
                    raise TraceError(f"{where}: {what} = {value.isoformat()} is a date-time, but the trace's times "
                                     "are seconds from its start, not date-times; give seconds or a duration "
                                     "(such as 90s or 24h)")
                return (value - origin).total_seconds()
            return float(value)

        lo, hi = seconds(self.start, "start"), seconds(self.end, "end")
        if origin is not None and lo is not None and lo < 0:
            raise TraceError(f"{where}: start = {self.start}, is before the trace's first time "
                             f"({origin.isoformat()})")
        lo = 0.0 if lo is None else lo
        hi = math.inf if hi is None else hi
        if not hi > lo:
            raise TraceError(f"{where}: the window [{self.start}, {self.end}) ends at or before it starts")
        return lo, hi

    def describe(self, lo: float | None = None, hi: float | None = None) -> str:
        """The provenance note of the window."""
        if lo is None:
            lo, hi = self.bounds(None)
        end = "" if math.isinf(hi) else f"{hi:g}"
        return f"requests arriving in [{lo:g}, {end or 'end'}) s" + (", rebased to 0" if lo > 0 else "")

    def periods(self, starts: np.ndarray, period: float, lo: float, hi: float) -> np.ndarray:
        """Mask of the periods ``[s, s + period)`` that overlap ``[lo, hi)``."""
        starts = np.asarray(starts, dtype=np.float64)
        return (starts + period > lo) & (starts < hi)


def cut(times: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Mask of the times in ``[lo, hi)``."""
    return (times >= lo) & (times < hi)


@dataclass(frozen=True)
class Narrowed:
    """The counts a loader expands after windowing and thinning: the kept periods, in order, and the window."""

    counts: np.ndarray  # int [F, K]: the kept periods' counts, thinned
    columns: np.ndarray  # int [K]: which periods of the full series they are
    lo: float
    hi: float
    notes: tuple[str, ...]
    window: Window

    @property
    def requests(self) -> int:
        return int(self.counts.sum())


def narrow_counts(counts: np.ndarray, starts: np.ndarray, period: float, *, window: Window, scale: float | None,
                  seed: int, where: str, origin=None, max_memory=None) -> Narrowed:
    """Keep the periods overlapping ``window``, thin their counts to ``scale``, and refuse what would not fit.

    ``counts`` is ``[functions, periods]``, ``starts`` each period's start (s from time 0).
    The size check counts the requests before any is placed, and its message offers
    the window, the thinning and the day that would fit
    (:func:`autoscale.trace.sizes.window_fixes`).
    """
    from .sizes import Footprint, memory_limit, window_fixes

    counts = np.asarray(counts)
    starts = np.asarray(starts, dtype=np.float64)
    lo, hi = window.bounds(origin, where)
    notes = []
    if window.open:
        columns = np.arange(counts.shape[1])
    else:
        columns = np.flatnonzero(window.periods(starts, period, lo, hi))
        if columns.size == 0:
            span = float(starts.max() + period) if starts.size else 0.0
            raise TraceError(f"{where}: no period overlaps the window [{lo:g}, {hi:g}) s; the trace's periods "
                             f"cover [0, {span:g}) s")
        counts = counts[:, columns]
        notes.append(window.describe(lo, hi))
    if scale is not None and scale < 1:
        counts = thin_counts(counts, scale, seed)
        notes.append(f"counts thinned to {scale:g} of their requests (binomial per period, seed {seed})")
    footprint = Footprint(requests=int(counts.sum()))
    limit = memory_limit(max_memory)
    if footprint.bytes > limit.bytes:
        what = f"{where}: {footprint.requests:,} requests" + ("" if window.open and scale is None else
                                                              " in the window and share asked for")
        footprint.check(what, limit, window_fixes(starts[columns], counts.sum(axis=0), period, footprint, limit,
                                                  first=lo, scale=scale))
    return Narrowed(counts=counts, columns=columns, lo=lo, hi=hi, notes=tuple(notes), window=window)


def cut_requests(times: np.ndarray, function: np.ndarray | None, narrowed: Narrowed, where: str):
    """The arrivals (s from time 0) of the kept periods cut to the window and rebased; function codes alike."""
    if narrowed.window.open:
        return times, function
    keep = cut(times, narrowed.lo, narrowed.hi)
    times = times[keep] - narrowed.lo
    if times.size == 0:
        raise TraceError(f"{where}: no request arrives in [{narrowed.lo:g}, {narrowed.hi:g}) s")
    return times, None if function is None else function[keep]


def narrow_trace(trace, window: Window, scale: float | None, seed: int):
    """``trace`` cut to ``window`` and thinned to ``scale`` (for per-request formats, read whole first)."""
    if not window.open:
        trace = trace.window(window.start, window.end)
    return trace if scale is None else trace.thin(scale, seed)
