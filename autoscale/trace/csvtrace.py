"""Any per-request CSV: one request per row, with a named timestamp column and an optional duration column.

Timestamps are either numbers in ``time_unit`` (epoch seconds, or any seconds, by
default) or date-time text such as ``2024-03-01 12:00:00.1234567`` or
``2024-03-01T12:00:00.5+01:00`` (ISO 8601, up to 9 fractional digits; text without a
zone is UTC, and a column either gives every row an offset or none); the first row
decides which. The earliest timestamp becomes time 0 and its value is recorded in the
provenance (and as the trace's :attr:`~Trace.origin` for date-times). Durations are in
``duration_unit`` (seconds by default) and must be > 0; they come from a duration
column, from an expression of other columns (``duration_from``, such as
``0.02 + 0.015 * GeneratedTokens`` for a trace of token counts), or without either are
drawn from ``service``; the provenance says which. Rows need not be sorted; they are
sorted by arrival (stably). ``start``/``end`` keep a time window and ``scale`` thins the
requests (:mod:`~autoscale.trace.window`).

Units are never guessed. Without ``time_unit``, numbers of 1e11 or more (epoch
milliseconds are about 1.7e12, epoch seconds 1.7e9) are refused as seconds; without a
unit, a column whose name ends in another unit (``latency_ms``, ``took_us``,
``durationMs``, ``ts (ms)``) is refused too. Giving the unit (``s``, ``ms`` or ``us``)
reads the values in it.

Without ``time_column``, the columns written by :meth:`Trace.to_csv` are used:
``arrival_s``, ``duration_s`` and, if present, ``function`` and ``app``. Those times are
already relative, so they are kept as written (no shift), and the round trip is exact.
"""

from __future__ import annotations

from pathlib import Path

import re

import numpy as np
import pandas as pd

from ..errors import TraceError
from ._csvio import cell, count_lines, numbers, read_table, require, require_in_header, text_column
from .arrivals import DEFAULT_SEED
from .durations import DEFAULT_SERVICE, DurationDistribution, invented
from .expression import Expression
from .sizes import CSV_BYTES_PER_FILE_BYTE, Footprint, format_bytes, memory_limit
from .trace import Provenance, Trace
from .window import Window, check_scale, narrow_trace

__all__ = ["DURATION_UNITS", "TIME_UNITS", "load_csv", "save_csv"]

#: Seconds per unit of the duration column.
DURATION_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6}
#: Seconds per unit of a numeric timestamp column.
TIME_UNITS = DURATION_UNITS
#: Units per second: values are divided by it, which rounds correctly (200 us -> 0.0002 s).
_PER_SECOND = {"s": 1, "ms": 1e3, "us": 1e6}

#: Numbers read as seconds from this magnitude up are refused without a time unit: 1e11 s
#: is the year 5138, while epoch milliseconds today are about 1.7e12.
_LARGEST_SECONDS = 1e11

_UNIT_WORDS = {
    "ms": "milliseconds", "msec": "milliseconds", "msecs": "milliseconds", "millis": "milliseconds",
    "millisecond": "milliseconds", "milliseconds": "milliseconds",
    "us": "microseconds", "\u00b5s": "microseconds", "usec": "microseconds", "usecs": "microseconds",
    "micros": "microseconds", "microsecond": "microseconds", "microseconds": "microseconds",
    "ns": "nanoseconds", "nsec": "nanoseconds", "nanos": "nanoseconds", "nanosecond": "nanoseconds",
    "nanoseconds": "nanoseconds",
}
_UNIT_OF_WORD = {"milliseconds": "ms", "microseconds": "us"}
_SUFFIX = re.compile(r"(?:^|[^a-z])(" + "|".join(sorted(_UNIT_WORDS, key=len, reverse=True)) + r")[)\]\s]*$")
_CAMEL_SUFFIX = re.compile(r"[a-z0-9](Ms|Msec|Millis|Us|Usec|Micros|Ns|Nanos)$")

#: A time of day followed by a zone: ``Z``, ``+01:00``, ``-0500``, ``+01``.
_OFFSET = r"\d:\d{2}(?::\d{2}(?:[.,]\d*)?)?\s*(?:[Zz]|UTC|[+-]\d{2}(?::?\d{2})?)$"


def _check_unit(value: str | None, what: str) -> None:
    if value is not None and value not in DURATION_UNITS:
        raise TraceError(f"{what} = {value!r}, must be one of {', '.join(DURATION_UNITS)}")


def _named_unit(column: str) -> str | None:
    """The unit a column name ends in (``latency_ms`` -> ``milliseconds``), if not seconds."""
    m = _SUFFIX.search(column.strip().lower())
    if m:
        return _UNIT_WORDS[m.group(1)]
    m = _CAMEL_SUFFIX.search(column.strip())
    return _UNIT_WORDS[m.group(1).lower()] if m else None


def _unit_fix(unit_word: str, parameter: str) -> str:
    """How to read a column in ``unit_word``: the parameter and option, or a conversion."""
    option = "--" + parameter.replace("_", "-")
    unit = _UNIT_OF_WORD.get(unit_word)
    if unit is None:
        return f"convert the column to one of {', '.join(DURATION_UNITS)} and give {parameter}= ({option})"
    return (f"give {parameter}={unit!r} ({option} {unit}), or {parameter}='s' if the values are seconds; "
            f"units: {', '.join(DURATION_UNITS)}")


def _refuse_named_unit(frame: pd.DataFrame, column: str, parameter: str, what: str, where: str) -> None:
    word = _named_unit(column)
    if word is not None:
        raise TraceError(f"{where}: line 1, column {frame.columns.get_loc(column) + 1} ({column}): the name says "
                         f"{word}, but {what} are read as seconds without a unit; {_unit_fix(word, parameter)}")


def _epoch_seconds_check(frame: pd.DataFrame, values: np.ndarray, column: str, where: str) -> None:
    """Refuse numbers too large to be seconds (epoch milliseconds or microseconds read as seconds)."""
    big = np.abs(values)
    over = np.flatnonzero(big >= _LARGEST_SECONDS)
    if not over.size:
        return
    r = int(over[0])
    word = "milliseconds" if big[r] < 1e14 else "microseconds" if big[r] < 1e17 else "nanoseconds"
    years = big[r] / (365.25 * 86400)
    shown = frame[column].astype(str).iat[r]
    raise TraceError(f"{cell(frame, r, column, where)}: {shown} read as seconds is {years:,.0f} years after 1970; "
                     f"it looks like epoch {word}: {_unit_fix(word, 'time_unit')}")


def _seconds(frame: pd.DataFrame, values: np.ndarray, column: str, unit: str | None,
             where: str) -> tuple[np.ndarray, str]:
    if unit is None:
        _epoch_seconds_check(frame, values, column, where)
        return values, "seconds"
    return values / _PER_SECOND[unit], "seconds" if unit == "s" else unit


def _parse_times(frame: pd.DataFrame, column: str, where: str,
                 unit: str | None = None) -> tuple[np.ndarray, str]:
    """Seconds from the column (numbers in ``unit``, or ISO 8601 text) and a description of the time base."""
    raw = frame[column]
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        return _seconds(frame, numbers(frame, [column], where)[:, 0], column, unit, where)
    text = raw.astype("string").str.strip()
    if text.isna().any():
        r = int(np.flatnonzero(text.isna().to_numpy())[0])
        raise TraceError(f"{cell(frame, r, column, where)}: empty, expected a timestamp")
    as_number = pd.to_numeric(text, errors="coerce")
    if pd.notna(as_number.iat[0]):  # the first row decides: numbers, or date-time text
        bad = as_number.isna().to_numpy()
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise TraceError(f"{cell(frame, r, column, where)}: {text.iat[r]!r}, expected a number of seconds "
                             "like the first row's")
        values = numbers(frame.assign(**{column: as_number}), [column], where)[:, 0]
        return _seconds(frame, values, column, unit, where)
    if unit is not None:
        raise TraceError(f"{cell(frame, 0, column, where)}: {text.iat[0]!r} is a date-time, and time_unit = "
                         f"{unit!r} applies to numeric timestamps only; omit it (--time-unit)")
    zoned = text.str.contains(_OFFSET, regex=True).to_numpy(dtype=bool)
    if zoned.any() and not zoned.all():
        r = int(np.flatnonzero(zoned != zoned[0])[0])
        has = "has a UTC offset" if zoned[r] else "has no UTC offset"
        first = "has one" if zoned[0] else "has none"
        raise TraceError(f"{cell(frame, r, column, where)}: {text.iat[r]!r} {has}, but line 2 ({text.iat[0]!r}) "
                         f"{first}; naive times read as UTC would be shifted against the others: give every "
                         "timestamp an offset (such as +01:00 or Z), or none")
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
    bad = parsed.isna().to_numpy()
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise TraceError(f"{cell(frame, r, column, where)}: {text.iat[r]!r}, expected epoch seconds or an ISO 8601 "
                         "date-time like 2024-03-01 12:00:00.1234567")
    ns = parsed.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    origin = ns.min()
    return (ns - origin) / 1e9, f"date-times, t = 0 at {pd.Timestamp(origin, tz='UTC').isoformat()}"


def load_csv(path, *, time_column: str | None = None, duration_column: str | None = None,
             time_unit: str | None = None, duration_unit: str | None = None, function_column: str | None = None,
             app_column: str | None = None, service: DurationDistribution | None = None, seed: int = DEFAULT_SEED,
             name: str | None = None, duration_from: str | Expression | None = None, start=None, end=None,
             scale: float | None = None, max_memory=None) -> Trace:
    """Requests from a per-request CSV (see the module docstring for the rules).

    Parameters
    ----------
    path : path
    time_column, duration_column : str, optional
        The timestamp and duration columns (by default those of :meth:`Trace.to_csv`).
    time_unit, duration_unit : {"s", "ms", "us"}, optional
        The unit of numeric timestamps and of durations. Without one the values are
        seconds, and a unit-suffixed column name or epoch-millisecond magnitudes are
        refused rather than misread.
    function_column, app_column : str, optional
    service : DurationDistribution, optional
        Where durations are drawn from without a duration column.
    seed : int
    name : str, optional
    duration_from : str, optional
        Durations from other columns: an arithmetic expression of column names
        (:mod:`~autoscale.trace.expression`), such as ``"0.02 + 0.015 * GeneratedTokens"``,
        in seconds (or in ``duration_unit``). Every result must be finite and > 0.
    start, end : optional
        Keep the requests arriving in ``[start, end)``, rebased to 0 (seconds, a
        duration such as ``"24h"``, or a date-time for date-time timestamps); see
        :mod:`~autoscale.trace.window`.
    scale : float, optional
        Keep each request with this probability, in (0, 1] (seeded by ``seed``).
    max_memory : int or str, optional
        The memory limit (:mod:`~autoscale.trace.sizes`): a file whose reading would
        need more is refused before it is read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
    >>> _ = p.write_text("ts,ms\\n2024-03-01 12:00:01.5,200\\n2024-03-01 12:00:00,100\\n")
    >>> t = load_csv(p, time_column="ts", duration_column="ms", duration_unit="ms")
    >>> t.arrivals.tolist(), t.durations.tolist()
    ([0.0, 1.5], [0.1, 0.2])
    """
    path = Path(path)
    where = str(path)
    _check_unit(time_unit, "time_unit")
    _check_unit(duration_unit, "duration_unit")
    window = Window.parse(start, end)
    scale = check_scale(scale)
    own_format = time_column is None
    if own_format and time_unit is not None:
        raise TraceError(f"{where}: time_unit = {time_unit!r} needs time_column (--time-column): the arrival_s "
                         "column of a saved trace is in seconds")
    expression = None
    if duration_from is not None:
        if duration_column is not None:
            raise TraceError(f"{where}: duration_column = {duration_column!r} and duration_from = "
                             f"{str(duration_from)!r}: give one (--duration-column or --duration-from)")
        expression = duration_from if isinstance(duration_from, Expression) else Expression.parse(duration_from)
    named = {c: p for c, p in ((time_column, "time_column"), (duration_column, "duration_column"),
                               (function_column, "function_column"), (app_column, "app_column")) if c}
    named.update({c: "duration_from" for c in (expression.columns if expression is not None else ())})
    require_in_header(path, named, where)
    _check_file_size(path, where, max_memory)
    text_columns = [c for c in (function_column, app_column, "function", "app") if c]
    frame = read_table(path, dtype={c: str for c in text_columns}, where=where)
    if own_format:
        time_column = "arrival_s"
        if duration_column is None and expression is None and "duration_s" in frame.columns:
            duration_column = "duration_s"
        if function_column is None and "function" in frame.columns:
            function_column = "function"
        if app_column is None and "app" in frame.columns:
            app_column = "app"
        if "arrival_s" not in frame.columns:
            raise TraceError(f"{where}: line 1: no arrival_s column; name the timestamp column "
                             "(time_column=..., or --time-column on the command line)")
    require(frame, [c for c in (time_column, duration_column, function_column, app_column) if c], where)
    if len(frame) == 0:
        raise TraceError(f"{where}: line 2: no rows; a trace needs at least one request")
    origin = None
    if own_format:
        t = numbers(frame, [time_column], where, minimum=0)[:, 0]
        base = "seconds from the trace start, as written"
    else:
        if time_unit is None:
            _refuse_named_unit(frame, time_column, "time_unit", "timestamps", where)
        t, base = _parse_times(frame, time_column, where, time_unit)
        first = t.min()
        t = t - first
        if base == "seconds":
            base = f"seconds, t = 0 at {float(first)!r}"
        elif base in TIME_UNITS:
            base = f"{base}, t = 0 at {float(first)!r} s"
        elif "t = 0 at " in base:
            origin = pd.Timestamp(base.split("t = 0 at ", 1)[1])
    rng = np.random.default_rng(seed)
    if duration_column is not None:
        if duration_unit is None:
            _refuse_named_unit(frame, duration_column, "duration_unit", "durations", where)
        unit = duration_unit or "s"
        d = numbers(frame, [duration_column], where, minimum=0, exclusive=True)[:, 0] / _PER_SECOND[unit]
        how = f"from the trace: column {duration_column} ({unit})"
    elif expression is not None:
        unit = duration_unit or "s"
        d = _evaluate(frame, expression, where) / _PER_SECOND[unit]
        how = (f"from the expression {expression.text} ({unit}) of column(s) {', '.join(expression.columns)}"
               if expression.columns else f"the constant expression {expression.text} ({unit})")
    else:
        service = DEFAULT_SERVICE if service is None else service
        d = service.sample(t.size, rng)
        how = invented(service, seed)
    f, names, apps = None, (), ()
    if function_column is not None:
        ids = text_column(frame, function_column, where)
        names, f = np.unique(ids.astype(str), return_inverse=True)
        names, f = tuple(names), f.astype(np.int32)
        if app_column is not None:
            app_ids = text_column(frame, app_column, where).astype(str)
            first_row = np.zeros(len(names), dtype=np.int64)
            first_row[f[::-1]] = np.arange(f.size)[::-1]
            apps = tuple(app_ids[first_row])
            clash = np.flatnonzero(app_ids != app_ids[first_row][f])
            if clash.size:
                r = int(clash[0])
                raise TraceError(f"{cell(frame, r, app_column, where)}: {app_ids[r]!r}, but function "
                                 f"{names[f[r]]!r} belongs to app {apps[f[r]]!r} on line {first_row[f[r]] + 2}")
    provenance = Provenance(source=f"per-request CSV {path.name}: time column {time_column} ({base})",
                            notes=("rows sorted by arrival",), durations=how)
    trace = Trace.from_unsorted(t, d, function=f, function_names=names, apps=apps, name=name or path.stem,
                                provenance=provenance, origin=origin)
    return narrow_trace(trace, window, scale, seed)


def _check_file_size(path: Path, where: str, max_memory) -> None:
    """Refuse a per-request CSV whose reading and requests would not fit, before reading it."""
    size = path.stat().st_size
    if (size * CSV_BYTES_PER_FILE_BYTE) < memory_limit(max_memory).bytes // 2:
        return  # far below the limit: not worth counting its lines
    rows = max(count_lines(path) - 1, 0)
    Footprint(requests=rows, read_bytes=size * CSV_BYTES_PER_FILE_BYTE).check(
        f"{where} ({format_bytes(size)}, {rows:,} rows)", max_memory,
        ["split the file (by day, say) and load the parts one at a time: a per-request file is read whole "
         "before start=/end= (--start/--end) and scale= (--scale) cut what is replayed"])


def _evaluate(frame: pd.DataFrame, expression: Expression, where: str) -> np.ndarray:
    """Durations from ``expression`` over the frame's columns; the first result that is not finite and > 0 raises."""
    columns = list(expression.columns)
    values = numbers(frame, columns, where) if columns else np.zeros((len(frame), 0))
    d = expression.evaluate({c: values[:, j] for j, c in enumerate(columns)} or {"": np.zeros(len(frame))})
    bad = np.flatnonzero(~(np.isfinite(d) & (d > 0)))
    if bad.size:
        r = int(bad[0])
        inputs = ", ".join(f"{c} = {values[r, j]:g}" for j, c in enumerate(columns))
        raise TraceError(f"{where}: line {r + 2}: duration_from {expression.text!r} gives {d[r]:g}"
                         + (f" (with {inputs})" if inputs else "") + ", must be a finite number > 0 s; "
                         f"{bad.size:,} of {d.size:,} row(s) give such a value")
    return d


def save_csv(trace: Trace, path) -> Path:
    """Write ``trace`` as a per-request CSV that :func:`load_csv` reads back exactly (see :meth:`Trace.to_csv`)."""
    return trace.to_csv(path)
