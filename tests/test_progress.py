"""Progress on standard error: plain lines off a terminal, nothing for short work or when off, counts to N."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pandas as pd
import pytest

from autoscale import KPAConfig, progress, replay
from autoscale.cli import main
from autoscale.progress import DELAY, INTERVAL, bar
from autoscale.sweep import Grid, Sweep, run_sweep
from autoscale.trace import Trace, synthetic


class Clock:
    """A scripted monotonic clock: ``advance(s)`` moves it, reading it does not."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def shown(monkeypatch):
    """Progress on (the environment's switch removed); every bar reads a scripted clock advancing 10 s a reading."""
    monkeypatch.delenv(progress.ENV)
    monkeypatch.setattr(progress, "_clock", itertools.count(0, 10).__next__)


def lines(text: str) -> list[str]:
    """The progress lines of a stream's text (without the one-time notice that the kernels compile)."""
    return [line for line in text.splitlines() if "compiling" not in line]


@pytest.fixture(scope="module")
def trace():
    return synthetic.poisson(rate=2, duration=120, service=synthetic.constant(0.2), seed=1)


# -- the bar ----------------------------------------------------------------------------------


def test_plain_lines_every_interval_after_the_delay_then_a_last_line():
    clock, log = Clock(), io.StringIO()
    b = bar(100, "replay", "configurations", progress=True, file=log, clock=clock)
    for _ in range(100):  # one configuration a second for 100 s
        clock.advance(1.0)
        b.update()
        if clock.now == 1.0:
            assert log.getvalue() == ""  # before the delay: nothing
    b.close()
    got = log.getvalue().splitlines()
    # First at the delay (2 s), then one every INTERVAL (15 s): 2, 17, ..., 92; and the end at 100 s.
    stamps = np.arange(DELAY, 100, INTERVAL)
    assert len(got) == len(stamps) + 1
    assert got[0] == "autoscale: replay 2/100 configurations (2 %), 2s elapsed, about 1m38s left"
    assert got[1] == "autoscale: replay 17/100 configurations (17 %), 17s elapsed, about 1m23s left"
    assert got[-1] == "autoscale: replay 100/100 configurations (100 %), 1m40s elapsed"


def test_a_last_line_when_the_work_ends_between_two_lines():
    clock, log = Clock(), io.StringIO()
    with bar(4, "sweep", "runs", progress=True, file=log, clock=clock) as b:
        clock.advance(5.0)
        b.update()
        clock.advance(5.0)
        b.update(3)
    assert log.getvalue().splitlines() == ["autoscale: sweep 1/4 runs (25 %), 5s elapsed, about 15s left",
                                           "autoscale: sweep 4/4 runs (100 %), 10s elapsed"]


def test_nothing_for_work_that_ends_within_the_delay():
    clock, log = Clock(), io.StringIO()
    with bar(50, "sweep", "runs", progress=True, file=log, clock=clock) as b:
        for _ in range(50):
            clock.advance(DELAY / 60)
            b.update()
    assert log.getvalue() == ""


def test_long_work_that_finishes_in_one_piece_gets_one_line_at_its_end():
    clock, log = Clock(), io.StringIO()
    with bar(1, "sweep", "runs", progress=True, file=log, clock=clock):
        clock.advance(90.0)
    assert log.getvalue() == "autoscale: sweep 0/1 runs (0 %), 1m30s elapsed\n"


@pytest.mark.parametrize("env, asked, printed", [
    ("0", None, False), ("off", None, False), ("false", None, False), ("1", None, True),
    ("0", True, True), ("1", False, False), (None, None, True), (None, False, False),
], ids=["env-0", "env-off", "env-false", "env-1", "env-0-but-asked", "asked-off", "default", "off"])
def test_the_off_switches(monkeypatch, env, asked, printed):
    if env is None:
        monkeypatch.delenv(progress.ENV)
    else:
        monkeypatch.setenv(progress.ENV, env)
    clock, log = Clock(), io.StringIO()
    with bar(3, "sweep", "runs", progress=asked, file=log, clock=clock) as b:
        for _ in range(3):
            clock.advance(30.0)
            b.update()
    assert (log.getvalue() != "") == printed


def test_a_callable_gets_every_count_and_nothing_is_printed():
    seen, log = [], io.StringIO()
    with bar(3, "sweep", "runs", initial=1, progress=lambda done, total: seen.append((done, total)), file=log) as b:
        b.update()
        b.set(3)
    assert seen == [(2, 3), (3, 3)] and log.getvalue() == ""


def test_the_eta_of_a_resumed_count_uses_only_the_units_done_since():
    clock, log = Clock(), io.StringIO()
    with bar(10, "sweep", "runs", initial=6, progress=True, file=log, clock=clock) as b:
        clock.advance(20.0)
        b.update(2)  # 2 runs in 20 s: the last 2 take about 20 s more
    assert log.getvalue().splitlines()[0] == "autoscale: sweep 8/10 runs (80 %), 20s elapsed, about 20s left"


def test_a_terminal_gets_a_tqdm_bar(monkeypatch):
    clock, term = Clock(), io.StringIO()
    monkeypatch.setattr(term, "isatty", lambda: True)
    with bar(5, "sweep", "runs", progress=True, file=term, clock=clock) as b:
        for _ in range(5):
            clock.advance(3.0)
            b.update()
    text = term.getvalue()
    assert "sweep: 100%" in text and "5/5" in text and "autoscale:" not in text


# -- replays and sweeps -----------------------------------------------------------------------


@pytest.mark.parametrize("parallel", [None, False], ids=["threads", "calling-thread"])
def test_a_batch_counts_every_configuration_and_its_results_do_not_change(trace, parallel):
    configs = [KPAConfig(container_concurrency=cc, target_burst_capacity=tbc) for cc in (1, 5) for tbc in (0, -1, 50)]
    seen = []
    counted = replay(trace, configs, parallel=parallel, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(k, len(configs)) for k in range(1, len(configs) + 1)]
    plain = replay(trace, configs, parallel=parallel, progress=False)
    pd.testing.assert_frame_equal(counted.summary, plain.summary)
    assert np.array_equal(counted.latency_hist, plain.latency_hist)
    assert np.array_equal(counted.pods_total, plain.pods_total)


def test_a_batch_shows_plain_lines_off_a_terminal(trace, shown, capsys):
    replay(trace, [KPAConfig(target_burst_capacity=t) for t in (0, -1, 10, 100)])
    got = lines(capsys.readouterr().err)
    assert got[0].startswith("autoscale: replay 1/4 configurations (25 %), ")
    assert got[-1].startswith("autoscale: replay 4/4 configurations (100 %), ")


def test_a_single_configuration_has_nothing_to_count(trace, shown, capsys):
    seen = []
    replay(trace, KPAConfig(), progress=lambda done, total: seen.append(done))
    replay(trace, KPAConfig())
    assert seen == [] and lines(capsys.readouterr().err) == []


def test_a_resumed_sweep_starts_at_the_runs_already_done(trace, tmp_path):
    sweep = Sweep(traces=[trace], seeds=[0, 1], batch_size=2,
                  axes=Grid({"target-burst-capacity": [0, -1], "container-concurrency": [1, 10]}))
    out = tmp_path / "sweep"
    first = run_sweep(sweep, out, progress=False)
    batches = sorted((out / "batches").glob("*.csv"))
    assert len(batches) == 4
    gone = batches[:2]
    lost = sum(len(pd.read_csv(p)) for p in gone)
    for p in gone:
        p.unlink()
    seen = []
    again = run_sweep(sweep, out, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(8 - lost + 2, 8), (8, 8)]  # two batches of two runs replayed, from 4 done
    pd.testing.assert_frame_equal(again, first)


def test_a_resumed_sweep_shows_its_count_from_where_it_was(trace, tmp_path, shown, capsys):
    sweep = Sweep(traces=[trace], seeds=[0], batch_size=2, axes=Grid({"target-burst-capacity": [0, -1, 10, 100]}))
    out = tmp_path / "sweep"
    run_sweep(sweep, out, progress=False)
    next(iter((out / "batches").glob("*.csv"))).unlink()
    run_sweep(sweep, out)
    got = lines(capsys.readouterr().err)
    assert got == [got[0]] and got[0].startswith("autoscale: sweep 4/4 runs (100 %), ")


# -- the command line -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trace_file(tmp_path_factory):
    rng = np.random.default_rng(4)
    a = np.sort(rng.uniform(0, 120, 600))
    path = tmp_path_factory.mktemp("progress") / "requests.csv"
    Trace(arrivals=a, durations=np.full(a.size, 0.3), name="t").to_csv(path)
    return path


@pytest.mark.parametrize("command, counted", [
    (["run", "--set", "target-burst-capacity=0,-1,50"], "replay"),
    (["compare", "--policies", "kpa,hpa", "--set", "target-burst-capacity=0,-1"], "compare"),
], ids=["run", "compare"])
@pytest.mark.parametrize("off", ["--quiet", "--no-progress"])
def test_progress_goes_to_stderr_and_leaves_stdout_unchanged(trace_file, shown, capsys, command, counted, off):
    argv = [command[0], "--trace", str(trace_file), *command[1:]]
    assert main([*argv, off]) == 0
    quiet = capsys.readouterr()
    assert lines(quiet.err) == []
    assert main(argv) == 0
    loud = capsys.readouterr()
    assert loud.out == quiet.out
    got = lines(loud.err)
    assert got and all(line.startswith(f"autoscale: {counted} ") for line in got)
    assert "(100 %)" in got[-1]
