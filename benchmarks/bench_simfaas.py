"""SimFaaS against our scale-per-request keep-alive policy on the same workload (``python benchmarks/bench_simfaas.py``).

The workload, for both simulators: Poisson arrivals at ``rate`` req/s for ``horizon`` s,
exponential service times with mean ``service`` s, one request per instance, a constant
cold start of ``cold_start`` s, and an instance removed ``keep_alive`` s after its last
request ended.

SimFaaS (PyPI ``simfaas``, ``ServerlessSimulator``): ``arrival_rate=rate``, warm service
``ExpSimProcess(1 / service)``, ``expiration_threshold=keep_alive``, ``max_time=horizon``,
no concurrency limit. SimFaaS draws a cold request's whole response time from its cold
process, so that process is ``cold_start`` plus an exponential service time (a
``SimProcess`` defined here). It draws from numpy's global stream, seeded per replication.

Ours: ``autoscale.sweep.run_sweep`` over ``replications`` Poisson traces
(``synthetic.poisson(rate, horizon, service=exponential(service), seed=k)``), with
``KPAConfig(container_concurrency=1)``, the policy ``policies.get("keepalive",
keep_alive=...)`` and ``Platform(cold_start=ColdStart.constant(cold_start))``, one replay
call per trace. Then one replay of a batch of ``--batch`` copies of that configuration
on the first trace, for the throughput of a batch (request-configurations per second;
the keep-alive policy reads only containerConcurrency and the timeout from a
configuration, so the copies cost what different configurations would).

Cold-start probability per replication: SimFaaS ``total_cold_count / total_req_count``
(every cold request starts an instance). Ours, two ways: ``cold_start_delayed / requests``
(requests that found no free instance on arrival), and ``pods_created / requests``
(instances started per request). Each is given with a 95 % confidence interval across
replications (Student t), and the difference from SimFaaS with Welch's interval.

Both models bind a request that finds no idle instance to an instance of its own
(SimFaaS: the one it starts; ours: a starting instance with a free slot, with CC 1 a new
one), and both send a request to the newest idle instance.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np
from scipy import stats

from autoscale import ColdStart, KPAConfig, Platform, replay
from autoscale.sweep import Sweep, run_sweep
from autoscale.trace import Trace, synthetic

#: name -> (rate req/s, mean service s, cold start s, keep-alive s, horizon s). "busy" runs
#: at the yardstick's rate; "busy-instant" is the same with a 10 ms cold start, where the
#: two dispatch rules cannot differ.
WORKLOADS = {
    "light": (1.0, 1.0, 0.5, 10.0, 10_000.0),
    "busy": (20.0, 1.0, 1.0, 10.0, 3_600.0),
    "busy-instant": (20.0, 1.0, 0.01, 10.0, 3_600.0),
}


def _simfaas_classes():
    from simfaas.ServerlessSimulator import ServerlessSimulator
    from simfaas.SimProcess import ExpSimProcess, SimProcess

    class ColdThenExp(SimProcess):
        """A cold request's response time: the cold start, then an exponential service time."""

        def __init__(self, cold_start: float, mean: float) -> None:
            super().__init__()
            self.cold_start, self.mean = cold_start, mean

        def generate_trace(self):
            return self.cold_start + np.random.exponential(self.mean)

    return ServerlessSimulator, ExpSimProcess, ColdThenExp


def run_simfaas(rate, service, cold_start, keep_alive, horizon, replications) -> dict:
    Simulator, Exp, ColdThenExp = _simfaas_classes()
    p_cold, instances, requests, seconds = [], [], 0, 0.0
    for k in range(replications):
        np.random.seed(k)
        sim = Simulator(arrival_rate=rate, warm_service_process=Exp(rate=1.0 / service),
                        cold_service_process=ColdThenExp(cold_start, service), expiration_threshold=keep_alive,
                        max_time=horizon, maximum_concurrency=10**6)
        t0 = time.perf_counter()
        sim.generate_trace()
        seconds += time.perf_counter() - t0
        requests += sim.total_req_count
        p_cold.append(sim.get_cold_start_prob())
        instances.append(sim.get_average_server_count())
    return {"p_cold": np.array(p_cold), "instances": np.array(instances), "requests": requests,
            "seconds": seconds, "requests_per_s": requests / seconds}


def run_ours(rate, service, cold_start, keep_alive, horizon, replications, batch) -> dict:
    from autoscale.policies import get

    traces = []
    for k in range(replications):
        t = synthetic.poisson(rate=rate, duration=horizon, service=synthetic.exponential(service), seed=k)
        traces.append(Trace(arrivals=t.arrivals, durations=t.durations, name=f"poisson-seed{k}"))
    sweep = Sweep(traces=traces, policies=[("keepalive", {"keep_alive": keep_alive})],
                  overrides={"container-concurrency": 1, "cold-start": f"{cold_start:g}s"})
    platform = Platform(cold_start=ColdStart.constant(cold_start))
    copies = [KPAConfig(container_concurrency=1)] * batch
    pol = get("keepalive", keep_alive=keep_alive)
    for size in (1, batch):  # compile (or load) the kernels outside the timing
        replay(traces[0], copies[:size], policy=pol, platform=platform, duration=600)
    t0 = time.perf_counter()
    table = run_sweep(sweep, progress=False)
    seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    batched = replay(traces[0], copies, policy=pol, platform=platform).summary
    batch_seconds = time.perf_counter() - t0
    assert batched["cold_start_delayed"].nunique() == 1
    requests = int(table["requests"].sum())
    return {
        "p_cold": (table["cold_start_delayed"] / table["requests"]).to_numpy(),
        "p_created": (table["pods_created"] / table["requests"]).to_numpy(),
        "instances": table["mean_pods"].to_numpy(), "requests": requests, "seconds": seconds,
        "requests_per_s": requests / seconds,
        "batch": batch, "batch_request_configs_per_s": len(traces[0]) * batch / batch_seconds,
        "batch_seconds": batch_seconds,
    }


def interval(x: np.ndarray) -> tuple[float, float]:
    """Mean and the half-width of its 95 % confidence interval (Student t)."""
    se = x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean()), float(stats.t.ppf(0.975, x.size - 1) * se)


def welch(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Difference of means x - y and the half-width of its 95 % Welch interval."""
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    df = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    return float(x.mean() - y.mean()), float(stats.t.ppf(0.975, df) * math.sqrt(vx + vy))


def compare(name: str, params, replications: int, batch: int) -> list[str]:
    rate, service, cold_start, keep_alive, horizon = params
    sim = run_simfaas(*params, replications)
    ours = run_ours(*params, replications, batch)
    lines = [f"### {name}: {rate:g} req/s, exponential service mean {service:g} s, cold start {cold_start:g} s, "
             f"keep-alive {keep_alive:g} s, {horizon:,.0f} s x {replications} replications", ""]
    lines += ["| | cold-start probability (95 % CI) | minus SimFaaS (95 % CI) | mean instances |",
              "| --- | ---: | ---: | ---: |"]
    m, h = interval(sim["p_cold"])
    lines.append(f"| SimFaaS: cold requests / requests | {m:.5f} ± {h:.5f} | | {sim['instances'].mean():.3f} |")
    for label, key in (("ours: requests finding no free instance / requests", "p_cold"),
                       ("ours: instances started / requests", "p_created")):
        m, h = interval(ours[key])
        d, dh = welch(ours[key], sim["p_cold"])
        verdict = "agree" if abs(d) <= dh else "differ"
        lines.append(f"| {label} | {m:.5f} ± {h:.5f} | {d:+.5f} ± {dh:.5f} ({verdict}) "
                     f"| {ours['instances'].mean():.3f} |")
    lines += ["", "| simulator | requests simulated | wall time | requests per second | vs SimFaaS |",
              "| --- | ---: | ---: | ---: | ---: |"]
    base = sim["requests_per_s"]
    lines.append(f"| SimFaaS, one run at a time | {sim['requests']:,} | {sim['seconds']:.2f} s "
                 f"| {base / 1e3:,.1f} k | 1 x |")
    lines.append(f"| ours, one configuration per replay (sweep of {replications} traces) | {ours['requests']:,} "
                 f"| {ours['seconds']:.2f} s | {ours['requests_per_s'] / 1e3:,.1f} k "
                 f"| {ours['requests_per_s'] / base:.1f} x |")
    n = ours["batch"]
    lines.append(f"| ours, a batch of {n} configurations (request-configurations) "
                 f"| {ours['requests'] // replications * n:,} | {ours['batch_seconds']:.2f} s "
                 f"| {ours['batch_request_configs_per_s'] / 1e3:,.1f} k "
                 f"| {ours['batch_request_configs_per_s'] / base:.1f} x |")
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", action="append", choices=sorted(WORKLOADS), default=None,
                    help="run this workload (repeatable; default: all)")
    ap.add_argument("--replications", type=int, default=10)
    ap.add_argument("--batch", type=int, default=256, help="configurations in the batched replay")
    args = ap.parse_args(argv)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    for name in args.workload or list(WORKLOADS):
        print("\n".join(compare(name, WORKLOADS[name], args.replications, args.batch)), end="\n\n")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
