"""The Trace value: validation, slicing, selection, merging, rate scaling, concurrency, summary, CSV round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

import autoscale.trace as trace_pkg
from autoscale import TraceError
from autoscale.trace import Provenance, Trace, load, synthetic

from trace_strategies import request_lists, traces

EXPORTED = {
    "BUNDLED", "DEFAULT_SEED", "DEFAULT_SERVICE", "FORMATS", "ArrivalRule", "BundledTrace", "DurationDistribution",
    "Provenance", "Trace", "TraceSummary", "bundled_names", "constant", "durations", "empirical", "expand_counts",
    "exponential", "load", "load_azure2019", "load_azure2021", "load_counts", "load_csv", "load_huawei",
    "load_period_counts", "lognormal", "save_csv", "sniff_format", "synthetic", "traces_dir",
}


def test_public_api_is_exactly_the_documented_set():
    assert set(trace_pkg.__all__) == EXPORTED
    assert all(hasattr(trace_pkg, n) for n in EXPORTED)


# -- validation ------------------------------------------------------------------------------

@pytest.mark.parametrize("arrivals, durations, message", [
    ([], [], "empty trace"),
    ([0, 1], [1, -1], r"request 1: duration = -1.0, must be a finite number > 0 s"),
    ([0], [0], r"request 0: duration = 0.0, must be"),
    ([0, 1], [1, np.inf], r"request 1: duration = inf"),
    ([np.nan], [1], r"request 0: arrival = nan, must be a finite"),
    ([-1, 0], [1, 1], r"request 0: arrival = -1.0, must be >= 0"),
    ([0, 5, 1], [1, 1, 1], r"request 2: arrival 1.0 s is before request 1's 5.0 s; arrivals must be sorted"),
    ([0, 1], [1], r"2 arrivals but 1 durations"),
], ids=["empty", "negative-duration", "zero-duration", "infinite-duration", "nan-arrival", "negative-arrival",
        "unsorted", "length-mismatch"])
def test_construction_rejects_bad_requests_naming_the_first(arrivals, durations, message):
    with pytest.raises(TraceError, match=message):
        Trace(arrivals=arrivals, durations=durations)


def test_function_codes_must_index_the_names():
    with pytest.raises(TraceError, match=r"request 1: function code 2, must be in \[0, 1\]"):
        Trace(arrivals=[0, 1], durations=[1, 1], function=[0, 2], function_names=("a", "b"))
    with pytest.raises(TraceError, match="2 apps for 1 functions"):
        Trace(arrivals=[0], durations=[1], function=[0], function_names=("a",), apps=("x", "y"))


def test_from_unsorted_sorts_stably_and_keeps_pairs_together():
    t = Trace.from_unsorted([5, 0, 5, 1], [1, 2, 3, 4], function=[0, 1, 1, 0], function_names=("a", "b"))
    assert t.arrivals.tolist() == [0, 1, 5, 5]
    assert t.durations.tolist() == [2, 4, 1, 3]
    assert t.function.tolist() == [1, 0, 0, 1]


def test_trace_is_immutable():
    source = np.array([0.0, 1.0])
    t = Trace(arrivals=source, durations=[1.0, 1.0])
    source[0] = 0.5  # the trace copied its input
    assert t.arrivals[0] == 0.0
    with pytest.raises(ValueError):
        t.arrivals[0] = 3.0
    with pytest.raises(AttributeError):
        t.name = "other"


# -- concurrency -----------------------------------------------------------------------------

def naive_concurrency(t: Trace, start: int, stop: int) -> np.ndarray:
    """Slow and obvious: overlap of every request with every second."""
    out = np.zeros(stop - start)
    for a, d in zip(t.arrivals, t.durations):
        for s in range(start, stop):
            out[s - start] += max(0.0, min(a + d, s + 1) - max(a, s))
    return out


@settings(max_examples=80, deadline=None, derandomize=True)
@given(request_lists())
def test_concurrency_per_second_equals_naive_integration(reqs):
    t = Trace.from_unsorted(*reqs)
    np.testing.assert_allclose(t.concurrency_per_second(0, 45), naive_concurrency(t, 0, 45), atol=1e-9)
    np.testing.assert_allclose(t.concurrency_per_second(7, 19), naive_concurrency(t, 7, 19), atol=1e-9)
    # the integral of concurrency is the total service time
    assert t.concurrency_per_second().sum() == pytest.approx(t.durations.sum())


def test_concurrency_of_a_request_spanning_three_seconds():
    t = Trace(arrivals=[0.5], durations=[1.75])
    assert t.concurrency_per_second(0, 4).tolist() == [0.5, 1.0, 0.25, 0.0]


# -- slicing, selection, merging, scaling ----------------------------------------------------

def test_slice_keeps_requests_arriving_in_the_window_and_rebases():
    t = synthetic.poisson(rate=20, duration=100, seed=3)
    s = t.slice(10, 20)
    inside = (t.arrivals >= 10) & (t.arrivals < 20)
    assert len(s) == inside.sum()
    np.testing.assert_allclose(s.arrivals, t.arrivals[inside] - 10)
    assert t.slice(10, 20, rebase=False).arrivals.min() >= 10
    with pytest.raises(TraceError, match="leaves no request"):
        t.slice(200, 300)


def test_select_by_name_prefix_index_and_app_compacts_codes():
    t = Trace(arrivals=[0, 1, 2, 3], durations=[1, 1, 1, 1], function=[0, 1, 2, 1],
              function_names=("alpha", "beta", "gamma"), apps=("A", "A", "B"))
    b = t.select(function="be")
    assert len(b) == 2 and b.function_names == ("beta",) and b.function.tolist() == [0, 0]
    assert t.select(function=[0, "gamma"]).function_names == ("alpha", "gamma")
    assert t.select(app="A").function_names == ("alpha", "beta")
    assert t.select(app="B").apps == ("B",)
    with pytest.raises(TraceError, match="no functions match 'zeta'"):
        t.select(function="zeta")
    with pytest.raises(TraceError, match="single-function trace"):
        synthetic.poisson(1, 10).select(function=0)


def test_merge_unions_functions_by_name_and_restores_a_split_trace():
    t = Trace(arrivals=[0, 1, 2, 3], durations=[1, 2, 3, 4], function=[0, 1, 0, 1], function_names=("a", "b"))
    back = Trace.merge([t.slice(0, 2, rebase=False), t.slice(2, 10, rebase=False)])
    assert back.arrivals.tolist() == t.arrivals.tolist()
    assert [back.function_names[i] for i in back.function] == ["a", "b", "a", "b"]
    m = Trace.merge([synthetic.poisson(5, 50, seed=1), synthetic.poisson(3, 50, seed=2)])
    assert len(m.function_names) == 2 and len(m.select(function=0)) == len(synthetic.poisson(5, 50, seed=1))


def test_scale_rate_thins_and_superposes_deterministically():
    t = synthetic.poisson(rate=20, duration=200, seed=3)
    half = t.scale_rate(0.5, seed=1)
    assert 0.45 * len(t) < len(half) < 0.55 * len(t)
    assert half.arrivals.tolist() == t.scale_rate(0.5, seed=1).arrivals.tolist()
    triple = t.scale_rate(3.0, seed=1)
    assert len(triple) == 3 * len(t)
    assert triple.durations.sum() == pytest.approx(3 * t.durations.sum())
    # every copy stays in its original second: the per-second rate triples exactly
    np.testing.assert_array_equal(triple.arrivals_per_second(0, 200), 3 * t.arrivals_per_second(0, 200))
    frac = t.scale_rate(2.5, seed=4)
    assert 2.45 * len(t) < len(frac) < 2.55 * len(t)
    with pytest.raises(TraceError, match="scale factor = 0"):
        t.scale_rate(0)


# -- summary and output ----------------------------------------------------------------------

def test_summary_of_a_hand_computed_trace():
    t = Trace(arrivals=[0.0, 0.2, 0.4, 3.0], durations=[1.0, 1.0, 1.0, 2.0], name="s")
    s = t.summary()
    assert (s.requests, s.span, s.peak_1s_rate, s.functions) == (4, 3.0, 3.0, 1)
    assert s.mean_rate == pytest.approx(4 / 3)
    assert s.duration_max == 2.0 and s.duration_p50 == 1.0
    assert s.mean_concurrency == pytest.approx(5.0 / 5)  # 5 s of service over seconds 0-4
    assert s.peak_1s_concurrency == pytest.approx(2.4)  # second 0: 1 + 0.8 + 0.6
    assert s.to_pandas()["requests"] == 4
    assert "peak 1 s rate" in str(s) and "trace s" in str(s)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(traces())
def test_csv_round_trip_is_exact(tmp_path_factory, t):
    path = tmp_path_factory.mktemp("rt") / "t.csv"
    t.to_csv(path)
    back = load(path)
    np.testing.assert_array_equal(back.arrivals, t.arrivals)
    np.testing.assert_array_equal(back.durations, t.durations)
    assert [back.function_names[i] for i in back.function] == [t.function_names[i] for i in t.function]


def test_csv_round_trip_keeps_apps_and_to_pandas_names_functions(tmp_path):
    t = Trace(arrivals=[0.1, 0.2], durations=[0.3, 0.4], function=[1, 0], function_names=("f", "g"),
              apps=("x", "y"))
    frame = t.to_pandas()
    assert frame["function"].astype(str).tolist() == ["g", "f"] and frame["app"].tolist() == ["y", "x"]
    back = load(t.to_csv(tmp_path / "t.csv"))
    assert back.function_names == ("f", "g") and back.apps == ("x", "y")


def test_provenance_is_a_value_with_attribution():
    p = Provenance("src", attribution="Someone 2020", licence="CC-BY 4.0", notes=("sorted",))
    assert str(p) == "src; sorted; licence: CC-BY 4.0; cite: Someone 2020"
    t = Trace(arrivals=[0], durations=[1], provenance="plain text")
    assert t.provenance == Provenance("plain text")
    merged = Provenance.combine([p, p.with_note("x")])
    assert merged.attribution == "Someone 2020" and merged.notes == ("sorted", "x")


def test_to_pandas_without_functions():
    frame = synthetic.poisson(2, 10, seed=1).to_pandas()
    assert list(frame.columns) == ["arrival_s", "duration_s"] and isinstance(frame, pd.DataFrame)


@pytest.mark.parametrize("module", ["trace", "durations", "arrivals", "azure2019", "azure2021", "rates", "huawei",
                                    "csvtrace", "synthetic", "loaders"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    mod = importlib.import_module(f"autoscale.trace.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
