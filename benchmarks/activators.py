"""One activator against several on the bundled traces (``python benchmarks/activators.py``).

Replays the bundled ``default`` and ``azure2019-http-bursty`` traces under Knative's
default KPA at CC 0, 1 and 10 and TBC 211, 0 and -1 (seed 0), once with one activator
(Knative's default install) and once with each count in ``--activators``, and prints a
Markdown table of the figures that change: pod-seconds, requests delayed by a cold
start, 503 and 504 answers, the 99th-percentile latency and the fraction of time the
activator was in the path.
"""

from __future__ import annotations

import argparse
import sys

from autoscale import KPAConfig, Platform, replay
from autoscale.trace import load

TRACES = ("default", "azure2019-http-bursty")
CONFIGS = [(cc, tbc) for cc in (0, 1, 10) for tbc in (211, 0, -1)]


def rows(counts: list[int], seed: int = 0):
    for name in TRACES:
        trace = load(name)
        configs = [KPAConfig(container_concurrency=cc, target_burst_capacity=tbc) for cc, tbc in CONFIGS]
        runs = {k: replay(trace, configs, platform=Platform(activators=k), seed=seed).summary for k in [1, *counts]}
        for i, (cc, tbc) in enumerate(CONFIGS):
            yield name, cc, tbc, {k: s.iloc[i] for k, s in runs.items()}


def _change(a: float, b: float, fmt: str) -> str:
    text = f"{format(a, fmt)} → {format(b, fmt)}"
    if a and abs(b - a) / abs(a) >= 0.001:
        text += f" ({(b - a) / abs(a):+.1%})".replace("%", " %")
    return text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--activators", type=int, nargs="+", default=[3])
    args = ap.parse_args(argv)
    for k in args.activators:
        print(f"\n### one activator → {k} (seed 0)\n")
        print("| trace | CC | TBC | pod-seconds | cold-start-delayed | 503 | 504 | p99 latency (s) "
              "| activator fraction |")
        print("| --- | ---: | ---: | --- | --- | --- | --- | --- | --- |")
        for name, cc, tbc, by in rows([k]):
            a, b = by[1], by[k]
            print(f"| `{name}` | {cc} | {tbc} | {_change(a['pod_seconds'], b['pod_seconds'], ',.0f')} | "
                  f"{a['cold_start_delayed']:,} → {b['cold_start_delayed']:,} | "
                  f"{a['status_503']:,} → {b['status_503']:,} | {a['status_504']:,} → {b['status_504']:,} | "
                  f"{_change(a['latency_p99_s'], b['latency_p99_s'], '.2f')} | "
                  f"{a['activator_fraction']:.3f} → {b['activator_fraction']:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
