"""Result tables on the terminal: whole numbers as integers, one notation per column, one row per configuration.

An output's column prints with the significant digits its :class:`autoscale.outputs.Output`
gives (``digits``). A column of whole numbers (counts, ``prints = "count"``, and keys such
as ``target-burst-capacity``) prints as integers. Any other numeric column
prints in fixed-point notation with the same number of decimals on every row: enough for
the output's significant digits (four by default) of its largest value and two of its
smallest non-zero one, at most six (``1.365`` and ``13.96`` in one column print as
``1.36`` and ``13.96``; 8495.99 pod-seconds beside 30009.2 as ``8496`` and ``30009``;
0.0012 s beside 1.9 s as ``0.0012`` and ``1.9000``). Never an exponent. A count that is
not whole (an average over seeds) keeps its decimals.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..outputs import lookup

__all__ = ["format_table", "MAX_DECIMALS", "DIGITS"]

#: Most decimals a column prints with.
MAX_DECIMALS = 6

#: Significant digits of a column's largest value, for a column that is no output.
DIGITS = 4


def _decimals(finite: np.ndarray, digits: int = DIGITS) -> int:
    magnitude = np.abs(finite)
    largest = magnitude.max()
    smallest = magnitude[magnitude > 0].min()
    need = max(digits - 1 - math.floor(math.log10(largest)), 1 - math.floor(math.log10(smallest)))
    return min(max(need, 0), MAX_DECIMALS)


def _column(values: pd.Series, output=None) -> list[str]:
    """The texts of one column; ``output`` is its :class:`autoscale.outputs.Output`, None for a key."""
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return ["-" if v is None or v is pd.NA else str(v) for v in values]
    x = values.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = x[np.isfinite(x)]
    whole = finite.size == 0 or (np.all(finite == np.round(finite)) and np.abs(finite).max() < 1e15)
    digits = DIGITS if output is None else output.digits
    decimals = 0 if whole or not np.any(finite) else _decimals(finite, digits)
    out = []
    for v in x:
        if math.isnan(v):
            out.append("NaN")
        elif math.isinf(v):
            out.append("inf" if v > 0 else "-inf")
        elif whole:
            out.append(str(int(v)))
        else:
            out.append(f"{v:.{decimals}f}")
    return out


def format_table(frame: pd.DataFrame) -> str:
    """``frame`` as aligned text without its index, one line per row (also for a single row).

    Examples
    --------
    >>> print(format_table(pd.DataFrame({"config": [0, 1], "requests": [11484.0, 75210000.0],
    ...                                  "latency_p99_s": [0.0012, 13.96]})))
     config  requests  latency_p99_s
          0     11484         0.0012
          1  75210000        13.9600
    """
    texts = {name: _column(frame[name], lookup(name)) for name in frame.columns}
    widths = {name: max([len(str(name)), *map(len, texts[name])]) for name in frame.columns}
    lines = [" ".join(f" {str(name):>{widths[name]}}" for name in frame.columns)]
    for i in range(len(frame)):
        lines.append(" ".join(f" {texts[name][i]:>{widths[name]}}" for name in frame.columns))
    return "\n".join(lines)
