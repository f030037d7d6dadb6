"""Reading comma-separated tables so that every malformed cell is reported with its file, line and column.

Line numbers count as a text editor does: the header is line 1, the first data row
line 2. Columns are numbered from 1 and also named. Before pandas parses a file, its
structure is checked with vectorised byte operations: every non-empty line must have as
many fields as the header (pandas would silently pad short rows and turn an extra field
into an index), and a blank line is an error unless only blank lines follow it. Files
with double quotes skip that check and rely on pandas' own field counting.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import TraceError

__all__ = ["read_table", "numbers", "text_column", "cell", "header_columns", "header_line",
           "require_in_header", "count_lines"]


def _check_layout(data: bytes, where: str) -> bytes:
    """Validate field counts per line; return the data without trailing blank lines."""
    if not data.strip():
        raise TraceError(f"{where}: line 1: the file is empty; a header row is expected")
    buf = np.frombuffer(data, dtype=np.uint8)
    newline = np.flatnonzero(buf == 10)
    starts = np.concatenate([[0], newline + 1])
    ends = np.concatenate([newline, [buf.size]])
    # strip a carriage return before the newline
    cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
    ends = ends - cr
    lengths = ends - starts
    nonblank = np.flatnonzero(lengths > 0)
    if nonblank.size == 0:
        raise TraceError(f"{where}: line 1: the file is empty; a header row is expected")
    last = nonblank[-1]
    blank = np.flatnonzero(lengths[: last + 1] == 0)
    if blank.size:
        raise TraceError(f"{where}: line {blank[0] + 1}: empty line inside the table; every row needs its fields")
    if b'"' not in data:
        commas = np.concatenate([[0], np.cumsum(buf == 44, dtype=np.int64)])
        fields = commas[ends[: last + 1]] - commas[starts[: last + 1]] + 1
        wrong = np.flatnonzero(fields != fields[0])
        if wrong.size:
            i = wrong[0]
            raise TraceError(f"{where}: line {i + 1}: {fields[i]} comma-separated fields, expected {fields[0]} "
                             "as in the header (line 1)")
    return data[: ends[last]]


def read_table(path, *, dtype=None, where: str | None = None) -> pd.DataFrame:
    """A CSV file with a header row as a DataFrame whose row ``i`` is on line ``i + 2``.

    Only empty cells are missing values (text such as ``nan`` or ``NA`` stays text, so
    a numeric column holding it is reported as malformed).
    """
    path = Path(path)
    where = where or str(path)
    data = path.read_bytes()
    data = _check_layout(data, where)
    header = data.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", errors="replace").lstrip("\ufeff")
    names = [h.strip() for h in header.split(",")]
    dup = [n for i, n in enumerate(names) if n in names[:i]]
    if b'"' not in data and dup:
        raise TraceError(f"{where}: line 1: column {dup[0]!r} appears twice in the header")
    if b'"' not in data and "" in names:
        raise TraceError(f"{where}: line 1: column {names.index('') + 1} has an empty name in the header")
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=dtype, keep_default_na=False, na_values=[""],
                            skip_blank_lines=False, encoding="utf-8-sig", index_col=False)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1 if hasattr(exc, "start") else 1
        raise TraceError(f"{where}: line {line}: not UTF-8 text ({exc.reason})") from None
    except (pd.errors.ParserError, ValueError) as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if m:
            raise TraceError(f"{where}: line {m.group(2)}: {m.group(3)} fields, expected {m.group(1)} "
                             "as in the header (line 1)") from None
        raise TraceError(f"{where}: cannot be read as a comma-separated table: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def require(frame: pd.DataFrame, columns, where: str) -> None:
    """Raise unless every one of ``columns`` is in the header."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        shown = ", ".join(map(str, frame.columns[:8])) + (", ..." if frame.shape[1] > 8 else "")
        raise TraceError(f"{where}: line 1: missing column(s) {', '.join(missing)} in the header; found {shown}")


def header_line(path) -> str:
    """The first line of a file, without a byte-order mark, read without the rest of the file."""
    with open(path, "rb") as fh:
        return fh.readline().decode("utf-8", errors="replace").lstrip("\ufeff").strip()


def header_columns(path) -> list[str] | None:
    """The column names of a CSV's first line (None when it quotes names)."""
    header = header_line(path)
    if '"' in header:
        return None
    return [c.strip() for c in header.split(",")]


def require_in_header(path, columns: dict, where: str) -> None:
    """Refuse, before the file is read, a named column that is not in its header.

    ``columns`` maps each column to the parameter that names it (``"duration_from"``).
    """
    names = header_columns(path)
    if names is None:
        return
    for column, parameter in columns.items():
        if column not in names:
            option = "--" + parameter.replace("_", "-")
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            raise TraceError(f"{where}: line 1: missing column(s) {column} in the header (named by {parameter}=, "
                             f"{option}); the file has columns {shown}")


def count_lines(path, chunk: int = 1 << 24) -> int:
    """Lines of a file, counted in chunks (constant memory); a last line without a newline counts."""
    lines, last = 0, b"\n"
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


def cell(frame: pd.DataFrame, row: int, column: str, where: str) -> str:
    """``file: line L, column C (name)``, the location of one cell."""
    return f"{where}: line {row + 2}, column {frame.columns.get_loc(column) + 1} ({column})"


def _show(value) -> str:
    if isinstance(value, np.generic):  # 3 rather than np.int64(3)
        value = value.item()
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "empty"
    return repr(value) if isinstance(value, str) else f"{value!r}"


def numbers(frame: pd.DataFrame, columns, where: str, *, integer: bool = False, minimum: float | None = None,
            exclusive: bool = False, allow_empty: bool = False) -> np.ndarray:
    """The columns as a float64 matrix [rows, columns]; the first bad cell raises with its location.

    A cell is bad when it is not a finite number, is not whole (``integer``), is below
    ``minimum`` (or equal to it, with ``exclusive``), or is empty (unless ``allow_empty``,
    when empty cells become 0). Whole numbers written as ``3.0`` count as whole.
    Numeric columns are checked as one block; only text columns are converted one by one.
    """
    columns = list(columns)
    block = frame[columns]
    kinds = block.dtypes.to_numpy()
    numeric = np.array([pd.api.types.is_numeric_dtype(k) and not pd.api.types.is_bool_dtype(k) for k in kinds],
                       dtype=bool)
    if numeric.all():
        values = np.array(block.to_numpy(dtype=np.float64), copy=True)
        empty = np.isnan(values)               # in a numeric column only an empty cell is NaN
    else:
        values = np.empty(block.shape, dtype=np.float64)
        empty = np.zeros(block.shape, dtype=bool)
        if numeric.any():
            values[:, numeric] = block.loc[:, numeric].to_numpy(dtype=np.float64)
            empty[:, numeric] = np.isnan(values[:, numeric])
        for j in np.flatnonzero(~numeric):
            col = block.iloc[:, j]
            empty[:, j] = col.isna().to_numpy()
            if pd.api.types.is_bool_dtype(col.dtype):
                values[:, j] = np.nan
            else:
                values[:, j] = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) & ~empty
        if not allow_empty:
            bad |= empty
        if integer:
            bad |= np.isfinite(values) & (values != np.floor(values))
        if minimum is not None:
            bad |= (values <= minimum) if exclusive else (values < minimum)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        expected = "a whole number" if integer else "a finite number"
        if minimum is not None:
            expected += f" {'>' if exclusive else '>='} {minimum:g}"
        raw = block.iat[r, c]
        raise TraceError(f"{where}: line {r + 2}, column {frame.columns.get_loc(columns[c]) + 1} ({columns[c]}): "
                         f"{_show(raw)}, expected {expected}")
    if allow_empty:
        values[empty] = 0.0
    return values


def text_column(frame: pd.DataFrame, column: str, where: str) -> np.ndarray:
    """A column of non-empty text (ids, hashes) as an object array; an empty cell raises with its location."""
    col = frame[column]
    empty = col.isna().to_numpy()
    if empty.any():
        r = int(np.flatnonzero(empty)[0])
        raise TraceError(f"{cell(frame, r, column, where)}: empty, expected an id")
    return col.astype(str).str.strip().to_numpy(dtype=object)
