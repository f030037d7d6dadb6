"""Traces: the value, the loaders on the shipped real files, malformed input, synthetic workloads."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoscale import TraceError
from autoscale.trace import Trace, load, synthetic, traces_dir
from autoscale.trace.loaders import azure2019, azure2021, huawei, per_period_counts, per_request_csv

TRACES = traces_dir()
AZ19 = TRACES / "azure-functions-2019-invitro"


def file_total(path: Path, skip: int) -> int:
    df = pd.read_csv(path)
    return int(df.iloc[:, skip:].to_numpy().sum())


# -- the value --------------------------------------------------------------------------------


def test_validation_names_the_request_and_the_rule():
    with pytest.raises(TraceError, match="empty trace"):
        Trace(arrivals=[], durations=[])
    with pytest.raises(TraceError, match=r"request 1: duration = -1.0, must be a finite number > 0"):
        Trace(arrivals=[0, 1], durations=[1, -1])
    with pytest.raises(TraceError, match=r"request 0: duration = 0.0"):
        Trace(arrivals=[0], durations=[0])
    with pytest.raises(TraceError, match=r"arrival = nan"):
        Trace(arrivals=[np.nan], durations=[1])
    with pytest.raises(TraceError, match=r"request 2: arrival 1.0 is before request 1's 5.0; arrivals must be sorted"):
        Trace(arrivals=[0, 5, 1], durations=[1, 1, 1])
    t = Trace.from_unsorted([0, 5, 1], [1, 2, 3])
    assert list(t.arrivals) == [0, 1, 5] and list(t.durations) == [1, 3, 2]


def naive_concurrency(t: Trace, start: int, stop: int) -> np.ndarray:
    out = np.zeros(stop - start)
    for a, d in zip(t.arrivals, t.durations):
        for s in range(start, stop):
            out[s - start] += max(0.0, min(a + d, s + 1) - max(a, s))
    return out


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.floats(0, 30), st.floats(0.001, 12)), min_size=1, max_size=40))
def test_concurrency_per_second_equals_naive_integration(reqs):
    a, d = zip(*reqs)
    t = Trace.from_unsorted(a, d)
    np.testing.assert_allclose(t.concurrency_per_second(0, 45), naive_concurrency(t, 0, 45), atol=1e-9)


def test_slice_select_merge_and_scale():
    t = synthetic.poisson(rate=20, duration=100, seed=3)
    s = t.slice(10, 20)
    assert s.arrivals.min() >= 0 and s.arrivals.max() < 10
    assert len(s) == np.count_nonzero((t.arrivals >= 10) & (t.arrivals < 20))
    m = Trace.merge([t, synthetic.poisson(rate=5, duration=100, seed=4)])
    assert len(m.function_names) == 2 and len(m.select(0)) == len(t)
    half = t.scale_rate(0.5, seed=1)
    assert 0.4 * len(t) < len(half) < 0.6 * len(t)
    assert t.scale_rate(0.5, seed=1).arrivals.tolist() == half.arrivals.tolist()
    triple = t.scale_rate(3.0, seed=1)
    assert len(triple) == 3 * len(t)
    assert triple.durations.sum() == pytest.approx(3 * t.durations.sum())


def test_summary():
    t = Trace(arrivals=[0.0, 0.2, 0.4, 3.0], durations=[1.0, 1.0, 1.0, 2.0], name="s")
    s = t.summary()
    assert (s.requests, s.span, s.peak_1s_rate) == (4, 3.0, 3.0)
    assert s.duration_max == 2.0 and s.to_pandas()["requests"] == 4
    assert "requests" in str(s)


# -- real files ---------------------------------------------------------------------------------


def sources_digests() -> dict[str, str]:
    """Relative path -> sha256, from the tables of SOURCES.md under their section headings."""
    out, top, sub = {}, "", ""
    for line in (TRACES / "SOURCES.md").read_text().splitlines():
        head = re.match(r"^(##+) \d+[a-z]?\. `([^`]+)/`", line)
        if head:
            if head.group(1) == "##":
                top, sub = head.group(2), ""
            else:
                sub = head.group(2)
            continue
        row = re.match(r"\| `([^`]+)` \| \d+ \| `([0-9a-f]{64})` \|", line)
        if row:
            out["/".join(x for x in (top, sub, row.group(1)) if x)] = row.group(2)
    return out


def test_shipped_copies_match_their_published_digests():
    digests = sources_digests()
    assert len(digests) == 11
    for rel, digest in digests.items():
        assert hashlib.sha256((TRACES / rel).read_bytes()).hexdigest() == digest, rel


@pytest.mark.parametrize(
    "inv, skip",
    [(AZ19 / "azure500-8h" / "invocations.csv", 4), (AZ19 / "sample10-24h" / "invocations.csv", 4)],
    ids=["azure500-8h", "sample10-24h"],
)
def test_azure2019_totals_equal_the_file(inv, skip):
    t = azure2019(inv, seed=1)
    assert len(t) == file_total(inv, skip)
    assert t.arrivals.max() < (pd.read_csv(inv, nrows=1).shape[1] - skip) * 60
    assert t.meta["memory_mb"].notna().all()


def test_azure2019_1250_layout_and_rules():
    inv = AZ19 / "sample1250-24h" / "1250_inv.csv"
    t = azure2019(inv, functions=20)
    df = pd.read_csv(inv)
    top = np.sort(df.iloc[:, 3:].sum(axis=1).to_numpy())[-20:].sum()
    assert len(t) == top and len(t.function_names) == 20
    even = azure2019(inv, functions=1, arrivals="even")
    minute0 = even.arrivals[even.arrivals < 60]
    assert np.allclose(np.diff(minute0), 60 / minute0.size)
    poisson = azure2019(inv, functions=1, arrivals="poisson", seed=2)
    assert abs(len(poisson) - len(even)) < 5 * np.sqrt(len(even))


def test_azure2021_sorts_by_arrival():
    path = TRACES / "azure-functions-2021-invitro" / "Azure2021_200.csv"
    t = azure2021(path)
    df = pd.read_csv(path)
    assert len(t) == len(df) == 199 and np.all(np.diff(t.arrivals) >= 0)
    assert len(t.function_names) == 31
    assert "sorted by arrival" in t.provenance


def test_nasa_series_total():
    t = load("nasa-http-1995")
    assert len(t) == 3_461_610
    assert t.arrivals[-1] < 5_059_950


def test_bundled_default_is_real_and_small():
    t = load("default")
    assert len(t) == 3528 and "Shahrad" in t.provenance


# -- malformed input --------------------------------------------------------------------------


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    "body, message",
    [
        ("o,a,f1,http,1,2\no,a,f2,http,3,x\n", r"line 3: column 2 = 'x', must be a whole number >= 0"),
        ("o,a,f1,http,1,-2\n", r"line 2: column 2 = -2, must be a whole number >= 0"),
        ("o,a,f1,http,1,2.5\n", r"line 2: column 2 = 2.5, must be a whole number"),
        ("o,a,f1,http,1,2\no,a,f2,http,3,4,5\n", r"line 3: expected 6 columns, found 7"),
    ],
    ids=["text", "negative", "fraction", "extra-column"],
)
def test_azure2019_malformed_rows(tmp_path, body, message):
    inv = write(tmp_path, "invocations.csv", "HashOwner,HashApp,HashFunction,Trigger,1,2\n" + body)
    write(tmp_path, "durations.csv", "HashOwner,HashApp,HashFunction," + ",".join(
        f"percentile_Average_{p}" for p in (0, 1, 25, 50, 75, 99, 100)) + "\no,a,f1,1,1,2,3,4,5,6\no,a,f2,1,1,2,3,4,5,6\n")
    with pytest.raises(TraceError, match=message) as err:
        azure2019(inv)
    assert str(inv) in str(err.value)


cells = st.one_of(st.just("-1"), st.just("abc"), st.just("nan"), st.just("1e400"), st.just(""), st.just("3.5"))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(row=st.integers(0, 4), col=st.integers(0, 2), bad=cells)
def test_azure2021_fuzz_bad_cells_fail_with_file_and_line(tmp_path_factory, row, col, bad):
    rows = [["a", "f", "10.5", "0.5"] for _ in range(5)]
    column = ("end_timestamp", "duration", "duration")[col]
    rows[row][2 if column == "end_timestamp" else 3] = bad
    if bad == "3.5" and column == "end_timestamp":
        rows[row][3] = "9"  # an arrival before time 0
    text = "app,func,end_timestamp,duration\n" + "\n".join(",".join(r) for r in rows) + "\n"
    path = tmp_path_factory.mktemp("fuzz") / "t.csv"
    path.write_text(text)
    if bad == "3.5" and column == "duration":
        assert len(azure2021(path)) == 5  # a valid duration
        return
    with pytest.raises(TraceError) as err:
        azure2021(path)
    assert str(path) in str(err.value) and f"line {row + 2}" in str(err.value)


def test_period_counts_fill_missing_periods(tmp_path):
    p = write(tmp_path, "rate.csv", "period,count\n0,3\n2,5\n")
    t = per_period_counts(p, seed=1)
    assert len(t) == 8 and np.count_nonzero((t.arrivals >= 60) & (t.arrivals < 120)) == 0
    with pytest.raises(TraceError, match="line 3: column period = 0 appears twice"):
        per_period_counts(write(tmp_path, "dup.csv", "period,count\n0,3\n0,5\n"))


def test_huawei_wide_table_with_empty_cells(tmp_path):
    p = write(tmp_path, "hw.csv", "day,time,f1,f2\n0,0,3,\n0,60,,2\n0,180,1,1\n")
    t = huawei(p, seed=3)
    assert len(t) == 7 and t.function_names == ("f1", "f2")
    assert len(t.select("f2")) == 3
    with pytest.raises(TraceError, match=r"line 3: column f1 = 'x', must be a whole number >= 0"):
        huawei(write(tmp_path, "bad.csv", "day,time,f1\n0,0,1\n0,60,x\n"))


def test_per_request_csv_round_trip_and_timestamps(tmp_path):
    t = synthetic.poisson(rate=3, duration=50, seed=9)
    back = load(t.to_csv(tmp_path / "t.csv"))
    np.testing.assert_allclose(back.arrivals, t.arrivals - t.arrivals[0], atol=1e-8)
    np.testing.assert_allclose(back.durations, t.durations, atol=1e-8)
    p = write(tmp_path, "ts.csv", "when,ms\n2024-01-01T00:00:01.1234567Z,250\n2024-01-01T00:00:00Z,100\n")
    r = per_request_csv(p, time_column="when", duration_column="ms", duration_unit="ms")
    assert r.arrivals.tolist() == pytest.approx([0.0, 1.1234567]) and r.durations.tolist() == [0.1, 0.25]
    with pytest.raises(TraceError, match=r"line 2: column when = 'yesterday'"):
        per_request_csv(write(tmp_path, "bad.csv", "when\nyesterday\n"), time_column="when")


def test_synthetic_generators_are_seeded():
    for make in (
        lambda s: synthetic.on_off(rate_on=20, mean_on=10, mean_off=30, duration=300, seed=s),
        lambda s: synthetic.diurnal(mean_rate=5, amplitude=0.8, duration=600, period=300, seed=s),
        lambda s: synthetic.step(1, 10, at=100, duration=200, seed=s),
        lambda s: synthetic.ramp(1, 10, duration=200, seed=s),
        lambda s: synthetic.spike(1, 50, at=50, length=5, duration=100, seed=s),
    ):
        assert make(1).arrivals.tolist() == make(1).arrivals.tolist()
        assert make(1).arrivals.tolist() != make(2).arrivals.tolist()
    st_ = synthetic.step(1, 20, at=100, duration=200, seed=0)
    assert np.count_nonzero(st_.arrivals >= 100) > 10 * np.count_nonzero(st_.arrivals < 100) / 2
