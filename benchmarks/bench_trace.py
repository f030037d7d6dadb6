"""Trace-layer benchmarks (asv conventions; ``python benchmarks/bench_trace.py`` runs them without asv).

What is timed: loading a shipped file and expanding it to per-request arrays, for the
1,250-function Azure 2019 day (18,279,781 requests: per-minute counts to arrivals,
percentile durations) and the NASA-HTTP 1995 series (3,461,610 requests from 5.06 M
per-second counts in a bzip2 archive); plus the pure expansion step and the exact
per-second concurrency of the big day. ``setup`` reads what a benchmark needs
beforehand, with fixed seeds, so each ``time_*`` measures only its call.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from autoscale.trace import expand_counts, load, load_azure2019, load_counts, traces_dir


def _day_path():
    return traces_dir() / "azure-functions-2019-invitro" / "sample1250-24h" / "1250_inv.csv"


def _nasa_path():
    return traces_dir() / "nasa-http-1995" / "workload.tbz2"


class TimeLoadAzure2019Day:
    """Load + expand the 1,250-function day (18.3 M requests)."""

    timeout = 300

    def setup(self):
        self.path = _day_path()
        self.path.read_bytes()  # warm the file cache

    def time_load_and_expand(self):
        load_azure2019(self.path, seed=0)

    def track_requests(self):
        return len(load_azure2019(self.path, seed=0))


class TimeLoadNasa:
    """Load + expand the NASA-HTTP 1995 per-second series (3.46 M requests)."""

    timeout = 300

    def setup(self):
        self.path = _nasa_path()
        self.path.read_bytes()

    def time_load_and_expand(self):
        load_counts(self.path, seed=0)


class TimeExpandCounts:
    """Only the counts -> sorted arrivals step, on the day's count matrix (1,250 x 1,440)."""

    timeout = 300

    def setup(self):
        import pandas as pd

        frame = pd.read_csv(_day_path())
        self.counts = frame.iloc[:, 3:].to_numpy(dtype=np.int64)

    def time_uniform(self):
        expand_counts(self.counts, 60.0, "uniform", np.random.default_rng(0))

    def time_even(self):
        expand_counts(self.counts, 60.0, "even", np.random.default_rng(0))


class TimeConcurrency:
    """Exact per-second concurrency of the whole day (86,400 buckets, 18.3 M requests)."""

    timeout = 300

    def setup(self):
        self.trace = load("azure2019-1250")

    def time_concurrency_per_second(self):
        self.trace.concurrency_per_second()


def _first_and_best(fn, repeat: int) -> tuple[float, float]:
    """Seconds of the first call (a fresh process pays for touching new memory) and the best of ``repeat``."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times[0], min(times)


def main(repeat: int = 3) -> int:
    rows = []
    for cls in (TimeLoadAzure2019Day, TimeLoadNasa, TimeExpandCounts, TimeConcurrency):
        bench = cls()
        bench.setup()
        for name in sorted(n for n in dir(cls) if n.startswith("time_")):
            first, best = _first_and_best(getattr(bench, name), repeat)
            rows.append((f"{cls.__name__}.{name}", first, best))
            print(f"{cls.__name__ + '.' + name:<48s} first {first:6.2f} s   best of {repeat} {best:6.2f} s", flush=True)
    day = load_azure2019(_day_path())
    nasa = load_counts(_nasa_path())
    print(f"azure2019 1,250-function day: {len(day):,} requests; NASA-HTTP 1995: {len(nasa):,} requests")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3))
