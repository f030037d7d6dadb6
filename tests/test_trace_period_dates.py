"""``period,count`` CSVs with date-time periods: the length read from the spacing, or given."""

from __future__ import annotations

import numpy as np
import pytest

from autoscale.cli import main
from autoscale.errors import TraceError
from autoscale.trace import load, load_period_counts, sniff_format

MINUTES = "period,count\n1998-04-30 21:00:00,3\n1998-04-30 21:01:00,0\n1998-04-30 21:02:00,2\n"
GAP = "period,count\n1998-04-30 21:00:00,1\n1998-04-30 21:01:00,2\n1998-04-30 21:03:00,1\n"


def test_rows_a_minute_apart_are_one_minute_periods(write):
    p = write(MINUTES)
    assert sniff_format(p) == "period-counts"
    t = load(p, arrivals="even")
    assert t.arrivals.tolist() == [10.0, 30.0, 50.0, 135.0, 165.0]
    assert ("3 period(s) of 60 s from 1998-04-30T21:00:00+00:00, period length read from the spacing of the "
            "rows (0 missing period(s) counted 0), 5 requests") in t.provenance.source


def test_rows_a_second_apart_unsorted_and_with_offsets_are_one_second_periods(write):
    p = write("period,count\n1998-04-30T23:00:02+02:00,1\n1998-04-30T21:00:00Z,2\n1998-04-30T21:00:01Z,1\n")
    t = load_period_counts(p, arrivals="even")
    assert t.arrivals.tolist() == [0.25, 0.75, 1.5, 2.5]


def test_uniform_arrivals_stay_within_their_period(write):
    t = load_period_counts(write(MINUTES), seed=3)
    counts = np.bincount((t.arrivals // 60).astype(int), minlength=3)
    assert counts.tolist() == [3, 0, 2]


def test_uneven_spacing_without_a_period_is_refused_naming_the_row(write):
    p = write(GAP)
    with pytest.raises(TraceError) as info:
        load(p)
    assert str(info.value) == (
        f"{p}: line 4, column 1 (period): '1998-04-30 21:03:00' is 120 s after '1998-04-30 21:01:00' (line 3), "
        "but the earliest rows are 60 s apart; the periods are not evenly spaced, so their length cannot be read "
        "from them: give it (period=60, --period 60s), and missing periods count 0")


@pytest.mark.parametrize("period", [60, 60.0, "1m", "60s"])
def test_a_given_period_fills_the_gaps_with_zero(write, period):
    t = load_period_counts(write(GAP), period=period, arrivals="even")
    assert t.arrivals.tolist() == [30.0, 75.0, 105.0, 210.0]
    assert "4 period(s) of 60 s" in t.provenance.source and "period length given" in t.provenance.source
    assert "1 missing period(s) counted 0" in t.provenance.source


def test_rows_off_the_grid_of_the_given_period_are_refused(write):
    p = write("period,count\n1998-04-30 21:00:00,1\n1998-04-30 21:01:30,2\n")
    with pytest.raises(TraceError) as info:
        load_period_counts(p, period=60)
    assert str(info.value) == (f"{p}: line 3, column 1 (period): '1998-04-30 21:01:30' is 90 s after the first "
                               "period (1998-04-30T21:00:00+00:00), not a whole number of periods of 60 s; give the "
                               "period length the rows are spaced by (period=..., --period)")


@pytest.mark.parametrize("text, kw, message", [
    ("period,count\n1998-04-30 21:00:00,1\n", {}, r"line 2, column 1 \(period\): one date-time row, so no spacing"),
    ("period,count\n1998-04-30 21:00:00,1\n1998-04-30 21:00:00,3\n", {"period": 60},
     r"line 3, column 1 \(period\): '1998-04-30 21:00:00' appears twice"),
    ("period,count\n1998-04-30 21:00:00,1\nsoon,3\n", {"period": 60}, r"line 3, column 1 \(period\): 'soon'"),
    ("period,count\n1998-04-30 21:00:00,1\n1998-04-30 21:01:00+01:00,3\n", {},
     r"line 3, column 1 \(period\): '1998-04-30 21:01:00\+01:00' has a UTC offset, but line 2"),
    ("period,count\n1998-04-30 21:00:00,1\n1998-04-30 21:01:00,-3\n", {},
     r"line 3, column 2 \(count\): -3, expected a whole number >= 0"),
    ("period,count\n3,1\n", {"period": -1}, r"period = -1, must be a finite number of seconds > 0"),
    ("period,count\n3,1\n", {"period": "soon"}, r"period = 'soon', must be a finite number of seconds > 0"),
    ("period,count\n3,1\n", {"period": 1, "period_seconds": 2}, r"period = 1 and period_seconds = 2: give one"),
], ids=["one-row", "repeated", "not-a-date", "mixed-offsets", "negative-count", "negative-period",
        "bad-period-text", "both-period-names"])
def test_bad_date_periods_are_refused_with_their_location(write, text, kw, message):
    with pytest.raises(TraceError, match=message):
        load_period_counts(write(text), **kw)


def test_whole_index_periods_read_as_before_and_take_a_period(write):
    p = write("period,count\n3,2\n5,1\n")
    assert load_period_counts(p, arrivals="even").arrivals.tolist() == [15.0, 45.0, 150.0]
    assert load_period_counts(p, period="10s", arrivals="even").arrivals.tolist() == [2.5, 7.5, 25.0]
    assert load_period_counts(p, period_seconds=10, arrivals="even").arrivals.tolist() == [2.5, 7.5, 25.0]


def test_cli_period_option(write, capsys):
    p = write(GAP)
    assert main(["trace", "info", str(p)]) == 2
    err = capsys.readouterr().err
    assert "are not evenly spaced" in err and "--period 60s" in err and "Traceback" not in err
    assert main(["trace", "info", str(p), "--period", "1m"]) == 0
    assert "requests                        4" in capsys.readouterr().out
    assert main(["trace", "info", "default", "--period", "1m"]) == 2
    assert "--period applies to count series (counts, period-counts), but bundled trace default is azure2019" \
        in capsys.readouterr().err
    assert main(["trace", "info", str(p), "--period", "1m", "--time-column", "ts"]) == 2
    assert "--period applies to count series" in capsys.readouterr().err


def test_run_and_sweep_take_the_period(write, tmp_path, capsys):
    p = write("period,count\n" + "".join(f"1998-04-30 21:{m:02d}:00,{5 + m}\n" for m in range(0, 6, 2)))
    assert main(["run", "--trace", str(p), "--period", "2m"]) == 0
    assert main(["sweep", "--trace", str(p), "--period", "2m", "--grid", "target-burst-capacity=0,-1",
                 "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert "2 configurations = 2 runs" in capsys.readouterr().out
    assert main(["run", "--trace", str(write("ts\n0\n1\n", "req.csv")), "--time-column", "ts",
                 "--period", "2m"]) == 2
    assert "--period applies to count series" in capsys.readouterr().err
