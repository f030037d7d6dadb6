"""``--load`` and ``--service-time``: load generators' command lines and k6 files as the workload of a command.

``--load "hey -c 20 -q 1 -z 600s URL"`` (repeatable, one client pool per command; a k6
script or JSON options file by its path) replaces ``--trace`` as the workload; every
command is read with :mod:`autoscale.loadgen` before any work starts, so a flag the tool
does not have ends the command at once. The service time of every request is
``--service-time`` (a distribution such as ``exponential:200ms``), or the durations of
``--trace`` resampled when a trace is given, or the default distribution; the run's
header says which. After the usual summary, the commands print what each pool
observed: a row per configuration and pool (:attr:`autoscale.ReplayResult.load_summary`).
"""

from __future__ import annotations

import argparse
import sys

from ..errors import ConfigError
from .table import format_table

__all__ = ["add_load_arguments", "check_load_arguments", "build_workload", "print_load", "write_load",
           "LOAD_COLUMNS"]

#: The load table's columns on the terminal (the saved table has every percentile).
LOAD_COLUMNS = ("pool", "clients", "sent", "responses", "in_flight", "rps", "status_200", "status_503",
                "status_504", "latency_p50_s", "latency_p90_s", "latency_p99_s")


def _distribution(text: str):
    from ..trace.durations import parse

    try:
        return parse(text, "service-time")
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


_distribution.__name__ = "distribution"


def add_load_arguments(parser) -> None:
    """``--load`` and ``--service-time``, shared by ``run``, ``compare`` and ``sweep``."""
    from ..loadgen import TOOLS
    from ..trace.durations import SPEC_SYNTAX

    g = parser.add_argument_group("load generators (instead of a trace's arrivals)")
    g.add_argument("--load", dest="loads", action="append", default=[], metavar="COMMAND|FILE",
                   help=f"a load generator's command line, read with the tool's own flags ({', '.join(TOOLS)}: "
                        "'hey -c 20 -q 1 -z 600s URL', 'wrk -c 50 -d 5m URL', 'vegeta attack -rate 50/s -duration "
                        "60s'), or a k6 script or JSON options file (its scenarios); repeat for several pools")
    g.add_argument("--service-time", type=_distribution, default=None, metavar="DIST",
                   help=f"service time of every --load request: {SPEC_SYNTAX} (default: the durations of --trace "
                        "resampled when it is given, else lognormal, median 0.5 s, sigma 0.5)")


#: Options that select or shape a trace's arrivals, which a --load workload does not have.
_ARRIVAL_OPTIONS = (("per_function", "--per-function"), ("route", "--route"), ("async_", "--async"),
                    ("function", "--function"), ("function_ids", "--function"),
                    ("functions", "--functions"))


def check_load_arguments(args, trace_option: str = "--trace") -> None:
    """Refuse what cannot go with ``--load`` (or without it), and read every ``--load`` once to check its flags."""
    from ..loadgen import parse

    traces = getattr(args, "traces", None) or ([args.trace] if getattr(args, "trace", None) else [])
    if not args.loads:
        if args.service_time is not None:
            raise ConfigError("--service-time applies to --load requests; give --load (a trace's requests keep "
                              "their durations)")
        if not traces:
            raise ConfigError(f"give {trace_option} (a bundled trace name or a trace file) or --load "
                              "(a load generator's command line)")
        return
    for attr, option in _ARRIVAL_OPTIONS:
        if getattr(args, attr, None):
            raise ConfigError(f"{option} applies to a trace's requests, not to --load clients")
    if args.service_time is not None and traces:
        raise ConfigError(f"--service-time and {trace_option}: give one (with --load, {trace_option} gives its "
                          "durations as the service times)")
    if len(traces) > 1:
        raise ConfigError(f"--load takes one {trace_option} (its durations are the service times)")
    for command in args.loads:
        parse(command, service=1.0)


def build_workload(args, seed: int = 0):
    """The workload of ``--load`` and where its service times come from: ``(workload, loads, words)``.

    The trace of ``--trace`` (loaded with the same options as for a replay) gives its
    durations; ``--service-time`` its distribution; else the default distribution.
    """
    from ..loadgen import parse, workload
    from ..trace.durations import DEFAULT_SERVICE

    traces = getattr(args, "traces", None) or ([args.trace] if getattr(args, "trace", None) else [])
    if traces:
        from ..trace import load

        from .options import csv_options

        limit = getattr(args, "max_memory", None)
        trace = load(traces[0], **csv_options(args, traces), **({"max_memory": limit} if limit is not None else {}))
        service, words = trace, (f"resampled from the {len(trace):,} durations of trace {trace.name} "
                                 f"({trace.provenance.durations or 'as recorded'})")
    elif args.service_time is not None:
        service, words = args.service_time, f"{args.service_time.describe()} (--service-time)"
    else:
        service, words = DEFAULT_SERVICE, f"{DEFAULT_SERVICE.describe()} (the default; --service-time sets it)"
    loads = [parse(command, service=service, seed=seed) for command in args.loads]
    return workload(*loads), loads, words


def print_header(work, loads, words) -> None:
    """The pools, the open-loop requests and where the service times come from."""
    from ..trace.trace import Trace

    pools = () if isinstance(work, Trace) else work.pools
    for pool in pools:
        print(f"pool {pool.describe()}")
    opened = work if isinstance(work, Trace) else work.trace
    if opened is not None:
        print(f"open loop {opened.name}: {len(opened):,} requests over {opened.span:,.0f} s")
    print(f"service times: {words}")


def notes(loads) -> list[str]:
    return [n for load in loads for n in load.notes]


def print_load(table, keys=None, label: str | None = None) -> None:
    """The per-pool table after the summary: a row per configuration (or policy) and pool.

    ``keys`` is the summary's ``config`` column and the keys that vary in the batch, joined
    to the pools' rows by configuration.
    """
    if table is None:
        print("load: no client pools (open-loop requests are counted in the summary above)")
        return
    if keys is not None and len(keys.columns) > 1:
        join = [c for c in ("config", label) if c is not None]
        table = table.merge(keys, on=join, how="left")
    lead = list(dict.fromkeys(c for c in (label, "config", *([] if keys is None else keys.columns))
                              if c is not None and c in table))
    print("load:")
    print(format_table(table[[*lead, *LOAD_COLUMNS]]))


def write_load(table, out) -> None:
    """``--out``: the load table beside the summary (``NAME-load.csv``, or ``load.csv`` in a results folder)."""
    if table is None or out is None:
        return
    path = out.with_name(out.stem + "-load.csv") if out.suffix == ".csv" else out / "load.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)
    print(f"wrote {path}", file=sys.stderr)
