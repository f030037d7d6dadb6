"""``autoscale run``: replay one trace through a batch of KPA configurations and print the summary."""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from pathlib import Path

from .. import outputs
from ..config import HPA_CLASS
from ..errors import ConfigError
from ..platform import PLATFORM_KEYS
from .options import (
    SECONDS_SYNTAX, add_csv_arguments, add_quiet_argument, csv_options, figure, parse_assignments, parse_policy_text,
    positive, progress_from, seconds, whole,
)
from .load_options import add_load_arguments, build_workload, check_load_arguments, print_header, print_load
from .load_options import notes as load_notes
from .load_options import write_load
from .table import format_table
from ..trace.sizes import check_configurations


def add_trace_arguments(parser: argparse.ArgumentParser, load: bool = False) -> None:
    """The options that name a trace, shared by the commands that replay one (``load``: or ``--load`` instead)."""
    if load:
        parser.add_argument("--trace", default=None,
                            help="a bundled trace name or a trace file (with --load: its durations are the "
                                 "service times)")
    else:
        parser.add_argument("--trace", required=True, help="a bundled trace name or a trace file")
    parser.add_argument("--format", default=None, help="trace file format (sniffed when omitted)")
    parser.add_argument("--function", default=None, help="replay only this function of a multi-function trace")
    add_csv_arguments(parser)


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--configmap", type=Path, default=None, help="a config-autoscaler ConfigMap (YAML)")
    parser.add_argument("--service", type=Path, default=None,
                        help="a Knative Service manifest (YAML); with spec.traffic (and the earlier revisions "
                             "in the file) autoscale run replays the split, a row per revision")
    parser.add_argument(
        "--set", dest="sets", action="append", default=[], metavar="KEY=V1[,V2...]",
        help="override a key; a comma list runs the cross product as one batch. Besides Knative's keys, the "
             "platform's: cold-start (a constant, e.g. 2s), mode-switch-delay, activators (1-32, default 1)",
    )


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "run",
        help="replay a trace through the KPA (or another policy)",
        description="Replay one trace through a batch of KPA configurations and print a summary per configuration.",
    )
    add_trace_arguments(p, load=True)
    add_load_arguments(p)
    add_config_arguments(p)
    add_run_arguments(p)
    p.add_argument("--policy", default=None, metavar="NAME[:PARAM=VALUE...]",
                   help="scaling policy, optionally with parameters (default kpa, or hpa when every configuration's "
                        "pod-autoscaler-class is hpa.autoscaling.knative.dev; see autoscale compare --help)")
    add_param_argument(p)
    p.add_argument("--out", type=Path, default=None,
                   help="save the results: a .csv path gets the summary table, any other path a results directory "
                        "(with --load, the load table beside it: NAME-load.csv or DIR/load.csv)")
    p.add_argument("--plot", type=figure("--plot"), default=None,
                   help="write the timeline of every configuration, as small multiples or overlaid when there are more "
                        "than six (PNG, SVG, PDF, ...)")
    add_async_arguments(p)
    many = p.add_argument_group("several services or revisions")
    many.add_argument("--per-function", action="store_true",
                      help="replay every function of the trace as its own service, all in one batch")
    many.add_argument("--route", type=Path, default=None, metavar="FILE",
                      help="a Knative Route manifest (with --service or Revision documents for its revisions), "
                           "or a YAML file of revisions and traffic (split, tags, schedule, rollout)")
    many.add_argument("--activator-pool", type=whole("--activator-pool", 1), default=None, metavar="N",
                      help="requests the shared activator pool holds at once (default: no limit)")
    p.set_defaults(func=run)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """``--seed`` and ``--duration``, shared by ``run`` and ``compare``."""
    parser.add_argument("--seed", type=whole("--seed"), default=0, help="seed of the random streams (default 0)")
    parser.add_argument("--duration", type=seconds("--duration"), default=None,
                        help=f"time to simulate, {SECONDS_SYNTAX} (default: the whole trace)")
    add_quiet_argument(parser)


def add_param_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--param", dest="params", action="append", default=[], metavar="POLICY.KEY=VALUE",
                        help="a policy parameter, also POLICY:KEY=VALUE, '-' or '_' in KEY; seconds take "
                             "units (keepalive.keep_alive=5m); repeatable")


#: The asynchronous options (attribute, option, default); their argparse default is None: "not given".
_ASYNC_OPTIONS = (
    ("async_concurrency", "--async-concurrency", 0), ("async_rate", "--async-rate", float("inf")),
    ("retries", "--retries", 10), ("backoff_delay", "--backoff-delay", 0.2),
    ("backoff_policy", "--backoff-policy", "exponential"),
)


def add_async_arguments(parser: argparse.ArgumentParser, flag: bool = True) -> None:
    """Options of asynchronous invocation, shared by ``run`` and ``compare``."""
    g = parser.add_argument_group("asynchronous invocation")
    if flag:
        g.add_argument("--async", dest="async_", action="store_true",
                       help="invoke through a queue: a dispatcher drains it, failures are retried, then dead-lettered")
    g.add_argument("--async-concurrency", type=whole("--async-concurrency"), default=None, metavar="N",
                   help="invocations in flight at most (default 0: no limit)")
    g.add_argument("--async-rate", type=positive("--async-rate"), default=None, metavar="R",
                   help="dispatches per second at most (default: no limit)")
    g.add_argument("--retries", type=whole("--retries"), default=None,
                   help="retries before dead-lettering (default 10)")
    g.add_argument("--backoff-delay", type=seconds("--backoff-delay", inclusive=True), default=None,
                   help=f"backoff delay, {SECONDS_SYNTAX} (default 0.2s)")
    g.add_argument("--backoff-policy", default=None, choices=("exponential", "linear"),
                   help="(default exponential)")


def check_async_options(args, used: bool, how: str) -> None:
    """Refuse asynchronous options given for a synchronous run; ``how`` says how to ask for one."""
    given = [option for attr, option, _ in _ASYNC_OPTIONS if getattr(args, attr) is not None]
    if given and not used:
        raise ConfigError(f"{', '.join(given)} {'applies' if len(given) == 1 else 'apply'} to asynchronous "
                          f"invocation; add {how}")


def invocation_from(args):
    """The :class:`autoscale.invocation.Async` the options describe."""
    from ..invocation import Async

    kw = {attr: default if getattr(args, attr) is None else getattr(args, attr)
          for attr, _, default in _ASYNC_OPTIONS}
    return Async(concurrency=kw["async_concurrency"], rate=kw["async_rate"], retries=kw["retries"],
                 backoff_delay=kw["backoff_delay"], backoff_policy=kw["backoff_policy"])


def policy_from(args):
    """The policy of ``--policy NAME[:PARAM=VALUE...]`` and ``--param``."""
    from ..compare import parse_policy_params

    name, inline = parse_policy_text(args.policy, "--policy")
    for key, values in inline:
        if len(values) > 1:
            raise ConfigError(f"--policy {args.policy}: {key} takes one value; sweep several with "
                              f"autoscale sweep --policy {args.policy}")
    return parse_policy_params([name], [f"{name}.{k}={v[0]}" for k, v in inline] + list(args.params))[name]


def build_batch(args):
    """The configurations and the platform named by ``--configmap``, ``--service`` and ``--set``."""
    from ..configmap import resolve
    from ..platform import Platform

    sets = parse_assignments(args.sets, "--set")
    platform_sets = [(k, v) for k, v in sets if k in PLATFORM_KEYS]
    config_sets = [(k, v) for k, v in sets if k not in PLATFORM_KEYS]
    for key, values in platform_sets:
        if len(values) > 1:
            raise ConfigError(f"--set {key}: takes one value, not a list")
    platform = Platform().with_settings({key: value for key, (value,) in platform_sets})
    keys = [k for k, _ in config_sets]
    count = math.prod(len(v) for _, v in config_sets)
    shown = " x ".join(f"{len(v)} {k}" for k, v in config_sets if len(v) > 1)
    check_configurations(count, f"--set {shown}" if shown else "--set", max_memory=getattr(args, "max_memory", None))
    configs = []
    for combo in itertools.product(*[v for _, v in config_sets]):
        overrides = dict(zip(keys, combo))
        configs.append(resolve(configmap=args.configmap, service=args.service, overrides=overrides).config)
    return configs, platform


def load_trace(args, configurations: int = 1, timeseries: bool = False, per_function: bool = False):
    """The trace of ``--trace`` (narrowed to ``--function``), refused before and after loading if the replay of
    ``configurations`` (with ``per_function``: one per function) would not fit in ``--max-memory``."""
    from ..trace import load
    from ..trace.sizes import check_replay

    kw = csv_options(args, [args.trace])
    points = 2000 if timeseries else 0
    duration = getattr(args, "duration", None)
    limit = getattr(args, "max_memory", None)
    check_replay(f"replay of {configurations:,} configuration(s)" + (f" for --duration {duration:g} s" if duration
                                                                     else ""),
                 configurations=configurations, seconds=duration or 0.0, timeseries_points=points, max_memory=limit)
    trace = load(args.trace, **kw, **({"max_memory": limit} if limit is not None else {}))
    if args.function is not None:
        trace = trace.select(function=args.function)
    seconds = duration if duration is not None else trace.end + 1
    if per_function and trace.function is not None:
        configurations = len(trace.function_names)
    check_replay(f"replay of trace {trace.name} ({len(trace):,} requests, {seconds:,.0f} s) with "
                 f"{configurations:,} configuration(s)", requests=len(trace), configurations=configurations,
                 seconds=seconds, timeseries_points=points, max_memory=limit)
    return trace


def print_durations(trace) -> None:
    """The run header's line on where the trace's durations come from."""
    print(f"durations: {trace.provenance.durations or 'not recorded in the provenance'}")


def manifests_from(args):
    """Knative's manifests named by ``--service`` and ``--route`` (a Route), or None.

    None when neither is given, or when ``--route`` is a file in the project's route format.
    """
    from ..manifests import is_manifest, load_manifests

    route_manifest = args.route is not None and is_manifest(args.route)
    if args.route is not None and not route_manifest:
        return None
    sources = [p for p in (args.service, args.route) if p is not None]
    return load_manifests(*sources) if sources else None


def print_notes(notes) -> None:
    for note in dict.fromkeys(notes):
        print(f"note: {note}")


def run(args) -> int:
    from ..engine import replay

    check_load_arguments(args)
    check_async_options(args, args.async_, "--async")
    manifests = manifests_from(args)
    routed = args.route is not None or (manifests is not None and manifests.has_traffic)
    many = args.per_function or routed
    if args.activator_pool is not None and not many:
        raise ConfigError("--activator-pool applies to --per-function and --route runs "
                          "(or --service with spec.traffic)")
    configs, platform = build_batch(args)
    if args.policy is None:
        # The revision's class picks its autoscaler, as in Knative.
        args.policy = "hpa" if configs and all(c.pod_autoscaler_class == HPA_CLASS for c in configs) else "kpa"
    policy = policy_from(args)
    invocation = invocation_from(args) if args.async_ else None
    if many:
        return _run_many(args, configs, platform, policy, invocation, manifests if routed else None)
    timeseries = args.plot is not None or (args.out is not None and args.out.suffix != ".csv")
    if args.loads:
        return _run_load(args, configs, platform, policy, timeseries, manifests)
    trace = load_trace(args, len(configs), timeseries)
    result = replay(trace, configs, policy=policy, platform=platform, seed=args.seed, duration=args.duration,
                    timeseries=timeseries, invocation=invocation, progress=progress_from(args))
    table = result.summary
    print(f"trace {trace.name}: {len(trace):,} requests over {trace.span:,.0f} s; "
          f"policy {policy.describe()}, {len(configs)} configuration(s), seed {args.seed}")
    print_durations(trace)
    keys = list(table.columns[2 : table.columns.get_loc("requests")])  # the keys that vary in the batch
    # The summary CSV has every column; the terminal the run views' (with --async, what happened to the requests:
    # the columns of the run view count attempts).
    shown = [*outputs.shown("run"), *[c for c in outputs.shown("run_async") if c in table]]
    print(format_table(table[["config", *keys, *shown]]))
    print_notes(manifests.notes if manifests is not None else ())
    write_outputs(result, table, args)
    return 0


def _run_load(args, configs, platform, policy, timeseries, manifests) -> int:
    """``--load``: the load generators' pools (and open-loop requests) instead of a trace's arrivals."""
    from ..engine import replay

    work, loads, words = build_workload(args, args.seed)
    result = replay(work, configs, policy=policy, platform=platform, seed=args.seed, duration=args.duration,
                    timeseries=timeseries, progress=progress_from(args))
    table = result.summary
    print(f"workload {work.name}: {len(args.loads)} load generator(s), {result.duration:,.0f} s simulated; "
          f"policy {policy.describe()}, {len(configs)} configuration(s), seed {args.seed}")
    print_header(work, loads, words)
    keys = list(table.columns[2 : table.columns.get_loc("requests")])
    print(format_table(table[["config", *keys, *outputs.shown("run")]]))
    print_load(result.load_summary, table[["config", *keys]])
    print_notes([*load_notes(loads), *(manifests.notes if manifests is not None else ())])
    write_outputs(result, table, args)
    write_load(result.load_summary, args.out)
    return 0


def _run_many(args, configs, platform, policy, invocation, manifests=None) -> int:
    """``--per-function`` (each function a service) or a route (the service's revisions).

    The route is ``--route`` in the project's format, or Knative's manifests (``manifests``:
    a Route, or a Service with ``spec.traffic``).
    """
    from ..services import replay_route, replay_services

    routed = args.route is not None or manifests is not None
    what = "--route" if args.route is not None else "--service with spec.traffic"
    if args.per_function and routed:
        raise ConfigError(f"--per-function and {what} cannot be combined")
    if len(configs) != 1:
        raise ConfigError(f"--per-function and {what} take one configuration: give each --set one value")
    if args.out is not None and args.out.suffix != ".csv":
        raise ConfigError(f"--out {args.out}: with --per-function or {what}, write a .csv file")
    notes: list[str] = []
    route = None
    if routed:
        if invocation is not None:
            raise ConfigError(f"--async is not available with {what}")
        from ..configmap import resolve
        from ..traffic import load_route

        base = {k: v[0] for k, v in parse_assignments(args.sets, "--set") if k not in PLATFORM_KEYS}
        if manifests is not None:
            # Knative's precedence: config map < the revision's annotations and spec < --set.
            resolved = manifests.resolved(configmap=args.configmap, overrides=base)
            revisions = {name: r.config for name, r in resolved.items()}
            route = manifests.route
            notes = [*manifests.notes, *(f"{name}: {n}" for name, r in resolved.items() for n in r.notes)]
        else:
            raw, route = load_route(args.route)
            revisions = {name: resolve(configmap=args.configmap, service=args.service,
                                       overrides={**base, **keys}).config
                         for name, keys in raw.items()}
        tags = sorted({tag for _, mapping in route._tag_timeline for tag in mapping})
        if tags:
            notes.append(f"tags {', '.join(tags)}: the trace's requests are addressed to the main URL, so the "
                         f"split sends them; a tag's URL gets none")
    plot = args.plot is not None
    trace = load_trace(args, 1 if args.per_function else len(revisions), plot, per_function=args.per_function)
    if args.per_function:
        run = replay_services(trace, configs[0], policy=policy, platform=platform, seed=args.seed,
                              duration=args.duration, timeseries=plot, activator_pool=args.activator_pool,
                              invocation=invocation, progress=progress_from(args))
    else:
        run = replay_route(trace, revisions, route, policy=policy, platform=platform, seed=args.seed,
                           duration=args.duration, timeseries=plot, activator_pool=args.activator_pool,
                           progress=progress_from(args))
    table = run.summary
    kind = run.kind
    print(f"trace {trace.name}: {len(trace):,} requests over {trace.span:,.0f} s; {len(run.names)} {kind}s, "
          f"policy {policy.describe()}, seed {args.seed}")
    print_durations(trace)
    if route is not None:
        changes = route.changes()
        name = f" {manifests.name}" if manifests is not None else ""
        print(f"route{name}: " + ", ".join(f"{n} {p} %" for n, p in changes[0][1].items())
              + (f", {len(changes) - 1} change(s) later" if len(changes) > 1 else ""))
    columns = [kind, *[c for c in ("tags", *outputs.shown("many")) if c in table]]
    shown = table[columns]
    if kind == "service":
        shown = shown.assign(service=[n if len(n) <= 16 else n[:13] + "..." for n in shown["service"]])
    print(format_table(shown.head(30)))
    if len(shown) > 30:
        print(f"... {len(shown) - 30} more {kind}s (--out writes them all)")
    print(format_table(run.cluster.drop(columns=["scope"])))
    print_notes(notes)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out, index=False)
        cluster = args.out.with_name(args.out.stem + "-" + ("cluster" if kind == "service" else "service") + ".csv")
        run.cluster.to_csv(cluster, index=False)
        print(f"wrote {args.out} and {cluster}", file=sys.stderr)
    if plot:
        import matplotlib

        matplotlib.use("Agg")
        _save_figure(run, args.plot)
    return 0


def write_outputs(result, table, args) -> None:
    """``--out``: the summary as CSV (a ``.csv`` path) or a results directory; ``--plot``: every timeline."""
    if args.out is not None:
        if args.out.suffix == ".csv":
            args.out.parent.mkdir(parents=True, exist_ok=True)
            table.to_csv(args.out, index=False)
        else:
            from ..store import save

            save(result, args.out)
        print(f"wrote {args.out}", file=sys.stderr)
    if args.plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        _save_figure(result, args.plot)


def _save_figure(results, path) -> None:
    """``--plot``: the timeline of every configuration (small multiples, or overlaid when there are many)."""
    from ..plotting import timelines

    fig, _ = timelines(results)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"wrote {path}", file=sys.stderr)
