"""Reading YAML: alias bombs and recursive aliases are refused before they are built, small aliases load."""

from __future__ import annotations

import pytest

from autoscale import _yaml, cli
from autoscale._yaml import MAX_ALIASES, MAX_NODES, load_yaml
from autoscale.configmap import resolve
from autoscale.errors import ConfigError
from autoscale.manifests import load_manifests
from autoscale.traffic import load_route


def laughs(levels: int = 9, width: int = 9) -> str:
    """The "billion laughs": each level a list of `width` aliases of the level below (width ** levels leaves)."""
    names = [f"l{i}" for i in range(levels)]
    lines = [f"{names[0]}: &{names[0]} [{', '.join(['lol'] * width)}]"]
    for below, name in zip(names, names[1:]):
        lines.append(f"{name}: &{name} [{', '.join(['*' + below] * width)}]")
    return "\n".join(lines) + "\n"


@pytest.fixture
def never_built(monkeypatch):
    """Fail the test if the loader starts building Python objects (the expansion) of any document."""
    def construct_document(self, node):
        raise AssertionError("the document was constructed")

    monkeypatch.setattr(_yaml._SafeLoader, "construct_document", construct_document)


def test_limits_are_the_documented_ones():
    assert MAX_ALIASES == 10_000 and MAX_NODES == 1_000_000


def test_billion_laughs_is_refused_before_it_is_built(tmp_path, never_built):
    path = tmp_path / "laughs.yaml"
    path.write_text(laughs())  # 81 aliases standing for 9 ** 9 = 387,420,489 strings
    with pytest.raises(ConfigError) as info:
        load_yaml(path)
    assert str(info.value) == (f"{path}:1: the document stands for more than 1,000,000 YAML nodes once its "
                               f"aliases are expanded (an alias bomb); refused")


def test_a_bomb_in_a_later_document_names_that_document_and_nothing_is_built(tmp_path, never_built):
    path = tmp_path / "two.yaml"
    path.write_text("a: 1\n---\n" + laughs(levels=7, width=8))  # 8 ** 7 = 2,097,152 strings
    with pytest.raises(ConfigError, match=r"two\.yaml:3: the document stands for more than 1,000,000"):
        load_yaml(path)


def test_just_under_the_node_limit_loads(tmp_path):
    path = tmp_path / "wide.yaml"
    path.write_text(laughs(levels=3, width=99))  # 99 ** 3 = 970,299 strings, 980,100 nodes with the lists
    doc = load_yaml(path)[0]
    assert len(doc["l2"]) == 99 and doc["l2"][0] is doc["l2"][1]  # aliases share one object, as PyYAML does


def test_more_aliases_than_the_limit_are_refused_at_the_first_one_past_it(tmp_path, never_built):
    path = tmp_path / "many.yaml"
    path.write_text("x: &x 1\nall:\n" + "".join("  - *x\n" for _ in range(MAX_ALIASES + 5)))
    with pytest.raises(ConfigError) as info:
        load_yaml(path)
    assert str(info.value) == (f"{path}:{3 + MAX_ALIASES}: more than 10,000 aliases in one file (an alias bomb); "
                               f"refused")


def test_the_alias_limit_counts_the_whole_file(tmp_path):
    half = MAX_ALIASES // 2 + 1
    doc = "x: &x 1\nall: [" + ", ".join(["*x"] * half) + "]\n"
    path = tmp_path / "split.yaml"
    path.write_text(doc)
    assert len(load_yaml(path)[0]["all"]) == half
    path.write_text(doc + "---\n" + doc)
    with pytest.raises(ConfigError, match="more than 10,000 aliases in one file"):
        load_yaml(path)


@pytest.mark.parametrize("text,line", [
    ("a: &a [1, *a]\n", 1),
    ("top:\n  a: &a\n    b: [1, {c: *a}]\n", 2),
], ids=["list-in-itself", "mapping-in-itself"])
def test_a_recursive_alias_is_refused(tmp_path, never_built, text, line):
    path = tmp_path / "loop.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=rf"loop\.yaml:{line}: the node here holds an alias of itself"):
        load_yaml(path)


def test_nesting_deeper_than_python_can_compose_is_refused(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match=rf"^{path}: YAML nested more deeply than \d+ levels; refused$"):
        load_yaml(path)


def test_a_manifest_with_small_aliases_and_a_merge_key_loads(tmp_path):
    path = tmp_path / "service.yaml"
    path.write_text(
        "apiVersion: serving.knative.dev/v1\n"
        "kind: Service\n"
        "metadata: {name: checkout}\n"
        "spec:\n"
        "  template:\n"
        "    metadata:\n"
        "      annotations:\n"
        "        autoscaling.knative.dev/min-scale: &floor \"2\"\n"
        "        autoscaling.knative.dev/initial-scale: *floor\n"
        "    spec: {containerConcurrency: 10}\n"
        "---\n"
        "defaults: &defaults {container-concurrency: 10, target: 7}\n"
        "canary:\n"
        "  <<: *defaults\n"
        "  target: 5\n")
    service, extra = load_yaml(path)
    annotations = service["spec"]["template"]["metadata"]["annotations"]
    assert annotations["autoscaling.knative.dev/initial-scale"] == "2"
    assert extra["canary"] == {"container-concurrency": 10, "target": 5}  # the explicit key wins over the merge
    r = resolve(service=path)
    assert (r.config.min_scale, r.config.initial_scale) == (2, 2)


def test_a_key_repeated_in_one_mapping_is_still_refused(tmp_path):
    path = tmp_path / "cm.yaml"
    path.write_text("data:\n  max-scale: \"3\"\n  max-scale: \"4\"\n")
    with pytest.raises(ConfigError, match=r"cm\.yaml:3: max-scale is given twice \(first on line 2\); keep one"):
        load_yaml(path)


# -- every reader of YAML files refuses the bomb, naming the file ------------------------------


def bomb(tmp_path, name: str) -> str:
    path = tmp_path / name
    path.write_text(laughs())
    return str(path)


def test_every_yaml_reader_refuses_the_bomb_naming_the_file(tmp_path, never_built):
    readers = {
        "configmap.yaml": lambda p: resolve(configmap=p),
        "service.yaml": lambda p: resolve(service=p),
        "manifests.yaml": load_manifests,
        "route.yaml": load_route,
    }
    for name, read in readers.items():
        path = bomb(tmp_path, name)
        with pytest.raises(ConfigError, match=rf"^{path}:1: the document stands for more than"):
            read(path)


@pytest.mark.parametrize("argv", [
    ["config", "show", "--configmap", "{}"],
    ["config", "show", "--service", "{}"],
    ["run", "--trace", "default", "--route", "{}"],
], ids=["config-configmap", "config-service", "run-route"])
def test_the_cli_refuses_the_bomb_with_a_message_and_exit_code_2(tmp_path, capsys, never_built, argv):
    path = bomb(tmp_path, "laughs.yaml")
    code = cli.main([a.format(path) for a in argv])
    err = capsys.readouterr().err
    assert code == 2
    assert f"autoscale: error: {path}:1: the document stands for more than 1,000,000 YAML nodes" in err
    assert "Traceback" not in err
