"""The outputs' registry: one definition per column, read by the summary, the cluster row, the CLI, the plots."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from autoscale import ConfigError, KPAConfig, compare, outputs, replay
from autoscale._cli.table import format_table
from autoscale.cli import main
from autoscale.invocation import Async
from autoscale.outputs import COUNT, COUNTERS, MAX, MEAN, Output
from autoscale.results import hist_quantile
from autoscale.services import replay_services
from autoscale.sweep import Grid, Sweep, run_sweep
from autoscale.trace import Trace, synthetic

#: The summary's output columns, in the order tests/test_golden.py and every saved table rely on.
SUMMARY_ORDER = (
    "requests", "completed", "status_503", "status_504", "in_flight", "latency_p50_s", "latency_p90_s",
    "latency_p99_s", "latency_p999_s", "latency_max_s", "wait_p50_s", "wait_p90_s", "wait_p99_s", "wait_p999_s",
    "wait_max_s", "cold_start_delayed", "pod_seconds", "mean_pods", "peak_pods", "idle_pod_seconds", "utilisation",
    "scale_events", "pods_created", "scale_from_zero", "panic_fraction", "activator_fraction", "activator_rejected",
    "async_requests", "async_completed", "dead_lettered", "async_pending", "async_waiting", "retries",
    "completion_p50_s", "completion_p99_s", "completion_max_s", "queue_delay_p50_s", "queue_delay_p99_s",
    "queue_delay_max_s",
)
#: The columns each view showed when they were named by hand; the printed tables must not change.
VIEWS_BEFORE = {
    "run": ("requests", "completed", "status_503", "status_504", "latency_p50_s", "latency_p99_s", "wait_p99_s",
            "cold_start_delayed", "pod_seconds", "mean_pods", "peak_pods", "idle_pod_seconds", "panic_fraction",
            "activator_fraction"),
    "run_async": ("async_completed", "dead_lettered", "async_pending", "retries", "completion_p50_s",
                  "completion_p99_s", "queue_delay_p99_s"),
    "compare": ("latency_p50_s", "latency_p99_s", "cold_start_delayed", "status_503", "status_504", "pod_seconds",
                "idle_pod_seconds", "mean_pods", "peak_pods"),
    "compare_async": ("async_completed", "dead_lettered", "retries", "completion_p50_s", "completion_p99_s"),
    "many": ("requests", "completed", "status_503", "status_504", "latency_p50_s", "latency_p99_s",
             "cold_start_delayed", "pod_seconds", "peak_pods", "activator_rejected"),
    "cluster": ("requests", "completed", "status_503", "status_504", "in_flight", "cold_start_delayed", "pod_seconds",
                "idle_pod_seconds", "pods_created", "scale_events", "scale_from_zero", "activator_rejected",
                "peak_pods", "mean_pods"),
    "scenario": ("requests", "latency_p50_s", "latency_p99_s", "cold_start_delayed", "pod_seconds", "peak_pods",
                 "scale_to_zero", "mode_switches", "panic_seconds", "largest_fall"),
    "scenario_rows": ("requests", "completed", "status_503", "status_504", "latency_p50_s", "latency_p90_s",
                      "latency_p99_s", "cold_start_delayed", "pod_seconds", "idle_pod_seconds", "mean_pods",
                      "peak_pods", "scale_from_zero", "panic_fraction", "activator_fraction"),
    "chain": ("requests", "completed", "status_503", "status_504", "failed_downstream", "cold_start_delayed",
              "pod_seconds", "peak_pods"),
    "report": ("requests", "completed", "status_503", "status_504", "latency_p50_s", "latency_p99_s", "wait_p99_s",
               "cold_start_delayed", "pod_seconds", "mean_pods", "peak_pods", "idle_pod_seconds", "panic_fraction",
               "activator_fraction"),
}
CONFIGS = [KPAConfig(container_concurrency=2, target_burst_capacity=t) for t in (0, -1)]


@pytest.fixture(scope="module")
def trace():
    return synthetic.poisson(rate=3.0, duration=120.0, service=synthetic.exponential(0.4), seed=7)


@pytest.fixture(scope="module")
def cluster():
    parts = []
    for k, (rate, d) in enumerate([(4.0, 0.3), (1.0, 1.0), (0.3, 0.5)]):
        t = synthetic.poisson(rate=rate, duration=180.0, service=synthetic.exponential(d), seed=20 + k)
        parts.append(Trace(arrivals=t.arrivals, durations=t.durations, name=f"fn{k}"))
    return Trace.merge(parts, name="cluster")


@pytest.fixture(scope="module")
def tables(trace, cluster):
    """Every kind of table, by what made it."""
    run = replay(trace, CONFIGS, duration=150)
    many = replay_services(cluster, KPAConfig(container_concurrency=1), duration=200, activator_pool=3)
    cmp = compare(trace, ["kpa", "fixed"], CONFIGS[0], duration=150, invocations=("sync", "async"),
                  invocation=Async(retries=2))
    sweep = run_sweep(Sweep(traces=[trace], axes=Grid({"target-burst-capacity": [0, -1]}), seeds=[0, 1],
                            duration=150), progress=False)
    return {
        "replay": run.summary,
        "async": replay(trace, CONFIGS, duration=150, invocation=Async(retries=2)).summary,
        "many": many.summary,
        "cluster": many.cluster,
        "many_run": many,
        "compare": cmp.summary,
        "sweep": sweep,
    }


def _outputs_of(table: pd.DataFrame) -> list[str]:
    return list(table.columns[table.columns.get_loc("requests"):])


# -- one definition per column ---------------------------------------------------------------

def test_the_summary_columns_keep_their_order():
    assert outputs.columns("summary") == SUMMARY_ORDER


@pytest.mark.parametrize("kind", ["replay", "async", "many", "compare", "sweep"])
def test_every_output_column_of_a_table_has_one_definition_in_registry_order(tables, kind):
    produced = _outputs_of(tables[kind])
    assert produced, kind
    assert all(c in outputs.REGISTRY for c in produced), [c for c in produced if c not in outputs.REGISTRY]
    assert len(set(produced)) == len(produced)
    assert produced == [c for c in outputs.columns("summary") if c in produced]


def test_no_definition_is_never_produced(tables):
    produced = set().union(*(_outputs_of(tables[k]) for k in ("replay", "async", "many", "compare", "sweep")))
    assert produced == set(outputs.columns("summary"))
    assert set(_outputs_of(tables["replay"])) == set(SUMMARY_ORDER) - {
        "activator_rejected", "async_requests", "async_completed", "dead_lettered", "async_pending", "async_waiting",
        "retries", "completion_p50_s", "completion_p99_s", "completion_max_s", "queue_delay_p50_s",
        "queue_delay_p99_s", "queue_delay_max_s"}


def test_a_scenario_row_carries_its_outputs_and_those_of_its_timeline():
    from autoscale import scenarios

    rows = scenarios.run(scenarios.names()[0]).rows
    assert list(rows.columns[:3]) == ["variant", "role", "settings"]
    produced = list(rows.columns[3:])
    assert produced == [*outputs.shown("scenario_rows"), *outputs.columns("scenario")]
    for c in produced:
        if outputs.get(c).prints == COUNT:
            assert rows[c].dtype == np.int64, c
    assert set(outputs.shown("scenario")) <= set(rows.columns)


def test_the_views_show_what_they_showed_when_named_by_hand():
    assert set(VIEWS_BEFORE) == set(outputs.VIEWS)
    for view, columns in VIEWS_BEFORE.items():
        assert outputs.shown(view) == columns, view


@pytest.mark.parametrize("view, kind", [("run", "replay"), ("report", "replay"), ("scenario_rows", "replay"),
                                        ("run_async", "async"), ("compare", "compare"), ("compare_async", "compare"),
                                        ("many", "many"), ("cluster", "cluster")])
def test_each_view_shows_columns_of_its_table(tables, view, kind):
    missing = [c for c in outputs.shown(view) if c not in tables[kind]]
    assert not missing, (view, missing)


def test_the_counters_a_replay_hands_its_summary(trace, tables):
    from autoscale.reference import simulate

    assert set(replay(trace, CONFIGS[0], duration=60).counters) == set(COUNTERS)
    assert set(simulate(trace, CONFIGS[0], duration=60).result.counters) == set(COUNTERS)
    assert set(tables["many_run"].result.counters) == {*COUNTERS, *outputs.POOL_COUNTERS}


# -- across services -------------------------------------------------------------------------

def test_the_cluster_row_is_what_the_services_add_up_to(tables):
    run = tables["many_run"]
    s, result = run.summary, run.result
    # The cluster row as it was computed before the registry, column by column.
    row = {"scope": "cluster", "services": len(s)}
    for col in ("requests", "completed", "status_503", "status_504", "in_flight", "cold_start_delayed",
                "pod_seconds", "idle_pod_seconds", "pods_created", "scale_events", "scale_from_zero",
                "activator_rejected"):
        row[col] = s[col].sum()
    row["peak_pods"] = int(result.pods_total.max())
    row["mean_pods"] = row["pod_seconds"] / result.duration
    row["sum_of_service_peaks"] = int(s["peak_pods"].sum())
    assert s["activator_rejected"].sum() > 0  # the pool of 3 is tight: the column is not all zeros
    assert_frame_equal(run.cluster, pd.DataFrame([row]))


def test_combining_services_recomputes_percentiles_from_the_pooled_histograms(tables):
    run = tables["many_run"]
    s, result = run.summary, run.result
    combined = outputs.combine_services(result)
    # Utilisation: the services' executed request-seconds over their capacity-seconds, all together.
    cc = np.where(result.spec.container_concurrency > 0, result.spec.container_concurrency, result.spec.total)
    c = result.counters
    assert combined["utilisation"] == pytest.approx(c["busy_seconds"].sum() / (c["pod_seconds"] * cc).sum())
    for col in outputs.additive():
        if col in s:
            assert combined[col] == s[col].sum(), col
    assert combined["latency_max_s"] == s["latency_max_s"].max()
    assert combined["panic_fraction"] == pytest.approx(s["panic_fraction"].mean())
    assert combined["peak_pods"] == result.pods_total.max() <= s["peak_pods"].sum()
    for name, q in outputs.QUANTILES.items():
        pooled = hist_quantile(result.latency_hist.sum(axis=0), q)
        assert combined[f"latency_{name}_s"] == min(pooled, result.counters["latency_max"].max())
        waited = hist_quantile(result.wait_hist.sum(axis=0), q)
        assert combined[f"wait_{name}_s"] == min(waited, result.counters["wait_max"].max())


def test_the_cluster_percentiles_are_those_of_every_request_pooled(cluster):
    # Independent of the histograms: each service replayed alone (a batch equals its rows alone), every
    # request's latency and waiting time recorded, pooled, and their exact quantiles taken.
    config = KPAConfig(container_concurrency=1)
    many = replay_services(cluster, config, duration=200)
    combined = outputs.combine_services(many.result)
    names = np.asarray(cluster.function_names)[np.asarray(cluster.function)]
    latencies, waits = [], []
    for name in many.names:
        part = Trace(arrivals=cluster.arrivals[names == name], durations=cluster.durations[names == name], name=name)
        out = replay(part, config, duration=200, record=True).outcomes
        latencies.append(out.latency[0][~np.isnan(out.latency[0])])
        waits.append(out.wait[0][~np.isnan(out.wait[0])])
    for what, values in (("latency", np.sort(np.concatenate(latencies))), ("wait", np.sort(np.concatenate(waits)))):
        for name in ("p50", "p90", "p99"):
            exact = values[int(np.ceil(outputs.QUANTILES[name] * values.size)) - 1]
            if exact > 0:  # a histogram bin's middle is within 1.2 % of any value in the bin
                assert combined[f"{what}_{name}_s"] == pytest.approx(exact, rel=0.0125), (what, name)


def test_a_service_alone_is_its_own_cluster(trace):
    run = replay_services({"only": trace}, CONFIGS[0], duration=150)
    combined = outputs.combine_services(run.result)
    row = run.summary.iloc[0]
    for col in ("requests", "pod_seconds", "latency_p50_s", "latency_p99_s", "wait_p99_s", "latency_max_s",
                "mean_pods", "utilisation", "panic_fraction"):
        assert combined[col] == pytest.approx(row[col]), col


# -- across seeds: percentiles never average --------------------------------------------------

def test_percentiles_refuse_averaging():
    for o in outputs.OUTPUTS:
        if o.percentile:
            assert o.seeds == MAX and not outputs.averages(o.column), o.column
            assert outputs.cell_aggregate(o.column, shared=True) == "max"
        else:
            assert outputs.cell_aggregate(o.column, shared=True) == o.seeds
        assert outputs.cell_aggregate(o.column, shared=False) == "mean"
    assert outputs.averages("pod_seconds") and outputs.averages("target-burst-capacity")
    assert not outputs.averages("load.web.latency_p99_s")  # a pool's percentile in a sweep table
    assert not outputs.averages("my_latency_p95_s")  # named like one: taken as one
    with pytest.raises(ConfigError, match="percentiles do not average"):
        Output("latency_p42_s", "s", "p42 latency", "made up", services=outputs.HISTOGRAM, seeds=MEAN,
               prints=outputs.SECONDS, histogram=lambda r: None, quantile=0.42)


def test_a_heatmap_refuses_a_mean_of_p99s_and_reads_the_rule_from_the_registry(tables, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from autoscale import plotting

    sweep = tables["sweep"]  # two seeds share each cell
    with pytest.raises(ValueError, match="percentiles do not average"):
        plotting.heatmap(sweep.assign(one=1), x="target-burst-capacity", y="one", value="latency_p99_s", agg="mean")
    fig, _ = plotting.heatmap(sweep.assign(one=1), x="target-burst-capacity", y="one", value="latency_p99_s",
                              agg=outputs.cell_aggregate("latency_p99_s", shared=True))
    plt.close(fig)
    fig, _ = plotting.heatmap(sweep.assign(one=1), x="target-burst-capacity", y="one", value="pod_seconds")
    plt.close(fig)
    # Declared averaging, pod-seconds' rule now refuses too: the heatmap reads the registry when it runs.
    strict = dataclasses.replace(outputs.get("pod_seconds"), seeds=MAX)
    registry = outputs.Registry([strict if o.column == "pod_seconds" else o for o in outputs.OUTPUTS])
    monkeypatch.setattr(outputs, "REGISTRY", registry)
    with pytest.raises(ValueError, match="runs share a cell"):
        plotting.heatmap(sweep.assign(one=1), x="target-burst-capacity", y="one", value="pod_seconds", agg="mean")


# -- printing --------------------------------------------------------------------------------

def test_counts_print_as_integers_and_outputs_with_their_digits(monkeypatch):
    frame = pd.DataFrame({"requests": [11484.0, 75210000.0], "peak_pods": pd.array([3, None], dtype="Int64"),
                          "pod_seconds": [8495.99, 30009.2], "latency_p99_s": [1.365, 13.96]})
    lines = format_table(frame).splitlines()
    assert lines[1].split() == ["11484", "3", "8496", "1.36"]
    assert lines[2].split() == ["75210000", "NaN", "30009", "13.96"]
    # Two significant digits for p99 latency: the registry is read when the table prints.
    short = dataclasses.replace(outputs.get("latency_p99_s"), digits=2)
    monkeypatch.setattr(outputs, "REGISTRY",
                        outputs.Registry([short if o.column == "latency_p99_s" else o for o in outputs.OUTPUTS]))
    assert [line.split()[-1] for line in format_table(frame).splitlines()[1:]] == ["1.4", "14.0"]
    # A configuration key beside them keeps the default rule.
    assert format_table(pd.DataFrame({"target": [0.7, 1.25]})).splitlines()[1].split() == ["0.700"]


@given(values=st.lists(st.floats(0.01, 1e6), min_size=1, max_size=6), digits=st.integers(2, 5))
def test_an_output_prints_its_digits_of_the_largest_value_and_two_of_the_smallest(values, digits):
    """Printed, the column's largest value keeps ``digits`` significant digits and its smallest two."""
    rule = dataclasses.replace(outputs.get("pod_seconds"), digits=digits)
    registry = outputs.Registry([rule if o.column == "pod_seconds" else o for o in outputs.OUTPUTS])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(outputs, "REGISTRY", registry)
        texts = [line.strip() for line in format_table(pd.DataFrame({"pod_seconds": values})).splitlines()[1:]]
    x = np.asarray(values)
    printed = np.asarray([float(t) for t in texts])
    if np.all(x == np.round(x)):
        assert texts == [str(int(v)) for v in x]
        return
    assert len({len(t.partition(".")[2]) for t in texts}) == 1  # one notation per column
    big, small = int(np.argmax(x)), int(np.argmin(x))
    assert abs(printed[big] - x[big]) <= 0.5 * 10.0 ** (1 - digits) * x[big] * (1 + 1e-9)
    assert abs(printed[small] - x[small]) <= 0.05 * x[small] * (1 + 1e-9)


def test_every_count_of_a_replay_is_whole(tables):
    for kind in ("replay", "async", "many"):
        table = tables[kind]
        for c in _outputs_of(table):
            if outputs.get(c).prints == COUNT:
                x = table[c].to_numpy(dtype=float)
                assert np.all(x == np.round(x)), (kind, c)


# -- the registry is read, not copied ---------------------------------------------------------

ANSWER = Output("answer", "requests", "the answer", "made up: 42 per configuration", prints=COUNT,
                views=(("run", 0), ("report", 0), ("cluster", 99), ("compare", 99)), value=lambda result: np.full(len(result), 42))


def test_a_made_up_output_appears_in_the_summary_the_views_the_cluster_and_the_cli(trace, tmp_path, capsys,
                                                                                   monkeypatch):
    monkeypatch.setattr(outputs, "REGISTRY", outputs.REGISTRY.with_outputs(ANSWER))
    assert outputs.shown("run")[-1] == "answer" and outputs.shown("compare")[-1] == "answer"
    assert "answer" in outputs.additive()
    summary = replay(trace, CONFIGS, duration=60).summary
    assert summary.columns[-1] == "answer" and (summary["answer"] == 42).all()
    cluster = replay_services({"a": trace, "b": trace}, CONFIGS[0], duration=60).cluster
    assert cluster["answer"].iloc[0] == 84
    from autoscale import plotting, report

    assert plotting.axis_label("answer") == "the answer (requests)"
    assert list(report._shown(summary).columns[-2:]) == ["activator_fraction", "answer"]
    path = tmp_path / "t.csv"
    trace.to_csv(path)
    assert main(["run", "--trace", str(path), "--duration", "60", "--set", "target-burst-capacity=0,-1"]) == 0
    header, first = capsys.readouterr().out.splitlines()[2:4]
    assert header.split()[-1] == "answer" and first.split()[-1] == "42"


def test_the_registry_refuses_bad_definitions():
    with pytest.raises(ConfigError, match="defined twice"):
        outputs.REGISTRY.with_outputs(dataclasses.replace(ANSWER, column="requests"))
    with pytest.raises(KeyError, match="no output 'nope'"):
        outputs.get("nope")
    with pytest.raises(KeyError, match="no view 'table'"):
        outputs.shown("table")
    with pytest.raises(TypeError, match="Output values"):
        outputs.Registry(["requests"])
    with pytest.raises(ConfigError, match="of = 'nothing'"):
        outputs.REGISTRY.with_outputs(dataclasses.replace(ANSWER, services=outputs.TOTAL_OVER_TIME, of="nothing"))
    with pytest.raises(ConfigError, match="outputs latency_p50_s and answer both have rank 1 in view compare"):
        outputs.REGISTRY.with_outputs(dataclasses.replace(ANSWER, views=(("compare", 1),)))


def test_a_chain_row_carries_the_chain_view_and_its_own_outputs():
    from autoscale import ColdStart, Platform
    from autoscale.chains import Call, Chain, Service, replay_chain

    entry = synthetic.poisson(rate=2.0, duration=20.0, service=synthetic.constant(0.1), seed=3)
    chain = Chain(services=[Service("a", KPAConfig(container_concurrency=1), platform=Platform(
        cold_start=ColdStart.constant(1.0))), Service("b", KPAConfig(container_concurrency=1), service_time=0.2)],
        calls=[Call("a", "b", at=0.5)], entry="a")
    summary = replay_chain(chain, entry).summary
    assert set(outputs.shown("chain")) <= set(summary.columns)
    assert set(outputs.columns("chain")) == {"failed_downstream"}
    assert summary["failed_downstream"].dtype == np.int64


def test_a_report_leaves_a_missing_count_empty(trace):
    from autoscale import report

    cmp = compare(trace, ["kpa"], CONFIGS[0], duration=60, invocations=("sync", "async"), invocation=Async())
    page = report.render(cmp)
    assert "&lt;NA&gt;" not in page and "<NA>" not in page
    assert "async_completed" in page


def test_a_key_missing_from_some_configurations_stays_whole_in_the_summary(trace):
    summary = replay(trace, [KPAConfig(), KPAConfig(target=50.0)], duration=30).summary
    assert str(summary["target"].dtype) == "Int64"
    assert summary["target"].tolist()[1] == 50 and summary["target"].isna().tolist() == [True, False]


@pytest.mark.parametrize("change, message", [
    ({"column": "Answer"}, "column = 'Answer'"),
    ({"services": "median"}, "services = 'median', must be one of sum, mean"),
    ({"seeds": "sum"}, "seeds = 'sum', must be one of mean, max"),
    ({"prints": "percent"}, "prints = 'percent'"),
    ({"digits": 0}, r"digits = 0, must be a whole number in \[1, 8\]"),
    ({"digits": 9}, r"digits = 9"),
    ({"views": (("terminal", 0),)}, "views entry"),
    ({"table": "load"}, "table = 'load'"),
    ({"value": None}, "an output of the summary has value="),
    ({"table": "scenario"}, "one of a scenario's rows neither"),
    ({"services": outputs.HISTOGRAM}, "needs histogram= and quantile="),
    ({"of": "requests"}, "is given exactly with services = 'total over time'"),
    ({"services": outputs.WEIGHTED_MEAN}, "weight= is given exactly with services = 'weighted mean'"),
], ids=["column", "services", "seeds", "prints", "digits-low", "digits-high", "view", "table", "no-value",
        "scenario-value", "histogram", "of", "weight"])
def test_a_bad_output_names_the_field_and_the_allowed_values(change, message):
    with pytest.raises(ConfigError, match=message):
        dataclasses.replace(ANSWER, **change)


def test_labels_carry_their_units():
    from autoscale import plotting

    for o in outputs.OUTPUTS:
        assert plotting.axis_label(o.column) == o.axis_label
        assert o.label and o.description and o.unit
    assert outputs.get("latency_p999_s").axis_label == "p99.9 latency (s)"
    assert outputs.get("mean_pods").axis_label == "mean pods"  # the label names its unit already
    assert outputs.get("status_503").axis_label == "503 responses (requests)"


def test_the_exported_names():
    assert set(outputs.__all__) == {
        "Output", "Registry", "OUTPUTS", "REGISTRY", "VIEWS", "COUNTERS", "POOL_COUNTERS", "QUANTILES",
        "get", "lookup", "shown", "additive", "columns", "averages", "cell_aggregate", "combine_services", "COUNT", "SECONDS", "FRACTION",
        "NUMBER", "SUM", "MEAN", "WEIGHTED_MEAN", "MAX", "HISTOGRAM", "PEAK_OF_TOTAL", "TOTAL_OVER_TIME", "NONE"}
    for name in outputs.__all__:
        assert hasattr(outputs, name)
