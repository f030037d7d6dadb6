"""``autoscale config show``: the aligned table, sources, overrides, and errors without tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from autoscale import cli

DATA = Path(__file__).parent / "data"


@pytest.fixture
def run(monkeypatch, capsys):
    """Run the CLI in-process with only the config command registered; return (code, out, err)."""
    # Only this module's subcommand, so the test does not depend on the other subcommands.
    monkeypatch.setattr(cli, "_COMMAND_MODULES", ("autoscale._cli.config_cmd",))

    def _run(*argv: str) -> tuple[int, str, str]:
        try:
            code = cli.main(list(argv))
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def rows(out: str) -> dict[str, tuple[str, str]]:
    """key -> (value, source) from the printed table."""
    table = {}
    for line in out.splitlines()[1:]:
        if line.startswith("note: "):
            continue
        key, value, source = line.split()
        table[key] = (value, source)
    return table


def test_show_defaults(run):
    code, out, err = run("config", "show")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["KEY", "VALUE", "SOURCE"]
    # aligned: every value column starts at the same offset
    offsets = {line.index(line.split()[1], len(line.split()[0])) for line in lines}
    assert len(offsets) == 1
    t = rows(out)
    assert t["stable-window"] == ("60s", "default")
    assert t["enable-scale-to-zero"] == ("true", "default")
    assert t["target-value"] == ("70", "derived")
    assert t["total"] == ("100", "derived")
    assert t["panic-window"] == ("6s", "derived")


def test_show_set_overrides_a_key(run):
    code, out, _ = run("config", "show", "--set", "stable-window=90s", "--set", "container-concurrency=10")
    assert code == 0
    t = rows(out)
    assert t["stable-window"] == ("90s", "--set")
    assert t["panic-window"] == ("9s", "derived")
    assert (t["total"], t["target-value"]) == (("10", "derived"), ("7", "derived"))


def test_show_with_files(run):
    code, out, _ = run("config", "show", "--configmap", str(DATA / "configmap.yaml"),
                       "--service", str(DATA / "service.yaml"))
    assert code == 0
    t = rows(out)
    assert t["scale-down-delay"] == ("30s", "configmap")
    assert t["stable-window"] == ("90s", "annotation")
    assert t["min-scale"] == ("1", "annotation")
    assert t["container-concurrency"] == ("10", "spec")
    assert t["panic-window"] == ("5s", "derived")  # 90 s x 5 % = 4.5 s, half away from zero
    assert "note: " in out and "tick-interval is ignored" in out


@pytest.mark.parametrize("argv,message", [
    (("--set", "stable-window=3s"), "stable-window = 3s, must be in [6s, 1h] in whole seconds"),
    (("--set", "stable-window"), "--set stable-window: expected KEY=VALUE"),
    (("--set", "stable-windw=60s"), "unknown override key stable-windw; did you mean stable-window?"),
    (("--set", "window=60x"), "window = 60x, must be a number of seconds or a duration such as 90s"),
    (("--set", "class=example.com/custom"), "must be kpa.autoscaling.knative.dev or hpa.autoscaling.knative.dev"),
], ids=["out-of-range", "no-equals", "unknown-key", "bad-unit", "custom-class"])
def test_invalid_set_exits_2_without_traceback(run, argv, message):
    code, out, err = run("config", "show", *argv)
    assert code == 2 and out == ""
    assert err.startswith("autoscale: error: ") and message in err
    assert "Traceback" not in err


def test_yaml_error_names_file_and_line(run, tmp_path):
    path = tmp_path / "cm.yaml"
    path.write_text("kind: ConfigMap\ndata:\n  stable-window: [60s\n")
    code, _, err = run("config", "show", "--configmap", str(path))
    assert code == 2
    assert f"autoscale: error: {path}:" in err and "invalid YAML" in err and "Traceback" not in err


def test_missing_file_exits_2(run, tmp_path):
    code, _, err = run("config", "show", "--service", str(tmp_path / "nope.yaml"))
    assert code == 2 and "autoscale: error:" in err and "nope.yaml" in err


def test_config_without_subcommand_prints_help(run):
    code, out, err = run("config")
    assert code == 2 and "show" in err and out == ""
