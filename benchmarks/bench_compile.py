"""How long the first run after install takes to compile the kernels (``python benchmarks/bench_compile.py``).

Runs a tiny replay in a fresh process with an empty cache folder (``AUTOSCALE_CACHE_DIR``),
once for the KPA and once for every built-in policy, then the same again with the cache
filled, and prints the wall times.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import autoscale

#: The folder holding the package this process imports: the child runs there, so that a
#: worktree measured with ``PYTHONPATH`` compiles its own code (``-c`` puts the current
#: folder first on ``sys.path``).
ROOT = Path(autoscale.__file__).resolve().parents[1]

KPA = ("from autoscale import KPAConfig, replay; from autoscale.trace import synthetic;"
       "replay(synthetic.poisson(rate=1.0, duration=5.0, seed=1), KPAConfig())")
ALL = ("from autoscale import KPAConfig, replay; from autoscale.policies import names;"
       "from autoscale.trace import synthetic; t = synthetic.poisson(rate=1.0, duration=5.0, seed=1)\n"
       "for p in names(): replay(t, KPAConfig(), policy=p)")


def timed(code: str, cache: str) -> float:
    env = {**os.environ, "AUTOSCALE_CACHE_DIR": cache}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True, cwd=ROOT)
    return time.perf_counter() - t0


def main() -> int:
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    for label, code in (("the KPA (the quick start)", KPA), ("every built-in policy", ALL)):
        with tempfile.TemporaryDirectory() as cache:
            cold = timed(code, cache)
            warm = timed(code, cache)
        print(f"{label}: first run {cold:.1f} s, with the cache {warm:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
