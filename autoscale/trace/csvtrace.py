"""Any per-request CSV: one request per row, with a named timestamp column and an optional duration column.

Timestamps are either numbers (epoch seconds, or any seconds) or date-time text such as
``2024-03-01 12:00:00.1234567`` or ``2024-03-01T12:00:00.5+01:00`` (ISO 8601, up to 9
fractional digits; text without a zone is UTC); the first row decides which. The earliest timestamp becomes time 0
and its value is recorded in the provenance. Durations are in ``duration_unit``
(``s`` or ``ms``) and must be > 0; without a duration column they are drawn from
``service``. Rows need not be sorted; they are sorted by arrival (stably).

Without ``time_column``, the columns written by :meth:`Trace.to_csv` are used:
``arrival_s``, ``duration_s`` and, if present, ``function`` and ``app``. Those times are
already relative, so they are kept as written (no shift), and the round trip is exact.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import TraceError
from ._csvio import cell, numbers, read_table, require, text_column
from .arrivals import DEFAULT_SEED
from .durations import DEFAULT_SERVICE, DurationDistribution
from .trace import Provenance, Trace

__all__ = ["DURATION_UNITS", "load_csv", "save_csv"]

#: Seconds per unit of the duration column.
DURATION_UNITS = {"s": 1.0, "ms": 1e-3}


def _parse_times(frame: pd.DataFrame, column: str, where: str) -> tuple[np.ndarray, str]:
    """Seconds from the column (numbers, or ISO 8601 text) and a description of the time base."""
    raw = frame[column]
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        return numbers(frame, [column], where)[:, 0], "seconds"
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
        return numbers(frame.assign(**{column: as_number}), [column], where)[:, 0], "seconds"
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
             duration_unit: str = "s", function_column: str | None = None, app_column: str | None = None,
             service: DurationDistribution | None = None, seed: int = DEFAULT_SEED,
             name: str | None = None) -> Trace:
    """Requests from a per-request CSV (see the module docstring for the rules).

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
    if duration_unit not in DURATION_UNITS:
        raise TraceError(f"duration unit = {duration_unit!r}, must be one of {', '.join(DURATION_UNITS)}")
    own_format = time_column is None
    text_columns = [c for c in (function_column, app_column, "function", "app") if c]
    frame = read_table(path, dtype={c: str for c in text_columns}, where=where)
    if own_format:
        time_column = "arrival_s"
        if duration_column is None and "duration_s" in frame.columns:
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
    if own_format:
        t = numbers(frame, [time_column], where, minimum=0)[:, 0]
        base = "seconds from the trace start, as written"
    else:
        t, base = _parse_times(frame, time_column, where)
        first = t.min()
        t = t - first
        if base == "seconds":
            base = f"seconds, t = 0 at {first!r}"
    rng = np.random.default_rng(seed)
    if duration_column is not None:
        d = numbers(frame, [duration_column], where, minimum=0, exclusive=True)[:, 0] * DURATION_UNITS[duration_unit]
        how = f"durations from column {duration_column} ({duration_unit})"
    else:
        service = DEFAULT_SERVICE if service is None else service
        d = service.sample(t.size, rng)
        how = f"durations drawn from {service}, seed {seed}"
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
                            notes=(how, "rows sorted by arrival"))
    return Trace.from_unsorted(t, d, function=f, function_names=names, apps=apps, name=name or path.stem,
                               provenance=provenance)


def save_csv(trace: Trace, path) -> Path:
    """Write ``trace`` as a per-request CSV that :func:`load_csv` reads back exactly (see :meth:`Trace.to_csv`)."""
    return trace.to_csv(path)
