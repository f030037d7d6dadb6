"""README.md's examples run as written and print what the README shows.

The README's convention: a ```python block whose output is shown is followed by the word
"prints" and a ```text block holding exactly what it prints; a block without one prints
nothing. The ```python blocks run in order, in one namespace, from the repository root
(with matplotlib's Agg backend). In ```sh blocks, every ``autoscale ...`` command runs in
a scratch folder (which sees the repository's ``examples/``) and must succeed, except the
few in :data:`SLOW`, which are skipped with their reason; other commands (``pip install``,
``pytest``) are left to the reader.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

_FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```\n", re.S | re.M)


@dataclass(frozen=True)
class Block:
    lang: str
    line: int  # of the opening fence
    text: str
    output: str | None  # the ```text block shown as its output


def blocks(markdown: str) -> list[Block]:
    """The fenced blocks of `markdown`, each with the output block that follows it, if any."""
    found = [(m.group(1), markdown.count("\n", 0, m.start()) + 1, m.group(2), m.start(), m.end())
             for m in _FENCE.finditer(markdown)]
    out, taken = [], set()
    for i, (lang, line, text, _, end) in enumerate(found):
        if lang == "text" or i in taken:
            continue
        output = None
        if i + 1 < len(found) and found[i + 1][0] == "text":
            between = markdown[end:found[i + 1][3]].strip()
            if between == "prints":
                output = found[i + 1][2]
                taken.add(i + 1)
        out.append(Block(lang, line, text, output))
    orphans = [found[i][1] for i, f in enumerate(found) if f[0] == "text" and i not in taken]
    assert not orphans, f"README.md: ```text blocks at lines {orphans} follow no example with 'prints'"
    return out


BLOCKS = blocks(README.read_text(encoding="utf-8"))


def _lines(text: str) -> str:
    """Text with trailing spaces dropped from every line (pandas pads some; Markdown editors strip them)."""
    return "\n".join(line.rstrip() for line in text.splitlines())


def commands(block: Block) -> list[str]:
    """The ``autoscale ...`` commands of a shell block, continuation lines joined, ``&&`` chains split."""
    joined = re.sub(r"\\\n\s*", " ", block.text)
    found = []
    for line in joined.splitlines():
        for part in line.split("&&"):
            part = part.split(" #")[0].strip()
            if part.startswith("autoscale "):
                found.append(part)
    return found


def test_the_readme_follows_its_conventions():
    langs = {b.lang for b in BLOCKS}
    assert langs <= {"python", "sh", "yaml"}, f"unexpected fenced block languages {langs - {'python', 'sh', 'yaml'}}"
    assert sum(b.lang == "python" for b in BLOCKS) >= 4
    assert sum(b.output is not None for b in BLOCKS if b.lang == "python") >= 3
    assert any(commands(b) for b in BLOCKS if b.lang == "sh")


def test_python_examples_print_what_the_readme_shows(monkeypatch):
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from autoscale import policies

    monkeypatch.chdir(ROOT)
    namespace: dict = {"__name__": "__readme__"}
    registry = dict(policies.REGISTRY)
    try:
        for block in (b for b in BLOCKS if b.lang == "python"):
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(block.text, f"README.md:{block.line}", "exec"), namespace)
            printed = _lines(buffer.getvalue())
            expected = _lines(block.output or "")
            assert printed == expected, (f"README.md:{block.line}: the block prints\n{printed}\n"
                                         f"but the README shows\n{expected}")
    finally:
        plt.close("all")
        policies.REGISTRY.clear()  # the README registers a policy of its own
        policies.REGISTRY.update(registry)


#: Commands the test suite does not run, with the reason: too slow (seconds on the 2-core development
#: machine, compiled kernels cached), on a trace the reader downloads, or on a Dask cluster the reader
#: starts. Every entry must still name a command of the README.
SLOW = {
    "autoscale compare --trace default --policies kpa,hpa,fixed,keepalive,hybrid,forecast,oracle":
        "too slow for the suite: seven policies over the 8 h trace, the Python ones a decision at a time: about 75 s",
    "autoscale run --trace azure2019-10 --per-function": "too slow for the suite: ten services of one hour each: "
                                                         "about 27 s",
    "autoscale run --trace AzureLLMInferenceTrace_conv.csv": "the Azure LLM inference trace is not shipped; "
                                                             "tests/test_duration_from.py covers --duration-from",
    "autoscale sweep --trace default --grid target-burst-capacity=0,211,-1 --seeds 4":
        "needs the reader's Dask cluster; tests/test_sweep_dask.py runs sweeps on a scheduler and workers "
        "started as processes",
}

SHELL = [(b, c) for b in BLOCKS if b.lang == "sh" for c in commands(b)]


def _slow(command: str) -> str | None:
    return next((why for prefix, why in SLOW.items() if command.startswith(prefix)), None)


def test_every_slow_command_is_still_in_the_readme():
    for prefix in SLOW:
        assert sum(c.startswith(prefix) for _, c in SHELL) == 1, f"no README command starts with {prefix!r}"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """One folder for every command, in README order, with the repository's examples/ in it."""
    folder = tmp_path_factory.mktemp("readme")
    (folder / "examples").symlink_to(ROOT / "examples")
    return folder


@pytest.mark.parametrize("block,command", [
    pytest.param(b, c, id=f"line-{b.line}:{c.split()[1]}",
                 marks=[pytest.mark.skip(reason=_slow(c))] if _slow(c) else [])
    for b, c in SHELL
])
def test_shell_commands_succeed(block, command, scratch, monkeypatch, capsys):
    from autoscale import cli

    matplotlib.use("Agg")
    monkeypatch.chdir(scratch)
    code = cli.main(shlex.split(command)[1:])
    out, err = capsys.readouterr()
    assert code == 0, f"README.md:{block.line}: {command} exited {code}:\n{err}"
    if block.output is not None and command == commands(block)[-1]:
        assert _lines(out) == _lines(block.output), f"README.md:{block.line}: {command} prints\n{out}"
