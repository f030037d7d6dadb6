"""``autoscale compare`` and ``autoscale run --policy``: one row per policy, parameters, outputs, clean errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from autoscale import KPAConfig, compare, replay
from autoscale.cli import main
from autoscale.policies import get
from autoscale.trace import Trace, load

ALL = "kpa,hpa,fixed,keepalive,hybrid,forecast,oracle"


@pytest.fixture(scope="module")
def trace_file(tmp_path_factory):
    rng = np.random.default_rng(5)
    a = np.sort(rng.uniform(0, 180, 500))
    path = tmp_path_factory.mktemp("compare") / "requests.csv"
    Trace(arrivals=a, durations=rng.exponential(0.4, a.size), name="t").to_csv(path)
    return path


def test_compare_prints_one_row_per_policy_and_matches_the_api(trace_file, tmp_path, capsys):
    out = tmp_path / "cmp.csv"
    rc = main(["compare", "--trace", str(trace_file), "--policies", ALL, "--set", "container-concurrency=2",
               "--param", "fixed.replicas=3", "--param", "keepalive.keep_alive=30", "--out", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    lines = [line.split()[0] for line in printed.splitlines()[3:]]  # the header, the durations, the columns
    assert lines == ALL.split(",")
    for column in ("latency_p50_s", "latency_p99_s", "cold_start_delayed", "status_503", "status_504",
                   "pod_seconds", "idle_pod_seconds"):
        assert column in printed
    table = pd.read_csv(out)
    assert list(table["policy"]) == ALL.split(",")
    assert (table["requests"] == 500).all()
    # The same numbers from Python.
    trace = load(str(trace_file))
    cfg = KPAConfig(container_concurrency=2)
    fixed = replay(trace, cfg, policy=get("fixed", replicas=3)).summary.iloc[0]
    row = table.set_index("policy").loc["fixed"]
    assert row["pod_seconds"] == pytest.approx(fixed["pod_seconds"])
    cmp = compare(trace, {"fixed": get("fixed", replicas=3), "keepalive": get("keepalive", keep_alive=30)}, cfg)
    assert cmp.summary.set_index("policy").loc["keepalive", "pods_created"] == \
        table.set_index("policy").loc["keepalive", "pods_created"]


def test_compare_plots_the_policies_side_by_side(trace_file, tmp_path):
    png = tmp_path / "cmp.png"
    assert main(["compare", "--trace", str(trace_file), "--policies", "kpa,keepalive", "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    trace = load(str(trace_file))
    fig, axes = compare(trace, ["kpa", "keepalive"], timeseries=True).plot()
    assert axes.shape == (2, 2)
    assert [ax.get_title() for ax in axes[0]] == ["kpa", "keepalive"]


def test_run_takes_a_policy(trace_file, capsys):
    assert main(["run", "--trace", str(trace_file), "--policy", "hpa", "--param", "hpa.metric=cpu"]) == 0
    assert "policy hpa(metric='cpu'" in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["--policies", "kpa,nope"], "unknown policy 'nope'"),
    (["--policies", "kpa,kpa"], "named twice"),
    (["--policies", "fixed", "--param", "fixed.replica=2"], "unknown parameter replica"),
    (["--policies", "fixed", "--param", "hpa.metric=cpu"], "policy 'hpa' is not among --policies"),
    (["--policies", "fixed", "--param", "replicas=2"], "expected POLICY.KEY=VALUE"),
    (["--policies", "hpa", "--param", "hpa.tolerance=2"], "tolerance = 2"),
])
def test_bad_policies_exit_2_with_the_reason(trace_file, capsys, argv, message):
    assert main(["compare", "--trace", str(trace_file), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
