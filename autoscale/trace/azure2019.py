"""The Azure Functions 2019 trace: per-minute invocation counts per function, with duration percentiles and memory.

Three layouts are read, told apart by their headers (all present in ``traces/``):

* upstream, ``HashOwner,HashApp,HashFunction,Trigger,1,...,1440`` (``sample10-24h``);
* the same with the minute columns numbered from an offset, ``...,Trigger,480,...,959``
  (``azure500-8h``: minutes 480-959 of the day);
* the InVitro sampler's, ``HashFunction,HashApp,HashOwner,minute_1,...`` with no
  trigger and the three hashes equal (``sample1250-24h``).

The duration file is matched on the hash columns both files have (upstream order
``...,Average,Count,...`` or InVitro's ``...,Count,Average,...``; only the
``percentile_Average_*`` columns are used). The memory file is matched the same way:
upstream and InVitro's ``HashFunction,HashOwner,HashApp,...`` on all three hashes,
``1250_mem.csv``'s ``HashApp,HashOwner,...`` (keyed by the collapsed hash) on those two.

How counts become requests (the counts are of invocations that *finished* in each
minute; we place them as arrivals in that minute): by a seeded :class:`ArrivalRule`,
uniform within the minute by default. The first minute column is time 0.

How durations are drawn: per request, from the function's percentiles 0, 1, 25, 50,
75, 99 and 100 % (ms, of 30 s averages) by a piecewise-linear inverse CDF between those
points (:func:`~autoscale.trace.durations.sample_percentiles`). The percentiles are
whole milliseconds and sub-millisecond functions record 0 ms; points below
``min_duration`` (1 ms by default, the trace's resolution) are raised to it, and the
number of functions so affected is written in the provenance and flagged in
``functions_meta.duration_floored``. A negative, missing or decreasing percentile is an
error.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import TraceError
from ._csvio import numbers, read_table, require, text_column
from .arrivals import DEFAULT_SEED, ArrivalRule, expand_counts
from .durations import sample_percentiles
from .sizes import memory_limit
from .trace import Provenance, Trace
from .window import Window, check_scale, cut_requests, narrow_counts

__all__ = ["AZURE2019_ATTRIBUTION", "PERCENTILES", "load_azure2019"]

#: The quantiles of the duration file's ``percentile_Average_*`` columns.
PERCENTILES = np.array([0.0, 0.01, 0.25, 0.50, 0.75, 0.99, 1.0])
_PCT_COLUMNS = [f"percentile_Average_{p}" for p in (0, 1, 25, 50, 75, 99, 100)]
_HASHES = ("HashOwner", "HashApp", "HashFunction")
_MINUTE = re.compile(r"(?:minute_)?(\d+)")
#: Lowest duration drawn (s): the trace records whole milliseconds.
MIN_DURATION = 0.001

AZURE2019_ATTRIBUTION = ('Shahrad et al., "Serverless in the Wild: Characterizing and Optimizing the Serverless '
                         'Workload at a Large Cloud Provider", USENIX ATC 2020')
INVITRO_ATTRIBUTION = "samples drawn by the vHive/EASL InVitro project (github.com/vhive-serverless/invitro, MIT)"


def _find_beside(path: Path, names) -> Path | None:
    for pattern in names:
        hits = sorted(path.parent.glob(pattern))
        if hits:
            return hits[0]
    return None


def _keys(frame: pd.DataFrame, columns, where: str) -> np.ndarray:
    """One string key per row from the given hash columns."""
    parts = [text_column(frame, c, where) for c in columns]
    return np.array(["/".join(p) for p in zip(*parts)], dtype=object) if len(parts) > 1 else parts[0]


def _match(keys: np.ndarray, table_keys: np.ndarray, where: str, what: str) -> np.ndarray:
    """Row of ``table_keys`` for each key, -1 where absent; a duplicated table key raises."""
    index = pd.Index(table_keys)
    dup = index.duplicated()
    if dup.any():
        r = int(np.flatnonzero(dup)[0])
        raise TraceError(f"{where}: line {r + 2}: {what} {table_keys[r][:40]}... appears twice")
    return index.get_indexer(keys)


def _minutes(columns, where: str) -> np.ndarray:
    minutes = []
    for j, c in enumerate(columns):
        m = _MINUTE.fullmatch(c)
        if not m:
            raise TraceError(f"{where}: line 1, column {j + 1}: {c!r} is neither a hash column, Trigger, "
                             "nor a minute number (like 17 or minute_17)")
        minutes.append(int(m.group(1)))
    minutes = np.asarray(minutes, dtype=np.int64)
    gaps = np.flatnonzero(np.diff(minutes) != 1)
    if gaps.size:
        j = gaps[0] + 1
        raise TraceError(f"{where}: line 1: minute column {columns[j]!r} follows {columns[j - 1]!r}; "
                         "minute columns must be consecutive")
    return minutes


def load_azure2019(invocations, durations=None, memory=None, *, functions=None, arrivals="uniform",
                   seed: int = DEFAULT_SEED, min_duration: float = MIN_DURATION, name: str | None = None,
                   start=None, end=None, scale: float | None = None, max_memory=None) -> Trace:
    """Azure Functions 2019 per-minute invocation counts, expanded to one request each.

    Parameters
    ----------
    invocations : path
        Counts per function and minute, in any of the three layouts (module docstring).
    durations, memory : path, optional
        The duration-percentile and memory files; by default found beside
        ``invocations`` (``durations.csv`` or ``*_run.csv``; ``memory.csv`` or
        ``*_mem.csv``). Memory is optional; durations are not.
    functions : int or list of str, optional
        Keep the ``N`` busiest functions, or the functions named by ``HashFunction`` (or
        a unique prefix of it).
    arrivals : {"uniform", "even", "poisson"}
        How a minute's count becomes arrival times (:class:`ArrivalRule`).
    seed : int
        Seeds arrivals and durations; the default :data:`DEFAULT_SEED` makes loading deterministic.
    min_duration : float
        Percentile points below this many seconds are raised to it (reported).
    name : str, optional
    start, end : optional
        Keep the requests arriving in ``[start, end)`` s (or a duration such as
        ``"6h"``), rebased to 0: only the minutes overlapping it are expanded. The
        functions chosen by ``functions=N`` are still the busiest of the whole file.
    scale : float, optional
        Thin every function's counts to this fraction in (0, 1] before expanding them
        (binomial, seeded by ``seed``).
    max_memory : int or str, optional
        The memory limit; the per-function totals in the window are checked against
        it before any request is made (:mod:`~autoscale.trace.sizes`).

    Returns
    -------
    Trace
        With one function per row, ``apps`` from ``HashApp``, and ``functions_meta``
        holding per function: ``function``, ``app``, ``owner``, ``trigger``,
        ``invocations`` (file total), ``line`` (in the invocation file), the percentile
        points in seconds, ``duration_floored`` and ``memory_mb`` (NaN when absent).

    Examples
    --------
    >>> from autoscale.trace import traces_dir
    >>> folder = traces_dir() / "azure-functions-2019-invitro" / "sample10-24h"
    >>> t = load_azure2019(folder / "invocations.csv", functions=1)
    >>> t.function_names[0][:8], len(t) == int(t.functions_meta.invocations.sum())
    ('308ecb6c', True)
    """
    path = Path(invocations)
    where = str(path)
    rule = ArrivalRule.parse(arrivals)
    if not (np.isfinite(min_duration) and min_duration > 0):
        raise TraceError(f"min_duration = {min_duration}, must be a finite number > 0 s")
    window, scale = Window.parse(start, end), check_scale(scale)
    memory_limit(max_memory)  # a malformed limit is refused before the file is read
    frame = read_table(path, dtype={h: str for h in (*_HASHES, "Trigger")}, where=where)
    require(frame, ["HashFunction"], where)
    id_columns = [c for c in frame.columns if c in _HASHES]
    count_columns = [c for c in frame.columns if c not in (*_HASHES, "Trigger")]
    if not count_columns:
        raise TraceError(f"{where}: line 1: no minute columns after the hash columns")
    minutes = _minutes(count_columns, where)
    counts = numbers(frame, count_columns, where, integer=True, minimum=0).astype(np.int64)
    keys = _keys(frame, id_columns, where)
    dup = pd.Index(keys).duplicated()
    if dup.any():
        r = int(np.flatnonzero(dup)[0])
        raise TraceError(f"{where}: line {r + 2}: function {keys[r][:40]}... appears twice")
    hashes = {c: text_column(frame, c, where) for c in id_columns}
    totals = counts.sum(axis=1)

    rows = np.arange(len(frame))
    if functions is not None:
        if isinstance(functions, (int, np.integer)) and not isinstance(functions, bool):
            if functions < 1:
                raise TraceError(f"functions = {functions}, must be >= 1 (the number of busiest functions to keep)")
            rows = np.argsort(-totals, kind="stable")[: int(functions)]
        else:
            wanted = [functions] if isinstance(functions, str) else list(functions)
            names = hashes["HashFunction"]
            chosen = []
            for w in wanted:
                hit = np.flatnonzero([h.startswith(str(w)) for h in names])
                if hit.size != 1:
                    count = "no" if hit.size == 0 else str(hit.size)
                    raise TraceError(f"{where}: {count} functions match {w!r}; give a HashFunction or a unique prefix")
                chosen.append(hit[0])
            rows = np.asarray(chosen)
    counts, keys, totals = counts[rows], keys[rows], totals[rows]
    if totals.sum() == 0:
        raise TraceError(f"{where}: the selected functions have no invocation; a trace needs at least one request")

    # durations: percentile points per function
    dpath = Path(durations) if durations is not None else _find_beside(path, ["durations.csv", "*_run.csv"])
    if dpath is None:
        raise TraceError(f"{where}: no durations file given and none beside it (durations.csv or *_run.csv)")
    dwhere = str(dpath)
    dframe = read_table(dpath, dtype={h: str for h in _HASHES}, where=dwhere)
    require(dframe, ["HashFunction", *_PCT_COLUMNS], dwhere)
    shared = [c for c in id_columns if c in dframe.columns]
    sub_keys = _keys(frame.iloc[rows], shared, where) if shared != id_columns else keys
    found = _match(sub_keys, _keys(dframe, shared, dwhere), dwhere, "function")
    if (found < 0).any():
        r = rows[int(np.flatnonzero(found < 0)[0])]
        raise TraceError(f"{dwhere}: no duration row for the function on line {r + 2} of {path.name} "
                         f"({sub_keys[int(np.flatnonzero(found < 0)[0])][:40]}...)")
    points_ms = numbers(dframe, _PCT_COLUMNS, dwhere, minimum=0)
    decreasing = np.flatnonzero((np.diff(points_ms, axis=1) < 0).any(axis=1))
    if decreasing.size:
        r = decreasing[0]
        raise TraceError(f"{dwhere}: line {r + 2}: the percentile_Average_* columns decrease "
                         f"({', '.join(f'{v:g}' for v in points_ms[r])}); percentiles must be non-decreasing")
    points = points_ms[found] / 1000.0
    floored = (points < min_duration).any(axis=1)
    np.maximum(points, min_duration, out=points)

    narrowed = narrow_counts(counts, (minutes - minutes[0]) * 60.0, 60.0, window=window, scale=scale, seed=seed,
                             where=where, max_memory=max_memory)
    rng = np.random.default_rng(seed)
    t, f = expand_counts(narrowed.counts, 60.0, rule, rng)
    t += narrowed.columns[0] * 60.0
    t, f = cut_requests(t, f, narrowed, where)
    if t.size == 0:
        raise TraceError(f"{where}: the thinned counts hold no request; raise scale")
    d = sample_percentiles(points, PERCENTILES, f, rng)

    meta = pd.DataFrame({
        "function": hashes["HashFunction"][rows],
        "app": hashes["HashApp"][rows] if "HashApp" in hashes else "",
        "owner": hashes["HashOwner"][rows] if "HashOwner" in hashes else "",
        "trigger": text_column(frame, "Trigger", where)[rows] if "Trigger" in frame.columns else "",
        "invocations": totals,
        "line": rows + 2,
    })
    for q, col in zip((0, 1, 25, 50, 75, 99, 100), range(points.shape[1])):
        meta[f"duration_p{q}_s"] = points[:, col]
    meta["duration_floored"] = floored
    notes = []
    mpath = Path(memory) if memory is not None else _find_beside(path, ["memory.csv", "*_mem.csv"])
    if mpath is not None:
        mwhere = str(mpath)
        mframe = read_table(mpath, dtype={h: str for h in _HASHES}, where=mwhere)
        require(mframe, ["AverageAllocatedMb"], mwhere)
        mshared = [c for c in id_columns if c in mframe.columns]
        if not mshared:
            raise TraceError(f"{mwhere}: line 1: no hash column ({', '.join(id_columns)}) to match functions by")
        mem = numbers(mframe, ["AverageAllocatedMb"], mwhere, minimum=0)[:, 0]
        mkeys = _keys(frame.iloc[rows], mshared, where)
        mfound = _match(mkeys, _keys(mframe, mshared, mwhere), mwhere, "/".join(mshared))
        meta["memory_mb"] = np.where(mfound >= 0, mem[np.maximum(mfound, 0)], np.nan)
        notes.append(f"memory from {mpath.name} matched on {'+'.join(mshared)}: "
                     f"{int((mfound >= 0).sum())} of {len(rows)} functions")
    else:
        meta["memory_mb"] = np.nan
    for array in (t, d, f):
        array.setflags(write=False)

    function_names = tuple(meta["function"]) if meta["function"].is_unique else tuple(keys)
    layout = "InVitro sampler" if count_columns[0].startswith("minute_") else "upstream"
    provenance = Provenance(
        source=(f"Azure Functions 2019, {path.parent.name}/{path.name} ({layout} layout): {len(rows)} function(s), "
                f"minutes {minutes[0]}-{minutes[-1]} as t = 0-{minutes.size * 60} s"),
        attribution=f"{AZURE2019_ATTRIBUTION}; {INVITRO_ATTRIBUTION}",
        licence="data CC-BY 4.0 (Microsoft); InVitro repository MIT",
        notes=(f"arrivals {rule.value} within each minute, seed {seed}", *narrowed.notes,
               f"{int(floored.sum())} function(s) with percentile points below {min_duration * 1000:g} ms "
               f"raised to {min_duration * 1000:g} ms", *notes),
        durations=("drawn per request from its function's recorded duration percentiles (a piecewise-linear "
                   f"inverse CDF through percentiles 0/1/25/50/75/99/100 of {dpath.name}, points below "
                   f"{min_duration * 1000:g} ms raised to it), seed {seed}"),
    )
    return Trace(arrivals=t, durations=d, function=f, function_names=function_names,
                 apps=tuple(meta["app"]) if "HashApp" in hashes else (),
                 name=name or f"azure2019-{path.parent.name}", provenance=provenance, functions_meta=meta)
