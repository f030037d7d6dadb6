"""Results on disk: a run or a comparison saved as a folder, and loaded back with sweeps and summary tables.

:func:`save` writes a :class:`~autoscale.ReplayResult` (kind ``"run"``) or a
:class:`~autoscale.Comparison`, or any mapping of label -> result (kind ``"compare"``),
to a folder::

    DIR/manifest.json      kind, autoscale version, command, trace name and provenance,
                           seed, duration, platform, and per label its policy, policy
                           parameters and every configuration (Knative keys)
    DIR/summary.csv        the summary table, one row per label and configuration
    DIR/histograms.npz     latency and waiting-time histograms per label, and their edges
    DIR/timeseries.csv     the time series in long form (label, config, time_s, series...),
                           when the replay kept them

:func:`load` reads such a folder back as a :class:`StoredResult` that figures
(:mod:`autoscale.plotting`) and reports (:mod:`autoscale.report`) use without replaying
anything. It also reads a sweep folder written by :func:`autoscale.sweep.run_sweep`
(kind ``"sweep"``: its ``sweep.json`` and ``results.csv``) and a bare summary CSV (kind
``"table"``).

Examples
--------
>>> import tempfile
>>> from autoscale import KPAConfig, replay
>>> from autoscale.store import load, save
>>> from autoscale.trace import synthetic
>>> trace = synthetic.poisson(rate=2.0, duration=60.0, service=synthetic.constant(0.2), seed=1)
>>> result = replay(trace, [KPAConfig(target_burst_capacity=t) for t in (0, -1)])
>>> with tempfile.TemporaryDirectory() as tmp:
...     stored = load(save(result, f"{tmp}/run"))
>>> stored.kind, stored.labels, len(stored.summary), stored["kpa"].latency_hist.shape[0]
('run', ['kpa'], 2, 2)
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import AutoscaleError, ConfigError

__all__ = ["KINDS", "StoredResult", "StoredRun", "as_stored", "load", "save"]

#: What :func:`load` recognises: a saved run, a saved comparison, a sweep folder, a summary CSV.
KINDS = ("run", "compare", "sweep", "table")

MANIFEST = "manifest.json"
SUMMARY = "summary.csv"
HISTOGRAMS = "histograms.npz"
TIMESERIES = "timeseries.csv"
_FORMAT = 1
#: Histograms kept per label: always latency and wait; completion and queue delay with asynchronous invocation.
_HISTS = ("latency", "wait", "completion", "queue_delay")


@dataclass(eq=False)
class StoredRun:
    """One label of a saved run or comparison, with what figures read of a :class:`~autoscale.ReplayResult`.

    Attributes
    ----------
    label, policy : str
        The label in the comparison (the policy name for a run) and the policy's name.
    policy_params : dict
    configs : list of KPAConfig
        The batch (as dicts of Knative keys if a configuration no longer validates).
    summary : pandas.DataFrame
        This label's rows of the summary table.
    histograms : dict
        ``"latency"`` and ``"wait"`` counts, shape (B, bins), and with asynchronous
        invocation ``"completion"`` and ``"queue_delay"``; ``latency_hist`` and
        ``wait_hist`` read the first two, as on a :class:`~autoscale.ReplayResult`.
    timeseries : autoscale.results.TimeSeries or None
    trace_name, provenance : str
    duration : float
        Seconds simulated.
    seed : int
    platform : str
        The platform's ``repr``.
    """

    label: str
    policy: str
    policy_params: dict
    configs: list
    summary: pd.DataFrame
    histograms: dict
    timeseries: object
    trace_name: str
    provenance: str
    duration: float
    seed: int
    platform: str

    @property
    def latency_hist(self) -> np.ndarray:
        return self.histograms["latency"]

    @property
    def wait_hist(self) -> np.ndarray:
        return self.histograms["wait"]

    def __len__(self) -> int:
        return len(self.configs)

    def latency_quantile(self, q: float, waiting: bool = False) -> np.ndarray:
        """Quantile ``q`` of end-to-end (or waiting) time per configuration, seconds."""
        from .results import hist_quantile

        return hist_quantile(self.wait_hist if waiting else self.latency_hist, q)

    def plot(self, config: int = 0, ax=None):
        """The timeline of configuration ``config`` (see :func:`autoscale.plotting.timeline`)."""
        from .plotting import timeline

        if self.timeseries is None:
            raise ValueError(f"{self.label}: no time series were saved (replay with timeseries=True)")
        return timeline(self, config=config, ax=ax)


@dataclass(eq=False)
class StoredResult:
    """Results read from disk by :func:`load`.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    path : Path or None
        What was loaded: the folder, or the CSV file of a ``"table"``; None for results
        that were never saved (:func:`as_stored`).
    manifest : dict
        ``manifest.json`` of a run or comparison; ``sweep.json`` of a sweep (its
        ``"sweep"`` entry describes the sweep); ``{}`` for a table.
    summary : pandas.DataFrame
        The summary of a run or comparison, a sweep's ``results.csv``, or the table.
    histograms : dict
        Label -> {"latency": (B, bins) counts, "wait": ..., [completion, queue_delay]};
        empty for sweeps and tables.
    edges : ndarray or None
        Bin edges of the histograms, seconds.
    timeseries : dict
        Label -> DataFrame (``config``, ``time_s``, then one column per series); only
        for labels whose time series were saved.
    results : dict
        Label -> :class:`StoredRun`, for runs and comparisons.
    """

    kind: str
    path: Path | None
    manifest: dict
    summary: pd.DataFrame
    histograms: dict = field(default_factory=dict)
    edges: np.ndarray | None = None
    timeseries: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        """The labels of a run or comparison (a run has one: its policy)."""
        return list(self.results)

    @property
    def trace_name(self) -> str:
        if self.kind in ("run", "compare"):
            return self.manifest.get("trace", {}).get("name", "")
        if "trace" in self.summary:
            return ", ".join(str(t) for t in dict.fromkeys(self.summary["trace"]))
        return ""

    @property
    def provenance(self) -> str:
        """The trace's provenance; for a sweep, each trace's, one per line (duplicates once)."""
        if self.kind in ("run", "compare"):
            return self.manifest.get("trace", {}).get("provenance", "")
        if self.kind == "sweep":
            return "\n".join(dict.fromkeys(str(e.get("provenance", "")) for e in self.manifest.get("provenance", [])))
        return ""

    def __getitem__(self, label: str) -> StoredRun:
        return self.results[label]

    def __len__(self) -> int:
        return len(self.summary)

    def to_pandas(self) -> pd.DataFrame:
        return self.summary


# -- saving --------------------------------------------------------------------------------


def _labelled(obj) -> tuple[str, dict]:
    """(kind, label -> ReplayResult) of what :func:`save` accepts."""
    from .results import ReplayResult

    if isinstance(obj, ReplayResult):
        return "run", {obj.policy: obj}
    results = getattr(obj, "results", obj)
    if isinstance(results, Mapping) and results:
        out = {}
        for label, r in results.items():
            if not isinstance(r, ReplayResult):
                raise TypeError(f"save: {label!r} is a {type(r).__name__}, expected a ReplayResult")
            out[str(label)] = r
        return "compare", out
    raise TypeError(f"save: expected a ReplayResult, a Comparison or a mapping of label -> ReplayResult, "
                    f"got {type(obj).__name__}")


def _command() -> str | None:
    """The command line, when this process is the ``autoscale`` command."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and (argv0.name == "autoscale" or argv0.parts[-2:] == ("autoscale", "__main__.py")):
        return shlex.join(["autoscale", *sys.argv[1:]])
    return None


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _atomic(path: Path, write) -> None:
    """Write through a temporary file beside ``path``, then rename it into place."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # created by the writer: the usual permissions
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _timeseries_frame(result, label: str) -> pd.DataFrame | None:
    ts = result.timeseries
    if ts is None:
        return None
    b, points = next(iter(ts.values.values())).shape
    return pd.DataFrame({
        "label": label,
        "config": np.repeat(np.arange(b), points),
        "time_s": np.tile(ts.time, b),
        **{name: values.reshape(-1) for name, values in ts.values.items()},
    })


def _gather(obj, command: str | None) -> tuple[dict, pd.DataFrame, dict, dict]:
    """(manifest, summary, arrays for histograms.npz, label -> long time-series frame) of a run or comparison."""
    from . import __version__
    from .results import hist_edges

    kind, results = _labelled(obj)
    first = next(iter(results.values()))
    manifest = {
        "format": _FORMAT,
        "kind": kind,
        "autoscale_version": __version__,
        "command": command,
        "trace": {"name": first.trace_name, "provenance": first.provenance},
        "seed": first.seed,
        "duration": first.duration,
        "platform": repr(first.platform),
        "labels": list(results),
        "results": [
            {
                "label": label,
                "policy": r.policy,
                "policy_params": dict(r.policy_params),
                "trace": r.trace_name,
                "seed": r.seed,
                "duration": r.duration,
                "platform": repr(r.platform),
                "timeseries_step": None if r.timeseries is None else int(r.timeseries.step),
                "configs": [c.to_dict() for c in r.configs],
            }
            for label, r in results.items()
        ],
    }
    # JSON's view of the values (numpy scalars as numbers, anything else as text), as load will see them.
    manifest = json.loads(json.dumps(manifest, default=_jsonable))
    if kind == "run":
        summary = first.summary
    else:
        frames = []
        for label, r in results.items():
            frame = r.summary
            frame["policy"] = label
            frames.append(frame)
        summary = pd.concat(frames, ignore_index=True)
    arrays = {"edges": hist_edges(), "labels": np.array(list(results), dtype=str)}
    for i, r in enumerate(results.values()):
        arrays[f"latency_{i}"] = r.latency_hist
        arrays[f"wait_{i}"] = r.wait_hist
        inv = r.invocation
        if inv is not None:
            arrays[f"completion_{i}"] = inv.completion_hist
            arrays[f"queue_delay_{i}"] = inv.queue_hist
    series = {label: f for label, f in ((label, _timeseries_frame(r, label)) for label, r in results.items())
              if f is not None}
    return manifest, summary, arrays, series


def save(obj, path, *, command: str | None = None) -> Path:
    """Write a run or a comparison to the folder ``path`` (created if needed); returns the path.

    Parameters
    ----------
    obj : ReplayResult, Comparison or mapping of str -> ReplayResult
        A single replay is saved as kind ``"run"``, labelled by its policy; a
        comparison (or mapping) as kind ``"compare"``, one label per result.
    path : path
        The folder. Files of an earlier save there are replaced; a folder holding a
        sweep is refused.
    command : str, optional
        The command line that made the results, for reports. By default the command
        line when this process is the ``autoscale`` command, otherwise none.

    Raises
    ------
    TypeError
        For anything but the above.
    ConfigError
        When ``path`` is a file or holds a sweep.
    """
    manifest, summary, arrays, series = _gather(obj, command if command is not None else _command())
    root = Path(path)
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root}: exists and is not a folder; results are saved as a folder")
    if (root / "sweep.json").exists():
        raise ConfigError(f"{root}: holds a sweep; save the results in another folder")
    root.mkdir(parents=True, exist_ok=True)

    text = json.dumps(manifest, indent=2)
    _atomic(root / MANIFEST, lambda tmp: Path(tmp).write_text(text + "\n"))
    _atomic(root / SUMMARY, lambda tmp: summary.to_csv(tmp, index=False))

    def write_npz(tmp):
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)

    _atomic(root / HISTOGRAMS, write_npz)
    if series:
        frame = pd.concat(series.values(), ignore_index=True)
        _atomic(root / TIMESERIES, lambda tmp: frame.to_csv(tmp, index=False))
    else:
        (root / TIMESERIES).unlink(missing_ok=True)
    return root


def as_stored(obj) -> StoredResult:
    """Results in memory as the :class:`StoredResult` :func:`load` would give after :func:`save`.

    Accepts what :func:`save` accepts, a :class:`StoredResult` (returned as is), or a
    DataFrame of summary rows (kind ``"table"``).
    """
    if isinstance(obj, StoredResult):
        return obj
    if isinstance(obj, pd.DataFrame):
        return StoredResult(kind="table", path=None, manifest={}, summary=obj.reset_index(drop=True))
    manifest, summary, arrays, series = _gather(obj, None)
    frames = {label: f.drop(columns="label").reset_index(drop=True) for label, f in series.items()}
    return _assemble(None, manifest, summary, arrays, frames)


# -- loading -------------------------------------------------------------------------------


def _configs(dicts: list[dict]) -> list:
    from .config import KPAConfig

    out = []
    for d in dicts:
        try:
            out.append(KPAConfig.resolve(overrides=d))
        except ConfigError:
            out.append(dict(d))
    return out


def _series_object(frame: pd.DataFrame, batch: int, step: int | None):
    """A :class:`~autoscale.results.TimeSeries` from the long frame of one label."""
    from .results import _SERIES, TimeSeries

    frame = frame.sort_values(["config", "time_s"], kind="stable")
    time = np.sort(frame["time_s"].unique())
    points = time.size
    values = {}
    for name in _SERIES:
        v = np.zeros((batch, points))
        if name in frame:
            v[frame["config"].to_numpy(), np.searchsorted(time, frame["time_s"].to_numpy())] = frame[name].to_numpy()
        values[name] = v
    if step is None:
        step = int(round(time[1] - time[0])) if points > 1 else 1
    return TimeSeries(time=time.astype(np.float64), step=int(step), values=values, _count=np.ones(points),
                      max_points=max(1, points))


#: Columns read as text exactly as written (a label "None" stays "None").
_TEXT_COLUMNS = ("label", "policy", "trace", "function")
_NA = ["", "nan", "NaN", "NA", "null", "None", "<NA>"]


def _read_csv(path: Path) -> pd.DataFrame:
    columns = pd.read_csv(path, nrows=0).columns
    return pd.read_csv(path, keep_default_na=False, dtype={c: str for c in _TEXT_COLUMNS if c in columns},
                       na_values={c: _NA for c in columns if c not in _TEXT_COLUMNS})


def _load_saved(root: Path) -> StoredResult:
    try:
        manifest = json.loads((root / MANIFEST).read_text())
    except json.JSONDecodeError as e:
        raise AutoscaleError(f"{root / MANIFEST}: not valid JSON ({e})") from None
    kind = manifest.get("kind") if isinstance(manifest, dict) else None
    if kind not in ("run", "compare"):
        raise AutoscaleError(f"{root / MANIFEST}: kind {kind!r} is not a saved run or comparison")
    for name in (SUMMARY, HISTOGRAMS):
        if not (root / name).is_file():
            raise AutoscaleError(f"{root}: {name} is missing; the folder is not a complete saved result")
    summary = _read_csv(root / SUMMARY)
    with np.load(root / HISTOGRAMS) as npz:
        arrays = {k: npz[k] for k in npz.files}
    frames = {}
    if (root / TIMESERIES).is_file():
        long = _read_csv(root / TIMESERIES)
        for label, frame in long.groupby("label", sort=False):
            frames[str(label)] = frame.drop(columns="label").reset_index(drop=True)
    return _assemble(root, manifest, summary, arrays, frames)


def _assemble(root: Path | None, manifest: dict, summary: pd.DataFrame, arrays: dict, frames: dict) -> StoredResult:
    """The :class:`StoredResult` of a run or comparison from the contents of its files."""
    labels = [str(x) for x in arrays.get("labels", np.array(manifest.get("labels", []), dtype=str))]
    histograms = {}
    for i, label in enumerate(labels):
        histograms[label] = {h: arrays[f"{h}_{i}"] for h in _HISTS if f"{h}_{i}" in arrays}
    entries = {e["label"]: e for e in manifest.get("results", [])}
    trace = manifest.get("trace", {})
    results = {}
    start = 0
    for label in labels:
        e = entries.get(label, {})
        configs = _configs(e.get("configs", []))
        rows = summary.iloc[start:start + len(configs)]  # the summary lists each label's configurations in turn
        start += len(configs)
        series = frames.get(label)
        results[label] = StoredRun(
            label=label, policy=e.get("policy", label), policy_params=e.get("policy_params", {}),
            configs=configs, summary=rows.reset_index(drop=True), histograms=histograms[label],
            timeseries=None if series is None else _series_object(series, len(configs), e.get("timeseries_step")),
            trace_name=e.get("trace", trace.get("name", "")), provenance=trace.get("provenance", ""),
            duration=e.get("duration", manifest.get("duration")), seed=e.get("seed", manifest.get("seed")),
            platform=e.get("platform", manifest.get("platform", "")),
        )
    return StoredResult(kind=manifest["kind"], path=root, manifest=manifest, summary=summary,
                        histograms=histograms, edges=arrays.get("edges"), timeseries=frames, results=results)


def _load_sweep(root: Path) -> StoredResult:
    from .sweep import MANIFEST as SWEEP, RESULTS

    try:
        manifest = json.loads((root / SWEEP).read_text())
    except json.JSONDecodeError as e:
        raise AutoscaleError(f"{root / SWEEP}: not valid JSON ({e})") from None
    if not (root / RESULTS).is_file():
        raise AutoscaleError(f"{root}: the sweep has no {RESULTS} yet; run the same sweep again to finish it")
    return StoredResult(kind="sweep", path=root, manifest=manifest, summary=_read_csv(root / RESULTS))


def load(path) -> StoredResult:
    """Read saved results: a folder from :func:`save`, a sweep folder, or a summary CSV.

    Parameters
    ----------
    path : path
        A folder with ``manifest.json`` (a run or comparison), a folder with
        ``sweep.json`` and ``results.csv`` (a sweep; its ``results.csv`` may be given
        too), or any other ``.csv`` file of summary rows (a table).

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    AutoscaleError
        When it is none of the above, or a file in it is malformed.
    """
    from .sweep import MANIFEST as SWEEP

    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(f"{root}: no such results folder or file")
    try:
        if root.is_dir():
            if (root / MANIFEST).is_file():
                return _load_saved(root)
            if (root / SWEEP).is_file():
                return _load_sweep(root)
            raise AutoscaleError(f"{root}: not a results folder (no {MANIFEST} or {SWEEP}); give a folder "
                                 "written by autoscale run/compare --out or autoscale sweep, or a summary CSV")
        if root.name == "results.csv" and (root.parent / SWEEP).is_file():
            return _load_sweep(root.parent)
        if root.suffix.lower() != ".csv":
            raise AutoscaleError(f"{root}: not a results folder or a .csv summary table")
        table = _read_csv(root)
        if table.empty:
            raise AutoscaleError(f"{root}: the table has no rows")
        return StoredResult(kind="table", path=root, manifest={}, summary=table)
    except (ValueError, KeyError, OSError, UnicodeDecodeError) as e:
        if isinstance(e, (AutoscaleError, FileNotFoundError)):
            raise
        raise AutoscaleError(f"{root}: cannot read the results ({type(e).__name__}: {e})") from None
