"""Agreement of the batched engine with the event-level reference, per scenario (for docs/model.md §5).

``python benchmarks/agreement.py`` replays each scenario with both and prints the largest
relative difference in pod-seconds, the largest difference in completed, 503 and 504
counts (as a fraction of the requests), and the largest relative error of the engine's
histogram p50 and p99 against the reference's exact nearest-rank percentiles, over a grid of CC x TBC.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_reference import BURSTY, OVERLOAD, POISSON  # noqa: E402  (the scenarios the tests use)

from autoscale import KPAConfig, replay  # noqa: E402
from autoscale.reference import simulate  # noqa: E402
from autoscale.trace import load  # noqa: E402


def busiest_window(trace, seconds=300):
    counts = np.bincount(trace.arrivals.astype(int))
    window = np.convolve(counts, np.ones(seconds), mode="valid")
    start = int(np.argmax(window))
    return trace.slice(start, start + seconds)


SCENARIOS = {
    "Poisson 10 req/s, 5 min": (POISSON, {}),
    "bursty on-off (scale from zero, panic)": (BURSTY, {"timeout_seconds": 10}),
    "overload (max-scale 2, timeout 30 s)": (OVERLOAD, {"max_scale": 2, "timeout_seconds": 30}),
    "real: default trace, busiest 5 min": (busiest_window(load("default")), {}),
}


def main() -> int:
    print("| scenario | configurations | pod-seconds | completed / 503 / 504 | p50 | p99 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, (trace, extra) in SCENARIOS.items():
        worst = dict(pod=0.0, count=0.0, p50=0.0, p99=0.0)
        grid = [(cc, tbc) for cc in (0, 1, 3, 10) for tbc in (0, 211, -1)]
        for cc, tbc in grid:
            cfg = KPAConfig(container_concurrency=cc, target_burst_capacity=tbc, **extra)
            e = replay(trace, cfg, seed=7).summary.iloc[0]
            ref = simulate(trace, cfg, seed=7)
            r = ref.summary.iloc[0]
            worst["pod"] = max(worst["pod"], abs(e.pod_seconds - r.pod_seconds) / r.pod_seconds)
            for col in ("completed", "status_503", "status_504"):
                worst["count"] = max(worst["count"], abs(e[col] - r[col]) / r.requests)
            lat = ref.latencies()
            if lat.size:
                for q, col in ((50, "p50"), (99, "p99")):
                    exact = float(np.percentile(lat, q, method="inverted_cdf"))  # nearest rank, as the histogram
                    worst[col] = max(worst[col], abs(e[f"latency_{col}_s"] - exact) / exact)
        print(f"| {name} | {len(grid)} | {worst['pod']:.2%} | {worst['count']:.2%} of requests | "
              f"{worst['p50']:.2%} | {worst['p99']:.2%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
