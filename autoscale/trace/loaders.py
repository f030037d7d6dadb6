"""Loaders for the trace formats researchers use; every malformed input names its file, line and column.

Line numbers count as a text editor does: the header is line 1, the first data row line 2.
"""

from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import TraceError
from .synthetic import Service, lognormal
from .trace import Trace

__all__ = ["azure2019", "azure2021", "per_second_counts", "per_period_counts", "huawei", "per_request_csv"]

#: Quantiles of the Azure 2019 duration percentiles: 0, 1, 25, 50, 75, 99, 100 %.
AZURE_QUANTILES = np.array([0.0, 0.01, 0.25, 0.5, 0.75, 0.99, 1.0])
_AZURE_PCT_COLUMNS = [f"percentile_Average_{p}" for p in (0, 1, 25, 50, 75, 99, 100)]
_HASHES = ("HashOwner", "HashApp", "HashFunction")
#: Durations below the trace's 1 ms resolution are recorded as 1 ms (the count is kept in provenance).
MIN_DURATION = 0.001
ARRIVAL_RULES = ("uniform", "even", "poisson")
_DEFAULT_SERVICE = lognormal(median=0.5, sigma=0.5)


# -- CSV reading with located errors ---------------------------------------------------------


def _read_csv(path: Path, **kw) -> pd.DataFrame:
    try:
        return pd.read_csv(path, **kw)
    except FileNotFoundError:
        raise
    except pd.errors.EmptyDataError:
        raise TraceError(f"{path}: line 1: the file is empty (a header row is expected)") from None
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as exc:
        text = str(exc)
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
        if m:
            raise TraceError(f"{path}: line {m.group(2)}: expected {m.group(1)} columns, found {m.group(3)}") from None
        raise TraceError(f"{path}: cannot be read as CSV: {text}") from None


def _require_columns(df: pd.DataFrame, path: Path, columns) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise TraceError(f"{path}: line 1: missing column(s) {', '.join(missing)}; found {', '.join(map(str, df.columns[:8]))}")


def _numeric(df: pd.DataFrame, columns, path: Path, *, integer=False, minimum=None, allow_empty=False,
             strict_min=False) -> np.ndarray:
    """The columns as a float matrix; the first bad cell raises with its line and column."""
    block = df[list(columns)]
    values = block.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    raw_missing = block.isna().to_numpy()
    bad = np.isnan(values) & ~raw_missing if allow_empty else np.isnan(values)
    bad |= np.isinf(values)
    if integer:
        bad |= ~np.isnan(values) & (values != np.floor(values))
    if minimum is not None:
        below = values <= minimum if strict_min else values < minimum
        bad |= ~np.isnan(values) & below
    if bad.any():
        r, c = np.argwhere(bad)[0]
        what = "a whole number" if integer else "a number"
        if minimum is not None:
            what += f" {'>' if strict_min else '>='} {minimum:g}"
        raw = block.iat[r, c]
        shown = repr(raw) if isinstance(raw, str) else format(raw, "g")
        raise TraceError(f"{path}: line {r + 2}: column {columns[c]} = {shown}, must be {what}")
    return np.nan_to_num(values, nan=0.0) if allow_empty else values


def _expand(counts: np.ndarray, period: float, rule: str, rng: np.random.Generator):
    """Per-period counts [F, M] -> (arrival times, function index), vectorised, unsorted."""
    if rule not in ARRIVAL_RULES:
        raise TraceError(f"arrival rule = {rule!r}, must be one of {', '.join(ARRIVAL_RULES)}")
    c = counts.astype(np.int64)
    if rule == "poisson":
        c = rng.poisson(c)
    flat = c.ravel()
    cell = np.repeat(np.arange(flat.size, dtype=np.int64), flat)
    f, m = np.divmod(cell, c.shape[1])
    if rule == "even":
        first = np.concatenate([[0], np.cumsum(flat)[:-1]])
        rank = np.arange(cell.size, dtype=np.int64) - first[cell]
        offset = (rank + 0.5) / flat[cell] * period
    else:
        offset = rng.random(cell.size) * period
    return m * period + offset, f


# -- Azure Functions 2019 ------------------------------------------------------------------


def _sibling(path: Path, names) -> Path | None:
    for name in names:
        for candidate in sorted(path.parent.glob(name)):
            return candidate
    return None


def azure2019(invocations, durations=None, memory=None, *, functions=None, arrivals: str = "uniform",
              seed: int = 0, name: str | None = None) -> Trace:
    """Azure Functions 2019 per-minute invocation counts, expanded to requests.

    Parameters
    ----------
    invocations : path
        Counts per function and minute, in any of the three layouts of the InVitro
        samples (``HashOwner,HashApp,HashFunction,Trigger,<minute>...`` with minutes
        numbered from 1 or from any offset, or ``HashFunction,HashApp,HashOwner,minute_1...``).
    durations, memory : path, optional
        The duration-percentile and memory files; found beside ``invocations`` when
        omitted (``durations.csv`` or ``*_run.csv``; ``memory.csv`` or ``*_mem.csv``).
    functions : int or list of str, optional
        The N busiest functions, or functions named by hash (or unique prefix).
    arrivals : {"uniform", "even", "poisson"}
        How a minute's count becomes arrival times: independent uniform times within
        the minute (the default), evenly spaced, or a Poisson count with the file's count
        as its mean (then totals differ from the file's).
    seed : int
        Seed for arrival times and durations.

    Notes
    -----
    Durations are drawn per request from the function's percentile points (0, 1, 25,
    50, 75, 99 and 100 % of its 30 s averages, in ms) by linear interpolation of the
    inverse CDF between those points. Draws below 1 ms, the trace's resolution, are
    recorded as 1 ms and counted in the provenance.
    """
    path = Path(invocations)
    df = _read_csv(path)
    _require_columns(df, path, ["HashFunction"])
    count_cols = [c for c in df.columns if c not in (*_HASHES, "Trigger")]
    if not count_cols:
        raise TraceError(f"{path}: line 1: no minute columns after the hash columns")
    minutes = []
    for c in count_cols:
        m = re.fullmatch(r"(?:minute_)?(\d+)", str(c))
        if not m:
            raise TraceError(f"{path}: line 1: column {c!r} is neither a hash column nor a minute number")
        minutes.append(int(m.group(1)))
    minutes = np.asarray(minutes)
    if np.any(np.diff(minutes) != 1):
        raise TraceError(f"{path}: line 1: minute columns must be consecutive, found {minutes[:3]}...")
    counts = _numeric(df, count_cols, path, integer=True, minimum=0)
    keys = [k for k in _HASHES if k in df.columns]
    ident = df[keys].astype(str).agg("/".join, axis=1).to_numpy()
    totals = counts.sum(axis=1)

    rows = np.arange(len(df))
    if functions is not None:
        if isinstance(functions, (int, np.integer)):
            rows = np.argsort(-totals, kind="stable")[: int(functions)]
        else:
            hashes = df["HashFunction"].astype(str).to_numpy()
            chosen = []
            for want in functions:
                hit = np.flatnonzero([h.startswith(str(want)) for h in hashes])
                if hit.size != 1:
                    raise TraceError(f"{path}: {'no' if hit.size == 0 else hit.size} function(s) match {want!r}")
                chosen.append(hit[0])
            rows = np.asarray(chosen)
    counts, ident, totals = counts[rows], ident[rows], totals[rows]
    if totals.sum() == 0:
        raise TraceError(f"{path}: the selected functions have no invocation")

    # Durations: percentile points per function, matched on the hash columns.
    dpath = Path(durations) if durations is not None else _sibling(path, ["durations.csv", "*_run.csv"])
    if dpath is None:
        raise TraceError(f"{path}: no durations file given and none beside it (durations.csv or *_run.csv)")
    ddf = _read_csv(dpath)
    _require_columns(ddf, dpath, ["HashFunction", *_AZURE_PCT_COLUMNS])
    dkeys = [k for k in keys if k in ddf.columns]
    pts_all = _numeric(ddf, _AZURE_PCT_COLUMNS, dpath, minimum=0)
    dident = ddf[dkeys].astype(str).agg("/".join, axis=1)
    pos = pd.Series(np.arange(len(ddf)), index=dident.to_numpy())
    pos = pos[~pos.index.duplicated()]
    key_of = np.asarray(["/".join(v.split("/")[i] for i, k in enumerate(keys) if k in dkeys) for v in ident])
    found = pos.reindex(key_of)
    if found.isna().any():
        missing = key_of[found.isna().to_numpy()]
        raise TraceError(f"{dpath}: no duration row for {missing.size} function(s), e.g. {missing[0][:40]}...")
    pts = np.sort(pts_all[found.to_numpy(dtype=np.int64)], axis=1) / 1000.0  # ms -> s, monotone

    rng = np.random.default_rng(seed)
    t, f = _expand(counts, 60.0, arrivals, rng)
    u = rng.random(t.size)
    k = np.clip(np.searchsorted(AZURE_QUANTILES, u, side="right") - 1, 0, AZURE_QUANTILES.size - 2)
    lo, hi = pts[f, k], pts[f, k + 1]
    w = (u - AZURE_QUANTILES[k]) / (AZURE_QUANTILES[k + 1] - AZURE_QUANTILES[k])
    d = lo + w * (hi - lo)
    floored = int(np.count_nonzero(d < MIN_DURATION))
    d = np.maximum(d, MIN_DURATION)

    meta = pd.DataFrame({"function": ident, "invocations": totals.astype(np.int64),
                         "duration_p50_s": pts[:, 3]})
    if "Trigger" in df.columns:
        meta["trigger"] = df["Trigger"].to_numpy()[rows]
    mpath = Path(memory) if memory is not None else _sibling(path, ["memory.csv", "*_mem.csv"])
    if mpath is not None:
        mdf = _read_csv(mpath)
        _require_columns(mdf, mpath, ["AverageAllocatedMb"])
        mem = _numeric(mdf, ["AverageAllocatedMb"], mpath, minimum=0)[:, 0]
        mkeys = [k for k in keys if k in mdf.columns]
        mpos = pd.Series(mem, index=mdf[mkeys].astype(str).agg("/".join, axis=1).to_numpy())
        mpos = mpos[~mpos.index.duplicated()]
        mkey = np.asarray(["/".join(v.split("/")[i] for i, k in enumerate(keys) if k in mkeys) for v in ident])
        meta["memory_mb"] = mpos.reindex(mkey).to_numpy()
    order = np.argsort(t, kind="stable")
    prov = (f"Azure Functions 2019 (Shahrad et al., USENIX ATC 2020; CC-BY 4.0), InVitro sample "
            f"{path.parent.name}/{path.name}: {len(rows)} function(s), minutes {minutes[0]}..{minutes[-1]} "
            f"mapped to t = 0..{minutes.size * 60} s; arrivals {arrivals} within each minute, seed {seed}; "
            f"durations from percentile interpolation, {floored} draw(s) below 1 ms recorded as 1 ms")
    return Trace(arrivals=t[order], durations=d[order], function=f[order].astype(np.int32),
                 function_names=tuple(ident), name=name or f"azure2019-{path.parent.name}",
                 provenance=prov, meta=meta)


# -- Azure Functions 2021 ------------------------------------------------------------------


def azure2021(path, *, name: str | None = None) -> Trace:
    """Azure Functions 2021 invocations: ``app,func,end_timestamp,duration`` in seconds, unsorted.

    The arrival is ``end_timestamp - duration``; rows are sorted by arrival, and the
    provenance says so.
    """
    path = Path(path)
    df = _read_csv(path, dtype={"app": str, "func": str})
    _require_columns(df, path, ["app", "func", "end_timestamp", "duration"])
    for col in ("app", "func"):
        empty = df[col].isna().to_numpy()
        if empty.any():
            raise TraceError(f"{path}: line {np.flatnonzero(empty)[0] + 2}: column {col} is empty")
    end = _numeric(df, ["end_timestamp"], path, minimum=0)[:, 0]
    dur = _numeric(df, ["duration"], path, minimum=0)[:, 0]
    floored = int(np.count_nonzero(dur < MIN_DURATION))  # 0.000: shorter than the 1 ms resolution
    dur = np.maximum(dur, MIN_DURATION)
    arr = end - dur
    bad = np.flatnonzero(arr < 0)
    if bad.size:
        r = bad[0]
        raise TraceError(f"{path}: line {r + 2}: column duration = {dur[r]} exceeds end_timestamp = {end[r]} "
                         "(the arrival would be before the trace starts)")
    ident = (df["app"].astype(str) + "/" + df["func"].astype(str)).to_numpy()
    names, codes = np.unique(ident, return_inverse=True)
    prov = (f"Azure Functions 2021 (Zhang et al., SOSP 2021; CC-BY 4.0), {path.name}: arrival = end_timestamp "
            f"- duration; {len(df)} rows sorted by arrival; {floored} duration(s) below 1 ms recorded as 1 ms")
    return Trace.from_unsorted(arr, dur, function=codes.astype(np.int32), function_names=tuple(names),
                               name=name or path.stem, provenance=prov)


# -- rate series ----------------------------------------------------------------------------


def per_second_counts(path, *, service: Service | None = None, seed: int = 0, name: str | None = None) -> Trace:
    """Requests per consecutive second: whitespace-separated integers, plain or in a .tbz2/.tar.bz2 archive.

    This reads the NASA-HTTP 1995 series. Arrivals are uniform within their second;
    durations come from ``service`` (lognormal, median 0.5 s, sigma 0.5 by default).
    """
    path = Path(path)
    if path.suffix in (".tbz2", ".bz2") or path.name.endswith(".tar.bz2"):
        try:
            with tarfile.open(path, "r:bz2") as tar:
                members = [m for m in tar.getmembers() if m.isfile()]
                if len(members) != 1:
                    raise TraceError(f"{path}: expected one file in the archive, found {len(members)}")
                text = tar.extractfile(members[0]).read()
                inner = f"{path}:{members[0].name}"
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise TraceError(f"{path}: not a readable bzip2 tar archive ({exc})") from None
    else:
        text = path.read_bytes()
        inner = str(path)
    tokens = text.split()
    try:
        counts = np.array(tokens, dtype=np.int64)
    except ValueError:
        for i, tok in enumerate(tokens):
            if not re.fullmatch(rb"\d+", tok):
                line = text[: text.find(tok)].count(b"\n") + 1 if tok in text else 1
                raise TraceError(f"{inner}: line {line}: value {i + 1} = {tok.decode(errors='replace')!r}, "
                                 "must be a whole number >= 0") from None
        raise
    if counts.size == 0:
        raise TraceError(f"{inner}: no counts")
    neg = np.flatnonzero(counts < 0)
    if neg.size:
        raise TraceError(f"{inner}: value {neg[0] + 1} = {counts[neg[0]]}, must be a whole number >= 0")
    rng = np.random.default_rng(seed)
    t, _ = _expand(counts[None, :], 1.0, "uniform", rng)
    service = _DEFAULT_SERVICE if service is None else service
    prov = f"per-second counts from {inner} ({counts.size:,} s); arrivals uniform within each second, seed {seed}"
    if "nasa" in str(path).lower():
        prov = ("NASA-HTTP 1995 (ITA; logs by Jim Dumoulin, KSC; contributed by Martin Arlitt and Carey "
                "Williamson; freely redistributable): " + prov)
    return Trace(arrivals=np.sort(t), durations=service.sample(t.size, rng), name=name or path.stem.split(".")[0],
                 provenance=prov)


def per_period_counts(path, *, period: float = 60.0, service: Service | None = None, seed: int = 0,
                      name: str | None = None) -> Trace:
    """A ``period,count`` CSV (period = index of a ``period``-second interval); missing periods count 0."""
    path = Path(path)
    df = _read_csv(path)
    _require_columns(df, path, ["period", "count"])
    idx = _numeric(df, ["period"], path, integer=True, minimum=0)[:, 0].astype(np.int64)
    cnt = _numeric(df, ["count"], path, integer=True, minimum=0)[:, 0].astype(np.int64)
    dup = pd.Series(idx).duplicated().to_numpy()
    if dup.any():
        r = np.flatnonzero(dup)[0]
        raise TraceError(f"{path}: line {r + 2}: column period = {idx[r]} appears twice")
    counts = np.zeros(idx.max() - idx.min() + 1, dtype=np.int64)
    counts[idx - idx.min()] = cnt
    rng = np.random.default_rng(seed)
    t, _ = _expand(counts[None, :], float(period), "uniform", rng)
    if t.size == 0:
        raise TraceError(f"{path}: every count is 0")
    service = _DEFAULT_SERVICE if service is None else service
    prov = f"per-{period:g}s counts from {path.name}, missing periods as 0; uniform arrivals, seed {seed}"
    return Trace(arrivals=np.sort(t), durations=service.sample(t.size, rng), name=name or path.stem,
                 provenance=prov)


def huawei(path, *, period: float = 60.0, service: Service | None = None, seed: int = 0,
           functions=None, name: str | None = None) -> Trace:
    """Huawei Cloud 2023 public wide tables: ``day,time,<function id>...``, one row per period, empty = 0.

    ``time`` is the period's start in seconds within the day; rows need not be
    contiguous. Each function column becomes a function of the trace.
    """
    path = Path(path)
    df = _read_csv(path, dtype=str)
    _require_columns(df, path, ["day", "time"])
    fcols = [c for c in df.columns if c not in ("day", "time")]
    if not fcols:
        raise TraceError(f"{path}: line 1: no function columns after day,time")
    if functions is not None:
        fcols = [c for c in fcols if c in set(map(str, functions))]
    day = _numeric(df, ["day"], path, integer=True, minimum=0)[:, 0]
    tod = _numeric(df, ["time"], path, minimum=0)[:, 0]
    start = day * 86400.0 + tod
    counts = _numeric(df, fcols, path, integer=True, minimum=0, allow_empty=True)
    order = np.argsort(start, kind="stable")
    start, counts = start[order], counts[order]
    rng = np.random.default_rng(seed)
    flat = counts.T.astype(np.int64)  # [F, rows]
    _, f = None, None
    t_rel, f = _expand(flat, 1.0, "uniform", rng)  # t_rel: row index + uniform in [0, 1)
    row = np.floor(t_rel).astype(np.int64)
    t = start[row] + (t_rel - row) * period - start[0]
    if t.size == 0:
        raise TraceError(f"{path}: every count is 0 or empty")
    service = _DEFAULT_SERVICE if service is None else service
    prov = f"Huawei Cloud 2023 wide table {path.name}: {len(fcols)} function(s), {period:g} s rows, seed {seed}"
    return Trace.from_unsorted(t, service.sample(t.size, rng), function=f.astype(np.int32),
                               function_names=tuple(fcols), name=name or path.stem, provenance=prov)


# -- any per-request CSV --------------------------------------------------------------------


def per_request_csv(path, *, time_column: str | None = None, duration_column: str | None = None,
                    duration_unit: str = "s", function_column: str | None = None,
                    service: Service | None = None, seed: int = 0, name: str | None = None) -> Trace:
    """Any CSV with one request per row.

    ``time_column`` holds epoch seconds (numbers) or date-time strings (ISO 8601, up to
    nanoseconds); times are made relative to the earliest. ``duration_column`` is in
    ``duration_unit`` (``s`` or ``ms``); without one, durations come from ``service``.
    Without ``time_column``, ``arrival_s`` (and ``duration_s``), as written by
    :meth:`Trace.to_csv`, are used.
    """
    path = Path(path)
    if duration_unit not in ("s", "ms"):
        raise TraceError(f"duration unit = {duration_unit!r}, must be s or ms")
    df = _read_csv(path, dtype=str)
    if time_column is None:
        time_column = "arrival_s"
        if duration_column is None and "duration_s" in df.columns:
            duration_column = "duration_s"
        if function_column is None and "function" in df.columns:
            function_column = "function"
    _require_columns(df, path, [c for c in (time_column, duration_column, function_column) if c])
    raw = df[time_column]
    numeric = pd.to_numeric(raw, errors="coerce")
    if numeric.notna().all():
        t = _numeric(df, [time_column], path)[:, 0]
    else:
        parsed = pd.to_datetime(raw, errors="coerce", format="ISO8601", utc=True)
        bad = parsed.isna().to_numpy()
        if bad.any():
            r = np.flatnonzero(bad)[0]
            raise TraceError(f"{path}: line {r + 2}: column {time_column} = {raw.iat[r]!r}, must be epoch seconds "
                             "or an ISO 8601 date-time")
        t = (parsed.astype("int64").to_numpy() - parsed.astype("int64").min()) / 1e9
    t = t - t.min()
    rng = np.random.default_rng(seed)
    if duration_column is not None:
        d = _numeric(df, [duration_column], path, minimum=0, strict_min=True)[:, 0]
        d = d / 1000.0 if duration_unit == "ms" else d
    else:
        d = (_DEFAULT_SERVICE if service is None else service).sample(t.size, rng)
    f, names = None, ()
    if function_column is not None:
        names, f = np.unique(df[function_column].astype(str).to_numpy(), return_inverse=True)
        names, f = tuple(names), f.astype(np.int32)
    prov = f"per-request CSV {path.name} (time {time_column}, duration {duration_column or 'drawn'})"
    return Trace.from_unsorted(t, d, function=f, function_names=names, name=name or path.stem, provenance=prov)
