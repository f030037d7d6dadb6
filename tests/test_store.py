"""Results on disk: runs and comparisons round-trip through a folder; sweeps and tables load; clean errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from autoscale import AutoscaleError, ConfigError, KPAConfig, __version__, compare, replay
from autoscale.results import hist_edges
from autoscale.store import KINDS, StoredResult, as_stored, load, save
from autoscale.sweep import Grid, Sweep, run_sweep
from autoscale.trace import synthetic


@pytest.fixture(scope="module")
def trace():
    return synthetic.poisson(rate=2, duration=120, service=synthetic.constant(0.2), seed=1)


@pytest.fixture(scope="module")
def run(trace):
    configs = [KPAConfig(container_concurrency=c, target_burst_capacity=t) for c in (1, 10) for t in (0, -1)]
    return replay(trace, configs, timeseries=True, seed=3)


def _same_series(a, b):
    assert a.step == b.step and np.array_equal(a.time, b.time)
    assert set(a.values) == set(b.values)
    for name in a.values:
        assert np.array_equal(a.values[name], b.values[name]), name


def test_a_run_round_trips_through_a_folder(run, tmp_path):
    path = save(run, tmp_path / "run")
    assert sorted(p.name for p in path.iterdir()) == ["histograms.npz", "manifest.json", "summary.csv",
                                                      "timeseries.csv"]
    stored = load(path)
    assert isinstance(stored, StoredResult) and stored.kind == "run" and stored.path == path
    pd.testing.assert_frame_equal(stored.summary, run.summary, check_dtype=False)
    assert stored.labels == ["kpa"]
    one = stored["kpa"]
    assert np.array_equal(one.latency_hist, run.latency_hist) and np.array_equal(one.wait_hist, run.wait_hist)
    assert np.array_equal(stored.edges, hist_edges())
    assert one.configs == list(run.configs)
    _same_series(one.timeseries, run.timeseries)
    assert one.trace_name == run.trace_name and one.provenance == run.provenance
    assert one.seed == 3 and one.duration == run.duration and one.platform == repr(run.platform)
    assert np.allclose(one.latency_quantile(0.99), run.latency_quantile(0.99), equal_nan=True)
    frame = stored.timeseries["kpa"]
    assert list(frame.columns[:2]) == ["config", "time_s"] and len(frame) == 4 * run.timeseries.time.size


def test_the_manifest_records_what_made_the_results(run, tmp_path):
    save(run, tmp_path / "run", command="autoscale run --trace t")
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["kind"] == "run" and manifest["autoscale_version"] == __version__
    assert manifest["command"] == "autoscale run --trace t"
    assert manifest["trace"] == {"name": run.trace_name, "provenance": run.provenance}
    assert manifest["seed"] == 3 and manifest["duration"] == run.duration
    assert manifest["platform"] == repr(run.platform)
    (entry,) = manifest["results"]
    assert entry["label"] == entry["policy"] == "kpa"
    assert entry["configs"] == [c.to_dict() for c in run.configs]
    assert entry["timeseries_step"] == run.timeseries.step


def test_a_comparison_round_trips_with_a_label_per_policy(trace, tmp_path):
    cmp = compare(trace, {"kpa": "kpa", "warm": "fixed", "ka": "keepalive"}, KPAConfig(container_concurrency=1),
                  timeseries=True)
    stored = load(save(cmp, tmp_path / "cmp"))
    assert stored.kind == "compare" and stored.labels == ["kpa", "warm", "ka"]
    pd.testing.assert_frame_equal(stored.summary, cmp.summary, check_dtype=False)
    assert [stored[label].policy for label in stored.labels] == ["kpa", "fixed", "keepalive"]
    assert stored["warm"].policy_params == cmp["warm"].policy_params
    for label in cmp.results:
        assert np.array_equal(stored[label].latency_hist, cmp[label].latency_hist)
        _same_series(stored[label].timeseries, cmp[label].timeseries)
        assert list(stored[label].summary["policy"]) == [label]


def test_a_mapping_of_results_saves_as_a_comparison(trace, tmp_path):
    a = replay(trace, [KPAConfig(target_burst_capacity=0), KPAConfig(target_burst_capacity=-1)])
    b = replay(trace, KPAConfig(container_concurrency=1), policy="keepalive")
    stored = load(save({"two kpa": a, "None": b}, tmp_path / "map"))
    assert stored.kind == "compare" and stored.labels == ["two kpa", "None"]
    assert list(stored.summary["policy"]) == ["two kpa", "two kpa", "None"]  # a label "None" stays text
    assert len(stored["two kpa"]) == 2 and len(stored["None"]) == 1
    assert stored["None"].timeseries is None and stored.timeseries == {}
    assert not (tmp_path / "map" / "timeseries.csv").exists()


def test_saving_again_replaces_the_files_and_drops_stale_time_series(run, trace, tmp_path):
    save(run, tmp_path / "out")
    plain = replay(trace, KPAConfig())
    save(plain, tmp_path / "out")
    stored = load(tmp_path / "out")
    assert len(stored.summary) == 1 and stored["kpa"].timeseries is None
    assert not (tmp_path / "out" / "timeseries.csv").exists()
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_asynchronous_histograms_are_kept(trace, tmp_path):
    from autoscale.invocation import Async

    result = replay(trace, KPAConfig(container_concurrency=1), invocation=Async())
    stored = load(save(result, tmp_path / "async"))
    hists = stored.histograms["kpa"]
    assert set(hists) == {"latency", "wait", "completion", "queue_delay"}
    assert np.array_equal(hists["completion"], result.invocation.completion_hist)
    pd.testing.assert_frame_equal(stored.summary, result.summary, check_dtype=False)


def test_in_memory_results_read_like_loaded_ones(run, tmp_path):
    loaded, memory = load(save(run, tmp_path / "run")), as_stored(run)
    assert memory.kind == "run" and memory.path is None
    pd.testing.assert_frame_equal(memory.summary, run.summary)
    assert memory.manifest["results"] == loaded.manifest["results"]
    _same_series(memory["kpa"].timeseries, loaded["kpa"].timeseries)
    assert as_stored(loaded) is loaded
    table = as_stored(run.summary)
    assert table.kind == "table" and table.labels == []


def test_a_sweep_folder_loads_its_manifest_and_table(trace, tmp_path):
    sweep = Sweep(traces=[trace], seeds=[0, 1], axes=Grid({"target-burst-capacity": [0, -1]}))
    table = run_sweep(sweep, tmp_path / "sweep", progress=False)
    for path in (tmp_path / "sweep", tmp_path / "sweep" / "results.csv"):
        stored = load(path)
        assert stored.kind == "sweep" and stored.path == tmp_path / "sweep"
        assert stored.manifest["sweep"]["seeds"] == [0, 1]
        pd.testing.assert_frame_equal(stored.summary, table, check_dtype=False)
        assert stored.trace_name == trace.name and stored.histograms == {} and stored.labels == []


def test_an_unfinished_sweep_says_how_to_finish_it(tmp_path):
    (tmp_path / "sweep.json").write_text(json.dumps({"format": 1, "sweep": {}}))
    with pytest.raises(AutoscaleError, match="no results.csv yet; run the same sweep again"):
        load(tmp_path)


def test_a_bare_summary_csv_loads_as_a_table(run, tmp_path):
    run.summary.to_csv(tmp_path / "summary.csv", index=False)
    stored = load(tmp_path / "summary.csv")
    assert stored.kind == "table" and stored.manifest == {}
    pd.testing.assert_frame_equal(stored.summary, run.summary, check_dtype=False)
    assert set(KINDS) == {"run", "compare", "sweep", "table"}


@pytest.mark.parametrize("make, error, message", [
    (lambda p: p / "missing", FileNotFoundError, "no such results folder or file"),
    (lambda p: p, AutoscaleError, "not a results folder"),
    (lambda p: (p / "notes.txt").write_text("hello") and p / "notes.txt", AutoscaleError, "not a results folder"),
    (lambda p: (p / "empty.csv").write_text("a,b\n") and p / "empty.csv", AutoscaleError, "has no rows"),
    (lambda p: (p / "manifest.json").write_text("{not json") and p, AutoscaleError, "not valid JSON"),
    (lambda p: (p / "manifest.json").write_text('{"kind": "other"}') and p, AutoscaleError, "kind 'other'"),
    (lambda p: (p / "manifest.json").write_text('{"kind": "run"}') and p, AutoscaleError, "summary.csv is missing"),
], ids=["missing", "empty-folder", "text-file", "empty-csv", "bad-json", "unknown-kind", "incomplete"])
def test_load_refuses_what_is_not_results(tmp_path, make, error, message):
    with pytest.raises(error, match=message):
        load(make(tmp_path))


def test_save_refuses_other_objects_and_places(run, tmp_path):
    with pytest.raises(TypeError, match="expected a ReplayResult"):
        save(run.summary, tmp_path / "x")
    with pytest.raises(TypeError, match="'a' is a str"):
        save({"a": "kpa"}, tmp_path / "x")
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="not a folder"):
        save(run, tmp_path / "file")
    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep" / "sweep.json").write_text("{}")
    with pytest.raises(ConfigError, match="holds a sweep"):
        save(run, tmp_path / "sweep")
