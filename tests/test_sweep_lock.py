"""The sweep folder's lock: one sweep at a time, stale locks taken over, foreign folders refused."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys

import pytest

from autoscale.cli import main
from autoscale.errors import AutoscaleError, ConfigError, FolderInUseError
from autoscale.sweep import LOCK, Grid, Sweep, run_sweep
from autoscale.trace import synthetic

SINCE = "2026-12-02T09:00:00+00:00"


@pytest.fixture(scope="module")
def trace():
    return synthetic.poisson(rate=2, duration=60, service=synthetic.constant(0.2), seed=1)


@pytest.fixture(scope="module")
def trace_file(trace, tmp_path_factory):
    return trace.to_csv(tmp_path_factory.mktemp("lock") / "requests.csv")


@pytest.fixture
def live_pid():
    """The pid of a process that runs for the whole test."""
    proc = subprocess.Popen(["sleep", "300"])
    yield proc.pid
    proc.kill()
    proc.wait()


@pytest.fixture
def dead_pid():
    """The pid of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def small(trace):
    return Sweep(traces=[trace], axes=Grid({"target-burst-capacity": [0, -1]}), seeds=[0], batch_size=1)


def write_lock(folder, pid, host=None):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LOCK).write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(), "since": SINCE}))


def cli_args(trace_file, out):
    return ["sweep", "--trace", str(trace_file), "--grid", "target-burst-capacity=0,-1", "--out", str(out),
            "--quiet"]


def test_a_folder_locked_by_a_running_sweep_is_refused_at_once_and_left_locked(trace, tmp_path, live_pid):
    write_lock(tmp_path, live_pid)
    before = (tmp_path / LOCK).read_text()
    with pytest.raises(FolderInUseError) as info:
        run_sweep(small(trace), tmp_path, progress=False)
    host = socket.gethostname()
    assert str(info.value).startswith(f"folder {tmp_path} in use by pid {live_pid} on {host} since {SINCE}")
    assert (info.value.pid, info.value.host, info.value.since) == (live_pid, host, SINCE)
    assert isinstance(info.value, AutoscaleError)
    assert (tmp_path / LOCK).read_text() == before  # the holder keeps its lock
    assert not (tmp_path / "sweep.json").exists() and not (tmp_path / "batches").exists()


def test_a_lock_held_on_another_host_is_not_judged_by_local_pids(trace, tmp_path, dead_pid):
    write_lock(tmp_path, dead_pid, host="another-host.example")
    with pytest.raises(FolderInUseError, match=f"in use by pid {dead_pid} on another-host.example since"):
        run_sweep(small(trace), tmp_path, progress=False)


def test_an_unreadable_lock_is_refused_naming_the_file(trace, tmp_path):
    (tmp_path / LOCK).write_text("")  # a sweep between creating and writing it
    with pytest.raises(FolderInUseError, match="names no process") as info:
        run_sweep(small(trace), tmp_path, progress=False)
    assert str(tmp_path / LOCK) in str(info.value) and info.value.pid is None


def test_the_lock_of_a_killed_sweep_is_taken_over_with_a_warning(trace, tmp_path, dead_pid, caplog):
    run_sweep(small(trace), tmp_path, progress=False)
    write_lock(tmp_path, dead_pid)  # as left by kill -9
    with caplog.at_level(logging.WARNING, logger="autoscale.sweep"):
        table = run_sweep(small(trace), tmp_path, progress=False)
    assert table.attrs["sweep"]["replayed_runs"] == 0  # the finished runs are kept
    assert f"taking over the lock of pid {dead_pid} on {socket.gethostname()} since {SINCE}" in caplog.text
    assert not (tmp_path / LOCK).exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_the_lock_is_removed_after_a_sweep_finishes_and_after_one_fails(trace, tmp_path):
    seen = []
    run_sweep(small(trace), tmp_path / "ok", progress=lambda done, total: seen.append((tmp_path / "ok" / LOCK)
                                                                                    .exists()))
    assert seen == [True, True] and not (tmp_path / "ok" / LOCK).exists()

    def fail(done, total):
        holder = json.loads((tmp_path / "failed" / LOCK).read_text())
        assert holder["pid"] > 0 and holder["host"] == socket.gethostname() and holder["since"]
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        run_sweep(small(trace), tmp_path / "failed", progress=fail)
    assert not (tmp_path / "failed" / LOCK).exists()
    assert run_sweep(small(trace), tmp_path / "failed", progress=False).attrs["sweep"]["replayed_runs"] == 1


def test_a_folder_holding_other_files_is_refused_and_left_untouched(trace, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ConfigError) as info:
        run_sweep(small(trace), tmp_path, progress=False)
    assert str(info.value) == (f"{tmp_path} holds files but is not a sweep folder (no sweep.json; found data.csv, "
                               "notes.txt); give a new or empty folder, or the folder of a sweep to resume")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "notes.txt"]


def test_an_empty_or_new_folder_and_a_sweep_folder_with_extra_files_are_accepted(trace, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".DS_Store").write_text("")
    run_sweep(small(trace), tmp_path / "empty", progress=False)
    run_sweep(small(trace), tmp_path / "new" / "deeper", progress=False)
    (tmp_path / "new" / "deeper" / "notes.txt").write_text("what this sweep is for")
    again = run_sweep(small(trace), tmp_path / "new" / "deeper", progress=False)
    assert again.attrs["sweep"]["replayed_runs"] == 0


def test_cli_refuses_a_folder_in_use_without_a_traceback(trace_file, tmp_path, live_pid, capsys):
    out = tmp_path / "out"
    write_lock(out, live_pid)
    assert main(cli_args(trace_file, out)) == 2
    err = capsys.readouterr().err
    assert f"autoscale: error: folder {out} in use by pid {live_pid} on {socket.gethostname()} since {SINCE}" \
        in err
    assert "Traceback" not in err


def test_cli_refuses_a_foreign_folder_and_takes_over_a_stale_lock(trace_file, tmp_path, dead_pid, capsys):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "results.txt").write_text("not ours")
    assert main(cli_args(trace_file, foreign)) == 2
    err = capsys.readouterr().err
    assert "holds files but is not a sweep folder (no sweep.json; found results.txt)" in err
    assert "Traceback" not in err

    out = tmp_path / "out"
    write_lock(out, dead_pid)
    assert main(cli_args(trace_file, out)) == 0
    err = capsys.readouterr().err
    assert f"autoscale: warning: {out / LOCK}: taking over the lock of pid {dead_pid}" in err
    assert not (out / LOCK).exists() and (out / "results.csv").exists()


def test_two_sweeps_started_together_one_runs_and_the_other_is_refused(trace_file, tmp_path):
    out = tmp_path / "out"
    args = [sys.executable, "-m", "autoscale", *cli_args(trace_file, out)]
    procs = [subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = sorted((p.wait(timeout=600), p.stderr.read()) for p in procs)
    for p in procs:
        p.stderr.close()
    # Both may succeed only one after the other (the second then resumes a finished sweep).
    if results[1][0] == 2:
        assert results[0][0] == 0 and "in use by pid" in results[1][1] and "Traceback" not in results[1][1]
    else:
        assert [rc for rc, _ in results] == [0, 0]
    assert not (out / LOCK).exists() and (out / "results.csv").exists()


def test_the_lock_appears_whole_so_a_sweep_starting_beside_it_never_reads_half_a_lock(tmp_path, monkeypatch):
    import os

    import autoscale.sweep as sweep_module

    linked = []
    real_link = os.link

    def link(src, dst):
        linked.append(json.loads(open(src, encoding="utf-8").read()))  # complete before it is the lock
        return real_link(src, dst)

    monkeypatch.setattr(sweep_module.os, "link", link)
    store = sweep_module._Store(tmp_path / "out")
    store.claim()
    try:
        assert linked == [json.loads((tmp_path / "out" / LOCK).read_text())]
        assert linked[0]["pid"] == os.getpid() and linked[0]["host"] == socket.gethostname()
        assert [p.name for p in (tmp_path / "out").iterdir()] == [LOCK]  # no file of the writer left
    finally:
        store.release()
