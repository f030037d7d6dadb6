"""The Huawei Cloud public serverless tables (SoCC 2023 release): wide per-minute request counts.

Published layout (``public_dataset/requests_minute/day_NN.csv``): a header
``day,time,<function id>,<function id>,...``, one row per minute; ``day`` is the day
number, ``time`` the minute's start in seconds since the start of the dataset (0 to
2,246,340 over 26 days), and each function column holds that minute's requests, empty
when the function had none. Rows may come in any order but two rows may not share a
``time``; time 0 of the trace is the earliest ``time`` in the file, and minutes absent
from the file have no requests. Counts written as ``3.0`` are accepted (whole numbers);
any other non-empty text, a negative or fractional count is an error.

No Huawei data ships with this project; the loader is tested on hand-written rows in
the published layout. Durations come from ``service``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import TraceError
from ._csvio import numbers, read_table, require
from .arrivals import DEFAULT_SEED, ArrivalRule, expand_counts
from .durations import DEFAULT_SERVICE, DurationDistribution, invented
from .sizes import memory_limit
from .trace import Provenance, Trace
from .window import Window, check_scale, cut_requests, narrow_counts

__all__ = ["HUAWEI_ATTRIBUTION", "load_huawei"]

HUAWEI_ATTRIBUTION = ('Joosen et al., "How Does It Function? Characterizing Long-term Trends in Production '
                      'Serverless Workloads", ACM SoCC 2023 (github.com/sir-lab/data-release)')


def load_huawei(path, *, functions=None, period_seconds: float = 60.0, service: DurationDistribution | None = None,
                arrivals="uniform", seed: int = DEFAULT_SEED, name: str | None = None, start=None, end=None,
                scale: float | None = None, max_memory=None) -> Trace:
    """Requests of a Huawei wide table, one function per count column.

    Parameters
    ----------
    functions : list of str, optional
        Keep only these function columns (by header name).
    period_seconds : float
        Length of each row's interval (60 s in the per-minute tables).
    start, end, scale, max_memory
        A time window (s from the earliest row), thinning and the memory limit, as for
        :func:`~autoscale.trace.rates.load_counts`: applied to the rows' counts first.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "day_00.csv"
    >>> _ = p.write_text("day,time,0,1\\n0,0,2,\\n0,60,,1\\n")
    >>> t = load_huawei(p, arrivals="even")
    >>> t.arrivals.tolist(), t.function.tolist()
    ([15.0, 45.0, 90.0], [0, 0, 1])
    """
    path = Path(path)
    where = str(path)
    if not (np.isfinite(period_seconds) and period_seconds > 0):
        raise TraceError(f"period_seconds = {period_seconds}, must be a finite number > 0")
    window, scale = Window.parse(start, end), check_scale(scale)
    memory_limit(max_memory)  # a malformed limit is refused before the file is read
    frame = read_table(path, where=where)
    require(frame, ["day", "time"], where)
    columns = [c for c in frame.columns if c not in ("day", "time")]
    if not columns:
        raise TraceError(f"{where}: line 1: no function columns after day,time")
    if functions is not None:
        wanted = [str(w) for w in ([functions] if isinstance(functions, (str, int)) else functions)]
        missing = [w for w in wanted if w not in columns]
        if missing:
            raise TraceError(f"{where}: line 1: no function column {missing[0]!r}")
        columns = wanted
    if len(frame) == 0:
        raise TraceError(f"{where}: line 2: no rows; expected one row per minute")
    numbers(frame, ["day"], where, integer=True, minimum=0)
    time = numbers(frame, ["time"], where, minimum=0)[:, 0]
    counts = numbers(frame, columns, where, integer=True, minimum=0, allow_empty=True).astype(np.int64)
    order = np.argsort(time, kind="stable")
    close = np.flatnonzero(np.diff(time[order]) < period_seconds)
    if close.size:
        a, b = order[close[0]], order[close[0] + 1]
        r = int(max(a, b))
        raise TraceError(f"{where}: line {r + 2}, column 2 (time): {time[r]:g} s is within {period_seconds:g} s "
                         f"of line {min(a, b) + 2}'s {time[min(a, b)]:g} s; rows must be distinct minutes")
    rows_start = time[order]
    origin = rows_start[0]
    rng = np.random.default_rng(seed)
    rule = ArrivalRule.parse(arrivals)
    if int(counts.sum()) == 0:
        raise TraceError(f"{where}: every count is 0 or empty; a trace needs at least one request")
    narrowed = narrow_counts(counts[order].T, rows_start - origin, period_seconds, window=window, scale=scale,
                             seed=seed, where=where, max_memory=max_memory)
    kept = rows_start[narrowed.columns]
    # one column per kept row (in time order), as if the rows were consecutive; then each
    # arrival moves from its row's slot to the row's own time
    t, f = expand_counts(narrowed.counts, period_seconds, rule, rng)
    row = np.minimum((t // period_seconds).astype(np.int64), len(kept) - 1)
    t += (kept - origin - np.arange(len(kept)) * period_seconds)[row]
    t, f = cut_requests(t, f, narrowed, where)
    if t.size == 0:
        raise TraceError(f"{where}: the thinned counts hold no request; raise scale")
    service = DEFAULT_SERVICE if service is None else service
    provenance = Provenance(
        source=f"Huawei Cloud public wide table {path.name}: {len(columns)} function(s), {len(frame)} row(s), "
               f"time {origin:g} s as t = 0",
        attribution=HUAWEI_ATTRIBUTION, licence="CC-BY 4.0 (Huawei Cloud)",
        notes=(f"arrivals {rule.value} within each {period_seconds:g} s row, seed {seed}", *narrowed.notes),
        durations=invented(service, seed),
    )
    return Trace.from_unsorted(t, service.sample(t.size, rng), function=f, function_names=tuple(columns),
                               name=name or path.stem, provenance=provenance)
