"""Reading command-line values: every option is checked before any work starts, and an error names the option.

Scalar options are checked by argparse as it parses (their ``type=`` below), so a bad
``--duration`` or ``--seed`` ends the command before a trace is loaded. ``KEY=V1,V2``
options (``--set``, ``--grid``, ``--random``) share one reader that refuses a key given
twice and a value listed twice. Policy parameters read the same everywhere:
``POLICY.KEY=VALUE`` or ``POLICY:KEY=VALUE``, with ``-`` or ``_`` in the key.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from ..errors import ConfigError, TraceError

__all__ = [
    "seconds", "whole", "positive", "figure", "parse_assignments", "parse_policy_text",
    "add_csv_arguments", "csv_options", "time_point", "fraction", "size", "expression",
]

#: The per-request CSV options, as ``load`` keywords.
_CSV_OPTIONS = ("time_column", "time_unit", "duration_column", "duration_unit")
_UNITS = ("s", "ms", "us")

#: How a time is written on the command line (help texts and messages).
SECONDS_SYNTAX = "a number of seconds or a duration such as 90s, 5m or 1h"


def seconds(option: str, *, minimum: float = 0.0, inclusive: bool = False):
    """An argparse ``type``: seconds as ``90``, ``90s``, ``5m`` or ``1h``, finite and above ``minimum``.

    >>> seconds("--duration")("5m")
    300.0
    """
    from ..values import parse_seconds

    bound = f"{'>=' if inclusive else '>'} {minimum:g} s"
    name = option.lstrip("-")

    def read(text: str) -> float:
        try:
            value = parse_seconds(text, name)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if not (math.isfinite(value) and (value >= minimum if inclusive else value > minimum)):
            raise argparse.ArgumentTypeError(f"{name} = {text}, must be finite and {bound} "
                                             f"({SECONDS_SYNTAX})")
        return value

    read.__name__ = "seconds"
    return read


def whole(option: str, minimum: int = 0):
    """An argparse ``type``: a whole number ``>= minimum``.

    >>> whole("--seed")("7")
    7
    """
    name = option.lstrip("-")

    def read(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"{name} = {text}, must be a whole number >= {minimum}")
        return value

    read.__name__ = "whole number"
    return read


def positive(option: str):
    """An argparse ``type``: a number > 0 (``inf`` allowed: no limit)."""
    name = option.lstrip("-")

    def read(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{name} = {text}, must be a number > 0 (inf: no limit)")
        return value

    read.__name__ = "number"
    return read


def time_point(option: str):
    """An argparse ``type``: a window end as seconds, a duration (``6h``) or a date-time (``1998-05-01 00:00``).

    >>> time_point("--start")("6h")
    21600.0
    """
    from ..trace.window import parse_time

    name = option.lstrip("-")

    def read(text: str):
        try:
            return parse_time(text, name)
        except TraceError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    read.__name__ = "time"
    return read


def fraction(option: str):
    """An argparse ``type``: a fraction in (0, 1].

    >>> fraction("--scale")("0.25")
    0.25
    """
    from ..trace.window import check_scale

    name = option.lstrip("-")

    def read(text: str) -> float:
        try:
            return check_scale(text)
        except TraceError:
            raise argparse.ArgumentTypeError(f"{name} = {text}, must be a fraction in (0, 1] (the share of "
                                             "arrivals to keep)") from None

    read.__name__ = "fraction"
    return read


def size(option: str):
    """An argparse ``type``: bytes, from ``4G``, ``512Mi``, ``2GB`` or a number of bytes.

    >>> size("--max-memory")("2G")
    2000000000
    """
    from ..trace.sizes import parse_bytes

    name = option.lstrip("-")

    def read(text: str) -> int:
        try:
            return parse_bytes(text, name)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    read.__name__ = "size"
    return read


def expression(option: str):
    """An argparse ``type``: an arithmetic expression of column names, parsed and checked (never evaluated here)."""
    from ..trace.expression import Expression

    name = option.lstrip("-")

    def read(text: str):
        try:
            return Expression.parse(text, name)
        except TraceError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    read.__name__ = "expression"
    return read


def figure(option: str):
    """An argparse ``type``: a figure path whose extension matplotlib writes (``.png``, ``.svg``, ``.pdf``, ...)."""

    def read(text: str) -> Path:
        from matplotlib.backend_bases import FigureCanvasBase

        path = Path(text)
        known = sorted(FigureCanvasBase.get_supported_filetypes())
        ext = path.suffix[1:].lower()
        if ext not in known:
            what = f"unknown figure format .{ext}" if ext else "no extension to name the figure format"
            raise argparse.ArgumentTypeError(f"{text}: {what}; use one of "
                                             f"{', '.join('.' + k for k in known)}")
        return path

    read.__name__ = "figure"
    return read


def parse_assignments(items: list[str], option: str, *, lists: bool = True) -> list[tuple[str, list[str]]]:
    """``["a=1,2", "b=x"]`` -> ``[("a", ["1", "2"]), ("b", ["x"])]``, in the order given.

    A key given twice (``--set a=1 --set a=2``) and a value listed twice (``a=1,1``) are
    errors naming ``option``, the key and the values; so is a list when ``lists`` is false.

    >>> parse_assignments(["target=10,20", "stable-window=90s"], "--set")
    [('target', ['10', '20']), ('stable-window', ['90s'])]
    """
    from ..values import first_repeat

    out: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"{option} {item}: expected KEY=VALUE" + ("[,VALUE...]" if lists else ""))
        values = [v.strip() for v in value.split(",")] if lists else [value.strip()]
        if any(v == "" for v in values):
            raise ConfigError(f"{option} {item}: empty value" + (" in the list" if lists else ""))
        again = first_repeat(values)
        if again >= 0:
            raise ConfigError(f"{option} {key}={value}: {values[again]} is listed twice; give each value once")
        if key in out:
            raise ConfigError(f"{option} {key} is given twice ({key}={','.join(out[key])} and {key}={value}); "
                              "give a key once" + (", with a comma list for several values" if lists else ""))
        out[key] = values
    return list(out.items())


def parse_policy_text(text: str, option: str) -> tuple[str, list[tuple[str, list[str]]]]:
    """``"keepalive:keep-alive=60,600"`` -> ``("keepalive", [("keep_alive", ["60", "600"])])``.

    After the name, ``.`` or ``:`` starts the parameters; further parameters follow ``:``.
    """
    from ..policies import name_end
    from ..values import first_repeat

    cut = name_end(text)
    name, rest = text[:cut].strip(), text[cut + 1:]
    if not name:
        raise ConfigError(f"{option} {text!r}: expected NAME[:PARAM=V1,V2,...]")
    specs = rest.split(":") if rest.strip() else []
    pairs = parse_assignments(specs, f"{option} {name}:")
    keys = [k.replace("-", "_") for k, _ in pairs]
    again = first_repeat(keys)
    if again >= 0:
        raise ConfigError(f"{option} {text!r}: parameter {keys[again]} is given twice")
    return name, list(zip(keys, (v for _, v in pairs)))


def add_csv_arguments(parser) -> None:
    """The per-request CSV options, shared by every command that loads a trace."""
    parser.add_argument("--time-column", default=None, help="per-request CSV: the timestamp column")
    parser.add_argument("--time-unit", default=None, choices=_UNITS,
                        help="unit of numeric --time-column values (without it: seconds, and epoch milliseconds "
                             "are refused)")
    parser.add_argument("--duration-column", default=None, help="per-request CSV: the duration column")
    parser.add_argument("--duration-unit", default=None, choices=_UNITS,
                        help="unit of --duration-column (without it: seconds, and a name such as latency_ms is "
                             "refused)")
    parser.add_argument("--duration-from", type=expression("--duration-from"), default=None, metavar="EXPR",
                        help="per-request CSV without durations: durations (s, or --duration-unit) from an "
                             "arithmetic expression of columns, such as '0.02 + 0.015 * GeneratedTokens' "
                             "(numbers, + - * / **, parentheses, min, max, log, exp, sqrt, abs)")
    parser.add_argument("--period", type=seconds("--period"), default=None, metavar="DURATION",
                        help="count series: the length of a period (default 1 s for counts, 60 s for period "
                             "indices, and the spacing of the rows for date-time periods)")
    add_window_arguments(parser)


def add_window_arguments(parser) -> None:
    """``--start``, ``--end``, ``--scale`` and ``--max-memory``: what part of a trace to load, and the memory limit."""
    when = "seconds from the trace start, a duration such as 6h, or a date-time for a trace of date-times"
    parser.add_argument("--start", type=time_point("--start"), default=None, metavar="TIME",
                        help=f"keep the requests arriving from TIME on, and make TIME time 0 ({when})")
    parser.add_argument("--end", type=time_point("--end"), default=None, metavar="TIME",
                        help=f"keep the requests arriving before TIME ({when})")
    parser.add_argument("--scale", type=fraction("--scale"), default=None, metavar="F",
                        help="thin the arrivals to the fraction F in (0, 1], seeded (count traces thin their "
                             "counts before expanding them)")
    parser.add_argument("--max-memory", type=size("--max-memory"), default=None, metavar="SIZE",
                        help="memory limit for the trace and the replay, such as 4G or 8Gi (default: "
                             "$AUTOSCALE_MAX_MEMORY, else 80%% of the memory available); larger work is refused "
                             "before it starts")


#: The formats whose loaders take ``period``, and those that take ``duration_from``.
_PERIOD_FORMATS = ("counts", "period-counts")
_EXPRESSION_FORMATS = ("csv",)


def _check_formats(traces, fmt, option: str, allowed: tuple[str, ...], kind: str) -> None:
    """Refuse ``option`` for a trace whose format is not among ``allowed``."""
    from ..trace import BUNDLED, sniff_format

    if fmt is not None:
        formats = [(f"--format {fmt}", fmt)]
    else:
        formats = []
        for ref in traces:
            path = Path(str(ref))
            if path.is_file():
                formats.append((str(ref), sniff_format(path)))
            elif str(ref) in BUNDLED:
                formats.append((f"bundled trace {ref}", BUNDLED[str(ref)].format))
    for what, f in formats:
        if f not in allowed:
            raise TraceError(f"{option} applies to {kind} ({', '.join(allowed)}), but {what} is {f}")


def csv_options(args, traces=()) -> dict:
    """The ``load`` keywords of the CSV, ``--period`` and window options (with ``format``), checked together.

    ``traces`` are the trace references the keywords will load: ``--period`` is
    refused unless each of them is a count series, ``--duration-from`` unless each is a
    per-request CSV. ``--max-memory`` is not among them: the commands pass it on.

    >>> csv_options(argparse.Namespace(format=None, time_column="ts", time_unit="ms", duration_column=None,
    ...                                duration_unit=None))
    {'time_column': 'ts', 'time_unit': 'ms', 'format': 'csv'}
    """
    from ..trace.window import Window

    given = {k: getattr(args, k) for k in _CSV_OPTIONS if getattr(args, k, None) is not None}
    expr = getattr(args, "duration_from", None)
    if expr is not None:
        if "duration_column" in given:
            raise TraceError(f"--duration-column {given['duration_column']} and --duration-from {expr.text!r}: "
                             "give one")
        _check_formats(traces, getattr(args, "format", None), "--duration-from", _EXPRESSION_FORMATS,
                       "per-request CSVs")
    start, end = getattr(args, "start", None), getattr(args, "end", None)
    Window.parse(start, end)  # end after start, when both are of one kind
    # date-times as ISO text: a sweep records its load options as plain values
    window = {k: v.isoformat() if hasattr(v, "isoformat") else v
              for k, v in (("start", start), ("end", end), ("scale", getattr(args, "scale", None))) if v is not None}
    fmt = getattr(args, "format", None)
    if given and fmt not in (None, "csv"):
        raise TraceError(f"--time-column, --time-unit, --duration-column and --duration-unit apply to --format csv, "
                         f"not {fmt}")
    for unit, column in (("time_unit", "time_column"), ("duration_unit", "duration_column")):
        if unit in given and column not in given:
            raise TraceError(f"--{unit.replace('_', '-')} {given[unit]} needs --{column.replace('_', '-')} "
                             "(the column it applies to)")
    if given:
        fmt = "csv"
    if expr is not None:
        given["duration_from"] = expr.text
    period = getattr(args, "period", None)
    if period is not None:
        _check_formats(traces, fmt, "--period", _PERIOD_FORMATS, "count series")
        given["period"] = period
    return {**given, **window, **({"format": fmt} if fmt is not None else {})}


def add_quiet_argument(parser) -> None:
    """``--quiet`` (or ``--no-progress``): no progress on standard error (:mod:`autoscale.progress`)."""
    parser.add_argument("--quiet", "--no-progress", dest="quiet", action="store_true",
                        help="show no progress on standard error (also AUTOSCALE_PROGRESS=0); by default long "
                             "work shows it after a few seconds")


def progress_from(args):
    """The ``progress`` argument of a replay or sweep for the command line's options."""
    return False if args.quiet else None
