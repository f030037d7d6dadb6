"""``autoscale trace info``: the summary of a bundled trace or of any trace file."""

from __future__ import annotations

import argparse

from ..errors import TraceError
from .options import add_csv_arguments, csv_options

__all__ = ["register", "info", "load_from_args"]


def register(subparsers) -> None:
    """Add ``trace`` (with its ``info`` subcommand) to the top-level subparsers."""
    parser = subparsers.add_parser("trace", help="inspect traces", description="Inspect traces.")
    sub = parser.add_subparsers(dest="trace_command", metavar="SUBCOMMAND")
    p = sub.add_parser(
        "info", help="summarise a trace",
        description="Print the requests, span, mean and peak 1 s rate, duration percentiles and exact "
                    "concurrency of a bundled trace or a trace file, with its provenance.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("trace", nargs="?", help="a bundled trace name (see --list) or a trace file")
    p.add_argument("--list", action="store_true", help="list the bundled traces and exit")
    p.add_argument("--format", default=None,
                   help="azure2019, azure2021, counts, period-counts, huawei or csv (sniffed when omitted)")
    p.add_argument("--function", default=None, help="only this function (a name, unique prefix or index)")
    add_csv_arguments(p)
    p.add_argument("--seed", type=int, default=None, help="seed for expanded arrivals and drawn durations")
    p.set_defaults(func=info)

    def trace_help(args) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(func=trace_help)


def load_from_args(args):
    """The trace named by the parsed options (a bundled name or a file), narrowed to ``--function``."""
    from ..trace import load

    kw = csv_options(args, [args.trace] if args.trace else [])
    if getattr(args, "seed", None) is not None:
        kw["seed"] = args.seed
    trace = load(args.trace, **kw)
    if getattr(args, "function", None) is not None:
        key = args.function
        trace = trace.select(function=int(key) if key.isdigit() and len(key) < 6 else key)
    return trace


def info(args) -> int:
    """Print the summary of one trace (or the bundled names with ``--list``)."""
    from ..trace import BUNDLED

    if args.list:
        width = max(map(len, BUNDLED))
        for name, entry in BUNDLED.items():
            print(f"{name:<{width}}  {entry.description}")
        return 0
    if args.trace is None:
        raise TraceError("name a trace (a bundled name or a file), or use --list")
    trace = load_from_args(args)
    print(trace.summary())
    prov = trace.provenance
    print(f"  source: {prov.source}")
    for note in prov.notes:
        print(f"  note: {note}")
    if prov.licence:
        print(f"  licence: {prov.licence}")
    if prov.attribution:
        print(f"  cite: {prov.attribution}")
    return 0
