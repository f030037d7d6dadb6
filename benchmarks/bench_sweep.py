"""Sweep-layer benchmarks on the yardstick workload (asv conventions; ``python benchmarks/bench_sweep.py`` runs them).

One simulated hour of DESIGN.md's yardstick (Poisson arrivals at 20 req/s, lognormal
durations with a 0.5 s median, CC = 10; :func:`bench_engine.yardstick_trace`) through
:func:`autoscale.sweep.run_sweep` with its output folder, as ``autoscale sweep`` runs it:

- throughput (request-configurations per second) against the batch size (1, 4, 16, 64,
  256). A batch size below 16 replays 16 configurations, a larger one a single batch;
  the configurations are spread evenly over the yardstick's 16 TBC x 16 target grid;
- the 256 configurations as one batch against the same configurations one at a time
  (16 of them timed, every 16th, and the time extrapolated to 256);
- peak resident memory of each batch size, each in a fresh process, and the straight
  line through them: megabytes per configuration;
- the 256 configurations in batches of 64 on a local Dask cluster of 2 single-threaded
  worker processes, timed from starting the cluster to the table.

Each batch size runs in a fresh process, so that its peak memory is its own batch's,
with the kernels compiled (or loaded from numba's cache) beforehand; the time is the best
of ``--repeat`` sweeps.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import TBCS, UTILISATIONS, yardstick_trace  # noqa: E402

from autoscale import replay  # noqa: E402
from autoscale.sweep import Points, Sweep, run_sweep  # noqa: E402

BATCH_SIZES = (1, 4, 16, 64, 256)
SMALL_SWEEP = 16  # configurations replayed for batch sizes below 16


def yardstick_points(n: int = 256) -> list[dict]:
    """``n`` of the yardstick's 256 configurations (16 TBC x 16 target utilisations), evenly spread."""
    grid = [{"target-burst-capacity": float(tbc), "container-concurrency-target-percentage": float(u)}
            for tbc in TBCS for u in UTILISATIONS]
    return grid[:: len(grid) // n][:n]


def yardstick_sweep(trace, n: int, batch_size: int) -> Sweep:
    return Sweep(traces=[trace], axes=Points(yardstick_points(n)), overrides={"container-concurrency": 10},
                 batch_size=batch_size)


def _warm_up(trace, sweep: Sweep) -> None:
    """Compile (or load) every kernel the timed batches use, outside the timing.

    Ten simulated minutes reach the kernels that run only when pods are created or
    removed; batches of 16 or more use the threaded kernel, smaller ones the serial one.
    """
    configs = sweep.configurations()
    for size in {min(sweep.batch_size, len(configs)), len(configs) % sweep.batch_size} - {0}:
        replay(trace, configs[:size], duration=600)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure_one(batch_size: int, hours: float = 1.0, workers: int | None = None, repeat: int = 2) -> dict:
    """Sweeps of the yardstick in this process: the best of ``repeat`` runs, and the process's peak memory."""
    trace = yardstick_trace(hours=hours)
    n = max(batch_size, SMALL_SWEEP) if workers is None else 256
    sweep = yardstick_sweep(trace, n, batch_size)
    if workers is None:
        _warm_up(trace, sweep)
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            table = run_sweep(sweep, out, progress=False, workers=workers)
            times.append(time.perf_counter() - t0)
        assert len(table) == n and (table["requests"] == len(trace)).all()
    seconds = min(times)
    return {
        "batch_size": batch_size, "configs": n, "requests": len(trace), "workers": workers, "seconds": seconds,
        "seconds_per_config": seconds / n, "request_configs_per_s": len(trace) * n / seconds,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _in_fresh_process(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


class TimeSweep:
    """asv: one sweep of one simulated hour, by batch size."""

    params = list(BATCH_SIZES)
    param_names = ["batch_size"]
    timeout = 600

    def setup(self, batch_size):
        self.trace = yardstick_trace(hours=1.0)
        self.sweep = yardstick_sweep(self.trace, max(batch_size, SMALL_SWEEP), batch_size)
        _warm_up(self.trace, self.sweep)

    def time_run_sweep(self, batch_size):
        run_sweep(self.sweep, progress=False)

    def track_request_configs_per_second(self, batch_size):
        t0 = time.perf_counter()
        run_sweep(self.sweep, progress=False)
        return len(self.trace) * len(self.sweep.points()) / (time.perf_counter() - t0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=1.0, help="simulated hours of the yardstick (default 1)")
    ap.add_argument("--dask-workers", type=int, default=2, help="local Dask workers for the last row (0: skip)")
    ap.add_argument("--repeat", type=int, default=2, help="time each sweep this many times, keep the best")
    ap.add_argument("--one", nargs="+", type=int, metavar=("BATCH", "WORKERS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        workers = args.one[1] if len(args.one) > 1 else None
        print(json.dumps(measure_one(args.one[0], args.hours, workers, args.repeat)))
        return 0

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    common = ("--hours", str(args.hours), "--repeat", str(args.repeat))
    rows = [_in_fresh_process(str(b), *common) for b in BATCH_SIZES]
    if args.dask_workers:
        rows.append(_in_fresh_process("64", str(args.dask_workers), *common))
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"\n{rows[0]['requests']:,} requests per configuration ({args.hours:g} simulated h)\n")
    print("| batch size | configurations | workers | wall time | s per configuration "
          "| request-configurations per second | peak RSS |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['batch_size']} | {r['configs']} | {r['workers'] or 'local'} | {r['seconds']:.2f} s "
              f"| {r['seconds_per_config']:.3f} s | {r['request_configs_per_s'] / 1e6:.2f} M "
              f"| {r['peak_rss_mb']:.0f} MB{' (client)' if r['workers'] else ''} |")
    local = [r for r in rows if r["workers"] is None]
    one, batch = local[0], next(r for r in local if r["batch_size"] == 256)
    print(f"\n256 one at a time (16 timed, extrapolated): {one['seconds_per_config'] * 256:.1f} s; "
          f"as one batch: {batch['seconds']:.2f} s; speed-up {one['seconds_per_config'] * 256 / batch['seconds']:.1f} x")
    sizes = np.array([r["batch_size"] for r in local], dtype=float)
    rss = np.array([r["peak_rss_mb"] for r in local])
    slope, intercept = np.polyfit(sizes, rss, 1)
    print(f"peak RSS = {intercept:.0f} MB + {slope:.3f} MB x batch size (least squares over {len(local)} sizes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
