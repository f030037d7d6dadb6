"""Metric windows: Knative's 1 s bucketed averages (linear and weighted-exponential) and the max time window.

The rules are compiled functions of one window (``window_record``, ``window_linear``,
``window_weighted``, ``max_window_record``): the replay loop of :mod:`autoscale.loop` calls
them for its configuration, and the classes here, which hold one window per
configuration of a batch (the batch being the leading axis of every array, each
configuration with its own window length), call them row by row. Time is always an
argument, in whole seconds for the bucketed windows (the bucket granularity is Knative's
hard-coded 1 s) and in seconds for the max window.

The rules follow ``pkg/autoscaler/aggregation/bucketing.go`` and
``pkg/autoscaler/aggregation/max/timewindow.go`` (``Record`` and ``WindowAverage`` of
``TimedFloat64Buckets`` and ``WeightedFloat64Buckets``; ``TimeWindow.Record``), with the
additions and subtractions in the same order.

Examples
--------
A 6 s linear window that saw 4 and then 6 averages only the seconds it has seen
(a partial window is not padded with zeros):

>>> import numpy as np
>>> w = BucketWindows(np.array([6]))
>>> w.record(100, np.array([4.0]))
>>> w.record(101, np.array([6.0]))
>>> w.linear_average(101)
array([5.])

A hole between two writes counts as a zero:

>>> w.record(103, np.array([2.0]))
>>> w.linear_average(103)
array([3.])
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ._numba import JIT, LEAF

__all__ = [
    "NEVER",
    "BucketWindows",
    "MaxTimeWindow",
    "round6",
    "round_digits",
    "weighted_alpha",
    "window_record",
    "window_linear",
    "window_weighted",
    "window_empty",
    "max_window_record",
]

#: Sentinel for "never written" (a time far before any trace).
NEVER = np.int64(-(2**62))
_NEVER = -(2**62)

#: Knative's weighted-average smoothing floor and precision (``1 - 0.9999`` folded exactly).
_WEIGHTED_PRECISION = 1e-4
_WEIGHTED_MIN_ALPHA = 0.2

# A bucketed window's integer state: meta[W_N] slots, first and last write (whole seconds).
W_N, W_FIRST, W_LAST = 0, 1, 2


@nb.njit(**LEAF)
def round_digits(x, digits):
    """``x`` rounded to ``digits`` decimals, halves away from zero (Go's ``math.Round(x*p)/p``, p = 10**digits).

    ``bucketing.go`` ``roundToNDigits``; Knative rounds its window averages to 6 digits.
    """
    p = 10.0 ** digits  # exact for 0 <= digits <= 22, as Go's math.Pow10 table
    v = x * p
    whole = math.trunc(v)
    frac = v - whole  # exact for IEEE doubles
    if abs(frac) >= 0.5:
        whole += 1.0 if v > 0 else -1.0
    return whole / p


@nb.njit(**LEAF)
def round6_one(x):
    """``x`` rounded to 6 decimals, halves away from zero (Go's ``math.Round(x*1e6)/1e6``)."""
    return round_digits(x, 6)


@nb.njit(**LEAF)
def _round_all(x, digits, out):
    for i in range(x.size):
        out[i] = round_digits(x[i], digits)


def round6(x: np.ndarray, digits: int = 6) -> np.ndarray:
    """Round to ``digits`` decimals (6 by default, Knative's), halves away from zero, like Go's ``math.Round(x*p)/p``.

    Python's ``round`` and ``numpy.round`` round halves to even, so they are not used:
    ``round6(0.0000025)`` is ``0.000003`` here.
    """
    if not 0 <= int(digits) <= 22:
        raise ValueError(f"digits: {digits} is outside 0..22 (powers of ten exact in a double)")
    x = np.asarray(x, dtype=np.float64)
    out = np.empty(x.size)
    _round_all(np.ascontiguousarray(x).ravel(), int(digits), out)
    return out.reshape(x.shape)


@nb.njit(**LEAF)
def alpha_one(n):
    a = 1.0 - _WEIGHTED_PRECISION ** (1.0 / n)
    return a if a > _WEIGHTED_MIN_ALPHA else _WEIGHTED_MIN_ALPHA


@nb.njit(**LEAF)
def _alpha_all(n, out):
    for i in range(n.size):
        out[i] = alpha_one(n[i])


def weighted_alpha(n_buckets: np.ndarray) -> np.ndarray:
    """Smoothing coefficient of the weighted-exponential window.

    ``alpha = max(1 - 0.0001**(1/n), 0.2)``: a 6-bucket window gives 0.78456, a 40-bucket
    window 0.20567, and windows of 42 buckets or more the floor 0.2.
    """
    n = np.asarray(n_buckets, dtype=np.float64)
    out = np.empty(n.size)
    _alpha_all(np.ascontiguousarray(n).ravel(), out)
    return out.reshape(n.shape)


# -- the rules, for one window ----------------------------------------------------------------
# A window is ``slots`` (float64, at least n long), ``meta`` (int64: n, first write, last
# write) and ``total`` (float64, one element: the running sum of the slots).


@nb.njit(**LEAF)
def window_record(slots, meta, total, second, value):
    """Add ``value`` to the bucket of ``second``, Knative's ``TimedFloat64Buckets.Record``.

    A write at or before ``lastWrite - W`` is dropped. Moving on to a later second clears
    the buckets in between one by one, oldest first, each subtracted from the total; a gap
    of a whole window or more resets the window.
    """
    n = meta[W_N]
    last = meta[W_LAST]
    if second != last and not (second + n > last):
        return
    if meta[W_FIRST] == _NEVER or meta[W_FIRST] > second:
        meta[W_FIRST] = second
    if second > last:
        if second - last >= n:
            for j in range(n):
                slots[j] = 0.0
            total[0] = 0.0
            meta[W_FIRST] = second
        else:
            for i in range(last + 1, second + 1):
                j = i % n
                total[0] -= slots[j]
                slots[j] = 0.0
        meta[W_LAST] = second
    j = second % n
    slots[j] += value
    total[0] += value


@nb.njit(**LEAF)
def window_empty(meta, second):
    """No write in the last window: ``second - lastWrite > W``."""
    return second - meta[W_LAST] > meta[W_N]


@nb.njit(**LEAF)
def window_linear(slots, meta, total, second):
    """Knative's linear window average at ``second`` (``TimedFloat64Buckets.WindowAverage``), rounded to 6 decimals.

    The divisor counts the seconds from the first write to the last write only, so a
    partial window is not padded with zeros and the current second, until written, is
    left out rather than averaged in as zero. Holes between writes count as zeros. Seconds
    since the last write take their buckets out of the total one by one.
    """
    n = meta[W_N]
    last = meta[W_LAST]
    d = second - last
    seen = last - meta[W_FIRST] + 1
    if d <= 0:
        return round6_one(total[0] / min(seen, n))
    if d < n:
        ret = total[0]
        for i in range(last + 1, second + 1):
            ret -= slots[i % n]
        return round6_one(ret / min(seen, n - d))
    return 0.0


@nb.njit(**LEAF)
def window_weighted(slots, meta, second):
    """Knative's weighted-exponential average at ``second`` (``WeightedFloat64Buckets.WindowAverage``).

    Newest bucket first with weight ``alpha``, each older bucket ``(1 - alpha)`` times the
    previous weight; seconds after the last write shift the weights as zeros. Not
    normalised and not rounded: a single bucket of 10 in a 60 s window gives 0.2 x 10 = 2.
    """
    n = meta[W_N]
    last = meta[W_LAST]
    d = second - last
    if d > n:
        return 0.0
    alpha = alpha_one(float(n))
    multiplier = alpha
    buckets = n
    if d > 0:
        multiplier *= (1.0 - alpha) ** d
        buckets -= d
    ret = 0.0
    for i in range(buckets):
        ret += slots[(last - i) % n] * multiplier
        multiplier *= 1.0 - alpha
    return ret


@nb.njit(**LEAF)
def max_window_record(values, index, k, now, value, granularity):
    """Record ``value`` at ``now`` in a max time window of ``k`` slots and return its maximum.

    Knative's ``max.TimeWindow``: slots of ``granularity`` seconds, two records in one slot
    keep the larger, and the maximum is over the slots of the last ``k`` slot times.
    ``k = 0`` returns ``value``.
    """
    if k == 0:
        return value
    idx = int(math.floor(now / granularity))
    j = idx % k
    if index[j] == idx:
        if value > values[j]:
            values[j] = value
    else:
        values[j] = value
    index[j] = idx
    best = -np.inf
    for c in range(k):
        if index[c] > idx - k and index[c] <= idx and values[c] > best:
            best = values[c]
    return best


# -- batches of windows -------------------------------------------------------------------------


@nb.njit(**JIT)
def _batch_record(slots, meta, total, second, values, mask):
    for b in range(meta.shape[0]):
        if mask[b]:
            window_record(slots[b], meta[b], total[b:b + 1], second, values[b])


@nb.njit(**JIT)
def _batch_linear(slots, meta, total, second, out):
    for b in range(meta.shape[0]):
        out[b] = window_linear(slots[b], meta[b], total[b:b + 1], second)


@nb.njit(**JIT)
def _batch_weighted(slots, meta, second, out):
    for b in range(meta.shape[0]):
        out[b] = window_weighted(slots[b], meta[b], second)


@nb.njit(**JIT)
def _batch_max_record(values, index, k, now, value, mask, granularity, out):
    for b in range(k.shape[0]):
        out[b] = value[b]
        if mask[b] and k[b] > 0:
            out[b] = max_window_record(values[b], index[b], k[b], now[b], value[b], granularity)


class BucketWindows:
    """A batch of 1 s bucketed windows (Knative's ``TimedFloat64Buckets``).

    One ring of ``n`` one-second slots per configuration, where ``n`` is that
    configuration's window length in seconds. The same ring answers the linear average
    (:meth:`linear_average`) and the weighted-exponential one (:meth:`weighted_average`),
    exactly as Knative's two bucket types share their ``record``.

    Parameters
    ----------
    window_seconds : array of int, shape (B,)
        Window length per configuration, whole seconds, at least 1.
    """

    def __init__(self, window_seconds: np.ndarray) -> None:
        n = np.asarray(window_seconds)
        if n.ndim != 1 or n.size == 0:
            raise ValueError("window_seconds must be a non-empty 1-D array")
        if not np.all(n == np.floor(n)) or np.any(n < 1):
            raise ValueError(f"window lengths must be whole seconds >= 1, got {n}")
        self.batch = n.size
        self.slots = np.zeros((self.batch, int(n.max())), dtype=np.float64)
        self.meta = np.empty((self.batch, 3), dtype=np.int64)
        self.meta[:, W_N] = n.astype(np.int64)
        self.meta[:, W_FIRST] = NEVER
        self.meta[:, W_LAST] = NEVER
        self.total = np.zeros(self.batch, dtype=np.float64)
        self._all = np.ones(self.batch, dtype=np.bool_)

    @property
    def n(self) -> np.ndarray:
        return self.meta[:, W_N]

    @property
    def first_write(self) -> np.ndarray:
        return self.meta[:, W_FIRST]

    @property
    def last_write(self) -> np.ndarray:
        return self.meta[:, W_LAST]

    def record(self, second: int, values: np.ndarray, mask: np.ndarray | None = None) -> None:
        """Add ``values`` to the bucket of ``second`` (whole seconds) where ``mask`` is true.

        Several records in the same second add up, as Knative sums every stat that lands
        in one bucket (one scraper record plus one per activator).
        """
        values = np.ascontiguousarray(np.broadcast_to(np.asarray(values, dtype=np.float64), (self.batch,)))
        mask = self._all if mask is None else np.ascontiguousarray(mask, dtype=np.bool_)
        _batch_record(self.slots, self.meta, self.total, int(second), values, mask)

    def is_empty(self, second: int) -> np.ndarray:
        """True where no data was written in the last window: ``second - lastWrite > W``."""
        return (np.int64(second) - self.last_write) > self.n

    def linear_average(self, second: int) -> np.ndarray:
        """Knative's linear window average at ``second``, rounded to 6 decimals (:func:`window_linear`).

        A 60 s window that saw 10 for 30 s and nothing since averages 10, not 5.
        """
        out = np.empty(self.batch)
        _batch_linear(self.slots, self.meta, self.total, int(second), out)
        return out

    def weighted_average(self, second: int) -> np.ndarray:
        """Knative's weighted-exponential window average at ``second``, not normalised (:func:`window_weighted`)."""
        out = np.empty(self.batch)
        _batch_weighted(self.slots, self.meta, int(second), out)
        return out


class MaxTimeWindow:
    """A batch of Knative's max time windows, used for scale-down delay (:func:`max_window_record`).

    Each configuration keeps the maximum of the values recorded over its last ``k``
    slots of 2 s, ``k = ceil(delay / 2 s)``; two records in one slot keep the larger.
    With a 300 s delay a decision of 4 at t = 2 s is returned until t = 302 s.
    A configuration with no delay (``k = 0``) returns what it was just given.

    Parameters
    ----------
    delay_seconds : array of float, shape (B,)
        Scale-down delay per configuration, whole seconds, ``>= 0``.
    granularity : float
        Slot length in seconds; Knative uses the 2 s decider tick.
    """

    def __init__(self, delay_seconds: np.ndarray, granularity: float = 2.0) -> None:
        delay = np.asarray(delay_seconds, dtype=np.float64)
        self.granularity = float(granularity)
        self.k = np.ceil(delay / self.granularity).astype(np.int64)
        self.batch = self.k.size
        width = max(int(self.k.max(initial=0)), 1)
        self.values = np.full((self.batch, width), -np.inf)
        self.index = np.full((self.batch, width), NEVER, dtype=np.int64)

    def record(self, now: float, values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Record ``values`` at time ``now`` (seconds) and return the current maxima.

        Rows outside ``mask`` are neither recorded nor meaningful in the return value;
        rows with ``k = 0`` return their input unchanged.
        """
        b = self.batch
        vals = np.ascontiguousarray(np.broadcast_to(np.asarray(values, dtype=np.float64), (b,)))
        now = np.ascontiguousarray(np.broadcast_to(np.asarray(now, dtype=np.float64), (b,)))
        mask = np.ones(b, dtype=np.bool_) if mask is None else np.ascontiguousarray(mask, dtype=np.bool_)
        out = np.empty(b)
        _batch_max_record(self.values, self.index, self.k, now, vals, mask, self.granularity, out)
        return out
