"""Knative's value syntax: Go durations, bools and numbers, parsed and written the way Knative does.

Knative reads every ``config-autoscaler`` key and every annotation as a string and parses
it with Go's ``strconv`` and ``time.ParseDuration`` (``pkg/autoscaler/config/config.go``,
``pkg/apis/autoscaling/annotation_validation.go``); the command line adds plain numbers of
seconds. Formatting goes the other way, for messages and tables: 60.0 -> ``"60s"``,
3600 -> ``"1h"`` as a bound. :func:`first_repeat` finds a key or value given twice, which
every reader of these values refuses.

Examples
--------
>>> parse_duration("1m30s"), parse_seconds("90"), parse_bool("True")
(90.0, 90.0, True)
>>> format_number(70.0), format_duration(0.5), format_bound(3600)
('70', '0.5s', '1h')
"""

from __future__ import annotations

import re
from fractions import Fraction

from .errors import ConfigError

__all__ = [
    "parse_duration",
    "parse_seconds",
    "parse_bool",
    "parse_float",
    "parse_int",
    "duration_ns",
    "first_repeat",
    "format_number",
    "format_duration",
    "format_bound",
    "INT32_MAX",
]

INT32_MAX = 2**31 - 1  #: Knative parses every integer key as int32


# -- formatting --------------------------------------------------------------------------


def format_number(x: float) -> str:
    """70.0 -> "70", 0.7 -> "0.7"; the way Knative's YAML writes numbers."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x) if isinstance(x, float) else str(x)


def format_duration(seconds: float) -> str:
    """A duration value the way the config map writes it: 60.0 -> "60s", 0.5 -> "0.5s"."""
    return format_number(float(seconds)) + "s"


def format_bound(seconds: float) -> str:
    """A duration bound in its largest whole unit: 3600 -> "1h", 6 -> "6s"."""
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return format_duration(seconds)


# -- parsing Knative's string syntax -----------------------------------------------------

_NS_PER_UNIT = {
    "ns": 1, "us": 10**3, "\u00b5s": 10**3, "\u03bcs": 10**3,
    "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9,
}
_DURATION_PART = re.compile(r"(\d*)(?:\.(\d*))?([^\d.]+)")
_INT_RE = re.compile(r"[+-]?\d+")
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_BOOLS = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}


def duration_ns(text: str) -> int | None:
    """Go ``time.ParseDuration`` in integer nanoseconds, or None when the text is not one.

    >>> duration_ns("1.5s"), duration_ns("90")
    (1500000000, None)
    """
    s = text
    sign = 1
    if s[:1] in ("+", "-"):
        sign, s = (-1 if s[0] == "-" else 1), s[1:]
    if s == "0":  # the only unit-less duration Go accepts
        return 0
    if not s:
        return None
    total, pos = Fraction(0), 0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if m is None:
            return None
        whole, frac, unit = m.groups()
        if not whole and not frac or unit not in _NS_PER_UNIT:
            return None
        amount = Fraction(int(whole or 0))
        if frac:
            amount += Fraction(int(frac), 10 ** len(frac))
        total += amount * _NS_PER_UNIT[unit]
        pos = m.end()
    ns = int(total)  # Go truncates sub-nanosecond fractions
    if ns > 2**63 - 1:
        return None
    return sign * ns


def parse_duration(text: str, key: str = "duration") -> float:
    """Parse a Go duration (``"60s"``, ``"1m30s"``, ``"500ms"``, ``"0"``) into seconds.

    Knative parses every duration key with Go's ``time.ParseDuration``, which needs a
    unit on every number, so a bare ``"60"`` is rejected (only ``"0"`` is allowed bare).

    Parameters
    ----------
    text : str
        The duration text.
    key : str
        The key being parsed, named in the error.

    Returns
    -------
    float
        Seconds.

    Raises
    ------
    ConfigError
        When ``text`` is not a Go duration.

    Examples
    --------
    >>> parse_duration("1m30s"), parse_duration("500ms"), parse_duration("0")
    (90.0, 0.5, 0.0)
    """
    if not isinstance(text, str):
        raise TypeError(f"{key}: expected a duration string, got {type(text).__name__}")
    ns = duration_ns(text.strip())
    if ns is None:
        raise ConfigError(
            f"{key} = {text}, must be a duration with a unit on every number, "
            f"such as 60s, 1m30s or 500ms")
    return ns / 1e9


def parse_seconds(text: str, key: str = "duration") -> float:
    """Seconds from a plain number (``"90"``, ``"0.5"``) or a Go duration (``"90s"``, ``"5m"``, ``"1h"``).

    The command line's reading of a time: wherever seconds are asked for, a bare number
    is seconds and a unit may be given. Knative's own files keep Go's rule (see
    :func:`parse_duration`). The value may be negative or infinite; callers check the range.

    Raises
    ------
    ConfigError
        When ``text`` is neither a number nor a Go duration.

    Examples
    --------
    >>> parse_seconds("90"), parse_seconds("5m"), parse_seconds("1h"), parse_seconds("1.5")
    (90.0, 300.0, 3600.0, 1.5)
    """
    if not isinstance(text, str):
        raise TypeError(f"{key}: expected a str, got {type(text).__name__}")
    s = text.strip()
    if _NUMBER_RE.fullmatch(s):
        return float(s)
    ns = duration_ns(s)
    if ns is None:
        raise ConfigError(f"{key} = {text}, must be a number of seconds or a duration such as 90s, 5m or 1h")
    return ns / 1e9


def first_repeat(values) -> int:
    """The index of the first value equal to an earlier one, or -1 (a repeated key or grid value is refused).

    >>> first_repeat([1, 2, 1]), first_repeat(["a", "b"])
    (2, -1)
    """
    seen = []
    for i, v in enumerate(values):
        if v in seen:
            return i
        seen.append(v)
    return -1


def parse_bool(text: str, key: str = "bool") -> bool:
    """Parse Go bool syntax: 1, t, T, TRUE, true, True and 0, f, F, FALSE, false, False.

    Examples
    --------
    >>> parse_bool("True"), parse_bool("0")
    (True, False)
    """
    if not isinstance(text, str):
        raise TypeError(f"{key}: expected a bool string, got {type(text).__name__}")
    try:
        return _BOOLS[text.strip()]
    except KeyError:
        raise ConfigError(f"{key} = {text}, must be a bool: true or false "
                          f"(also 1, t, T, TRUE, True, 0, f, F, FALSE, False)") from None


def parse_float(text: str, key: str) -> float:
    """Go's ``strconv.ParseFloat``: decimal or hex, ``inf`` and ``nan`` words, no underscores.

    >>> parse_float("0.8", "k"), parse_float("0x10", "k")
    (0.8, 16.0)
    """
    s = text.strip()
    try:
        if "_" in s:
            raise ValueError
        return float(s) if not s.lower().lstrip("+-").startswith("0x") else float.fromhex(s)
    except ValueError:
        raise ConfigError(f"{key} = {text}, must be a number") from None


def parse_int(text: str, key: str) -> int:
    """A 32-bit decimal integer, as Knative's ``strconv.ParseInt(text, 10, 32)`` reads it.

    >>> parse_int(" 20 ", "max-scale")
    20
    """
    s = text.strip()
    if not _INT_RE.fullmatch(s):
        raise ConfigError(f"{key} = {text}, must be an integer")
    value = int(s)
    if not -INT32_MAX - 1 <= value <= INT32_MAX:
        raise ConfigError(f"{key} = {text}, must be a 32-bit integer")
    return value
