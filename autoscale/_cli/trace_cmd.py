"""``autoscale trace info`` and ``autoscale trace convert``: summarise a trace, or write it as a per-request CSV."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import TraceError
from .options import add_csv_arguments, csv_options

__all__ = ["register", "info", "convert", "load_from_args"]


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

    c = sub.add_parser(
        "convert", help="write a trace (or a window or thinning of it) as a per-request CSV",
        description="Load a trace with the same options as every other command (a time window with --start and "
                    "--end, thinning with --scale, durations from columns with --duration-from) and write it "
                    "as arrival_s,duration_s[,function[,app]], which loads back exactly. A long count series "
                    "converts a day at a time: --start 0 --end 24h, then --start 24h --end 48h, ...",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    c.add_argument("trace", help="a bundled trace name or a trace file")
    c.add_argument("out", type=Path, help="the CSV file to write")
    c.add_argument("--format", default=None,
                   help="azure2019, azure2021, counts, period-counts, huawei or csv (sniffed when omitted)")
    c.add_argument("--function", default=None, help="only this function (a name, unique prefix or index)")
    add_csv_arguments(c)
    c.add_argument("--seed", type=int, default=None, help="seed for expanded arrivals and drawn durations")
    c.set_defaults(func=convert)

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
    if getattr(args, "max_memory", None) is not None:
        kw["max_memory"] = args.max_memory
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
    print(f"  durations: {prov.durations or 'not recorded in the provenance'}")
    if trace.origin is not None:
        print(f"  time 0: {trace.origin.isoformat()} (--start and --end also take date-times)")
    if prov.licence:
        print(f"  licence: {prov.licence}")
    if prov.attribution:
        print(f"  cite: {prov.attribution}")
    return 0


def convert(args) -> int:
    """Write the trace the options describe as a per-request CSV."""
    trace = load_from_args(args)
    if args.out.suffix.lower() != ".csv":
        raise TraceError(f"{args.out}: write a .csv file (arrival_s,duration_s[,function[,app]])")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    trace.to_csv(args.out)
    print(f"wrote {args.out}: {len(trace):,} requests over {trace.span:,.0f} s")
    print(f"durations: {trace.provenance.durations or 'not recorded in the provenance'}")
    return 0
