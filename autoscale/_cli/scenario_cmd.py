"""``autoscale scenario``: replay one of Knative's reported autoscaling problems beside its fix."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import outputs
from ..errors import ConfigError
from .options import figure, whole
from .table import format_table

__all__ = ["register", "run"]

_EXAMPLES = """\
examples:
  autoscale scenario --list
  autoscale scenario activator-flapping --plot flapping.png
  autoscale scenario slow-start-panic --out scenarios/slow-start
  autoscale scenario --docs docs          # docs/scenarios.md and docs/figures/scenario-*.png

The exit code is 0 when every claim of the scenario holds on the replay, 1 when one does not.
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "scenario",
        help="reproduce a reported Knative autoscaling problem beside its fix",
        description="Replay a problem reported on the knative/serving tracker with the settings users had and\n"
                    "with the setting that fixes it, print what the model shows, and check the scenario's claims.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", nargs="?", default=None, metavar="NAME", help="the scenario (see --list)")
    p.add_argument("--list", action="store_true", help="list the scenarios and the issues they reproduce")
    p.add_argument("--seed", type=whole("--seed"), default=0, help="seed of the replay's random streams (default 0)")
    p.add_argument("--plot", type=figure("--plot"), default=None, metavar="FILE",
                   help="write the scenario's figure (PNG, SVG, PDF, ...)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="write summary.csv, timeline.csv (one row a second per variant), claims.csv, "
                        "scenario.md and figure.png into DIR")
    p.add_argument("--docs", type=Path, default=None, metavar="DIR",
                   help="run every scenario and write the gallery page DIR/scenarios.md with its figures in "
                        "DIR/figures")
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import scenarios

    modes = [m for m, given in (("NAME", args.name is not None), ("--list", args.list), ("--docs", args.docs))
             if given]
    if len(modes) != 1:
        what = "nothing" if not modes else " and ".join(modes)
        raise ConfigError(f"autoscale scenario takes one of NAME, --list or --docs, not {what} "
                          "(autoscale scenario --list shows the names)")
    if (args.plot is not None or args.out is not None) and args.name is None:
        raise ConfigError("--plot and --out apply to one scenario: give its NAME")
    if args.list:
        print(format_table(scenarios.overview()))
        return 0
    import matplotlib

    matplotlib.use("Agg")
    if args.docs is not None:
        return _write_docs(args.docs, args.seed)
    result = scenarios.run(args.name, seed=args.seed)
    print(result.text())
    print()
    # The terminal shows the scenario view's columns (the CSV of --out has them all).
    print(format_table(result.rows[["variant", "role", *outputs.shown("scenario")]]))
    if args.out is not None:
        result.save(args.out)
        print(f"wrote {args.out}", file=sys.stderr)
    if args.plot is not None:
        import matplotlib.pyplot as plt

        fig, _ = result.plot()
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.plot, dpi=110)
        plt.close(fig)
        print(f"wrote {args.plot}", file=sys.stderr)
    failing = [c for c in result.claims if not c.holds]
    if failing:
        print(f"{len(failing)} of {len(result.claims)} claims do not hold on this replay", file=sys.stderr)
        return 1
    return 0


def _write_docs(folder: Path, seed: int) -> int:
    import matplotlib.pyplot as plt

    from .. import scenarios

    figures = folder / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    runs = []
    for name in scenarios.names():
        result = scenarios.run(name, seed=seed)
        fig, _ = result.plot()
        fig.savefig(figures / f"scenario-{name}.png", dpi=90)
        plt.close(fig)
        runs.append(result)
        print(f"{name}: {sum(c.holds for c in result.claims)} of {len(result.claims)} claims hold", file=sys.stderr)
    page = folder / "scenarios.md"
    page.write_text(scenarios.markdown(runs))
    print(f"wrote {page} and {len(runs)} figures in {figures}", file=sys.stderr)
    return 0 if all(r.passed for r in runs) else 1
