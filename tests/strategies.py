"""Hypothesis strategies for small traces, configurations and platforms, shared by the property tests.

Everything here is small on purpose: a trace spans at most a couple of minutes, so
one engine replay plus one reference run takes a few hundredths of a second and a
property test can afford dozens of examples.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from autoscale.config import KPAConfig
from autoscale.platform import ColdStart, Platform
from autoscale.trace import Trace

__all__ = [
    "CONTAINER_CONCURRENCIES",
    "TBCS",
    "bursty_arrivals",
    "configs",
    "fixed_pool_chains",
    "sparse_traces",
    "make_trace",
    "platforms",
    "traces",
]

#: container concurrencies covering every activator policy: random choice of 2 (0),
#: first available (1-3) and round robin (> 3)
CONTAINER_CONCURRENCIES = (0, 1, 2, 3, 5, 10)
#: target burst capacities: activator out of the path whenever possible (0), the
#: default, a small one, and always in the path (-1)
TBCS = (0.0, 10.0, 211.0, -1.0)


def make_trace(arrivals, durations, name: str = "test") -> Trace:
    """A trace from arrival times and service durations (seconds), sorted by arrival."""
    arrivals = np.asarray(arrivals, dtype=np.float64)
    durations = np.asarray(durations, dtype=np.float64)
    order = np.argsort(arrivals, kind="stable")
    return Trace(arrivals=arrivals[order], durations=durations[order], name=name)


def bursty_arrivals(rng: np.random.Generator, span: float, rate: float, on: float, off: float,
                    start: float = 0.0) -> np.ndarray:
    """Poisson arrivals at ``rate`` req/s during ``on`` s, then ``off`` s of silence, repeated."""
    out = []
    t = start
    while t < span:
        end = min(t + on, span)
        n = rng.poisson(rate * (end - t))
        out.append(np.sort(rng.uniform(t, end, n)))
        t = end + off
    return np.concatenate(out) if out else np.zeros(0)


@st.composite
def traces(draw, max_span: float = 90.0, max_rate: float = 20.0) -> Trace:
    """A small trace: Poisson or on-off arrivals with lognormal durations, from a drawn seed.

    Durations may exceed short revision timeouts, and idle gaps may be long enough for
    scale to zero; both are what the invariants must survive.
    """
    seed = draw(st.integers(0, 2**32 - 1))
    span = draw(st.sampled_from([10.0, 30.0, 60.0, max_span]))
    rate = draw(st.floats(0.2, max_rate))
    kind = draw(st.sampled_from(["poisson", "on-off", "single-burst"]))
    median = draw(st.sampled_from([0.01, 0.1, 0.5, 2.0]))
    sigma = draw(st.sampled_from([0.0, 0.5, 1.0, 1.5]))
    rng = np.random.default_rng(seed)
    if kind == "poisson":
        arrivals = np.sort(rng.uniform(0.0, span, rng.poisson(rate * span)))
    elif kind == "on-off":
        on = draw(st.sampled_from([2.0, 5.0, 10.0]))
        off = draw(st.sampled_from([5.0, 20.0, 50.0]))
        arrivals = bursty_arrivals(rng, span, rate * 3.0, on, off, start=draw(st.floats(0.0, 5.0)))
    else:
        at = draw(st.floats(0.0, span / 2))
        n = draw(st.integers(1, 60))
        arrivals = np.sort(at + rng.uniform(0.0, draw(st.sampled_from([0.0, 0.05, 1.0])), n))
    if arrivals.size == 0:  # a trace holds at least one request
        arrivals = np.array([draw(st.floats(0.0, span))])
    durations = median * np.exp(sigma * rng.standard_normal(arrivals.size))
    return make_trace(arrivals, durations, name=f"hypothesis-{kind}")


@st.composite
def sparse_traces(draw, max_span: float = 4 * 3600.0) -> Trace:
    """Mostly idle: a few short bursts far apart (minutes to an hour), as most functions of a FaaS trace."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    bursts = draw(st.integers(1, 6))
    starts = np.sort(rng.uniform(0.0, draw(st.sampled_from([600.0, 3600.0, max_span])), bursts))
    parts = [s + np.sort(rng.uniform(0.0, draw(st.sampled_from([0.0, 2.0, 20.0])), draw(st.integers(1, 30))))
             for s in starts]
    arrivals = np.concatenate(parts)
    durations = draw(st.sampled_from([0.05, 0.5, 3.0])) * np.exp(0.5 * rng.standard_normal(arrivals.size))
    return make_trace(arrivals, durations, name="hypothesis-sparse")


@st.composite
def configs(draw, container_concurrency=None, tbc=None) -> KPAConfig:
    """A valid KPA configuration around the knobs the data plane and the control loop react to."""
    cc = draw(st.sampled_from(CONTAINER_CONCURRENCIES)) if container_concurrency is None else container_concurrency
    max_scale = draw(st.sampled_from([0, 0, 2, 5]))
    activation = draw(st.sampled_from([0, 0, 2]))  # within [min, max] for every max drawn
    return KPAConfig(
        container_concurrency=cc,
        target_burst_capacity=draw(st.sampled_from(TBCS)) if tbc is None else tbc,
        stable_window=draw(st.sampled_from([6.0, 10.0, 30.0, 60.0])),
        panic_window_percentage=draw(st.sampled_from([10.0, 20.0, 50.0])),
        panic_threshold_percentage=draw(st.sampled_from([150.0, 200.0])),
        scale_to_zero_grace_period=draw(st.sampled_from([2.0, 10.0, 30.0])),
        scale_down_delay=draw(st.sampled_from([0.0, 0.0, 4.0])),
        timeout_seconds=draw(st.sampled_from([1.0, 3.0, 30.0, 300.0])),
        max_scale=max_scale,
        min_scale=draw(st.sampled_from([0, 0, 1])),
        activation_scale=activation,
        metric=draw(st.sampled_from(["concurrency", "concurrency", "rps"])),
        metric_aggregation_algorithm=draw(st.sampled_from(["linear", "linear", "weighted-exponential"])),
    )


@st.composite
def platforms(draw) -> Platform:
    """Cold starts from Knative's measured default, a constant, or an empirical sample; a network delay;
    one activator (Knative's default install) or several."""
    kind = draw(st.sampled_from(["default", "constant", "empirical"]))
    if kind == "default":
        cs = ColdStart.knative_default()
    elif kind == "constant":
        cs = ColdStart.constant(draw(st.sampled_from([1.0, 2.0, 3.5])))
    else:
        cs = ColdStart.empirical(draw(st.lists(st.floats(1.0, 6.0), min_size=1, max_size=5)))
    return Platform(cold_start=cs, mode_switch_delay=draw(st.sampled_from([1.0, 1.0, 2.0, 0.5])),
                    activators=draw(st.sampled_from([1, 1, 2, 3])))


@st.composite
def fixed_pool_chains(draw, max_services: int = 4):
    """A small DAG of services, each a fixed pool of single-slot pods, for the chain's event simulation.

    Returns ``(names, pods, own, calls)``: service names (the first is the entry), pods per
    service, each callee's constant service time (s), and per caller its calls
    ``(callee, at, delay)`` in order of ``at``; every callee comes after its callers in ``names``.
    """
    k = draw(st.integers(min_value=2, max_value=max_services))
    names = [f"s{i}" for i in range(k)]
    pods = {n: draw(st.integers(min_value=1, max_value=3)) for n in names}
    own = {n: draw(st.floats(min_value=0.01, max_value=0.3)) for n in names[1:]}
    fractions = st.floats(min_value=0.0, max_value=1.0)
    delays = st.sampled_from((0.0, 0.001, 0.02))
    calls = {}
    for j in range(1, k):
        # Every service but the entry has at least one caller before it.
        callers = draw(st.sets(st.integers(min_value=0, max_value=j - 1), min_size=1, max_size=2))
        for i in sorted(callers):
            calls.setdefault(names[i], []).append((names[j], draw(fractions), draw(delays)))
    for steps in calls.values():
        steps.sort(key=lambda c: c[1])
    return names, pods, own, calls
