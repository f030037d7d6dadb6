"""Fuzzing every parser with malformed rows: always a TraceError naming the file and the 1-based line, never
another exception and never a silently dropped row."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoscale import TraceError
from autoscale.trace import load_azure2019, load_azure2021, load_counts, load_csv, load_huawei, load_period_counts

from trace_strategies import BAD_REALS, bad_count, bad_positive_real, bad_real, write_rows

FUZZ = settings(max_examples=40, deadline=None, derandomize=True)

HASHES = ["o1", "a1", "f1"], ["o1", "a1", "f2"], ["o2", "a2", "f3"]
AZ19_HEADER = ["HashOwner", "HashApp", "HashFunction", "Trigger", "1", "2", "3", "4"]
AZ19_ROWS = [[*h, "http", "3", "0", "12", "1"] for h in HASHES]
RUN_HEADER = ["HashOwner", "HashApp", "HashFunction", "Average", "Count", "Minimum", "Maximum",
              *[f"percentile_Average_{p}" for p in (0, 1, 25, 50, 75, 99, 100)]]
RUN_ROWS = [[*h, "120", "16", "5", "900", "5", "8", "60", "100", "150", "600", "900"] for h in HASHES]
MEM_HEADER = ["HashOwner", "HashApp", "HashFunction", "SampleCount", "AverageAllocatedMb"]
MEM_ROWS = [[*h, "40", "128"] for h in HASHES]
AZ21_HEADER = ["app", "func", "end_timestamp", "duration"]
AZ21_ROWS = [["a1", "f1", "10.5", "0.5"], ["a1", "f2", "3.25", "1.0"], ["a2", "f1", "7.0", "2.0"]]
HUAWEI_HEADER = ["day", "time", "0", "1", "2"]
HUAWEI_ROWS = [["0", "0", "1", "", "2"], ["0", "60", "", "4", ""], ["0", "120", "3", "1", "1"]]
CSV_HEADER = ["ts", "took", "fn"]
CSV_ROWS = [["1700000000.5", "20", "x"], ["1700000001.25", "5", "y"], ["1700000003", "7.5", "x"]]
BAD_TIMES = tuple(v for v in BAD_REALS if not re.fullmatch(r"-[\d.]+", v))


def assert_located(excinfo, path: Path, line: int) -> None:
    message = str(excinfo.value)
    assert str(path) in message, message
    assert re.search(rf"line {line}\b", message), message


def corrupt(rows, row: int, column: int, value: str):
    rows = [list(r) for r in rows]
    rows[row][column] = value
    return rows


def write_az19(folder: Path, inv=AZ19_ROWS, run=RUN_ROWS, mem=MEM_ROWS) -> Path:
    write_rows(folder / "invocations.csv", AZ19_HEADER, inv)
    write_rows(folder / "durations.csv", RUN_HEADER, run)
    write_rows(folder / "memory.csv", MEM_HEADER, mem)
    return folder / "invocations.csv"


def test_the_unfuzzed_fixtures_load(tmp_path):
    assert len(load_azure2019(write_az19(tmp_path))) == 48
    write_rows(tmp_path / "a.csv", AZ21_HEADER, AZ21_ROWS)
    assert len(load_azure2021(tmp_path / "a.csv")) == 3
    write_rows(tmp_path / "h.csv", HUAWEI_HEADER, HUAWEI_ROWS)
    assert len(load_huawei(tmp_path / "h.csv")) == 12
    write_rows(tmp_path / "c.csv", CSV_HEADER, CSV_ROWS)
    assert len(load_csv(tmp_path / "c.csv", time_column="ts", duration_column="took", function_column="fn")) == 3


# -- Azure 2019 ------------------------------------------------------------------------------

@FUZZ
@given(row=st.integers(0, 2), column=st.integers(4, 7), value=bad_count())
def test_azure2019_counts(row, column, value):
    with tempfile.TemporaryDirectory() as d:
        path = write_az19(Path(d), inv=corrupt(AZ19_ROWS, row, column, value))
        with pytest.raises(TraceError) as excinfo:
            load_azure2019(path)
        assert_located(excinfo, path, row + 2)
        assert f"column {column + 1}" in str(excinfo.value)


@FUZZ
@given(row=st.integers(0, 2), column=st.integers(7, 13), value=bad_real())
def test_azure2019_duration_percentiles(row, column, value):
    with tempfile.TemporaryDirectory() as d:
        path = write_az19(Path(d), run=corrupt(RUN_ROWS, row, column, value))
        with pytest.raises(TraceError) as excinfo:
            load_azure2019(path)
        assert_located(excinfo, Path(d) / "durations.csv", row + 2)


@FUZZ
@given(row=st.integers(0, 2), value=bad_real())
def test_azure2019_memory(row, value):
    with tempfile.TemporaryDirectory() as d:
        path = write_az19(Path(d), mem=corrupt(MEM_ROWS, row, 4, value))
        with pytest.raises(TraceError) as excinfo:
            load_azure2019(path)
        assert_located(excinfo, Path(d) / "memory.csv", row + 2)


def test_azure2019_decreasing_percentiles_and_empty_hash(tmp_path):
    path = write_az19(tmp_path, run=corrupt(RUN_ROWS, 1, 10, "1"))
    with pytest.raises(TraceError, match=r"durations.csv: line 3: the percentile_Average_\* columns decrease"):
        load_azure2019(path)
    path = write_az19(tmp_path, inv=corrupt(AZ19_ROWS, 2, 2, ""))
    with pytest.raises(TraceError, match=r"line 4, column 3 \(HashFunction\): empty"):
        load_azure2019(path)
    path = write_az19(tmp_path, inv=AZ19_ROWS + [AZ19_ROWS[0]])
    with pytest.raises(TraceError, match=r"line 5: function o1/a1/f1... appears twice"):
        load_azure2019(path)


# -- Azure 2021 ------------------------------------------------------------------------------

@FUZZ
@given(row=st.integers(0, 2), column=st.sampled_from([2, 3]), value=bad_real())
def test_azure2021_numbers(row, column, value):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "a.csv"
        write_rows(path, AZ21_HEADER, corrupt(AZ21_ROWS, row, column, value))
        with pytest.raises(TraceError) as excinfo:
            load_azure2021(path)
        assert_located(excinfo, path, row + 2)


def test_azure2021_duration_longer_than_end_and_empty_ids(tmp_path):
    path = tmp_path / "a.csv"
    write_rows(path, AZ21_HEADER, corrupt(AZ21_ROWS, 1, 3, "4.0"))
    with pytest.raises(TraceError, match=r"line 3, column 4 \(duration\): 4 s exceeds end_timestamp 3.25 s"):
        load_azure2021(path)
    write_rows(path, AZ21_HEADER, corrupt(AZ21_ROWS, 2, 0, ""))
    with pytest.raises(TraceError, match=r"line 4, column 1 \(app\): empty"):
        load_azure2021(path)


# -- structure: any CSV parser ---------------------------------------------------------------

PARSERS = {
    "azure2019": (AZ19_HEADER, AZ19_ROWS, lambda p: load_azure2019(p, durations=p.parent / "durations.csv")),
    "azure2021": (AZ21_HEADER, AZ21_ROWS, load_azure2021),
    "huawei": (HUAWEI_HEADER, HUAWEI_ROWS, load_huawei),
    "csv": (CSV_HEADER, CSV_ROWS, lambda p: load_csv(p, time_column="ts", duration_column="took")),
    "period-counts": (["period", "count"], [["0", "3"], ["1", "0"], ["4", "2"]], load_period_counts),
}


@FUZZ
@given(parser=st.sampled_from(sorted(PARSERS)), row=st.integers(0, 2),
       damage=st.sampled_from(["extra field", "missing field", "blank line", "only a comma"]))
def test_rows_with_the_wrong_shape(parser, row, damage):
    header, rows, loader = PARSERS[parser]
    rows = [list(r) for r in rows]
    lines = [",".join(header)] + [",".join(r) for r in rows]
    i = row + 1
    if damage == "extra field":
        lines[i] += ",1"
    elif damage == "missing field":
        lines[i] = ",".join(rows[row][:-1])
    elif damage == "blank line":
        lines.insert(i, "")
    else:
        lines[i] = ","
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "t.csv"
        if parser == "azure2019":
            write_rows(Path(d) / "durations.csv", RUN_HEADER, RUN_ROWS)
        path.write_text("\n".join(lines) + "\n")
        with pytest.raises(TraceError) as excinfo:
            loader(path)
        assert_located(excinfo, path, i + 1)


# -- rate series -----------------------------------------------------------------------------

@FUZZ
@given(position=st.integers(0, 9), value=bad_count().filter(lambda v: v.strip() != ""),
       newline_every=st.integers(1, 12))
def test_counts_text(position, value, newline_every):
    tokens = [str(i % 4) for i in range(10)]
    tokens[position] = value
    text = ""
    for k, tok in enumerate(tokens):
        text += tok + ("\n" if (k + 1) % newline_every == 0 else " ")
    line = text[: text.index(value, sum(len(t) + 1 for t in tokens[:position]))].count("\n") + 1
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "counts.txt"
        path.write_text(text)
        with pytest.raises(TraceError) as excinfo:
            load_counts(path)
        assert_located(excinfo, path, line)
        assert f"value {position + 1})" in str(excinfo.value)


@FUZZ
@given(row=st.integers(0, 2), column=st.integers(0, 1), value=bad_count())
def test_period_counts(row, column, value):
    header, rows, loader = PARSERS["period-counts"]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "p.csv"
        write_rows(path, header, corrupt(rows, row, column, value))
        with pytest.raises(TraceError) as excinfo:
            loader(path)
        assert_located(excinfo, path, row + 2)


# -- Huawei and per-request CSV --------------------------------------------------------------

@FUZZ
@given(row=st.integers(0, 2), column=st.integers(0, 4), value=bad_count().filter(lambda v: v.strip() != ""))
def test_huawei(row, column, value):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "day_00.csv"
        write_rows(path, HUAWEI_HEADER, corrupt(HUAWEI_ROWS, row, column, value))
        with pytest.raises(TraceError) as excinfo:
            load_huawei(path)
        assert_located(excinfo, path, row + 2)


@FUZZ
@given(row=st.integers(0, 2), data=st.data())
def test_per_request_csv(row, data):
    column = data.draw(st.sampled_from([0, 1]))
    value = data.draw(st.one_of(st.sampled_from(BAD_TIMES), bad_real().filter(lambda v: not v.startswith("-")))
                      if column == 0 else bad_positive_real())
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "log.csv"
        write_rows(path, CSV_HEADER, corrupt(CSV_ROWS, row, column, value))
        with pytest.raises(TraceError) as excinfo:
            load_csv(path, time_column="ts", duration_column="took", duration_unit="ms", function_column="fn")
        assert_located(excinfo, path, row + 2)
