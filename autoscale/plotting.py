"""Figures of replay results; each function returns its figure and axes and never calls ``show``.

Every figure reads results in memory (:class:`~autoscale.ReplayResult`,
:class:`~autoscale.Comparison`) or on disk (:func:`autoscale.store.load`), or a summary
table (a sweep's, or any DataFrame with the summary's columns). Colours come from the
Okabe-Ito palette (:data:`PALETTE`), which stays distinct under the common forms of
colour blindness; continuous values use viridis. Axes carry their units.

- :func:`timeline`: demand, observed stable and panic values, desired, starting and
  ready pods of one configuration, with panic and activator-in-path periods shaded and
  503 and 504 responses marked.
- :func:`latency_cdf`: distributions of end-to-end or waiting time, per configuration
  or policy, from the latency histograms.
- :func:`heatmap`: one output over two swept keys (say TBC x target), cells annotated.
- :func:`pareto`: cost against latency, with the non-dominated configurations joined.
- :func:`cold_starts_vs_keepalive`: requests delayed by a cold start, and pod-seconds,
  against the keep-alive time.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import pandas as pd
>>> from autoscale.plotting import pareto
>>> table = pd.DataFrame({"pod_seconds": [10, 20, 15, 30], "latency_p99_s": [3.0, 1.0, 3.5, 0.9]})
>>> fig, ax = pareto(table)
>>> ax.get_xlabel(), ax.get_ylabel()
('pod-seconds (pod·s)', 'p99 latency (s)')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "PALETTE", "COLORS", "axis_label", "cold_starts_vs_keepalive", "heatmap", "latency_cdf", "pareto",
    "pareto_front", "timeline",
]

#: Okabe-Ito colour-blind-safe palette.
PALETTE = {
    "black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}
#: The order in which curves and groups take colours (yellow, too pale for lines, comes last).
COLORS = tuple(PALETTE[k] for k in ("blue", "vermillion", "green", "orange", "purple", "sky", "black", "yellow"))
#: Line styles that tell curves apart once the colours run out.
_STYLES = ("-", "--", ":", "-.")

_COLUMN_LABELS = {
    "pod_seconds": "pod-seconds (pod·s)",
    "idle_pod_seconds": "idle pod-seconds (pod·s)",
    "mean_pods": "mean pods",
    "peak_pods": "peak pods",
    "requests": "requests",
    "completed": "completed requests",
    "status_503": "503 responses (requests)",
    "status_504": "504 responses (requests)",
    "in_flight": "requests in flight at the end",
    "cold_start_delayed": "requests delayed by a cold start",
    "utilisation": "utilisation (busy / capacity)",
    "scale_events": "scale events",
    "pods_created": "pods created",
    "scale_from_zero": "scale-from-zero events",
    "panic_fraction": "time in panic (fraction)",
    "activator_fraction": "time with the activator in the path (fraction)",
    "target-burst-capacity": "target burst capacity (requests)",
    "container-concurrency": "container concurrency (requests per pod)",
    "container-concurrency-target-default": "concurrency target (requests per pod)",
    "container-concurrency-target-percentage": "target utilisation (% of container concurrency)",
    "target": "target (per pod)",
    "target-utilization-percentage": "target utilisation (%)",
    "requests-per-second-target-default": "rps target (requests/s per pod)",
    "stable-window": "stable window (s)",
    "panic-window-percentage": "panic window (% of the stable window)",
    "panic-threshold-percentage": "panic threshold (% of ready capacity)",
    "max-scale-up-rate": "max scale-up rate (x ready pods)",
    "max-scale-down-rate": "max scale-down rate (ready pods / x)",
    "scale-to-zero-grace-period": "scale-to-zero grace period (s)",
    "scale-to-zero-pod-retention-period": "scale-to-zero pod retention (s)",
    "scale-down-delay": "scale-down delay (s)",
    "min-scale": "min scale (pods)",
    "max-scale": "max scale (pods)",
    "initial-scale": "initial scale (pods)",
    "activation-scale": "activation scale (pods)",
    "timeout-seconds": "revision timeout (s)",
    "cold-start": "cold start (s)",
    "mode-switch-delay": "mode switch delay (s)",
    "policy.keep_alive": "keep-alive (s)",
    "keep_alive": "keep-alive (s)",
}
_QUANTILE_NAMES = {"p50": "p50", "p90": "p90", "p99": "p99", "p999": "p99.9", "max": "max"}
_TIME_OUTPUTS = {"latency": "latency", "wait": "waiting time", "completion": "time to completion",
                 "queue_delay": "queueing delay"}
#: Short names of configuration keys, for legends and annotations.
_SHORT = {
    "target-burst-capacity": "TBC", "container-concurrency": "CC", "container-concurrency-target-default": "target",
    "stable-window": "window", "panic-window-percentage": "panic window %",
    "panic-threshold-percentage": "panic threshold %", "scale-to-zero-grace-period": "grace",
    "policy.keep_alive": "keep-alive",
}


def axis_label(column: str) -> str:
    """A readable axis label with its unit for a summary column or configuration key.

    Examples
    --------
    >>> axis_label("latency_p999_s"), axis_label("target-burst-capacity"), axis_label("wait_p50_s")
    ('p99.9 latency (s)', 'target burst capacity (requests)', 'p50 waiting time (s)')
    """
    if column in _COLUMN_LABELS:
        return _COLUMN_LABELS[column]
    for prefix, what in _TIME_OUTPUTS.items():
        if column.startswith(prefix + "_") and column.endswith("_s"):
            q = column[len(prefix) + 1:-2]
            if q in _QUANTILE_NAMES:
                return f"{_QUANTILE_NAMES[q]} {what} (s)"
    words = column.removeprefix("policy.").replace("_", " ").replace("-", " ")
    return words[:-2] + " (s)" if words.endswith(" s") else words


def _bare(label: str) -> str:
    """An axis label without its unit: ``"p99 latency (s)"`` -> ``"p99 latency"``."""
    return label.split(" (")[0]


def _short(key: str) -> str:
    return _SHORT.get(key, key.removeprefix("policy."))


def _fmt(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{value:g}"
    return str(value)


def _new(ax, figsize):
    import matplotlib.pyplot as plt

    if ax is None:
        return plt.subplots(figsize=figsize, constrained_layout=True)
    return ax.figure, ax


def _table(obj) -> pd.DataFrame:
    """The summary table of a result, a comparison, stored results, or a DataFrame itself."""
    if isinstance(obj, pd.DataFrame):
        return obj
    summary = getattr(obj, "summary", None)
    if isinstance(summary, pd.DataFrame):
        return summary
    raise TypeError(f"expected a DataFrame or results with a summary table, got {type(obj).__name__}")


def _column(table: pd.DataFrame, name: str) -> str:
    """``name`` as a column of ``table``, accepting a field name for a Knative key (``target_burst_capacity``)."""
    if name in table:
        return name
    for alias in (name.replace("_", "-"), f"policy.{name}", f"policy.{name.replace('-', '_')}"):
        if alias in table:
            return alias
    raise KeyError(f"no column {name!r} in the table (columns: {', '.join(map(str, table.columns))})")


# -- timeline --------------------------------------------------------------------------------


def _shade(ax, time, step, fraction, color, label):
    on = fraction > 0.5
    if not np.any(on):
        return
    edges = np.diff(np.concatenate([[0], on.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    for i, (a, b) in enumerate(zip(starts, stops)):
        ax.axvspan(time[a], time[b - 1] + step, color=color, alpha=0.15, lw=0, label=label if i == 0 else None)


def _mark(ax, time, step, rate, y, color, label):
    """Ticks at the top of ``ax`` (at height ``y``, in axes units) where ``rate`` (responses/s) is positive."""
    hit = np.flatnonzero(rate > 0)
    if hit.size == 0:
        return 0
    count = int(round(float(np.sum(rate[hit]) * step)))
    ax.plot(time[hit] + step / 2, np.full(hit.size, y), transform=ax.get_xaxis_transform(), ls="none",
            marker="|", ms=9, mew=1.5, color=color, clip_on=False, label=f"{label} ({count:,})")
    return hit.size


def _config_title(cfg) -> str:
    if isinstance(cfg, Mapping):
        tbc = cfg.get("target-burst-capacity")
        return f"TBC {tbc:g}" if isinstance(tbc, (int, float)) else ""
    return f"TBC {cfg.target_burst_capacity:g}, target {cfg.target_value:g} per pod"


def timeline(result, config: int = 0, ax=None):
    """Demand and observed concurrency above, pods below, panic and activator-in-path shaded, 503/504 marked.

    The top panel shows the demand concurrency (requests in the system), the stable
    and panic window averages the autoscaler observed, and a tick row at its top edge
    for each bucket with 503 (queue full) or 504 (timed out) responses, the legend
    giving their totals. The bottom panel shows desired, ready and starting pods.
    Both shade the periods in panic and with the activator in the request path.

    Parameters
    ----------
    result : ReplayResult or autoscale.store.StoredRun
        Replayed with ``timeseries=True``.
    config : int
        Which configuration of the batch.
    ax : pair of matplotlib Axes, optional
        Where to draw; a new figure with two stacked axes by default.

    Returns
    -------
    (Figure, ndarray of Axes)
    """
    import matplotlib.pyplot as plt

    ts = result.timeseries
    if ts is None:
        raise ValueError("this result has no time series: replay with timeseries=True")
    if ax is None:
        fig, axes = plt.subplots(2, 1, sharex=True, figsize=(10, 6), constrained_layout=True)
    else:
        axes = np.asarray(ax)
        fig = axes.flat[0].figure
    top, bottom = axes.flat[0], axes.flat[1]
    v = {k: a[config] for k, a in ts.values.items()}
    t = ts.time
    top.plot(t, v["demand"], color=PALETTE["black"], lw=1, label="demand concurrency")
    top.plot(t, v["stable"], color=PALETTE["blue"], lw=1.2, label="observed stable")
    top.plot(t, v["panic"], color=PALETTE["orange"], lw=1, ls="--", label="observed panic")
    top.set_ylabel("concurrent requests")
    bottom.step(t, v["desired"], where="post", color=PALETTE["vermillion"], lw=1.2, label="desired pods")
    bottom.step(t, v["ready"], where="post", color=PALETTE["green"], lw=1.2, label="ready pods")
    bottom.step(t, v["starting"], where="post", color=PALETTE["purple"], lw=1, ls=":", label="starting pods")
    bottom.set_ylabel("pods")
    bottom.set_xlabel("time (s)")
    marked = _mark(top, t, ts.step, v.get("status_503", np.zeros_like(t)), 0.97, PALETTE["vermillion"],
                   "503 queue full")
    marked += _mark(top, t, ts.step, v.get("status_504", np.zeros_like(t)), 0.91, PALETTE["purple"],
                    "504 timed out")
    if marked:  # headroom above the curves for the tick rows
        peak = max(float(np.nanmax(v[k])) if v[k].size else 0.0 for k in ("demand", "stable", "panic"))
        top.set_ylim(bottom=0, top=max(peak, 1.0) * 1.2)
    for a in (top, bottom):
        _shade(a, t, ts.step, v["panic_mode"], PALETTE["yellow"], "panic")
        _shade(a, t, ts.step, v["activator"], PALETTE["sky"], "activator in path")
        a.legend(loc="upper right", fontsize="small")
    cfg = result.configs[config]
    policy = getattr(result, "policy", "kpa")
    what = _config_title(cfg) if policy == "kpa" else f"policy {policy}"
    top.set_title(f"{result.trace_name or 'trace'}: {what}")
    return fig, axes


# -- latency distributions -------------------------------------------------------------------


def _plain_log_labels(axis) -> None:
    """Label a log axis 0.01, 0.2, 3, 100 rather than in powers of ten (matplotlib still picks which)."""
    from matplotlib.ticker import LogFormatterSciNotation

    class Plain(LogFormatterSciNotation):
        def __call__(self, x, pos=None):
            return f"{x:g}" if super().__call__(x, pos) else ""

    axis.set_major_formatter(Plain())
    axis.set_minor_formatter(Plain(labelOnlyBase=False, minor_thresholds=(1, 0.4)))


def _varying_labels(summary: pd.DataFrame | None, n: int) -> list[str]:
    """One label per configuration from the keys that vary in a summary (``config 0``... without them)."""
    if summary is None or "requests" not in summary or len(summary) != n:
        return [f"config {i}" for i in range(n)]
    skip = {"config", "policy", "trace", "function", "seed"}
    keys = [c for c in summary.columns[: summary.columns.get_loc("requests")] if c not in skip]
    keys = [k for k in keys if summary[k].astype(str).nunique() > 1]
    if not keys:
        return [f"config {i}" for i in range(n)]
    rows = summary[keys].to_dict("records")
    return [", ".join(f"{_short(k)} {_fmt(r[k])}" for k in keys) for r in rows]


def _curves(source, which: str) -> list[tuple[str, np.ndarray]]:
    """(label, counts) per curve of whatever :func:`latency_cdf` accepts."""
    hist_attr = {"latency": "latency_hist", "wait": "wait_hist"}
    if isinstance(source, np.ndarray):
        counts = np.atleast_2d(source)
        return [(f"{i}", counts[i]) for i in range(counts.shape[0])]
    results = getattr(source, "results", None)
    if getattr(source, "kind", None) == "run" and isinstance(results, Mapping) and len(results) == 1:
        return _curves(next(iter(results.values())), which)  # a stored run: its configurations
    if isinstance(source, Mapping):
        results = source
    if isinstance(results, Mapping) and results:
        out = []
        for label, r in results.items():
            inner = _curves(r, which)
            if len(inner) == 1:
                out.append((str(label), inner[0][1]))
            else:
                out.extend((f"{label}: {name}", c) for name, c in inner)
        return out
    if isinstance(getattr(source, "histograms", None), Mapping) and which in source.histograms:
        counts = np.atleast_2d(source.histograms[which])
    elif which in hist_attr and hasattr(source, hist_attr[which]):
        counts = np.atleast_2d(getattr(source, hist_attr[which]))
    elif which in ("completion", "queue_delay") and getattr(source, "invocation", None) is not None:
        inv = source.invocation
        counts = np.atleast_2d(inv.completion_hist if which == "completion" else inv.queue_hist)
    elif isinstance(source, Sequence) and not isinstance(source, str):
        return [(f"{i}", np.asarray(c)) for i, c in enumerate(source)]
    else:
        raise TypeError(f"latency_cdf: no {which} histograms in a {type(source).__name__}")
    labels = _varying_labels(getattr(source, "summary", None), counts.shape[0])
    return list(zip(labels, counts))


def latency_cdf(results_or_hists, labels: Sequence[str] | None = None, waiting: bool = False, ax=None,
                *, which: str | None = None, complementary: bool = False, edges: np.ndarray | None = None):
    """Cumulative distributions of end-to-end (or waiting) time, one curve per configuration or policy.

    Read from the latency histograms (100 bins a decade), so the curves are exact to
    within a bin (2.3 %). The time axis is logarithmic; a waiting time of 0 shows as
    the curve's height at its left end.

    Parameters
    ----------
    results_or_hists : ReplayResult, Comparison, StoredResult, StoredRun, mapping, or array
        A result draws one curve per configuration (labelled by the keys that vary);
        a comparison, stored comparison or mapping label -> result one per label (and
        configuration, when a label has several); an array of counts, shape
        ``(bins,)`` or ``(curves, bins)``, one per row.
    labels : sequence of str, optional
        Curve labels, replacing the automatic ones.
    waiting : bool
        Plot the waiting time (arrival to start of execution) instead of the
        end-to-end time.
    ax : matplotlib Axes, optional
    which : {"latency", "wait", "completion", "queue_delay"}, optional
        Which histogram; overrides ``waiting``. ``completion`` and ``queue_delay``
        exist for asynchronous invocation.
    complementary : bool
        Plot the fraction of requests that took x or longer, on a log axis (the tail).
    edges : ndarray, optional
        Bin edges, seconds (those of :func:`autoscale.results.hist_edges` by default).

    Returns
    -------
    (Figure, Axes)
    """
    from .results import hist_edges

    which = which or ("wait" if waiting else "latency")
    if which not in _TIME_OUTPUTS:
        raise ValueError(f"which = {which!r}, must be one of {', '.join(_TIME_OUTPUTS)}")
    curves = _curves(results_or_hists, which)
    if labels is not None:
        labels = [str(x) for x in labels]
        if len(labels) != len(curves):
            raise ValueError(f"{len(labels)} labels for {len(curves)} curves")
        curves = [(name, c) for name, (_, c) in zip(labels, curves)]
    if edges is None:
        edges = getattr(results_or_hists, "edges", None)
    edges = hist_edges() if edges is None else np.asarray(edges, dtype=float)
    fig, ax = _new(ax, (7, 4.5))
    for i, (name, counts) in enumerate(curves):
        counts = np.asarray(counts, dtype=np.float64)
        if counts.shape[-1] != edges.size - 1:
            raise ValueError(f"{name}: {counts.shape[-1]} bins, but {edges.size - 1} between the edges")
        total = counts.sum()
        color, style = COLORS[i % len(COLORS)], _STYLES[(i // len(COLORS)) % len(_STYLES)]
        positive = np.flatnonzero(counts[1:]) + 1  # bin 0 holds the times below 1 us (waits of 0)
        if total == 0 or positive.size == 0:
            note = "no requests" if total == 0 else "all 0 s"
            ax.plot([], [], color=color, ls=style, label=f"{name} ({note})")
            continue
        lo, hi = positive[0], positive[-1]
        if complementary:
            # Fraction at or above each bin's lower edge: positive up to the last bin.
            x = edges[lo:hi + 1]
            y = (np.cumsum(counts[::-1])[::-1] / total)[lo:hi + 1]
        else:
            # Fraction at or below each bin's upper edge, starting from the zeros of bin 0.
            x = edges[lo:hi + 2].copy()
            if not np.isfinite(x[-1]):  # the overflow bin: close the curve one bin width beyond its start
                x[-1] = x[-2] * (edges[2] / edges[1])
            cum = np.cumsum(counts) / total
            y = np.concatenate([[cum[lo - 1]], cum[lo:hi + 1]])
        ax.plot(x, y, color=color, ls=style, lw=1.4, label=name)
    ax.set_xscale("log")
    _plain_log_labels(ax.xaxis)
    what = _TIME_OUTPUTS[which]
    ax.set_xlabel(f"{what} (s)")
    if complementary:
        ax.set_yscale("log")
        ax.set_ylabel(f"fraction of requests with {what} >= x")
    else:
        ax.set_ylim(0, 1.02)
        ax.set_ylabel(f"fraction of requests with {what} <= x")
        for q, name in ((0.5, "p50"), (0.99, "p99")):
            ax.axhline(q, color="0.6", lw=0.6, ls=":", zorder=0)
            ax.text(0.005, q, name, transform=ax.get_yaxis_transform(), va="bottom", fontsize="x-small",
                    color="0.4")
    ax.grid(True, which="major", color="0.9", lw=0.6)
    ax.legend(loc="lower right" if not complementary else "upper right", fontsize="small")
    ax.set_title(f"{what[0].upper()}{what[1:]} distribution")
    return fig, ax


# -- sweeps ----------------------------------------------------------------------------------


def _sorted_values(series: pd.Series) -> list:
    values = list(dict.fromkeys(series.dropna()))
    try:
        return sorted(values, key=float)
    except (TypeError, ValueError):
        return sorted(values, key=str)


def heatmap(table, x: str, y: str, value: str = "latency_p99_s", ax=None, *, agg: str = "mean",
            cmap: str = "viridis", log: bool = False, fmt: str | None = None, annotate: bool = True):
    """One output over two swept keys, a cell per pair of values, each annotated with its value.

    Parameters
    ----------
    table : DataFrame or results
        A summary table (a sweep's, a run's, a comparison's) or anything with one.
    x, y : str
        The keys on the horizontal and vertical axes (columns of ``table``, e.g.
        ``"target-burst-capacity"`` or ``"target_burst_capacity"``).
    value : str
        The output that colours the cells (``latency_p99_s``, ``pod_seconds``, ...).
    agg : str
        How rows that share a cell are combined (seeds, traces, other keys):
        ``"mean"``, ``"median"``, ``"max"``, ``"min"``. The title says how many.
    cmap : str
        A Matplotlib colour map; viridis is colour-blind-safe and prints in grey.
    log : bool
        Colour on a logarithmic scale (for outputs spanning decades).
    fmt : str, optional
        Format of the annotations (``"{:.3g}"`` by default).
    annotate : bool
        Write each cell's value in it.

    Returns
    -------
    (Figure, Axes)
    """
    from matplotlib.colors import LogNorm

    table = _table(table)
    x, y, value = _column(table, x), _column(table, y), _column(table, value)
    xs, ys = _sorted_values(table[x]), _sorted_values(table[y])
    data = table[[x, y, value]].copy()
    data[value] = pd.to_numeric(data[value], errors="coerce")
    grouped = data.groupby([y, x], dropna=True)[value]
    cells = grouped.agg(agg).unstack(x).reindex(index=ys, columns=xs)
    per_cell = int(grouped.size().max()) if len(data) else 0
    grid = cells.to_numpy(dtype=float)
    fig, ax = _new(ax, (1.2 + 0.9 * len(xs) + 1.6, 1.2 + 0.6 * len(ys)))
    finite = grid[np.isfinite(grid)]
    norm = None
    if log and finite.size and finite.min() > 0:
        norm = LogNorm(vmin=finite.min(), vmax=finite.max())
    image = ax.imshow(np.ma.masked_invalid(grid), origin="lower", aspect="auto", cmap=cmap, norm=norm)
    bar = fig.colorbar(image, ax=ax)
    bar.set_label(axis_label(value))
    if norm is not None:
        _plain_log_labels(bar.ax.yaxis)
    ax.set_xticks(range(len(xs)), [_fmt(v) for v in xs])
    ax.set_yticks(range(len(ys)), [_fmt(v) for v in ys])
    ax.set_xlabel(axis_label(x))
    ax.set_ylabel(axis_label(y))
    if annotate:
        fmt = fmt or "{:.3g}"
        for (r, c), cell in np.ndenumerate(grid):
            if not np.isfinite(cell):
                ax.text(c, r, "n/a", ha="center", va="center", fontsize="small", color="0.4")
                continue
            red, green, blue, _ = image.cmap(image.norm(cell))
            dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
            ax.text(c, r, fmt.format(cell), ha="center", va="center", fontsize="small",
                    color="white" if dark else "black")
    title = axis_label(value)
    if per_cell > 1:
        title += f", {agg} of up to {per_cell} runs per cell"
    ax.set_title(title)
    return fig, ax


def pareto_front(cost, latency) -> np.ndarray:
    """Which points are non-dominated when both ``cost`` and ``latency`` are to be minimised.

    A point is dominated when another is no worse in both and better in one. Points
    with a missing (NaN) value are never on the front; equal points are both on it.

    Returns
    -------
    ndarray of bool

    Examples
    --------
    >>> pareto_front([1, 2, 3, 2], [3, 2, 1, 3]).tolist()
    [True, True, True, False]
    """
    cost = np.asarray(cost, dtype=np.float64)
    latency = np.asarray(latency, dtype=np.float64)
    if cost.shape != latency.shape or cost.ndim != 1:
        raise ValueError(f"cost and latency must be 1-D of the same length, got {cost.shape} and {latency.shape}")
    on = np.zeros(cost.size, dtype=bool)
    ok = np.flatnonzero(np.isfinite(cost) & np.isfinite(latency))
    # Sweep by increasing cost (then latency): a point is on the front when its latency is
    # below every cheaper point's, or equals the point that set the best latency so far.
    order = ok[np.lexsort((latency[ok], cost[ok]))]
    best_latency, best_cost = np.inf, np.nan
    for i in order:
        if latency[i] < best_latency:
            on[i] = True
            best_latency, best_cost = latency[i], cost[i]
        elif latency[i] == best_latency and cost[i] == best_cost:
            on[i] = True
    return on


def pareto(table, cost: str = "pod_seconds", latency: str = "latency_p99_s", group: str | None = None, ax=None,
           *, per_group: bool | None = None, annotate: str | Sequence[str] | None = None, logx: bool = False,
           logy: bool = False):
    """Cost against latency for every row, the non-dominated rows highlighted and joined.

    Parameters
    ----------
    table : DataFrame or results
        One row per configuration (and seed, trace, policy ...).
    cost, latency : str
        The columns to minimise: by default pod-seconds and p99 latency.
    group : str, optional
        A column whose values (policies, functions, ...) get a colour each.
    ax : matplotlib Axes, optional
    per_group : bool, optional
        One front per group (each policy's best trade-offs) instead of one front over
        every row. By default per group when every group has at least three rows.
    annotate : str or sequence of str, optional
        Columns (say the swept keys) to write beside each point of a front.
    logx, logy : bool
        Logarithmic axes.

    Returns
    -------
    (Figure, Axes)
        Each front is a step line labelled ``"Pareto front"`` (``"<group>: Pareto
        front"`` per group) through exactly its non-dominated points, drawn filled; the
        dominated points are hollow.
    """
    from matplotlib.lines import Line2D

    table = _table(table)
    cost, latency = _column(table, cost), _column(table, latency)
    if isinstance(annotate, str):
        annotate = [annotate]
    annotate = [_column(table, a) for a in (annotate or [])]
    c = pd.to_numeric(table[cost], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(table[latency], errors="coerce").to_numpy(dtype=float)
    if group is None:
        groups = [(None, np.arange(len(table)))]
    else:
        keys = table[_column(table, group)].astype(str).to_numpy()
        groups = [(name, np.flatnonzero(keys == name)) for name in dict.fromkeys(keys)]
    if per_group is None:
        per_group = group is not None and all(idx.size >= 3 for _, idx in groups)
    on = np.zeros(len(table), dtype=bool)
    fronts = []  # (label, colour, row indices of the front by increasing cost)
    if per_group:
        for i, (name, idx) in enumerate(groups):
            mine = idx[pareto_front(c[idx], lat[idx])]
            on[mine] = True
            fronts.append((f"{name}: Pareto front" if name is not None else "Pareto front", COLORS[i % len(COLORS)],
                           mine))
    else:
        on = pareto_front(c, lat)
        fronts.append(("Pareto front", PALETTE["black"] if group is not None else COLORS[0], np.flatnonzero(on)))
    fig, ax = _new(ax, (7, 4.5))
    for i, (name, idx) in enumerate(groups):
        color = COLORS[i % len(COLORS)]
        front, rest = idx[on[idx]], idx[~on[idx]]
        ax.scatter(c[front], lat[front], s=32, color=color, zorder=3,
                   label=None if name is None else str(name))
        ax.scatter(c[rest], lat[rest], s=24, facecolors="none", edgecolors=color, alpha=0.7, lw=0.9, zorder=2)
    for label, color, rows in fronts:
        rows = rows[np.lexsort((lat[rows], c[rows]))]
        ax.step(c[rows], lat[rows], where="post", color=color, lw=1.3, zorder=2.5, label=label)
    if np.any(~on & np.isfinite(c) & np.isfinite(lat)):
        ax.add_line(Line2D([], [], ls="none", marker="o", mfc="none", mec=COLORS[0] if group is None else "0.4",
                           label="dominated"))
    if annotate:
        # Equal points share one note: the first one's values, and how many more there are.
        notes: dict[tuple, list[str]] = {}
        for k in np.flatnonzero(on)[np.argsort(c[on], kind="stable")]:
            row = table.iloc[k]
            notes.setdefault((c[k], lat[k]), []).append(", ".join(f"{_short(a)} {_fmt(row[a])}" for a in annotate))
        for (x, y), texts in notes.items():
            text = texts[0] + (f" (+{len(texts) - 1} equal)" if len(texts) > 1 else "")
            ax.annotate(text, (x, y), textcoords="offset points", xytext=(4, 4), fontsize="x-small", color="0.2")
    if logx:
        ax.set_xscale("log")
        _plain_log_labels(ax.xaxis)
    if logy:
        ax.set_yscale("log")
        _plain_log_labels(ax.yaxis)
    ax.set_xlabel(axis_label(cost))
    ax.set_ylabel(axis_label(latency))
    ax.grid(True, color="0.9", lw=0.6)
    ax.legend(fontsize="small")
    ax.set_title(f"{_bare(axis_label(cost)).capitalize()} against {_bare(axis_label(latency))} "
                 "(lower left is better)")
    return fig, ax


def cold_starts_vs_keepalive(table, keep_alive: str = "policy.keep_alive", ax=None, *,
                             cold: str = "cold_start_delayed", cost: str = "pod_seconds", group: str | None = None,
                             logx: bool | None = None):
    """Requests delayed by a cold start (% of requests) and pod-seconds against the keep-alive time.

    Rows that share a keep-alive value (seeds, traces) are averaged.

    Parameters
    ----------
    table : DataFrame or results
        Needs the ``keep_alive`` column, ``cold``, ``cost`` and ``requests``.
    keep_alive : str
        The keep-alive column, seconds: a swept policy parameter (``policy.keep_alive``
        of a sweep over ``keepalive:keep-alive=...``) or a KPA key such as
        ``scale-to-zero-grace-period``.
    ax : matplotlib Axes, optional
        The cold-start axis; pod-seconds go on a twin axis on its right.
    cold, cost : str
        The columns plotted: cold-start-delayed requests (divided by ``requests``) and
        the cost.
    group : str, optional
        A column whose values (policies, functions) get a colour each.
    logx : bool, optional
        Logarithmic keep-alive axis; by default when the values span 20 x or more.

    Returns
    -------
    (Figure, (Axes, Axes))
        The cold-start axis and the pod-seconds twin. Cold starts are solid lines with
        circles, pod-seconds dashed lines with squares.
    """
    table = _table(table)
    keep_alive, cold, cost = _column(table, keep_alive), _column(table, cold), _column(table, cost)
    fig, ax = _new(ax, (7, 4.5))
    twin = ax.twinx()
    groups = [(None, table)] if group is None else list(table.groupby(_column(table, group), sort=False))
    handles = []
    all_x = []
    for i, (name, rows) in enumerate(groups):
        frame = pd.DataFrame({
            "x": pd.to_numeric(rows[keep_alive], errors="coerce"),
            "cold": 100.0 * pd.to_numeric(rows[cold], errors="coerce") / pd.to_numeric(rows["requests"]),
            "cost": pd.to_numeric(rows[cost], errors="coerce"),
        }).dropna(subset=["x"]).groupby("x").mean().sort_index()
        all_x.extend(frame.index)
        cold_color = COLORS[i % len(COLORS)] if group is not None else PALETTE["vermillion"]
        cost_color = COLORS[i % len(COLORS)] if group is not None else PALETTE["blue"]
        prefix = "" if name is None else f"{name}: "
        handles += ax.plot(frame.index, frame["cold"], color=cold_color, marker="o", lw=1.4,
                           label=f"{prefix}cold-start delayed")
        handles += twin.plot(frame.index, frame["cost"], color=cost_color, marker="s", ls="--", lw=1.2,
                             label=f"{prefix}{_bare(axis_label(cost))}")
    positive = [v for v in all_x if v > 0]
    if logx is None:
        logx = bool(positive) and len(positive) == len(all_x) and max(positive) / min(positive) >= 20
    if logx:
        ax.set_xscale("log")
        _plain_log_labels(ax.xaxis)
    ax.set_xlabel(axis_label(keep_alive))
    ax.set_ylabel(f"{axis_label(cold)} (% of requests)")
    twin.set_ylabel(axis_label(cost))
    ax.set_ylim(bottom=0)
    twin.set_ylim(bottom=0)
    ax.grid(True, color="0.9", lw=0.6)
    ax.legend(handles=handles, labels=[h.get_label() for h in handles], fontsize="small", loc="best")
    ax.set_title("Cold starts and cost against keep-alive")
    return fig, (ax, twin)
