"""Rate series: request counts per period, expanded to requests with durations from a chosen distribution.

Two forms:

* :func:`load_counts`: whitespace-separated whole numbers, one per consecutive period
  (1 s by default), plain text or the single member of a ``.tbz2`` / ``.tar.bz2``
  archive. This is the NASA-HTTP 1995 series (5,059,950 seconds, 3,461,610 requests).
* :func:`load_period_counts`: a CSV ``period,count`` where ``period`` is the whole index
  of a ``period``-long interval (60 s by default), or the date-time its interval starts
  (``1998-04-30 21:00:00``, ISO 8601 as in per-request CSVs). Periods missing from the
  file count 0, and time 0 is the smallest period in the file. The length of date-time
  periods is their spacing (60 s for rows a minute apart) when every row follows the
  one before by the same step; with gaps or uneven steps, ``period`` must be given, and
  every row must then start a whole number of periods after the first.

Arrivals follow an :class:`~autoscale.trace.arrivals.ArrivalRule` (uniform within each
period by default); durations are drawn from ``service`` (default
:data:`~autoscale.trace.durations.DEFAULT_SERVICE`), seeded.
"""

from __future__ import annotations

import bz2
import tarfile
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import TraceError
from ._csvio import numbers, read_table, require
from .arrivals import DEFAULT_SEED, ArrivalRule, expand_counts
from .durations import DEFAULT_SERVICE, DurationDistribution, invented
from .sizes import memory_limit
from .trace import Provenance, Trace
from .window import Window, check_scale, cut_requests, narrow_counts

__all__ = ["NASA_ATTRIBUTION", "load_counts", "load_period_counts", "parse_counts"]

NASA_ATTRIBUTION = ("NASA-HTTP logs collected by Jim Dumoulin (KSC), contributed to the Internet Traffic Archive "
                    "by Martin Arlitt and Carey Williamson")
_SPACE = np.array([32, 9, 10, 13, 11, 12], dtype=np.uint8)


def _read_text(path: Path) -> tuple[bytes, str]:
    """The bytes of a plain file, or of the one file inside a bzip2 tar archive, and a name for messages."""
    name = path.name.lower()
    if name.endswith((".tbz2", ".tar.bz2", ".tbz")):
        try:
            with tarfile.open(path, "r:bz2") as tar:
                members = [m for m in tar.getmembers() if m.isfile()]
                if len(members) != 1:
                    raise TraceError(f"{path}: expected exactly one file in the archive, found {len(members)}")
                return tar.extractfile(members[0]).read(), f"{path}:{members[0].name}"
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise TraceError(f"{path}: not a readable bzip2 tar archive ({exc})") from None
    if name.endswith(".bz2"):
        try:
            return bz2.decompress(path.read_bytes()), str(path)
        except (OSError, ValueError, EOFError) as exc:
            raise TraceError(f"{path}: not a readable bzip2 file ({exc})") from None
    return path.read_bytes(), str(path)


def parse_counts(text: bytes, where: str) -> np.ndarray:
    """Whitespace-separated whole numbers >= 0 as an int64 array, vectorised.

    Any other byte (a sign, a decimal point, a letter) raises with its line, column
    and value number, counted from 1.

    Examples
    --------
    >>> parse_counts(b"1 0 3\\n2", "x").tolist()
    [1, 0, 3, 2]
    """
    buf = np.frombuffer(text, dtype=np.uint8)
    digit = (buf >= 48) & (buf <= 57)
    space = np.isin(buf, _SPACE)
    token = ~space
    token_start = token.copy()
    token_start[1:] &= space[:-1]
    bad = np.flatnonzero(~(digit | space))
    if bad.size:
        i = int(bad[0])
        first = int(np.flatnonzero(token_start[: i + 1])[-1])
        rest = np.flatnonzero(space[i:])
        stop = i + int(rest[0]) if rest.size else buf.size
        line = text.count(b"\n", 0, i) + 1
        column = i - (text.rfind(b"\n", 0, i) + 1) + 1
        value_no = int(np.count_nonzero(token_start[:first])) + 1
        shown = text[first:stop].decode("utf-8", errors="replace")
        raise TraceError(f"{where}: line {line}, column {column} (value {value_no}): {shown!r}, "
                         "expected a whole number >= 0")
    starts = np.flatnonzero(token_start)
    if starts.size == 0:
        raise TraceError(f"{where}: line 1: no counts; expected whitespace-separated whole numbers")
    token_stop = token.copy()
    token_stop[:-1] &= space[1:]
    widths = np.flatnonzero(token_stop) - starts + 1
    if widths.max() > 15:
        k = int(np.argmax(widths))
        raise TraceError(f"{where}: value {k + 1} has {widths[k]} digits, expected a count below 10**15")
    n = starts.size
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        counts = np.fromstring(text, dtype=np.int64, sep=" ")
    if counts.size != n:  # pragma: no cover - guarded by the byte check above
        raise TraceError(f"{where}: read {counts.size} of {n} counts")
    return counts


def _finish(counts: np.ndarray, period: float, rule, service, seed, name, provenance, where: str, *,
            start=None, end=None, scale=None, max_memory=None, origin=None) -> Trace:
    """The requests of a count series, from its periods overlapping ``[start, end)``, thinned to ``scale``."""
    rng = np.random.default_rng(seed)
    rule = ArrivalRule.parse(rule)
    window, scale = Window.parse(start, end), check_scale(scale)
    service = DEFAULT_SERVICE if service is None else service
    if not isinstance(service, DurationDistribution):
        raise TypeError(f"service must be a DurationDistribution, not {type(service).__name__}")
    if int(counts.sum()) == 0:
        raise TraceError(f"{provenance.source}: every count is 0; a trace needs at least one request")
    narrowed = narrow_counts(counts[None, :], np.arange(counts.size) * period, period, window=window, scale=scale,
                             seed=seed, where=where, origin=origin, max_memory=max_memory)
    t, _ = expand_counts(narrowed.counts, period, rule, rng)
    t += narrowed.columns[0] * period
    t, _ = cut_requests(t, None, narrowed, where)
    if t.size == 0:
        raise TraceError(f"{where}: the thinned counts hold no request; raise scale")
    d = service.sample(t.size, rng)
    provenance = replace(provenance, notes=(*provenance.notes, f"arrivals {rule.value} within each {period:g} s, "
                                                               f"seed {seed}", *narrowed.notes),
                         durations=invented(service, seed))
    for array in (t, d):
        array.setflags(write=False)
    shifted = None if origin is None else origin + pd.Timedelta(seconds=narrowed.lo)
    return Trace(arrivals=t, durations=d, name=name, provenance=provenance, origin=shifted)


def load_counts(path, *, period: float = 1.0, service: DurationDistribution | None = None, arrivals="uniform",
                seed: int = DEFAULT_SEED, name: str | None = None, start=None, end=None, scale: float | None = None,
                max_memory=None) -> Trace:
    """Requests per consecutive period (1 s by default) from whitespace-separated counts.

    ``start``/``end`` keep the requests arriving in a time window and ``scale`` thins
    them, both before any request is made (:mod:`~autoscale.trace.window`); a series
    whose requests would not fit under ``max_memory`` (:mod:`~autoscale.trace.sizes`) is
    refused, naming the window, the thinning or the day that would.

    Examples
    --------
    >>> from autoscale.trace import traces_dir
    >>> t = load_counts(traces_dir() / "nasa-http-1995" / "workload.tbz2")
    >>> len(t)
    3461610
    """
    path = Path(path)
    if not (np.isfinite(period) and period > 0):
        raise TraceError(f"period = {period}, must be a finite number of seconds > 0")
    Window.parse(start, end), check_scale(scale), memory_limit(max_memory)  # refused before the file is read
    text, where = _read_text(path)
    counts = parse_counts(text, where)
    nasa = "nasa" in str(path).lower()
    provenance = Provenance(
        source=(f"NASA-HTTP 1995 per-second request counts, {path.name}" if nasa else f"counts from {where}")
        + f": {counts.size:,} periods of {period:g} s, {int(counts.sum()):,} requests",
        attribution=NASA_ATTRIBUTION if nasa else "",
        licence="freely redistributable (Internet Traffic Archive)" if nasa else "",
    )
    return _finish(counts, float(period), arrivals, service, seed, name or path.name.split(".")[0], provenance, where,
                   start=start, end=end, scale=scale, max_memory=max_memory)


def _period_length(period, period_seconds) -> float | None:
    """The period length in seconds from ``period`` (seconds or text such as ``"1m"``) or ``period_seconds``."""
    from ..values import parse_seconds
    from ..errors import ConfigError

    if period is not None and period_seconds is not None:
        raise TraceError(f"period = {period!r} and period_seconds = {period_seconds!r}: give one")
    value = period if period is not None else period_seconds
    if value is None:
        return None
    what = "period" if period is not None else "period_seconds"
    try:
        seconds = parse_seconds(value, what) if isinstance(value, str) else float(value)
    except (ConfigError, TypeError, ValueError):
        seconds = float("nan")
    if not (np.isfinite(seconds) and seconds > 0):
        raise TraceError(f"{what} = {value!r}, must be a finite number of seconds > 0 (or a duration such as 1m)")
    return seconds


def _date_periods(frame, where: str, period: float | None) -> tuple[np.ndarray, float, str]:
    """Period indices, the period length, a description and the first date-time, from a column of date-times."""
    from .csvtrace import _parse_times

    t, base = _parse_times(frame, "period", where)  # seconds after the earliest row
    order = np.argsort(t, kind="stable")
    ts = t[order]
    same = np.flatnonzero(ts[1:] == ts[:-1])
    if same.size:
        r = int(max(order[same[0]], order[same[0] + 1]))
        raise TraceError(f"{where}: line {r + 2}, column 1 (period): {frame['period'].iat[r]!r} appears twice")
    start = base.split("t = 0 at ", 1)[1]
    if period is None:
        if ts.size < 2:
            raise TraceError(f"{where}: line 2, column 1 (period): one date-time row, so no spacing to read the "
                             "period length from; give it (period=60, --period 1m)")
        steps = np.diff(ts)
        uneven = np.flatnonzero(np.abs(steps - steps[0]) > 1e-6 * steps[0])
        if uneven.size:
            k = int(uneven[0])
            r, before = int(order[k + 1]), int(order[k])
            raise TraceError(
                f"{where}: line {r + 2}, column 1 (period): {frame['period'].iat[r]!r} is {steps[k]:g} s after "
                f"{frame['period'].iat[before]!r} (line {before + 2}), but the earliest rows are {steps[0]:g} s "
                "apart; the periods are not evenly spaced, so their length cannot be read from them: give it "
                f"(period={steps.min():g}, --period {steps.min():g}s), and missing periods count 0")
        period, how = float(np.round(steps[0], 9)), "read from the spacing of the rows"
    else:
        how = "given"
    index = np.round(t / period)
    off = np.flatnonzero(np.abs(t - index * period) > 1e-6 * period)
    if off.size:
        r = int(off[0])
        raise TraceError(f"{where}: line {r + 2}, column 1 (period): {frame['period'].iat[r]!r} is {t[r]:g} s after "
                         f"the first period ({start}), not a whole number of periods of {period:g} s; give the "
                         "period length the rows are spaced by (period=..., --period)")
    return index.astype(np.int64), period, f"from {start}, period length {how}", pd.Timestamp(start)


def _is_date_column(column) -> bool:
    """Whether a ``period`` column holds date-time text: its first cell is not a number."""
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        return False
    first = column.iat[0]
    return isinstance(first, str) and pd.isna(pd.to_numeric(first.strip(), errors="coerce"))


def load_period_counts(path, *, period: float | str | None = None, period_seconds: float | None = None,
                       service: DurationDistribution | None = None, arrivals="uniform", seed: int = DEFAULT_SEED,
                       name: str | None = None, start=None, end=None, scale: float | None = None,
                       max_memory=None) -> Trace:
    """A ``period,count`` CSV, periods as whole indices or as date-times; periods missing from the file count 0.

    Parameters
    ----------
    path : path
    period : float or str, optional
        The length of a period, in seconds or as a duration such as ``"1m"``
        (``period_seconds`` is the same, in seconds). By default 60 s for whole
        indices, and the spacing of the rows for date-times.
    service, arrivals, seed, name, scale, max_memory
        As for :func:`load_counts`.
    start, end : optional
        As for :func:`load_counts`; for date-time periods also date-times.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "rate.csv"
    >>> _ = p.write_text("period,count\\n3,2\\n5,1\\n")
    >>> t = load_period_counts(p, arrivals="even")
    >>> t.arrivals.tolist()
    [15.0, 45.0, 150.0]
    >>> _ = p.write_text("period,count\\n1998-04-30 21:00:00,1\\n1998-04-30 21:01:00,2\\n")
    >>> load_period_counts(p, arrivals="even").arrivals.tolist()
    [30.0, 75.0, 105.0]
    """
    path = Path(path)
    where = str(path)
    length = _period_length(period, period_seconds)
    Window.parse(start, end), check_scale(scale), memory_limit(max_memory)  # refused before the file is read
    frame = read_table(path, where=where)
    require(frame, ["period", "count"], where)
    if len(frame) == 0:
        raise TraceError(f"{where}: line 2: no rows; expected period,count rows")
    count = numbers(frame, ["count"], where, integer=True, minimum=0)[:, 0].astype(np.int64)
    origin = None
    if _is_date_column(frame["period"]):
        index, period_seconds, described, origin = _date_periods(frame, where, length)
    else:
        period_seconds = 60.0 if length is None else length
        index = numbers(frame, ["period"], where, integer=True, minimum=0)[:, 0].astype(np.int64)
        described = None
    order = np.argsort(index, kind="stable")
    repeated = np.flatnonzero(index[order][1:] == index[order][:-1])
    if repeated.size:
        r = int(max(order[repeated[0]], order[repeated[0] + 1]))
        raise TraceError(f"{where}: line {r + 2}, column 1 (period): {index[r]} appears twice")
    span = int(index.max() - index.min()) + 1
    if span > 100_000_000:
        raise TraceError(f"{where}: periods span {span:,} intervals; expected at most 100,000,000")
    dense = np.zeros(span, dtype=np.int64)
    dense[index - index.min()] = count
    shown = f"{span:,} period(s)" if described is not None else f"periods {index.min()}-{index.max()}"
    provenance = Provenance(
        source=f"per-period counts {path.name}: {shown} of {period_seconds:g} s "
               + (f"{described} " if described is not None else "")
               + f"({span - index.size} missing period(s) counted 0), {int(count.sum()):,} requests",
    )
    return _finish(dense, float(period_seconds), arrivals, service, seed, name or path.stem, provenance, where,
                   start=start, end=end, scale=scale, max_memory=max_memory, origin=origin)
