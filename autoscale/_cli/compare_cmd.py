"""``autoscale compare``: several scaling policies on one trace, one row each."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import outputs
from ..errors import ConfigError
from .options import figure, progress_from
from .run_cmd import (
    add_async_arguments, add_config_arguments, add_param_argument, add_run_arguments, add_trace_arguments,
    build_batch, check_async_options, invocation_from, load_trace, print_durations, write_outputs,
)
from .load_options import add_load_arguments, build_workload, check_load_arguments, notes, print_header, print_load
from .load_options import write_load
from .table import format_table


def register(subparsers) -> None:
    from ..policies import names

    p = subparsers.add_parser(
        "compare",
        help="compare scaling policies on one trace",
        description="Replay one trace under several scaling policies (same configuration, platform and seed) "
                    "and print one row per policy.",
        epilog=f"Policies: {', '.join(names())}. Parameters: --param POLICY.KEY=VALUE (or POLICY:KEY=VALUE), "
               "for example --param keepalive.keep_alive=5m --param hpa.metric=cpu --param fixed.replicas=4.",
    )
    add_trace_arguments(p, load=True)
    add_load_arguments(p)
    add_config_arguments(p)
    p.add_argument("--policies", required=True, help="comma list of policies, e.g. kpa,hpa,fixed,keepalive")
    add_param_argument(p)
    add_run_arguments(p)
    p.add_argument("--out", type=Path, default=None,
                   help="save the results: a .csv path gets the summary table, any other path a results directory "
                        "(with --load, the load table beside it: NAME-load.csv or DIR/load.csv)")
    p.add_argument("--plot", type=figure("--plot"), default=None,
                   help="write the timeline of every policy and configuration, as small multiples or overlaid when "
                        "there are more than six (PNG, SVG, PDF, ...)")
    p.add_argument("--invocations", default="sync", metavar="sync,async",
                   help="run every policy synchronously, asynchronously (through a queue), or both")
    add_async_arguments(p, flag=False)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..compare import compare, parse_policy_params

    check_load_arguments(args)
    names = [n.strip() for n in args.policies.split(",") if n.strip()]
    if not names:
        raise ConfigError("--policies: give at least one policy")
    if len(set(names)) != len(names):
        raise ConfigError(f"--policies {args.policies!r}: a policy is named twice")
    policies = parse_policy_params(names, args.params)
    modes = [m.strip() for m in args.invocations.split(",") if m.strip()]
    if not modes or any(m not in ("sync", "async") for m in modes) or len(set(modes)) != len(modes):
        raise ConfigError(f"--invocations {args.invocations!r}: give sync, async, or sync,async")
    if args.loads and "async" in modes:
        raise ConfigError("--invocations async: closed-loop clients wait for each response; compare --load runs "
                          "synchronously")
    check_async_options(args, "async" in modes, "--invocations async (or sync,async)")
    invocation = invocation_from(args) if "async" in modes else None
    configs, platform = build_batch(args)
    timeseries = args.plot is not None or (args.out is not None and args.out.suffix != ".csv")
    if args.loads:
        trace, loads, words = build_workload(args, args.seed)
    else:
        trace = load_trace(args, len(configs), timeseries)
    cmp = compare(trace, policies, configs, platform=platform, seed=args.seed, duration=args.duration,
                  timeseries=timeseries, invocations=modes, invocation=invocation, progress=progress_from(args))
    table = cmp.summary
    shape = (f"{len(configs)} configuration(s) x {len(policies)} policies x {len(modes)} invocation mode(s), "
             f"seed {args.seed}")
    if args.loads:
        print(f"workload {trace.name}: {len(args.loads)} load generator(s); {shape}")
        print_header(trace, loads, words)
    else:
        print(f"trace {trace.name}: {len(trace):,} requests over {trace.span:,.0f} s; {shape}")
        print_durations(trace)
    keys = list(table.columns[2 : table.columns.get_loc("requests")])
    # The terminal shows the compare views' columns (the saved table has them all).
    shown = [*outputs.shown("compare"), *[c for c in outputs.shown("compare_async") if c in table]]
    print(format_table(table[["policy", *([] if len(configs) == 1 else ["config", *keys]), *shown]]))
    if args.loads:
        print_load(cmp.load_summary, table[["policy", "config", *([] if len(configs) == 1 else keys)]],
                   label="policy")
        for note in dict.fromkeys(notes(loads)):
            print(f"note: {note}")
    write_outputs(cmp, table, args)
    if args.loads:
        write_load(cmp.load_summary, args.out)
    return 0
