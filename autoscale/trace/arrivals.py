"""Turning counts per period (per minute, per second) into sorted arrival times, seeded and vectorised.

The rules (:class:`ArrivalRule`):

* ``uniform`` (the default): a period's ``n`` arrivals are independent uniform times
  within it, which is exactly a Poisson process conditioned on its count. They are
  drawn already sorted, as normalised cumulative sums of ``n + 1`` exponential gaps
  (the order statistics of ``n`` uniforms), so no per-period sort is needed. Totals
  equal the counts.
* ``even``: ``n`` arrivals evenly spaced, at ``(i + 0.5) / n`` of the period. Totals
  equal the counts; no randomness.
* ``poisson``: the count is itself redrawn, Poisson with the recorded count as mean,
  then placed as ``uniform``; totals differ from the file's by about their square root.

Multi-function counts are merged into one time order by packing each arrival's time
(in units of 2**-32 s, so arrivals are resolved to 0.23 ns) and its function code into
one int64 and sorting those keys: each function's arrivals are already sorted, so the
stable sort merges ``F`` sorted runs. Nothing loops over requests or periods.
"""

from __future__ import annotations

import enum

import numpy as np

from ..errors import TraceError

__all__ = ["ArrivalRule", "DEFAULT_SEED", "expand_counts"]

#: The seed every loader uses unless told otherwise, so loading a file twice gives the same trace.
DEFAULT_SEED = 0

#: Finest time resolution of packed sort keys: 2**-32 s.
_MAX_FRACTION_BITS = 32


class ArrivalRule(str, enum.Enum):
    """How a period's count becomes arrival times (see the module docstring)."""

    UNIFORM = "uniform"
    EVEN = "even"
    POISSON = "poisson"

    @classmethod
    def parse(cls, value) -> "ArrivalRule":
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(r.value for r in cls)
            raise TraceError(f"arrival rule = {value!r}, must be one of {allowed}") from None


def _cell_offsets(counts: np.ndarray, rule: ArrivalRule, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """For every arrival, its cell (index into ``counts``) and its offset in [0, 1), sorted within the cell."""
    n = int(counts.sum())
    cell = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    if rule is ArrivalRule.EVEN:
        first = np.cumsum(counts) - counts
        offsets = np.arange(n, dtype=np.float64)
        offsets -= first[cell]
        offsets += 0.5
        offsets /= counts[cell]
        return cell, offsets
    # n + 1 exponential gaps per cell; the running sum over the cell's first n gaps,
    # divided by the sum of all n + 1, is the sorted sample of n uniforms.
    csum = rng.standard_exponential(n + counts.size)
    np.cumsum(csum, out=csum)
    last = np.cumsum(counts + 1) - 1          # index of each cell's extra gap
    before = np.concatenate([[0.0], csum[last[:-1]]])
    total = csum[last] - before
    keep = np.ones(csum.size, dtype=bool)
    keep[last] = False
    offsets = csum[keep]
    del csum, keep
    buf = np.empty_like(offsets)
    np.take(before, cell, out=buf)
    offsets -= buf
    np.take(total, cell, out=buf)
    offsets /= buf
    # rounding can reach 1.0 only when the extra gap underflows; keep offsets in [0, 1)
    np.clip(offsets, 0.0, np.nextafter(1.0, 0.0), out=offsets)
    return cell, offsets


def expand_counts(counts: np.ndarray, period: float, rule="uniform", rng: np.random.Generator | None = None,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Arrival times and function codes from a count matrix, sorted by time.

    Parameters
    ----------
    counts : int array [F, M]
        Arrivals of function ``f`` in period ``m``, which covers ``[m * period, (m + 1) * period)`` s.
    period : float
        Seconds per column (60 for per-minute counts).
    rule : ArrivalRule or str
    rng : numpy.random.Generator
        Defaults to one seeded with :data:`DEFAULT_SEED`.

    Returns
    -------
    arrivals : float64 array [N], sorted ascending
    function : int32 array [N], the row of each arrival

    Examples
    --------
    >>> t, f = expand_counts(np.array([[2, 0], [0, 1]]), 60.0, "even")
    >>> t.tolist(), f.tolist()
    ([15.0, 45.0, 90.0], [0, 0, 1])
    """
    rule = ArrivalRule.parse(rule)
    rng = np.random.default_rng(DEFAULT_SEED) if rng is None else rng
    counts = np.asarray(counts)
    if counts.ndim != 2:
        raise TraceError("counts must be a [functions, periods] matrix")
    F, M = counts.shape
    counts = counts.astype(np.int64, copy=False)
    if rule is ArrivalRule.POISSON:
        counts = rng.poisson(counts)
    flat = counts.ravel()                      # function-major: cell = f * M + m
    cells = np.flatnonzero(flat)
    local, times = _cell_offsets(flat[cells], rule, rng)
    cell = cells[local]
    del local
    times += cell % M                          # period index + offset: each function's times ascend
    times *= float(period)
    np.floor_divide(cell, M, out=cell)         # now the function of each arrival
    func = cell
    if F == 1:
        return times, func.astype(np.int32)
    fbits = (F - 1).bit_length()
    tbits = int(np.ceil(np.log2(M * float(period) + 1)))
    frac_bits = min(_MAX_FRACTION_BITS, 62 - fbits - tbits)
    if frac_bits < 16:                         # very long or very wide: fall back to an argsort
        order = np.argsort(times, kind="stable")
        return times[order], func[order].astype(np.int32)
    scale = float(2 ** frac_bits)
    times *= scale
    np.floor(times, out=times)
    keys = times.astype(np.int64)              # key = time << fbits | function
    keys <<= fbits
    keys |= func
    del func
    keys.sort(kind="stable")                   # merges F sorted runs
    func = (keys & ((1 << fbits) - 1)).astype(np.int32)
    keys >>= fbits
    np.multiply(keys, 1.0 / scale, out=times)  # exact: a power-of-two scale
    return times, func
