"""Durations from other columns, and where every trace's durations come from in provenance, headers and reports."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from autoscale import KPAConfig, replay
from autoscale.errors import TraceError
from autoscale.report import render
from autoscale.store import load as load_results
from autoscale.trace import load, load_csv, synthetic
from autoscale.trace.expression import Expression

LLM = """\
TIMESTAMP,ContextTokens,GeneratedTokens
2023-11-16 18:15:46.6805900,374,44
2023-11-16 18:15:50.9951690,396,109
2023-11-16 18:15:51.2000000,879,20
2023-11-16 18:15:53.5000000,12,1
"""
EXPR = "0.02 + 0.015 * GeneratedTokens"


@pytest.fixture
def llm(tmp_path):
    path = tmp_path / "AzureLLMInferenceTrace_conv.csv"
    path.write_text(LLM)
    return path



# -- the expression -------------------------------------------------------------------------


@pytest.mark.parametrize("text, columns, values, expected", [
    (EXPR, ("GeneratedTokens",), {"GeneratedTokens": [10, 100]}, [0.17, 1.52]),
    ("(a + b) / 2 - -1", ("a", "b"), {"a": [1, 3], "b": [3, 5]}, [3.0, 5.0]),
    ("a ** 2", ("a",), {"a": [3]}, [9.0]),
    ("min(a, 2, b) + max(a, b)", ("a", "b"), {"a": [1, 5], "b": [4, 3]}, [5.0, 7.0]),
    ("log(exp(a)) + sqrt(b) + abs(-a)", ("a", "b"), {"a": [2.0], "b": [16.0]}, [8.0]),
    ("`prompt len` / 1000 + `prompt len` / 1000", ("prompt len",), {"prompt len": [500]}, [1.0]),
    ("0.5", (), {"": [0, 0]}, [0.5, 0.5]),
], ids=["tokens", "parentheses", "power", "min-max", "functions", "quoted", "constant"])
def test_expressions_evaluate_element_by_element(text, columns, values, expected):
    e = Expression.parse(text)
    assert e.columns == columns
    got = e.evaluate({k: np.asarray(v, dtype=float) for k, v in values.items()})
    assert got.tolist() == pytest.approx(expected)


@pytest.mark.parametrize("text, message", [
    ("__import__('os').system('true')", r"calling __import__\('os'\).system is not allowed"),
    ("a.real", r"attribute 'a.real' is not allowed"),
    ("'text'", "the constant 'text' is not allowed"),
    ("a > 1", "compare 'a > 1' is not allowed"),
    ("a % 2", "the operator Mod is not allowed"),
    ("not a", "the operator Not is not allowed"),
    ("x[0]", "subscript 'x\\[0\\]' is not allowed"),
    ("(lambda: 1)()", "calling .* is not allowed"),
    ("log(a, 2)", "log takes one argument, got 2"),
    ("min(a)", "min takes two or more arguments, got 1"),
    ("max(a, b=1)", "a keyword argument to max is not allowed"),
    ("0.02 +", r"'0.02 \+': not an expression"),
    ("`open", "a backquote is not closed"),
    ("  ", "empty expression"),
    ("True + 1", "the constant True is not allowed"),
], ids=["import", "attribute", "string", "compare", "modulo", "not", "subscript", "lambda", "log-arity",
        "min-arity", "keyword", "syntax", "backquote", "empty", "bool"])
def test_anything_but_arithmetic_of_columns_is_refused(text, message):
    with pytest.raises(TraceError, match=message):
        Expression.parse(text)


# -- loading with durations from columns ----------------------------------------------------


def test_durations_from_token_counts_of_an_llm_trace(llm):
    t = load(llm, time_column="TIMESTAMP", duration_from=EXPR)
    assert t.durations.tolist() == pytest.approx([0.02 + 0.015 * g for g in (44, 109, 20, 1)])
    assert t.arrivals[0] == 0.0 and t.arrivals[1] == pytest.approx(4.314579)
    assert t.provenance.durations == f"from the expression {EXPR} (s) of column(s) GeneratedTokens"
    assert f"durations: from the expression {EXPR} (s)" in str(t.provenance)
    ms = load(llm, time_column="TIMESTAMP", duration_from="20 + 15 * GeneratedTokens", duration_unit="ms")
    assert ms.durations.tolist() == pytest.approx(t.durations.tolist())


def test_an_unknown_column_names_the_file_and_its_columns_before_reading_it(llm):
    with pytest.raises(TraceError) as info:
        load(llm, time_column="TIMESTAMP", duration_from="0.02 + 0.015 * GenTokens")
    assert str(info.value) == (f"{llm}: line 1: missing column(s) GenTokens in the header (named by duration_from=, "
                               "--duration-from); the file has columns TIMESTAMP, ContextTokens, GeneratedTokens")


@pytest.mark.parametrize("rows, expression, message", [
    ("1.0,-30\n", EXPR, r"line 3: duration_from '.*' gives -0.43 \(with GeneratedTokens = -30\), must be a finite "
                        r"number > 0 s; 1 of 2 row\(s\) give such a value"),
    ("1.0,0\n", "log(GeneratedTokens)", r"line 3: duration_from 'log\(GeneratedTokens\)' gives -inf"),
    ("1.0,0\n", "1 / GeneratedTokens", r"line 3: duration_from '1 / GeneratedTokens' gives inf"),
    ("1.0,-1\n", "sqrt(GeneratedTokens)", r"line 3: .* gives nan \(with GeneratedTokens = -1\)"),
    ("1.0,many\n", EXPR, r"line 3, column 2 \(GeneratedTokens\): 'many', expected a finite number"),
], ids=["negative", "minus-inf", "inf", "nan", "text-cell"])
def test_results_that_are_not_durations_name_the_line(tmp_path, rows, expression, message):
    p = tmp_path / "tokens.csv"
    p.write_text("t,GeneratedTokens\n0.0,10\n" + rows)
    with pytest.raises(TraceError, match=message):
        load_csv(p, time_column="t", duration_from=expression)


def test_duration_from_and_a_duration_column_are_one_or_the_other(llm):
    with pytest.raises(TraceError, match="duration_column = 'ContextTokens' and duration_from = .*: give one"):
        load_csv(llm, time_column="TIMESTAMP", duration_column="ContextTokens", duration_from=EXPR)


# -- provenance of durations, everywhere ----------------------------------------------------


@pytest.mark.parametrize("make, expected", [
    (lambda d: load("default"), "drawn per request from its function's recorded duration percentiles "
                                "(a piecewise-linear inverse CDF through percentiles 0/1/25/50/75/99/100 of "
                                "durations.csv, points below 1 ms raised to it), seed 0"),
    (lambda d: load("azure2021-200"), "from the trace: column duration (s); 8 duration(s) below 1 ms raised to "
                                      "1 ms"),
    (lambda d: load(d / "saved.csv"), "from the trace: column duration_s (s)"),
    (lambda d: load(d / "times.csv", time_column="ts", seed=5),
     "invented (the trace records none): drawn from lognormal, median 0.5 s, sigma 0.5, seed 5"),
    (lambda d: load(d / "counts.txt", period=60),
     "invented (the trace records none): drawn from lognormal, median 0.5 s, sigma 0.5, seed 0"),
    (lambda d: synthetic.poisson(2, 60, service=synthetic.exponential(0.3), seed=1),
     "invented (the trace records none): drawn from exponential, mean 0.3 s"),
    (lambda d: synthetic.poisson(2, 60, service=synthetic.empirical([0.1, 0.3]), seed=1),
     "invented (the trace records none): drawn from resampled from 2 observed durations (median 0.2 s, max 0.3 s)"),
], ids=["azure2019", "azure2021", "saved-csv", "csv-without-durations", "counts", "synthetic", "empirical"])
def test_every_loader_says_where_its_durations_come_from(tmp_path, make, expected):
    synthetic.poisson(1, 20, service=synthetic.constant(0.2), seed=1).to_csv(tmp_path / "saved.csv")
    (tmp_path / "times.csv").write_text("ts\n1.5\n3.0\n")
    (tmp_path / "counts.txt").write_text("3 0 2")
    assert make(tmp_path).provenance.durations == expected


def test_run_header_and_results_folder_and_report_carry_the_durations(llm, tmp_path, cli):
    out = tmp_path / "run"
    code, printed, err = cli(["run", "--trace", str(llm), "--time-column", "TIMESTAMP", "--duration-from", EXPR,
                              "--out", str(out)])
    assert code == 0, err
    assert printed.splitlines()[1] == f"durations: from the expression {EXPR} (s) of column(s) GeneratedTokens"
    manifest = json.loads((out / "manifest.json").read_text())
    assert f"durations: from the expression {EXPR} (s)" in manifest["trace"]["provenance"]
    html = render(out)
    assert f"<tr><th>durations</th><td>from the expression {EXPR} (s) of column(s) GeneratedTokens</td></tr>" in html


def test_compare_header_names_invented_durations(tmp_path, cli):
    p = tmp_path / "times.csv"
    p.write_text("ts\n" + "\n".join(str(0.5 * i) for i in range(40)) + "\n")
    code, printed, err = cli(["compare", "--trace", str(p), "--time-column", "ts", "--policies", "kpa,fixed"])
    assert code == 0, err
    assert ("durations: invented (the trace records none): drawn from lognormal, median 0.5 s, sigma 0.5, seed 0"
            in printed.splitlines())


def test_a_sweep_folder_and_its_report_record_each_traces_durations(llm, tmp_path, cli):
    out = tmp_path / "sweep"
    code, printed, err = cli(["sweep", "--trace", str(llm), "--trace", "default", "--time-column", "TIMESTAMP",
                              "--duration-from", EXPR, "--grid", "target-burst-capacity=0,-1", "--out", str(out),
                              "--quiet"])
    assert code == 2 and "--duration-from applies to per-request CSVs (csv), but bundled trace default is azure2019" \
        in err
    code, printed, err = cli(["sweep", "--trace", str(llm), "--time-column", "TIMESTAMP", "--duration-from",
                              EXPR, "--grid", "target-burst-capacity=0,-1", "--out", str(out), "--quiet"])
    assert code == 0, err
    assert f"durations ({llm}): from the expression {EXPR} (s) of column(s) GeneratedTokens" in printed
    manifest = json.loads((out / "sweep.json").read_text())
    assert manifest["provenance"] == [{
        "trace": str(llm), "function": None, "provenance": str(load(llm, time_column="TIMESTAMP",
                                                                       duration_from=EXPR).provenance),
        "durations": f"from the expression {EXPR} (s) of column(s) GeneratedTokens"}]
    stored = load_results(out)
    assert f"durations: from the expression {EXPR}" in stored.provenance
    html = render(out)
    assert "<h3>Durations</h3>" in html and f"from the expression {EXPR} (s) of column(s) GeneratedTokens" in html


def test_replay_results_keep_the_provenance_with_its_durations():
    trace = synthetic.poisson(2, 60, service=synthetic.constant(0.2), seed=1)
    result = replay(trace, [KPAConfig()])
    assert result.provenance.endswith("durations: invented (the trace records none): drawn from constant 0.2 s")


@pytest.mark.parametrize("argv, message", [
    (["trace", "info", "default", "--duration-from", "1 +"], "argument --duration-from: duration-from = '1 \\+': "
                                                             "not an expression"),
    (["trace", "info", "default", "--duration-from", "GeneratedTokens"],
     "--duration-from applies to per-request CSVs \\(csv\\), but bundled trace default is azure2019"),
    (["run", "--trace", "{llm}", "--time-column", "TIMESTAMP", "--duration-column", "ContextTokens",
      "--duration-from", EXPR], "--duration-column ContextTokens and --duration-from .*: give one"),
    (["trace", "info", "{llm}", "--time-column", "TIMESTAMP", "--duration-from", "Tokens * 2"],
     "line 1: missing column\\(s\\) Tokens in the header .*the file has columns TIMESTAMP, ContextTokens"),
], ids=["syntax", "not-a-csv", "both", "unknown-column"])
def test_cli_refuses_bad_duration_expressions_in_one_line(llm, cli, argv, message):
    code, _, err = cli([a.replace("{llm}", str(llm)) for a in argv])
    last = err.strip().splitlines()[-1]  # argparse prints its usage first
    assert code == 2 and last.startswith("autoscale") and "Traceback" not in err
    assert re.search(message, last), err
