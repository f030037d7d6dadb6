"""Traces: real recorded request logs, loaders for their formats, and synthetic workloads.

Examples
--------
>>> from autoscale.trace import load
>>> t = load("default")
>>> len(t), round(t.span / 3600)
(3528, 8)
"""

from __future__ import annotations

from pathlib import Path

from ..errors import TraceError
from . import synthetic
from .bundled import BUNDLED, bundled_names, traces_dir
from .loaders import azure2019, azure2021, huawei, per_period_counts, per_request_csv, per_second_counts
from .trace import Trace, TraceSummary

__all__ = [
    "BUNDLED", "FORMATS", "Trace", "TraceSummary", "azure2019", "azure2021", "bundled_names", "huawei", "load",
    "per_period_counts", "per_request_csv", "per_second_counts", "synthetic", "traces_dir",
]

#: Format names accepted by :func:`load`.
FORMATS = {
    "azure2019": azure2019,
    "azure2021": azure2021,
    "counts": per_second_counts,
    "period-counts": per_period_counts,
    "huawei": huawei,
    "csv": per_request_csv,
}


def _sniff(path: Path) -> str:
    if path.suffix in (".tbz2", ".bz2", ".txt"):
        return "counts"
    with open(path, "rb") as fh:
        header = fh.readline().decode("utf-8", errors="replace").strip().split(",")
    cols = set(header)
    if "HashFunction" in cols:
        return "azure2019"
    if {"app", "func", "end_timestamp", "duration"} <= cols:
        return "azure2021"
    if header[:2] == ["day", "time"]:
        return "huawei"
    if cols == {"period", "count"}:
        return "period-counts"
    return "csv"


def load(source, format: str | None = None, **kw) -> Trace:
    """A trace by bundled name (see :data:`BUNDLED`) or from a file, its format sniffed when not given.

    Keyword arguments go to the format's loader (for example ``seed``, ``functions``,
    ``time_column``, ``duration_column``, ``duration_unit``, ``service``).
    """
    if isinstance(source, Trace):
        return source
    key = str(source)
    if key in BUNDLED and format is None and not Path(key).exists():
        return BUNDLED[key].load(**kw)
    path = Path(key)
    if not path.exists():
        raise TraceError(f"{key}: no such file, and not a bundled trace ({', '.join(BUNDLED)})")
    fmt = format or _sniff(path)
    if fmt not in FORMATS:
        raise TraceError(f"format = {fmt!r}, must be one of {', '.join(FORMATS)}")
    return FORMATS[fmt](path, **kw)
