"""``autoscale run``: a trace file or bundled name, the --set cross product, CSV and plot outputs, clean errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from autoscale.cli import main
from autoscale.trace import Trace


@pytest.fixture(scope="module")
def trace_file(tmp_path_factory):
    rng = np.random.default_rng(4)
    a = np.sort(rng.uniform(0, 120, 600))
    path = tmp_path_factory.mktemp("run") / "requests.csv"
    Trace(arrivals=a, durations=np.full(a.size, 0.3), name="t").to_csv(path)
    return path


def test_cross_product_of_set_lists_runs_as_one_batch(trace_file, tmp_path, capsys):
    out = tmp_path / "r.csv"
    rc = main(["run", "--trace", str(trace_file), "--set", "target-burst-capacity=0,-1",
               "--set", "container-concurrency=1,5", "--out", str(out)])
    assert rc == 0
    table = pd.read_csv(out)
    assert len(table) == 4
    assert set(zip(table["target-burst-capacity"], table["container-concurrency"])) == {
        (0, 1), (0, 5), (-1, 1), (-1, 5)}
    assert (table["requests"] == 600).all()
    printed = capsys.readouterr().out
    assert "4 configuration(s)" in printed and "latency_p99_s" in printed


def test_plot_writes_a_png(trace_file, tmp_path):
    png = tmp_path / "timeline.png"
    assert main(["run", "--trace", str(trace_file), "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--set", "stable-window=3s"], "stable-window = 3s, must be in [6s, 1h]"),
        (["--set", "target-burst-capacity"], "expected KEY=VALUE"),
        (["--set", "no-such-key=1"], "no-such-key"),
    ],
    ids=["out-of-range", "malformed", "unknown-key"],
)
def test_bad_input_exits_2_with_the_message(trace_file, capsys, args, message):
    assert main(["run", "--trace", str(trace_file), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_unknown_trace_is_a_clean_error(capsys):
    assert main(["run", "--trace", "no-such-trace"]) == 2
    assert "not a bundled trace" in capsys.readouterr().err
