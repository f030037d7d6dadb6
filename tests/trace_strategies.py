"""Hypothesis strategies for the trace layer: small valid traces, and malformed cells for fuzzing the parsers.

The malformed values never contain a digit, a quote, a comma or a line break unless
that is the point (``BAD_STRUCTURE``), so a corrupted cell is malformed under every rule:
no parser may read it as a valid number.
"""

from __future__ import annotations

import string

import numpy as np
from hypothesis import strategies as st

from autoscale.trace import Trace

__all__ = [
    "BAD_COUNTS", "BAD_REALS", "bad_count", "bad_positive_real", "bad_real", "request_lists", "traces",
    "write_rows",
]

#: Non-digit text: letters and punctuation, no quote, comma, whitespace or line break.
_TEXT = st.text(alphabet=string.ascii_letters + "!#$%&()*+-./:;<=>?@[]^_{|}~", min_size=1, max_size=8)

#: Values no count column may hold: not a number, negative, fractional, not finite, empty.
BAD_COUNTS = ("abc", "-1", "-7", "1.5", "0.25", "nan", "NaN", "inf", "-inf", "1e400", "", "0x10", "true", "--")
#: Values no duration or timestamp column may hold.
BAD_REALS = ("abc", "-1", "-0.5", "nan", "NaN", "inf", "-inf", "1e400", "", "true", "--", "1..2")


def bad_count() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(BAD_COUNTS), _TEXT)


def bad_real() -> st.SearchStrategy[str]:
    """A malformed value for a column of finite numbers >= 0."""
    return st.one_of(st.sampled_from(BAD_REALS), _TEXT)


def bad_positive_real() -> st.SearchStrategy[str]:
    """A malformed value for a column of finite numbers > 0 (0 is malformed too)."""
    return st.one_of(st.sampled_from((*BAD_REALS, "0", "0.0")), _TEXT)


def write_rows(path, header: list[str], rows: list[list[str]]) -> None:
    path.write_text("\n".join([",".join(header)] + [",".join(r) for r in rows]) + "\n")


@st.composite
def request_lists(draw, max_size: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Unsorted (arrival, duration) pairs in seconds, arrivals in [0, 30], durations in [1 ms, 12 s]."""
    pairs = draw(st.lists(st.tuples(st.floats(0, 30, allow_nan=False), st.floats(0.001, 12, allow_nan=False)),
                          min_size=1, max_size=max_size))
    a, d = zip(*pairs)
    return np.array(a), np.array(d)


@st.composite
def traces(draw, max_size: int = 40, functions: int = 3) -> Trace:
    """A small trace, sorted, with up to ``functions`` functions (names f0, f1, ...)."""
    a, d = draw(request_lists(max_size))
    k = draw(st.integers(1, functions))
    f = np.array(draw(st.lists(st.integers(0, k - 1), min_size=a.size, max_size=a.size)), dtype=np.int32)
    return Trace.from_unsorted(a, d, function=f, function_names=tuple(f"f{i}" for i in range(k)), name="hyp")
