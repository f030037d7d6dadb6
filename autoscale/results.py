"""Replay results: a summary table per configuration, mergeable latency histograms, time series, plots.

Latency and waiting time are kept as histograms with 100 logarithmic bins per decade
(bins 2.3 % wide), so memory does not grow with the number of requests and the
histograms of two runs add up. Percentiles read from them are the geometric middle of
the bin that holds the percentile, within 1.2 % of the exact value.
"""

from __future__ import annotations

import math

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import outputs as _outputs
from ._state import _HIST_EDGES, HIST_BINS, HIST_MIN_EXP, HIST_PER_DECADE

__all__ = ["ReplayResult", "RequestOutcomes", "TimeSeries", "hist_quantile", "hist_edges", "whole_numbers"]


def hist_edges() -> np.ndarray:
    """Edges of the latency histogram bins, seconds: bin k covers [edges[k], edges[k+1])."""
    return _HIST_EDGES.copy()


def hist_quantile(counts: np.ndarray, q: float) -> np.ndarray:
    """Quantile ``q`` of histograms ``counts`` (shape (..., bins)), seconds; NaN when empty."""
    counts = np.asarray(counts)
    total = counts.sum(axis=-1)
    cum = np.cumsum(counts, axis=-1)
    target = np.ceil(q * total)
    k = (cum < np.maximum(target, 1)[..., None]).sum(axis=-1)
    k = np.minimum(k, HIST_BINS - 1)
    lo = HIST_MIN_EXP + (k - 1) / HIST_PER_DECADE
    mid = 10.0 ** (lo + 0.5 / HIST_PER_DECADE)
    mid = np.where(k == 0, 0.0, mid)
    return np.where(total > 0, mid, np.nan)


_SERIES = (
    "demand", "stable", "panic", "desired", "starting", "ready", "panic_mode", "activator", "status_503",
    "status_504", "backlog",
)


@dataclass
class TimeSeries:
    """Per-configuration time series, averaged into buckets of ``step`` seconds.

    ``values[name]`` has shape (B, points); ``time`` holds each bucket's start, seconds.
    ``panic_mode`` and ``activator`` are the fraction of the bucket spent in that state;
    ``status_503`` and ``status_504`` are the responses of that kind per second;
    ``backlog`` the invocations waiting in an asynchronous dispatcher's queue.
    """

    time: np.ndarray
    step: int
    values: dict[str, np.ndarray]
    _count: np.ndarray = field(default=None, repr=False)
    max_points: int = 2000

    @classmethod
    def allocate(cls, batch: int, seconds: int, max_points: int) -> "TimeSeries":
        step = max(1, int(np.ceil(seconds / max(1, max_points))))
        points = int(np.ceil(seconds / step))
        values = {name: np.zeros((batch, points)) for name in _SERIES}
        return cls(time=np.arange(points, dtype=np.float64) * step, step=step, values=values,
                   _count=np.zeros(points), max_points=max(1, max_points))

    def grow(self, seconds: int) -> None:
        """Make room for ``seconds`` seconds, merging pairs of buckets while more than ``max_points`` would be needed."""
        while int(np.ceil(seconds / self.step)) > self.max_points:
            points = self._count.size + self._count.size % 2
            for name in _SERIES:
                v = np.zeros((self.values[name].shape[0], points))
                v[:, : self._count.size] = self.values[name]
                self.values[name] = v.reshape(v.shape[0], points // 2, 2).sum(axis=2)
            c = np.zeros(points)
            c[: self._count.size] = self._count
            self._count = c.reshape(points // 2, 2).sum(axis=1)
            self.step *= 2
        points = int(np.ceil(seconds / self.step))
        if points > self._count.size:
            extra = points - self._count.size
            for name in _SERIES:
                self.values[name] = np.pad(self.values[name], ((0, 0), (0, extra)))
            self._count = np.pad(self._count, (0, extra))
        self.time = np.arange(self._count.size, dtype=np.float64) * self.step

    def add(self, second, demand, stable, panic, desired, starting, ready, panic_mode, activator,
            status_503=0, status_504=0, backlog=0) -> None:
        k = second // self.step
        v = self.values
        v["demand"][:, k] += demand
        v["stable"][:, k] += stable
        v["panic"][:, k] += panic
        v["desired"][:, k] += desired
        v["starting"][:, k] += starting
        v["ready"][:, k] += ready
        v["panic_mode"][:, k] += panic_mode
        v["activator"][:, k] += activator
        v["status_503"][:, k] += status_503
        v["status_504"][:, k] += status_504
        v["backlog"][:, k] += backlog
        self._count[k] += 1

    def finish(self) -> "TimeSeries":
        n = np.maximum(self._count, 1)
        for name in _SERIES:
            self.values[name] /= n
        return self

    def frame(self, i: int = 0) -> pd.DataFrame:
        """The series of configuration ``i`` as a DataFrame indexed by time (s)."""
        data = {name: self.values[name][i] for name in _SERIES}
        return pd.DataFrame(data, index=pd.Index(self.time, name="time_s"))


def whole_numbers(values) -> pd.Series:
    """``values`` as integers when every one is a whole number (or missing), else unchanged.

    A key column such as ``target-burst-capacity`` holds floats (211.0, 0.0, -1.0); as
    integers it prints and is written to CSV as 211, 0, -1. Missing values keep the
    column integral (pandas' ``Int64``); a column with one non-whole value, a string or
    a bool stays as it is.

    >>> whole_numbers([211.0, 0.0, -1.0]).tolist(), whole_numbers([7.0, 7.5]).tolist()
    ([211, 0, -1], [7.0, 7.5])
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    present = series.dropna()
    if present.empty or not all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                                for v in present):
        return series
    x = present.to_numpy(dtype=np.float64)
    if not (np.all(np.isfinite(x)) and np.all(x == np.round(x)) and np.abs(x).max() < 2**53):
        return series
    if len(present) == len(series):
        return series.astype(np.int64)
    return series.astype("Int64")


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _same(a, b) -> bool:
    """Equal as a column of a frame holds them: None and NaN alike, 1 and 1.0 alike."""
    return _missing(a) and _missing(b) or (not _missing(a) and not _missing(b) and a == b)


def _config_columns(spec) -> pd.DataFrame:
    """The configuration keys that vary in the batch, one row per configuration."""
    rows = [c.to_dict() for c in spec.configs]
    varying = [k for k in rows[0] if any(not _same(r[k], rows[0][k]) for r in rows[1:])]
    if not varying:
        return pd.DataFrame(index=pd.RangeIndex(len(rows)))
    return pd.DataFrame([{k: r[k] for k in varying} for r in rows]).apply(whole_numbers)


@dataclass(eq=False)
class ReplayResult:
    """What a replay produced, for every configuration of the batch.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per configuration: ``config``, ``policy``, the configuration keys that
        vary in the batch, then every output of :data:`autoscale.outputs.REGISTRY` the
        replay has, in its order (requests, completed, 503, 504, in flight, latency and
        waiting-time percentiles, cold-start-delayed requests, pod-seconds, mean and peak
        pods, idle pod-seconds, utilisation, scale events, pods created, scale-from-zero
        events, panic and activator-in-path fractions; the activator pool's rejections
        and the asynchronous outcomes when there are some).
    latency_hist, wait_hist : ndarray, shape (B, bins)
        Histograms of the end-to-end time of completed requests, and of the waiting time
        of every request that started executing (including those that then timed out).
    outcomes : RequestOutcomes or None
        Every request's start on a pod, end and status, for a replay with ``record=True``.
    """

    spec: object
    trace_name: str
    provenance: str
    duration: float
    counters: dict
    latency_hist: np.ndarray
    wait_hist: np.ndarray
    timeseries: TimeSeries | None
    seed: int
    platform: object
    policy: str = "kpa"
    policy_params: dict = field(default_factory=dict)
    invocation: object = None  #: asynchronous invocation outcomes (autoscale.invocation.AsyncOutcome), if any
    pods_total: np.ndarray | None = None  #: live pods of the whole batch at the end of each second
    load: object = None  #: what closed-loop clients observed (autoscale.workload.LoadOutcome), if any
    outcomes: object = None  #: every request's start, end and status (RequestOutcomes), for ``record=True``

    @property
    def configs(self):
        return self.spec.configs

    def __len__(self) -> int:
        return len(self.spec.configs)

    @property
    def summary(self) -> pd.DataFrame:
        return pd.DataFrame(self._summary_columns())

    def _summary_columns(self, keys: bool = True) -> dict:
        """The summary's columns, in order (without the configuration keys unless ``keys``)."""
        # The columns gathered first and framed once: a frame grown a column at a time
        # copies its blocks at every step (a third of a light sweep's time per replay).
        columns = {"config": np.arange(len(self)), "policy": np.full(len(self), self.policy, dtype=object)}
        if keys and len(self) > 1:  # one configuration has no keys that vary
            varying = _config_columns(self.spec)
            columns.update((k, varying[k].array) for k in varying.columns)  # a key missing from a row stays Int64
        for o in _outputs.REGISTRY:  # read when the summary is made: every output of a replay, in order
            if o.table == "summary":
                value = o.compute(self)
                if value is not None:
                    columns[o.column] = value
        return columns

    @property
    def load_summary(self) -> pd.DataFrame | None:
        """What the closed-loop clients observed, a row per configuration and client pool
        (:meth:`autoscale.workload.LoadOutcome.table`); None for a workload without clients."""
        return None if self.load is None else self.load.table()

    def to_pandas(self) -> pd.DataFrame:
        """The summary table (see :attr:`summary`)."""
        return self.summary

    def latency_quantile(self, q: float, waiting: bool = False) -> np.ndarray:
        """Quantile ``q`` of end-to-end (or waiting) time per configuration, seconds."""
        return hist_quantile(self.wait_hist if waiting else self.latency_hist, q)

    def plot(self, config: int = 0, ax=None):
        """Timeline of configuration ``config``: demand, observed values, pods, panic and activator.

        Needs ``timeseries=True`` at replay. Returns ``(figure, axes)``; never shows.
        """
        from .plotting import timeline

        if self.timeseries is None:
            raise ValueError("this result has no time series: replay with timeseries=True")
        return timeline(self, config=config, ax=ax)


#: Status codes of :class:`RequestOutcomes` (0: still in the system when the replay ended).
STATUS_OK, STATUS_503, STATUS_504, STATUS_IN_FLIGHT = 200, 503, 504, 0


@dataclass(eq=False)
class RequestOutcomes:
    """What happened to every request of a recorded replay (``replay(..., record=True)``).

    Attributes
    ----------
    arrivals : ndarray, shape (n,)
        Arrival time of each request, seconds.
    start : ndarray, shape (B, n)
        When each request started executing on a pod, per configuration, seconds (NaN: it never did).
    end : ndarray, shape (B, n)
        When it was answered, seconds (NaN: still in the system when the replay ended).
    status : ndarray of int, shape (B, n)
        200 completed, 503 or 504; 0 still in the system at the end, or arriving after it
        (:attr:`arrived`).
    duration : float
        Where the replay ended, seconds: a request arriving at or after it was not replayed.

    Examples
    --------
    >>> from autoscale import KPAConfig, replay
    >>> from autoscale.trace import synthetic
    >>> trace = synthetic.poisson(rate=2.0, duration=30.0, service=synthetic.constant(0.2), seed=1)
    >>> r = replay(trace, KPAConfig(container_concurrency=1), record=True)
    >>> int((r.outcomes.status[0] == 200).sum()) == int(r.summary["completed"].iloc[0])
    True
    """

    arrivals: np.ndarray
    start: np.ndarray
    end: np.ndarray
    status: np.ndarray
    duration: float = math.inf

    def __len__(self) -> int:
        return self.arrivals.size

    @property
    def arrived(self) -> np.ndarray:
        """Whether each request arrived before the replay ended, shape (n,): the requests the replay saw."""
        return self.arrivals < self.duration

    @property
    def latency(self) -> np.ndarray:
        """End-to-end time of each completed request, seconds, shape (B, n); NaN for the others."""
        return np.where(self.status == STATUS_OK, self.end - self.arrivals, np.nan)

    @property
    def wait(self) -> np.ndarray:
        """Time from arrival to the start on a pod, seconds, shape (B, n); NaN for requests that never started."""
        return self.start - self.arrivals

    def counts(self) -> pd.DataFrame:
        """Requests per outcome, one row per configuration (the summary's columns of the same names):
        the requests that arrived before the replay ended."""
        s, arrived = self.status, self.arrived
        return pd.DataFrame({
            "config": np.arange(s.shape[0]), "requests": np.full(s.shape[0], int(arrived.sum())),
            "completed": (s == STATUS_OK).sum(axis=1), "status_503": (s == STATUS_503).sum(axis=1),
            "status_504": (s == STATUS_504).sum(axis=1),
            "in_flight": ((s == STATUS_IN_FLIGHT) & arrived).sum(axis=1),
        })

    def frame(self, config: int = 0) -> pd.DataFrame:
        """One row per request of configuration ``config``: arrival, start, end (s), status, latency and wait (s)."""
        return pd.DataFrame({
            "arrival_s": self.arrivals, "start_s": self.start[config], "end_s": self.end[config],
            "status": self.status[config], "latency_s": self.latency[config], "wait_s": self.wait[config],
        }, index=pd.RangeIndex(len(self), name="request"))


class _Recorder:
    """Reads the data plane's finish buffer after every second of a recorded replay.

    With one trace shared by the batch, a row per configuration; with one stream per
    configuration (``shared=False``), a single row: every request by its place in the streams.
    """

    _STATUS = np.array([STATUS_OK, STATUS_503, STATUS_504])

    def __init__(self, arrivals: np.ndarray, batch: int, shared: bool = True) -> None:
        n = arrivals.size
        rows = batch if shared else 1
        self.batch, self.shared = batch, shared
        self.arrivals = np.asarray(arrivals, dtype=np.float64).copy()
        self.start = np.full((rows, n), np.nan)
        self.end = np.full((rows, n), np.nan)
        self.status = np.zeros((rows, n), dtype=np.int64)

    def collect(self, dp) -> None:
        for row in range(self.batch):
            done = dp.finished(row)
            if not done.size:
                continue
            b = row if self.shared else 0
            ids = done[:, 0].astype(np.int64)
            codes = done[:, 1].astype(np.int64)
            began = codes == 3
            self.start[b, ids[began]] = done[began, 2]
            ended = ~began
            self.end[b, ids[ended]] = done[ended, 2]
            self.status[b, ids[ended]] = self._STATUS[codes[ended]]

    def result(self, duration: float) -> RequestOutcomes:
        return RequestOutcomes(arrivals=self.arrivals, start=self.start, end=self.end, status=self.status,
                               duration=float(duration))
