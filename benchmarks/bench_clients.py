"""One configuration on the bundled ``default`` trace, and closed-loop clients (``python benchmarks/bench_clients.py``).

Times, best of ``--repeat`` after a first call that loads the kernels:

- the bundled ``default`` trace (11,484 requests over 7.6 h) under Knative's default KPA,
  one configuration, the figure README's speed table quotes;
- ``--clients`` closed-loop clients rate-limited to 1 request per second each (``hey -c N
  -q 1 -z 1h``), exponential service times with a 0.2 s mean, for one simulated hour,
  one configuration and a batch of 16 (CC 10 over TBC 211, 0, -1 and targets);
- the same mean rate open loop (``constant_arrival_rate``) for comparison.

Prints requests (per configuration) per second of wall time.
"""

from __future__ import annotations

import argparse
import time

from autoscale import KPAConfig, replay
from autoscale.trace import durations, load
from autoscale.workload import Clients, ClosedLoop, constant_arrival_rate


def best(fn, repeat: int) -> tuple[float, object]:
    fn()  # loads (or compiles) the kernels
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    trace = load("default")
    secs, _ = best(lambda: replay(trace, KPAConfig()), args.repeat)
    print(f"default trace, one configuration: {secs:.4f} s ({len(trace) / secs:,.0f} requests/s)")

    service = durations.exponential(0.2)
    workload = ClosedLoop(Clients(args.clients, service=service, duration=3600.0, rate=1.0, name="hey"))
    open_loop = constant_arrival_rate(float(args.clients), 3600.0, service=service)
    batch = [KPAConfig(container_concurrency=10, target_burst_capacity=tbc, target=target)
             for tbc in (211.0, 0.0, -1.0, 50.0) for target in (5.0, 7.0, 10.0, 20.0)]
    for name, work in (("closed loop", workload), ("open loop", open_loop)):
        for cfgs in ([KPAConfig(container_concurrency=10)], batch):
            secs, result = best(lambda: replay(work, cfgs), args.repeat)
            n = int(result.summary["requests"].sum())
            print(f"{name}, {len(cfgs)} configuration(s): {secs:.4f} s "
                  f"({n / secs:,.0f} request-configurations/s, {n / len(cfgs):,.0f} requests each)")


if __name__ == "__main__":
    main()
