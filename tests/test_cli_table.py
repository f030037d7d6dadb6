"""Printed result tables: counts as whole integers, one notation per column, a single configuration as a row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from autoscale.cli import main
from autoscale.trace import Trace
from autoscale._cli.table import format_table


def test_counts_print_as_integers_and_each_column_has_one_notation():
    frame = pd.DataFrame({
        "policy": ["kpa", "keepalive"],
        "requests": [75_210_000.0, 11_484.0],         # counts that arrived as floats
        "pod_seconds": [8495.988, 30009.159],          # {:.4g} printed 8496 beside 3.001e+04
        "latency_p50_s": [0.001012, 1.972],
        "activator_fraction": [1.0, 0.8203],
        "latency_p99_s": [np.nan, 2.5],
    })
    lines = format_table(frame).splitlines()
    assert lines[0].split() == list(frame.columns)
    assert lines[1].split() == ["kpa", "75210000", "8496", "0.0010", "1.000", "NaN"]
    assert lines[2].split() == ["keepalive", "11484", "30009", "1.9720", "0.820", "2.500"]
    assert "e+" not in format_table(frame) and "e-" not in format_table(frame)


@pytest.fixture(scope="module")
def trace_file(tmp_path_factory):
    rng = np.random.default_rng(3)
    a = np.sort(rng.uniform(0, 60, 200))
    path = tmp_path_factory.mktemp("table") / "requests.csv"
    Trace(arrivals=a, durations=np.full(a.size, 0.3), name="t").to_csv(path)
    return path


def test_a_single_configuration_prints_as_one_row_under_its_header(trace_file, capsys):
    assert main(["run", "--trace", str(trace_file)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("trace ") and out[1].startswith("durations")  # the run header
    lines = out[2:]
    assert len(lines) == 2
    header, row = lines[0].split(), lines[1].split()
    assert header[:3] == ["config", "requests", "completed"] and row[:3] == ["0", "200", "200"]


def test_out_csv_writes_integer_keys_as_integers(trace_file, tmp_path, capsys):
    out = tmp_path / "r.csv"
    assert main(["run", "--trace", str(trace_file), "--set", "target-burst-capacity=211,-1", "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[1].startswith("0,kpa,211,200,") and lines[2].startswith("1,kpa,-1,200,")
    printed = capsys.readouterr().out
    assert "211.0" not in printed and "e+" not in printed
