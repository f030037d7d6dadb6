"""A batch on a quiet machine against the same batch while another process keeps one core busy.

``python benchmarks/bench_busy.py`` replays one simulated hour of DESIGN.md's yardstick
under a batch of 64 KPA configurations, first alone, then while a CPU-bound process
(a Python busy loop) runs beside it, and prints both times and their ratio, for the
threaded batch and for ``parallel=False``. The configurations of a batch are
independent, so the batch should slow by no more than the share of the cores it lost.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_engine import yardstick_configs, yardstick_trace  # noqa: E402

from autoscale import replay  # noqa: E402


def best_of(n, fn) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    trace = yardstick_trace(hours=args.hours)
    configs = yardstick_configs(256)[:: 256 // args.batch][: args.batch]
    replay(trace, configs, duration=5)  # compile (or load) outside the timing
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    print(f"{len(trace):,} requests x {len(configs)} configurations\n")
    print("| run | quiet | one busy process beside it | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for label, parallel in (("threaded (parallel=None)", None), ("one thread (parallel=False)", False)):
        quiet = best_of(args.repeat, lambda: replay(trace, configs, parallel=parallel))
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            time.sleep(0.5)
            busy = best_of(args.repeat, lambda: replay(trace, configs, parallel=parallel))
        finally:
            hog.kill()
            hog.wait()
        print(f"| {label} | {quiet:.2f} s | {busy:.2f} s | {busy / quiet:.2f} x |")
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
