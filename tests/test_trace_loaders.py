"""Loaders on the shipped real files and on hand-written files: totals, layouts, rules, digests, sniffing."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autoscale import TraceError
from autoscale.trace import (
    BUNDLED, expand_counts, load, load_azure2019, load_azure2021, load_counts, load_csv, load_huawei,
    load_period_counts, lognormal, sniff_format, traces_dir,
)
from autoscale.trace.durations import sample_percentiles

TRACES = traces_dir()
AZ19 = TRACES / "azure-functions-2019-invitro"
REPO_TRACES = Path(__file__).resolve().parents[1] / "traces"


def file_counts(path: Path) -> pd.DataFrame:
    """The count columns of an Azure 2019 invocation file, read independently of the loader."""
    frame = pd.read_csv(path)
    return frame[[c for c in frame.columns if c not in ("HashOwner", "HashApp", "HashFunction", "Trigger")]]


# -- digests ---------------------------------------------------------------------------------

def shipped_digests() -> dict[str, str]:
    """(relative path -> sha256) from the tables of traces/SOURCES.md."""
    top = sub = ""
    out = {}
    for line in (REPO_TRACES / "SOURCES.md").read_text().splitlines():
        m = re.match(r"^(#+) \S+ `([^`]+)/`", line)
        if m:
            if len(m.group(1)) == 2:
                top, sub = m.group(2), ""
            else:
                sub = m.group(2)
            continue
        m = re.match(r"^\| `([^`]+)` \| (\d+) \| `([0-9a-f]{64})` \|", line)
        if m:
            out["/".join(p for p in (top, sub, m.group(1)) if p)] = m.group(3)
    return out


def test_shipped_files_match_the_digests_in_sources():
    digests = shipped_digests()
    assert len(digests) == 11
    for rel, sha in digests.items():
        assert hashlib.sha256((REPO_TRACES / rel).read_bytes()).hexdigest() == sha, rel


def test_readme_and_licences_are_shipped():
    readme = (REPO_TRACES / "README.md").read_text()
    for needle in ("Shahrad", "Zhang", "Dumoulin", "InVitro", "default"):
        assert needle in readme
    for folder in ("azure-functions-2019-invitro", "azure-functions-2021-invitro"):
        assert (REPO_TRACES / folder / "LICENSE-CC-BY-4.0.txt").is_file()
        assert (REPO_TRACES / folder / "LICENSE-invitro-MIT.txt").is_file()


# -- Azure 2019: the three layouts -----------------------------------------------------------

@pytest.fixture(scope="module")
def day1250():
    return load("azure2019-1250")


@pytest.fixture(scope="module")
def sample10():
    return load("azure2019-10")


@pytest.fixture(scope="module")
def sample500():
    return load("azure2019-500")


@pytest.mark.parametrize("fixture, folder, inv, total", [
    ("sample500", "azure500-8h", "invocations.csv", 3_037_902),
    ("sample10", "sample10-24h", "invocations.csv", 13_037_064),
    ("day1250", "sample1250-24h", "1250_inv.csv", 18_279_781),
], ids=["500-offset-minutes", "10-upstream", "1250-invitro-sampler"])
def test_azure2019_totals_equal_the_file_sums_per_function_and_minute(request, fixture, folder, inv, total):
    t = request.getfixturevalue(fixture)
    counts = file_counts(AZ19 / folder / inv).to_numpy()
    assert len(t) == total == counts.sum()
    assert t.functions_meta["invocations"].tolist() == counts.sum(axis=1).tolist()
    # per function and minute: the expanded arrivals fall in the minute they were counted in
    minute = np.floor(t.arrivals / 60).astype(np.int64)
    per_cell = np.bincount(t.function.astype(np.int64) * counts.shape[1] + minute, minlength=counts.size)
    np.testing.assert_array_equal(per_cell.reshape(counts.shape), counts)
    assert np.all(np.diff(t.arrivals) >= 0) and t.arrivals[-1] < counts.shape[1] * 60
    assert t.durations.min() >= 0.001


def test_azure2019_durations_follow_each_functions_percentiles(day1250):
    meta = day1250.functions_meta
    busiest = int(meta["invocations"].idxmax())
    d = day1250.durations[day1250.function == busiest]
    p = meta.loc[busiest, ["duration_p0_s", "duration_p25_s", "duration_p50_s", "duration_p75_s",
                           "duration_p100_s"]].to_numpy(dtype=float)
    # the empirical CDF at each percentile point is that percentile's level
    np.testing.assert_allclose([(d <= x).mean() for x in p[1:4]], [0.25, 0.5, 0.75], atol=0.003)
    assert d.min() >= p[0] and d.max() <= p[-1]


def test_azure2019_memory_is_attached_in_all_three_layouts(sample500, sample10, day1250):
    for t, src in ((sample500, "memory.csv"), (sample10, "memory.csv"), (day1250, "1250_mem.csv")):
        mem = t.functions_meta["memory_mb"]
        assert mem.notna().all() and (mem > 0).all(), src
        assert any(src in n for n in t.provenance.notes)
    row = pd.read_csv(AZ19 / "sample1250-24h" / "1250_mem.csv").iloc[0]
    i = day1250.function_names.index(row["HashApp"])
    assert day1250.functions_meta.loc[i, "memory_mb"] == row["AverageAllocatedMb"]


def test_azure2019_floors_sub_millisecond_percentiles_and_reports_it(sample500):
    meta = sample500.functions_meta
    assert meta["duration_floored"].sum() == 81  # 81 functions record a 0 ms percentile
    assert "81 function(s) with percentile points below 1 ms raised to 1 ms" in sample500.provenance.notes
    assert meta["trigger"].value_counts()["http"] == 139


def test_azure2019_function_selection_and_arrival_rules():
    path = AZ19 / "sample10-24h" / "invocations.csv"
    counts = file_counts(path).to_numpy()
    top = load_azure2019(path, functions=2, arrivals="even")
    assert len(top) == np.sort(counts.sum(axis=1))[-2:].sum()
    one = load_azure2019(path, functions=[top.function_names[0][:10]])
    assert one.function_names == (top.function_names[0],)
    again = load_azure2019(path, functions=[top.function_names[0][:10]])
    np.testing.assert_array_equal(one.arrivals, again.arrivals)  # the default seed is fixed
    other = load_azure2019(path, functions=[top.function_names[0][:10]], seed=1)
    assert not np.array_equal(one.arrivals, other.arrivals)
    pois = load_azure2019(path, functions=1, arrivals="poisson")
    assert abs(len(pois) - counts.sum(axis=1).max()) < 6 * np.sqrt(counts.sum(axis=1).max())
    with pytest.raises(TraceError, match="arrival rule = 'bursty', must be one of uniform, even, poisson"):
        load_azure2019(path, arrivals="bursty")
    with pytest.raises(TraceError, match="no functions match 'zzz'"):
        load_azure2019(path, functions=["zzz"])


def test_expand_counts_even_rule_and_empty_rows():
    t, f = expand_counts(np.array([[2, 0, 1], [0, 0, 0], [0, 4, 0]]), 60.0, "even")
    assert t.tolist() == [15.0, 45.0, 67.5, 82.5, 97.5, 112.5, 150.0]
    assert f.tolist() == [0, 0, 2, 2, 2, 2, 0]


def test_sample_percentiles_interpolates_linearly_between_points():
    class FixedU:
        def random(self, n):
            return np.array([0.6, 0.0, 0.995, 0.5])

    points = np.array([[1, 4, 10, 20, 30, 90, 400.0], [2, 2, 2, 2, 2, 2, 2]])
    q = np.array([0, 0.01, 0.25, 0.5, 0.75, 0.99, 1.0])
    d = sample_percentiles(points, q, np.array([0, 0, 0, 1]), FixedU())
    np.testing.assert_allclose(d, [24.0, 1.0, 245.0, 2.0])


def test_default_is_a_few_hours_of_one_real_function():
    t = load("default")
    assert len(t) == 11_484 and t.function_names[0].startswith("fd6f7f10")
    assert 5_000 <= len(t) <= 100_000 and 2 * 3600 <= t.span <= 12 * 3600
    assert "Shahrad" in t.provenance.attribution
    np.testing.assert_array_equal(t.arrivals, load("default").arrivals)


# -- Azure 2021 ------------------------------------------------------------------------------

def test_azure2021_fixture_arrival_is_end_minus_duration_and_sorted():
    path = TRACES / "azure-functions-2021-invitro" / "Azure2021_200.csv"
    t = load(path)
    raw = pd.read_csv(path)
    assert len(t) == len(raw) == 199
    assert len(t.function_names) == 31 and len(set(t.apps)) == 13
    expected = np.sort(raw["end_timestamp"] - raw["duration"])  # 0 ms durations are floored after
    np.testing.assert_allclose(t.arrivals, expected)
    assert np.isclose(t.durations.sum(), np.maximum(raw["duration"], 0.001).sum())
    assert any("sorted by arrival" in n for n in t.provenance.notes)


def test_azure2021_sorts_unsorted_rows(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("app,func,end_timestamp,duration\na,f,10.0,1.0\na,g,3.0,2.0\nb,f,5.5,0.5\n")
    t = load_azure2021(p)
    assert t.arrivals.tolist() == [1.0, 5.0, 9.0]
    assert [t.function_names[i] for i in t.function] == ["a/g", "b/f", "a/f"]
    assert "(1 row(s) arrived before the row above them)" in " ".join(t.provenance.notes)


# -- rate series -----------------------------------------------------------------------------

def test_nasa_series_has_every_request():
    t = load("nasa-http-1995")
    assert len(t) == 3_461_610
    per_second = t.arrivals_per_second(0, 5_059_950)
    assert per_second.sum() == 3_461_610
    assert per_second[2_435_065:2_435_065 + 135_851].sum() == 0  # the Hurricane Erin outage
    assert "Dumoulin" in t.provenance.attribution


def test_counts_from_plain_text(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text("3 0 2\n1\n")
    t = load(p, arrivals="even", service=lognormal(0.1, 0))
    assert t.arrivals_per_second().tolist() == [3, 0, 2, 1]
    assert np.allclose(t.durations, 0.1)


def test_period_counts_fill_missing_periods_with_zero(tmp_path):
    p = tmp_path / "rate.csv"
    p.write_text("period,count\n12,3\n10,1\n15,2\n")
    assert sniff_format(p) == "period-counts"
    t = load(p, arrivals="even")
    per_minute = np.bincount(np.floor(t.arrivals / 60).astype(int))
    assert per_minute.tolist() == [1, 0, 3, 0, 0, 2]
    with pytest.raises(TraceError, match=r"line 3, column 1 \(period\): 10 appears twice"):
        p.write_text("period,count\n10,3\n10,1\n")
        load_period_counts(p)


# -- Huawei ----------------------------------------------------------------------------------

HUAWEI = """day,time,0,1,7
1,86460,,3,
1,86400,2,,1.0
1,86580,,,
"""


def test_huawei_wide_table_in_the_published_layout(tmp_path):
    p = tmp_path / "day_01.csv"
    p.write_text(HUAWEI)
    assert sniff_format(p) == "huawei"
    t = load(p, arrivals="even")
    assert len(t) == 6 and t.function_names == ("0", "1", "7")
    np.testing.assert_allclose(t.arrivals, [15.0, 30.0, 45.0, 70.0, 90.0, 110.0], atol=1e-9)
    assert [t.function_names[i] for i in t.function] == ["0", "7", "0", "1", "1", "1"]
    assert len(load_huawei(p, functions=["1"])) == 3


def test_huawei_rows_must_be_distinct_minutes(tmp_path):
    p = tmp_path / "day_01.csv"
    p.write_text("day,time,0\n0,0,1\n0,30,1\n")
    with pytest.raises(TraceError, match=r"line 3, column 2 \(time\): 30 s is within 60 s of line 2"):
        load_huawei(p)


# -- any per-request CSV ---------------------------------------------------------------------

def test_per_request_csv_with_date_times_of_seven_fractional_digits(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text("when,took_ms,fn\n2024-03-01T12:00:00.1234567Z,250,a\n2024-03-01 12:00:00Z,100,b\n"
                 "2024-03-01T13:00:00.5+01:00,50,a\n")
    t = load(p, time_column="when", duration_column="took_ms", duration_unit="ms", function_column="fn")
    np.testing.assert_allclose(t.arrivals, [0.0, 0.1234567, 0.5])
    np.testing.assert_allclose(t.durations, [0.1, 0.25, 0.05])
    assert [t.function_names[i] for i in t.function] == ["b", "a", "a"]
    assert "2024-03-01T12:00:00+00:00" in t.provenance.source


def test_per_request_csv_epoch_seconds_and_drawn_durations(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text("ts\n1700000010.5\n1700000000.25\n")
    t = load_csv(p, time_column="ts", service=lognormal(1.0, 0.0))
    assert t.arrivals.tolist() == [0.0, 10.25] and t.durations.tolist() == [1.0, 1.0]
    with pytest.raises(TraceError, match=r"line 1: missing column\(s\) nope"):
        load_csv(p, time_column="nope")
    with pytest.raises(TraceError, match="no arrival_s column; name the timestamp column"):
        load_csv(p)


def test_load_rejects_unknown_names_formats_and_arguments(tmp_path):
    with pytest.raises(TraceError, match="no such file, and not a bundled trace name"):
        load("no-such-trace")
    with pytest.raises(TraceError, match="format = 'xml', must be one of"):
        load("default", format="xml")
    with pytest.raises(TypeError):
        load("default", colour="red")
    assert set(BUNDLED) >= {"default", "azure2019-1250", "nasa-http-1995", "azure2021-200"}
