"""Sweeps: configurations x traces x seeds x policies, in memory-sized batches, resumable, locally or on Dask.

A :class:`Sweep` describes the work: the traces (or functions of a multi-function
trace), the configuration axes (a :class:`Grid`, a list of :class:`Points` or a seeded
random :class:`Sample`, crossed with one another), the seeds and the policies.
:func:`run_sweep` splits it into batches, each one :func:`autoscale.replay` call (one
trace x one seed x one policy x up to ``batch_size`` configurations), runs them here or
on a Dask cluster, and returns one tidy table: a row per configuration x trace x seed x
policy, with every summary output. On Dask each batch carries what a worker needs to
build its policy (a built-in's name, or a user's factory pickled by value), so policies
registered only in the client, in a notebook or in a module the workers cannot import
run there as they do locally.

A *run* is one configuration of one trace under one seed and one policy. Its key is a
hash of the trace's content, the seed, the policy, the platform, the duration and the
resolved configuration, so the same run has the same key in any sweep. With an output
folder every finished batch is written atomically (a temporary file, then a rename) as
soon as it finishes::

    DIR/sweep.json            the sweep's description and its digest
    DIR/batches/<key>.csv     a finished batch: one row per run, its key then its outputs
    DIR/results.csv           the table, written when the sweep completes
    DIR/sweep.lock            while a sweep runs: its pid, host and start time

Started again with the same sweep, :func:`run_sweep` reads which runs are finished and
replays only the others: a batch file is either complete or absent, and a run found in
several files is taken once, so nothing is lost or counted twice however the previous
attempt stopped. A different sweep in the same folder is refused unless ``extend=True``,
which keeps every finished run the new sweep still contains.

One sweep at a time uses a folder: :func:`run_sweep` creates ``sweep.lock`` atomically
and removes it when it returns or raises, and a second sweep into the folder meanwhile
raises :class:`~autoscale.errors.FolderInUseError` at once. A lock left by a killed
sweep (its pid no longer runs on this host) is taken over with a logged warning. A
folder that holds files but no ``sweep.json`` is not a sweep folder and is refused.

Examples
--------
>>> from autoscale.sweep import Grid, Sweep, run_sweep
>>> from autoscale.trace import synthetic
>>> trace = synthetic.poisson(rate=2.0, duration=120.0, service=synthetic.constant(0.2), seed=1)
>>> sweep = Sweep(traces=[trace], seeds=[0, 1],
...               axes=Grid({"target-burst-capacity": [0, -1], "container-concurrency": [1, 10]}))
>>> table = run_sweep(sweep, progress=False)
>>> len(table), list(table.columns[:5])
(8, ['trace', 'seed', 'policy', 'target-burst-capacity', 'container-concurrency'])
>>> bool((table["requests"] == len(trace)).all())
True
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import itertools
import datetime
import json
import logging
import math
import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import progress as _progress
from .config import ANNOTATION_PREFIX, ANNOTATION_TO_FIELD, KEY_TO_FIELD, KPAConfig
from .configmap import resolve
from .engine import replay
from .errors import AutoscaleError, ConfigError, FolderInUseError, TraceError
from .platform import _PLATFORM_ALIASES, PLATFORM_KEYS, Platform
from .results import whole_numbers
from .trace.sizes import check_configurations, check_replay, parse_bytes
from .values import first_repeat

__all__ = [
    "Grid", "Points", "Sample", "Uniform", "Sweep", "run_sweep", "canonical_key",
    "DEFAULT_BATCH_SIZE", "PLATFORM_KEYS",
]

#: Configurations per batch unless told otherwise. The engine's memory grows with the
#: batch and its pods, not with the requests: 0.063 MB per configuration on the
#: yardstick (benchmarks/results.md), so 256 add 16 MB, and a batch of 256 runs about
#: 50 x faster than the same configurations one at a time.
DEFAULT_BATCH_SIZE = 256


MANIFEST = "sweep.json"
BATCHES = "batches"
RESULTS = "results.csv"
LOCK = "sweep.lock"
_MANIFEST_FORMAT = 1
_KPA = ("kpa", ())  # the default policy: replay is called without ``policy=``
_FIELD_TO_KEY = {f: k for k, f in KEY_TO_FIELD.items()}
_log = logging.getLogger(__name__)


# -- values and keys ------------------------------------------------------------------------


def _value(v, where: str):
    """A sweep value as a plain JSON-able scalar: str, bool, int, float or None."""
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or isinstance(v, (str, bool, int)):
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ConfigError(f"{where} = {v}, must be a finite number")
        return v
    raise TypeError(f"{where}: a value must be a str, int, float, bool or None, got {type(v).__name__}")


def _items(mapping, what: str) -> list[tuple[str, object]]:
    if isinstance(mapping, Mapping):
        return [(str(k), v) for k, v in mapping.items()]
    try:
        pairs = [(str(k), v) for k, v in mapping]
    except (TypeError, ValueError):
        raise TypeError(f"{what}: expected a mapping of key -> value, got {type(mapping).__name__}") from None
    return pairs


def _sequence(values, where: str) -> tuple:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{where}: expected a list of values, got {type(values).__name__}")
    return tuple(values)


def canonical_key(name: str) -> str:
    """The Knative key (as in :meth:`KPAConfig.to_dict`) or platform key that ``name`` sets.

    ``name`` is anything :func:`autoscale.resolve` accepts as an override (a Knative
    key, a field name, a bare or full annotation name) or one of :data:`PLATFORM_KEYS`.

    Raises
    ------
    ConfigError
        For an unknown name (with the close matches the config module suggests).

    Examples
    --------
    >>> canonical_key("window"), canonical_key("target_burst_capacity"), canonical_key("cold-start")
    ('stable-window', 'target-burst-capacity', 'cold-start')
    """
    name = _PLATFORM_ALIASES.get(name, name)
    if name in PLATFORM_KEYS or name in KEY_TO_FIELD:
        return name
    if name in _FIELD_TO_KEY:
        return _FIELD_TO_KEY[name]
    for annotation in (name, ANNOTATION_PREFIX + name):
        if annotation in ANNOTATION_TO_FIELD:
            return _FIELD_TO_KEY[ANNOTATION_TO_FIELD[annotation]]
    resolve(overrides={name: None})  # raises the config module's message for an unknown key
    raise ConfigError(f"unknown key {name}")  # pragma: no cover - resolve raised above


def _digest(*parts) -> str:
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _trace_digest(trace) -> str:
    """A hash of a trace's requests, or of a closed-loop workload's pools (every parameter, activity span and
    empirical service time) and its open-loop requests."""
    from .workload import ClosedLoop

    h = hashlib.blake2b(digest_size=16)
    if isinstance(trace, ClosedLoop):
        for pool in trace.pools:
            h.update(pool.name.encode() + b"\0")
            h.update(np.asarray([pool.clients, -1 if pool.requests is None else pool.requests], np.int64).tobytes())
            h.update(pool.parameters().tobytes())
            h.update(np.asarray(pool.empirical_samples(), dtype=np.float64).tobytes())
            h.update(np.asarray([w for c in range(pool.clients_max) for w in pool.windows(c)],
                                dtype=np.float64).tobytes())
        if trace.trace is not None:
            h.update(_trace_digest(trace.trace).encode())
        return h.hexdigest()
    h.update(np.ascontiguousarray(trace.arrivals, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(trace.durations, dtype=np.float64).tobytes())
    return h.hexdigest()


def _requests(trace) -> int:
    """The requests known before a replay: a trace's, or a closed-loop workload's open-loop ones."""
    from .workload import ClosedLoop

    if isinstance(trace, ClosedLoop):
        return 0 if trace.trace is None else len(trace.trace)
    return len(trace)


def _seconds(trace) -> int:
    """The seconds a replay of ``trace`` simulates by default."""
    from .workload import ClosedLoop

    return trace.seconds() if isinstance(trace, ClosedLoop) else int(trace.end) + 1


def _provenance(trace) -> tuple[str, str]:
    """(provenance, where the durations come from) of a trace or a closed-loop workload."""
    from .workload import ClosedLoop

    if isinstance(trace, ClosedLoop):
        return trace.provenance, trace.durations
    return str(trace.provenance), trace.provenance.durations


# -- axes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Uniform:
    """A value drawn uniformly from ``[low, high]``, for a :class:`Sample`.

    Parameters
    ----------
    low, high : float
        The range; with ``integer`` both must be whole numbers and both are included.
    log : bool
        Draw uniformly in the logarithm (``low`` must be > 0): as many draws in [1, 10]
        as in [10, 100].
    integer : bool
        Draw whole numbers (returned as ``int``), for keys such as ``container-concurrency``
        or a ``stable-window`` in whole seconds.

    Examples
    --------
    >>> Uniform(6, 600, log=True, integer=True).draw(np.random.default_rng(1), 4)
    [63, 478, 11, 474]
    """

    low: float
    high: float
    log: bool = False
    integer: bool = False

    def __post_init__(self) -> None:
        low, high = float(self.low), float(self.high)
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ConfigError(f"uniform range [{self.low}, {self.high}]: need finite low < high")
        if self.log and low <= 0:
            raise ConfigError(f"uniform range [{self.low}, {self.high}]: a log-uniform range needs low > 0")
        if self.integer and not (low.is_integer() and high.is_integer()):
            raise ConfigError(f"uniform range [{self.low}, {self.high}]: whole-number draws need whole-number ends")
        object.__setattr__(self, "low", int(low) if self.integer else low)
        object.__setattr__(self, "high", int(high) if self.integer else high)

    def draw(self, rng: np.random.Generator, n: int) -> list:
        """``n`` draws from ``rng``; the first ``k`` draws do not depend on ``n``."""
        lo, hi = self.low, self.high
        if self.integer:
            if self.log:  # log-uniform on [lo, hi + 1), floored: P(k) proportional to log((k + 1) / k)
                x = np.floor(np.exp(rng.uniform(math.log(lo), math.log(hi + 1), n)))
                return [int(v) for v in np.clip(x, lo, hi)]
            return [int(v) for v in rng.integers(lo, hi + 1, size=n)]
        x = np.exp(rng.uniform(math.log(lo), math.log(hi), n)) if self.log else rng.uniform(lo, hi, n)
        return [float(v) for v in x]

    def describe(self) -> dict:
        return {"uniform": [self.low, self.high], "log": self.log, "integer": self.integer}


@dataclass(frozen=True)
class Grid:
    """Every combination of the values given for each key; the last key varies fastest.

    Parameters
    ----------
    values : mapping of str to sequence
        Key -> the values to try. A key is a Knative key such as
        ``"target-burst-capacity"`` (or any name :func:`autoscale.resolve` accepts) or
        one of :data:`PLATFORM_KEYS`. Strings use Knative's syntax (``"60s"``,
        ``"true"``); numbers are taken as they are (durations in seconds).

    Examples
    --------
    >>> Grid({"target-burst-capacity": [0, -1], "stable-window": ["30s", "60s"]}).expand()[:2]
    [{'target-burst-capacity': 0, 'stable-window': '30s'}, {'target-burst-capacity': 0, 'stable-window': '60s'}]
    """

    values: tuple

    def __post_init__(self) -> None:
        axes = []
        for key, values in _items(self.values, "grid"):
            values = tuple(_value(v, key) for v in _sequence(values, f"grid {key}"))
            if not values:
                raise ConfigError(f"grid {key}: no values; give at least one")
            again = first_repeat(values)
            if again >= 0:
                raise ConfigError(f"grid {key}: {values[again]!r} is listed twice; give each value once")
            axes.append((key, values))
        object.__setattr__(self, "values", tuple(axes))

    def keys(self) -> list[str]:
        return [k for k, _ in self.values]

    def expand(self) -> list[dict]:
        """The configurations, as key -> value mappings."""
        keys = self.keys()
        return [dict(zip(keys, combo)) for combo in itertools.product(*(v for _, v in self.values))]

    def describe(self) -> dict:
        return {"grid": {k: list(v) for k, v in self.values}}


@dataclass(frozen=True)
class Points:
    """An explicit list of configurations, each a mapping of key -> value (keys as for :class:`Grid`).

    A configuration may leave out keys that others set; it then has their default.

    Examples
    --------
    >>> Points([{"target-burst-capacity": 0}, {"target-burst-capacity": -1, "stable-window": "30s"}]).keys()
    ['target-burst-capacity', 'stable-window']
    """

    rows: tuple

    def __post_init__(self) -> None:
        rows = tuple(
            tuple((k, _value(v, k)) for k, v in _items(row, f"point {i}"))
            for i, row in enumerate(_sequence(self.rows, "points"))
        )
        if not rows:
            raise ConfigError("points: no configurations; give at least one")
        object.__setattr__(self, "rows", rows)

    def keys(self) -> list[str]:
        return list(dict.fromkeys(k for row in self.rows for k, _ in row))

    def expand(self) -> list[dict]:
        return [dict(row) for row in self.rows]

    def describe(self) -> dict:
        return {"points": [dict(row) for row in self.rows]}


@dataclass(frozen=True)
class Sample:
    """``n`` configurations drawn at random from ``space``, reproducibly from ``seed``.

    Parameters
    ----------
    space : mapping of str to Uniform or sequence
        Key (as for :class:`Grid`) -> a :class:`Uniform` range, or a list of values
        drawn with equal probability.
    n : int
        Configurations to draw.
    seed : int
        Seed of the draws. Each key has its own stream (from ``seed`` and the key's
        name), so adding a key leaves the others' draws unchanged, and a larger ``n``
        keeps the first ``n`` draws: a sweep can be extended with more samples.

    Examples
    --------
    >>> s = Sample({"target-burst-capacity": [0, -1, 211], "target": Uniform(1, 20, integer=True)}, n=3, seed=7)
    >>> s.expand() == Sample(s.space, n=5, seed=7).expand()[:3]
    True
    """

    space: tuple
    n: int
    seed: int = 0

    def __post_init__(self) -> None:
        space = []
        for key, dist in _items(self.space, "sample"):
            if not isinstance(dist, Uniform):
                dist = tuple(_value(v, key) for v in _sequence(dist, f"sample {key}"))
                if not dist:
                    raise ConfigError(f"sample {key}: no values to choose from")
            space.append((key, dist))
        if not space:
            raise ConfigError("sample: no keys to draw")
        if not (isinstance(self.n, (int, np.integer)) and not isinstance(self.n, bool) and self.n >= 1):
            raise ConfigError(f"sample n = {self.n!r}, must be a whole number >= 1")
        if not (isinstance(self.seed, (int, np.integer)) and not isinstance(self.seed, bool) and self.seed >= 0):
            raise ConfigError(f"sample seed = {self.seed!r}, must be a whole number >= 0")
        object.__setattr__(self, "space", tuple(space))
        object.__setattr__(self, "n", int(self.n))
        object.__setattr__(self, "seed", int(self.seed))

    def keys(self) -> list[str]:
        return [k for k, _ in self.space]

    def expand(self) -> list[dict]:
        columns = {}
        for key, dist in self.space:
            stream = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")
            rng = np.random.default_rng([self.seed, stream])
            if isinstance(dist, Uniform):
                columns[key] = dist.draw(rng, self.n)
            else:
                columns[key] = [dist[i] for i in rng.integers(len(dist), size=self.n)]
        return [{k: v[i] for k, v in columns.items()} for i in range(self.n)]

    def describe(self) -> dict:
        space = {k: d.describe() if isinstance(d, Uniform) else list(d) for k, d in self.space}
        return {"sample": space, "n": self.n, "seed": self.seed}


_AXES = (Grid, Points, Sample)


# -- the sweep ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Point:
    """One configuration of the sweep, resolved."""

    config: KPAConfig
    platform: Platform
    columns: dict  # canonical key -> value for the table
    ident: str  # digest of the configuration and platform


def _policy_spec(p, i: int) -> tuple:
    if isinstance(p, str):
        name, params = p, {}
    else:
        try:
            name, params = p
        except (TypeError, ValueError):
            raise TypeError(f"policies[{i}]: expected a name or (name, params), got {p!r}") from None
    if not isinstance(name, str) or not name:
        raise TypeError(f"policies[{i}]: the policy name must be a non-empty str, got {name!r}")
    params = tuple(sorted((k, _value(v, f"policy {name} {k}")) for k, v in _items(params, f"policy {name}")))
    return name, params


def _check_policy(spec: tuple) -> None:
    if spec == _KPA:
        return
    name, params = spec
    try:
        from .policies import get
    except ImportError as e:
        raise ConfigError(f"policy {name!r}: scaling policies other than the default KPA need "
                          f"autoscale.policies ({e})") from None
    try:
        get(name, **dict(params))
    except AutoscaleError:
        raise
    except (TypeError, ValueError) as e:
        raise ConfigError(str(e)) from None


def _describe_policy(spec: tuple) -> str:
    name, params = spec
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in params)})" if params else name


@dataclass(frozen=True)
class Sweep:
    """A sweep: configurations x traces x seeds x policies.

    Parameters
    ----------
    traces : sequence of str, path, Trace or ClosedLoop
        Bundled trace names, trace files (loaded with :func:`autoscale.trace.load` and
        ``load_options``), :class:`~autoscale.trace.Trace` values, or closed-loop
        workloads (:class:`~autoscale.workload.ClosedLoop`, such as
        :func:`autoscale.loadgen.workload` makes of load generators' command lines). The
        table's ``trace`` column holds the name or path as given, or the trace's or
        workload's name; a workload's rows also hold, for each client pool ``P``, what
        it observed: ``load.P.sent``, ``load.P.rps``, ``load.P.status_200`` ... and
        ``load.P.latency_p99_s`` (:attr:`autoscale.ReplayResult.load_summary`).
    axes : Grid, Points, Sample or mapping, or a sequence of them
        The configurations. Several axes are crossed (a grid of some keys x a sample
        of others); a mapping is taken as a :class:`Grid`. None: one configuration.
    seeds : sequence of int
        Seeds of the replay's random streams (routing, scrape sampling, cold starts).
    policies : sequence of str or (str, mapping)
        Policy registry names (``"kpa"``, ``"hpa"``, ``"keepalive"``, ...), each
        optionally with parameters for :func:`autoscale.policies.get`:
        ``("keepalive", {"keep_alive": 60})``. Every policy runs every configuration.
    functions : int or sequence of str or int, optional
        Replay functions of multi-function traces, each as its own trace: the first
        ``n`` functions in the trace's order, or the functions named (by name, unique
        name prefix or index). The table then has a ``function`` column.
    overrides : mapping, optional
        Keys every configuration shares (as for :class:`Grid`; a key may not also be
        swept).
    configmap, service : path, optional
        A ``config-autoscaler`` ConfigMap and a Knative Service manifest, resolved
        under the overrides and the axes (see :func:`autoscale.resolve`).
    platform : Platform
        Cold starts and network delay (the :data:`PLATFORM_KEYS` of an axis or of
        ``overrides`` replace its values).
    duration : float, optional
        Seconds to simulate; by default each trace to its end.
    batch_size : int
        Most configurations in one replay call. A batch's memory grows with it;
        results do not depend on it, so it may change between runs of a sweep.
    load_options : mapping, optional
        Passed to :func:`autoscale.trace.load` for traces given by name or path
        (``start``, ``end`` and ``scale`` load a time window or a thinning of each).
    max_memory : int or str, optional
        The memory limit (:mod:`autoscale.trace.sizes`); not part of the sweep's
        identity. More configurations than
        :data:`~autoscale.trace.sizes.MAX_CONFIGURATIONS`, or traces, batches and a
        table that would not fit, are refused before the first replay.

    Raises
    ------
    ConfigError
        For an unknown key, a value out of range (naming the key, the value and the
        range), a key both swept and fixed or swept twice, an unknown policy.

    Examples
    --------
    >>> s = Sweep(traces=["default"], axes={"target-burst-capacity": [0, 211, -1]}, seeds=range(2))
    >>> s.keys, len(s.points()), s.configurations()[2].target_burst_capacity
    (['target-burst-capacity'], 3, -1.0)
    """

    traces: tuple
    axes: tuple = ()
    seeds: tuple = (0,)
    policies: tuple = ("kpa",)
    functions: int | tuple | None = None
    overrides: tuple = ()
    configmap: str | None = None
    service: str | None = None
    platform: Platform = field(default_factory=Platform)
    duration: float | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    load_options: tuple = ()
    max_memory: int | str | None = None

    def __post_init__(self) -> None:
        from .trace import Trace
        from .workload import ClosedLoop

        traces = self.traces
        if isinstance(traces, (str, os.PathLike, Trace, ClosedLoop)):
            traces = (traces,)
        traces = tuple(t if isinstance(t, (Trace, ClosedLoop)) else os.fspath(t) for t in _sequence(traces, "traces"))
        if not traces:
            raise ConfigError("traces: no traces; give at least one")
        set_ = object.__setattr__
        set_(self, "traces", traces)

        axes = self.axes
        if axes is None:
            axes = ()
        elif isinstance(axes, (Mapping, *_AXES)):
            axes = (axes,)
        axes = tuple(a if isinstance(a, _AXES) else Grid(a) if isinstance(a, Mapping) else _bad_axis(a)
                     for a in _sequence(axes, "axes"))
        set_(self, "axes", axes)

        seeds = _sequence(self.seeds, "seeds (a list of ints, e.g. range(4))")
        for s in seeds:
            if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
                raise ConfigError(f"seed = {s!r}, must be a whole number >= 0")
        seeds = tuple(int(s) for s in seeds)
        if not seeds or len(set(seeds)) != len(seeds):
            raise ConfigError(f"seeds = {list(seeds)}: give at least one, each once")
        set_(self, "seeds", seeds)

        policies = self.policies
        if isinstance(policies, str):
            policies = (policies,)
        policies = tuple(_policy_spec(p, i) for i, p in enumerate(_sequence(policies, "policies")))
        if not policies or len(set(policies)) != len(policies):
            raise ConfigError(f"policies = {[_describe_policy(p) for p in policies]}: give at least one, each once")
        for p in policies:
            _check_policy(p)
        set_(self, "policies", policies)

        functions = self.functions
        if functions is not None:
            if isinstance(functions, (int, np.integer)) and not isinstance(functions, bool):
                if functions < 1:
                    raise ConfigError(f"functions = {functions}, must be >= 1")
                functions = int(functions)
            else:
                if isinstance(functions, str):
                    functions = (functions,)
                functions = tuple(f if isinstance(f, str) else int(f) for f in _sequence(functions, "functions"))
                if not functions:
                    raise ConfigError("functions: an empty list; give function ids, a count, or None")
            set_(self, "functions", functions)

        set_(self, "overrides", tuple((k, _value(v, k)) for k, v in _items(self.overrides, "overrides")))
        set_(self, "load_options", tuple(sorted(_items(self.load_options, "load_options"))))
        for name in ("configmap", "service"):
            value = getattr(self, name)
            if value is not None:
                set_(self, name, os.fspath(value))
        if not isinstance(self.platform, Platform):
            raise TypeError(f"platform must be a Platform, got {type(self.platform).__name__}")
        if self.duration is not None:
            d = float(self.duration)
            if not (math.isfinite(d) and d > 0):
                raise ConfigError(f"duration = {self.duration} s, must be > 0")
            set_(self, "duration", d)
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, (int, np.integer)) \
                or self.batch_size < 1:
            raise ConfigError(f"batch_size = {self.batch_size!r}, must be a whole number >= 1")
        set_(self, "batch_size", int(self.batch_size))
        if self.max_memory is not None:
            set_(self, "max_memory", parse_bytes(self.max_memory))
        count = math.prod(_axis_size(a) for a in axes)
        what = "sweep of " + " x ".join(f"{_axis_size(a):,} ({_axis_label(a)})" for a in axes) if axes else "sweep"
        check_configurations(count, what, per_batch=self.batch_size, max_memory=self.max_memory)
        if self.duration is not None:
            check_replay(f"sweep for duration {self.duration:g} s", configurations=min(count, self.batch_size),
                         seconds=self.duration, max_memory=self.max_memory)
        set_(self, "_resolved", self._resolve())

    # -- configurations ----------------------------------------------------------------------

    @property
    def keys(self) -> list[str]:
        """The swept keys (Knative or platform keys), in the order the axes name them."""
        return list(self._resolved[0])

    def points(self) -> list[dict]:
        """The configurations as the axes give them: key -> value, one mapping per configuration."""
        expanded = [a.expand() for a in self.axes]
        return [dict(itertools.chain.from_iterable(p.items() for p in combo))
                for combo in itertools.product(*expanded)]

    def configurations(self) -> list[KPAConfig]:
        """The resolved configuration of every point, in the order of :meth:`points`."""
        return [p.config for p in self._resolved[1]]

    def _resolve(self) -> tuple[list[str], list[_Point]]:
        owner: dict[str, str] = {}  # canonical key -> the name that sets it

        def claim(name: str, where: str) -> str:
            key = canonical_key(name)
            if key in owner:
                raise ConfigError(f"{key} is set twice ({owner[key]!r} and {name!r} {where}); "
                                  "sweep or fix each key once")
            owner[key] = f"{name!r} {where}"
            return key

        for name, _ in self.overrides:
            claim(name, "in the fixed values")
        keys: list[str] = []
        for i, axis in enumerate(self.axes):
            for name in axis.keys():
                keys.append(claim(name, f"in axis {i}"))
        fixed_platform = {canonical_key(k): v for k, v in self.overrides if canonical_key(k) in PLATFORM_KEYS}
        base_platform = self.platform.with_settings(fixed_platform)
        fixed_config = {k: v for k, v in self.overrides if canonical_key(k) not in PLATFORM_KEYS}
        points = []
        for values in self.points():
            platform_values = {}
            overrides = dict(fixed_config)
            for name, value in values.items():
                key = canonical_key(name)
                if key in PLATFORM_KEYS:
                    platform_values[key] = value
                else:
                    overrides[name] = value
            config = resolve(configmap=self.configmap, service=self.service, overrides=overrides).config
            platform = base_platform.with_settings(platform_values)
            knative = config.to_dict()
            columns = {k: (platform.setting(k) if k in PLATFORM_KEYS else knative[k]) for k in keys}
            ident = _digest(knative, dataclasses.asdict(platform))
            points.append(_Point(config=config, platform=platform, columns=columns, ident=ident))
        return keys, points

    # -- identity ----------------------------------------------------------------------------

    def describe(self) -> dict:
        """Everything that decides the sweep's table, as JSON-able values (the batch size aside)."""
        traces = [t if isinstance(t, str) else {"name": t.name, "digest": _trace_digest(t)} for t in self.traces]
        return {
            "traces": traces,
            "functions": list(self.functions) if isinstance(self.functions, tuple) else self.functions,
            "load_options": dict(self.load_options),
            "axes": [a.describe() for a in self.axes],
            "overrides": dict(self.overrides),
            "configmap": self.configmap,
            "service": self.service,
            "platform": dataclasses.asdict(self.platform),
            "seeds": list(self.seeds),
            "policies": [{"name": n, "params": dict(p)} for n, p in self.policies],
            "duration": self.duration,
        }

    @property
    def digest(self) -> str:
        """A hash of :meth:`describe`: equal for sweeps that give the same table."""
        return _digest(self.describe())


def _axis_size(axis) -> int:
    """Configurations an axis gives, counted without expanding it."""
    if isinstance(axis, Grid):
        return math.prod(len(v) for _, v in axis.values)
    return len(axis.rows) if isinstance(axis, Points) else axis.n


def _axis_label(axis) -> str:
    if isinstance(axis, Grid):
        return " x ".join(f"{len(v)} {k}" for k, v in axis.values)
    return "points" if isinstance(axis, Points) else "samples"


def _bad_axis(a):
    raise TypeError(f"axes: expected Grid, Points, Sample or a mapping, got {type(a).__name__}")


# -- planning -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """One trace of the sweep (a function of a multi-function trace counts as one)."""

    label: str
    function: str | None
    trace: object
    digest: str


@dataclass(frozen=True)
class _Batch:
    """One replay call: a trace, a seed, a policy, a platform and up to batch_size configurations."""

    key: str
    source: int
    seed: int
    policy: tuple
    platform: Platform
    duration: float | None
    configs: tuple
    cells: tuple  # the run key of each configuration

    def subset(self, keep: list[int]) -> "_Batch":
        cells = tuple(self.cells[i] for i in keep)
        return dataclasses.replace(self, key=_digest(*cells), configs=tuple(self.configs[i] for i in keep),
                                   cells=cells)


@dataclass
class _Plan:
    sources: list[_Source]
    frame: pd.DataFrame  # the identifying columns of the table, in its order, plus "cell"
    batches: list[_Batch]

    @property
    def runs(self) -> int:
        return sum(len(b.cells) for b in self.batches)

    def provenance(self) -> list[dict]:
        """Per trace: its label, function, provenance and where its durations come from."""
        return [{"trace": s.label, "function": s.function, "provenance": _provenance(s.trace)[0],
                 "durations": _provenance(s.trace)[1]} for s in self.sources]


def _split_functions(trace, label: str, functions) -> list[tuple[str, object]]:
    """(function name, single-function trace) for the functions chosen."""
    from .trace import Trace

    if trace.function is None:
        raise TraceError(f"trace {label}: a single-function trace has no functions to choose from")
    names = trace.function_names
    if isinstance(functions, tuple):
        out = []
        for f in functions:
            one = trace.select(function=f)
            out.append((one.function_names[0], one))
        return out
    if functions > len(names):
        raise TraceError(f"trace {label}: functions = {functions}, but it has {len(names)}")
    # One stable sort groups every function's requests, still in arrival order.
    order = np.argsort(trace.function, kind="stable")
    starts = np.searchsorted(trace.function[order], np.arange(functions + 1))
    out = []
    for i in range(functions):
        idx = order[starts[i]:starts[i + 1]]
        if idx.size == 0:
            raise TraceError(f"trace {label}: function {names[i]} has no requests")
        out.append((names[i], Trace(
            arrivals=trace.arrivals[idx], durations=trace.durations[idx], name=f"{trace.name}:{names[i][:12]}",
            provenance=trace.provenance.with_note(f"selected 1 of {len(names)} functions"))))
    return out


def _load_sources(sweep: Sweep) -> list[_Source]:
    from .trace import load
    from .workload import ClosedLoop

    sources = []
    limit = {} if sweep.max_memory is None else {"max_memory": sweep.max_memory}
    for ref in sweep.traces:
        trace = load(ref, **dict(sweep.load_options), **limit) if isinstance(ref, str) else ref
        label = ref if isinstance(ref, str) else trace.name
        if isinstance(trace, ClosedLoop) and sweep.functions is not None:
            raise ConfigError(f"functions = {sweep.functions!r}: workload {label} has client pools, not functions "
                              "to choose from")
        parts = [(None, trace)] if sweep.functions is None else _split_functions(trace, label, sweep.functions)
        for function, one in parts:
            sources.append(_Source(label=label, function=function, trace=one, digest=_trace_digest(one)))
    seen = set()
    for s in sources:
        if (s.label, s.function) in seen:
            what = f"trace {s.label}" + (f" function {s.function}" if s.function else "")
            raise ConfigError(f"{what} is in the sweep twice; give each trace once")
        seen.add((s.label, s.function))
    return sources


def _plan(sweep: Sweep) -> _Plan:
    keys, points = sweep._resolved
    sources = _load_sources(sweep)
    runs = len(sources) * len(sweep.seeds) * len(sweep.policies) * len(points)
    seconds = sweep.duration if sweep.duration is not None else max(_seconds(s.trace) for s in sources)
    requests = sum(_requests(s.trace) for s in sources)
    check_replay(f"sweep of {runs:,} runs over {len(sources):,} trace(s) of {requests:,} "
                 "requests", requests=requests,
                 configurations=min(len(points), sweep.batch_size), seconds=seconds, rows=runs,
                 max_memory=sweep.max_memory)
    # Points that share a platform go in the same batches (a replay has one platform).
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(points):
        groups.setdefault(_digest(dataclasses.asdict(p.platform)), []).append(i)
    param_names = list(dict.fromkeys(k for _, params in sweep.policies for k, _ in params))

    ident = {"trace": [], "function": [], "seed": [], "policy": [], **{f"policy.{k}": [] for k in param_names}}
    cells: list[str] = []
    batches = []
    n = len(points)
    for si, src in enumerate(sources):
        for seed in sweep.seeds:
            for policy in sweep.policies:
                base = _digest(src.digest, seed, policy, sweep.duration)
                cell = [_digest(base, p.ident) for p in points]
                cells.extend(cell)
                ident["trace"].extend([src.label] * n)
                ident["function"].extend([src.function] * n)
                ident["seed"].extend([seed] * n)
                ident["policy"].extend([policy[0]] * n)
                params = dict(policy[1])
                for k in param_names:
                    ident[f"policy.{k}"].extend([params.get(k)] * n)
                for members in groups.values():
                    seen, chosen = set(), []
                    for i in members:  # the same run twice (a repeated point) is replayed once
                        if cell[i] not in seen:
                            seen.add(cell[i])
                            chosen.append(i)
                    for lo in range(0, len(chosen), sweep.batch_size):
                        part = chosen[lo:lo + sweep.batch_size]
                        batch_cells = tuple(cell[i] for i in part)
                        batches.append(_Batch(
                            key=_digest(*batch_cells), source=si, seed=seed, policy=policy,
                            platform=points[part[0]].platform, duration=sweep.duration,
                            configs=tuple(points[i].config for i in part), cells=batch_cells))
    frame = pd.DataFrame({k: v for k, v in ident.items() if k != "function" or sweep.functions is not None})
    repeats = len(sources) * len(sweep.seeds) * len(sweep.policies)
    for k in keys:
        frame[k] = whole_numbers([p.columns[k] for p in points] * repeats)
    for k in param_names:
        frame[f"policy.{k}"] = whole_numbers(frame[f"policy.{k}"])
    frame["cell"] = cells
    return _Plan(sources=sources, frame=frame, batches=batches)


# -- running a batch ------------------------------------------------------------------------


def _run_batch(trace, batch: _Batch, parallel: bool | None = None, recipe: _Recipe | None = None) -> str:
    """Replay one batch; its outputs as CSV text, one row per run, the run key first (what a Dask task returns).

    The batch's policy is built from ``recipe`` when given (on a Dask worker), else from
    this process's registry.
    """
    return _batch_outputs(trace, batch, parallel, recipe).to_csv(index=False)  # floats' shortest round-trip repr


def _batch_outputs(trace, batch: _Batch, parallel: bool | None = None, recipe: _Recipe | None = None) -> pd.DataFrame:
    """Replay one batch; its outputs, one row per run, the run key first."""
    kw = {}
    if recipe is not None:
        kw["policy"] = recipe.build()
    elif batch.policy != _KPA:
        from .policies import get

        name, params = batch.policy
        kw["policy"] = get(name, **dict(params))
    result = replay(trace, list(batch.configs), platform=batch.platform, seed=batch.seed,
                    duration=batch.duration, parallel=parallel, progress=False, **kw)
    columns = result._summary_columns(keys=False)
    names = list(columns)
    outputs = pd.DataFrame({"cell": list(batch.cells), **{k: columns[k] for k in names[names.index("requests"):]}})
    load = result.load_summary
    if load is not None:  # a closed-loop workload: what each pool observed, beside the summary
        for pool, rows in load.groupby("pool", sort=False):
            rows = rows.set_index("config").loc[np.arange(len(batch.configs))]
            for col in rows.columns.drop("pool"):
                outputs[f"load.{pool}.{col}"] = rows[col].to_numpy()
    return outputs


# pandas before 3.1 parses floats exactly only with the round-trip converter (3.1 always does).
_EXACT_FLOATS = {"float_precision": "round_trip"} if tuple(map(int, pd.__version__.split(".")[:2])) < (3, 1) else {}


def _parse(text) -> pd.DataFrame:
    return pd.read_csv(text if isinstance(text, Path) else io.StringIO(text), **_EXACT_FLOATS)


# -- the output folder ----------------------------------------------------------------------


def _atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path``: a temporary file in the same folder, flushed, then renamed over it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _short(value, limit: int = 80) -> str:
    text = json.dumps(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _differences(old, new, path: str = "") -> list[str]:
    """Where two descriptions differ, as ``path: old -> new``, descending into mappings and equal-length lists."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in list(old) + [k for k in new if k not in old]:
            out += _differences(old.get(k), new.get(k), f"{path}.{k}" if path else str(k))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new) \
            and any(isinstance(v, (dict, list)) for v in old):
        return [d for i, (a, b) in enumerate(zip(old, new)) for d in _differences(a, b, f"{path}[{i}]")]
    return [f"{path}: {_short(old)} -> {_short(new)}"]


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (signal 0 checks without signalling)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it runs, as another user
        return True
    except OSError:
        return True  # cannot tell: count it as running
    return True


class _FolderLock:
    """``DIR/sweep.lock``: a hard link to a file its sweep wrote first, so exactly one sweep holds the
    folder (a link fails where the lock exists) and the lock is never seen half written.

    The file holds the holder's pid, host and start time as JSON. A lock whose pid is no
    longer alive on this host is stale: it is moved aside atomically (only one process
    can move a given file) and the create is tried again.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / LOCK
        self.held = False

    def acquire(self) -> None:
        me = {"pid": os.getpid(), "host": socket.gethostname(),
              "since": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
        # The lock appears whole or not at all: written to a file of this process, then linked in
        # place (a link fails where the lock exists), so a sweep starting beside it never reads a
        # lock half written.
        mine = self.path.with_name(f".{LOCK}.{os.getpid()}.new")
        with open(mine, "w", encoding="utf-8") as f:
            f.write(json.dumps(me) + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            for _ in range(5):
                try:
                    os.link(mine, self.path)
                except FileExistsError:
                    seen, holder = self._read()
                    if not self._stale(holder):
                        raise self._in_use(holder) from None
                    if self._take_over(seen):
                        _log.warning("%s: taking over the lock of pid %s on %s since %s, which no longer runs",
                                     self.path, holder["pid"], holder["host"], holder.get("since", "?"))
                    continue
                self.held = True
                return
        finally:
            mine.unlink(missing_ok=True)
        raise self._in_use(self._read()[1])

    def release(self) -> None:
        if self.held:
            self.held = False
            self.path.unlink(missing_ok=True)

    def _read(self) -> tuple[bytes, dict | None]:
        try:
            seen = self.path.read_bytes()
        except FileNotFoundError:
            return b"", {}  # released meanwhile: the next create may succeed
        try:
            holder = json.loads(seen)
            holder["pid"] = int(holder["pid"])
            holder["host"] = str(holder["host"])
        except (ValueError, TypeError, KeyError):
            return seen, None  # being written, or not a lock of ours
        return seen, holder

    @staticmethod
    def _stale(holder: dict | None) -> bool:
        if holder is None:
            return False
        if not holder:
            return True  # gone: try the create again
        return holder["host"] == socket.gethostname() and holder["pid"] != os.getpid() and not _alive(holder["pid"])

    def _take_over(self, seen: bytes) -> bool:
        """Move the stale lock aside; put it back if it turns out to be another sweep's fresh one."""
        if not seen:
            return False
        aside = self.path.with_name(f".{LOCK}.{os.getpid()}.stale")
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            return False  # another sweep moved it first
        if aside.read_bytes() == seen:
            aside.unlink()
            return True
        with contextlib.suppress(FileExistsError):
            os.link(aside, self.path)  # never over a lock created meanwhile
        aside.unlink()
        return False

    def _in_use(self, holder: dict | None) -> FolderInUseError:
        hint = (f"wait for it to finish or stop it, or use another folder; if no sweep runs there, "
                f"delete {self.path}")
        if not holder:
            return FolderInUseError(f"folder {self.root} in use: {self.path} names no process (a sweep is "
                                    f"starting, or the file is not a lock); {hint}")
        pid, host, since = holder["pid"], holder["host"], holder.get("since", "an unknown time")
        return FolderInUseError(f"folder {self.root} in use by pid {pid} on {host} since {since}; {hint}",
                                pid=pid, host=host, since=since)


class _Store:
    """The output folder: lock, manifest, one file per finished batch, the final table."""

    def __init__(self, root) -> None:
        self.root = Path(root)
        self.batches = self.root / BATCHES
        self.lock = _FolderLock(self.root)

    def claim(self) -> None:
        """Create the folder, refuse one that holds files but no sweep, and lock it (released by ``release``)."""
        if self.root.exists() and not self.root.is_dir():
            raise ConfigError(f"{self.root}: not a folder; give a new or empty folder, or the folder of a sweep")
        self.root.mkdir(parents=True, exist_ok=True)
        names = {p.name for p in self.root.iterdir()}
        if MANIFEST not in names:
            foreign = sorted(n for n in names - {BATCHES, LOCK} if not n.startswith("."))
            if foreign:
                shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
                raise ConfigError(f"{self.root} holds files but is not a sweep folder (no {MANIFEST}; found "
                                  f"{shown}); give a new or empty folder, or the folder of a sweep to resume")
        self.lock.acquire()

    def release(self) -> None:
        self.lock.release()

    def open(self, sweep: Sweep, extend: bool, provenance: list | None = None) -> None:
        """Create the folder, or check that it holds this sweep (or take it over with ``extend``).

        ``provenance`` (one entry per trace: its label, function, provenance and where
        its durations come from) is recorded in the manifest beside the description.
        """
        self.batches.mkdir(parents=True, exist_ok=True)
        for stale in self.batches.glob(".*.tmp"):  # left by a writer killed between write and rename
            stale.unlink(missing_ok=True)
        manifest = self.root / MANIFEST
        description = json.loads(json.dumps(sweep.describe()))
        digest = sweep.digest
        provenance = provenance or []
        if manifest.exists():
            try:
                old = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                raise ConfigError(f"{manifest}: not a sweep manifest ({e})") from None
            if old.get("digest") == digest and old.get("provenance") == provenance:
                return
            if old.get("digest") == digest:
                extend = True  # the same sweep, written before its provenance was recorded
            if not extend:
                diffs = _differences(old.get("sweep", {}), description)
                shown = "; ".join(diffs[:4]) + (f"; and {len(diffs) - 4} more" if len(diffs) > 4 else "")
                raise ConfigError(
                    f"{self.root} holds a different sweep ({shown or 'another manifest format'}); "
                    "use another folder, or extend this one (--extend, extend=True) to keep its finished "
                    "runs that the new sweep contains")
        elif any(self.batches.glob("*.csv")) and not extend:
            raise ConfigError(f"{self.root} holds batch results but no {MANIFEST}; use another folder, "
                              "or extend this one (--extend, extend=True) to keep the runs the sweep contains")
        text = json.dumps({"format": _MANIFEST_FORMAT, "digest": digest, "sweep": description,
                           "provenance": provenance}, indent=2)
        _atomic_write(manifest, text + "\n")

    def finished(self) -> set[str]:
        return {p.stem for p in self.batches.glob("*.csv")}

    def path(self, key: str) -> Path:
        return self.batches / f"{key}.csv"

    def cells(self, keys: Iterable[str]) -> dict[str, str]:
        """Run key -> the batch file holding it, for the batch files ``keys``."""
        out = {}
        for key in sorted(keys):
            for cell in pd.read_csv(self.path(key), usecols=["cell"])["cell"]:
                out.setdefault(cell, key)
        return out

    def write(self, key: str, text: str) -> None:
        _atomic_write(self.path(key), text)

    def read(self, key: str) -> pd.DataFrame:
        return _parse(self.path(key))

    def write_results(self, table: pd.DataFrame) -> None:
        _atomic_write(self.root / RESULTS, table.to_csv(index=False))


def _pending(plan: _Plan, store: _Store | None) -> tuple[list[_Batch], list[str]]:
    """The batches still to run, and the finished batch files the table needs."""
    if store is None:
        return list(plan.batches), []
    finished = store.finished()
    planned = {b.key for b in plan.batches}
    todo, needed = [], []
    index = None  # run key -> file, over the finished files this plan does not name
    for b in plan.batches:
        if b.key in finished:
            needed.append(b.key)
            continue
        if index is None:
            index = store.cells(finished - planned)
        missing = [i for i, c in enumerate(b.cells) if c not in index]
        needed.extend(index[c] for i, c in enumerate(b.cells) if c in index)
        if missing:
            todo.append(b if len(missing) == len(b.cells) else b.subset(missing))
    return todo, list(dict.fromkeys(needed))


# -- policies on Dask workers ---------------------------------------------------------------


@dataclass(frozen=True)
class _Recipe:
    """How a worker builds a batch's policy without the client's registry.

    A built-in policy travels as its name, built from the worker's own import of
    :mod:`autoscale.policies`; any other as its factory pickled by cloudpickle (``factory``),
    so a policy defined in ``__main__``, a notebook cell or a module only the client can
    import, or registered only in the client, builds the same on every worker.
    """

    name: str
    params: tuple
    factory: bytes | None = None

    def build(self):
        """The policy, with the sweep's parameters."""
        if self.factory is None:
            from .policies import _BUILTIN

            return _BUILTIN[self.name](**dict(self.params))
        import cloudpickle

        return cloudpickle.loads(self.factory)(**dict(self.params))


def _own_modules(factory) -> list:
    """The modules whose code ``factory`` carries that a worker may lack: the user's, not Python's or ours.

    The module of the factory (of the function a ``functools.partial`` wraps), of its
    class for a callable object, and of every base class of a class, when it is a Python
    source file outside the standard library and outside this package.
    """
    import functools
    import sys

    obj = factory
    while isinstance(obj, functools.partial):
        obj = obj.func
    owners = list(obj.__mro__) if isinstance(obj, type) else [obj, type(obj)]
    ours = __name__.partition(".")[0]
    found = {}
    for owner in owners:
        name = getattr(owner, "__module__", None)
        if not isinstance(name, str) or name == "__main__":
            continue  # cloudpickle sends what __main__ defines by value already
        top = name.partition(".")[0]
        module = sys.modules.get(name)
        if top == ours or top in sys.stdlib_module_names or module is None:
            continue
        if str(getattr(module, "__file__", None) or "").endswith(".py"):
            found[name] = module
    return list(found.values())


def _pickled_factory(name: str, factory) -> bytes:
    """``factory`` pickled for the workers: the user's modules by value, so the workers need not import them.

    When a module cannot be pickled by value (it holds an object that does not pickle),
    the factory is pickled by reference, for workers that can import its module.

    Raises
    ------
    ConfigError
        Naming the policy and what to do, when neither pickles.
    """
    import cloudpickle

    registered = set(cloudpickle.list_registry_pickle_by_value())
    modules = [m for m in _own_modules(factory) if m.__name__ not in registered]
    for module in modules:
        cloudpickle.register_pickle_by_value(module)
    try:
        return cloudpickle.dumps(factory)
    except Exception as exc:  # pickling raises whatever the objects' own reducers raise
        first = exc
    finally:
        for module in modules:
            cloudpickle.unregister_pickle_by_value(module)
    try:
        return cloudpickle.dumps(factory)
    except Exception:  # by reference fails too: report the first failure
        pass
    raise ConfigError(
        f"policy {name!r} ({_factory_label(factory)}) cannot be sent to the Dask workers: "
        f"{type(first).__name__}: {first}; register a class or function defined at the top level of a "
        "module or notebook cell that holds no open files, locks or connections (create those in the "
        "policy's start), or run the sweep without a scheduler") from None


def _factory_label(factory) -> str:
    module = getattr(factory, "__module__", None) or type(factory).__module__
    qualname = getattr(factory, "__qualname__", None) or type(factory).__qualname__
    return f"{module}.{qualname}"


def _recipes(policies: Iterable[tuple]) -> dict:
    """Policy spec -> the :class:`_Recipe` its batches carry (``None`` for the default KPA)."""
    from .policies import _BUILTIN, REGISTRY, get

    pickled: dict[str, bytes] = {}
    out = {}
    for spec in policies:
        if spec == _KPA:
            out[spec] = None
            continue
        name, params = spec
        if name not in REGISTRY:
            get(name)  # unregistered since the sweep was made: the registry's message
        factory = REGISTRY[name]
        if _BUILTIN.get(name) is factory:
            out[spec] = _Recipe(name, params)
            continue
        if name not in pickled:
            pickled[name] = _pickled_factory(name, factory)
        out[spec] = _Recipe(name, params, pickled[name])
    return out


def _build_policy(recipe: _Recipe) -> bool:
    """Build ``recipe``'s policy (on a worker, to find a policy it cannot build before any batch runs)."""
    recipe.build()
    return True


def _check_recipes(client, recipes: dict) -> None:
    """Build every policy sent by value on a worker; refuse, naming it, one that does not build there."""
    shipped = [r for r in recipes.values() if r is not None and r.factory is not None]
    futures = [client.submit(_build_policy, r, pure=False) for r in shipped]
    try:
        for recipe, future in zip(shipped, futures):
            try:
                future.result()
            except Exception as exc:  # whatever the user's code raises on the worker
                raise ConfigError(
                    f"policy {recipe.name!r}: the Dask workers cannot build it ({type(exc).__name__}: {exc}); "
                    "install the modules it uses on the workers, or have them sent with the policy by "
                    "calling cloudpickle.register_pickle_by_value(module) before the sweep") from None
    finally:
        client.cancel(futures)


# -- executors ------------------------------------------------------------------------------


def _run_local(plan: _Plan, todo: list[_Batch], on_done) -> None:
    for b in todo:
        on_done(b, _batch_outputs(plan.sources[b.source].trace, b))


def _run_dask(plan: _Plan, todo: list[_Batch], on_done, scheduler, workers) -> None:
    """One task per batch on Dask workers; the client handles each result as it completes."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise AutoscaleError("running a sweep on Dask needs dask[distributed]: "
                             "pip install 'autoscale[dask]'") from None
    recipes = _recipes(dict.fromkeys(b.policy for b in todo))  # a policy that does not pickle: refused now
    with contextlib.ExitStack() as stack:
        if isinstance(scheduler, Client):
            client = scheduler
        else:
            if scheduler is None:
                from distributed import LocalCluster

                scheduler = stack.enter_context(LocalCluster(
                    n_workers=workers, threads_per_worker=1, dashboard_address=None))
            client = stack.enter_context(Client(scheduler))
        _check_recipes(client, recipes)
        used = sorted({b.source for b in todo})
        scattered = dict(zip(used, client.scatter([plan.sources[i].trace for i in used], hash=False)))
        # One thread per task: the worker processes are the parallelism.
        futures = [client.submit(_run_batch, scattered[b.source], b, False, recipes[b.policy],
                                 key=f"autoscale-sweep-{b.key}")
                   for b in todo]
        by_key = {f.key: b for f, b in zip(futures, todo)}
        try:
            for future in as_completed(futures):
                on_done(by_key[future.key], future.result())
                future.release()
        finally:
            client.cancel(futures)
            client.cancel(list(scattered.values()))


# -- the entry point ------------------------------------------------------------------------


def run_sweep(sweep: Sweep, out=None, progress=None, scheduler=None, workers: int | None = None,
              extend: bool = False) -> pd.DataFrame:
    """Run ``sweep`` and return its table.

    Parameters
    ----------
    sweep : Sweep
    out : path, optional
        Output folder. Every finished batch is written there atomically, and the table
        as ``results.csv`` at the end; run again with the same sweep, only the
        unfinished runs are replayed. Without it, everything stays in memory.
    progress : bool or callable, optional
        The runs finished, with an ETA, on standard error once the sweep has run for a
        few seconds (:mod:`autoscale.progress`): a bar on a terminal or in Jupyter,
        a plain line every few seconds in a log. Shown by default unless
        ``AUTOSCALE_PROGRESS=0``; ``False`` for none. A resumed sweep starts at the runs
        already finished. A callable is called as ``progress(done, total)`` (runs
        finished, runs in the sweep) after each finished batch; what it raises stops the
        sweep (finished batches stay written).
    scheduler : str, distributed.Client or cluster, optional
        Run the batches on Dask: a scheduler address (``"tcp://host:8786"``), a
        ``Client`` (left open), or a cluster object. The workers need this package
        (the same version) and its dependencies; they do not need the policies
        registered here. Each batch carries its policy: a built-in one by name, any
        other (a class or function registered with :func:`autoscale.policies.register`,
        defined in ``__main__``, a notebook or the user's own modules) as its factory
        pickled by value with cloudpickle. Each such policy is built once on a worker
        before the first batch is sent.
    workers : int, optional
        Run the batches on a local Dask cluster of this many single-threaded worker
        processes.
    extend : bool
        Accept an output folder that holds another sweep: its finished runs that this
        sweep contains are kept, and the folder now holds this sweep.

    While it runs, the sweep holds ``out/sweep.lock`` (its pid, host and start time),
    removed when it returns or raises.

    Returns
    -------
    pandas.DataFrame
        One row per run, ordered by trace (and function), seed, policy and
        configuration: ``trace``, ``function`` (when functions are chosen), ``seed``,
        ``policy``, ``policy.<param>`` for policy parameters, the swept keys, then
        every output of :attr:`autoscale.ReplayResult.summary`. ``attrs["sweep"]``
        counts the runs, the batches and the batches replayed by this call;
        ``attrs["provenance"]`` gives per trace its provenance and where its durations
        come from (as ``sweep.json`` records them). The same sweep gives the same
        table, locally or on Dask, in one go or resumed.

    Raises
    ------
    TooLargeError
        When the traces, a batch, the simulated seconds and the table would not fit
        in ``sweep.max_memory`` (checked after loading, before the first replay).
    FolderInUseError
        When another sweep, still running, holds ``out`` (naming its pid, host and
        start time). The lock of a sweep that no longer runs is taken over, with a
        warning on the ``autoscale.sweep`` logger.
    ConfigError
        When ``out`` holds a different sweep (naming what differs) and ``extend`` is
        false; when ``out`` holds files but no ``sweep.json``; for ``scheduler`` and
        ``workers`` together; on Dask, before any batch runs, for a policy that
        cannot be pickled or that the workers cannot build (naming it and what to do).
    """
    if not isinstance(sweep, Sweep):
        raise TypeError(f"run_sweep: expected a Sweep, got {type(sweep).__name__}")
    if scheduler is not None and workers is not None:
        raise ConfigError("give a Dask scheduler or a number of local workers, not both")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"workers = {workers!r}, must be a whole number >= 1")
    if out is None:
        return _execute(_plan(sweep), None, progress, scheduler, workers)
    store = _Store(out)
    store.claim()  # before loading the traces: a folder in use is refused at once
    try:
        plan = _plan(sweep)
        store.open(sweep, extend, plan.provenance())
        return _execute(plan, store, progress, scheduler, workers)
    finally:
        store.release()


def _execute(plan: _Plan, store: _Store | None, progress, scheduler, workers) -> pd.DataFrame:
    """Run the pending batches of ``plan``, read the finished ones, and write the table."""
    todo, needed = _pending(plan, store)
    total = plan.runs
    done = total - sum(len(b.cells) for b in todo)
    frames = []
    shown = _progress.bar(total, "sweep", "runs", initial=done, progress=progress)

    def on_done(batch: _Batch, result) -> None:
        """A batch's outputs: CSV text (from a Dask worker) or a frame (replayed here)."""
        nonlocal done
        if store is None and isinstance(result, pd.DataFrame):
            # Kept as replayed: the same values and types as the CSV round trip gives (the floats' shortest
            # representations parse back exactly), without it.
            frames.append(result)
        else:
            text = result if isinstance(result, str) else result.to_csv(index=False)
            if store is not None:
                store.write(batch.key, text)
            frames.append(_parse(text))
        done += len(batch.cells)
        shown.set(done)

    with shown:
        if todo and scheduler is None and workers is None:
            _run_local(plan, todo, on_done)
        elif todo:
            _run_dask(plan, todo, on_done, scheduler, workers)
    frames.extend(store.read(k) for k in needed)
    table = _assemble(plan, frames)
    table.attrs["sweep"] = {"runs": total, "batches": len(plan.batches), "replayed_batches": len(todo),
                            "replayed_runs": sum(len(b.cells) for b in todo)}
    table.attrs["provenance"] = plan.provenance()
    if store is not None:
        store.write_results(table)
    return table


def _assemble(plan: _Plan, frames: list[pd.DataFrame]) -> pd.DataFrame:
    outputs = pd.concat(frames, ignore_index=True).drop_duplicates("cell").set_index("cell")
    missing = ~plan.frame["cell"].isin(outputs.index)
    if missing.any():  # pragma: no cover - every planned run is replayed or read
        raise AutoscaleError(f"{int(missing.sum())} runs have no result")
    table = plan.frame.join(outputs, on="cell").drop(columns="cell")
    for col in table.columns:
        if col.startswith("load."):  # counts of the pools stay whole numbers beside traces' rows without them
            table[col] = whole_numbers(table[col])
    return table.reset_index(drop=True)
