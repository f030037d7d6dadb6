"""Figures of replay results; each function returns its figure and axes and never calls ``show``."""

from __future__ import annotations

import numpy as np

__all__ = ["timeline", "PALETTE"]

#: Okabe-Ito colour-blind-safe palette.
PALETTE = {
    "black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}


def _shade(ax, time, step, fraction, color, label):
    on = fraction > 0.5
    if not np.any(on):
        return
    edges = np.diff(np.concatenate([[0], on.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    for i, (a, b) in enumerate(zip(starts, stops)):
        ax.axvspan(time[a], time[b - 1] + step, color=color, alpha=0.15, lw=0, label=label if i == 0 else None)


def timeline(result, config: int = 0, ax=None):
    """Demand and observed concurrency above, pods below, panic and activator-in-path shaded.

    Parameters
    ----------
    result : ReplayResult
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
    for a in (top, bottom):
        _shade(a, t, ts.step, v["panic_mode"], PALETTE["yellow"], "panic")
        _shade(a, t, ts.step, v["activator"], PALETTE["sky"], "activator in path")
        a.legend(loc="upper right", fontsize="small")
    cfg = result.configs[config]
    top.set_title(f"{result.trace_name or 'trace'}: TBC {cfg.target_burst_capacity:g}, "
                  f"target {cfg.target_value:g} per pod")
    return fig, axes
