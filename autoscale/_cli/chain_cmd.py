"""``autoscale chain``: replay a chain of functions (synchronous calls, destinations) from a chain file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import outputs
from .options import figure, seconds, whole
from .table import format_table

__all__ = ["register", "run"]

_EXAMPLES = """\
examples:
  autoscale chain examples/chain.yaml
  autoscale chain examples/chain.yaml --plot cascade.png --out chain-results
  autoscale chain examples/chain.yaml --seed 3 --duration 20m

The file names the entry's trace, the services (configuration, cold start, service time),
their synchronous calls and their destinations; see autoscale.chains.load_chain.
"""



def register(subparsers) -> None:
    p = subparsers.add_parser(
        "chain",
        help="replay a chain of functions: synchronous calls and destinations",
        description="Replay the services of a chain file, each with its own autoscaler and cold start, to the\n"
                    "fixed point of their synchronous calls; print a row per service and the end-to-end latency.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", type=Path, metavar="FILE.yaml", help="the chain file")
    p.add_argument("--seed", type=whole("--seed"), default=0, help="seed of the replays' random streams (default 0)")
    p.add_argument("--duration", type=seconds("--duration"), default=None,
                   help="seconds every service replays (a duration such as 20m; default: the file's, else until "
                        "every request has been answered)")
    p.add_argument("--plot", type=figure("--plot"), default=None, metavar="FILE",
                   help="write the cascade figure: every service's pods, and the end-to-end latencies (of the first "
                        "configuration of a batch)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="write summary.csv (a row per service), end_to_end.csv (a row per entry request) and "
                        "percentiles.csv into DIR")
    p.set_defaults(func=run)


def run(args) -> int:
    import pandas as pd

    from ..chains import load_chain

    loaded = load_chain(args.file)
    result = loaded.replay(seed=args.seed, duration=args.duration, timeseries=args.plot is not None)
    summary = result.summary
    shown = ["service", "role", *outputs.shown("chain")]  # summary.csv of --out has every column
    if result.batch > 1:
        # A batch: the configuration's index and the keys that vary, after the role.
        cols = list(summary.columns)
        keys = cols[cols.index("policy") + 1:cols.index("requests")]
        shown[2:2] = ["config", *keys]
    print(format_table(summary[shown]))
    print()
    pct = pd.concat([result.percentiles(config=b).rename_axis("latency").reset_index().assign(config=b)
                     for b in range(result.batch)], ignore_index=True)
    pct = pct[["config", *pct.columns.drop("config")]] if result.batch > 1 else pct.drop(columns=["config"])
    print(format_table(pct))
    e2e = result.end_to_end
    ok = int(e2e["latency_s"].notna().sum())
    what = "entry requests" if result.batch == 1 else f"entry requests of the {result.batch} configurations"
    print(f"\n{ok} of {len(e2e)} {what} succeeded end to end; converged in {result.sweeps} sweeps")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        summary.to_csv(args.out / "summary.csv", index=False)
        e2e.to_csv(args.out / "end_to_end.csv", index=result.batch == 1)  # a batch has config, request
        pct.to_csv(args.out / "percentiles.csv", index=False)
        print(f"wrote {args.out}", file=sys.stderr)
    if args.plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        fig, _ = result.plot()
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.plot, dpi=110)
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0
