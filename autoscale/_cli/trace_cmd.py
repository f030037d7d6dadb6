"""``autoscale trace info``: the summary of a bundled trace or a trace file."""

from __future__ import annotations

from ..errors import TraceError


def register(subparsers) -> None:
    p = subparsers.add_parser("trace", help="inspect traces", description="Inspect traces.")
    sub = p.add_subparsers(dest="trace_command", metavar="SUBCOMMAND")
    info = sub.add_parser(
        "info", help="summarise a trace",
        description="Print requests, span, mean and peak rate, duration percentiles and concurrency of a trace.",
    )
    info.add_argument("trace", nargs="?", help="a bundled trace name or a trace file")
    info.add_argument("--format", default=None, help="azure2019, azure2021, counts, period-counts, huawei or csv")
    info.add_argument("--function", default=None, help="only this function (hash or unique prefix)")
    info.add_argument("--time-column", default=None, help="per-request CSV: the timestamp column")
    info.add_argument("--duration-column", default=None, help="per-request CSV: the duration column")
    info.add_argument("--duration-unit", default=None, choices=("s", "ms"), help="unit of --duration-column")
    info.add_argument("--list", action="store_true", help="list the bundled traces instead")
    info.set_defaults(func=_info)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _info(args) -> int:
    from ..trace import BUNDLED
    from .run_cmd import load_trace

    if args.list:
        for name, entry in BUNDLED.items():
            print(f"{name:16s} {entry.description}")
        return 0
    if args.trace is None:
        raise TraceError("name a trace (a bundled name or a file), or use --list")
    if args.format not in (None, "csv") and (args.time_column or args.duration_column):
        raise TraceError("--time-column and --duration-column apply to --format csv only")
    trace = load_trace(args)
    print(trace.summary())
    if trace.provenance:
        print(f"  provenance: {trace.provenance}")
    return 0
