"""Metric windows: Knative's 1 s bucketed averages (linear and weighted-exponential) and the max time window.

Every class here is batched: it holds one window per configuration, the batch being
the leading axis of every array, and each configuration may have its own window
length. Time is always an argument, in whole seconds for the bucketed windows (the
bucket granularity is Knative's hard-coded 1 s) and in seconds for the max window.

The rules follow ``pkg/autoscaler/aggregation/bucketing.go`` and
``pkg/autoscaler/aggregation/max/timewindow.go`` (spec §4.3, §4.4 and §5.4).

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

import numpy as np

__all__ = [
    "NEVER",
    "BucketWindows",
    "MaxTimeWindow",
    "round6",
    "weighted_alpha",
]

#: Sentinel for "never written" (a time far before any trace).
NEVER = np.int64(-(2**62))

#: Knative's weighted-average smoothing floor and precision (``1 - 0.9999`` folded exactly).
_WEIGHTED_PRECISION = 1e-4
_WEIGHTED_MIN_ALPHA = 0.2


def round6(x: np.ndarray) -> np.ndarray:
    """Round to 6 decimals, halves away from zero, like Go's ``math.Round(x*1e6)/1e6``.

    Python's ``round`` and ``numpy.round`` round halves to even, so they are not used:
    ``round6(0.0000025)`` is ``0.000003`` here.
    """
    v = np.asarray(x, dtype=np.float64) * 1e6
    whole = np.trunc(v)
    frac = v - whole  # exact for IEEE doubles
    return (whole + np.where(np.abs(frac) >= 0.5, np.sign(v), 0.0)) / 1e6


def weighted_alpha(n_buckets: np.ndarray) -> np.ndarray:
    """Smoothing coefficient of the weighted-exponential window.

    ``alpha = max(1 - 0.0001**(1/n), 0.2)``: a 6-bucket window gives 0.78456, a 40-bucket
    window 0.20567, and windows of 42 buckets or more the floor 0.2.
    """
    n = np.asarray(n_buckets, dtype=np.float64)
    return np.maximum(1.0 - _WEIGHTED_PRECISION ** (1.0 / n), _WEIGHTED_MIN_ALPHA)


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
        self.n = n.astype(np.int64)
        self.batch = self.n.size
        self.slots = np.zeros((self.batch, int(self.n.max())), dtype=np.float64)
        self.total = np.zeros(self.batch, dtype=np.float64)
        self.first_write = np.full(self.batch, NEVER, dtype=np.int64)
        self.last_write = np.full(self.batch, NEVER, dtype=np.int64)
        self._rows = np.arange(self.batch)
        self._wide = bool((self.n > 1).all())  # a 1-slot window resets on every new second
        self._cols = np.arange(self.slots.shape[1])

    # -- writing ---------------------------------------------------------------------

    def record(self, second: int, values: np.ndarray, mask: np.ndarray | None = None) -> None:
        """Add ``values`` to the bucket of ``second`` (whole seconds) where ``mask`` is true.

        Several records in the same second add up, as Knative sums every stat that lands
        in one bucket (one scraper record plus one per activator).
        """
        b = np.int64(second)
        values = np.asarray(values, dtype=np.float64)
        if self._wide and (mask is None or mask.all()) and values.ndim and (self.last_write == b - 1).all():
            # The common case: every window moves on to the next second.
            j = b % self.n
            self.total -= self.slots[self._rows, j]
            self.slots[self._rows, j] = values
            self.total += values
            self.last_write[:] = b
            return
        rows = self._rows if mask is None else np.flatnonzero(mask)
        if rows.size == 0:
            return
        vals = values[rows] if values.ndim else np.full(rows.size, float(values))
        n = self.n[rows]
        lw = self.last_write[rows]
        # A write at or older than lastWrite - W is dropped.
        keep = (b == lw) | (b + n > lw)
        rows, vals, n, lw = rows[keep], vals[keep], n[keep], lw[keep]
        if rows.size == 0:
            return
        fw = self.first_write[rows]
        self.first_write[rows] = np.where((fw == NEVER) | (fw > b), b, fw)
        ahead = b > lw
        if ahead.any():
            adv_rows = rows[ahead]
            gap = b - lw[ahead]
            reset = gap >= n[ahead]
            if reset.any():
                r = adv_rows[reset]
                self.slots[r] = 0.0
                self.total[r] = 0.0
                self.first_write[r] = b
            step = ~reset
            if step.any():
                r = adv_rows[step]
                g = gap[step]
                one = g == 1
                if one.any():
                    # The common case: the next second; clear just its slot.
                    ro = r[one]
                    j = b % self.n[ro]
                    self.total[ro] -= self.slots[ro, j]
                    self.slots[ro, j] = 0.0
                if np.any(~one):
                    # Clear the slots of the skipped seconds lastWrite+1 .. b.
                    rm = r[~one]
                    nm = self.n[rm][:, None]
                    age = (b - self._cols[None, :]) % nm  # seconds back from b to each slot
                    clear = (age < g[~one][:, None]) & (self._cols[None, :] < nm)
                    self.total[rm] -= np.where(clear, self.slots[rm], 0.0).sum(axis=1)
                    self.slots[rm] = np.where(clear, 0.0, self.slots[rm])
            self.last_write[adv_rows] = b
        j = b % n
        self.slots[rows, j] += vals
        self.total[rows] += vals

    # -- reading ---------------------------------------------------------------------

    def is_empty(self, second: int) -> np.ndarray:
        """True where no data was written in the last window: ``second - lastWrite > W``."""
        return (np.int64(second) - self.last_write) > self.n

    def linear_average(self, second: int) -> np.ndarray:
        """Knative's linear window average at ``second``, rounded to 6 decimals.

        The divisor counts the seconds from the first write to the last write only, so
        a partial window is not padded with zeros and the current second, until written,
        is left out rather than averaged in as zero. Holes between writes count as zeros.
        A 60 s window that saw 10 for 30 s and nothing since averages 10, not 5.
        """
        now = np.int64(second)
        d = now - self.last_write
        seen = self.last_write - self.first_write + 1
        out = np.zeros(self.batch, dtype=np.float64)
        cur = d <= 0
        if cur.any():
            out[cur] = self.total[cur] / np.minimum(seen[cur], self.n[cur])
        trail = (d > 0) & (d < self.n)
        if trail.any():
            r = np.flatnonzero(trail)
            nm = self.n[r][:, None]
            lw = self.last_write[r][:, None]
            # Slots of the seconds lastWrite+1 .. now hold values that aged out.
            aged = ((self._cols[None, :] - (lw + 1)) % nm < d[r][:, None]) & (self._cols[None, :] < nm)
            ret = self.total[r] - np.where(aged, self.slots[r], 0.0).sum(axis=1)
            out[r] = ret / np.minimum(seen[r], self.n[r] - d[r])
        return round6(out)

    def weighted_average(self, second: int) -> np.ndarray:
        """Knative's weighted-exponential window average at ``second`` (not normalised).

        Newest bucket first with weight ``alpha``, each older bucket ``(1 - alpha)`` times
        the previous weight; seconds after the last write shift the weights as zeros.
        A single bucket of 10 in a 60 s window gives ``0.2 * 10 = 2``; no rounding.
        """
        now = np.int64(second)
        d = now - self.last_write
        out = np.zeros(self.batch, dtype=np.float64)
        live = d <= self.n
        if not live.any():
            return out
        r = np.flatnonzero(live)
        nm = self.n[r][:, None]
        alpha = weighted_alpha(self.n[r])[:, None]
        z = np.maximum(d[r], 0)[:, None]
        age = (self.last_write[r][:, None] - self._cols[None, :]) % nm  # i: 0 = newest
        use = (age < nm - z) & (self._cols[None, :] < nm)
        weight = alpha * (1.0 - alpha) ** (z + age)
        out[r] = np.where(use, self.slots[r] * weight, 0.0).sum(axis=1)
        return out


class MaxTimeWindow:
    """A batch of Knative's max time windows, used for scale-down delay (spec §5.4).

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
        self._cols = np.arange(width)

    def record(self, now: float, values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Record ``values`` at time ``now`` (seconds) and return the current maxima.

        Rows outside ``mask`` are neither recorded nor meaningful in the return value;
        rows with ``k = 0`` return their input unchanged.
        """
        vals = np.asarray(values, dtype=np.float64)
        out = vals.copy()
        rows = np.flatnonzero(self.k > 0) if mask is None else np.flatnonzero(mask & (self.k > 0))
        if rows.size == 0:
            return out
        idx = np.floor(np.broadcast_to(np.asarray(now, dtype=np.float64), (self.batch,))[rows]
                       / self.granularity).astype(np.int64)
        k = self.k[rows]
        j = idx % k
        same = self.index[rows, j] == idx
        self.values[rows, j] = np.where(same, np.maximum(self.values[rows, j], vals[rows]), vals[rows])
        self.index[rows, j] = idx
        fresh = (self.index[rows] > (idx - k)[:, None]) & (self.index[rows] <= idx[:, None])
        out[rows] = np.where(fresh, self.values[rows], -np.inf).max(axis=1)
        return out
