"""The ``autoscale config show`` subcommand: print a resolved configuration and where each value came from."""

from __future__ import annotations

import argparse
import sys

from ..configmap import resolve
from .options import parse_assignments

__all__ = ["register"]

_SHOW_EPILOG = """\
precedence: default < --configmap < --service (annotations, spec) < --set
examples:
  autoscale config show
  autoscale config show --configmap examples/config-autoscaler.yaml --service examples/service.yaml
  autoscale config show --set stable-window=90s --set container-concurrency=10
"""


def register(subparsers) -> None:
    """Add ``config`` (with its ``show`` subcommand) to the top-level subparsers."""
    config = subparsers.add_parser(
        "config", help="inspect KPA configurations",
        description="Inspect the KPA configuration a revision would get.")
    config.set_defaults(func=lambda args: _usage(config))
    sub = config.add_subparsers(dest="config_command", metavar="SUBCOMMAND")
    show = sub.add_parser(
        "show", help="print every setting, its value and its source",
        description="Resolve a configuration from a config-autoscaler ConfigMap, a Knative "
                    "Service and overrides; print every key, its value, its source and the "
                    "derived target, total and panic window.",
        epilog=_SHOW_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    show.add_argument("--configmap", metavar="FILE",
                      help="YAML file with the config-autoscaler ConfigMap")
    show.add_argument("--service", metavar="FILE",
                      help="YAML file with a Knative Service (serving.knative.dev/v1)")
    show.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[],
                      help="override one key, e.g. stable-window=90s (repeatable)")
    show.set_defaults(func=_show)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _parse_overrides(items: list[str]) -> dict[str, str]:
    return {key: value for key, (value,) in parse_assignments(items, "--set", lists=False)}


def _show(args: argparse.Namespace) -> int:
    resolved = resolve(configmap=args.configmap, service=args.service,
                       overrides=_parse_overrides(args.overrides))
    table = resolved.table()
    # On the command line an override is a --set.
    rows = [("KEY", "VALUE", "SOURCE")] + [
        (key, value, "--set" if source == "override" else source)
        for key, value, source in table.itertuples(index=False, name=None)
    ]
    widths = [max(len(str(row[i])) for row in rows) for i in range(2)]
    for key, value, source in rows:
        print(f"{key:<{widths[0]}}  {value:<{widths[1]}}  {source}")
    for note in resolved.notes:
        print(f"note: {note}")
    return 0
