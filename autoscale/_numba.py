"""Numba settings shared by every compiled module, and an on-disk cache that can never be stale.

Numba's own cache checks the source file of each compiled function, but not the files of
the functions it calls or inlines, so an edit in one module can leave another module's
cached machine code in use. Here the cache folder is named after a hash of every Python
source file of the package: any edit anywhere gives a new folder, and so a fresh compile.
The folder lives under ``$AUTOSCALE_CACHE_DIR`` (default ``~/.cache/autoscale``); folders of
other sources that have not been written to for a week are removed.

Import this module before any module that compiles with ``cache=True``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
from pathlib import Path

import numba
import numba.core.config

__all__ = ["JIT", "INLINE", "CACHE_DIR", "announce_compile"]

_PACKAGE = Path(__file__).resolve().parent


def _sources_hash() -> str:
    h = hashlib.sha256(numba.__version__.encode())
    for path in sorted(_PACKAGE.rglob("*.py")):
        h.update(str(path.relative_to(_PACKAGE)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _cache_root() -> Path:
    root = os.environ.get("AUTOSCALE_CACHE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "autoscale"


def _prepare() -> Path:
    root = _cache_root()
    folder = root / f"numba-{_sources_hash()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Folders of other sources unused for a week go (another checkout may still use a newer one).
        week_ago = time.time() - 7 * 86400
        for old in root.glob("numba-*"):
            if old != folder and old.is_dir() and old.stat().st_mtime < week_ago:
                shutil.rmtree(old, ignore_errors=True)
    except OSError:  # a read-only home: fall back to numba's default next to the sources
        return Path()
    return folder


CACHE_DIR = _prepare()
if CACHE_DIR != Path():
    numba.core.config.CACHE_DIR = str(CACHE_DIR)

#: Options of every compiled function.
JIT = dict(nogil=True, cache=True)
#: Functions on the per-request and per-second paths are inlined at numba's IR level: numba
#: passes each array as its own struct of seven to eleven words, so a call that passes two
#: dozen arrays costs hundreds of stack writes, more than the work inside it. A call of more
#: than 30 arguments is made with ``*args`` in Python's bytecode, which numba cannot inline,
#: so such functions take their state grouped in tuples. What is not inlined (the event loop
#: ``dataplane._step_one``, the end-of-second reports) stays so for compile time: inlining the
#: event loop too made the first run's compile take 71 s instead of 43 s.
INLINE = dict(nogil=True, cache=True, inline="always")

#: Options of compiled functions that allocate nothing: without numba's reference counting,
#: which otherwise costs two atomic operations per array argument on every call (most of
#: the time of a simulated second with nothing happening). The functions they call are
#: compiled the same way, so none of those may allocate either.
LEAF = dict(nogil=True, cache=True, _nrt=False)

_announced = False


def announce_compile(kernel: str = "loop._replay_rows") -> None:
    """Say once, on standard error, that the kernels are being compiled, when ``kernel`` is not cached yet."""
    global _announced
    if _announced:
        return
    _announced = True
    if CACHE_DIR == Path() or any(CACHE_DIR.rglob(f"{kernel}-*.nbi")):
        return
    print("autoscale: compiling the simulation kernels for this version (once, about a minute; "
          f"cached in {CACHE_DIR})", file=sys.stderr, flush=True)
