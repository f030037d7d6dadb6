"""``autoscale trace info`` on bundled names and files."""

from __future__ import annotations

from autoscale.cli import main


def test_info_prints_the_summary_and_attribution_of_default(capsys):
    assert main(["trace", "info", "default"]) == 0
    out = capsys.readouterr().out
    assert "requests                        11,484" in out
    assert "peak 1 s rate" in out and "duration p50 / p90 / p99 / max" in out
    assert "cite: Shahrad et al." in out


def test_info_lists_the_bundled_traces(capsys):
    assert main(["trace", "info", "--list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("default") and "nasa-http-1995" in out


def test_info_on_a_csv_with_named_columns_and_a_function(tmp_path, capsys):
    p = tmp_path / "log.csv"
    p.write_text("ts,ms,fn\n2024-01-01 00:00:00.5,100,a\n2024-01-01 00:00:02,300,b\n2024-01-01 00:00:03,200,a\n")
    assert main(["trace", "info", str(p), "--time-column", "ts", "--duration-column", "ms",
                 "--duration-unit", "ms"]) == 0
    assert "requests                        3" in capsys.readouterr().out
    assert main(["trace", "info", "azure2021-200", "--function", "0"]) == 0
    assert "functions                       1" in capsys.readouterr().out


def test_info_errors_are_one_line_with_exit_code_2(tmp_path, capsys):
    p = tmp_path / "bad.csv"
    p.write_text("ts,ms\n1.0,5\nsoon,5\n")
    assert main(["trace", "info", str(p), "--time-column", "ts", "--duration-column", "ms"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("autoscale: error: ") and "line 3, column 1 (ts)" in err
    assert main(["trace", "info", "nope"]) == 2
    assert "not a bundled trace name" in capsys.readouterr().err
    assert main(["trace", "info", "default", "--format", "azure2019", "--time-column", "x"]) == 2
