"""``autoscale sweep``: the table, resume after kill -9, refusing another sweep, --extend, options, Dask workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from autoscale.cli import main
from autoscale.sweep import Grid, Sweep, Uniform, run_sweep
from autoscale._cli.sweep_cmd import parse_policy, parse_random
from autoscale.trace import Trace, synthetic


@pytest.fixture(scope="module")
def trace_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("sweep") / "requests.csv"
    synthetic.poisson(rate=2, duration=120, service=synthetic.constant(0.2), seed=1).to_csv(path)
    return path


def sweep_args(trace_file, out, *extra):
    return ["sweep", "--trace", str(trace_file), "--grid", "target-burst-capacity=0,-1",
            "--grid", "stable-window=30s,60s", "--seeds", "2", "--batch-size", "3", "--out", str(out), *extra]


def test_sweep_writes_the_api_table_and_a_rerun_replays_nothing(trace_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(sweep_args(trace_file, out, "--quiet")) == 0
    printed = capsys.readouterr().out
    assert "1 trace x 2 seeds x 1 policy x 4 configurations = 8 runs in 4 batches" in printed
    assert "replayed 8 runs now" in printed
    api = run_sweep(Sweep(traces=[str(trace_file)], axes=Grid({"target-burst-capacity": ["0", "-1"],
                                                                "stable-window": ["30s", "60s"]}),
                          seeds=range(2)), progress=False)
    assert (out / "results.csv").read_text() == api.to_csv(index=False)
    assert main(sweep_args(trace_file, out, "--quiet")) == 0
    assert "replayed 0 runs now, 8 were finished before" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--grid", "stable-window=3s"], "stable-window = 3s, must be in [6s, 1h]"),
        (["--grid", "no-such-key=1"], "no-such-key"),
        (["--grid", "target-burst-capacity"], "--grid target-burst-capacity: expected KEY=VALUE"),
        (["--random", "target=1:10"], "--random needs --samples"),
        (["--random", "target=1-10", "--samples", "2"], "target = 1-10"),
        (["--set", "target-burst-capacity=0,-1", "--grid", "target-burst-capacity=211"],
         "target-burst-capacity is given to --grid (target-burst-capacity=211) and to --set"),
        (["--policy", "no-such-policy"], "no-such-policy"),
        (["--functions", "2"], "single-function trace"),
    ],
    ids=["out-of-range", "unknown-key", "malformed", "random-without-samples", "bad-random-value",
         "set-and-grid-of-one-key", "unknown-policy", "functions-of-a-single-function-trace"],
)
def test_bad_input_exits_2_with_the_message(trace_file, tmp_path, capsys, args, message):
    rc = main(["sweep", "--trace", str(trace_file), "--out", str(tmp_path / "out"), "--quiet", *args])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and "Traceback" not in err


def test_another_grid_in_the_folder_is_refused_unless_extended(trace_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(sweep_args(trace_file, out, "--quiet")) == 0
    capsys.readouterr()
    bigger = ["sweep", "--trace", str(trace_file), "--grid", "target-burst-capacity=0,-1,211",
              "--grid", "stable-window=30s,60s", "--seeds", "2", "--out", str(out), "--quiet"]
    assert main(bigger) == 2
    err = capsys.readouterr().err
    assert "holds a different sweep (axes[0].grid.target-burst-capacity" in err and "--extend" in err
    assert main([*bigger, "--extend"]) == 0
    assert "replayed 4 runs now, 8 were finished before" in capsys.readouterr().out
    assert len(pd.read_csv(out / "results.csv")) == 12


def test_random_points_policies_and_functions_options(tmp_path, capsys):
    assert parse_random(["target=1:100:log", "target-burst-capacity=0,-1", "stable-window=30s:90s",
                         "panic-threshold-percentage=150.0:300"]) == {
        "target": Uniform(1, 100, log=True, integer=True), "target-burst-capacity": ["0", "-1"],
        "stable-window": Uniform(30, 90, integer=True), "panic-threshold-percentage": Uniform(150.0, 300.0)}
    assert parse_policy("keepalive:keep-alive=60,10m") == [("keepalive", {"keep_alive": 60}),
                                                          ("keepalive", {"keep_alive": 600.0})]
    assert parse_policy("kpa") == [("kpa", {})]

    rng = np.random.default_rng(2)
    a = np.sort(rng.uniform(0, 120, 300))
    path = Trace(arrivals=a, durations=np.full(a.size, 0.2), function=(a > 60).astype(np.int32),
                 function_names=("early", "late"), name="two").to_csv(tmp_path / "two.csv")
    points = tmp_path / "points.csv"
    points.write_text("container-concurrency,target-burst-capacity\n1,0\n5,\n")
    out = tmp_path / "out"
    assert main(["sweep", "--trace", str(path), "--functions", "2", "--points", str(points),
                 "--random", "stable-window=30s:90s", "--samples", "2", "--sample-seed", "3",
                 "--policy", "kpa", "--policy", "keepalive:keep-alive=30", "--out", str(out), "--quiet"]) == 0
    table = pd.read_csv(out / "results.csv")
    assert len(table) == 2 * 2 * 2 * 2  # functions x policies x points x samples
    assert list(table.columns[:8]) == ["trace", "function", "seed", "policy", "policy.keep_alive",
                                       "stable-window", "container-concurrency", "target-burst-capacity"]
    assert set(table["function"]) == {"early", "late"} and set(table["policy"]) == {"kpa", "keepalive"}
    assert table["stable-window"].between(30, 90).all()


def test_a_sweep_killed_mid_run_and_started_again_gives_the_uninterrupted_table(tmp_path):
    """kill -9 the CLI while it writes batches; the same command then completes it."""
    trace = tmp_path / "long.csv"
    synthetic.poisson(rate=5, duration=600, service=synthetic.constant(0.2), seed=1).to_csv(trace)
    args = ["sweep", "--trace", str(trace), "--grid", "target-burst-capacity=0,-1,10,50",
            "--grid", "stable-window=30s,60s,90s,120s", "--batch-size", "1", "--quiet"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "autoscale", *args, "--out", str(killed)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    batches = killed / "batches"
    deadline = time.monotonic() + 60
    while (not batches.exists() or len(list(batches.glob("*.csv"))) < 2) and time.monotonic() < deadline:
        assert proc.poll() is None, "the sweep ended before it could be killed"
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(list(batches.glob("*.csv")))
    assert 2 <= finished < 16 and not (killed / "results.csv").exists()
    for path in batches.glob("*.csv"):  # every batch file is whole
        assert len(pd.read_csv(path)) == 1

    assert main([*args, "--out", str(killed)]) == 0
    assert main([*args, "--out", str(tmp_path / "whole")]) == 0
    assert (killed / "results.csv").read_text() == (tmp_path / "whole" / "results.csv").read_text()
    assert len(list(batches.glob("*.csv"))) == 16


def test_workers_run_the_batches_on_a_local_dask_cluster_of_processes(trace_file, tmp_path):
    pytest.importorskip("distributed")
    assert main(sweep_args(trace_file, tmp_path / "local", "--quiet")) == 0
    assert main(sweep_args(trace_file, tmp_path / "dask", "--quiet", "--workers", "2")) == 0
    assert (tmp_path / "dask" / "results.csv").read_text() == (tmp_path / "local" / "results.csv").read_text()


def test_progress_bar_shows_on_a_terminal_unless_quiet(trace_file, tmp_path, capsys, monkeypatch):
    import itertools

    from autoscale import progress

    monkeypatch.delenv(progress.ENV)
    monkeypatch.setattr(progress, "_clock", itertools.count(0, 10).__next__)  # 10 s a reading
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(sweep_args(trace_file, tmp_path / "a")) == 0
    err = capsys.readouterr().err
    assert "sweep: 100%" in err and "8/8" in err
    assert main(sweep_args(trace_file, tmp_path / "b", "--quiet")) == 0
    assert "sweep:" not in capsys.readouterr().err


def test_sweep_plot_draws_the_worst_p99_per_cell_and_the_pareto_front(trace_file, tmp_path, monkeypatch):
    import matplotlib
    from matplotlib.image import imread

    from autoscale import plotting

    drawn = {}
    for name in ("heatmap", "pareto"):
        original = getattr(plotting, name)

        def spy(*args, _original=original, _name=name, **kwargs):
            drawn[_name] = (kwargs, _original(*args, **kwargs))
            return drawn[_name][1]

        monkeypatch.setattr(plotting, name, spy)
    png = tmp_path / "sweep.png"
    assert main(sweep_args(trace_file, tmp_path / "out", "--quiet", "--plot", str(png))) == 0
    assert matplotlib.get_backend().lower() == "agg"
    kwargs, (fig, ax) = drawn["heatmap"]
    assert kwargs["agg"] == "max"  # two seeds share each cell, and p99s do not average
    assert ax.get_title() == "p99 latency (s)\nmax over seed (2 runs per cell)"
    assert ax.get_xlabel() == "target burst capacity (requests)" and ax.get_ylabel() == "stable window (s)"
    _, (_, pareto_ax) = drawn["pareto"]
    assert pareto_ax in fig.axes and "Pareto front" in [t.get_text() for t in pareto_ax.get_legend().get_texts()]
    assert imread(png).std() > 0.01
