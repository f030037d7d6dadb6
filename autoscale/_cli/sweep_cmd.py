"""``autoscale sweep``: configurations x traces x seeds x policies in resumable batches, locally or on Dask."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import logging
import sys
from pathlib import Path

from ..errors import ConfigError
from .load_options import add_load_arguments, build_workload, check_load_arguments, notes, print_header
from .options import (
    SECONDS_SYNTAX, add_csv_arguments, add_quiet_argument, csv_options, figure, parse_assignments, parse_policy_text,
    progress_from, seconds, whole,
)

__all__ = ["register", "run", "parse_random", "parse_policy", "build_sweep"]

_EXAMPLES = """\
examples:
  autoscale sweep --trace default --grid target-burst-capacity=0,211,-1 \\
      --grid stable-window=30s,60s,120s --seeds 3 --out sweeps/tbc
  autoscale sweep --trace azure2019-10 --functions 10 --random target=1:100:log \\
      --random target-burst-capacity=0,-1 --samples 64 --workers 2 --out sweeps/azure
  autoscale sweep --trace default --policy kpa --policy keepalive:keep-alive=1m,10m \\
      --set container-concurrency=1 --out sweeps/policies

A --set with a comma list sweeps it as --grid does. Policy parameters read as in run and
compare: keepalive.keep_alive=60 and keepalive:keep-alive=1m name the same parameter.

Run the same command again to continue an interrupted sweep: finished batches are kept.
While a sweep runs, DIR/sweep.lock names its pid, host and start time, and another sweep
into DIR is refused; the lock of a sweep that was killed is taken over with a warning.
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sweep",
        help="sweep configurations over traces, seeds and policies",
        description="Replay every configuration of a grid, a list or a random sample against every\n"
                    "trace, seed and policy, in batches written to the output folder as they finish,\n"
                    "and collect one table (DIR/results.csv) with a row per run.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    t = p.add_argument_group("traces")
    t.add_argument("--trace", dest="traces", action="append", default=None, metavar="TRACE",
                   help="a bundled trace name or a trace file; repeat for several (with --load: one, whose "
                        "durations are the service times)")
    t.add_argument("--function", dest="function_ids", action="append", default=None, metavar="ID",
                   help="replay this function of a multi-function trace as its own trace (a name, unique "
                        "prefix or index); repeat for several")
    t.add_argument("--functions", type=whole("--functions", 1), default=None, metavar="N",
                   help="replay each of the first N functions of a multi-function trace as its own trace")
    t.add_argument("--format", default=None, help="trace file format (sniffed when omitted)")
    add_csv_arguments(t)
    add_load_arguments(p)

    c = p.add_argument_group("configurations (axes are crossed with one another)")
    c.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="try every value of KEY, crossed with the other --grid keys")
    c.add_argument("--random", action="append", default=[], metavar="KEY=LOW:HIGH[:log]|KEY=V1,V2,...",
                   help="draw KEY uniformly from a range (whole numbers when both ends are whole; ':log' for "
                        "log-uniform) or from a list; needs --samples")
    c.add_argument("--samples", type=whole("--samples", 1), default=None, metavar="N",
                   help="configurations to draw for --random")
    c.add_argument("--sample-seed", type=whole("--sample-seed"), default=0, metavar="S",
                   help="seed of the --random draws (default 0)")
    c.add_argument("--points", type=Path, default=None, metavar="FILE",
                   help="a CSV file of configurations: one column per key, one row per configuration "
                        "(an empty cell keeps the default)")
    c.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=V1[,V2...]",
                   help="a value every configuration shares; a comma list is swept as by --grid")
    c.add_argument("--configmap", type=Path, default=None, help="a config-autoscaler ConfigMap (YAML)")
    c.add_argument("--service", type=Path, default=None, help="a Knative Service manifest (YAML)")

    r = p.add_argument_group("runs")
    r.add_argument("--policy", dest="policies", action="append", default=None,
                   metavar="NAME[:PARAM=V1,V2,...]",
                   help="a scaling policy (kpa, hpa, fixed, keepalive, ...), with parameters to sweep "
                        "(NAME.PARAM= also reads); repeat for several (default kpa)")
    r.add_argument("--param", dest="params", action="append", default=[], metavar="POLICY.KEY=V1[,V2...]",
                   help="values to sweep of a parameter of a --policy (also POLICY:KEY=...; seconds take units: "
                        "keepalive.keep_alive=1m,10m); repeatable")
    seeds = r.add_mutually_exclusive_group()
    seeds.add_argument("--seeds", type=whole("--seeds", 1), default=None, metavar="N", help="run seeds 0 .. N-1")
    seeds.add_argument("--seed", dest="seed_list", type=whole("--seed"), action="append", default=None, metavar="S",
                       help="run this seed; repeat for several (default 0)")
    r.add_argument("--duration", type=seconds("--duration"), default=None,
                   help=f"time to simulate, {SECONDS_SYNTAX} (default: each whole trace)")

    x = p.add_argument_group("execution")
    x.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="output folder, new, empty or of this sweep: sweep.json, batches/, sweep.lock while "
                        "it runs, and results.csv at the end")
    x.add_argument("--batch-size", type=whole("--batch-size", 1), default=None, metavar="N",
                   help="configurations per replay call (default 256)")
    x.add_argument("--extend", action="store_true",
                   help="accept a folder holding another sweep, keeping its finished runs that this one contains")
    dask = x.add_mutually_exclusive_group()
    dask.add_argument("--workers", type=whole("--workers", 1), default=None, metavar="N",
                      help="run batches on a local Dask cluster of N single-threaded worker processes")
    dask.add_argument("--scheduler", default=None, metavar="ADDRESS",
                      help="run batches on the Dask cluster at ADDRESS (e.g. tcp://host:8786)")
    add_quiet_argument(x)
    x.add_argument("--plot", type=figure("--plot"), default=None, metavar="FILE",
                   help="write the p99 latency over the first two swept keys and the Pareto front of pod-seconds "
                        "against p99 latency (PNG, SVG, PDF, ...)")
    p.set_defaults(func=run)


def parse_random(items: list[str]) -> dict:
    """``["target=1:100:log", "target-burst-capacity=0,-1"]`` -> a :class:`~autoscale.sweep.Sample` space.

    A range ``LOW:HIGH`` draws whole numbers when both ends are whole and written without
    a decimal point (``1:100``, ``30s:300s``), reals otherwise (``0.5:2``, ``1.0:100``);
    ``:log`` draws log-uniformly. Range ends are numbers or durations (seconds).
    """
    from ..values import parse_seconds
    from ..sweep import Uniform

    space = {}
    for key, values in parse_assignments(items, "--random"):
        if len(values) == 1 and ":" in values[0]:
            parts = values[0].split(":")
            if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "log"):
                raise ConfigError(f"--random {key}={values[0]}: expected LOW:HIGH or LOW:HIGH:log")
            low, high = (parse_seconds(v, key) for v in parts[:2])
            written_whole = not any(ch in v.lower() for v in parts[:2] for ch in ".e")
            whole = written_whole and low.is_integer() and high.is_integer()
            space[key] = Uniform(low, high, log=len(parts) == 3, integer=whole)
        else:
            space[key] = values
    return space


def parse_policy(text: str, params: list[str] = ()) -> list[tuple[str, dict]]:
    """``"keepalive:keep-alive=60,600"`` -> ``[("keepalive", {"keep_alive": 60}), ("keepalive", {"keep_alive": 600})]``.

    After the name, ``.`` or ``:`` starts the parameters, and ``:`` separates them; a
    comma list sweeps a parameter (the cross product of the lists); ``-`` in a
    parameter name reads as ``_``; ``params`` (``--param`` items of this policy, as
    ``KEY=V1,V2``) add parameters. Values are read as the policy takes them
    (:func:`autoscale.policies.parse_param`: seconds as ``60``, ``90s`` or ``10m``).
    """
    from ..policies import parse_param

    name, inline = parse_policy_text(text, "--policy")
    pairs = [(key, values, f"--policy {text}") for key, values in inline]
    for key, values in parse_assignments(list(params), f"--param {name}."):
        pairs.append((key.replace("-", "_"), values, f"--param {name}.{key}={','.join(values)}"))
    for i, (key, _, where) in enumerate(pairs):
        earlier = [w for k, _, w in pairs[:i] if k == key]
        if earlier:
            raise ConfigError(f"policy {name}: {key} is given twice ({earlier[0]} and {where}); give it once")
    typed = []
    for key, values, where in pairs:
        try:
            typed.append([parse_param(name, key, v) for v in values])
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    return [(name, dict(combo)) for combo in itertools.product(*typed)]


def _policies(args) -> list[tuple[str, dict]]:
    """The policies of ``--policy`` (default kpa), each with its ``--param`` values."""
    texts = args.policies or ["kpa"]
    names = [parse_policy_text(t, "--policy")[0] for t in texts]
    by_policy: dict[str, list[str]] = {}
    from ..policies import split_param

    for item in args.params:
        name, key, value = split_param(item)
        if name not in names:
            raise ConfigError(f"--param {item!r}: policy {name!r} is not among --policy ({', '.join(names)})")
        by_policy.setdefault(name, []).append(f"{key}={value}")
    return [p for text, name in zip(texts, names) for p in parse_policy(text, by_policy.get(name, []))]


def _read_points(path: Path) -> list[dict]:
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise ConfigError(f"--points {path}: line 1: the file is empty; a header row of keys is expected, "
                          "then one row per configuration") from None
    except pd.errors.ParserError as exc:
        raise ConfigError(f"--points {path}: not a comma-separated table ({exc})") from None
    if frame.empty:
        raise ConfigError(f"--points {path}: no configurations (a header row, then one row per configuration)")
    return [{k: v.strip() for k, v in row.items() if v.strip() != ""} for row in frame.to_dict("records")]


def build_sweep(args):
    """The :class:`~autoscale.sweep.Sweep` the parsed options describe."""
    from ..sweep import DEFAULT_BATCH_SIZE, Grid, Points, Sample, Sweep

    check_load_arguments(args)
    axes = []
    grid = parse_assignments(args.grid, "--grid")
    fixed = {}
    for key, values in parse_assignments(args.sets, "--set"):
        if len(values) > 1:
            grid.append((key, values))  # a comma list sweeps, as run --set does
        else:
            fixed[key] = values[0]
    gridded = {}
    for key, values in grid:
        if key in gridded:
            raise ConfigError(f"{key} is given to --grid ({key}={','.join(gridded[key])}) and to --set "
                              f"({key}={','.join(values)}); give a key once")
        gridded[key] = values
    if gridded:
        axes.append(Grid(gridded))
    if args.random:
        if args.samples is None:
            raise ConfigError("--random needs --samples N (how many configurations to draw)")
        axes.append(Sample(parse_random(args.random), n=args.samples, seed=args.sample_seed))
    elif args.samples is not None:
        raise ConfigError("--samples draws the --random keys; give at least one --random KEY=...")
    if args.points is not None:
        axes.append(Points(_read_points(args.points)))
    if args.function_ids and args.functions is not None:
        raise ConfigError("give --function IDs or --functions N, not both")
    functions = args.functions
    if args.function_ids:
        functions = tuple(int(f) if f.isdigit() and len(f) < 6 else f for f in args.function_ids)
    policies = _policies(args)
    if args.seeds is not None:
        seeds = range(args.seeds)
    else:
        seeds = args.seed_list or [0]
    traces, load_options = args.traces, csv_options(args, args.traces or [])
    if args.loads:  # the load generators' pools are the sweep's one workload; a --trace gives their service times
        work, loads, words = build_workload(args, seeds[0])
        traces, load_options = [work], {}
        print_header(work, loads, words)
        for note in dict.fromkeys(notes(loads)):
            print(f"note: {note}")
    return Sweep(
        traces=traces, axes=axes, seeds=seeds, policies=policies, functions=functions, overrides=fixed,
        configmap=args.configmap, service=args.service, duration=args.duration,
        batch_size=DEFAULT_BATCH_SIZE if args.batch_size is None else args.batch_size,
        load_options=load_options, max_memory=args.max_memory,
    )


@contextlib.contextmanager
def _warnings_to_stderr():
    """Print the sweep's logged warnings (a stale lock taken over) as ``autoscale: warning: ...``."""
    logger = logging.getLogger("autoscale.sweep")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("autoscale: warning: %(message)s"))
    handler.setLevel(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def _count(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def run(args) -> int:
    from ..sweep import RESULTS, run_sweep

    sweep = build_sweep(args)
    with _warnings_to_stderr():
        table = run_sweep(sweep, args.out, progress=progress_from(args), scheduler=args.scheduler,
                          workers=args.workers, extend=args.extend)
    stats = table.attrs["sweep"]
    traces = len(table[["trace", "function"]].drop_duplicates()) if "function" in table else table["trace"].nunique()
    print(f"sweep: {_count(traces, 'trace')} x {_count(len(sweep.seeds), 'seed')} x "
          f"{_count(len(sweep.policies), 'policy', 'policies')} x "
          f"{_count(len(sweep.points()), 'configuration')} = {_count(stats['runs'], 'run')} "
          f"in {_count(stats['batches'], 'batch', 'batches')}; "
          f"replayed {_count(stats['replayed_runs'], 'run')} now, "
          f"{stats['runs'] - stats['replayed_runs']:,} were finished before")
    by_durations: dict[str, list[str]] = {}
    for entry in table.attrs.get("provenance", []):
        by_durations.setdefault(entry["durations"] or "not recorded in the provenance", []).append(entry["trace"])
    for durations, traces in by_durations.items():
        names = list(dict.fromkeys(traces))
        print(f"durations ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''}): {durations}")
    print(f"wrote {args.out / RESULTS}", file=sys.stderr)
    if args.plot is not None:
        plot_sweep(table, args.plot)
    return 0


def plot_sweep(table, path: Path) -> None:
    """``--plot``: p99 latency over the first two numeric swept keys (when two vary) beside the Pareto front.

    Runs sharing a heatmap cell (seeds, functions, other keys) show their largest p99,
    since percentiles do not average; the Pareto front colours each policy, function or
    trace when several were swept.
    """
    import matplotlib
    import pandas as pd

    matplotlib.use("Agg")
    from .. import outputs
    from ..plotting import heatmap, new_figure, pareto

    end = table.columns.get_loc("requests")
    keys = [c for c in table.columns[:end] if c not in ("trace", "function", "seed", "policy", "config")
            and not c.startswith("policy.") and table[c].astype(str).nunique() > 1
            and pd.to_numeric(table[c], errors="coerce").notna().all()]
    group = next((g for g in ("policy", "function", "trace") if g in table and table[g].nunique() > 1), None)
    fig = new_figure((13.5, 5.0) if len(keys) >= 2 else (8, 5.0))
    axes = fig.subplots(1, 2 if len(keys) >= 2 else 1, squeeze=False)[0]
    if len(keys) >= 2:
        shared = table.groupby(keys[:2]).size().max() > 1
        heatmap(table, x=keys[0], y=keys[1], value="latency_p99_s", ax=axes[0],
                agg=outputs.cell_aggregate("latency_p99_s", shared))
    pareto(table, group=group, ax=axes[-1])
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"wrote {path}", file=sys.stderr)
