"""Replay-engine benchmarks on DESIGN.md's yardstick workload (asv conventions, also runnable directly).

The yardstick: 24 h of Poisson arrivals at 20 req/s (about 1.7 M requests), lognormal
durations with a 0.5 s median, CC = 10, and a batch of 256 KPA configurations over
TBC x target. ``python benchmarks/bench_engine.py`` runs it (or a shorter span with
``--hours``) and prints request-configurations per second and peak memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np

from autoscale import KPAConfig, replay
from autoscale.trace import Trace

TBCS = (-1, 0, 10, 50, 100, 150, 200, 211, 250, 300, 400, 500, 700, 1000, 1500, 2000)
UTILISATIONS = tuple(range(40, 101, 4))  # 16 targets: 4 .. 10 concurrent requests per pod at CC = 10


def yardstick_trace(hours: float = 24.0, rate: float = 20.0, median: float = 0.5, sigma: float = 0.5,
                    seed: int = 2024) -> Trace:
    """Poisson arrivals at ``rate`` req/s with lognormal durations (median ``median`` s)."""
    rng = np.random.default_rng(seed)
    span = hours * 3600.0
    n = rng.poisson(rate * span)
    arrivals = np.sort(rng.uniform(0.0, span, n))
    durations = rng.lognormal(np.log(median), sigma, n)
    return Trace(arrivals=arrivals, durations=durations, name=f"poisson-{rate:g}rps-{hours:g}h")


def yardstick_configs(n: int = 256) -> list[KPAConfig]:
    grid = [KPAConfig(container_concurrency=10, target_burst_capacity=float(tbc),
                      container_concurrency_target_percentage=float(u))
            for tbc in TBCS for u in UTILISATIONS]
    return grid[:n]


class TimeReplay:
    """asv: time one batched replay of one simulated hour."""

    params = [1, 16, 256]
    param_names = ["batch"]

    def setup(self, batch):
        self.trace = yardstick_trace(hours=1.0)
        self.configs = yardstick_configs(batch)
        replay(self.trace, self.configs, duration=5)  # compile outside the timing

    def time_replay(self, batch):
        replay(self.trace, self.configs)

    def track_pod_seconds_default(self, batch):
        return float(replay(self.trace, self.configs[:1]).summary["pod_seconds"].iloc[0])


def measure(hours: float, batch: int, one_at_a_time: int = 0) -> dict:
    trace = yardstick_trace(hours=hours)
    configs = yardstick_configs(batch)
    # compile (or load from cache) the kernels the timed runs use, outside the timing
    replay(trace, configs, duration=5)
    replay(trace, configs[:1], duration=5)
    t0 = time.perf_counter()
    result = replay(trace, configs)
    elapsed = time.perf_counter() - t0
    out = {
        "hours": hours, "requests": trace.arrivals.size, "batch": batch, "seconds": elapsed,
        "request_configs_per_s": trace.arrivals.size * batch / elapsed,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "mean_pods_default": float(result.summary["mean_pods"].iloc[min(7 * 16, batch - 1)]),
    }
    if one_at_a_time:
        t0 = time.perf_counter()
        for cfg in configs[:one_at_a_time]:
            replay(trace, [cfg])
        single = (time.perf_counter() - t0) / one_at_a_time
        out["one_at_a_time_s_per_config"] = single
        out["batch_speedup"] = single * batch / elapsed
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--single", type=int, default=0, help="also time this many configurations one at a time")
    args = ap.parse_args(argv)
    res = measure(args.hours, args.batch, args.single)
    for k, v in res.items():
        print(f"{k:28s} {v:,.4g}" if isinstance(v, float) else f"{k:28s} {v:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
