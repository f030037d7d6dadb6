"""Recorded replays (``replay(..., record=True)``): every request's start, end and status.

The outcomes are checked against the summary of the same replay (counts per status, the
latency and waiting-time histograms bin for bin), against the compiled loop's summary,
and request for request against the event-level reference on a calm trace.
"""

from __future__ import annotations

import numpy as np
import pytest

from autoscale import ConfigError, KPAConfig, replay
from autoscale._state import HIST_BINS, hist_add
from autoscale.invocation import Async
from autoscale.reference import simulate
from autoscale.trace import synthetic

from strategies import bursty_arrivals, make_trace

SEED = 7


def _bursty(seed=0, span=200.0):
    rng = np.random.default_rng(seed)
    arrivals = bursty_arrivals(rng, span, 30.0, on=15.0, off=80.0, start=3.0)
    return make_trace(arrivals, 0.4 * np.exp(0.8 * rng.standard_normal(arrivals.size)), name="bursty")


BURSTY = _bursty()
CONFIGS = [KPAConfig(container_concurrency=cc, target_burst_capacity=tbc, timeout_seconds=5.0)
           for cc, tbc in ((1, 0), (1, -1), (3, 211), (0, 0))]


@pytest.fixture(scope="module")
def recorded():
    return replay(BURSTY, CONFIGS, seed=SEED, record=True)


def test_every_request_has_one_outcome_and_the_counts_match_the_summary(recorded):
    out = recorded.outcomes
    assert out.status.shape == (len(CONFIGS), len(BURSTY))
    assert set(np.unique(out.status)) <= {0, 200, 503, 504}
    counts = out.counts()
    s = recorded.summary
    for col in ("requests", "completed", "status_503", "status_504", "in_flight"):
        np.testing.assert_array_equal(counts[col].to_numpy(), s[col].to_numpy(), err_msg=col)
    # Something happened besides completions, so the test sees every kind of outcome.
    assert (s["status_503"] + s["status_504"]).sum() > 0


def test_recorded_latencies_and_waits_rebuild_the_histograms_bin_for_bin(recorded):
    out = recorded.outcomes
    lat = np.zeros((len(CONFIGS), HIST_BINS), dtype=np.int64)
    wait = np.zeros_like(lat)
    for b in range(len(CONFIGS)):
        latency = out.latency[b]
        hist_add(lat, b, latency[~np.isnan(latency)])
        w = out.wait[b]
        hist_add(wait, b, w[~np.isnan(w)])
        assert np.nanmax(latency) == recorded.counters["latency_max"][b]
    np.testing.assert_array_equal(lat, recorded.latency_hist)
    np.testing.assert_array_equal(wait, recorded.wait_hist)


def test_a_request_starts_after_it_arrives_and_ends_after_it_starts(recorded):
    out = recorded.outcomes
    started = ~np.isnan(out.start)
    assert np.all(out.start[started] >= np.broadcast_to(out.arrivals, out.start.shape)[started])
    both = started & ~np.isnan(out.end)
    assert np.all(out.end[both] >= out.start[both])
    # A 503 never reached a pod's slot; a completed request always did.
    assert not started[out.status == 503].any()
    assert started[out.status == 200].all()
    # A completed request ran exactly its duration (to the float's rounding).
    done = out.status == 200
    ran = (out.end - out.start)[done]
    np.testing.assert_allclose(ran, np.broadcast_to(BURSTY.durations, out.start.shape)[done], rtol=1e-9)


def test_recording_changes_no_result_of_the_compiled_loop(recorded):
    plain = replay(BURSTY, CONFIGS, seed=SEED)
    a, b = plain.summary, recorded.summary
    assert list(a.columns) == list(b.columns)
    for col in a.columns:
        np.testing.assert_array_equal(a[col].to_numpy(), b[col].to_numpy(), err_msg=col)
    assert plain.outcomes is None


def test_outcomes_agree_with_the_reference_request_for_request():
    rng = np.random.default_rng(1)
    arrivals = np.sort(rng.uniform(0.0, 120.0, 600))
    trace = make_trace(arrivals, 0.5 * np.exp(rng.standard_normal(arrivals.size)), name="poisson")
    for config in (KPAConfig(container_concurrency=1, target_burst_capacity=-1),
                   KPAConfig(container_concurrency=10, target_burst_capacity=0)):
        engine = replay(trace, config, seed=SEED, record=True).outcomes.frame()
        ref = simulate(trace, config, seed=SEED).requests
        status = ref["outcome"].map({"completed": 200, "503": 503, "504": 504, "in_flight": 0}).to_numpy()
        np.testing.assert_array_equal(engine["status"].to_numpy(), status)
        np.testing.assert_allclose(engine["start_s"].to_numpy(), ref["start"].to_numpy(), rtol=1e-12)
        np.testing.assert_allclose(engine["end_s"].to_numpy(), ref["end"].to_numpy(), rtol=1e-12)


def test_frame_has_a_row_per_request():
    trace = synthetic.poisson(rate=2.0, duration=30.0, service=synthetic.constant(0.2), seed=1)
    frame = replay(trace, KPAConfig(container_concurrency=1), record=True).outcomes.frame()
    assert len(frame) == len(trace)
    assert list(frame.columns) == ["arrival_s", "start_s", "end_s", "status", "latency_s", "wait_s"]
    ok = frame["status"] == 200
    np.testing.assert_allclose(frame.loc[ok, "latency_s"], frame.loc[ok, "end_s"] - frame.loc[ok, "arrival_s"])


def test_recording_refuses_asynchronous_invocation():
    trace = synthetic.poisson(rate=2.0, duration=10.0, service=synthetic.constant(0.2), seed=1)
    with pytest.raises(ConfigError, match="record=True"):
        replay(trace, KPAConfig(), invocation=Async(), record=True)
