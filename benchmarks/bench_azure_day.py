"""The Azure Functions 2019 day, every function its own service, one configuration (``python benchmarks/bench_azure_day.py``).

Times the command a researcher runs, ``autoscale run --trace azure2019-1250 --per-function
--set container-concurrency=10``, end to end in a fresh process (loading the trace
included), after a first run that compiles the kernels; then, in this process, the
replay alone (:func:`autoscale.services.replay_services`) with and without skipping idle
time, and how many of the simulated function-seconds were skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from pathlib import Path

import numpy as np

import autoscale
from autoscale import KPAConfig
from autoscale.engine import Requests, Streams, run, simulated_seconds
from autoscale.spec import KPASpec
from autoscale.trace import load

#: The folder holding the package this process imports: the command runs there, so that a
#: worktree measured with ``PYTHONPATH`` runs its own code (``-m`` puts the current folder
#: first on ``sys.path``).
ROOT = Path(autoscale.__file__).resolve().parents[1]

COMMAND = ["autoscale", "run", "--trace", "azure2019-1250", "--per-function", "--set", "container-concurrency=10"]


def main() -> int:
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    subprocess.run([sys.executable, "-m", "autoscale", *COMMAND[1:], "--duration", "60"], check=True,
                   capture_output=True, cwd=ROOT)  # compile (or load) the kernels
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "autoscale", *COMMAND[1:]], check=True, capture_output=True,
                          text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    print(f"`{' '.join(COMMAND)}`: {wall:.1f} s wall, loading included")
    print("\n".join(done.stdout.splitlines()[-3:]))

    t0 = time.perf_counter()
    trace = load("azure2019-1250")
    loading = time.perf_counter() - t0
    codes = np.asarray(trace.function)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(trace.function_names) + 1))
    arrivals, durations = trace.arrivals[order], trace.durations[order]
    rows = [Requests(arrivals[a:b], durations[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    streams = Streams.per_row(rows, name=trace.name)
    spec = KPASpec.from_configs([KPAConfig(container_concurrency=10)] * len(rows))
    t_end = simulated_seconds(streams)
    print(f"\nloading and expanding the trace: {loading:.1f} s ({len(trace):,} requests, {len(rows)} functions, "
          f"{t_end:,} s each)")
    for skip in (True, False):
        t0 = time.perf_counter()
        result = run(streams, spec, t_end=t_end, skip_idle=skip)
        print(f"replay, skip_idle={skip}: {time.perf_counter() - t0:.1f} s; "
              f"pod-seconds {result.summary['pod_seconds'].sum():,.0f}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
