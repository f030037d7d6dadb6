"""Sweeps: axes expansion, the table, equality with replay, resume, refusing another sweep, extend, Dask."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pandas.testing import assert_frame_equal

import autoscale.sweep as sweep_module
from autoscale import ConfigError, KPAConfig, Platform, replay
from autoscale.platform import ColdStart
from autoscale.sweep import Grid, Points, Sample, Sweep, Uniform, canonical_key, run_sweep
from autoscale.trace import Trace, synthetic

OUTPUTS_FROM = "requests"


@pytest.fixture(scope="module")
def trace():
    return synthetic.poisson(rate=2, duration=120, service=synthetic.constant(0.2), seed=1)


@pytest.fixture(scope="module")
def two_functions():
    rng = np.random.default_rng(3)
    a = np.sort(rng.uniform(0, 120, 400))
    f = (rng.uniform(size=a.size) < 0.3).astype(np.int32)
    return Trace(arrivals=a, durations=np.full(a.size, 0.25), function=f, function_names=("alpha", "beta"),
                 name="pair")


@pytest.fixture
def count_replays(monkeypatch):
    """Count the replay calls the sweep makes (one per batch)."""
    calls = []

    def counting(trace, configs, **kw):
        calls.append(len(configs))
        return replay(trace, configs, **kw)

    monkeypatch.setattr(sweep_module, "replay", counting)
    return calls


GRID = Grid({"target-burst-capacity": [0, -1], "container-concurrency": [1, 5], "stable-window": ["30s", "60s"]})


def small(trace, **kw):
    base = {"traces": [trace], "axes": GRID, "seeds": [0, 1], "batch_size": 3}
    return Sweep(**{**base, **kw})


# -- axes -------------------------------------------------------------------------------------


def test_grid_is_the_cross_product_with_the_last_key_fastest():
    points = GRID.expand()
    assert len(points) == 8
    assert points[:3] == [
        {"target-burst-capacity": 0, "container-concurrency": 1, "stable-window": "30s"},
        {"target-burst-capacity": 0, "container-concurrency": 1, "stable-window": "60s"},
        {"target-burst-capacity": 0, "container-concurrency": 5, "stable-window": "30s"},
    ]


def test_sample_is_seeded_per_key_and_a_larger_n_keeps_the_first_draws():
    space = {"target": Uniform(1, 100, log=True), "container-concurrency": Uniform(1, 10, integer=True),
             "target-burst-capacity": [0, -1, 211]}
    a = Sample(space, n=20, seed=4).expand()
    assert a == Sample(space, n=20, seed=4).expand()
    assert a[:5] == Sample(space, n=5, seed=4).expand()
    assert a != Sample(space, n=20, seed=5).expand()
    # adding a key leaves the draws of the others unchanged
    more = Sample({**space, "stable-window": Uniform(6, 600, integer=True)}, n=20, seed=4).expand()
    assert [{k: p[k] for k in space} for p in more] == a
    assert all(1 <= p["target"] <= 100 and isinstance(p["target"], float) for p in a)
    assert all(p["container-concurrency"] in range(1, 11) and isinstance(p["container-concurrency"], int) for p in a)
    assert {p["target-burst-capacity"] for p in a} == {0, -1, 211}


def test_axes_are_crossed_and_points_may_leave_keys_out(trace):
    s = Sweep(traces=[trace], axes=[Grid({"target-burst-capacity": [0, -1]}),
                                    Points([{"stable-window": "30s"}, {"container-concurrency": 5}])])
    assert s.keys == ["target-burst-capacity", "stable-window", "container-concurrency"]
    configs = s.configurations()
    assert len(configs) == 4
    assert [(c.target_burst_capacity, c.stable_window, c.container_concurrency) for c in configs] == [
        (0, 30, 0), (0, 60, 5), (-1, 30, 0), (-1, 60, 5)]


def test_keys_are_named_the_knative_way_and_swept_once(trace):
    assert canonical_key("window") == "stable-window"
    assert canonical_key("autoscaling.knative.dev/target-burst-capacity") == "target-burst-capacity"
    with pytest.raises(ConfigError, match="stable-window is set twice"):
        Sweep(traces=[trace], axes=[Grid({"stable-window": ["30s"]}), Grid({"window": ["60s"]})])
    with pytest.raises(ConfigError, match="target-burst-capacity is set twice"):
        Sweep(traces=[trace], axes=Grid({"target-burst-capacity": [0]}), overrides={"target-burst-capacity": 1})


@pytest.mark.parametrize(
    "kw, message",
    [
        (lambda: {"axes": Grid({"stable-window": ["3s"]})}, "stable-window = 3s, must be in [6s, 1h]"),
        (lambda: {"axes": Grid({"no-such-key": [1]})}, "no-such-key"),
        (lambda: {"axes": Sample({"target-burst-capacity": [0]}, n=0)}, "sample n = 0"),
        (lambda: {"axes": Grid({"cold-start": ["fast"]})}, "cold-start = fast"),
        (lambda: {"policies": ["no-such-policy"]}, "no-such-policy"),
        (lambda: {"seeds": [1, 1]}, "each once"),
        (lambda: {"batch_size": 0}, "batch_size = 0"),
    ],
    ids=["out-of-range", "unknown-key", "empty-sample", "bad-platform-value", "unknown-policy", "repeated-seed",
         "batch-size"],
)
def test_bad_sweeps_raise_config_errors_naming_the_value(trace, kw, message):
    with pytest.raises(ConfigError) as info:
        Sweep(traces=[trace], **kw())
    assert message in str(info.value)


# -- the table --------------------------------------------------------------------------------


def test_table_has_one_row_per_run_and_tidy_columns(trace, count_replays):
    table = run_sweep(small(trace), progress=False)
    assert len(table) == 2 * 8
    keys = ["target-burst-capacity", "container-concurrency", "stable-window"]
    assert list(table.columns[:6]) == ["trace", "seed", "policy", *keys]
    summary = replay(trace, [KPAConfig()]).summary
    outputs = list(summary.columns[summary.columns.get_loc(OUTPUTS_FROM):])
    assert list(table.columns[6:]) == outputs
    assert (table["trace"] == trace.name).all() and (table["policy"] == "kpa").all()
    assert list(table["seed"]) == [0] * 8 + [1] * 8
    assert list(table["stable-window"][:2]) == [30.0, 60.0]
    assert (table["requests"] == len(trace)).all()
    assert count_replays == [3, 3, 2, 3, 3, 2]  # 8 configurations in batches of 3, per seed
    assert table.attrs["sweep"] == {"runs": 16, "batches": 6, "replayed_batches": 6, "replayed_runs": 16}


def test_a_row_equals_replaying_its_configuration_alone(trace):
    s = small(trace, axes=[GRID, Grid({"cold-start": ["1s", "3s"]})], seeds=[7], duration=100)
    table = run_sweep(s, progress=False)
    row = table[(table["target-burst-capacity"] == -1) & (table["container-concurrency"] == 5)
                & (table["stable-window"] == 30) & (table["cold-start"] == 3)]
    assert len(row) == 1
    alone = replay(trace, [KPAConfig(target_burst_capacity=-1, container_concurrency=5, stable_window=30)],
                   platform=Platform(cold_start=ColdStart.constant(3.0)), seed=7, duration=100).summary
    expected = alone.iloc[:, alone.columns.get_loc(OUTPUTS_FROM):]
    got = row.iloc[:, row.columns.get_loc(OUTPUTS_FROM):].reset_index(drop=True)
    assert_frame_equal(got, expected)


def test_functions_of_a_trace_run_each_as_its_own_trace(two_functions):
    s = Sweep(traces=[two_functions], axes=Grid({"target-burst-capacity": [0, -1]}), functions=2)
    table = run_sweep(s, progress=False)
    assert list(table.columns[:4]) == ["trace", "function", "seed", "policy"]
    assert list(table["function"]) == ["alpha", "alpha", "beta", "beta"]
    for name in ("alpha", "beta"):
        alone = two_functions.select(function=name)
        assert (table.loc[table["function"] == name, "requests"] == len(alone)).all()
    named = run_sweep(Sweep(traces=[two_functions], axes=s.axes, functions=("beta",)), progress=False)
    assert_frame_equal(named, table[table["function"] == "beta"].reset_index(drop=True))


def test_a_repeated_point_is_replayed_once_and_listed_twice(trace, count_replays):
    s = Sweep(traces=[trace], axes=Points([{"target-burst-capacity": 0}, {"target-burst-capacity": -1},
                                           {"target-burst-capacity": "0"}]))
    table = run_sweep(s, progress=False)
    assert count_replays == [2]
    assert len(table) == 3
    assert_frame_equal(table.iloc[[0]].reset_index(drop=True), table.iloc[[2]].reset_index(drop=True))


def test_policies_are_a_dimension_with_their_parameters(trace, count_replays):
    policies = pytest.importorskip("autoscale.policies")
    s = Sweep(traces=[trace], axes=Grid({"container-concurrency": [1, 2]}),
              policies=["kpa", ("keepalive", {"keep_alive": 30}), ("keepalive", {"keep_alive": 5})])
    table = run_sweep(s, progress=False)
    assert count_replays == [2, 2, 2]  # a batch holds one policy
    assert list(table.columns[:5]) == ["trace", "seed", "policy", "policy.keep_alive", "container-concurrency"]
    assert list(table["policy"]) == ["kpa", "kpa", "keepalive", "keepalive", "keepalive", "keepalive"]
    assert table["policy.keep_alive"].isna().sum() == 2
    alone = replay(trace, [KPAConfig(container_concurrency=2)], policy=policies.get("keepalive", keep_alive=5))
    got = table.iloc[[5], table.columns.get_loc(OUTPUTS_FROM):].reset_index(drop=True)
    assert_frame_equal(got, alone.summary.iloc[:, alone.summary.columns.get_loc(OUTPUTS_FROM):])


def test_progress_off_a_terminal_is_plain_lines_and_nothing_for_short_work(trace, capsys, monkeypatch):
    import itertools

    from autoscale import progress

    s = small(trace, seeds=[0])
    monkeypatch.delenv(progress.ENV)
    monkeypatch.setattr(progress, "_clock", itertools.count(0, 20).__next__)  # 20 s a reading
    run_sweep(s)  # standard error is not a terminal under pytest
    lines = [line for line in capsys.readouterr().err.splitlines() if "compiling" not in line]
    assert lines[0] == "autoscale: sweep 3/8 runs (38 %), 20s elapsed, about 33s left"
    assert lines[-1] == "autoscale: sweep 8/8 runs (100 %), 1m00s elapsed"
    monkeypatch.setattr(progress, "_clock", lambda: 0.0)  # work that takes no time at all
    run_sweep(s, progress=True)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(progress, "_clock", itertools.count(0, 20).__next__)
    run_sweep(s, progress=False)
    assert capsys.readouterr().err == ""
    seen = []
    run_sweep(s, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(3, 8), (6, 8), (8, 8)]


# -- the output folder: resume, refuse, extend ---------------------------------------------


def test_an_interrupted_sweep_resumes_without_recomputing_finished_batches(trace, tmp_path, count_replays):
    s = small(trace)
    whole = run_sweep(s, progress=False)
    count_replays.clear()

    def stop_after_two(done, total):
        if len(count_replays) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(s, tmp_path, progress=stop_after_two)
    assert len(list((tmp_path / "batches").glob("*.csv"))) == 2
    assert not (tmp_path / "results.csv").exists()
    count_replays.clear()
    resumed = run_sweep(s, tmp_path, progress=False)
    assert count_replays == [2, 3, 3, 2]  # the four unfinished batches only
    assert resumed.attrs["sweep"]["replayed_batches"] == 4
    assert_frame_equal(resumed, whole)
    assert (tmp_path / "results.csv").read_text() == whole.to_csv(index=False)


def test_a_lost_batch_file_is_replayed_alone_and_temporary_files_are_ignored(trace, tmp_path, count_replays):
    s = small(trace)
    first = run_sweep(s, tmp_path, progress=False)
    files = sorted((tmp_path / "batches").glob("*.csv"))
    files[0].unlink()
    (tmp_path / "batches" / f".{files[1].name}.999.tmp").write_text("cell,requests\nhalf-writ")  # a killed writer
    count_replays.clear()
    again = run_sweep(s, tmp_path, progress=False)
    assert len(count_replays) == 1
    assert_frame_equal(again, first)
    assert not list((tmp_path / "batches").glob(".*.tmp"))


def test_a_different_sweep_in_the_folder_is_refused_naming_what_differs(trace, tmp_path):
    run_sweep(small(trace, seeds=[0]), tmp_path, progress=False)
    other = small(trace, seeds=[0], axes=Grid({"target-burst-capacity": [0, -1, 211]}))
    with pytest.raises(ConfigError) as info:
        run_sweep(other, tmp_path, progress=False)
    message = str(info.value)
    assert "holds a different sweep" in message and "axes[0].grid" in message and "--extend" in message
    manifest = json.loads((tmp_path / "sweep.json").read_text())
    assert manifest["digest"] == small(trace, seeds=[0]).digest  # untouched


def test_extend_keeps_the_finished_runs_the_new_sweep_contains(trace, tmp_path, count_replays):
    run_sweep(small(trace, seeds=[0]), tmp_path, progress=False)
    bigger = small(trace, seeds=[0, 1], batch_size=4,
                   axes=Grid({"target-burst-capacity": [0, -1, 211], "container-concurrency": [1, 5],
                              "stable-window": ["30s", "60s"]}))
    count_replays.clear()
    table = run_sweep(bigger, tmp_path, progress=False, extend=True)
    # seed 0 reuses its 8 finished runs and replays the 4 new ones; seed 1 runs all 12
    assert sum(count_replays) == 4 + 12
    assert_frame_equal(table, run_sweep(bigger, progress=False))
    count_replays.clear()
    assert_frame_equal(run_sweep(bigger, tmp_path, progress=False), table)  # the folder now holds it
    assert count_replays == []


# -- Dask -------------------------------------------------------------------------------------


def test_dask_local_cluster_gives_exactly_the_local_table(trace, tmp_path):
    """Two single-threaded Dask workers (threads of this process: processes=False, to keep the test fast)."""
    distributed = pytest.importorskip("distributed")
    s = small(trace, axes=[GRID, Grid({"cold-start": ["1s", "2s"]})], batch_size=5)
    local = run_sweep(s, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        on_dask = run_sweep(s, tmp_path, progress=False, scheduler=cluster)
        assert_frame_equal(on_dask, local)
        assert on_dask.attrs["sweep"]["replayed_batches"] == 8
        again = run_sweep(s, tmp_path, progress=False, scheduler=cluster)  # resumes: nothing to do
        assert again.attrs["sweep"]["replayed_batches"] == 0
        assert_frame_equal(again, local)


def test_a_sweep_in_memory_gives_the_table_a_sweep_into_a_folder_gives(trace, tmp_path):
    # In memory, a batch's outputs are kept as replayed; into a folder, they go through the CSV the
    # folder keeps. Both tables are the same, value for value and type for type.
    from autoscale.loadgen import parse, workload
    from autoscale.trace import durations as d

    clients = workload(parse("hey -c 3 -q 2 -z 20s http://x", service=d.exponential(0.1)))
    sweeps = {
        "grid": small(trace),
        "policies": small(trace, axes=Grid({"container-concurrency": [1, 5]}),
                          policies=("kpa", ("keepalive", {"keep_alive": 10.0}), "hpa")),
        "clients beside a trace": Sweep(traces=[clients, trace], axes=Grid({"container-concurrency": [1, 5]}),
                                        seeds=[0, 1], batch_size=1),
    }
    for name, sweep in sweeps.items():
        kept = run_sweep(sweep, progress=False)
        written = run_sweep(sweep, tmp_path / name.replace(" ", "-"), progress=False)
        assert_frame_equal(kept, written, check_exact=True, obj=name)
        assert list(kept.dtypes) == list(written.dtypes), name
