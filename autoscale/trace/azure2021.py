"""The Azure Functions 2021 invocation trace: one row per invocation, ``app,func,end_timestamp,duration``.

Both numbers are seconds (``end_timestamp`` from the start of the trace); the arrival
is ``end_timestamp - duration``. The rows are not in time order, so the loader sorts
them by arrival (stably) and records that in the provenance. Durations are recorded to
the millisecond, so a few read ``0.000``; a duration of exactly 0 is raised to
``min_duration`` (1 ms) and counted in the provenance, a negative one is an error.
A function is the pair ``(app, func)``; its name is ``app/func``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import TraceError
from ._csvio import cell, numbers, read_table, require, text_column
from .arrivals import DEFAULT_SEED
from .csvtrace import _check_file_size
from .trace import Provenance, Trace
from .window import Window, check_scale, narrow_trace

__all__ = ["AZURE2021_ATTRIBUTION", "load_azure2021"]

AZURE2021_ATTRIBUTION = ('Zhang et al., "Faster and Cheaper Serverless Computing on Harvested Resources", '
                         "SOSP 2021")
#: Lowest duration (s): the trace records whole milliseconds.
MIN_DURATION = 0.001


def load_azure2021(path, *, min_duration: float = MIN_DURATION, name: str | None = None, start=None, end=None,
                   scale: float | None = None, seed: int = DEFAULT_SEED, max_memory=None) -> Trace:
    """Azure Functions 2021 invocations, sorted by arrival.

    ``start``/``end`` keep a time window (s from the trace start) and ``scale`` thins
    the invocations (seeded by ``seed``), as :meth:`Trace.window` and :meth:`Trace.thin`
    do; a file too large to read under ``max_memory`` is refused before it is read.

    Examples
    --------
    >>> from autoscale.trace import traces_dir
    >>> t = load_azure2021(traces_dir() / "azure-functions-2021-invitro" / "Azure2021_200.csv")
    >>> len(t), len(t.function_names), len(set(t.apps))
    (199, 31, 13)
    """
    path = Path(path)
    where = str(path)
    if not (np.isfinite(min_duration) and min_duration > 0):
        raise TraceError(f"min_duration = {min_duration}, must be a finite number > 0 s")
    window, scale = Window.parse(start, end), check_scale(scale)
    _check_file_size(path, where, max_memory)
    frame = read_table(path, dtype={"app": str, "func": str}, where=where)
    require(frame, ["app", "func", "end_timestamp", "duration"], where)
    app = text_column(frame, "app", where)
    func = text_column(frame, "func", where)
    end = numbers(frame, ["end_timestamp"], where, minimum=0)[:, 0]
    dur = numbers(frame, ["duration"], where, minimum=0)[:, 0]
    arrival = end - dur
    before = np.flatnonzero(arrival < 0)
    if before.size:
        r = int(before[0])
        raise TraceError(f"{cell(frame, r, 'duration', where)}: {dur[r]:g} s exceeds end_timestamp {end[r]:g} s; "
                         "the arrival (end_timestamp - duration) would be before the trace start")
    zero = dur < min_duration
    dur = np.maximum(dur, min_duration)
    ident = np.char.add(np.char.add(app.astype(str), "/"), func.astype(str))
    names, codes = np.unique(ident, return_inverse=True)
    apps = tuple(n.split("/", 1)[0] for n in names)
    unsorted = int(np.count_nonzero(arrival[1:] < arrival[:-1]))
    provenance = Provenance(
        source=f"Azure Functions 2021 invocation trace, {path.name}: {len(frame)} invocations",
        attribution=AZURE2021_ATTRIBUTION + "; InVitro project (github.com/vhive-serverless/invitro, MIT)",
        licence="data CC-BY 4.0 (Microsoft); InVitro repository MIT",
        notes=("arrival = end_timestamp - duration",
               f"rows sorted by arrival ({unsorted} row(s) arrived before the row above them)"),
        durations=(f"from the trace: column duration (s); {int(zero.sum())} duration(s) below "
                   f"{min_duration * 1000:g} ms raised to {min_duration * 1000:g} ms"),
    )
    trace = Trace.from_unsorted(arrival, dur, function=codes.astype(np.int32), function_names=tuple(names),
                                apps=apps, name=name or path.stem, provenance=provenance)
    return narrow_trace(trace, window, scale, seed)
