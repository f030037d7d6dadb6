"""Command-line inputs: every mistake refused before any work with a message naming it, one syntax everywhere."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import autoscale.trace
from autoscale.cli import main
from autoscale.compare import parse_policy_params
from autoscale.config import resolve
from autoscale.errors import ConfigError
from autoscale.rng import seed_state, seed_states
from autoscale.sweep import Grid
from autoscale._cli.sweep_cmd import parse_policy
from autoscale.trace import Trace

DUPLICATE_KEY_CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: config-autoscaler
data:
  stable-window: "60s"
  target: "50"
  stable-window: "90s"
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(8)
    a = np.sort(rng.uniform(0, 120, 300))
    Trace(arrivals=a, durations=np.full(a.size, 0.3), name="t").to_csv(root / "requests.csv")
    (root / "empty.csv").write_text("")
    (root / "points.csv").write_text("")
    (root / "cm.yaml").write_text(DUPLICATE_KEY_CONFIGMAP)
    return root


def run_cli(argv, capsys):
    """Exit code and stderr of the command line, whether argparse or the command refuses the input."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


REFUSED = [
    (["run", "--trace", "{d}/empty.csv"], "empty.csv: line 1: the file is empty"),
    (["run", "--trace", "T", "--duration", "-5"], "argument --duration: duration = -5, must be finite and > 0 s"),
    (["run", "--trace", "T", "--duration", "0"], "argument --duration: duration = 0, must be finite and > 0 s"),
    (["compare", "--trace", "T", "--policies", "kpa", "--duration", "0"], "duration = 0, must be finite and > 0"),
    (["sweep", "--trace", "T", "--out", "{d}/o", "--duration", "-5"], "duration = -5, must be finite and > 0"),
    (["run", "--trace", "T", "--seed", "-1"], "argument --seed: seed = -1, must be a whole number >= 0"),
    (["compare", "--trace", "T", "--policies", "kpa", "--seed", "-1"], "seed = -1, must be a whole number >= 0"),
    (["compare", "--trace", "T", "--policies", "keepalive", "--param", "keepalive.keep_alive=abc"],
     "--param keepalive.keep_alive = abc, must be a number of seconds or a duration such as 300, 90s, 5m"),
    (["run", "--trace", "T", "--policy", "keepalive", "--param", "keepalive.keep_alive=5x"],
     "keepalive.keep_alive = 5x, must be a number of seconds"),
    (["run", "--trace", "T", "--plot", "{d}/x.xyz"], "argument --plot: {d}/x.xyz: unknown figure format .xyz"),
    (["compare", "--trace", "T", "--policies", "kpa", "--plot", "{d}/x"], "no extension to name the figure format"),
    (["sweep", "--trace", "T", "--out", "{d}/o", "--points", "{d}/points.csv"],
     "--points {d}/points.csv: line 1: the file is empty"),
    (["run", "--trace", "T", "--async-concurrency", "5"], "--async-concurrency applies to asynchronous invocation"),
    (["compare", "--trace", "T", "--policies", "kpa", "--retries", "2"], "--retries applies to asynchronous"),
    (["run", "--trace", "T", "--set", "target=10", "--set", "target=20"],
     "--set target is given twice (target=10 and target=20)"),
    (["compare", "--trace", "T", "--policies", "kpa", "--set", "target=10,10"], "--set target=10,10: 10 is listed twice"),
    (["sweep", "--trace", "T", "--out", "{d}/o", "--grid", "target=1,2", "--grid", "target=3"],
     "--grid target is given twice (target=1,2 and target=3)"),
    (["sweep", "--trace", "T", "--out", "{d}/o", "--grid", "target=1,1"], "--grid target=1,1: 1 is listed twice"),
    (["run", "--trace", "T", "--configmap", "{d}/cm.yaml"], "{d}/cm.yaml:8: stable-window is given twice (first on line 6)"),
    (["config", "show", "--configmap", "{d}/cm.yaml"], "{d}/cm.yaml:8: stable-window is given twice"),
    (["compare", "--trace", "T", "--policies", "fixed", "--param", "fixed.replicas=1", "--param", "fixed:replicas=2"],
     "--param fixed.replicas is given twice (1 and 2)"),
    (["sweep", "--trace", "T", "--out", "{d}/o", "--policy", "keepalive:keep-alive=60", "--param",
      "keepalive.keep_alive=90"], "policy keepalive: keep_alive is given twice"),
]
REFUSED_IDS = [
    "empty-trace-csv", "run-negative-duration", "run-zero-duration", "compare-zero-duration",
    "sweep-negative-duration", "run-negative-seed", "compare-negative-seed", "param-not-seconds",
    "param-bad-unit", "run-unknown-figure-extension", "compare-figure-without-extension", "empty-points-file",
    "async-option-without-async", "async-option-without-async-invocations", "set-key-twice", "set-value-twice",
    "grid-key-twice", "grid-value-twice", "configmap-key-twice", "config-show-configmap-key-twice",
    "param-twice-dot-and-colon", "sweep-param-also-inline",
]


@pytest.mark.parametrize("argv,message", REFUSED, ids=REFUSED_IDS)
def test_a_mistake_exits_2_naming_it_before_the_trace_is_loaded(files, capsys, monkeypatch, argv, message):
    argv = [str(files / "requests.csv") if a == "T" else a.replace("{d}", str(files)) for a in argv]
    if "empty.csv" not in " ".join(argv):
        monkeypatch.setattr(autoscale.trace, "load", lambda *a, **k: pytest.fail("the trace was loaded"))
    code, err = run_cli(argv, capsys)
    assert code == 2
    assert message.replace("{d}", str(files)) in err
    assert "Traceback" not in err


def test_the_api_refuses_a_negative_seed_a_repeated_grid_value_and_a_repeated_yaml_key(files):
    with pytest.raises(ConfigError, match=r"seed = -1, must be a whole number >= 0"):
        seed_state(-1)
    with pytest.raises(ConfigError, match=r"seed = -1, must be a whole number >= 0"):
        seed_states(-1)
    with pytest.raises(ConfigError, match=r"grid target: 1 is listed twice"):
        Grid({"target": [1, 1]})
    with pytest.raises(ConfigError, match=r"cm.yaml:8: stable-window is given twice \(first on line 6\)"):
        resolve(configmap=files / "cm.yaml")


def test_policy_parameters_read_alike_with_dot_or_colon_dash_or_underscore_and_units():
    for item in ("keepalive.keep_alive=300", "keepalive:keep-alive=5m", "keepalive.keep-alive=300s"):
        assert parse_policy_params(["keepalive"], [item])["keepalive"].seconds == 300.0
    assert parse_policy("keepalive.keep_alive=5m,1h") == parse_policy("keepalive:keep-alive=300,3600")
    assert parse_policy("keepalive", ["keep-alive=1m"]) == [("keepalive", {"keep_alive": 60.0})]
    assert parse_policy("hpa", ["window=30s", "metric=cpu"]) == [("hpa", {"window": 30, "metric": "cpu"})]


def test_durations_take_units_on_the_command_line(files, tmp_path, capsys):
    trace = str(files / "requests.csv")
    assert main(["run", "--trace", trace, "--duration", "1m", "--out", str(tmp_path / "a.csv")]) == 0
    assert main(["run", "--trace", trace, "--duration", "60", "--out", str(tmp_path / "b.csv")]) == 0
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()
    assert main(["run", "--trace", trace, "--duration", "60", "--policy", "keepalive:keep-alive=1m"]) == 0
    assert "policy keepalive(keep_alive=60.0)" in capsys.readouterr().out
    assert main(["config", "show", "--set", "stable-window=90"]) == 0
    assert "stable-window" in capsys.readouterr().out
    assert resolve(overrides={"stable-window": "90"}).config.stable_window == 90.0


def test_a_comma_list_in_sweep_set_is_swept_and_keys_are_written_as_integers(files, tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", "--trace", str(files / "requests.csv"), "--set", "target-burst-capacity=0,-1",
                 "--set", "stable-window=30s", "--policy", "keepalive", "--param", "keepalive.keep_alive=1m,90",
                 "--duration", "60", "--out", str(out), "--quiet"]) == 0
    table = pd.read_csv(out / "results.csv")
    assert sorted(zip(table["policy.keep_alive"], table["target-burst-capacity"])) == [
        (60, -1), (60, 0), (90, -1), (90, 0)]
    text = (out / "results.csv").read_text()
    assert table["target-burst-capacity"].dtype == np.int64 and table["policy.keep_alive"].dtype == np.int64
    assert ",60.0," not in text and ",-1.0," not in text
