"""The gallery of Knative's reported problems: each reproduces its problem, its fix cures it, the docs agree."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from autoscale import ConfigError, KPAConfig, scenarios
from autoscale.cli import main

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def runs():
    """Every scenario, replayed once (seed 0) for all the tests of this module."""
    return {name: scenarios.run(name) for name in scenarios.names()}


@pytest.mark.parametrize("name", scenarios.names())
def test_every_claim_holds(runs, name):
    run = runs[name]
    assert run.claims, "a scenario without claims"
    for claim in run.claims:
        assert claim.holds, str(claim)
    assert run.passed


@pytest.mark.parametrize("name", scenarios.names())
def test_scenario_cites_issues_and_has_a_problem_and_a_fix(runs, name):
    sc = runs[name].scenario
    assert sc.issues and all(i.number > 0 and i.url.endswith(f"/issues/{i.number}") for i in sc.issues)
    roles = set(runs[name].rows["role"])
    assert {"problem", "fix"} <= roles
    assert sc.saw and sc.fix and runs[name].shows


@pytest.mark.parametrize("name", scenarios.names())
def test_timelines_have_one_row_a_second_for_every_variant(runs, name):
    run = runs[name]
    assert list(run.timelines) == [v.label for v in run.setup.variants]
    for tl in run.timelines.values():
        assert tl.index.tolist() == list(range(int(run.setup.duration)))
        assert (tl["pods"] == tl["ready"] + tl["starting"]).all()
        assert tl["arrivals"].sum() == np.count_nonzero(run.setup.trace.arrivals < run.setup.duration)


def test_tbc_200_flips_the_activator_with_each_request_and_211_or_minus_1_never(runs):
    rows = runs["activator-flapping"].rows.set_index("variant")
    assert rows.loc["TBC 200", "mode_switches"] >= rows.loc["TBC 200", "requests"]
    assert rows.loc["TBC 211", "mode_switches"] == 0 and rows.loc["TBC 211", "activator_fraction"] == 1.0
    assert rows.loc["TBC -1", "mode_switches"] == 0 and rows.loc["TBC -1", "activator_fraction"] == 1.0
    serve = ~runs["activator-flapping"].timelines["TBC 200"]["activator"]
    assert 0.3 < serve.mean() < 0.9  # Serve while idle, Proxy while a request is in the panic window


def test_periodic_job_scales_to_zero_between_runs_unless_held(runs):
    rows = runs["periodic-job-cold-starts"].rows.set_index("variant")
    assert rows.loc["defaults", "scale_to_zero"] >= 9 and rows.loc["defaults", "scale_from_zero"] >= 9
    assert rows.loc["defaults", "cold_start_delayed"] == rows.loc["defaults", "requests"]
    timelines = runs["periodic-job-cold-starts"].timelines
    for fix in ("scale-down-delay 2m", "stable-window 2m", "min-scale 1"):
        assert scenarios.scale_to_zero_events(timelines[fix].loc[:900]) == 0 and rows.loc[fix, "scale_from_zero"] == 0
        assert rows.loc[fix, "cold_start_delayed"] == 5  # the first run, waiting for the initial pod
        assert rows.loc[fix, "latency_p50_s"] < rows.loc["defaults", "latency_p50_s"] - 1.5
    # After the job stops at 900 s the delay and the longer window let the pod go; min-scale keeps it.
    assert [int(timelines[v]["pods"].iloc[-1]) for v in ("scale-down-delay 2m", "stable-window 2m", "min-scale 1")] \
        == [0, 0, 1]


def test_slow_starting_pods_panic_for_the_backlog_and_max_scale_caps_it(runs):
    run = runs["slow-start-panic"]
    rows = run.rows.set_index("variant")
    assert rows.loc["defaults", "peak_pods"] >= 100  # 8 pods carry 50 events/s of 1 s at 7 a pod
    assert rows.loc["max-scale 10", "peak_pods"] == 10
    assert rows.loc["panic threshold 1000%", "peak_pods"] >= 0.9 * rows.loc["defaults", "peak_pods"]
    tl = run.timelines["defaults"]
    first_ready = tl.index[tl["ready"] > 0][0]
    assert tl["panic_mode"].loc[:first_ready].any()
    assert tl["desired"].loc[first_ready] > 50


def test_panic_end_halves_the_pods_and_a_slow_scale_down_rate_smooths_it(runs):
    run = runs["panic-exit-drop"]
    rows = run.rows.set_index("variant")
    assert rows.loc["defaults", "largest_fall"] >= 0.45
    assert rows.loc["max-scale-down-rate 1.1", "largest_fall"] <= 0.15
    assert rows.loc["scale-down-delay 1m", "largest_fall"] >= 0.45
    tl = run.timelines["defaults"]
    (start, end), *_ = scenarios.panic_periods(tl)
    assert tl["ready"].loc[end] >= 2 * tl["ready"].loc[end + 12]


def test_cc1_uneven_traffic_is_underprovisioned_until_min_scale_or_a_low_target(runs):
    run = runs["cc1-uneven-traffic"]
    rows = run.rows.set_index("variant")
    steady = run.timelines["CC 1"]["ready"].iloc[300:]
    assert steady.max() <= 4
    assert rows.loc["CC 1", "latency_p99_s"] >= 0.03
    assert rows.loc["min-scale 11", "latency_p99_s"] <= 0.012
    assert rows.loc["target 0.1", "latency_p99_s"] <= 0.012
    assert run.timelines["target 0.1"]["ready"].iloc[300:].min() >= 11


def test_one_long_request_gets_two_pods_at_70_percent_and_one_at_100(runs):
    rows = runs["one-request-two-pods"].rows.set_index("variant")
    assert rows.loc["target 1", "peak_pods"] == 2
    assert rows.loc["target 1, utilisation 100%", "peak_pods"] == 1


def test_claims_fail_when_the_problem_is_not_there():
    """The claims read the run: give the flapping scenario today's default TBC and its first claim fails."""
    base = scenarios.get("activator-flapping")

    def build():
        setup = base.build()
        calm = dataclasses.replace(setup.variants[0], config=KPAConfig(min_scale=2, target_burst_capacity=211))
        return dataclasses.replace(setup, variants=(calm, *setup.variants[1:]))

    run = scenarios.run(dataclasses.replace(base, build=build))
    assert not run.passed
    assert [c.holds for c in run.claims] == [False, True, True]


def test_unknown_scenario_names_the_known_ones():
    with pytest.raises(ConfigError, match="no scenario 'nope'; the scenarios are activator-flapping"):
        scenarios.get("nope")


def test_overview_lists_every_scenario_with_its_issues():
    table = scenarios.overview()
    assert list(table["scenario"]) == list(scenarios.names())
    assert table.set_index("scenario").loc["panic-exit-drop", "issues"] == "#9121, #3153"


def test_save_writes_tables_figure_and_write_up(runs, tmp_path):
    run = runs["one-request-two-pods"]
    run.save(tmp_path)
    assert pd.read_csv(tmp_path / "summary.csv")["variant"].tolist() == run.rows["variant"].tolist()
    timeline = pd.read_csv(tmp_path / "timeline.csv")
    assert len(timeline) == 2 * int(run.setup.duration) and {"variant", "time_s", "pods"} <= set(timeline)
    assert pd.read_csv(tmp_path / "claims.csv")["holds"].all()
    assert (tmp_path / "figure.png").stat().st_size > 10_000
    assert "![one-request-two-pods](figure.png)" in (tmp_path / "scenario.md").read_text()


def test_docs_page_is_the_modules_write_up(runs):
    """docs/scenarios.md is generated by ``autoscale scenario --docs docs``; regenerate it when this fails."""
    page = scenarios.markdown([runs[n] for n in scenarios.names()])
    assert (DOCS / "scenarios.md").read_text() == page
    for name in scenarios.names():
        assert (DOCS / "figures" / f"scenario-{name}.png").is_file()


def test_readme_lists_every_scenario():
    readme = (ROOT / "README.md").read_text()
    for name, issues in scenarios.overview()[["scenario", "issues"]].itertuples(index=False):
        assert f"| `{name}` | {issues} |" in readme


def test_cli_list(capsys):
    assert main(["scenario", "--list"]) == 0
    out = capsys.readouterr().out
    for name in scenarios.names():
        assert name in out
    assert "#11926" in out


def test_cli_runs_a_scenario_with_plot_and_out(tmp_path, capsys):
    rc = main(["scenario", "one-request-two-pods", "--plot", str(tmp_path / "f.png"), "--out", str(tmp_path / "o")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "knative/serving#8682" in out and "[holds]" in out and "FAILS" not in out
    assert (tmp_path / "f.png").is_file() and (tmp_path / "o" / "summary.csv").is_file()


@pytest.mark.parametrize("argv, message", [
    (["scenario"], "takes one of NAME, --list or --docs, not nothing"),
    (["scenario", "nope"], "no scenario 'nope'"),
    (["scenario", "--list", "activator-flapping"], "not NAME and --list"),
    (["scenario", "--list", "--plot", "x.png"], "--plot and --out apply to one scenario"),
])
def test_cli_errors_exit_2_with_a_message(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
