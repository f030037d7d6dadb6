"""The public API: the exported names, and the platform defaults the model documents."""

from __future__ import annotations

import numpy as np
import pytest

import autoscale
from autoscale import ColdStart, ConfigError, Platform
from autoscale.rng import SplitMix64, seed_state

EXPORTED = {
    "__version__", "ActiveState", "Aggregation", "AutoscaleError", "ColdStart", "Collector", "ConfigError",
    "Decider", "Decision", "KPAConfig", "KPASpec", "Metric", "Mode", "Observation", "Platform", "Reconciler",
    "ReplayResult", "ResolvedConfig", "TraceError", "replay", "resolve", "Comparison", "compare", "Policy",
    "Signals",
}


def test_exported_names_do_not_change_by_accident():
    assert set(autoscale.__all__) == EXPORTED
    for name in EXPORTED:
        assert hasattr(autoscale, name)


def test_errors_are_value_errors():
    assert issubclass(autoscale.ConfigError, ValueError)
    assert issubclass(autoscale.TraceError, ValueError)
    assert issubclass(autoscale.ConfigError, autoscale.AutoscaleError)


def test_default_cold_start_matches_knative_measurements():
    cs = ColdStart.knative_default()
    assert cs.minimum() == 1.9
    assert cs.mean() == pytest.approx(3.1, abs=1e-9)
    assert cs.quantile(0.99) == pytest.approx(4.2, abs=1e-9)


def test_cold_start_fit_and_validation():
    cs = ColdStart.lognormal(minimum=1.0, mean=2.0, p99=5.0)
    assert cs.mean() == pytest.approx(2.0) and cs.quantile(0.99) == pytest.approx(5.0)
    with pytest.raises(ConfigError, match="minimum < mean < p99"):
        ColdStart.lognormal(minimum=2.0, mean=1.0, p99=5.0)
    with pytest.raises(ConfigError, match="cold-start kind"):
        ColdStart(kind="gamma")
    with pytest.raises(ConfigError, match="mode-switch-delay"):
        Platform(mode_switch_delay=-1.0)


def test_splitmix_twin_draws_uniforms_and_is_seeded():
    a, b = SplitMix64(seed_state(7)), SplitMix64(seed_state(7))
    xs = [a.uniform() for _ in range(2000)]
    assert xs == [b.uniform() for _ in range(2000)]
    assert 0.45 < np.mean(xs) < 0.55 and min(xs) >= 0.0 and max(xs) < 1.0
    assert SplitMix64(seed_state(8)).uniform() != xs[0]


def test_compiled_stream_equals_the_python_twin():
    from autoscale._state import _uniform

    state = np.array([[seed_state(3), seed_state(4)]], dtype=np.uint64)
    twin, other = SplitMix64(seed_state(3)), SplitMix64(seed_state(4))
    assert [_uniform(state, 0, 0) for _ in range(50)] == [twin.uniform() for _ in range(50)]
    assert [_uniform(state, 0, 1) for _ in range(50)] == [other.uniform() for _ in range(50)]


def test_streams_are_spawned_per_purpose_from_the_seed():
    from autoscale.rng import STREAMS, seed_states

    states = seed_states(11)
    assert states.dtype == np.uint64 and states.size == len(STREAMS) == 6
    assert len(set(states.tolist())) == 6  # independent children, not one state repeated
    children = np.random.SeedSequence(11).spawn(6)
    assert states.tolist() == [int(c.generate_state(1, dtype=np.uint64)[0]) for c in children]
    assert (seed_states(11) == states).all() and (seed_states(12) != states).all()


def test_histogram_bins_match_their_edges_and_log10():
    import math

    from autoscale._state import HIST_BINS, hist_bin
    from autoscale.results import hist_edges

    edges = hist_edges()
    rng = np.random.default_rng(0)
    xs = np.concatenate([10.0 ** rng.uniform(-7, 7, 20000), edges[1:-1], np.nextafter(edges[1:-1], 0)])
    for x in xs:
        k = hist_bin(float(x))
        if x < 1e-6:
            assert k == 0
            continue
        assert edges[k] <= x < edges[k + 1] or k == HIST_BINS - 1
        naive = min(1 + int((math.log10(x) + 6) * 100), HIST_BINS - 1)
        assert abs(k - naive) <= 1  # the same bins as log10, up to rounding at an edge
