"""The trace value: requests as arrival times and service durations, with optional function ids."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import TraceError

__all__ = ["Trace", "TraceSummary"]


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class TraceSummary:
    """Requests, span (s), mean and peak 1 s rate (req/s), duration percentiles (s), mean concurrency."""

    name: str
    requests: int
    span: float
    mean_rate: float
    peak_1s_rate: float
    duration_p50: float
    duration_p90: float
    duration_p99: float
    duration_max: float
    mean_concurrency: float
    peak_1s_concurrency: float
    functions: int

    def to_pandas(self) -> pd.Series:
        return pd.Series({k: getattr(self, k) for k in self.__dataclass_fields__}, name=self.name)

    def __str__(self) -> str:
        rows = [
            ("requests", f"{self.requests:,}"),
            ("span", f"{self.span:,.1f} s"),
            ("mean rate", f"{self.mean_rate:.4g} req/s"),
            ("peak 1 s rate", f"{self.peak_1s_rate:.4g} req/s"),
            ("duration p50 / p90 / p99 / max",
             f"{self.duration_p50:.4g} / {self.duration_p90:.4g} / {self.duration_p99:.4g} / {self.duration_max:.4g} s"),
            ("mean concurrency", f"{self.mean_concurrency:.4g}"),
            ("peak 1 s concurrency", f"{self.peak_1s_concurrency:.4g}"),
            ("functions", f"{self.functions:,}"),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join([f"trace {self.name}"] + [f"  {k:<{width}}  {v}" for k, v in rows])


@dataclass(frozen=True, eq=False)
class Trace:
    """Requests: arrival times (s, sorted, >= 0) and service durations (s, > 0).

    Parameters
    ----------
    arrivals, durations : array-like of float
        One entry per request. Arrivals must already be sorted: the constructor rejects
        unsorted input, naming the first out-of-order index; :meth:`from_unsorted` sorts.
    function : array-like of int, optional
        Per-request index into ``function_names``.
    function_names : sequence of str
    name : str
    provenance : str
        Where the data comes from and the attribution results must carry.
    meta : pandas.DataFrame, optional
        One row per function (loaders put invocation totals, triggers, memory here).

    Examples
    --------
    >>> t = Trace(arrivals=[0.0, 0.5, 1.0], durations=[1.0, 1.0, 0.5], name="tiny")
    >>> t.concurrency_per_second(0, 2)
    array([1.5, 1.5])
    """

    arrivals: np.ndarray
    durations: np.ndarray
    function: np.ndarray | None = None
    function_names: tuple[str, ...] = ()
    name: str = "trace"
    provenance: str = ""
    meta: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    _ends: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        a = np.asarray(self.arrivals, dtype=np.float64)
        d = np.asarray(self.durations, dtype=np.float64)
        where = f"trace {self.name}"
        if a.ndim != 1 or d.ndim != 1:
            raise TraceError(f"{where}: arrivals and durations must be 1-D")
        if a.size == 0:
            raise TraceError(f"{where}: empty trace (no requests)")
        if a.size != d.size:
            raise TraceError(f"{where}: {a.size} arrivals but {d.size} durations")
        bad = np.flatnonzero(~np.isfinite(a))
        if bad.size:
            raise TraceError(f"{where}: request {bad[0]}: arrival = {a[bad[0]]}, must be a finite number of seconds")
        bad = np.flatnonzero(~np.isfinite(d) | (d <= 0))
        if bad.size:
            raise TraceError(f"{where}: request {bad[0]}: duration = {d[bad[0]]}, must be a finite number > 0 s")
        if a[0] < 0:
            raise TraceError(f"{where}: request 0: arrival = {a[0]}, must be >= 0 s (the trace starts at 0)")
        bad = np.flatnonzero(np.diff(a) < 0)
        if bad.size:
            i = bad[0] + 1
            raise TraceError(f"{where}: request {i}: arrival {a[i]} is before request {i - 1}'s {a[i - 1]}; "
                             "arrivals must be sorted (use Trace.from_unsorted to sort)")
        f = self.function
        if f is not None:
            f = np.asarray(f, dtype=np.int32)
            if f.shape != a.shape:
                raise TraceError(f"{where}: function ids must have one entry per request")
            if f.size and (f.min() < 0 or f.max() >= len(self.function_names)):
                raise TraceError(f"{where}: function ids must index function_names (0..{len(self.function_names) - 1})")
            object.__setattr__(self, "function", _frozen(f))
        object.__setattr__(self, "arrivals", _frozen(a))
        object.__setattr__(self, "durations", _frozen(d))
        object.__setattr__(self, "function_names", tuple(str(n) for n in self.function_names))

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_unsorted(cls, arrivals, durations, function=None, **kw) -> "Trace":
        """Sort by arrival (stable, so equal times keep their order) and build the trace."""
        a = np.asarray(arrivals, dtype=np.float64)
        order = np.argsort(a, kind="stable")
        f = None if function is None else np.asarray(function)[order]
        return cls(arrivals=a[order], durations=np.asarray(durations, dtype=np.float64)[order], function=f, **kw)

    @classmethod
    def merge(cls, traces: Sequence["Trace"], name: str = "merged") -> "Trace":
        """One trace holding every request of ``traces``, each keeping its function names."""
        names: list[str] = []
        fids = []
        for t in traces:
            if t.function is None:
                fids.append(np.full(len(t), len(names), dtype=np.int32))
                names.append(t.name)
            else:
                fids.append(t.function + len(names))
                names.extend(t.function_names)
        prov = "; ".join(sorted({t.provenance for t in traces if t.provenance}))
        return cls.from_unsorted(
            np.concatenate([t.arrivals for t in traces]), np.concatenate([t.durations for t in traces]),
            function=np.concatenate(fids), function_names=tuple(names), name=name, provenance=prov,
        )

    def _replace(self, keep: np.ndarray | slice, shift: float = 0.0, **kw) -> "Trace":
        f = None if self.function is None else self.function[keep]
        args = dict(arrivals=self.arrivals[keep] - shift, durations=self.durations[keep], function=f,
                    function_names=self.function_names, name=self.name, provenance=self.provenance,
                    meta=self.meta)
        args.update(kw)
        return Trace(**args)

    # -- views -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self.arrivals.size)

    @property
    def span(self) -> float:
        """Seconds from the first arrival to the last."""
        return float(self.arrivals[-1] - self.arrivals[0])

    def slice(self, start: float, stop: float, rebase: bool = True) -> "Trace":
        """Requests arriving in ``[start, stop)`` s; ``rebase`` moves ``start`` to time 0."""
        i, j = np.searchsorted(self.arrivals, [start, stop], side="left")
        if j <= i:
            raise TraceError(f"trace {self.name}: no request arrives in [{start}, {stop}) s")
        return self._replace(slice(i, j), shift=float(start) if rebase else 0.0,
                             name=f"{self.name}[{start:g}:{stop:g}]")

    def select(self, function) -> "Trace":
        """The requests of one function (a name, a unique name prefix, or an index), or of a list of them."""
        if self.function is None:
            raise TraceError(f"trace {self.name}: has no function ids to select from")
        wanted = function if isinstance(function, (list, tuple, set)) else [function]
        codes = [self._function_code(w) for w in wanted]
        keep = np.isin(self.function, codes)
        label = self.function_names[codes[0]] if len(codes) == 1 else f"{len(codes)} functions"
        return self._replace(keep, name=f"{self.name}:{label[:12]}")

    def _function_code(self, key) -> int:
        if isinstance(key, (int, np.integer)):
            if not 0 <= key < len(self.function_names):
                raise TraceError(f"trace {self.name}: function index {key} outside 0..{len(self.function_names) - 1}")
            return int(key)
        key = str(key)
        matches = [i for i, n in enumerate(self.function_names) if n == key]
        if not matches:
            matches = [i for i, n in enumerate(self.function_names) if n.startswith(key)]
        if len(matches) != 1:
            what = "no" if not matches else f"{len(matches)}"
            raise TraceError(f"trace {self.name}: {what} function matches {key!r}")
        return matches[0]

    def scale_rate(self, factor: float, seed: int = 0) -> "Trace":
        """Scale the request rate by ``factor`` (seeded).

        Below 1, each request is kept with probability ``factor`` (thinning). Above 1,
        the trace is superposed with ``floor(factor) - 1`` copies of itself, each with
        its requests shifted by a uniform random offset within their own second, plus a
        thinned copy for the fractional part; durations are kept.
        """
        if not (np.isfinite(factor) and factor > 0):
            raise TraceError(f"scale factor = {factor}, must be a finite number > 0")
        rng = np.random.default_rng(seed)
        if factor <= 1.0:
            keep = rng.random(len(self)) < factor
            if not keep.any():
                raise TraceError(f"trace {self.name}: thinning by {factor} kept no request")
            return self._replace(keep, name=f"{self.name}x{factor:g}")
        whole, frac = int(np.floor(factor)), factor - np.floor(factor)
        parts_a, parts_d, parts_f = [self.arrivals], [self.durations], [self.function]
        for k in range(whole - 1 + (frac > 0)):
            keep = np.ones(len(self), bool) if k < whole - 1 else rng.random(len(self)) < frac
            a = np.floor(self.arrivals[keep]) + rng.random(int(keep.sum()))
            parts_a.append(a)
            parts_d.append(self.durations[keep])
            parts_f.append(None if self.function is None else self.function[keep])
        f = None if self.function is None else np.concatenate(parts_f)
        return Trace.from_unsorted(np.concatenate(parts_a), np.concatenate(parts_d), function=f,
                                   function_names=self.function_names, name=f"{self.name}x{factor:g}",
                                   provenance=self.provenance)

    # -- statistics ----------------------------------------------------------------------

    def concurrency_per_second(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Exact time-weighted mean concurrency in each second ``[s, s + 1)``, ``start <= s < stop``.

        Computed from the integral ``C(t) = sum_i clip(t - a_i, 0, d_i)`` at whole seconds,
        with sorted arrivals and ends and cumulative sums: no loop over requests.
        """
        start = int(start)
        stop = int(np.ceil(self.arrivals[-1] + self.durations.max())) + 1 if stop is None else int(stop)
        if stop <= start:
            return np.zeros(0)
        ends = self._ends
        if ends is None:
            ends = np.sort(self.arrivals + self.durations)
            object.__setattr__(self, "_ends", ends)
        k = np.arange(start, stop + 1, dtype=np.float64)

        def integral(points: np.ndarray, at: np.ndarray) -> np.ndarray:
            # sum over points p < at of (at - p), shifted by `start` to keep precision
            rel = points - start
            csum = np.concatenate([[0.0], np.cumsum(rel)])
            n = np.searchsorted(points, at, side="left")
            return (at - start) * n - csum[n]

        c = integral(self.arrivals, k) - integral(ends, k)
        return np.diff(c)

    def summary(self) -> TraceSummary:
        """Requests, span, mean rate, peak 1 s rate, duration percentiles and concurrency."""
        per_second = np.bincount(np.floor(self.arrivals - self.arrivals[0]).astype(np.int64))
        conc = self.concurrency_per_second(int(np.floor(self.arrivals[0])), int(np.ceil(self.arrivals[-1])) + 1)
        p50, p90, p99 = np.percentile(self.durations, [50, 90, 99])
        span = self.span
        return TraceSummary(
            name=self.name, requests=len(self), span=span,
            mean_rate=len(self) / span if span > 0 else float("nan"),
            peak_1s_rate=float(per_second.max()),
            duration_p50=float(p50), duration_p90=float(p90), duration_p99=float(p99),
            duration_max=float(self.durations.max()),
            mean_concurrency=float(conc.mean()), peak_1s_concurrency=float(conc.max()),
            functions=len(self.function_names) if self.function is not None else 1,
        )

    # -- output --------------------------------------------------------------------------

    def to_pandas(self) -> pd.DataFrame:
        data = {"arrival_s": self.arrivals, "duration_s": self.durations}
        if self.function is not None:
            data["function"] = np.asarray(self.function_names, dtype=object)[self.function]
        return pd.DataFrame(data)

    def to_csv(self, path) -> Path:
        """Write ``arrival_s,duration_s[,function]``, readable again with ``load(path, format="csv")``."""
        path = Path(path)
        self.to_pandas().to_csv(path, index=False, float_format="%.9f")
        return path
