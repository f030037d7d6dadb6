"""``autoscale report``: one self-contained HTML file of saved results (a run, a comparison, a sweep or a table)."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

__all__ = ["register", "run"]

_EXAMPLES = """\
examples:
  autoscale run --trace default --set target-burst-capacity=211,0,-1 --out results/tbc
  autoscale report results/tbc                      # writes results/tbc/report.html
  autoscale report sweeps/azure -o azure-sweep.html
  autoscale report table.csv                        # writes table.html

The page embeds its figures and needs no server or network: open it in a browser.
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "report",
        help="write an HTML report of saved results",
        description="Turn the output of run, compare or sweep into one self-contained HTML file: tables, figures,\n"
                    "the configurations, the trace's provenance and attribution.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("results", type=Path, metavar="RESULTS",
                   help="a results folder (run or compare --out DIR), a sweep folder (sweep --out DIR), "
                        "or a summary CSV")
    p.add_argument("-o", "--out", type=Path, default=None, metavar="FILE",
                   help="the HTML file (default: report.html in the results folder, or the CSV's name with .html)")
    p.add_argument("--title", default=None, help="the report's title (default: the kind of results and the trace)")
    p.set_defaults(func=run)


def run(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from ..report import default_output, write_report
    from ..store import load

    stored = load(args.results)  # a missing or unknown path fails here, before anything is written
    out = args.out if args.out is not None else default_output(args.results)
    command = ["autoscale", "report", str(args.results)]
    if args.out is not None:
        command += ["-o", str(args.out)]
    if args.title is not None:
        command += ["--title", args.title]
    write_report(stored, out, title=args.title, command=shlex.join(command))
    print(f"{stored.kind} with {len(stored.summary):,} row(s) from {args.results}", file=sys.stderr)
    print(f"wrote {out}", file=sys.stderr)
    return 0
