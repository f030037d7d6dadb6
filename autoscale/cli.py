"""The ``autoscale`` command line: one subcommand module per task, errors printed without a traceback."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from . import __version__
from .errors import AutoscaleError

__all__ = ["main", "build_parser"]

# Each module defines ``register(subparsers)``, which adds its subcommand and sets
# ``func`` (a callable taking the parsed namespace and returning an exit code).
_COMMAND_MODULES = (
    "autoscale._cli.config_cmd",
    "autoscale._cli.trace_cmd",
    "autoscale._cli.run_cmd",
    "autoscale._cli.compare_cmd",
    "autoscale._cli.sweep_cmd",
    "autoscale._cli.report_cmd",
    "autoscale._cli.scenario_cmd",
    "autoscale._cli.chain_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autoscale",
        description="Replay request traces through a model of Knative's autoscaler.",
    )
    parser.add_argument("--version", action="version", version=f"autoscale {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except (AutoscaleError, OSError) as exc:
        print(f"autoscale: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("autoscale: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
