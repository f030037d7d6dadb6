"""Every output of a replay, defined once: its column, unit, label, how it combines, how it prints, where it shows.

An :class:`Output` is one column of the results' tables (``latency_p99_s``,
``pod_seconds``, ...): its unit, a short label for plots and legends, a one-line
description, how the rows of several services combine into the cluster's
(:func:`combine_services`), how the runs of several seeds that share a heatmap's cell
combine (:func:`cell_aggregate`), how the terminal prints it, and in which views it is
shown. :data:`REGISTRY` holds them in the order of the summary's columns; the summary
(:attr:`autoscale.ReplayResult.summary`), the cluster row
(:func:`autoscale.services.cluster_summary`), the command line's tables, the plots'
labels, the heatmaps' rules and the reports read it when they run. To add an output,
add one :class:`Output` to :data:`OUTPUTS`.

Percentiles never average: the mean of several runs' p99s is not the p99 of their
requests. Across services a percentile is recomputed from the services' summed
histograms; across seeds the runs sharing a cell show their largest.

Examples
--------
>>> from autoscale import outputs
>>> p99 = outputs.get("latency_p99_s")
>>> p99.axis_label, p99.services, p99.seeds
('p99 latency (s)', 'histogram', 'max')
>>> outputs.shown("compare")[:4]
('latency_p50_s', 'latency_p99_s', 'cold_start_delayed', 'status_503')
>>> outputs.cell_aggregate("latency_p99_s", shared=True), outputs.cell_aggregate("pod_seconds", shared=True)
('max', 'mean')
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from .errors import ConfigError

__all__ = [
    "Output", "Registry", "OUTPUTS", "REGISTRY", "VIEWS", "COUNTERS", "POOL_COUNTERS", "QUANTILES",
    "get", "lookup", "shown", "additive", "columns", "averages", "cell_aggregate", "combine_services",
    "COUNT", "SECONDS", "FRACTION", "NUMBER",
    "SUM", "MEAN", "WEIGHTED_MEAN", "MAX", "HISTOGRAM", "PEAK_OF_TOTAL", "TOTAL_OVER_TIME", "NONE",
]

#: Percentiles reported in the summary (as fractions).
QUANTILES = {"p50": 0.5, "p90": 0.9, "p99": 0.99, "p999": 0.999}

# -- what kind of number an output is (how the report, the scenario rows and the terminal print it) --
#: Whole numbers as integers (an average of counts, over seeds, keeps its decimals).
COUNT = "count"
#: Seconds in fixed point: ``digits`` significant digits of the column's largest value.
SECONDS = "seconds"
#: A fraction of 1 in fixed point, as SECONDS.
FRACTION = "fraction"
#: Any other quantity (pod-seconds, pods) in fixed point, as SECONDS.
NUMBER = "number"
PRINTS = (COUNT, SECONDS, FRACTION, NUMBER)
#: Significant digits an output may ask for (the terminal prints at most 6 decimals).
DIGITS_RANGE = (1, 8)

# -- how the rows of several services combine into the cluster's -------------------------
#: The total over services (counts, pod-seconds).
SUM = "sum"
#: The mean over services, every one of which spans the same simulated seconds (fractions of time).
MEAN = "mean"
#: The mean over services weighted by ``weight`` (a ratio: utilisation, by each service's capacity-seconds).
WEIGHTED_MEAN = "weighted mean"
#: The largest over services (exact maxima).
MAX = "max"
#: Recomputed from the services' histograms added up (percentiles).
HISTOGRAM = "histogram"
#: The peak over time of the live pods of every service together (``ReplayResult.pods_total``).
PEAK_OF_TOTAL = "peak of total"
#: The total over services of the output named by ``of``, per simulated second (mean pods).
TOTAL_OVER_TIME = "total over time"
#: Not combined: the cluster has no such value.
NONE = "none"
SERVICE_RULES = (SUM, MEAN, WEIGHTED_MEAN, MAX, HISTOGRAM, PEAK_OF_TOTAL, TOTAL_OVER_TIME, NONE)
#: How the runs of several seeds (or functions, traces) that share a heatmap's cell combine:
#: averaged, or, for percentiles, never averaged (the cell shows the largest).
SEED_RULES = (MEAN, MAX)

#: The tables that produce outputs: a replay's summary, a scenario's rows (counted on its timelines), and
#: a chain of functions' row per service (:attr:`autoscale.chains.ChainResult.summary`).
TABLES = ("summary", "scenario", "chain")

#: The views an output can be shown in, and what each is.
VIEWS = {
    "run": "autoscale run's table, a row per configuration",
    "run_async": "autoscale run --async: what happened to the requests, beside the attempts",
    "compare": "autoscale compare's table, a row per policy",
    "compare_async": "autoscale compare --invocations async",
    "many": "autoscale run --per-function or --route: a row per service or revision",
    "cluster": "the cluster's (or the service's) row of a many-services run",
    "scenario": "autoscale scenario's table, a row per variant",
    "scenario_rows": "the replay's outputs a scenario's rows carry",
    "report": "the main tables of an HTML report",
    "chain": "autoscale chain's table, a row per service of the chain",
}

#: The per-configuration counters a replay hands its summary (the engine's and the reference's).
COUNTERS = ("requests", "completed", "status_503", "status_504", "cold_start_delayed", "pods_created", "pod_seconds",
            "idle_pod_seconds", "busy_seconds", "latency_max", "wait_max", "peak_pods", "scale_events",
            "scale_from_zero", "panic_fraction", "activator_fraction")
#: ... and with a shared activator pool.
POOL_COUNTERS = ("activator_rejected",)

_COLUMN = re.compile(r"^[a-z][a-z0-9_]*$")
#: A column outside the registry named like a percentile (``..._p99_s``) is one: it never averages.
_PERCENTILE_NAME = re.compile(r"_p\d+_s$")


@dataclass(frozen=True)
class Output:
    """One output: a column of the results' tables and everything the tables, plots and reports need of it.

    Parameters
    ----------
    column : str
        The column's name (lower case, digits and ``_``).
    unit : str
        Its unit (``"s"``, ``"requests"``, ``"pod·s"``, ``"fraction"``, ...).
    label : str
        A short label for plots and legends, without the unit (``"p99 latency"``).
    description : str
        One line on what it is.
    services : str
        How the rows of several services combine into the cluster's: one of
        :data:`SERVICE_RULES`.
    seeds : str
        How the runs sharing a heatmap's cell combine: ``"mean"``, or ``"max"`` for an
        output that never averages (a percentile must say ``"max"``).
    prints : str
        What kind of number it is: ``"count"``, ``"seconds"``, ``"fraction"`` or ``"number"``.
        A count prints as an integer in the HTML report and a scenario's rows even where a
        missing value made its column float; the terminal prints every column of whole
        numbers as integers, counts or not, and every other one in fixed point with
        ``digits``.
    digits : int
        Significant digits of the column's largest value when it is not whole, in [1, 8].
    views : tuple of (view, rank)
        The views of :data:`VIEWS` that show it; a view's columns are in rank order,
        then in the registry's.
    table : str
        The table that produces it: ``"summary"`` (computed from a replay by ``value``,
        or ``histogram`` and ``quantile``) or ``"scenario"`` (a scenario's rows).
    value : callable, optional
        ``value(result) -> array (B,)``, or None when the replay has no such output (an
        asynchronous one of a synchronous replay).
    histogram : callable, optional
        For a percentile: ``histogram(result) -> (counts (B, bins), maxima (B,))``, or None.
    quantile : float, optional
        For a percentile: the quantile, in (0, 1).
    of : str, optional
        For ``services="total over time"``: the additive output it is the time average of.
    weight : callable, optional
        For ``services="weighted mean"``: ``weight(result) -> array (B,)``, each row's weight.
    """

    column: str
    unit: str
    label: str
    description: str
    services: str = SUM
    seeds: str = MEAN
    prints: str = NUMBER
    digits: int = 4
    views: tuple = ()
    table: str = "summary"
    value: Callable | None = field(default=None, compare=False, repr=False)
    histogram: Callable | None = field(default=None, compare=False, repr=False)
    quantile: float | None = None
    of: str | None = None
    weight: Callable | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if not isinstance(self.column, str) or not _COLUMN.match(self.column):
            raise ConfigError(f"output column = {self.column!r}, must be lower case letters, digits and _")
        for name, value, allowed in (("services", self.services, SERVICE_RULES), ("seeds", self.seeds, SEED_RULES),
                                     ("prints", self.prints, PRINTS), ("table", self.table, TABLES)):
            if value not in allowed:
                raise ConfigError(f"output {self.column}: {name} = {value!r}, must be one of {', '.join(allowed)}")
        lo, hi = DIGITS_RANGE
        if isinstance(self.digits, bool) or not isinstance(self.digits, int) or not lo <= self.digits <= hi:
            raise ConfigError(f"output {self.column}: digits = {self.digits!r}, must be a whole number in [{lo}, {hi}]")
        views = tuple(self.views)
        for entry in views:
            if not (isinstance(entry, tuple) and len(entry) == 2 and entry[0] in VIEWS and isinstance(entry[1], int)):
                raise ConfigError(f"output {self.column}: views entry {entry!r}, must be (view, rank) with a view "
                                  f"of {', '.join(VIEWS)}")
        object.__setattr__(self, "views", views)
        if self.quantile is not None:
            if not 0.0 < self.quantile < 1.0:
                raise ConfigError(f"output {self.column}: quantile = {self.quantile!r}, must be in (0, 1)")
            if self.seeds == MEAN:
                raise ConfigError(f"output {self.column}: seeds = 'mean', but percentiles do not average (the mean "
                                  f"of p99s is not the p99 of the pooled requests): use 'max'")
            if self.services not in (HISTOGRAM, NONE):
                raise ConfigError(f"output {self.column}: services = {self.services!r}, must be 'histogram' or "
                                  f"'none' for a percentile")
        if self.services == HISTOGRAM and (self.histogram is None or self.quantile is None):
            raise ConfigError(f"output {self.column}: services = 'histogram' needs histogram= and quantile=")
        if (self.services == TOTAL_OVER_TIME) != (self.of is not None):
            raise ConfigError(f"output {self.column}: of = {self.of!r}, is given exactly with services = "
                              f"'total over time'")
        if (self.services == WEIGHTED_MEAN) != (self.weight is not None):
            raise ConfigError(f"output {self.column}: weight= is given exactly with services = 'weighted mean'")
        computed = self.value is not None or (self.histogram is not None and self.quantile is not None)
        if (self.table == "summary") != computed:
            raise ConfigError(f"output {self.column}: table = {self.table!r}, an output of the summary has value= "
                              f"(or histogram= and quantile=), one of a scenario's rows neither")

    @property
    def percentile(self) -> bool:
        """Whether it is a percentile read from a histogram."""
        return self.quantile is not None

    @property
    def axis_label(self) -> str:
        """The label with its unit in brackets, unless the label already names it: ``"p99 latency (s)"``."""
        return self.label if self.unit in self.label.split() else f"{self.label} ({self.unit})"

    def rank(self, view: str) -> int | None:
        """Its rank in ``view``, or None when that view does not show it."""
        for name, rank in self.views:
            if name == view:
                return rank
        return None

    def compute(self, result) -> np.ndarray | None:
        """Its value per configuration of the replay ``result``, or None when the replay has none."""
        if self.value is not None:
            return self.value(result)
        hist = self.histogram(result)
        if hist is None:
            return None
        from .results import hist_quantile

        counts, maxima = hist
        # A bin's middle can lie above the exact maximum: never report a percentile above it.
        return np.minimum(hist_quantile(counts, self.quantile), maxima)


class Registry:
    """An ordered collection of outputs, looked up by column: the summary's columns in their order."""

    def __init__(self, outputs):
        self.outputs = tuple(outputs)
        self.by_column = {}
        for o in self.outputs:
            if not isinstance(o, Output):
                raise TypeError(f"a registry holds Output values, not {type(o).__name__}")
            if o.column in self.by_column:
                raise ConfigError(f"output {o.column} is defined twice")
            self.by_column[o.column] = o
        for o in self.outputs:
            if o.of is not None and o.of not in self.by_column:
                raise ConfigError(f"output {o.column}: of = {o.of!r}, which is no output")
        ranks = {}  # a view's non-zero ranks are its order: two outputs at one rank would print in either
        for o in self.outputs:
            for view, rank in o.views:
                if rank and (view, rank) in ranks:
                    raise ConfigError(f"outputs {ranks[view, rank]} and {o.column} both have rank {rank} in view "
                                      f"{view}: give each its own")
                ranks[view, rank] = o.column

    def __iter__(self) -> Iterator[Output]:
        return iter(self.outputs)

    def __len__(self) -> int:
        return len(self.outputs)

    def __contains__(self, column) -> bool:
        return column in self.by_column

    def with_outputs(self, *extra: Output) -> "Registry":
        """A new registry: these outputs, then ``extra``."""
        return Registry((*self.outputs, *extra))

    def get(self, column: str) -> Output:
        """The output of ``column``; a KeyError names the known ones when there is none."""
        try:
            return self.by_column[column]
        except KeyError:
            raise KeyError(f"no output {column!r}; the outputs are {', '.join(self.by_column)}") from None

    def lookup(self, column) -> Output | None:
        """The output of ``column``, also of a pool's column of a sweep (``load.POOL.latency_p99_s``); else None."""
        column = str(column)
        if column in self.by_column:
            return self.by_column[column]
        if column.startswith("load."):
            return self.by_column.get(column.rsplit(".", 1)[-1])
        return None

    def shown(self, view: str) -> tuple[str, ...]:
        """The columns ``view`` shows, in its order."""
        if view not in VIEWS:
            raise KeyError(f"no view {view!r}; the views are {', '.join(VIEWS)}")
        ranked = [(o.rank(view), i, o.column) for i, o in enumerate(self.outputs) if o.rank(view) is not None]
        return tuple(column for _, _, column in sorted(ranked))

    def columns(self, table: str = "summary") -> tuple[str, ...]:
        """The columns ``table`` produces, in the registry's order."""
        return tuple(o.column for o in self.outputs if o.table == table)

    def additive(self) -> tuple[str, ...]:
        """The columns that add up over services, in the registry's order."""
        return tuple(o.column for o in self.outputs if o.services == SUM)


def _counter(name: str) -> Callable:
    return lambda result: result.counters[name]


def _async(attr: str) -> Callable:
    return lambda result: None if result.invocation is None else getattr(result.invocation, attr)


def _async_hist(hist: str, maxima: str) -> Callable:
    def read(result):
        inv = result.invocation
        return None if inv is None else (getattr(inv, hist), getattr(inv, maxima))
    return read


def _in_flight(result):
    c = result.counters
    return c["requests"] - c["completed"] - c["status_503"] - c["status_504"]


def _capacity_seconds(result):
    """Request-seconds the pods could have executed: pod-seconds x container concurrency (or the per-pod total)."""
    spec = result.spec
    capacity = np.where(spec.container_concurrency > 0, spec.container_concurrency, spec.total)
    return result.counters["pod_seconds"] * capacity


def _utilisation(result):
    with np.errstate(invalid="ignore", divide="ignore"):
        return result.counters["busy_seconds"] / _capacity_seconds(result)


def _views(*names: str, **ranked: int) -> tuple:
    """``("run", "report")`` shown in registry order; ``compare=3`` at rank 3."""
    return tuple((n, 0) for n in names) + tuple(ranked.items())


#: The durations with a histogram, by column prefix: what each measures.
DURATIONS = {"latency": "latency", "wait": "waiting time", "completion": "time to completion",
             "queue_delay": "queueing delay"}


def _time(prefix: str, source: Callable, maxima: Callable, names, views: dict) -> list[Output]:
    """The percentiles ``names`` and the maximum of one duration of :data:`DURATIONS`."""
    what = DURATIONS[prefix]
    out = []
    for name in names:
        q = QUANTILES[name]
        shown = {"p50": "p50", "p90": "p90", "p99": "p99", "p999": "p99.9"}[name]
        out.append(Output(
            f"{prefix}_{name}_s", "s", f"{shown} {what}", f"{shown} of the {what}, from its histogram (within 1.2 %)",
            services=HISTOGRAM, seeds=MAX, prints=SECONDS, views=views.get(name, ()), histogram=source, quantile=q))
    out.append(Output(f"{prefix}_max_s", "s", f"max {what}", f"the largest {what}, exact", services=MAX,
                      prints=SECONDS, views=views.get("max", ()), value=maxima))
    return out


def _latency(result):
    return result.latency_hist, result.counters["latency_max"]


def _wait(result):
    return result.wait_hist, result.counters["wait_max"]


#: Every output, in the order of the summary's columns (tests/test_golden.py pins that order).
OUTPUTS: tuple[Output, ...] = (
    Output("requests", "requests", "requests", "requests of the trace that arrived within the replay",
           prints=COUNT, views=_views("run", "report", "many", cluster=1, scenario=1, scenario_rows=1, chain=1),
           value=_counter("requests")),
    Output("completed", "requests", "completed requests", "requests answered by a pod (200)",
           prints=COUNT, views=_views("run", "report", "many", cluster=2, scenario_rows=2, chain=2),
           value=_counter("completed")),
    Output("status_503", "requests", "503 responses", "requests refused: the queue-proxy's queue or the activator full",
           prints=COUNT, views=_views("run", "report", "many", compare=4, cluster=3, scenario_rows=3, chain=3),
           value=_counter("status_503")),
    Output("status_504", "requests", "504 responses", "requests that outlived the revision timeout",
           prints=COUNT, views=_views("run", "report", "many", compare=5, cluster=4, scenario_rows=4, chain=4),
           value=_counter("status_504")),
    Output("in_flight", "requests", "requests in flight at the end",
           "requests still in the system when the replay ends",
           prints=COUNT, views=_views(cluster=5), value=_in_flight),
    *_time("latency", _latency, _counter("latency_max"), ("p50", "p90", "p99", "p999"), {
        "p50": _views("run", "report", "many", compare=1, scenario=2, scenario_rows=5),
        "p90": _views(scenario_rows=6),
        "p99": _views("run", "report", "many", compare=2, scenario=3, scenario_rows=7)}),
    *_time("wait", _wait, _counter("wait_max"), ("p50", "p90", "p99", "p999"),
           {"p99": _views("run", "report")}),
    Output("cold_start_delayed", "requests", "requests delayed by a cold start",
           "requests that arrived with no ready pod (or no instance with room) and waited for one to start",
           prints=COUNT, views=_views("run", "report", "many", compare=3, cluster=6, scenario=4, scenario_rows=8, chain=8),
           value=_counter("cold_start_delayed")),
    Output("pod_seconds", "pod·s", "pod-seconds", "pod time from creation to termination",
           views=_views("run", "report", "many", compare=6, cluster=7, scenario=5, scenario_rows=9, chain=9),
           value=_counter("pod_seconds")),
    Output("mean_pods", "pods", "mean pods", "pod-seconds over the simulated seconds",
           services=TOTAL_OVER_TIME, of="pod_seconds", views=_views("run", "report", compare=8, cluster=14,
                                                                    scenario_rows=11),
           value=lambda result: result.counters["pod_seconds"] / result.duration),
    Output("peak_pods", "pods", "peak pods", "the most pods alive at once",
           services=PEAK_OF_TOTAL, prints=COUNT,
           views=_views("run", "report", "many", compare=9, cluster=13, scenario=6, scenario_rows=12, chain=10),
           value=_counter("peak_pods")),
    Output("idle_pod_seconds", "pod·s", "idle pod-seconds",
           "pod time with no request executing, starting pods included",
           views=_views("run", "report", compare=7, cluster=8, scenario_rows=10), value=_counter("idle_pod_seconds")),
    Output("utilisation", "busy / capacity", "utilisation",
           "executed request-seconds over pod-seconds x container concurrency (the per-pod total when CC = 0)",
           services=WEIGHTED_MEAN, weight=_capacity_seconds, prints=FRACTION, value=_utilisation),
    Output("scale_events", "events", "scale events", "times the deployment's replica count changed",
           prints=COUNT, views=_views(cluster=10), value=_counter("scale_events")),
    Output("pods_created", "pods", "pods created", "pods the deployment started",
           prints=COUNT, views=_views(cluster=9), value=_counter("pods_created")),
    Output("scale_from_zero", "events", "scale-from-zero events", "times the revision scaled up from no pods",
           prints=COUNT, views=_views(cluster=11, scenario_rows=13), value=_counter("scale_from_zero")),
    Output("panic_fraction", "fraction", "time in panic", "fraction of whole seconds the decider was panicking",
           services=MEAN, prints=FRACTION, views=_views("run", "report", scenario_rows=14),
           value=_counter("panic_fraction")),
    Output("activator_fraction", "fraction", "time with the activator in the path",
           "fraction of whole seconds the network routed through the activator",
           services=MEAN, prints=FRACTION, views=_views("run", "report", scenario_rows=15),
           value=_counter("activator_fraction")),
    Output("activator_rejected", "requests", "requests rejected by the activator pool",
           "requests answered 503 beyond the service's share of the shared activator pool",
           prints=COUNT, views=_views("many", cluster=12),
           value=lambda result: result.counters.get("activator_rejected")),
    # Asynchronous invocation: the columns above count attempts; these count requests.
    Output("async_requests", "requests", "asynchronous requests", "requests put on the queue",
           prints=COUNT, value=_async("requests")),
    Output("async_completed", "requests", "completed asynchronous requests", "requests that an attempt completed",
           prints=COUNT, views=_views("run_async", "compare_async"), value=_async("completed")),
    Output("dead_lettered", "requests", "dead-lettered requests", "requests given up after their last retry",
           prints=COUNT, views=_views("run_async", "compare_async"), value=_async("dead_lettered")),
    Output("async_pending", "requests", "requests pending at the end",
           "requests between attempts or in an attempt when the replay ends",
           prints=COUNT, views=_views("run_async"), value=_async("pending")),
    Output("async_waiting", "requests", "requests waiting at the end",
           "requests still on the queue when the replay ends",
           prints=COUNT, value=_async("waiting")),
    Output("retries", "attempts", "retries", "attempts after a request's first",
           prints=COUNT, views=_views("run_async", "compare_async"), value=_async("retries")),
    *_time("completion", _async_hist("completion_hist", "completion_max"),
           _async("completion_max"), ("p50", "p99"),
           {"p50": _views("run_async", "compare_async"), "p99": _views("run_async", "compare_async")}),
    *_time("queue_delay", _async_hist("queue_hist", "queue_max"), _async("queue_max"),
           ("p50", "p99"), {"p99": _views("run_async")}),
    # Counted on a scenario's timelines, one point a second.
    Output("mode_switches", "events", "activator mode switches",
           "times the activator moved into or out of the request path",
           prints=COUNT, table="scenario", views=_views(scenario=8)),
    Output("scale_to_zero", "events", "scale-to-zero events", "seconds at which the revision's last pod went away",
           prints=COUNT, table="scenario", views=_views(scenario=7)),
    Output("panic_seconds", "s", "seconds in panic", "whole seconds the decider was panicking",
           prints=COUNT, table="scenario", views=_views(scenario=9)),
    Output("largest_fall", "fraction", "largest fall of ready pods",
           "the largest fraction of the ready pods lost from one second to the next",
           services=MAX, prints=FRACTION, table="scenario", views=_views(scenario=10)),
    # A chain of functions' row per service (autoscale.chains).
    Output("failed_downstream", "requests", "requests failed downstream",
           "requests the service answered with a callee's 503 or 504 (counted in its completed requests)",
           prints=COUNT, table="chain", views=_views(chain=5)),
)

#: The registry every table, plot and report reads (when it runs, so a replaced registry is read).
REGISTRY = Registry(OUTPUTS)


def get(column: str) -> Output:
    """The output of ``column`` (a KeyError when there is none)."""
    return REGISTRY.get(column)


def lookup(column) -> Output | None:
    """The output of ``column``, also of a sweep's pool column (``load.POOL.latency_p99_s``), or None."""
    return REGISTRY.lookup(column)


def shown(view: str) -> tuple[str, ...]:
    """The columns ``view`` (one of :data:`VIEWS`) shows, in its order."""
    return REGISTRY.shown(view)


def columns(table: str = "summary") -> tuple[str, ...]:
    """The columns ``table`` (``"summary"`` or ``"scenario"``) produces, in the registry's order."""
    return REGISTRY.columns(table)


def additive() -> tuple[str, ...]:
    """The columns that add up over services."""
    return REGISTRY.additive()


def averages(column) -> bool:
    """Whether the runs sharing a heatmap's cell may average ``column``: not a percentile's.

    A column outside the registry named like a percentile (``..._p99_s``) is taken as one.
    """
    o = REGISTRY.lookup(column)
    if o is None:
        return _PERCENTILE_NAME.search(str(column)) is None
    return o.seeds == MEAN


def cell_aggregate(column, shared: bool) -> str:
    """How a heatmap combines the runs of a cell: ``"mean"``, or ``"max"`` for a percentile when runs share cells."""
    return MEAN if not shared or averages(column) else MAX


def combine_services(result, summary=None, columns=None) -> dict:
    """Every output of the rows of ``result`` (a batch of services) that combines, as the cluster's one value.

    ``summary`` is ``result.summary`` (computed when not given); ``columns``, when given,
    the only outputs wanted. Outputs the replay does not have, and those that do not
    combine (``services="none"``), are left out.
    """
    s = result.summary if summary is None else summary
    wanted = None if columns is None else set(columns)
    row = {}
    for o in REGISTRY:
        if o.table != "summary" or o.services == NONE or o.column not in s:
            continue
        if wanted is not None and o.column not in wanted:
            continue
        if o.services == SUM:
            row[o.column] = s[o.column].sum()
        elif o.services == MEAN:
            row[o.column] = s[o.column].mean()
        elif o.services == WEIGHTED_MEAN:  # rows of no weight (no pods: utilisation NaN) count for nothing
            w = np.asarray(o.weight(result), dtype=np.float64)
            x = s[o.column].to_numpy(dtype=np.float64)
            used = w > 0
            row[o.column] = float(np.sum(x[used] * w[used]) / np.sum(w[used])) if used.any() else float("nan")
        elif o.services == MAX:
            row[o.column] = s[o.column].max()
        elif o.services == PEAK_OF_TOTAL:
            totals = result.pods_total
            row[o.column] = int(totals.max()) if totals is not None and totals.size else 0
        elif o.services == TOTAL_OVER_TIME:
            row[o.column] = s[o.of].sum() / result.duration
        else:  # HISTOGRAM: the percentile of every service's requests together
            from .results import hist_quantile

            counts, maxima = o.histogram(result)
            value = hist_quantile(np.asarray(counts).sum(axis=0), o.quantile)
            row[o.column] = float(np.minimum(value, np.max(maxima))) if len(maxima) else float("nan")
    return row
