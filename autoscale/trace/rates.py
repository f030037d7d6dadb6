"""Rate series: request counts per period, expanded to requests with durations from a chosen distribution.

Two forms:

* :func:`load_counts`: whitespace-separated whole numbers, one per consecutive period
  (1 s by default), plain text or the single member of a ``.tbz2`` / ``.tar.bz2``
  archive. This is the NASA-HTTP 1995 series (5,059,950 seconds, 3,461,610 requests).
* :func:`load_period_counts`: a CSV ``period,count`` where ``period`` is the whole index
  of a ``period_seconds``-long interval; periods missing from the file count 0, and
  time 0 is the smallest period in the file.

Arrivals follow an :class:`~autoscale.trace.arrivals.ArrivalRule` (uniform within each
period by default); durations are drawn from ``service`` (default
:data:`~autoscale.trace.durations.DEFAULT_SERVICE`), seeded.
"""

from __future__ import annotations

import bz2
import tarfile
import warnings
from pathlib import Path

import numpy as np

from ..errors import TraceError
from ._csvio import numbers, read_table, require
from .arrivals import DEFAULT_SEED, ArrivalRule, expand_counts
from .durations import DEFAULT_SERVICE, DurationDistribution
from .trace import Provenance, Trace

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


def _finish(counts: np.ndarray, period: float, rule, service, seed, name, provenance) -> Trace:
    rng = np.random.default_rng(seed)
    rule = ArrivalRule.parse(rule)
    t, _ = expand_counts(counts[None, :], period, rule, rng)
    if t.size == 0:
        raise TraceError(f"{provenance.source}: every count is 0; a trace needs at least one request")
    service = DEFAULT_SERVICE if service is None else service
    if not isinstance(service, DurationDistribution):
        raise TypeError(f"service must be a DurationDistribution, not {type(service).__name__}")
    d = service.sample(t.size, rng)
    provenance = provenance.with_note(f"arrivals {rule.value} within each {period:g} s, durations {service}, "
                                      f"seed {seed}")
    for array in (t, d):
        array.setflags(write=False)
    return Trace(arrivals=t, durations=d, name=name, provenance=provenance)


def load_counts(path, *, period: float = 1.0, service: DurationDistribution | None = None, arrivals="uniform",
                seed: int = DEFAULT_SEED, name: str | None = None) -> Trace:
    """Requests per consecutive period (1 s by default) from whitespace-separated counts.

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
    text, where = _read_text(path)
    counts = parse_counts(text, where)
    nasa = "nasa" in str(path).lower()
    provenance = Provenance(
        source=(f"NASA-HTTP 1995 per-second request counts, {path.name}" if nasa else f"counts from {where}")
        + f": {counts.size:,} periods of {period:g} s, {int(counts.sum()):,} requests",
        attribution=NASA_ATTRIBUTION if nasa else "",
        licence="freely redistributable (Internet Traffic Archive)" if nasa else "",
    )
    return _finish(counts, float(period), arrivals, service, seed, name or path.name.split(".")[0], provenance)


def load_period_counts(path, *, period_seconds: float = 60.0, service: DurationDistribution | None = None,
                       arrivals="uniform", seed: int = DEFAULT_SEED, name: str | None = None) -> Trace:
    """A ``period,count`` CSV; periods missing from the file count 0.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "rate.csv"
    >>> _ = p.write_text("period,count\\n3,2\\n5,1\\n")
    >>> t = load_period_counts(p, arrivals="even")
    >>> t.arrivals.tolist()
    [15.0, 45.0, 150.0]
    """
    path = Path(path)
    where = str(path)
    if not (np.isfinite(period_seconds) and period_seconds > 0):
        raise TraceError(f"period_seconds = {period_seconds}, must be a finite number > 0")
    frame = read_table(path, where=where)
    require(frame, ["period", "count"], where)
    index = numbers(frame, ["period"], where, integer=True, minimum=0)[:, 0].astype(np.int64)
    count = numbers(frame, ["count"], where, integer=True, minimum=0)[:, 0].astype(np.int64)
    if index.size == 0:
        raise TraceError(f"{where}: line 2: no rows; expected period,count rows")
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
    provenance = Provenance(
        source=f"per-period counts {path.name}: periods {index.min()}-{index.max()} of {period_seconds:g} s "
               f"({span - index.size} missing period(s) counted 0), {int(count.sum()):,} requests",
    )
    return _finish(dense, float(period_seconds), arrivals, service, seed, name or path.stem, provenance)
