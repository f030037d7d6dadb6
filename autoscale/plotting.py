"""Figures of replay results; each function returns its figure and axes and never calls ``show``.

Every figure reads results in memory (:class:`~autoscale.ReplayResult`,
:class:`~autoscale.Comparison`) or on disk (:func:`autoscale.store.load`), or a summary
table (a sweep's, or any DataFrame with the summary's columns). Colours come from the
Okabe-Ito palette (:data:`PALETTE`), which stays distinct under the common forms of
colour blindness; continuous values use viridis. Axes carry their units, time in
seconds, minutes or hours as the span needs. Legends sit outside the data, and name
traces and functions by short names (:func:`short_names`). Figures are made outside
pyplot, so a notebook shows a returned figure once and nothing stays open.

- :func:`timeline`: demand, observed stable and panic values, desired, starting and
  ready pods of one configuration, with panic and activator-in-path periods shaded and
  503 and 504 responses marked.
- :func:`timelines`: every configuration of a run or comparison, as small multiples
  (:func:`small_multiples`), or overlaid when there are many (:func:`overlaid`).
- :func:`latency_cdf`: distributions of end-to-end or waiting time, per configuration
  or policy, from the latency histograms.
- :func:`heatmap`: one output over two swept keys (say TBC x target), cells annotated.
- :func:`pareto`: cost against latency, with the non-dominated configurations joined.
- :func:`cold_starts_vs_keepalive`: requests delayed by a cold start, and pod-seconds,
  against the keep-alive time.
- :func:`chain_cascade`: a chain of services, their pods over time and the end-to-end latency
  of each entry request.

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

import re
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import PurePath

import numpy as np
import pandas as pd

from . import outputs as _outputs

__all__ = [
    "PALETTE", "COLORS", "axis_label", "chain_cascade", "cold_starts_vs_keepalive", "heatmap", "latency_cdf",
    "new_figure", "overlaid", "pareto", "pareto_front", "short_names", "small_multiples", "time_unit", "timeline",
    "timelines",
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

#: Axis labels of configuration keys (an output's comes from autoscale.outputs).
_COLUMN_LABELS = {
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
#: The histograms latency_cdf draws, and what each measures.
_TIME_OUTPUTS = _outputs.DURATIONS
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
    if column in _outputs.REGISTRY:
        return _outputs.get(column).axis_label
    if column in _COLUMN_LABELS:
        return _COLUMN_LABELS[column]
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


def new_figure(figsize=(7.0, 4.5)):
    """A new figure with constrained layout, made outside pyplot; every figure here starts as one.

    pyplot keeps each figure it makes open until it is closed, and a notebook shows the
    open figures after each cell, so a figure made through pyplot and also returned as
    the cell's value appears twice. A figure made here appears once, is freed with its
    last reference, and saves to any format. Add axes with ``fig.subplots(...)``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> open_before = plt.get_fignums()
    >>> fig = new_figure((6, 3))
    >>> axes = fig.subplots(1, 2)
    >>> plt.get_fignums() == open_before, len(fig.axes)
    (True, 2)
    """
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def _new(ax, figsize):
    if ax is None:
        fig = new_figure(figsize)
        return fig, fig.subplots()
    return ax.figure, ax


#: A time axis longer than the first bound is labelled in the second's unit: more than
#: 3 h of replay in hours (a day reads 0 .. 24 h), more than 20 min in minutes.
_TIME_UNITS = ((3 * 3600.0, 3600.0, "h"), (20 * 60.0, 60.0, "min"))


def time_unit(span: float) -> tuple[float, str]:
    """The unit of a time axis spanning ``span`` seconds: ``(seconds per unit, unit name)``.

    Examples
    --------
    >>> time_unit(120), time_unit(3600), time_unit(86400)
    ((1.0, 's'), (60.0, 'min'), (3600.0, 'h'))
    """
    for longer_than, seconds, unit in _TIME_UNITS:
        if span > longer_than:
            return seconds, unit
    return 1.0, "s"


#: Hex digests (Azure's function and app hashes are 64 characters) are cut to a prefix.
_DIGEST = re.compile(r"\b[0-9a-fA-F]{16,}\b")
_TRACE_SUFFIXES = (".gz", ".bz2", ".xz", ".zst", ".csv", ".tsv", ".txt", ".json", ".parquet", ".log")


def _shorten(name: str, width: int | None) -> str:
    if width is None:
        return name
    parts = []
    for part in name.split(":"):
        if "/" in part or "\\" in part:  # a trace file: its name without folders and format suffixes
            part = PurePath(part.replace("\\", "/")).name
            while part.lower().endswith(_TRACE_SUFFIXES):
                part = part[: part.rfind(".")]
        parts.append(_DIGEST.sub(lambda m: m.group(0)[:width] + "…", part))
    return ":".join(parts)


def short_names(names) -> list[str]:
    """Legend-sized names: trace files without their folders, hex digests cut to a prefix, all kept distinct.

    A digest keeps 8 characters, or more where 8 would leave two names equal.

    Examples
    --------
    >>> short_names(["/data/traces/day one.csv.gz", "azure2019-10:" + "8203" + "ab" * 30])
    ['day one', 'azure2019-10:8203abab…']
    """
    names = [str(n) for n in names]
    distinct = len(set(names))
    for width in (8, 12, 16, 24, None):
        out = [_shorten(n, width) for n in names]
        if len(set(out)) == distinct:
            return out
    return names


def _legend_outside(ax, handles=None, labels=None, **kwargs):
    """A legend beside the axes, right of the data (constrained layout makes room for it), or None without entries."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    elif labels is None:
        labels = [h.get_label() for h in handles]
    if not handles:
        return None
    return ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                     fontsize="small", **kwargs)


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

#: How the two states are shaded: the activator in the path filled pale sky blue underneath,
#: panic hatched in vermillion (PALETTE's, as RGBA) above it, so a panic while the
#: activator is in the path shows both. Each span carries its state's label as its ``gid``.
_STATES = (
    ("activator", "activator in path", {"facecolor": (0.34, 0.71, 0.91, 0.3), "edgecolor": "none", "zorder": 0.1}),
    ("panic_mode", "panic", {"facecolor": (0.84, 0.37, 0.0, 0.15), "edgecolor": (0.84, 0.37, 0.0, 0.75),
                             "hatch": "///", "zorder": 0.2}),
)


def _shade(ax, x, width, fraction, label, style):
    """Spans over the runs of buckets spending more than half their time in a state."""
    on = fraction > 0.5
    if not np.any(on):
        return
    edges = np.diff(np.concatenate([[0], on.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    for i, (a, b) in enumerate(zip(starts, stops)):
        ax.axvspan(x[a], x[b - 1] + width, lw=0, label=label if i == 0 else None, gid=label, **style)


def _mark(ax, x, width, counts, y, color, label):
    """Ticks at the top of ``ax`` (at height ``y``, in axes units) over the buckets with responses of a kind."""
    hit = np.flatnonzero(counts > 0)
    if hit.size == 0:
        return 0
    total = int(round(float(np.sum(counts[hit]))))
    ax.plot(x[hit] + width / 2, np.full(hit.size, y), transform=ax.get_xaxis_transform(), ls="none",
            marker="|", ms=9, mew=1.5, color=color, clip_on=False, label=f"{label} ({total:,})")
    return hit.size


def _known(values) -> np.ndarray:
    """A series with its "no data yet" values (negative: -1 before the decider's first valid tick) as gaps."""
    out = np.array(values, dtype=np.float64)
    out[out < 0] = np.nan
    return out


def _config_title(cfg) -> str:
    if isinstance(cfg, Mapping):
        tbc = cfg.get("target-burst-capacity")
        return f"TBC {tbc:g}" if isinstance(tbc, (int, float)) else ""
    return f"TBC {cfg.target_burst_capacity:g}, target {cfg.target_value:g} per pod"


def _config_labels(result) -> list[str]:
    """A short label per configuration of a result: the keys that differ in its batch (TBC and target alone)."""
    n = len(result.configs)
    if n == 1:
        policy = getattr(result, "policy", "kpa")
        return [_config_title(result.configs[0]) if policy == "kpa" else f"policy {policy}"]
    return _varying_labels(getattr(result, "summary", None), n)


def _time(ts) -> tuple[np.ndarray, float, str]:
    """(bucket starts, bucket width, unit) of a time series, in the unit its span reads best in."""
    seconds, unit = time_unit(ts.time[-1] + ts.step if ts.time.size else 0.0)
    return ts.time / seconds, ts.step / seconds, unit


def timeline(result, config: int = 0, ax=None, *, legend: bool = True):
    """Demand and observed concurrency above, pods below, panic and activator-in-path shaded, 503/504 marked.

    The top panel shows the demand concurrency (requests in the system), the stable
    and panic window averages the autoscaler observed, and a tick row at its top edge
    for each bucket with 503 (queue full) or 504 (timed out) responses, the legend
    giving their totals. The bottom panel shows desired, ready and starting pods; a
    desired count the decider has not produced yet (-1, no data) is left out, never
    drawn below zero. Both shade the periods with the activator in the request path
    (filled) and in panic (hatched, above it). Time reads in seconds, minutes beyond
    20 min and hours beyond 3 h (see :func:`time_unit`); legends sit right of the axes.

    Parameters
    ----------
    result : ReplayResult or autoscale.store.StoredRun
        Replayed with ``timeseries=True``.
    config : int
        Which configuration of the batch.
    ax : pair of matplotlib Axes, optional
        Where to draw; a new figure with two stacked axes by default.
    legend : bool
        Draw each axes' legend (:func:`timelines` draws one for the whole figure instead).

    Returns
    -------
    (Figure, ndarray of Axes)
    """
    ts = result.timeseries
    if ts is None:
        raise ValueError("this result has no time series: replay with timeseries=True")
    if ax is None:
        fig = new_figure((10, 6))
        axes = fig.subplots(2, 1, sharex=True)
    else:
        axes = np.asarray(ax)
        fig = axes.flat[0].figure
    top, bottom = axes.flat[0], axes.flat[1]
    v = {k: a[config] for k, a in ts.values.items()}
    t, width, unit = _time(ts)
    top.plot(t, _known(v["demand"]), color=PALETTE["black"], lw=1, label="demand concurrency")
    top.plot(t, _known(v["stable"]), color=PALETTE["blue"], lw=1.2, label="observed stable")
    top.plot(t, _known(v["panic"]), color=PALETTE["orange"], lw=1, ls="--", label="observed panic")
    top.set_ylabel("concurrent requests")
    bottom.step(t, _known(v["desired"]), where="post", color=PALETTE["vermillion"], lw=1.2, label="desired pods")
    bottom.step(t, _known(v["ready"]), where="post", color=PALETTE["green"], lw=1.2, label="ready pods")
    bottom.step(t, _known(v["starting"]), where="post", color=PALETTE["purple"], lw=1, ls=":",
                label="starting pods")
    bottom.set_ylabel("pods")
    bottom.set_xlabel(f"time ({unit})")
    zeros = np.zeros_like(ts.time)
    marked = _mark(top, t, width, v.get("status_503", zeros) * ts.step, 0.97, PALETTE["vermillion"],
                   "503 queue full")
    marked += _mark(top, t, width, v.get("status_504", zeros) * ts.step, 0.91, PALETTE["purple"], "504 timed out")
    peak = max((float(np.nanmax(v[k])) for k in ("demand", "stable", "panic") if v[k].size), default=0.0)
    # Concurrency and pods are never negative; the tick rows get headroom above the curves.
    top.set_ylim(bottom=0, top=max(peak, 1.0) * (1.2 if marked else 1.05))
    bottom.set_ylim(bottom=0)
    for a in (top, bottom):
        for key, label, style in _STATES:
            _shade(a, t, width, v[key], label, style)
        if legend:
            _legend_outside(a)
    what = _config_labels(result)[config]
    name = short_names([result.trace_name])[0] if result.trace_name else "trace"
    top.set_title(f"{name}: {what}")
    return fig, axes


def _panels(source) -> list[tuple[str, object, int]]:
    """(label, result, configuration index) for every configuration of a result, a comparison or a mapping."""
    names = getattr(source, "names", None)
    if isinstance(names, list) and hasattr(source, "result"):
        # Services or revisions replayed as one batch: one configuration each.
        return [(label, source.result, i) for i, label in enumerate(short_names(names))]
    results = source if isinstance(source, Mapping) else getattr(source, "results", None)
    if isinstance(results, Mapping):
        if getattr(source, "kind", None) == "run" and len(results) == 1:
            return _panels(next(iter(results.values())))
        panels = []
        for label, result in zip(short_names(results), results.values()):
            inner = _config_labels(result)
            panels += [(label if len(inner) == 1 else f"{label}: {inner[i]}", result, i) for i in range(len(inner))]
        return panels
    if not hasattr(source, "configs"):
        raise TypeError(f"timelines: expected a result, a comparison or a mapping of results, "
                        f"got {type(source).__name__}")
    return [(label, source, i) for i, label in enumerate(_config_labels(source))]


def _figure_legend(fig, axes) -> None:
    """One legend for a grid of timelines, right of it: every line and shade once, 503/504 without counts."""
    entries: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label.split(" (")[0], handle)
    if entries:
        fig.legend(list(entries.values()), list(entries), loc="outside right upper", fontsize="small")


def small_multiples(panels, *, ncols: int = 3):
    """Timelines in a grid, one per ``(title, result, configuration)``, each on its own y scales.

    Every panel shares the time axis but scales its concurrency and pods to its own
    data, so one spike does not flatten the others. One legend, right of the grid,
    names every line and shade; a panel with 503 or 504 responses gives their counts
    in its title.

    Returns
    -------
    (Figure, ndarray of Axes)
        Axes of shape ``(2 * rows, columns)``: each panel's concurrency above its pods.
    """
    n = len(panels)
    if n == 0:
        raise ValueError("no timelines to draw")
    cols = max(1, min(ncols, n))
    rows = -(-n // cols)
    fig = new_figure((max(6.5, 4.6 * cols + 2.2), 5.4 * rows))
    axes = fig.subplots(2 * rows, cols, sharex=True, squeeze=False)
    for k, (title, result, config) in enumerate(panels):
        if result.timeseries is None:
            raise ValueError(f"{title}: no time series to plot: replay with timeseries=True")
        r, c = divmod(k, cols)
        top, bottom = axes[2 * r, c], axes[2 * r + 1, c]
        timeline(result, config=config, ax=[top, bottom], legend=False)
        # "503 queue full (1,720)" -> "503: 1,720", beside the panel's title.
        counts = [label.split(" ")[0] + ": " + label.rsplit("(", 1)[1].rstrip(")")
                  for label in top.get_legend_handles_labels()[1] if label.startswith(("503", "504"))]
        top.set_title(_wrap(title, 4.4, 11) + (f"\n{', '.join(counts)} responses" if counts else ""),
                      fontsize="medium")
        if c:
            top.set_ylabel("")
            bottom.set_ylabel("")
        if k + cols < n:  # a panel below shows the time axis
            bottom.set_xlabel("")
    for k in range(n, rows * cols):
        r, c = divmod(k, cols)
        axes[2 * r, c].set_visible(False)
        axes[2 * r + 1, c].set_visible(False)
        axes[2 * r - 1, c].xaxis.set_tick_params(labelbottom=True)
    _figure_legend(fig, axes.flat)
    return fig, axes


def overlaid(panels):
    """Demand and ready pods of many configurations on one pair of axes, a colour (and dash) each.

    For more configurations than small multiples hold; the legend right of the axes
    names each curve. Panic and activator periods are not shaded (they differ per curve).

    Returns
    -------
    (Figure, ndarray of Axes)
    """
    if not panels:
        raise ValueError("no timelines to draw")
    fig = new_figure((11, 6.5))
    top, bottom = fig.subplots(2, 1, sharex=True)
    unit = None
    for i, (label, result, config) in enumerate(panels):
        ts = result.timeseries
        if ts is None:
            raise ValueError(f"{label}: no time series to plot: replay with timeseries=True")
        t, _, unit = _time(ts)
        color, style = COLORS[i % len(COLORS)], _STYLES[(i // len(COLORS)) % len(_STYLES)]
        top.plot(t, _known(ts.values["demand"][config]), color=color, ls=style, lw=1, label=label)
        bottom.step(t, _known(ts.values["ready"][config]), where="post", color=color, ls=style, lw=1.2)
    top.set_ylabel("demand (concurrent requests)")
    bottom.set_ylabel("ready pods")
    bottom.set_xlabel(f"time ({unit})")
    top.set_ylim(bottom=0)
    bottom.set_ylim(bottom=0)
    _legend_outside(top, ncols=1 if len(panels) <= 16 else 2)
    top.set_title(f"Demand and ready pods of {len(panels)} configurations")
    return fig, np.array([top, bottom])


def timelines(results, *, max_panels: int = 6, ncols: int = 3):
    """The timeline of every configuration: small multiples, or one overlaid pair of axes when there are many.

    Parameters
    ----------
    results : ReplayResult, Comparison, StoredResult, StoredRun or mapping label -> result
        Replayed with ``timeseries=True``; every configuration of every label is drawn.
    max_panels : int
        Up to this many configurations get a timeline each (:func:`small_multiples`);
        more are overlaid, demand and ready pods only (:func:`overlaid`).
    ncols : int
        Columns of the grid of small multiples.

    Returns
    -------
    (Figure, ndarray of Axes)
    """
    panels = _panels(results)
    if len(panels) <= max_panels:
        fig, axes = small_multiples(panels, ncols=ncols)
        name = panels[0][1].trace_name
        if len(panels) > 1 and name:
            fig.suptitle(short_names([name])[0])
        return fig, axes
    return overlaid(panels)


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
    within a bin (2.3 %). The time axis is logarithmic, so it has no 0: a curve whose
    requests took 0 s (waits, mostly, of requests that found a free pod) starts at the
    axis' left edge at that fraction, F(0), marked with a dot and annotated ("35 % at
    0 s"), and its legend entry gives the fraction too. The legend sits right of the axes.

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
    at_zero = []  # (line, fraction at 0 s, colour) of the curves with requests in bin 0
    for i, (name, counts) in enumerate(curves):
        counts = np.asarray(counts, dtype=np.float64)
        if counts.shape[-1] != edges.size - 1:
            raise ValueError(f"{name}: {counts.shape[-1]} bins, but {edges.size - 1} between the edges")
        total = counts.sum()
        color, style = COLORS[i % len(COLORS)], _STYLES[(i // len(COLORS)) % len(_STYLES)]
        if total == 0:
            ax.plot([], [], color=color, ls=style, label=f"{name} (no requests)")
            continue
        zero = counts[0] / total  # bin 0 holds the times below 1 us: the requests that waited 0 s
        if zero > 0:
            name = f"{name} ({_percent(zero)} at 0 s)"
        positive = np.flatnonzero(counts[1:]) + 1
        if positive.size == 0:
            (line,) = ax.plot([], [], color=color, ls=style, lw=1.4, label=name)
            at_zero.append((line, 1.0, color))
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
        (line,) = ax.plot(x, y, color=color, ls=style, lw=1.4, label=name)
        if zero > 0 and not complementary:
            at_zero.append((line, zero, color))
    if at_zero:
        # A log axis has no 0: the curves with a mass at 0 s start at the axis' left edge at
        # their value there, F(0) (the CDF is flat from 0 up to the first bin that holds a
        # request), marked with a dot and the fraction: "35 % at 0 s".
        starts = [line.get_xdata()[0] for line in ax.get_lines() if len(line.get_xdata())]
        left = min(starts, default=1.0) / 4
        ax.set_xlim(left=left)
        noted: list[float] = []
        for line, zero, color in sorted(at_zero, key=lambda item: item[1]):
            line.set_data(np.r_[left, line.get_xdata()], np.r_[zero, line.get_ydata()])
            ax.plot([left], [zero], ls="none", marker="o", ms=5, color=color, clip_on=False, zorder=3)
            if all(abs(zero - other) >= 0.06 for other in noted):  # closer ones: the legend says it
                noted.append(zero)
                ax.annotate(f"{_percent(zero)} at 0 s", (left, zero), xytext=(5, -3 if zero > 0.9 else 3),
                            textcoords="offset points", va="top" if zero > 0.9 else "bottom",
                            fontsize="x-small", color=color)
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
            ax.text(0.995, q, name, transform=ax.get_yaxis_transform(), ha="right", va="bottom",
                    fontsize="x-small", color="0.4")
    ax.grid(True, which="major", color="0.9", lw=0.6)
    _legend_outside(ax)
    ax.set_title(f"{what[0].upper()}{what[1:]} distribution")
    return fig, ax


# -- sweeps ----------------------------------------------------------------------------------


def _percent(fraction: float) -> str:
    """``0.4213`` -> ``"42 %"``, ``0.0042`` -> ``"0.42 %"``."""
    pct = 100.0 * fraction
    return f"{pct:.0f} %" if pct >= 10 or pct == 0 else f"{pct:.2g} %"


def _sorted_values(series: pd.Series) -> list:
    values = list(dict.fromkeys(series.dropna()))
    try:
        return sorted(values, key=float)
    except (TypeError, ValueError):
        return sorted(values, key=str)


#: How :func:`heatmap` may combine the runs that share a cell.
_AGGREGATES = ("mean", "median", "max", "min", "sum")


def _run_keys(table: pd.DataFrame) -> list[str]:
    """The columns that tell runs apart: identifying ones (trace, function, seed, policy) and configuration keys."""
    if "requests" in table:
        columns = list(table.columns[: table.columns.get_loc("requests")])
    else:
        # A table without the summary's ``requests`` column to mark where the outputs begin: what is no output.
        columns = [c for c in table.columns if _outputs.lookup(c) is None and not str(c).endswith("_s")]
    return [c for c in columns if c != "config"]


def _wrap(label: str, inches: float, fontsize: float = 10.0) -> str:
    """``label`` broken into lines that fit ``inches`` (a character is about 0.55 of the font size)."""
    chars = max(12, int(inches * 72 / (0.55 * fontsize)))
    return textwrap.fill(label, chars) if len(label) > chars else label


def _heatmap_size(nx: int, ny: int) -> tuple[float, float]:
    """Figure inches of one heatmap: tall enough for a two-line y label, wide enough for the colour bar."""
    return 2.9 + 0.9 * nx, max(3.4, 1.6 + 0.6 * ny)


def _cell_text(value: float, fmt: str | None) -> str:
    """A cell's annotation: ``fmt``, or three significant digits, and thousands in full (8,617, not 8.62e+03)."""
    if fmt is not None:
        return fmt.format(value)
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _draw_heatmap(fig, ax, table, x, y, value, agg, cmap, log, fmt, annotate, xs, ys) -> None:
    from matplotlib.colors import LogNorm

    others = [k for k in _run_keys(table) if k not in (x, y)]
    data = table[[x, y, value, *others]].copy()
    data[value] = pd.to_numeric(data[value], errors="coerce")
    grouped = data.groupby([y, x], dropna=True)
    sizes = grouped.size()
    per_cell = int(sizes.max()) if len(sizes) else 0
    # The keys whose values differ inside some cell: what the cell's value is taken over.
    over = [k for k in others if per_cell > 1 and (grouped[k].nunique(dropna=False) > 1).any()]
    # A mean of percentiles is not the percentile of the pooled requests (autoscale.outputs: seeds = "max").
    if per_cell > 1 and not _outputs.averages(value) and agg in ("mean", "sum"):
        differ = f" (they differ in {', '.join(over)})" if over else ""
        raise ValueError(
            f"heatmap of {value}: up to {per_cell} runs share a cell{differ}, and percentiles do not average "
            f"(the {agg} of p99s is not the p99 of the pooled requests); give facet= one of those columns, "
            f"select the rows of one value of each, or agg='max', 'min' or 'median'")
    cells = grouped[value].agg(agg).unstack(x).reindex(index=ys, columns=xs)
    grid = cells.to_numpy(dtype=float)
    finite = grid[np.isfinite(grid)]
    norm = None
    if log and finite.size and finite.min() > 0:
        norm = LogNorm(vmin=finite.min(), vmax=finite.max())
    image = ax.imshow(np.ma.masked_invalid(grid), origin="lower", aspect="auto", cmap=cmap, norm=norm)
    height = ax.get_position().height * fig.get_figheight()
    bar = fig.colorbar(image, ax=ax)
    bar.set_label(_wrap(axis_label(value), height))
    if norm is not None:
        _plain_log_labels(bar.ax.yaxis)
    ax.set_xticks(range(len(xs)), [_fmt(v) for v in xs])
    ax.set_yticks(range(len(ys)), [_fmt(v) for v in ys])
    ax.set_xlabel(axis_label(x))
    ax.set_ylabel(_wrap(axis_label(y), height))
    if annotate:
        for (r, c), cell in np.ndenumerate(grid):
            if not np.isfinite(cell):
                ax.text(c, r, "n/a", ha="center", va="center", fontsize="small", color="0.4")
                continue
            red, green, blue, _ = image.cmap(image.norm(cell))
            dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
            ax.text(c, r, _cell_text(cell, fmt), ha="center", va="center", fontsize="small",
                    color="white" if dark else "black")
    title = axis_label(value)
    if per_cell > 1:
        runs = f"{per_cell} runs" if sizes.min() == per_cell else f"up to {per_cell} runs"
        keys = ", ".join(_short(k) for k in over)
        title += f"\n{agg} over {keys} ({runs} per cell)" if keys else f"\n{agg} of {runs} per cell"
    ax.set_title(title, fontsize="medium")


def heatmap(table, x: str, y: str, value: str = "latency_p99_s", ax=None, *, agg: str = "mean",
            facet: str | None = None, cmap: str = "viridis", log: bool = False, fmt: str | None = None,
            annotate: bool = True):
    """One output over two swept keys, a cell per pair of values, each annotated with its value.

    Runs that share a cell (other seeds, functions, traces or keys) are combined by
    ``agg``, and the title says over which keys ("mean over seed, function (4 runs
    per cell)"). A percentile (``latency_p99_s``) is never averaged: the mean of
    several runs' p99s is not the p99 of their requests, so cells of more than one run
    need ``facet``, a selection of rows, or ``agg`` ``"max"``, ``"min"`` or
    ``"median"`` (a ValueError says so otherwise).

    Parameters
    ----------
    table : DataFrame or results
        A summary table (a sweep's, a run's, a comparison's) or anything with one.
    x, y : str
        The keys on the horizontal and vertical axes (columns of ``table``, e.g.
        ``"target-burst-capacity"`` or ``"target_burst_capacity"``).
    value : str
        The output that colours the cells (``latency_p99_s``, ``pod_seconds``, ...).
    ax : matplotlib Axes, or a sequence of them with ``facet``
    agg : str
        How runs that share a cell are combined: ``"mean"``, ``"median"``, ``"max"``,
        ``"min"`` or ``"sum"``.
    facet : str, optional
        A column (``"function"``, ``"trace"``, ``"policy"``, a third key): one heatmap
        per value of it, side by side, each with its own colour bar.
    cmap : str
        A Matplotlib colour map; viridis is colour-blind-safe and prints in grey.
    log : bool
        Colour on a logarithmic scale (for outputs spanning decades).
    fmt : str, optional
        Format of the annotations (by default three significant digits, and values of
        1,000 or more in full with a thousands separator).
    annotate : bool
        Write each cell's value in it.

    Returns
    -------
    (Figure, Axes), or (Figure, ndarray of Axes) with ``facet``
    """
    if agg not in _AGGREGATES:
        raise ValueError(f"agg = {agg!r}, must be one of {', '.join(_AGGREGATES)}")
    table = _table(table)
    x, y, value = _column(table, x), _column(table, y), _column(table, value)
    xs, ys = _sorted_values(table[x]), _sorted_values(table[y])
    size = _heatmap_size(len(xs), len(ys))
    if facet is None:
        fig, ax = _new(ax, size)
        _draw_heatmap(fig, ax, table, x, y, value, agg, cmap, log, fmt, annotate, xs, ys)
        return fig, ax
    facet = _column(table, facet)
    values = _sorted_values(table[facet])
    cols = min(len(values), 3)
    rows = -(-len(values) // cols)
    if ax is None:
        fig = new_figure((size[0] * cols, size[1] * rows + 0.3))
        axes = list(fig.subplots(rows, cols, squeeze=False).flat)
    else:
        axes = list(np.asarray(ax).flat)
        fig = axes[0].figure
        if len(axes) < len(values):
            raise ValueError(f"facet {facet!r} has {len(values)} values, but {len(axes)} axes were given")
    for a, v, name in zip(axes, values, short_names(values)):
        _draw_heatmap(fig, a, table[table[facet] == v], x, y, value, agg, cmap, log, fmt, annotate, xs, ys)
        a.set_title(f"{_short(facet)} {name}: {a.get_title()}", fontsize="medium")
    for a in axes[len(values):]:
        a.set_visible(False)
    return fig, np.asarray(axes[:len(values)])


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
        names = list(dict.fromkeys(keys))
        groups = [(short, np.flatnonzero(keys == name)) for name, short in zip(names, short_names(names))]
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
    _legend_outside(ax)
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
        circles, pod-seconds dashed lines with squares; the legend sits below the axes.
    """
    table = _table(table)
    keep_alive, cold, cost = _column(table, keep_alive), _column(table, cold), _column(table, cost)
    fig, ax = _new(ax, (7, 4.5))
    twin = ax.twinx()
    groups = [(None, table)] if group is None else list(table.groupby(_column(table, group), sort=False))
    if group is not None:
        groups = list(zip(short_names(name for name, _ in groups), (rows for _, rows in groups)))
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
    # Below the axes, clear of both y axes and of the keep-alive label (five font sizes down).
    ax.legend(handles=handles, labels=[h.get_label() for h in handles], fontsize="small", loc="upper center",
              bbox_to_anchor=(0.5, 0.0), borderaxespad=5.0, ncols=2 if len(handles) > 1 else 1)
    ax.set_title("Cold starts and cost against keep-alive")
    return fig, (ax, twin)


def chain_cascade(result, config: int = 0, axes=None):
    """A chain's cascade (:class:`autoscale.chains.ChainResult`, replayed with ``timeseries=True``).

    Top: the ready pods of every service over time (starting pods shaded), so a cold
    start that waits for another shows as a staircase. Bottom: each entry request's
    end-to-end latency against its arrival time, failures marked at zero; of
    configuration ``config`` of a batch. ``axes``: two axes to draw on. Returns ``(figure, axes)``.
    """
    names = list(result.chain.order)
    series = {n: result.results[n].timeseries for n in names}
    if any(ts is None for ts in series.values()):
        raise ValueError("this chain result has no time series: replay_chain(..., timeseries=True)")
    if axes is None:
        fig = new_figure((7.5, 5.5))
        axes = fig.subplots(2, 1, sharex=True, height_ratios=(1.0, 1.2))
    else:
        fig = axes[0].figure
    seconds, unit = time_unit(result.duration)
    top, bottom = axes
    for k, name in enumerate(names):
        ts = series[name]
        color = COLORS[k % len(COLORS)]
        t = ts.time / seconds
        top.step(t, ts.values["ready"][config], where="post", color=color, label=f"{name} ready")
        top.fill_between(t, ts.values["starting"][config], step="post", color=color, alpha=0.25, linewidth=0,
                         label=f"{name} starting")
    top.set_ylabel("pods")
    _legend_outside(top)
    e2e = result.end_to_end_of(config)
    ok = e2e["latency_s"].notna()
    bottom.scatter(e2e.loc[ok, "arrival_s"] / seconds, e2e.loc[ok, "latency_s"], s=8, color=COLORS[0],
                   label="end-to-end latency")
    failed = ~ok & (e2e["status"] != 0)
    if failed.any():
        bottom.scatter(e2e.loc[failed, "arrival_s"] / seconds, np.zeros(int(failed.sum())), marker="x", s=14,
                       color=PALETTE["vermillion"], label="failed (503/504)")
    bottom.set_ylabel("end-to-end latency (s)")
    bottom.set_xlabel(f"time ({unit}); each entry request at its arrival")
    _legend_outside(bottom)
    return fig, axes
