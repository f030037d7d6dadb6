"""Shared fixtures; every property-based test draws the same examples on every run and machine."""

import pytest
from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("deterministic")


@pytest.fixture(autouse=True)
def _no_progress(monkeypatch):
    """No progress lines on standard error unless a test asks for them: a slow machine would add some."""
    monkeypatch.setenv("AUTOSCALE_PROGRESS", "0")


@pytest.fixture
def cli(capsys):
    """The command line as a function: ``cli(argv)`` -> (exit code, stdout, stderr), argparse's exits included."""
    from autoscale.cli import main

    def run(argv):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:
            code = exc.code
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def write(tmp_path):
    """``write(text, name="trace.csv")`` writes a file in the test's own folder and returns its path."""
    def write(text, name="trace.csv"):
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
