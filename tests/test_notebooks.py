"""Every notebook in notebooks/ is committed without outputs and runs top to bottom on its small data."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def _quickstart(ns):
    assert len(ns["result"]) == 3


def _tbc_target_sweep(ns):
    table = ns["table"]
    assert len(table) == 2 * 5 * 4 and set(table["function"]) == {"8203", "4765"}
    assert {"target-burst-capacity", "target", "latency_p99_s", "pod_seconds"} <= set(table.columns)


def _policy_comparison(ns):
    assert ns["cmp"].labels == ["kpa", "hpa", "keepalive 10 min", "hybrid"]
    assert ns["page"].is_file() and ns["stored"].kind == "compare"
    assert list(ns["keepalive"]["policy.keep_alive"]) == [10, 60, 300, 900, 1800]


def _write_your_own_policy(ns):
    assert ns["cmp"].labels == ["kpa", "keepalive", "per7", "cooldown 60 s"]
    assert (ns["cmp"].summary["requests"] > 0).all()
    assert list(ns["table"]["policy"]) == ["cooldown"] * 6


def _knative_problems(ns):
    from autoscale import scenarios

    assert list(ns["runs"]) == list(scenarios.names())
    assert all(run.passed for run in ns["runs"].values())
    assert ns["claims"]["holds"].all() and len(ns["claims"]) >= 2 * len(ns["runs"])


#: What each notebook must have computed, beyond running without an error.
CHECKS = {
    "quickstart": _quickstart,
    "tbc_target_sweep": _tbc_target_sweep,
    "policy_comparison": _policy_comparison,
    "write_your_own_policy": _write_your_own_policy,
    "knative_problems": _knative_problems,
}


def test_every_notebook_is_checked():
    assert {p.stem for p in NOTEBOOKS} == set(CHECKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_has_no_outputs_and_runs(path):
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from autoscale import policies

    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, "a notebook without code"
    for cell in code:
        assert cell.get("outputs", []) == [] and cell.get("execution_count") is None, "commit notebooks without outputs"
    registry = dict(policies.REGISTRY)
    namespace: dict = {}
    try:
        for cell in code:
            exec(compile("".join(cell["source"]), f"{path.name}", "exec"), namespace)
    finally:
        plt.close("all")
        policies.REGISTRY.clear()  # a notebook may register a policy of its own
        policies.REGISTRY.update(registry)
    CHECKS[path.stem](namespace)
