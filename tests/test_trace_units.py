"""Units of per-request CSV columns: never guessed, refused when they look wrong, converted when given."""

from __future__ import annotations

import numpy as np
import pytest

from autoscale.cli import build_parser, main
from autoscale.errors import TraceError
from autoscale.trace import load, load_csv

EPOCH_MS = "ts,took\n1709294400000,0.2\n1709294401500,0.1\n"


# -- timestamps --------------------------------------------------------------------------------

def test_epoch_milliseconds_read_as_seconds_are_refused_naming_the_fix(write):
    p = write(EPOCH_MS)
    with pytest.raises(TraceError) as info:
        load(p, time_column="ts", duration_column="took")
    assert str(info.value) == (
        f"{p}: line 2, column 1 (ts): 1709294400000 read as seconds is 54,164 years after 1970; it looks like "
        "epoch milliseconds: give time_unit='ms' (--time-unit ms), or time_unit='s' if the values are seconds; "
        "units: s, ms, us")


@pytest.mark.parametrize("unit, text", [
    ("ms", EPOCH_MS),
    ("us", "ts,took\n1709294400000000,0.2\n1709294401500000,0.1\n"),
    ("s", "ts,took\n1709294400,0.2\n1709294401.5,0.1\n"),
    ("ms", "ts,took\n\"1709294400000\",0.2\n1709294401500,0.1\n"),
], ids=["milliseconds", "microseconds", "seconds", "quoted-milliseconds"])
def test_a_time_unit_converts_numeric_timestamps(write, unit, text):
    t = load_csv(write(text), time_column="ts", duration_column="took", time_unit=unit)
    assert t.arrivals.tolist() == [0.0, 1.5]
    assert f"time column ts ({'seconds' if unit == 's' else unit}, t = 0 at 1709294400.0" in t.provenance.source


def test_epoch_microseconds_and_nanoseconds_are_named_as_such(write):
    with pytest.raises(TraceError, match="it looks like epoch microseconds: give time_unit='us'"):
        load(write("ts\n1709294400000000\n"), time_column="ts")
    with pytest.raises(TraceError, match="epoch nanoseconds: convert the column to one of s, ms, us"):
        load(write("ts\n1709294400000000000\n"), time_column="ts")


def test_time_unit_s_reads_large_numbers_as_they_are(write):
    t = load(write("ts\n0\n200000000000\n"), time_column="ts", time_unit="s")
    assert t.arrivals.tolist() == [0.0, 2e11]


def test_a_timestamp_column_named_in_milliseconds_needs_its_unit(write):
    p = write("ts_ms,took\n0,1\n1500,1\n")
    with pytest.raises(TraceError) as info:
        load(p, time_column="ts_ms", duration_column="took")
    assert str(info.value).startswith(f"{p}: line 1, column 1 (ts_ms): the name says milliseconds, but "
                                      "timestamps are read as seconds without a unit; give time_unit='ms'")
    assert load(p, time_column="ts_ms", duration_column="took", time_unit="ms").arrivals.tolist() == [0.0, 1.5]


@pytest.mark.parametrize("kw, message", [
    ({"time_column": "ts", "time_unit": "min"}, "time_unit = 'min', must be one of s, ms, us"),
    ({"time_column": "ts", "duration_column": "took", "duration_unit": "h"},
     "duration_unit = 'h', must be one of s, ms, us"),
    ({"time_unit": "ms"}, "time_unit = 'ms' needs time_column (--time-column)"),
], ids=["bad-time-unit", "bad-duration-unit", "time-unit-of-a-saved-trace"])
def test_bad_units_are_refused_with_the_allowed_values(write, kw, message):
    with pytest.raises(TraceError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load(write("ts,took,arrival_s\n1,1,1\n"), **kw)


def test_a_time_unit_with_date_times_is_refused(write):
    p = write("ts\n2024-03-01 12:00:00\n")
    with pytest.raises(TraceError, match=r"line 2, column 1 \(ts\): '2024-03-01 12:00:00' is a date-time, and "
                                         "time_unit = 'ms' applies to numeric timestamps only"):
        load(p, time_column="ts", time_unit="ms")


@pytest.mark.parametrize("rows, line, shown, has", [
    (["2024-03-01 12:00:00", "2024-03-01T12:00:01+01:00"], 3, "2024-03-01T12:00:01+01:00", "has a UTC offset"),
    (["2024-03-01T12:00:00Z", "2024-03-01T12:00:01Z", "2024-03-01 12:00:02"], 4, "2024-03-01 12:00:02",
     "has no UTC offset"),
    (["2024-03-01T12:00:00.5-0500", "2024-03-01T12:00:01"], 3, "2024-03-01T12:00:01", "has no UTC offset"),
], ids=["offset-after-naive", "naive-after-z", "naive-after-compact-offset"])
def test_naive_and_offset_times_in_one_column_are_refused(write, rows, line, shown, has):
    p = write("ts\n" + "\n".join(rows) + "\n")
    with pytest.raises(TraceError) as info:
        load(p, time_column="ts")
    message = str(info.value)
    assert message.startswith(f"{p}: line {line}, column 1 (ts): {shown!r} {has}, but line 2 ({rows[0]!r})")
    assert "give every timestamp an offset (such as +01:00 or Z), or none" in message


def test_times_all_with_offsets_or_all_without_are_read(write):
    zoned = load(write("ts\n2024-03-01T12:00:00Z\n2024-03-01T13:00:01+01:00\n"), time_column="ts")
    assert zoned.arrivals.tolist() == [0.0, 1.0]
    naive = load(write("ts\n2024-03-01\n2024-03-01 00:00:02.5\n"), time_column="ts")
    assert naive.arrivals.tolist() == [0.0, 2.5]


# -- durations ---------------------------------------------------------------------------------

@pytest.mark.parametrize("column, word, unit", [
    ("latency_ms", "milliseconds", "ms"), ("duration_ms", "milliseconds", "ms"), ("ms", "milliseconds", "ms"),
    ("took_us", "microseconds", "us"), ("durationMs", "milliseconds", "ms"), ("latency (ms)", "milliseconds", "ms"),
    ("p50-usec", "microseconds", "us"), ("elapsed_millis", "milliseconds", "ms"),
])
def test_a_duration_column_named_in_another_unit_needs_its_unit(write, column, word, unit):
    p = write(f"ts,{column}\n0,200\n1,100\n")
    with pytest.raises(TraceError) as info:
        load(p, time_column="ts", duration_column=column)
    assert str(info.value) == (
        f"{p}: line 1, column 2 ({column}): the name says {word}, but durations are read as seconds without a "
        f"unit; give duration_unit={unit!r} (--duration-unit {unit}), or duration_unit='s' if the values are "
        "seconds; units: s, ms, us")
    t = load(p, time_column="ts", duration_column=column, duration_unit=unit)
    assert t.durations.tolist() == ([0.2, 0.1] if unit == "ms" else [0.0002, 0.0001])


def test_duration_unit_s_and_names_without_a_unit_read_seconds(write):
    p = write("ts,took_ms,status,duration_s\n0,2,3,4\n")
    assert load(p, time_column="ts", duration_column="took_ms", duration_unit="s").durations.tolist() == [2.0]
    assert load(p, time_column="ts", duration_column="status").durations.tolist() == [3.0]
    assert load(p, time_column="ts", duration_column="duration_s").durations.tolist() == [4.0]


def test_a_nanosecond_duration_column_is_refused_with_a_conversion(write):
    with pytest.raises(TraceError, match=r"column 2 \(took_ns\): the name says nanoseconds, .*convert the column "
                                         "to one of s, ms, us"):
        load(write("ts,took_ns\n0,200\n"), time_column="ts", duration_column="took_ns")


def test_a_saved_trace_reads_back_exactly(tmp_path):
    from autoscale.trace import synthetic

    trace = synthetic.poisson(rate=3, duration=20, service=synthetic.constant(0.25), seed=2)
    back = load(trace.to_csv(tmp_path / "t.csv"))
    np.testing.assert_array_equal(back.arrivals, trace.arrivals)
    np.testing.assert_array_equal(back.durations, trace.durations)


# -- the command line --------------------------------------------------------------------------

def test_trace_info_refuses_epoch_milliseconds_and_reads_them_with_time_unit(write, capsys):
    p = write("ts,latency_ms\n1709294400000,200\n1709294401500,100\n1709294403000,300\n")
    assert main(["trace", "info", str(p), "--time-column", "ts", "--duration-column", "latency_ms",
                 "--duration-unit", "ms"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"autoscale: error: {p}: line 2, column 1 (ts): 1709294400000 read as seconds")
    assert "--time-unit ms" in err and "Traceback" not in err
    assert main(["trace", "info", str(p), "--time-column", "ts", "--time-unit", "ms",
                 "--duration-column", "latency_ms"]) == 2
    err = capsys.readouterr().err
    assert "column 2 (latency_ms): the name says milliseconds" in err and "--duration-unit ms" in err
    assert main(["trace", "info", str(p), "--time-column", "ts", "--time-unit", "ms",
                 "--duration-column", "latency_ms", "--duration-unit", "ms"]) == 0
    assert "requests                        3" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["run", "compare", "sweep"])
def test_every_trace_command_refuses_misread_units_and_takes_the_unit_options(write, tmp_path, capsys, command):
    p = write("ts,latency_ms\n1709294400000,200\n1709294401500,100\n")
    extra = {"run": [], "compare": ["--policies", "kpa,hpa"],
             "sweep": ["--out", str(tmp_path / "out"), "--quiet"]}[command]
    args = [command, "--trace", str(p), "--time-column", "ts", "--duration-column", "latency_ms", *extra]
    assert main([*args, "--duration-unit", "ms"]) == 2
    err = capsys.readouterr().err
    assert "column 1 (ts): 1709294400000 read as seconds" in err and "Traceback" not in err
    assert main([*args, "--time-unit", "ms"]) == 2
    assert "(latency_ms): the name says milliseconds" in capsys.readouterr().err
    assert main(["trace", "info", str(p), "--time-unit", "ms"]) == 2
    assert "--time-unit ms needs --time-column" in capsys.readouterr().err
    parsed = build_parser().parse_args([*args, "--time-unit", "us", "--duration-unit", "us"])
    assert (parsed.time_unit, parsed.duration_unit) == ("us", "us")
    with pytest.raises(SystemExit):
        build_parser().parse_args([*args, "--time-unit", "min"])
    assert "invalid choice: 'min' (choose from" in capsys.readouterr().err


def test_run_replays_a_trace_read_with_its_units(write, capsys):
    p = write("ts,latency_ms\n" + "".join(f"{1709294400000 + 250 * i},{100 + i}\n" for i in range(40)))
    assert main(["run", "--trace", str(p), "--time-column", "ts", "--time-unit", "ms",
                 "--duration-column", "latency_ms", "--duration-unit", "ms"]) == 0
    assert "Traceback" not in capsys.readouterr().err
