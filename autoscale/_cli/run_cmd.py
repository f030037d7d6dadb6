"""``autoscale run``: replay one trace through a batch of KPA configurations and print the summary."""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

from ..errors import ConfigError

#: Summary columns printed on the terminal (the CSV has them all).
_SHOWN = (
    "requests", "completed", "status_503", "status_504", "latency_p50_s", "latency_p99_s",
    "wait_p99_s", "cold_start_delayed", "pod_seconds", "mean_pods", "peak_pods",
    "idle_pod_seconds", "panic_fraction", "activator_fraction",
)

#: ``--set`` keys that describe the platform rather than Knative.
_PLATFORM_KEYS = ("cold-start", "mode-switch-delay")


def add_trace_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that name a trace, shared by the commands that replay one."""
    parser.add_argument("--trace", required=True, help="a bundled trace name or a trace file")
    parser.add_argument("--format", default=None, help="trace file format (sniffed when omitted)")
    parser.add_argument("--function", default=None, help="replay only this function of a multi-function trace")
    parser.add_argument("--time-column", default=None, help="per-request CSV: the timestamp column")
    parser.add_argument("--duration-column", default=None, help="per-request CSV: the duration column")
    parser.add_argument("--duration-unit", default=None, choices=("s", "ms"), help="unit of --duration-column")


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--configmap", type=Path, default=None, help="a config-autoscaler ConfigMap (YAML)")
    parser.add_argument("--service", type=Path, default=None, help="a Knative Service manifest (YAML)")
    parser.add_argument(
        "--set", dest="sets", action="append", default=[], metavar="KEY=V1[,V2...]",
        help="override a key; a comma list runs the cross product as one batch",
    )


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "run",
        help="replay a trace through the KPA (or another policy)",
        description="Replay one trace through a batch of KPA configurations and print a summary per configuration.",
    )
    add_trace_arguments(p)
    add_config_arguments(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the random streams (default 0)")
    p.add_argument("--duration", type=float, default=None, help="seconds to simulate (default: the whole trace)")
    p.add_argument("--policy", default="kpa", help="scaling policy (default kpa; see autoscale compare --help)")
    p.add_argument("--param", dest="params", action="append", default=[], metavar="POLICY.KEY=VALUE",
                   help="a policy parameter (repeatable)")
    p.add_argument("--out", type=Path, default=None,
                   help="save the results: a .csv path gets the summary table, any other path a results directory")
    p.add_argument("--plot", type=Path, default=None, help="write the timeline of the first configuration")
    p.set_defaults(func=run)


def parse_sets(items: list[str]) -> list[tuple[str, list[str]]]:
    """``["a=1,2", "b=x"]`` -> ``[("a", ["1", "2"]), ("b", ["x"])]``, keeping the order given."""
    out: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE[,VALUE...]")
        values = [v.strip() for v in value.split(",")]
        if any(v == "" for v in values):
            raise ConfigError(f"--set {item!r}: empty value in the list")
        out[key.strip()] = values
    return list(out.items())


def build_batch(args):
    """The configurations and the platform named by ``--configmap``, ``--service`` and ``--set``."""
    from ..config import parse_duration, resolve
    from ..platform import ColdStart, Platform

    sets = parse_sets(args.sets)
    platform_sets = [(k, v) for k, v in sets if k in _PLATFORM_KEYS]
    config_sets = [(k, v) for k, v in sets if k not in _PLATFORM_KEYS]
    for key, values in platform_sets:
        if len(values) > 1:
            raise ConfigError(f"--set {key}: takes one value, not a list")
    platform_kw = {}
    for key, (value,) in platform_sets:
        seconds = parse_duration(value, key)
        if key == "cold-start":
            platform_kw["cold_start"] = ColdStart.constant(seconds)
        else:
            platform_kw["mode_switch_delay"] = seconds
    platform = Platform(**platform_kw)
    keys = [k for k, _ in config_sets]
    configs = []
    for combo in itertools.product(*[v for _, v in config_sets]):
        overrides = dict(zip(keys, combo))
        configs.append(resolve(configmap=args.configmap, service=args.service, overrides=overrides).config)
    return configs, platform


def load_trace(args):
    from ..trace import load

    kw = {}
    for name in ("format", "time_column", "duration_column", "duration_unit"):
        value = getattr(args, name, None)
        if value is not None:
            kw[name] = value
    trace = load(args.trace, **kw)
    if args.function is not None:
        trace = trace.select(function=args.function)
    return trace


def run(args) -> int:
    import pandas as pd

    from ..compare import parse_policy_params
    from ..engine import replay

    configs, platform = build_batch(args)
    trace = load_trace(args)
    policy = parse_policy_params([args.policy], args.params)[args.policy]
    result = replay(trace, configs, policy=policy, platform=platform, seed=args.seed, duration=args.duration,
                    timeseries=args.plot is not None or (args.out is not None and args.out.suffix != ".csv"))
    table = result.summary
    print(f"trace {trace.name}: {len(trace):,} requests over {trace.span:,.0f} s; "
          f"policy {policy.describe()}, {len(configs)} configuration(s), seed {args.seed}")
    keys = list(table.columns[2 : table.columns.get_loc("requests")])  # the keys that vary in the batch
    shown = table[["config", *keys, *_SHOWN]]
    with pd.option_context("display.width", 200, "display.max_columns", 40, "display.float_format", "{:.4g}".format):
        print(shown.to_string(index=False) if len(shown) > 1 else shown.T.to_string(header=False))
    write_outputs(result, table, args)
    return 0


def write_outputs(result, table, args) -> None:
    """``--out``: the summary as CSV (a ``.csv`` path) or a results directory; ``--plot``: the timeline(s)."""
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
        fig, _ = result.plot(0)
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.plot, dpi=120)
        print(f"wrote {args.plot}", file=sys.stderr)
