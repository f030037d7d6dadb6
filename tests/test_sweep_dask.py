"""Sweeps on a Dask scheduler and two workers started as processes of their own, as a cluster runs them.

The scheduler and the workers run ``python -m distributed.cli.dask_scheduler`` and
``python -m distributed.cli.dask_worker`` on 127.0.0.1, in a folder of their own, with
this checkout of the package on their path and nothing else of the tests': the test
module and the user modules the tests write cannot be imported there. The workers share
this process's kernel cache (``AUTOSCALE_CACHE_DIR``), so they load the kernels the local
sweeps compiled.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
from pandas.testing import assert_frame_equal

import autoscale
import autoscale.sweep as sweep_module
from autoscale import ConfigError, _numba
from autoscale.cli import main
from autoscale.policies import REGISTRY, Policy, as_policy, register
from autoscale.sweep import Grid, Sweep, run_sweep
from autoscale.trace import synthetic

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

#: Seconds the scheduler and both workers have to come up.
START_TIMEOUT = 300
#: Seconds after which the cluster is killed, so that a hung sweep fails instead of waiting forever.
WATCHDOG = 1800
#: Seconds a process has to exit after SIGTERM before it is killed.
STOP_TIMEOUT = 30

GRID = Grid({"target-burst-capacity": [0, -1], "container-concurrency": [1, 5]})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Cluster:
    """A scheduler and two single-threaded workers, each a process in its own session."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.address = f"tcp://127.0.0.1:{_free_port()}"
        self.processes: list[subprocess.Popen] = []
        env = dict(os.environ)
        env["PYTHONPATH"] = str(Path(autoscale.__file__).resolve().parents[1])  # this checkout, nothing else
        if _numba.CACHE_DIR != Path():
            env["AUTOSCALE_CACHE_DIR"] = str(_numba.CACHE_DIR.parent)
        self.env = env

    def start(self, name: str, module: str, *args: str) -> None:
        with open(self.home / f"{name}.log", "wb") as log:
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", module, *args], cwd=self.home, env=self.env, stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True))

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                         for p in sorted(self.home.glob("*.log")))

    def stop(self) -> None:
        """SIGTERM to each process group, then SIGKILL to any still running after STOP_TIMEOUT."""
        for p in self.processes:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.processes:
            try:
                p.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, request):
    """The scheduler's address, once both workers have joined; the processes end with the module."""
    home = tmp_path_factory.mktemp("dask-cluster")
    c = _Cluster(home)
    watchdog = threading.Timer(WATCHDOG, c.stop)
    watchdog.daemon = True

    def finish():
        watchdog.cancel()
        c.stop()

    request.addfinalizer(finish)
    port = c.address.rsplit(":", 1)[1]
    c.start("scheduler", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", port,
            "--no-dashboard")
    for i in range(2):
        c.start(f"worker-{i}", "distributed.cli.dask_worker", c.address, "--host", "127.0.0.1",
                "--nthreads", "1", "--no-nanny", "--no-dashboard", "--death-timeout", "120",
                "--local-directory", str(home / f"worker-{i}"))
    watchdog.start()
    try:
        with distributed.Client(c.address, timeout=START_TIMEOUT) as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        pytest.fail(f"the Dask cluster did not start ({exc}):\n{c.logs()}")
    return c.address


@pytest.fixture(scope="module")
def trace():
    return synthetic.poisson(rate=2, duration=120, service=synthetic.constant(0.2), seed=1)


@pytest.fixture
def registered():
    """``registered(name, factory)`` registers a policy for one test; the registry is restored after."""
    before = dict(REGISTRY)

    def add(name, factory):
        register(name, factory)

    yield add
    REGISTRY.clear()
    REGISTRY.update(before)


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """``user_module(name, source)`` writes a module to a folder on this process's path only, and imports it."""
    folder = tmp_path / "user"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    written = []

    def write(name, source):
        (folder / f"{name}.py").write_text(textwrap.dedent(source))
        importlib.invalidate_caches()
        written.append(name)
        return importlib.import_module(name)

    yield write
    for name in written:
        sys.modules.pop(name, None)


def small(trace, **kw):
    return Sweep(**{"traces": [trace], "axes": GRID, "seeds": [0, 1], "batch_size": 2, **kw})


def importable_on_workers(address, module: str) -> set[bool]:
    with distributed.Client(address, timeout=START_TIMEOUT) as client:
        return set(client.run(lambda: importlib.util.find_spec(module) is not None).values())


@pytest.fixture
def count_replays(monkeypatch):
    """The replay calls made in this process (none when the workers replay every batch)."""
    calls = []
    replay = sweep_module.replay

    def counting(trace, configs, **kw):
        calls.append(len(configs))
        return replay(trace, configs, **kw)

    monkeypatch.setattr(sweep_module, "replay", counting)
    return calls


# -- the same table as a local sweep --------------------------------------------------------


def test_a_sweep_on_scheduler_and_worker_processes_gives_exactly_the_local_table(cluster, trace, tmp_path,
                                                                                 count_replays):
    s = small(trace, policies=["kpa", ("keepalive", {"keep_alive": 30})])
    local = run_sweep(s, progress=False)
    count_replays.clear()
    on_dask = run_sweep(s, tmp_path / "out", progress=False, scheduler=cluster)
    assert count_replays == []  # every batch replayed on a worker
    assert_frame_equal(on_dask, local)
    assert on_dask.attrs["sweep"]["replayed_batches"] == 8
    assert (tmp_path / "out" / "results.csv").read_text() == local.to_csv(index=False)


def test_the_cli_sweep_with_a_scheduler_writes_the_local_results(cluster, trace, tmp_path):
    path = tmp_path / "requests.csv"
    trace.to_csv(path)
    args = ["sweep", "--trace", str(path), "--grid", "target-burst-capacity=0,-1", "--grid",
            "container-concurrency=1,5", "--seeds", "2", "--batch-size", "2", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "local")]) == 0
    assert main([*args, "--out", str(tmp_path / "dask"), "--scheduler", cluster]) == 0
    local = (tmp_path / "local" / "results.csv").read_text()
    assert (tmp_path / "dask" / "results.csv").read_text() == local
    assert len(local.splitlines()) == 1 + 8


# -- policies the workers do not have -------------------------------------------------------

SPARE = '''
    """A user's policy module, importable only where its folder is on the path."""

    import numpy as np

    from autoscale.policies import Policy


    class Spare(Policy):
        """Pods for the requests in the system at ``per_pod`` a pod, plus ``spare`` pods."""

        name, period = "spare", 2

        def __init__(self, per_pod=5, spare=1):
            self.per_pod, self.spare = per_pod, spare

        def decide(self, state, signals):
            return np.ceil(signals.system_concurrency / self.per_pod).astype(int) + self.spare

        def params(self):
            return {"per_pod": self.per_pod, "spare": self.spare}
'''


def test_a_policy_class_from_a_module_only_the_client_imports_runs_on_the_workers(
        cluster, trace, registered, user_module):
    module = user_module("autoscale_test_spare_policies", SPARE)
    assert importable_on_workers(cluster, module.__name__) == {False}
    registered("spare", module.Spare)
    s = small(trace, policies=[("spare", {"per_pod": 3}), ("spare", {"spare": 0}), "keepalive"])
    local = run_sweep(s, progress=False)
    assert_frame_equal(run_sweep(s, progress=False, scheduler=cluster), local)
    assert set(local["policy.per_pod"].dropna()) == {3}


class Doubling(Policy):
    """Twice the pods the requests in the system need at one request a pod, at least one."""

    name, period = "doubling", 2

    def decide(self, state, signals):
        return np.maximum(2 * np.ceil(signals.system_concurrency).astype(int), 1)


def per_three(signals):
    return np.ceil(signals.concurrency / 3)


def test_policies_defined_in_the_test_module_and_registered_only_here_run_on_the_workers(
        cluster, trace, registered):
    assert importable_on_workers(cluster, Doubling.__module__) == {False}
    registered("doubling", Doubling)
    registered("per-three", lambda: as_policy(per_three, name="per-three", period=2))
    s = small(trace, policies=["doubling", "per-three", "kpa"])
    local = run_sweep(s, progress=False)
    on_dask = run_sweep(s, progress=False, scheduler=cluster)
    assert_frame_equal(on_dask, local)
    # The two policies decide differently, so the table shows that each one ran.
    by_policy = local.groupby("policy")["pod_seconds"].sum()
    assert by_policy["doubling"] != by_policy["per-three"]


def test_a_policy_that_does_not_pickle_is_refused_before_any_batch_runs(cluster, trace, registered, tmp_path):
    lock = threading.Lock()

    def locked():
        with lock:
            return Doubling()

    registered("locked", locked)
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match=r"policy 'locked' \(.*locked\) cannot be sent to the Dask workers: "
                                          r"TypeError: .*lock.*; register a class or function"):
        run_sweep(small(trace, policies=["kpa", "locked"]), out, progress=False, scheduler=cluster)
    assert not list((out / "batches").glob("*.csv"))
    assert not (out / "sweep.lock").exists()


HELPER = '''
    """A helper module a user's policy imports."""

    import numpy as np


    def pods(concurrency):
        return np.ceil(concurrency / 4).astype(int) + 1
'''

HELPED = '''
    """A user's policy that calls a helper of another module of the user's."""

    import autoscale_test_helper as helper

    from autoscale.policies import Policy


    class Helped(Policy):
        name, period = "helped", 2

        def decide(self, state, signals):
            return helper.pods(signals.system_concurrency)
'''


def test_a_policy_using_a_module_the_workers_lack_is_refused_then_runs_once_that_module_is_sent(
        cluster, trace, registered, user_module, tmp_path):
    helper = user_module("autoscale_test_helper", HELPER)
    helped = user_module("autoscale_test_helped", HELPED)
    registered("helped", helped.Helped)
    s = small(trace, policies=["helped"])
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match=r"policy 'helped': the Dask workers cannot build it \(ModuleNotFoundError: "
                                          r".*autoscale_test_helper.*\); install the modules it uses on the workers, "
                                          r"or .*cloudpickle.register_pickle_by_value\(module\)"):
        run_sweep(s, out, progress=False, scheduler=cluster)
    assert not list((out / "batches").glob("*.csv"))
    cloudpickle.register_pickle_by_value(helper)
    try:
        on_dask = run_sweep(s, out, progress=False, scheduler=cluster)
    finally:
        cloudpickle.unregister_pickle_by_value(helper)
    assert_frame_equal(on_dask, run_sweep(s, progress=False))
