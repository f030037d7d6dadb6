"""The compiled kernels' cache folder follows the package's sources, so a cache is never stale."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from autoscale import _numba


def test_cache_folder_is_named_after_every_source_file(tmp_path, monkeypatch):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "sub" / "b.py").write_text("y = 2\n")
    monkeypatch.setattr(_numba, "_PACKAGE", pkg)
    before = _numba._sources_hash()
    (pkg / "sub" / "b.py").write_text("y = 3\n")  # an edit in another file than the kernel's
    after = _numba._sources_hash()
    assert before != after
    (pkg / "sub" / "b.py").write_text("y = 2\n")
    assert _numba._sources_hash() == before


def test_the_kernels_use_the_folder_of_these_sources():
    import numba.core.config

    assert _numba.CACHE_DIR.name == f"numba-{_numba._sources_hash()}"
    assert numba.core.config.CACHE_DIR == str(_numba.CACHE_DIR)


def test_a_first_run_announces_the_compile_once(tmp_path):
    code = ("from autoscale import KPAConfig, replay; from autoscale.trace import synthetic;"
            "t = synthetic.poisson(rate=1.0, duration=5.0, seed=1);"
            "replay(t, KPAConfig()); replay(t, KPAConfig())")
    env = {"AUTOSCALE_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert first.returncode == 0, first.stderr
    assert first.stderr.count("compiling the simulation kernels") == 1
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert second.returncode == 0 and "compiling" not in second.stderr
    assert [p.name for p in Path(tmp_path).iterdir()] == [_numba.CACHE_DIR.name]


def test_only_folders_unused_for_a_week_are_removed(tmp_path, monkeypatch):
    import os
    import time

    old, recent = tmp_path / "numba-0000000000000000", tmp_path / "numba-1111111111111111"
    old.mkdir()
    recent.mkdir()
    stale = time.time() - 8 * 86400
    os.utime(old, (stale, stale))
    monkeypatch.setenv("AUTOSCALE_CACHE_DIR", str(tmp_path))
    folder = _numba._prepare()
    assert folder.is_dir() and not old.exists() and recent.exists()
