"""Sizing before work: traces, replays and grids too large for memory are refused with what would make them fit."""

from __future__ import annotations

import re
import tracemalloc

import numpy as np
import pandas as pd
import pytest

from autoscale.errors import ConfigError, TooLargeError, TraceError
from autoscale.sweep import Grid, Sweep
from autoscale.trace import Trace, load, load_counts, load_period_counts, synthetic
from autoscale.trace import sizes
from autoscale.trace.sizes import (
    BYTES_PER_REQUEST, MAX_CONFIGURATIONS, Footprint, check_replay, memory_limit, parse_bytes,
)



@pytest.fixture
def counts_file(tmp_path):
    """Three days of per-minute counts: 100 a minute, except 400 a minute on day 2: 864,000 requests."""
    per_minute = np.full(3 * 1440, 100, dtype=np.int64)
    per_minute[1440:2880] = 400
    path = tmp_path / "minutes.txt"
    path.write_text(" ".join(map(str, per_minute)))
    return path


# -- sizes and limits -----------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("4G", 4 * 10**9), ("4GB", 4 * 10**9), ("512Mi", 512 * 2**20), ("8GiB", 8 * 2**30), ("1.5G", 1_500_000_000),
    ("123456", 123456), ("2k", 2000), ("1e6", 10**6), (" 3 Gi ", 3 * 2**30),
], ids=["G", "GB", "Mi", "GiB", "decimal", "bytes", "k", "exponent", "spaces"])
def test_sizes_read_as_kubernetes_quantities(text, expected):
    assert parse_bytes(text) == expected


@pytest.mark.parametrize("text", ["lots", "-5G", "0", "4 GG", ""], ids=["word", "negative", "zero", "unit", "empty"])
def test_a_malformed_size_names_the_value_and_the_syntax(text):
    with pytest.raises(ConfigError, match=r"max_memory = .*, must be .*(512M, 4G, 2GB or 8Gi|at least 1 byte)"):
        parse_bytes(text)


def test_the_limit_is_the_argument_else_the_environment_else_80_percent_of_what_is_available(monkeypatch):
    monkeypatch.setattr(sizes, "available_memory", lambda: (10 * 10**9, "available"))
    monkeypatch.delenv("AUTOSCALE_MAX_MEMORY", raising=False)
    default = memory_limit()
    assert default.bytes == 8 * 10**9
    assert str(default) == "8 GB (80% of the 10 GB available; --max-memory or $AUTOSCALE_MAX_MEMORY sets another)"
    monkeypatch.setenv("AUTOSCALE_MAX_MEMORY", "3G")
    assert memory_limit().bytes == 3 * 10**9 and "$AUTOSCALE_MAX_MEMORY" in str(memory_limit())
    assert memory_limit("1Gi").bytes == 2**30
    monkeypatch.setenv("AUTOSCALE_MAX_MEMORY", "plenty")
    with pytest.raises(ConfigError, match="AUTOSCALE_MAX_MEMORY = 'plenty'"):
        memory_limit()


def test_the_estimate_adds_requests_configurations_seconds_and_rows():
    f = Footprint(requests=1000, configurations=2, seconds=10, rows=3)
    assert f.bytes == 1000 * BYTES_PER_REQUEST + 2 * sizes.BYTES_PER_CONFIGURATION + 10 * sizes.bytes_per_second() \
        + 3 * sizes.BYTES_PER_ROW
    with_series = Footprint(requests=1000, timeseries_points=2000)
    assert with_series.request_bytes == 1000 * (BYTES_PER_REQUEST + sizes.TIMESERIES_BYTES_PER_REQUEST)


def test_bytes_per_request_bounds_what_loading_a_count_series_allocates(tmp_path):
    path = tmp_path / "counts.txt"
    path.write_text(" ".join(map(str, np.random.default_rng(1).poisson(20, 10_000))))
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        trace = load_counts(path)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert len(trace) > 150_000
    assert peak / len(trace) <= BYTES_PER_REQUEST


# -- count traces: refused before expanding, with the options that fit ----------------------


def test_a_count_series_too_large_is_refused_with_requests_memory_limit_and_fixes(counts_file):
    with pytest.raises(TooLargeError) as info:
        load_counts(counts_file, period=60, max_memory="20M")
    message = str(info.value)
    assert message.startswith(f"{counts_file}: 864,000 requests: needs about 41.5 MB (41.5 MB for 864,000 requests "
                              "at 48 bytes each")
    assert "more than the memory limit of 20 MB (max_memory, --max-memory)" in message
    assert "such as --start 0 --end 35h (about 408,000 requests)" in message
    assert "such as --scale 0.48 (about 414,720 requests)" in message
    assert "a day at a time (--start 0 --end 24h, then --start 24h --end 48h, ...; the busiest, day 2, has " \
           "576,000 requests, so also thin it)" in message
    assert info.value.requests == 864_000 and info.value.limit == 20 * 10**6
    assert isinstance(info.value, MemoryError)


def test_the_window_and_the_thinning_the_refusal_suggests_fit(counts_file):
    with pytest.raises(TooLargeError) as info:
        load_counts(counts_file, period=60, max_memory="20M")
    scale = float(re.search(r"--scale ([0-9.]+)", str(info.value)).group(1))
    end = re.search(r"--start 0 --end (\w+) ", str(info.value)).group(1)
    thinned = load_counts(counts_file, period=60, scale=scale, max_memory="20M")
    assert 0.46 * 864_000 < len(thinned) < 0.5 * 864_000
    window = load_counts(counts_file, period=60, end=end, max_memory="20M")
    assert end == "35h" and len(window) == 408_000 and window.arrivals.max() < 35 * 3600


def test_a_window_keeps_the_periods_it_overlaps_and_rebases_them(counts_file):
    t = load_counts(counts_file, period=60, start="23h", end="25h", arrivals="even")
    assert len(t) == 60 * 100 + 60 * 400
    assert t.arrivals.min() >= 0 and t.arrivals.max() < 7200
    assert "requests arriving in [82800, 90000) s, rebased to 0" in t.provenance.notes
    half = load_counts(counts_file, period=60, start=30, end=90, arrivals="even")  # half of minutes 0 and 1
    assert len(half) == 100 and np.all((half.arrivals >= 0) & (half.arrivals < 60))


def test_thinning_is_seeded_deterministic_and_noted(counts_file):
    a = load_counts(counts_file, period=60, scale=0.1, seed=3)
    b = load_counts(counts_file, period=60, scale=0.1, seed=3)
    c = load_counts(counts_file, period=60, scale=0.1, seed=4)
    assert np.array_equal(a.arrivals, b.arrivals) and not np.array_equal(a.arrivals, c.arrivals)
    assert len(a) == pytest.approx(86_400, rel=0.02)
    assert "counts thinned to 0.1 of their requests (binomial per period, seed 3)" in a.provenance.notes


def test_the_azure_day_is_sized_from_its_per_function_totals():
    with pytest.raises(TooLargeError, match=r"1250_inv.csv: 18,279,781 requests: needs about 877 MB .*"
                                            r"more than the memory limit of 200 MB .*--start 0 --end \w+ .*--scale"):
        load("azure2019-1250", max_memory="200M")


def test_an_azure_window_holds_exactly_the_requests_of_its_minutes():
    full = load("default", arrivals="even")
    part = load("default", arrivals="even", start="2h", end="4h")
    assert len(part) == int(np.count_nonzero((full.arrivals >= 7200) & (full.arrivals < 14400)))
    assert part.arrivals.max() < 7200
    thin = load("default", scale=0.5)
    assert len(thin) == pytest.approx(len(full) / 2, rel=0.05)


def test_date_time_windows_for_traces_of_date_times(tmp_path):
    p = tmp_path / "rate.csv"
    p.write_text("period,count\n1998-04-30 21:00:00,2\n1998-04-30 21:01:00,4\n1998-04-30 21:02:00,6\n")
    t = load_period_counts(p, arrivals="even", start="1998-04-30 21:01:00")
    assert len(t) == 10 and t.origin == pd.Timestamp("1998-04-30 21:01:00", tz="UTC")
    assert t.window(end="1998-04-30 21:02:00").arrivals.tolist() == [7.5, 22.5, 37.5, 52.5]
    with pytest.raises(TraceError, match=r"start = 2024-01-01T00:00:00\+00:00 is a date-time, but the trace's "
                                         "times are seconds from its start"):
        load("default", start="2024-01-01")
    with pytest.raises(TraceError, match=r"no period overlaps the window \[1e\+06, inf\) s"):
        load_period_counts(p, start=1e6)


def test_trace_window_and_thin():
    t = Trace(arrivals=np.arange(100.0), durations=np.ones(100), name="t")
    assert t.window("10s", "20s").arrivals.tolist() == list(np.arange(10.0))
    assert t.window(start=95).arrivals.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    thin = t.thin(0.5, seed=1)
    assert np.array_equal(thin.arrivals, t.thin(0.5, seed=1).arrivals) and 30 < len(thin) < 70
    assert t.thin(1.0) is t
    with pytest.raises(TraceError, match=r"scale = 1.5, must be a fraction in \(0, 1\]"):
        t.thin(1.5)
    with pytest.raises(TraceError, match=r"end = '5s' is not after start = '10s'"):
        t.window("10s", "5s")


def test_synthetic_durations_of_1e12_seconds_are_refused():
    with pytest.raises(TooLargeError, match=r"rate 10 req/s over 1e\+12 s: about 10,000,000,000,000 requests: "
                                            "needs about 480 TB .*a shorter duration"):
        synthetic.poisson(rate=10, duration=1e12)


def test_a_replay_of_too_many_seconds_is_refused():
    with pytest.raises(TooLargeError, match=r"replay: needs about .* for 1,000,000,000 simulated seconds .*"
                                            r"a shorter simulated time \(duration=, --duration\)"):
        check_replay("replay", requests=1000, seconds=1e9, max_memory="1G")


# -- configurations -------------------------------------------------------------------------


def test_a_sweep_of_a_million_configurations_is_refused_before_resolving_any():
    grid = Grid({"target": list(range(1, 1001)), "target-burst-capacity": list(range(1000))})
    with pytest.raises(TooLargeError, match=r"sweep of 1,000,000 \(1000 target x 1000 target-burst-capacity\): "
                                            r"1,000,000 configurations, more than the 100,000 a batch or sweep "
                                            "takes"):
        Sweep(traces=["default"], axes=grid)
    assert MAX_CONFIGURATIONS == 100_000


# -- the command line -----------------------------------------------------------------------


def test_cli_refuses_a_count_trace_too_large_in_one_line(cli):
    code, _, err = cli(["trace", "info", "nasa-http-1995", "--max-memory", "50M"])
    assert code == 2
    assert err.startswith("autoscale: error: ") and err.count("\n") == 1
    assert "3,461,610 requests: needs about 166 MB" in err and "memory limit of 50 MB" in err
    assert "--start 0 --end" in err and "--scale" in err and "a day at a time" in err


def test_cli_window_scale_and_convert(tmp_path, cli):
    out = tmp_path / "part.csv"
    code, printed, _ = cli(["trace", "convert", "default", str(out), "--start", "2h", "--end", "4h",
                            "--scale", "0.5"])
    assert code == 0 and printed.startswith(f"wrote {out}: ")
    part = load("default", start="2h", end="4h", scale=0.5)
    again = load(out)
    assert np.array_equal(again.arrivals, part.arrivals) and np.array_equal(again.durations, part.durations)
    code, printed, _ = cli(["trace", "info", "default", "--start", "7200", "--end", "4h"])
    assert code == 0 and "note: requests arriving in [7200, 14400) s, rebased to 0" in printed


@pytest.mark.parametrize("argv, message", [
    (["trace", "info", "default", "--scale", "1.5"], r"argument --scale: scale = 1.5, must be a fraction in \(0, 1\]"),
    (["trace", "info", "default", "--scale", "0"], r"scale = 0, must be a fraction in \(0, 1\]"),
    (["trace", "info", "default", "--start", "soon"], "argument --start: start = 'soon', must be seconds from the "
                                                      "trace start, a duration"),
    (["trace", "info", "default", "--start", "2h", "--end", "1h"], "end = 3600.0 is not after start = 7200.0"),
    (["run", "--trace", "default", "--max-memory", "lots"], "argument --max-memory: max-memory = 'lots', must be"),
    (["run", "--trace", "default", "--duration", "1e9", "--max-memory", "1G"],
     "replay of 1 configuration.s. for --duration 1e.09 s: needs about [0-9.]+ GB .* for 1,000,000,000 "
     "simulated seconds .*a shorter simulated time"),
    (["sweep", "--trace", "default", "--out", "{d}/s", "--duration", "1e12"], "1,000,000,000,000 simulated seconds"),
    (["compare", "--trace", "default", "--policies", "kpa", "--end", "2024-05-01"],
     "is a date-time, but the trace's times are seconds"),
], ids=["scale-above-1", "scale-0", "start-word", "end-before-start", "max-memory-word", "duration-1e9",
        "sweep-duration-1e12", "date-on-seconds"])
def test_cli_refuses_bad_window_scale_and_size_options(argv, message, tmp_path, cli):
    code, _, err = cli([a.replace("{d}", str(tmp_path)) for a in argv])
    assert code == 2
    assert re.search(message, err), err
    assert "Traceback" not in err


def test_cli_refuses_a_million_configurations_and_says_the_limit(tmp_path, cli):
    many = ["--set", "target=" + ",".join(map(str, range(1, 1001))),
            "--set", "target-burst-capacity=" + ",".join(map(str, range(1000)))]
    code, _, err = cli(["run", "--trace", "default", *many])
    assert code == 2
    assert "--set 1000 target x 1000 target-burst-capacity: 1,000,000 configurations, more than the 100,000" in err
    grid = ["--grid", "target=" + ",".join(map(str, range(1, 1001))),
            "--grid", "target-burst-capacity=" + ",".join(map(str, range(1000)))]
    code, _, err = cli(["sweep", "--trace", "default", "--out", str(tmp_path / "s"), *grid])
    assert code == 2 and "1,000,000 configurations, more than the 100,000" in err
    assert not (tmp_path / "s").exists()


def test_python_replay_refuses_a_duration_that_cannot_fit():
    from autoscale import KPAConfig, replay

    trace = synthetic.poisson(rate=1.0, duration=10.0, seed=1)
    with pytest.raises(TooLargeError, match="replay of .* over 1,000,000,000,000 s"):
        replay(trace, KPAConfig(), duration=1e12)


def test_a_small_replay_is_not_measured_against_the_system_and_a_large_one_is(monkeypatch):
    calls = []

    def scarce():
        calls.append(1)
        return 10 * 10**6, "available"  # 10 MB free: an 8 MB limit

    monkeypatch.setattr(sizes, "available_memory", scarce)
    monkeypatch.delenv("AUTOSCALE_MAX_MEMORY", raising=False)
    check_replay("replay", requests=1000, seconds=3600)  # a few hundred kB: below UNCHECKED_BYTES
    assert calls == []
    with pytest.raises(TooLargeError, match="8 MB"):
        check_replay("replay", requests=10**6, seconds=86400)
    assert calls == [1]
    with pytest.raises(TooLargeError):  # a limit given is always applied
        check_replay("replay", requests=1000, seconds=3600, max_memory="1k")
    monkeypatch.setenv("AUTOSCALE_MAX_MEMORY", "1k")
    with pytest.raises(TooLargeError):
        check_replay("replay", requests=1000, seconds=3600)
