"""The trace value: requests as arrival times and service durations, with optional function and app ids.

Conventions, written down once:

* times and durations are float64 seconds; the time base is the start of the trace,
  so every arrival is >= 0;
* arrivals are sorted ascending. The constructor *rejects* unsorted input, naming the
  first out-of-order request; :meth:`Trace.from_unsorted` sorts (stably) instead, and
  loaders of formats that are unsorted by nature (Azure 2021) sort and say so in the
  provenance;
* a trace is immutable: its arrays are read-only copies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import TraceError

__all__ = ["Provenance", "Trace", "TraceSummary", "concurrency_per_second"]


# -- provenance ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Provenance:
    """Where a trace comes from, what was done to it, and the attribution results must carry.

    ``durations`` says where the service durations come from: the trace itself (a
    column, an Azure 2021 duration), a distribution they were invented from (with its
    parameters and seed) for a trace that records none, or an expression of other
    columns. Every loader and generator fills it in, and reports, run headers and
    results folders show it. ``str(provenance)`` is one line with all of it, suitable for
    a report footer.

    Examples
    --------
    >>> p = Provenance("my-log.csv", notes=("sorted 12 rows",), durations="from the trace: column took_s (s)")
    >>> str(p)
    'my-log.csv; sorted 12 rows; durations: from the trace: column took_s (s)'
    """

    source: str
    attribution: str = ""
    licence: str = ""
    notes: tuple[str, ...] = ()
    durations: str = ""

    def with_note(self, note: str) -> "Provenance":
        """The same provenance with one more processing note."""
        return replace(self, notes=(*self.notes, note))

    def __str__(self) -> str:
        parts = [self.source, *self.notes]
        if self.durations:
            parts.append(f"durations: {self.durations}")
        if self.licence:
            parts.append(f"licence: {self.licence}")
        if self.attribution:
            parts.append(f"cite: {self.attribution}")
        return "; ".join(p for p in parts if p)

    @staticmethod
    def combine(items: Iterable["Provenance"]) -> "Provenance":
        """One provenance for merged traces: sources, notes, licences and attributions deduplicated in order."""
        items = list(items)

        def unique(values):
            return tuple(dict.fromkeys(v for v in values if v))

        return Provenance(
            source=" + ".join(unique(p.source for p in items)),
            attribution=" | ".join(unique(p.attribution for p in items)),
            licence=" | ".join(unique(p.licence for p in items)),
            notes=unique(n for p in items for n in p.notes),
            durations=" | ".join(unique(p.durations for p in items)),
        )


def _as_provenance(value) -> Provenance:
    if isinstance(value, Provenance):
        return value
    if isinstance(value, str):
        return Provenance(value)
    raise TypeError(f"provenance must be a Provenance or a str, not {type(value).__name__}")


# -- summary ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TraceSummary:
    """What ``autoscale trace info`` prints: size, rates (req/s), durations (s) and concurrency.

    ``peak_1s_rate`` is the largest number of arrivals in one whole second ``[s, s + 1)``
    of the trace's time base; concurrencies are exact time-weighted means per such second
    (see :meth:`Trace.concurrency_per_second`), from the first arrival's second to the
    last completion's.
    """

    name: str
    requests: int
    functions: int
    span: float
    mean_rate: float
    peak_1s_rate: float
    duration_p50: float
    duration_p90: float
    duration_p99: float
    duration_max: float
    mean_concurrency: float
    peak_1s_concurrency: float

    def to_pandas(self) -> pd.Series:
        """The summary as a Series indexed by field name (``name`` is the Series name)."""
        return pd.Series({f.name: getattr(self, f.name) for f in fields(self) if f.name != "name"}, name=self.name)

    def __str__(self) -> str:
        rows = [
            ("requests", f"{self.requests:,}"),
            ("functions", f"{self.functions:,}"),
            ("span", f"{self.span:,.1f} s ({self.span / 3600:.2f} h)"),
            ("mean rate", f"{self.mean_rate:.4g} req/s"),
            ("peak 1 s rate", f"{self.peak_1s_rate:.4g} req/s"),
            ("duration p50 / p90 / p99 / max",
             f"{self.duration_p50:.4g} / {self.duration_p90:.4g} / {self.duration_p99:.4g} / "
             f"{self.duration_max:.4g} s"),
            ("mean concurrency", f"{self.mean_concurrency:.4g}"),
            ("peak 1 s concurrency", f"{self.peak_1s_concurrency:.4g}"),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join([f"trace {self.name}"] + [f"  {k:<{width}}  {v}" for k, v in rows])


# -- the trace -------------------------------------------------------------------------------


def _read_only(a: np.ndarray) -> np.ndarray:
    """A read-only array: a read-only array that owns its data is taken as is, anything else copied."""
    if a.base is None and not a.flags.writeable:
        return a
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


def concurrency_per_second(arrivals: np.ndarray, durations: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Exact time-weighted mean concurrency of requests ``[a, a + d)`` in each second ``[s, s + 1)``, ``start <= s < stop``.

    A request occupying ``[a, e)`` adds ``1`` to every whole second it covers and its
    partial overlap to the two seconds holding ``a`` and ``e``: with ``ka = floor(a)`` and
    ``ke = floor(e)`` that is ``+1`` on ``[ka, ke)`` (a difference array and a
    cumulative sum), ``-(a - ka)`` in second ``ka`` and ``+(e - ke)`` in second
    ``ke``. For ``a = 0.5, e = 2.25``: seconds 0, 1, 2 get 0.5, 1, 0.25.
    Requests are first clipped to ``[start, stop)``. No loop over requests; no request
    at all gives zeros.

    >>> concurrency_per_second(np.array([0.5]), np.array([1.75]), 0, 3).tolist()
    [0.5, 1.0, 0.25]
    """
    start = int(start)
    n = int(stop) - start
    if n <= 0:
        return np.zeros(0)
    arrivals = np.asarray(arrivals, dtype=np.float64)
    a = np.clip(arrivals, start, stop)
    e = np.clip(arrivals + np.asarray(durations, dtype=np.float64), start, stop)
    fa, fe = np.floor(a), np.floor(e)
    ka = (fa - start).astype(np.int64)
    ke = (fe - start).astype(np.int64)
    whole = np.cumsum(np.bincount(ka, minlength=n + 1) - np.bincount(ke, minlength=n + 1))
    partial = np.bincount(ke, weights=e - fe, minlength=n + 1) - np.bincount(ka, weights=a - fa, minlength=n + 1)
    return (whole + partial)[:n].astype(np.float64)


@dataclass(frozen=True, eq=False)
class Trace:
    """Requests: arrival times (s, sorted, >= 0) and service durations (s, > 0).

    Parameters
    ----------
    arrivals, durations : array-like of float
        One entry per request, in seconds. Arrivals must be sorted ascending and start
        at or after 0; use :meth:`from_unsorted` to sort.
    function : array-like of int, optional
        Per-request code into ``function_names``; ``None`` for a single-function trace.
    function_names : sequence of str
        One name per function code.
    apps : sequence of str, optional
        The application of each function (same length as ``function_names``), or empty.
    name : str
    provenance : Provenance or str
        Origin, processing notes and the attribution results must carry.
    functions_meta : pandas.DataFrame, optional
        One row per function code (loaders put invocation totals, triggers, memory here).
    origin : pandas.Timestamp, optional
        The UTC date-time of time 0, for a trace whose source gives date-times (a
        per-request CSV of ISO timestamps, a ``period,count`` file of dated periods);
        :meth:`window` then also takes date-times. None for times without a date.

    Raises
    ------
    TraceError
        For an empty trace, non-finite times, a duration <= 0, a negative or unsorted
        arrival, or function codes outside ``function_names``; the message names the
        first offending request (0-based index).

    Examples
    --------
    >>> t = Trace(arrivals=[0.0, 0.5, 1.0], durations=[1.0, 1.0, 0.5], name="tiny")
    >>> t.concurrency_per_second(0, 2)  # second 0: 1 + 0.5; second 1: 0.5 + 0.5
    array([1.5, 1. ])
    """

    arrivals: np.ndarray
    durations: np.ndarray
    function: np.ndarray | None = None
    function_names: tuple[str, ...] = ()
    apps: tuple[str, ...] = ()
    name: str = "trace"
    provenance: Provenance = field(default_factory=lambda: Provenance(""))
    functions_meta: pd.DataFrame | None = field(default=None, repr=False)
    origin: pd.Timestamp | None = None

    def __post_init__(self) -> None:
        a = np.asarray(self.arrivals, dtype=np.float64)
        d = np.asarray(self.durations, dtype=np.float64)
        where = f"trace {self.name}"
        if a.ndim != 1 or d.ndim != 1:
            raise TraceError(f"{where}: arrivals and durations must be 1-D arrays")
        if a.size == 0:
            raise TraceError(f"{where}: empty trace (no requests); a trace holds at least one request")
        if a.size != d.size:
            raise TraceError(f"{where}: {a.size} arrivals but {d.size} durations; need one of each per request")
        bad = np.flatnonzero(~np.isfinite(a))
        if bad.size:
            i = bad[0]
            raise TraceError(f"{where}: request {i}: arrival = {a[i]}, must be a finite number of seconds")
        bad = np.flatnonzero(~(np.isfinite(d) & (d > 0)))
        if bad.size:
            i = bad[0]
            raise TraceError(f"{where}: request {i}: duration = {d[i]}, must be a finite number > 0 s")
        if a[0] < 0:
            raise TraceError(f"{where}: request 0: arrival = {a[0]}, must be >= 0 s (time 0 is the trace start)")
        bad = np.flatnonzero(a[1:] < a[:-1])
        if bad.size:
            i = bad[0] + 1
            raise TraceError(f"{where}: request {i}: arrival {a[i]} s is before request {i - 1}'s {a[i - 1]} s; "
                             "arrivals must be sorted ascending (Trace.from_unsorted sorts)")
        names = tuple(str(n) for n in self.function_names)
        f = self.function
        if f is not None:
            f = np.asarray(f)
            if f.shape != a.shape:
                raise TraceError(f"{where}: {f.size} function codes for {a.size} requests; need one per request")
            if not np.issubdtype(f.dtype, np.integer):
                raise TraceError(f"{where}: function codes must be integers, got dtype {f.dtype}")
            lo, hi = int(f.min()), int(f.max())
            if lo < 0 or hi >= len(names):
                i = int(np.flatnonzero((f < 0) | (f >= len(names)))[0])
                raise TraceError(f"{where}: request {i}: function code {f[i]}, must be in [0, {len(names) - 1}] "
                                 f"(an index into the {len(names)} function_names)")
            object.__setattr__(self, "function", _read_only(f.astype(np.int32, copy=False)))
        apps = tuple(str(x) for x in self.apps)
        if apps and len(apps) != len(names):
            raise TraceError(f"{where}: {len(apps)} apps for {len(names)} functions; give one app per function or none")
        meta = self.functions_meta
        if meta is not None and len(meta) != len(names):
            raise TraceError(f"{where}: functions_meta has {len(meta)} rows for {len(names)} functions")
        object.__setattr__(self, "arrivals", _read_only(a))
        object.__setattr__(self, "durations", _read_only(d))
        object.__setattr__(self, "function_names", names)
        object.__setattr__(self, "apps", apps)
        object.__setattr__(self, "provenance", _as_provenance(self.provenance))
        if self.origin is not None:
            origin = pd.Timestamp(self.origin)
            object.__setattr__(self, "origin", origin.tz_localize("UTC") if origin.tzinfo is None
                               else origin.tz_convert("UTC"))

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_unsorted(cls, arrivals, durations, function=None, **kw) -> "Trace":
        """Sort requests by arrival (stable: equal times keep their input order), then build the trace.

        Examples
        --------
        >>> Trace.from_unsorted([2.0, 0.0], [1.0, 3.0]).durations
        array([3., 1.])
        """
        a = np.asarray(arrivals, dtype=np.float64)
        d = np.asarray(durations, dtype=np.float64)
        if a.shape != d.shape:
            raise TraceError(f"trace {kw.get('name', 'trace')}: {a.size} arrivals but {d.size} durations")
        order = np.argsort(a, kind="stable")
        f = None if function is None else np.asarray(function)[order]
        return cls(arrivals=a[order], durations=d[order], function=f, **kw)

    @classmethod
    def merge(cls, traces: Sequence["Trace"], name: str = "merged") -> "Trace":
        """All requests of ``traces`` in one trace, on their common time base.

        Functions with the same name are the same function (so merging two slices of
        one trace restores it); a trace without function codes contributes one function
        named after the trace.
        """
        traces = list(traces)
        if not traces:
            raise TraceError("Trace.merge: no traces given; need at least one")
        names: dict[str, int] = {}
        apps: dict[str, str] = {}
        codes = []
        for t in traces:
            own = t.function_names if t.function is not None else (t.name,)
            own_apps = t.apps if (t.function is not None and t.apps) else ("",) * len(own)
            remap = np.empty(len(own), dtype=np.int32)
            for i, (n, app) in enumerate(zip(own, own_apps)):
                remap[i] = names.setdefault(n, len(names))
                apps.setdefault(n, app)
            local = t.function if t.function is not None else np.zeros(len(t), dtype=np.int32)
            codes.append(remap[local])
        all_apps = tuple(apps[n] for n in names)
        return cls.from_unsorted(
            np.concatenate([t.arrivals for t in traces]), np.concatenate([t.durations for t in traces]),
            function=np.concatenate(codes), function_names=tuple(names),
            apps=all_apps if any(all_apps) else (), name=name,
            provenance=Provenance.combine(t.provenance for t in traces).with_note(f"merged {len(traces)} traces"),
        )

    def _subset(self, keep, *, shift: float = 0.0, name: str, note: str) -> "Trace":
        """The requests in ``keep`` (a mask, index array or slice), with function codes compacted."""
        arrivals = self.arrivals[keep] - shift
        if arrivals.size == 0:
            raise TraceError(f"trace {self.name}: {note} leaves no request; a trace holds at least one")
        f, names, apps, meta = None, (), (), None
        if self.function is not None:
            local = self.function[keep]
            used = np.flatnonzero(np.bincount(local, minlength=len(self.function_names)))
            remap = np.full(len(self.function_names), -1, dtype=np.int32)
            remap[used] = np.arange(used.size, dtype=np.int32)
            f = remap[local]
            names = tuple(self.function_names[i] for i in used)
            apps = tuple(self.apps[i] for i in used) if self.apps else ()
            if self.functions_meta is not None:
                meta = self.functions_meta.iloc[used].reset_index(drop=True)
        origin = None if self.origin is None else self.origin + pd.Timedelta(seconds=shift)
        return Trace(arrivals=arrivals, durations=self.durations[keep], function=f, function_names=names,
                     apps=apps, name=name, provenance=self.provenance.with_note(note), functions_meta=meta,
                     origin=origin)

    # -- views -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self.arrivals.size)

    def __repr__(self) -> str:
        return (f"Trace(name={self.name!r}, requests={len(self):,}, span={self.span:,.1f} s, "
                f"functions={len(self.function_names) if self.function is not None else 1})")

    @property
    def span(self) -> float:
        """Seconds from the first arrival to the last."""
        return float(self.arrivals[-1] - self.arrivals[0])

    @property
    def end(self) -> float:
        """The time (s) the last request would complete if served on arrival."""
        return float(np.max(self.arrivals + self.durations))

    def slice(self, start: float, stop: float, rebase: bool = True) -> "Trace":
        """The requests arriving in ``[start, stop)`` s, with their full durations.

        With ``rebase`` (the default) times are shifted so that ``start`` becomes 0.
        """
        if not (np.isfinite(start) and np.isfinite(stop) and stop > start):
            raise TraceError(f"slice [{start}, {stop}) s: need finite start < stop")
        i, j = np.searchsorted(self.arrivals, [start, stop], side="left")
        shift = float(start) if rebase else 0.0
        if rebase and start < 0:
            raise TraceError(f"slice start = {start} s, must be >= 0 to rebase (arrivals start at 0)")
        return self._subset(slice(int(i), int(j)), shift=shift, name=f"{self.name}[{start:g}:{stop:g}]",
                            note=f"requests arriving in [{start:g}, {stop:g}) s" + (", rebased to 0" if rebase else ""))

    def window(self, start=None, end=None) -> "Trace":
        """The requests arriving in ``[start, end)``, rebased so that ``start`` becomes 0.

        Each end is seconds from time 0 (a number, or a duration such as ``"90s"`` or
        ``"24h"``), a date-time (text or object; for a trace with an :attr:`origin`),
        or None for an open end.

        Examples
        --------
        >>> t = Trace(arrivals=[0.0, 30.0, 90.0], durations=[1.0, 1.0, 1.0])
        >>> t.window("20s", "1m").arrivals.tolist()
        [10.0]
        """
        from .window import Window

        w = Window.parse(start, end)
        lo, hi = w.bounds(self.origin, f"trace {self.name}")
        i, j = np.searchsorted(self.arrivals, [lo, hi], side="left")
        return self._subset(slice(int(i), int(j)), shift=lo, name=self.name, note=w.describe(lo, hi))

    def thin(self, fraction: float, seed: int = 0) -> "Trace":
        """Each request kept independently with probability ``fraction`` in (0, 1] (seeded; durations kept).

        Examples
        --------
        >>> t = Trace(arrivals=np.arange(1000.0), durations=np.ones(1000))
        >>> len(t.thin(0.25, seed=3)) == len(t.thin(0.25, seed=3)) < 300
        True
        """
        from .window import check_scale, thin_mask

        fraction = check_scale(fraction)
        if fraction == 1.0:
            return self
        keep = thin_mask(len(self), fraction, seed)
        return self._subset(keep, name=self.name, note=f"arrivals thinned to {fraction:g} (seed {seed})")

    def select(self, function=None, *, app=None) -> "Trace":
        """The requests of some functions, by ``function`` and/or ``app``.

        Each of ``function`` and ``app`` is a name, a unique name prefix, an index
        (functions only), or a list of those. Function codes are compacted to the
        selected functions.
        """
        if self.function is None:
            raise TraceError(f"trace {self.name}: a single-function trace has no function ids to select by")
        if function is None and app is None:
            raise TraceError("select: give function= and/or app=")
        chosen = np.ones(len(self.function_names), dtype=bool)
        labels = []
        if function is not None:
            wanted = function if isinstance(function, (list, tuple, set)) else [function]
            mask = np.zeros_like(chosen)
            mask[[self._lookup(w, self.function_names, "function") for w in wanted]] = True
            chosen &= mask
            labels.append(str(wanted[0])[:12] if len(wanted) == 1 else f"{len(wanted)} functions")
        if app is not None:
            if not self.apps:
                raise TraceError(f"trace {self.name}: has no app ids to select by")
            unique_apps = tuple(dict.fromkeys(self.apps))
            wanted = app if isinstance(app, (list, tuple, set)) else [app]
            keep_apps = {unique_apps[self._lookup(w, unique_apps, "app", allow_index=False)] for w in wanted}
            chosen &= np.array([a in keep_apps for a in self.apps])
            labels.append("app " + (str(wanted[0])[:12] if len(wanted) == 1 else f"{len(wanted)} apps"))
        keep = chosen[self.function]
        return self._subset(keep, name=f"{self.name}:{','.join(labels)}",
                            note=f"selected {int(chosen.sum())} of {len(self.function_names)} functions")

    def _lookup(self, key, names: tuple[str, ...], what: str, allow_index: bool = True) -> int:
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool) and allow_index:
            if not 0 <= key < len(names):
                raise TraceError(f"trace {self.name}: {what} index {key}, must be in [0, {len(names) - 1}]")
            return int(key)
        key = str(key)
        exact = [i for i, n in enumerate(names) if n == key]
        matches = exact or [i for i, n in enumerate(names) if n.startswith(key)]
        if len(matches) != 1:
            count = "no" if not matches else f"{len(matches)}"
            raise TraceError(f"trace {self.name}: {count} {what}s match {key!r}; give a full name or a unique prefix")
        return matches[0]

    def scale_rate(self, factor: float, seed: int = 0) -> "Trace":
        """The trace with its request rate multiplied by ``factor`` (seeded, durations kept).

        * ``factor <= 1``: thinning; each request is kept independently with probability
          ``factor``.
        * ``factor > 1``: superposition; the trace itself plus ``floor(factor) - 1``
          copies, plus one copy thinned to the fractional part. In every copy each
          request moves to a uniform random time within its own whole second
          ``[floor(a), floor(a) + 1)``, so the per-second rate profile is multiplied by
          ``factor`` in expectation while no two copies coincide.

        Examples
        --------
        >>> t = Trace(arrivals=[0.2, 1.5], durations=[1.0, 1.0])
        >>> len(t.scale_rate(2.5, seed=1)) >= 4
        True
        """
        if not (np.isfinite(factor) and factor > 0):
            raise TraceError(f"scale factor = {factor}, must be a finite number > 0")
        rng = np.random.default_rng(seed)
        label = f"{self.name}x{factor:g}"
        if factor <= 1.0:
            keep = rng.random(len(self)) < factor
            return self._subset(keep, name=label, note=f"thinned to {factor:g} of its rate (seed {seed})")
        whole = int(np.floor(factor))
        frac = factor - whole
        parts = [(np.arange(len(self)), self.arrivals)]
        for k in range(whole - 1 + (frac > 0)):
            idx = np.arange(len(self)) if k < whole - 1 else np.flatnonzero(rng.random(len(self)) < frac)
            parts.append((idx, np.floor(self.arrivals[idx]) + rng.random(idx.size)))
        idx = np.concatenate([p[0] for p in parts])
        f = None if self.function is None else self.function[idx]
        return Trace.from_unsorted(
            np.concatenate([p[1] for p in parts]), self.durations[idx], function=f,
            function_names=self.function_names, apps=self.apps, name=label, functions_meta=self.functions_meta,
            origin=self.origin, provenance=self.provenance.with_note(
                f"rate scaled by {factor:g}: superposed copies jittered within their second (seed {seed})"),
        )

    # -- statistics --------------------------------------------------------------------------

    def concurrency_per_second(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Exact time-weighted mean concurrency in each second ``[s, s + 1)`` for ``start <= s < stop``.

        ``stop`` defaults to the second after the last completion; see
        :func:`concurrency_per_second` for the method.
        """
        stop = int(np.ceil(self.end)) if stop is None else int(stop)
        return concurrency_per_second(self.arrivals, self.durations, start, stop)

    def arrivals_per_second(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Number of arrivals in each second ``[s, s + 1)``, ``start <= s < stop`` (default: to the last arrival)."""
        start = int(start)
        stop = int(np.floor(self.arrivals[-1])) + 1 if stop is None else int(stop)
        if stop <= start:
            return np.zeros(0, dtype=np.int64)
        i, j = np.searchsorted(self.arrivals, [start, stop], side="left")
        return np.bincount((np.floor(self.arrivals[i:j]) - start).astype(np.int64), minlength=stop - start)

    def summary(self) -> TraceSummary:
        """Requests, span, mean rate, peak 1 s rate, duration percentiles and concurrency.

        ``mean_rate`` is requests / span (NaN for a single instant).
        """
        first = int(np.floor(self.arrivals[0]))
        conc = self.concurrency_per_second(first, int(np.ceil(self.end)))
        p50, p90, p99 = np.percentile(self.durations, [50, 90, 99])
        span = self.span
        return TraceSummary(
            name=self.name, requests=len(self),
            functions=len(self.function_names) if self.function is not None else 1,
            span=span, mean_rate=len(self) / span if span > 0 else float("nan"),
            peak_1s_rate=float(self.arrivals_per_second(first).max()),
            duration_p50=float(p50), duration_p90=float(p90), duration_p99=float(p99),
            duration_max=float(self.durations.max()),
            mean_concurrency=float(conc.mean()), peak_1s_concurrency=float(conc.max()),
        )

    # -- output ------------------------------------------------------------------------------

    def to_pandas(self) -> pd.DataFrame:
        """One row per request: ``arrival_s``, ``duration_s`` and, if known, ``function`` and ``app``."""
        data = {"arrival_s": self.arrivals, "duration_s": self.durations}
        if self.function is not None:
            data["function"] = pd.Categorical.from_codes(self.function, categories=pd.Index(self.function_names))
            if self.apps:
                data["app"] = np.asarray(self.apps, dtype=object)[self.function]
        return pd.DataFrame(data)

    def to_csv(self, path) -> Path:
        """Write one request per row, ``arrival_s,duration_s[,function[,app]]``, with exact floats.

        ``load(path)`` reads the file back to an equal trace (same arrays, functions and apps).
        """
        path = Path(path)
        frame = self.to_pandas()
        if "function" in frame:
            frame["function"] = frame["function"].astype(object)
        frame.to_csv(path, index=False)  # pandas writes the shortest round-tripping repr of each float
        return path
