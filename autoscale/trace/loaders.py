"""Loading a trace by bundled name or from a file whose format is given or sniffed from its first line.

Sniffing: ``.tbz2``, ``.tar.bz2``, ``.bz2`` and ``.txt`` files are count series; a CSV
header with ``HashFunction`` is Azure 2019, ``app,func,end_timestamp,duration`` Azure
2021, one starting ``day,time`` a Huawei table, exactly ``period,count`` a per-period
series; anything else is a per-request CSV.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import TraceError
from ._csvio import header_line
from .azure2019 import load_azure2019
from .azure2021 import load_azure2021
from .bundled import BUNDLED
from .csvtrace import load_csv
from .huawei import load_huawei
from .rates import load_counts, load_period_counts
from .trace import Trace

__all__ = ["FORMATS", "load", "sniff_format"]

#: Format names accepted by :func:`load`, and their loaders.
FORMATS = {
    "azure2019": load_azure2019,
    "azure2021": load_azure2021,
    "counts": load_counts,
    "period-counts": load_period_counts,
    "huawei": load_huawei,
    "csv": load_csv,
}


def sniff_format(path) -> str:
    """The format name of a file, from its suffix and header line."""
    path = Path(path)
    name = path.name.lower()
    if name.endswith((".tbz2", ".tar.bz2", ".tbz", ".bz2", ".txt")):
        return "counts"
    columns = [c.strip() for c in header_line(path).split(",")]
    if "HashFunction" in columns:
        return "azure2019"
    if {"app", "func", "end_timestamp", "duration"} <= set(columns):
        return "azure2021"
    if columns[:2] == ["day", "time"]:
        return "huawei"
    if columns == ["period", "count"]:
        return "period-counts"
    return "csv"


def load(source, format: str | None = None, **kw) -> Trace:
    """A trace by bundled name (:data:`~autoscale.trace.BUNDLED`) or from a file.

    Parameters
    ----------
    source : str or path
        A bundled name such as ``"default"``, or a path. An existing file of that name
        wins over a bundled name.
    format : str, optional
        One of :data:`FORMATS`; sniffed from the file when omitted.
    **kw
        Passed to the format's loader (``seed``, ``functions``, ``arrivals``, ``period``,
        ``time_column``, ``time_unit``, ``duration_column``, ``duration_unit``,
        ``duration_from``, ``service``, ...); an argument the loader does not take raises
        ``TypeError``. Every loader takes ``start``, ``end`` (a time window), ``scale``
        (thinning) and ``max_memory`` (the limit its requests are checked against before
        they are made; :mod:`~autoscale.trace.sizes`).

    Examples
    --------
    >>> t = load("default")
    >>> len(t), round(t.span / 3600)
    (11484, 8)
    """
    if isinstance(source, Trace):
        return source
    path = Path(source)
    key = str(source)
    if format is not None and format not in FORMATS:
        raise TraceError(f"format = {format!r}, must be one of {', '.join(FORMATS)}")
    if not path.exists():
        if key in BUNDLED:
            entry = BUNDLED[key]
            if format is not None and format != entry.format:
                raise TraceError(f"bundled trace {key!r} is not in format {format!r}")
            return entry.load(**kw)
        raise TraceError(f"{key}: no such file, and not a bundled trace name ({', '.join(BUNDLED)})")
    if path.is_dir():
        raise TraceError(f"{key}: is a folder; name a trace file")
    fmt = format or sniff_format(path)
    return FORMATS[fmt](path, **kw)

