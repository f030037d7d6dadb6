"""Fixed replay scenarios whose engine outputs are pinned in ``engine_outputs.npz``.

``python tests/golden/scenarios.py --record`` replays every scenario and writes the file;
``tests/test_golden.py`` replays them again and requires every counter, histogram, time
series and batch pod count to be identical. The synthetic traces are pinned too, in
``inputs.npz`` (``--record-inputs`` writes it): their draws go through numpy's ``exp`` and
``log``, whose last bits differ between numpy builds, and the pins are of the engine's
outputs on fixed inputs. The scenarios cover the bundled traces,
synthetic bursts, every built-in policy, CC 0/1/10/100, TBC 211/0/-1, scale to zero on and
off, several services, a route across revisions and asynchronous invocation.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from autoscale import ColdStart, KPAConfig, Platform, replay
from autoscale.invocation import Async
from autoscale.traffic import Route, TrafficTarget
from autoscale.services import replay_route, replay_services
from autoscale.trace import load, synthetic

HERE = Path(__file__).resolve().parent
STORE = HERE / "engine_outputs.npz"
INPUTS = HERE / "inputs.npz"
POLICIES = ("kpa", "hpa", "fixed", "keepalive", "hybrid", "forecast", "oracle")


_FRESH = False  # make the synthetic traces anew instead of reading inputs.npz


def _pinned(name: str, trace):
    """``trace`` with the arrivals and durations pinned for ``name`` in ``inputs.npz``."""
    if _FRESH or not INPUTS.exists():
        return trace
    with np.load(INPUTS) as data:
        return replace(trace, arrivals=data[f"{name}/arrivals"], durations=data[f"{name}/durations"])


def _bursty():
    return _pinned("bursty", synthetic.on_off(rate_on=30.0, mean_on=20.0, mean_off=90.0, duration=1200.0,
                                              service=synthetic.lognormal(median=0.4, sigma=0.6), seed=3))


def _spike():
    return _pinned("spike", synthetic.spike(base_rate=2.0, spike_rate=60.0, at=200.0, length=20.0, duration=600.0,
                                            service=synthetic.exponential(0.3), seed=4))


def _overload():
    return _pinned("overload", synthetic.poisson(rate=40.0, duration=300.0, service=synthetic.constant(1.5), seed=6))


def record_inputs(path: Path = INPUTS) -> None:
    """Make the synthetic traces and pin their arrivals and durations."""
    global _FRESH
    _FRESH = True
    try:
        data = {}
        for name, make in (("bursty", _bursty), ("spike", _spike), ("overload", _overload)):
            trace = make()
            data[f"{name}/arrivals"], data[f"{name}/durations"] = trace.arrivals, trace.durations
    finally:
        _FRESH = False
    np.savez_compressed(path, **data)


def _grid(**fixed):
    return [KPAConfig(container_concurrency=cc, target_burst_capacity=tbc, **fixed)
            for cc in (0, 1, 10, 100) for tbc in (211, 0, -1)]


def scenarios():
    """Name -> a function returning a ReplayResult (or a ServicesResult)."""
    default = load("default")
    http = load("azure2019-http-bursty")
    ten = load("azure2019-10")
    slow = Platform(cold_start=ColdStart.lognormal(minimum=1.9, mean=3.1, p99=4.2))
    out = {
        "default-tbc": lambda: replay(default.slice(0, 7200), [KPAConfig(target_burst_capacity=t) for t in (211, 0, -1)],
                                      timeseries=True, max_points=500, seed=1),
        "http-bursty-grid": lambda: replay(http, _grid(), seed=2),
        "bursty-grid": lambda: replay(_bursty(), _grid(timeout_seconds=30), seed=3, timeseries=True, max_points=300),
        "bursty-no-scale-to-zero": lambda: replay(
            _bursty(), [KPAConfig(enable_scale_to_zero=False, target_burst_capacity=t, container_concurrency=1)
                        for t in (211, 0, -1)], seed=4),
        "spike-knobs": lambda: replay(_spike(), [
            KPAConfig(container_concurrency=10, min_scale=1, max_scale=4),
            KPAConfig(container_concurrency=10, scale_down_delay=30.0),
            KPAConfig(container_concurrency=10, metric_aggregation_algorithm="weighted-exponential"),
            KPAConfig(container_concurrency=10, metric="rps", target=5.0),
            KPAConfig(container_concurrency=10, activation_scale=3, initial_scale=0, allow_zero_initial_scale=True),
            KPAConfig(container_concurrency=5, panic_threshold_percentage=400.0, stable_window=30.0),
            KPAConfig(container_concurrency=10, target_burst_capacity=0, scale_to_zero_pod_retention_period=120.0),
        ], seed=5, timeseries=True, max_points=200, platform=slow),
        "overload-timeouts": lambda: replay(
            _overload(),
            [KPAConfig(container_concurrency=cc, max_scale=2, timeout_seconds=20, target_burst_capacity=t)
             for cc in (1, 10) for t in (211, 0, -1)], seed=6),
        "services-10": lambda: replay_services(ten.slice(0, 3600), KPAConfig(), seed=7, timeseries=True,
                                               max_points=100),
        "services-pool": lambda: replay_services(ten.slice(0, 1800), KPAConfig(container_concurrency=1), seed=8,
                                                 activator_pool=5),
        "route-canary": lambda: replay_route(
            _spike(), {"a": KPAConfig(), "b": KPAConfig(container_concurrency=1)},
            Route([TrafficTarget("a", 80), TrafficTarget("b", 20)]), seed=9),
        "async": lambda: replay(_bursty(), [KPAConfig(container_concurrency=1, target_burst_capacity=t)
                                            for t in (211, -1)], seed=10,
                                invocation=Async(concurrency=20, retries=3)),
    }
    for name in POLICIES:
        out[f"policy-{name}"] = (lambda name=name: replay(
            _bursty(), [KPAConfig(container_concurrency=cc) for cc in (0, 1, 10)], policy=name, seed=11,
            timeseries=True, max_points=100))
    return out


def outputs(result) -> dict[str, np.ndarray]:
    """Every number a replay produced, flattened to arrays."""
    r = getattr(result, "result", result)
    out = {f"counter.{k}": np.asarray(v) for k, v in r.counters.items()}
    out["latency_hist"] = r.latency_hist
    out["wait_hist"] = r.wait_hist
    out["duration"] = np.asarray(r.duration)
    if r.pods_total is not None:
        out["pods_total"] = np.asarray(r.pods_total)
    if r.timeseries is not None:
        out["ts.time"] = r.timeseries.time
        for k, v in r.timeseries.values.items():
            out[f"ts.{k}"] = v
    inv = r.invocation
    if inv is not None:
        for k in ("requests", "completed", "dead_lettered", "pending", "waiting", "retries", "completion_hist",
                  "completion_max", "queue_hist", "queue_max"):
            out[f"async.{k}"] = np.asarray(getattr(inv, k))
    return out


def record(names=None, path: Path = STORE) -> None:
    """Replay the scenarios (all, or only ``names``, keeping the others as pinned) and write the file."""
    data = {}
    if names and path.exists():
        with np.load(path) as old:
            data = {k: old[k] for k in old.files if k.split("/", 1)[0] not in names}
    for name, fn in scenarios().items():
        if names and name not in names:
            continue
        for key, value in outputs(fn()).items():
            data[f"{name}/{key}"] = value
        print("recorded", name, flush=True)
    np.savez_compressed(path, **data)


if __name__ == "__main__":
    if "--record-inputs" in sys.argv:
        record_inputs()
    if "--record" in sys.argv:
        record([a for a in sys.argv[1:] if not a.startswith("--")])
    else:
        print(__doc__)
