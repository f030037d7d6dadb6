"""Knative's manifests as routes: Services with spec.traffic, Routes, Revision documents, clear errors, notes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from autoscale.cli import main
from autoscale.config import resolve
from autoscale.errors import ConfigError
from autoscale.manifests import is_manifest, load_manifests
from autoscale.traffic import load_route
from autoscale.services import replay_route
from autoscale.trace import Trace

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "traffic-demo.yaml"

ROUTE_WITH_REVISIONS = """\
apiVersion: serving.knative.dev/v1
kind: Revision
metadata:
  name: shop-a
  labels: {serving.knative.dev/configuration: shop, app: shop}
  annotations: {autoscaling.knative.dev/target: "20"}
spec: {containerConcurrency: 50}
---
apiVersion: serving.knative.dev/v1
kind: Revision
metadata:
  name: shop-b
  labels: {serving.knative.dev/configuration: shop}
  annotations: {autoscaling.knative.dev/window: "120s"}
spec: {containerConcurrency: 0, timeoutSeconds: 60}
---
apiVersion: serving.knative.dev/v1
kind: Route
metadata: {name: shop}
spec:
  traffic:
    - {revisionName: shop-a, percent: 70}
    - {configurationName: shop, percent: 30, tag: latest}
"""


def within_binomial(hits: int, n: int, p: float, sigmas: float = 4.0) -> bool:
    """Is hits within `sigmas` binomial standard deviations of n p?"""
    return abs(hits - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


def write(tmp_path, text: str, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def service_doc(template_name=None, traffic=None, annotations=None, cc=None, name="svc") -> str:
    meta = [f"      name: {template_name}"] if template_name else []
    if annotations:
        meta.append("      annotations:")
        meta += [f'        {k}: "{v}"' for k, v in annotations.items()]
    lines = ["apiVersion: serving.knative.dev/v1", "kind: Service", f"metadata: {{name: {name}}}", "spec:",
             "  template:"]
    if meta:
        lines += ["    metadata:", *meta]
    if cc is not None:
        lines += ["    spec:", f"      containerConcurrency: {cc}"]
    if traffic is not None:
        lines += ["  traffic:", *[f"    - {t}" for t in traffic]]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def trace():
    rng = np.random.default_rng(11)
    a = np.sort(rng.uniform(0.0, 300.0, 5000))
    return Trace(arrivals=a, durations=np.full(a.size, 0.2), name="t")


# -- the example ----------------------------------------------------------------------------------


def test_the_example_splits_80_20_between_revisions_with_their_own_configs(trace):
    m = load_manifests(EXAMPLE)
    assert list(m.revisions) == ["traffic-demo-v1", "traffic-demo-v2"]
    assert m.has_traffic and m.name == "traffic-demo"
    assert m.route.split_at(0.0) == {"traffic-demo-v1": 80, "traffic-demo-v2": 20}
    assert m.route.tags_at(0.0) == {"tg1": "traffic-demo-v1", "tg2": "traffic-demo-v2"}
    configs = m.configs()
    assert configs["traffic-demo-v1"].container_concurrency == 10
    assert configs["traffic-demo-v2"].container_concurrency == 5
    assert configs["traffic-demo-v1"].target == 10 and configs["traffic-demo-v2"].target == 4
    assert configs["traffic-demo-v2"].min_scale == 1

    run = replay_route(trace, configs, m.route, seed=5)
    s = run.summary.set_index("revision")
    assert list(s.index) == ["traffic-demo-v1", "traffic-demo-v2"]
    assert list(s["tags"]) == ["tg1", "tg2"]
    n = len(trace)
    assert s["requests"].sum() == n
    assert within_binomial(int(s.loc["traffic-demo-v1", "requests"]), n, 0.8)
    assert within_binomial(int(s.loc["traffic-demo-v2", "requests"]), n, 0.2)
    again = m.replay(trace, seed=5).summary
    assert again["requests"].tolist() == run.summary["requests"].tolist()


def test_the_example_notes_the_fields_the_model_does_not_use():
    notes = load_manifests(EXAMPLE).notes
    assert len(notes) == 2
    assert all("spec.template.spec.containers[0].image" in n for n in notes)
    assert "document 1 (Service traffic-demo)" in notes[0] and "document 2" in notes[1]


def test_resolve_reads_a_several_document_service_from_its_last_document():
    assert resolve(service=EXAMPLE).config.container_concurrency == 5


def test_cli_run_of_the_example_prints_a_row_per_revision_and_tag(trace, tmp_path, capsys):
    path = tmp_path / "t.csv"
    trace.to_csv(path)
    out = tmp_path / "r.csv"
    assert main(["run", "--trace", str(path), "--service", str(EXAMPLE), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Traceback" not in printed
    rows = [line.split() for line in printed.splitlines()]
    assert ["traffic-demo-v1", "tg1"] in [r[:2] for r in rows]
    assert ["traffic-demo-v2", "tg2"] in [r[:2] for r in rows]
    assert "route traffic-demo: traffic-demo-v1 80 %, traffic-demo-v2 20 %" in printed
    assert "note: " in printed and "containers[0].image" in printed
    import pandas as pd

    table = pd.read_csv(out)
    assert list(table["revision"]) == ["traffic-demo-v1", "traffic-demo-v2"]
    assert within_binomial(int(table["requests"].iloc[0]), len(trace), 0.8)


# -- Route, Revision documents, latestRevision ---------------------------------------------------------


def test_a_route_manifest_over_revision_documents(tmp_path, trace):
    path = write(tmp_path, ROUTE_WITH_REVISIONS)
    assert is_manifest(path)
    m = load_manifests(path)
    assert m.name == "shop" and list(m.revisions) == ["shop-a", "shop-b"]
    # configurationName: the configuration's latest revision, the last one labelled with it
    assert m.route.split_at(0.0) == {"shop-a": 70, "shop-b": 30}
    assert m.route.tags_at(0.0) == {"latest": "shop-b"}
    r = m.resolved()
    assert r["shop-a"].config.container_concurrency == 50 and r["shop-a"].sources["target"] == "annotation"
    assert r["shop-b"].config.stable_window == 120 and r["shop-b"].config.timeout_seconds == 60
    assert r["shop-b"].sources["container-concurrency"] == "spec"
    assert any("metadata.labels.app" in n for n in m.notes)
    s = m.replay(trace, seed=2).summary.set_index("revision")
    assert within_binomial(int(s.loc["shop-a", "requests"]), len(trace), 0.7)


def test_cli_route_manifest_with_revisions_from_the_service_file(tmp_path, trace, capsys):
    svc = write(tmp_path, service_doc("svc-one", cc=3) + "---\n" + service_doc("svc-two", cc=7), "svc.yaml")
    route = write(tmp_path, "apiVersion: serving.knative.dev/v1\nkind: Route\nmetadata: {name: svc}\n"
                            "spec:\n  traffic:\n    - {revisionName: svc-one, percent: 50}\n"
                            "    - {configurationName: svc, percent: 50}\n", "route.yaml")
    path = tmp_path / "t.csv"
    trace.to_csv(path)
    out = tmp_path / "r.csv"
    assert main(["run", "--trace", str(path), "--service", str(svc), "--route", str(route),
                 "--set", "max-scale=4", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "svc-one" in printed and "svc-two" in printed
    import pandas as pd

    table = pd.read_csv(out)
    assert list(table["revision"]) == ["svc-one", "svc-two"]
    assert (table["peak_pods"] <= 4).all()


def test_latest_revision_is_the_current_template_with_knatives_generated_name(tmp_path):
    text = (service_doc(annotations={"autoscaling.knative.dev/target": "5"}) + "---\n"
            + service_doc(traffic=["{revisionName: svc-00001, percent: 40}",
                                   "{latestRevision: true, percent: 60}"], cc=2))
    m = load_manifests(write(tmp_path, text))
    assert list(m.revisions) == ["svc-00001", "svc-00002"]
    assert m.route.split_at(0.0) == {"svc-00001": 40, "svc-00002": 60}
    c = m.configs()
    assert c["svc-00001"].target == 5 and c["svc-00002"].container_concurrency == 2
    # a target without revisionName is the latest revision, as Knative defaults it
    m = load_manifests(write(tmp_path, service_doc("svc-x", traffic=["{percent: 100}"])))
    assert m.route.split_at(0.0) == {"svc-x": 100}


def test_a_service_without_traffic_sends_everything_to_its_latest_revision():
    m = load_manifests({"apiVersion": "serving.knative.dev/v1", "kind": "Service", "metadata": {"name": "a"},
                        "spec": {"template": {"spec": {"containerConcurrency": 4}}}})
    assert not m.has_traffic and m.route.split_at(0.0) == {"a-00001": 100}


# -- errors ------------------------------------------------------------------------------------------------


def test_percents_must_sum_to_100_naming_file_document_and_field(tmp_path):
    text = (service_doc("svc-a") + "---\n"
            + service_doc("svc-b", traffic=["{revisionName: svc-a, percent: 80}",
                                            "{revisionName: svc-b, percent: 30}"]))
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_manifests(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: document 2 (Service svc): spec.traffic: percents (svc-a 80, svc-b 30) "
                          f"sum to 110, must sum to exactly 100")


def test_an_unknown_revision_lists_the_known_ones(tmp_path):
    path = write(tmp_path, service_doc("svc-a", traffic=["{revisionName: svc-nope, percent: 100}"]))
    with pytest.raises(ConfigError, match=r"document 1 \(Service svc\): spec.traffic\[0\].revisionName = "
                                          r"svc-nope, unknown revision; the revisions are: svc-a"):
        load_manifests(path)


@pytest.mark.parametrize("targets, message", [
    (["{revisionName: svc-a, latestRevision: true, percent: 100}"], "revisionName svc-a with latestRevision: true"),
    (["{latestRevision: false, percent: 100}"], "latestRevision: false needs a revisionName"),
    (["{configurationName: svc, percent: 100}"], "unknown key configurationName"),
    (["{revisionName: svc-a, percent: 100, weight: 3}"], "unknown key weight; allowed: tag, revisionName"),
    (["{revisionName: svc-a, percent: 100.5}"], r"spec.traffic\[0\].percent = 100.5, must be an integer"),
    (["{revisionName: svc-a, percent: 50, tag: x}", "{revisionName: svc-a, percent: 50, tag: x}"],
     "tag x is on revisions svc-a and svc-a"),
])
def test_bad_traffic_targets_are_named(tmp_path, targets, message):
    with pytest.raises(ConfigError, match=message):
        load_manifests(write(tmp_path, service_doc("svc-a", traffic=targets)))


def test_other_manifest_errors(tmp_path):
    with pytest.raises(ConfigError, match="spec.template.metadata.name = 'v1', must be a string starting with svc-"):
        load_manifests(write(tmp_path, service_doc("v1")))
    with pytest.raises(ConfigError, match="revision svc-a is already defined by"):
        load_manifests(write(tmp_path, service_doc("svc-a") + "---\n" + service_doc("svc-a")))
    with pytest.raises(ConfigError, match="latestRevision: true in a Route needs a configurationName"):
        load_manifests(write(tmp_path, ROUTE_WITH_REVISIONS.replace("configurationName: shop, ", "")))
    with pytest.raises(ConfigError, match="no Knative Service or Route"):
        load_manifests(write(tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"))
    # the project's route reader points at the manifest reader
    with pytest.raises(ConfigError, match="read Knative's Service and Route manifests with"):
        load_route(EXAMPLE)


def test_unknown_autoscaling_annotations_keep_their_error(tmp_path):
    m = load_manifests(write(tmp_path, service_doc("svc-a", annotations={"autoscaling.knative.dev/targett": "5"})))
    with pytest.raises(ConfigError, match=r"document 1 \(Service svc\): unknown autoscaling annotation "
                                          r"autoscaling.knative.dev/targett; did you mean"):
        m.configs()


def test_ignored_fields_are_noted(tmp_path):
    text = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: other}
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: svc
  namespace: shop
  annotations: {serving.knative.dev/rollout-duration: "60s"}
spec:
  template:
    metadata:
      name: svc-a
      labels: {team: x}
      annotations: {sidecar.istio.io/inject: "false", autoscaling.knative.dev/target: "3"}
    spec:
      containerConcurrency: 4
      serviceAccountName: bot
      containers:
        - {image: "x:1", resources: {requests: {cpu: 500m}}}
  traffic:
    - {revisionName: svc-a, percent: 100, tag: main, url: "http://main-svc.example.com"}
status: {url: "http://svc.example.com"}
"""
    m = load_manifests(write(tmp_path, text))
    assert "document 1 (v1/ConfigMap) is not read" in m.notes[0]
    (note,) = [n for n in m.notes if "document 2" in n]
    for field in ("status", "metadata.namespace", "metadata.annotations.serving.knative.dev/rollout-duration",
                  "spec.template.metadata.annotations.sidecar.istio.io/inject", "spec.template.metadata.labels",
                  "spec.template.spec.serviceAccountName", "spec.template.spec.containers[0].image",
                  "spec.template.spec.containers[0].resources", "spec.traffic[0].url"):
        assert field in note
    assert "autoscaling.knative.dev/target" not in note and "containerConcurrency" not in note
    assert m.configs()["svc-a"].target == 3


def test_earlier_traffic_is_noted_as_superseded(tmp_path):
    text = (service_doc("svc-a", traffic=["{revisionName: svc-a, percent: 100}"]) + "---\n"
            + service_doc("svc-b", traffic=["{revisionName: svc-a, percent: 50}", "{percent: 50}"]))
    m = load_manifests(write(tmp_path, text))
    assert m.route.split_at(0.0) == {"svc-a": 50, "svc-b": 50}
    assert any("document 1" in n and "spec.traffic (superseded by" in n for n in m.notes)


def test_a_route_without_traffic_is_an_error(tmp_path):
    text = (service_doc("svc-a")
            + "---\napiVersion: serving.knative.dev/v1\nkind: Route\nmetadata: {name: svc}\nspec: {}\n")
    with pytest.raises(ConfigError, match=r"document 2 \(Route svc\): spec.traffic must be a non-empty list"):
        load_manifests(write(tmp_path, text))
