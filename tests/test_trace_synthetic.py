"""Synthetic workloads and duration distributions: seeded, deterministic, with the advertised rates."""

from __future__ import annotations

import numpy as np
import pytest

from autoscale import TraceError
from autoscale.errors import TooLargeError
from autoscale.trace import synthetic
from autoscale.trace.durations import Constant, Empirical, Exponential, Lognormal

GENERATORS = {
    "poisson": lambda seed: synthetic.poisson(rate=10, duration=600, seed=seed),
    "on-off": lambda seed: synthetic.on_off(rate_on=50, mean_on=10, mean_off=40, duration=3600, seed=seed),
    "diurnal": lambda seed: synthetic.diurnal(mean_rate=5, amplitude=0.8, duration=3600, period=1800, seed=seed),
    "step": lambda seed: synthetic.step(2, 20, at=300, duration=600, seed=seed),
    "ramp": lambda seed: synthetic.ramp(0, 20, duration=600, seed=seed),
    "spike": lambda seed: synthetic.spike(2, 100, at=200, length=10, duration=600, seed=seed),
    "periodic": lambda seed: synthetic.periodic(period=10, size=5, duration=600, spread=2.0, seed=seed),
}


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_generators_are_seeded_and_valid(kind):
    a, b, c = GENERATORS[kind](7), GENERATORS[kind](7), GENERATORS[kind](8)
    np.testing.assert_array_equal(a.arrivals, b.arrivals)
    np.testing.assert_array_equal(a.durations, b.durations)
    assert not np.array_equal(a.arrivals[:50], c.arrivals[:50]) or len(a) != len(c)
    assert a.arrivals.min() >= 0 and "synthetic" in a.provenance.source


@pytest.mark.parametrize("kind, expected", [
    ("poisson", 10 * 600), ("on-off", 10 * 3600), ("diurnal", 5 * 3600), ("step", 2 * 300 + 20 * 300),
    ("ramp", 10 * 600), ("spike", 2 * 590 + 100 * 10), ("periodic", 5 * 60),
])
def test_generators_produce_their_mean_rate(kind, expected):
    counts = [len(GENERATORS[kind](seed)) for seed in range(4)]
    assert np.mean(counts) == pytest.approx(expected, rel=0.12)


def test_step_and_spike_rates_change_where_asked():
    s = synthetic.step(2, 20, at=300, duration=600, seed=1).arrivals_per_second(0, 600)
    assert s[:300].mean() == pytest.approx(2, rel=0.25) and s[300:].mean() == pytest.approx(20, rel=0.1)
    sp = synthetic.spike(1, 200, at=100, length=5, duration=300, seed=1).arrivals_per_second(0, 300)
    assert sp[100:105].mean() > 150 and sp[110:].mean() < 2


def test_duration_distributions():
    rng = np.random.default_rng(1)
    assert Constant(0.2).sample(3, rng).tolist() == [0.2, 0.2, 0.2]
    assert Exponential(2.0).sample(100_000, rng).mean() == pytest.approx(2.0, rel=0.02)
    assert np.median(Lognormal(0.5, 1.0).sample(100_000, rng)) == pytest.approx(0.5, rel=0.02)
    e = Empirical([1.0, 3.0]).sample(1000, rng)
    assert set(np.unique(e)) == {1.0, 3.0}
    t = synthetic.poisson(5, 100, service=synthetic.empirical([0.1, 0.2]), seed=2)
    assert set(np.unique(t.durations)) <= {0.1, 0.2}


@pytest.mark.parametrize("make, message", [
    (lambda: synthetic.poisson(rate=-1, duration=10), "rate = -1.0, must be a finite number > 0"),
    (lambda: synthetic.poisson(rate=1, duration=float("nan")), "duration = nan"),
    (lambda: synthetic.diurnal(1, 1.5, 100), r"amplitude = 1.5, must be in \[0, 1\]"),
    (lambda: synthetic.on_off(1, 0, 1, 10), "mean_on = 0.0"),
    (lambda: Constant(0), "duration = 0.0, must be a finite number > 0 s"),
    (lambda: Lognormal(1, -1), r"sigma = -1, must be in \[0, 10\]"),
    (lambda: Empirical([1, -2]), "sample 1 = -2.0"),
    (lambda: synthetic.from_rate(lambda t: -np.ones_like(t), 10, peak=1), r"rate\(.*\) = -1, must be in"),
    (lambda: synthetic.periodic(period=10, size=0, duration=60), "size = 0, must be a whole number >= 1"),
    (lambda: synthetic.periodic(period=10, size=2, duration=60, spread=11), r"spread = 11 s, must be in \[0, period"),
    (lambda: synthetic.periodic(period=10, size=2, duration=60, start=60), "start = 60 s, must be before duration"),
    (lambda: synthetic.periodic(period=0, size=2, duration=60), "period = 0.0, must be a finite number > 0"),
], ids=["negative-rate", "nan-duration", "amplitude", "mean-on", "constant", "sigma", "empirical",
        "rate-function", "periodic-size", "periodic-spread", "periodic-start", "periodic-period"])
def test_invalid_parameters_raise_trace_errors(make, message):
    with pytest.raises(TraceError, match=message):
        make()


def test_a_generator_too_large_for_memory_is_refused_before_drawing():
    with pytest.raises(TooLargeError, match="about 1,000,000,000,000,000 requests: needs about .* more than the "
                                            "memory limit of 1 GB .*a shorter duration"):
        synthetic.poisson(rate=1e9, duration=1e6, max_memory="1G")


def test_seed_accepts_a_generator_and_rejects_other_types():
    g = np.random.default_rng(3)
    assert len(synthetic.poisson(5, 10, seed=g)) > 0
    with pytest.raises(TypeError):
        synthetic.poisson(5, 10, seed="three")


def test_periodic_fires_every_period_with_size_requests_within_the_spread():
    t = synthetic.periodic(period=30, size=4, duration=100, start=5, spread=1.5, service=synthetic.constant(0.1),
                           seed=3)
    runs = np.floor((t.arrivals - 5) / 30)
    assert np.bincount(runs.astype(int)).tolist() == [4, 4, 4, 4]  # runs at 5, 35, 65 and 95 s
    assert np.all((t.arrivals - 5) % 30 <= 1.5)
    exact = synthetic.periodic(period=0.5, size=1, duration=2.0, service=synthetic.constant(0.1))
    assert exact.arrivals.tolist() == [0.0, 0.5, 1.0, 1.5]
