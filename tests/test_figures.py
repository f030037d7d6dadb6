"""Figures: each renders to a PNG and draws what it claims (lines, shading, markers, legends, data, fronts)."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.image import imread  # noqa: E402
from matplotlib.patches import Polygon, Rectangle  # noqa: E402

from autoscale import KPAConfig, compare, replay  # noqa: E402
from autoscale import plotting  # noqa: E402
from autoscale.plotting import PALETTE, pareto_front  # noqa: E402
from autoscale.results import hist_edges  # noqa: E402
from autoscale.store import as_stored, load, save  # noqa: E402
from autoscale.trace import synthetic  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def calm():
    """Poisson 2 req/s for 2 min, 0.2 s each: no 503 or 504."""
    trace = synthetic.poisson(rate=2, duration=120, service=synthetic.constant(0.2), seed=1)
    return replay(trace, [KPAConfig(target_burst_capacity=t) for t in (0, -1)], timeseries=True)


@pytest.fixture(scope="module")
def bursty():
    """Bursts of 40 req/s of 1 s requests on one-request pods with a 3 s timeout: panic, 503s and 504s."""
    trace = synthetic.on_off(rate_on=40, mean_on=10, mean_off=40, duration=240, service=synthetic.constant(1.0),
                             seed=3)
    configs = [KPAConfig(container_concurrency=1, target_burst_capacity=t, timeout_seconds=3) for t in (0, -1)]
    return replay(trace, configs, timeseries=True)


def _png(fig, path):
    fig.savefig(path, dpi=80)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5_000
    pixels = imread(path)
    assert pixels.std() > 0.01  # not a blank canvas
    return data


def _legend(ax) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None, "the axes has no legend"
    return [t.get_text() for t in legend.get_texts()]


def _spans(ax, label=None):
    out = [p for p in ax.patches if isinstance(p, (Polygon, Rectangle))]
    return [p for p in out if label is None or p.get_gid() == label]


# -- timeline --------------------------------------------------------------------------------


def test_timeline_draws_demand_observed_values_and_pods(calm, tmp_path):
    fig, axes = plotting.timeline(calm, config=0)
    _png(fig, tmp_path / "timeline.png")
    top, bottom = axes
    assert [line.get_label() for line in top.get_lines()] == ["demand concurrency", "observed stable",
                                                               "observed panic"]
    assert [line.get_label() for line in bottom.get_lines()] == ["desired pods", "ready pods", "starting pods"]
    for line in top.get_lines() + bottom.get_lines():
        assert len(line.get_xdata()) == calm.timeseries.time.size
    demand = top.get_lines()[0].get_ydata()
    assert np.array_equal(demand, calm.timeseries.values["demand"][0]) and demand.max() > 0
    assert bottom.get_lines()[1].get_ydata().max() >= 1  # some pod was ready
    assert top.get_ylabel() == "concurrent requests" and bottom.get_ylabel() == "pods"
    assert bottom.get_xlabel() == "time (s)"


def _extent(span):
    xs = span.get_xy()[:, 0] if isinstance(span, Polygon) else [span.get_x(), span.get_x() + span.get_width()]
    return min(xs), max(xs)


def test_timeline_shades_panic_and_activator_periods_when_there_are_some(bursty):
    ts = bursty.timeseries
    in_path = ts.values["activator"][1] > 0.5  # TBC -1: always in the path
    panic = ts.values["panic_mode"][1] > 0.5
    assert in_path.all() and panic.any() and not panic.all()
    _, (top, bottom) = plotting.timeline(bursty, config=1)
    for ax in (top, bottom):
        assert _spans(ax, "activator in path") and _spans(ax, "panic")
        assert "panic" in _legend(ax) and "activator in path" in _legend(ax)
    # The activator: one span over the whole replay, from 0 to the end of the last bucket.
    spans = [p for p in top.patches if p.get_gid() == "activator in path"]
    assert [_extent(p) for p in spans] == [(0, ts.time[-1] + ts.step)]
    # Panic: a span per run of panicking buckets, covering exactly them.
    spans = [p for p in top.patches if p.get_gid() == "panic"]
    covered = np.zeros(ts.time.size, dtype=bool)
    for p in spans:
        lo, hi = _extent(p)
        covered |= (ts.time >= lo) & (ts.time < hi)
    assert np.array_equal(covered, panic)


def test_timeline_shades_nothing_for_states_never_entered():
    trace = synthetic.poisson(rate=0.2, duration=120, service=synthetic.constant(0.1), seed=4)
    result = replay(trace, KPAConfig(min_scale=3, target_burst_capacity=0), timeseries=True)
    assert result.summary.loc[0, "panic_fraction"] == 0
    _, (top, _) = plotting.timeline(result)
    assert not _spans(top, "panic")
    assert "panic" not in _legend(top)


def test_timeline_marks_503_and_504_responses_with_their_totals(bursty, tmp_path):
    summary = bursty.summary
    assert summary.loc[0, "status_503"] > 0 and summary.loc[0, "status_504"] > 0
    fig, (top, _) = plotting.timeline(bursty, config=0)
    _png(fig, tmp_path / "rejections.png")
    texts = _legend(top)
    assert f"503 queue full ({summary.loc[0, 'status_503']:,})" in texts
    assert f"504 timed out ({summary.loc[0, 'status_504']:,})" in texts
    marks = {line.get_label().split(" (")[0]: line for line in top.get_lines() if line.get_marker() == "|"}
    ts = bursty.timeseries
    for key, name in (("503 queue full", "status_503"), ("504 timed out", "status_504")):
        expected = np.flatnonzero(ts.values[name][0] > 0)
        assert np.allclose(marks[key].get_xdata(), ts.time[expected] + ts.step / 2)
    assert marks["503 queue full"].get_color() == PALETTE["vermillion"]


def test_timeline_without_rejections_has_no_marker_rows(calm):
    _, (top, _) = plotting.timeline(calm)
    assert not [line for line in top.get_lines() if line.get_marker() == "|"]
    assert not any(t.startswith(("503", "504")) for t in _legend(top))


def test_timeline_draws_on_given_axes_and_from_stored_results(bursty, tmp_path):
    fig, axes = plt.subplots(2, 1)
    out_fig, out_axes = plotting.timeline(bursty, config=1, ax=axes)
    assert out_fig is fig and list(out_axes) == list(axes)
    stored = load(save(bursty, tmp_path / "run"))
    _, (top, bottom) = stored["kpa"].plot(config=1)
    for mine, theirs in zip(top.get_lines() + bottom.get_lines(), axes[0].get_lines() + axes[1].get_lines()):
        assert mine.get_label() == theirs.get_label()
        assert np.allclose(mine.get_ydata(), theirs.get_ydata(), equal_nan=True)


def test_result_plot_needs_time_series():
    trace = synthetic.poisson(rate=1, duration=30, service=synthetic.constant(0.1), seed=1)
    with pytest.raises(ValueError, match="timeseries=True"):
        replay(trace, KPAConfig()).plot()


# -- latency distributions -------------------------------------------------------------------


def test_latency_cdf_draws_one_rising_curve_per_configuration(calm, tmp_path):
    fig, ax = plotting.latency_cdf(calm)
    _png(fig, tmp_path / "cdf.png")
    lines = [line for line in ax.get_lines() if line.get_label() in ("TBC 0", "TBC -1")]
    assert [line.get_label() for line in lines] == ["TBC 0", "TBC -1"]
    assert _legend(ax) == ["TBC 0", "TBC -1"]
    for line, counts in zip(lines, calm.latency_hist):
        x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        assert np.all(np.diff(x) > 0) and np.all(np.diff(y) >= 0)
        assert y[-1] == pytest.approx(1.0)
        assert x[0] > 0 and x[0] <= calm.summary["latency_p50_s"].min()
        # The curve crosses 0.5 where the summary's median lies (within a bin).
        median = x[np.searchsorted(y, 0.5)]
        assert median == pytest.approx(calm.latency_quantile(0.5)[0], rel=0.03)
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "latency (s)" and "fraction of requests" in ax.get_ylabel()


def test_latency_cdf_of_a_comparison_has_a_curve_per_policy(tmp_path):
    trace = synthetic.poisson(rate=2, duration=120, service=synthetic.constant(0.2), seed=1)
    cmp = compare(trace, ["kpa", "keepalive", "fixed"], KPAConfig(container_concurrency=1))
    fig, ax = plotting.latency_cdf(cmp)
    assert _legend(ax) == ["kpa", "keepalive", "fixed"]
    colors = [line.get_color() for line in ax.get_lines() if line.get_label() in cmp.results]
    assert len(set(colors)) == 3
    stored = load(save(cmp, tmp_path / "cmp"))
    _, ax2 = plotting.latency_cdf(stored)
    assert _legend(ax2) == _legend(ax)
    mapping = {"a": cmp["kpa"], "b": cmp["fixed"]}
    _, ax3 = plotting.latency_cdf(mapping, waiting=True)
    assert [t.split(" (")[0] for t in _legend(ax3)] == ["a", "b"] and ax3.get_xlabel() == "waiting time (s)"


def test_latency_cdf_from_histogram_arrays_with_labels():
    edges = hist_edges()
    counts = np.zeros((2, edges.size - 1), dtype=np.int64)
    counts[0, np.searchsorted(edges, 0.1)] = 10
    counts[1, np.searchsorted(edges, 1.0)] = 5
    counts[1, 0] = 5  # five waits of 0 s
    _, ax = plotting.latency_cdf(counts, labels=["fast", "half zero"])
    fast, half = [line for line in ax.get_lines() if line.get_label() in ("fast", "half zero (50 % at 0 s)")]
    assert half.get_ydata()[0] == pytest.approx(0.5)  # the zeros lift the start of the curve
    assert fast.get_ydata()[-1] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="2 labels for 1 curves"):
        plotting.latency_cdf(counts[0], labels=["a", "b"])


def test_latency_cdf_tail_view_is_positive_and_falling(bursty):
    _, ax = plotting.latency_cdf(bursty, complementary=True)
    assert ax.get_yscale() == "log"
    for line in ax.get_lines():
        y = np.asarray(line.get_ydata())
        if y.size:
            assert y[0] == pytest.approx(1.0) and np.all(y > 0) and np.all(np.diff(y) <= 1e-12)


def test_latency_cdf_notes_curves_without_requests():
    counts = np.zeros(hist_edges().size - 1)
    _, ax = plotting.latency_cdf(counts, labels=["idle"])
    assert _legend(ax) == ["idle (no requests)"]


# -- sweeps ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grid_table():
    """A TBC x target sweep's table, two seeds (so cells average two rows)."""
    trace = synthetic.on_off(rate_on=20, mean_on=10, mean_off=30, duration=180, service=synthetic.constant(0.5),
                             seed=2)
    tbcs, targets = (0, 10, -1), (1, 3)
    configs = [KPAConfig(container_concurrency=5, target_burst_capacity=t, container_concurrency_target_default=g)
               for t, g in itertools.product(tbcs, targets)]
    frames = []
    for seed in (0, 1):
        frame = replay(trace, configs, seed=seed).summary.drop(columns="config")
        frame.insert(0, "seed", seed)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def test_heatmap_colours_each_cell_with_the_mean_and_writes_it(grid_table, tmp_path):
    fig, ax = plotting.heatmap(grid_table, x="target-burst-capacity", y="container-concurrency-target-default",
                               value="pod_seconds")
    _png(fig, tmp_path / "heatmap.png")
    (image,) = ax.get_images()
    expected = grid_table.groupby(["container-concurrency-target-default", "target-burst-capacity"])[
        "pod_seconds"].mean().unstack()
    assert np.allclose(np.asarray(image.get_array()), expected.to_numpy())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["-1", "0", "10"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "3"]
    notes = [t.get_text() for t in ax.texts]
    first = expected.iloc[0, 0]
    assert len(notes) == 6 and (f"{first:,.0f}" if first >= 1000 else f"{first:.3g}") in notes
    assert ax.get_xlabel() == "target burst capacity (requests)"
    assert ax.get_ylabel().replace("\n", " ") == "concurrency target (requests per pod)"  # wrapped to fit
    assert fig.axes[-1].get_ylabel() == "pod-seconds (pod·s)"  # the colour bar
    assert ax.get_title() == "pod-seconds (pod·s)\nmean over seed (2 runs per cell)"


def test_heatmap_accepts_field_names_results_and_leaves_missing_cells_empty(calm, grid_table):
    partial = grid_table[~((grid_table["target-burst-capacity"] == 10)
                           & (grid_table["container-concurrency-target-default"] == 3))]
    _, ax = plotting.heatmap(partial, x="target_burst_capacity", y="container_concurrency_target_default", log=True,
                             agg="max")
    grid = np.ma.getdata(ax.get_images()[0].get_array())
    assert np.isnan(grid).sum() == 1 and "n/a" in [t.get_text() for t in ax.texts]
    with pytest.raises(KeyError, match="no column 'stable-window'"):
        plotting.heatmap(calm, x="stable-window", y="target-burst-capacity")


def _naive_front(cost, latency):
    n = len(cost)
    on = []
    for i in range(n):
        if not (np.isfinite(cost[i]) and np.isfinite(latency[i])):
            on.append(False)
            continue
        dominated = any(
            np.isfinite(cost[j]) and np.isfinite(latency[j]) and cost[j] <= cost[i] and latency[j] <= latency[i]
            and (cost[j] < cost[i] or latency[j] < latency[i]) for j in range(n))
        on.append(not dominated)
    return np.array(on)


@pytest.mark.parametrize("seed", range(30))
def test_pareto_front_is_exactly_the_non_dominated_points(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    cost = rng.integers(0, 8, n).astype(float)  # small integers: ties and duplicates
    latency = rng.integers(0, 8, n).astype(float)
    cost[rng.random(n) < 0.1] = np.nan
    assert np.array_equal(pareto_front(cost, latency), _naive_front(cost, latency))


def test_pareto_draws_its_front_through_exactly_the_non_dominated_rows(grid_table, tmp_path):
    fig, ax = plotting.pareto(grid_table, annotate=["target-burst-capacity"])
    _png(fig, tmp_path / "pareto.png")
    cost, latency = grid_table["pod_seconds"].to_numpy(), grid_table["latency_p99_s"].to_numpy()
    naive = _naive_front(cost, latency)
    (front,) = [line for line in ax.get_lines() if line.get_label() == "Pareto front"]
    drawn = set(zip(front.get_xdata(), front.get_ydata()))
    assert drawn == set(zip(cost[naive], latency[naive]))
    assert np.all(np.diff(front.get_xdata()) >= 0) and np.all(np.diff(front.get_ydata()) <= 0)
    assert (~naive).any() and {"Pareto front", "dominated"} <= set(_legend(ax))
    assert ax.get_xlabel() == "pod-seconds (pod·s)" and ax.get_ylabel() == "p99 latency (s)"
    assert all(t.get_text().startswith("TBC ") for t in ax.texts) and ax.texts


def test_pareto_per_group_draws_each_groups_front(grid_table):
    table = grid_table.assign(policy=np.where(grid_table["seed"] == 0, "a", "b"))
    _, ax = plotting.pareto(table, group="policy")
    fronts = {line.get_label(): line for line in ax.get_lines() if line.get_label().endswith("Pareto front")}
    assert set(fronts) == {"a: Pareto front", "b: Pareto front"}
    for name in ("a", "b"):
        rows = table[table["policy"] == name]
        c, lat = rows["pod_seconds"].to_numpy(), rows["latency_p99_s"].to_numpy()
        naive = _naive_front(c, lat)
        line = fronts[f"{name}: Pareto front"]
        assert set(zip(line.get_xdata(), line.get_ydata())) == set(zip(c[naive], lat[naive]))
    assert {"a", "b"} <= set(_legend(ax))
    _, ax = plotting.pareto(table.iloc[[0, 1, 6, 7]], group="policy")  # groups of two rows: one front over all
    assert [line.get_label() for line in ax.get_lines() if "front" in line.get_label()] == ["Pareto front"]


def test_cold_starts_and_cost_against_keep_alive(tmp_path):
    table = pd.DataFrame({
        "policy": "keepalive",
        "policy.keep_alive": [10, 10, 60, 60, 600, 600],
        "requests": [100] * 6,
        "cold_start_delayed": [40, 20, 10, 10, 2, 0],
        "pod_seconds": [50, 70, 200, 220, 900, 1100],
    })
    fig, (ax, twin) = plotting.cold_starts_vs_keepalive(table)
    _png(fig, tmp_path / "keepalive.png")
    (cold,) = ax.get_lines()
    (cost,) = twin.get_lines()
    assert list(cold.get_xdata()) == [10, 60, 600]
    assert list(cold.get_ydata()) == [30.0, 10.0, 1.0]  # percent of requests, mean over seeds
    assert list(cost.get_ydata()) == [60.0, 210.0, 1000.0]
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "keep-alive (s)"
    assert ax.get_ylabel() == "requests delayed by a cold start (% of requests)"
    assert twin.get_ylabel() == "pod-seconds (pod·s)"
    assert _legend(ax) == ["cold-start delayed", "pod-seconds"]


def test_cold_starts_per_group_and_on_a_kpa_key():
    table = pd.DataFrame({
        "function": ["f", "f", "g", "g"], "scale-to-zero-grace-period": [30, 90, 30, 90],
        "requests": [10, 10, 20, 20], "cold_start_delayed": [5, 1, 4, 2], "pod_seconds": [1, 2, 3, 4],
    })
    _, (ax, twin) = plotting.cold_starts_vs_keepalive(table, keep_alive="scale-to-zero-grace-period",
                                                      group="function")
    assert _legend(ax) == ["f: cold-start delayed", "f: pod-seconds", "g: cold-start delayed", "g: pod-seconds"]
    assert ax.get_xscale() == "linear" and ax.get_xlabel() == "scale-to-zero grace period (s)"


def test_figures_read_stored_and_in_memory_results_alike(calm, tmp_path):
    stored = load(save(calm, tmp_path / "run"))
    for source in (calm, stored, as_stored(calm)):
        _, ax = plotting.pareto(source)
        assert ax.get_lines()
        _, ax = plotting.latency_cdf(source)
        assert _legend(ax) == ["TBC 0", "TBC -1"]


def test_axis_labels_carry_units():
    assert plotting.axis_label("latency_p99_s") == "p99 latency (s)"
    assert plotting.axis_label("wait_max_s") == "max waiting time (s)"
    assert plotting.axis_label("stable-window") == "stable window (s)"
    assert plotting.axis_label("policy.keep_alive") == "keep-alive (s)"
    assert plotting.axis_label("some_new_output_s") == "some new output (s)"


# -- layout, units, names and legends ---------------------------------------------------------


def _renderer(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _inside(inner, outer, slack=1.0) -> bool:
    return (inner.x0 >= outer.x0 - slack and inner.y0 >= outer.y0 - slack and inner.x1 <= outer.x1 + slack
            and inner.y1 <= outer.y1 + slack)


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def _assert_legend_clear_of_data(fig, ax, legend=None):
    """The legend lies inside the figure and outside the axes' data area."""
    renderer = _renderer(fig)
    legend = legend or ax.get_legend()
    assert legend is not None
    box = legend.get_window_extent(renderer)
    assert _inside(box, fig.bbox), f"legend {box} leaves the figure {fig.bbox}"
    assert not _overlap(box, ax.get_window_extent(renderer)), "the legend covers the data"


def test_figures_are_not_left_open_in_pyplot(calm, grid_table):
    """A figure a function returns is not also registered with pyplot, so a notebook shows it once."""
    plt.close("all")
    made = [plotting.timeline(calm)[0], calm.plot(1)[0], plotting.latency_cdf(calm)[0],
            plotting.pareto(grid_table)[0], plotting.timelines(calm)[0],
            plotting.heatmap(grid_table, x="target-burst-capacity", y="container-concurrency-target-default",
                             value="pod_seconds")[0]]
    assert plt.get_fignums() == []
    for fig in made:
        assert fig.axes and fig.canvas.figure is fig
    fig, ax = plt.subplots()  # axes the caller made stay the caller's
    assert plotting.pareto(grid_table, ax=ax)[0] is fig and plt.get_fignums() == [fig.number]


def test_compare_gives_every_panel_its_own_y_scale(calm):
    """A policy holding eight pods must not flatten the panel of one that holds one or two."""
    from autoscale.policies import get

    trace = synthetic.poisson(rate=2, duration=120, service=synthetic.constant(0.2), seed=1)
    cmp = compare(trace, {"kpa": "kpa", "eight pods": get("fixed", replicas=8)}, KPAConfig(), timeseries=True)
    fig, axes = cmp.plot()
    assert axes.shape == (2, 2) and [a.get_title() for a in axes[0]] == ["kpa", "eight pods"]
    for row in axes:
        assert not row[0].get_shared_y_axes().joined(row[0], row[1])
    assert row[0].get_shared_x_axes().joined(row[0], row[1])  # one time axis
    kpa_top, fixed_top = axes[1, 0].get_ylim()[1], axes[1, 1].get_ylim()[1]
    assert fixed_top >= 8 and kpa_top < 8
    assert not [a for a in axes.flat if a.get_legend()]  # one legend for the figure, right of the grid
    (legend,) = fig.legends
    assert {"desired pods", "ready pods", "demand concurrency"} <= {t.get_text() for t in legend.get_texts()}
    renderer = _renderer(fig)
    box = legend.get_window_extent(renderer)
    assert _inside(box, fig.bbox) and not any(_overlap(box, a.get_window_extent(renderer)) for a in axes.flat)


@pytest.mark.parametrize("span, unit", [(120, "s"), (20 * 60, "s"), (3600, "min"), (3 * 3600, "min"),
                                        (26 * 3600, "h")], ids=["2-min", "20-min", "1-h", "3-h", "26-h"])
def test_time_unit_follows_the_span(span, unit):
    assert plotting.time_unit(span)[1] == unit


def test_a_day_long_timeline_reads_in_hours():
    trace = synthetic.poisson(rate=0.01, duration=26 * 3600, service=synthetic.constant(0.5), seed=5)
    result = replay(trace, KPAConfig(), timeseries=True)
    ts = result.timeseries
    _, (top, bottom) = plotting.timeline(result)
    assert bottom.get_xlabel() == "time (h)"
    assert np.allclose(bottom.get_lines()[0].get_xdata(), ts.time / 3600)
    assert 25 < top.get_lines()[0].get_xdata().max() <= 26
    assert bottom.get_xlim()[1] < 30


def test_desired_pods_never_drawn_below_zero(calm):
    desired = calm.timeseries.values["desired"][0]
    assert desired.min() < 0  # the decider's "no data" (-1) before its first valid tick
    _, (top, bottom) = plotting.timeline(calm)
    drawn = np.asarray(bottom.get_lines()[0].get_ydata(), dtype=float)
    assert np.nanmin(drawn) >= 0 and np.array_equal(np.isnan(drawn), desired < 0)
    assert bottom.get_ylim()[0] == 0 and top.get_ylim()[0] == 0


def test_activator_and_panic_shading_both_stay_visible(bursty, tmp_path):
    fig, (top, bottom) = plotting.timeline(bursty, config=1)  # activator always in the path, panics
    _png(fig, tmp_path / "shading.png")
    for ax in (top, bottom):
        activator, panic = _spans(ax, "activator in path"), _spans(ax, "panic")
        assert activator and panic
        assert all(p.get_zorder() > a.get_zorder() for p in panic for a in activator)  # panic drawn on top
        assert all(p.get_hatch() and p.get_facecolor()[3] < 0.5 for p in panic)  # hatched, see-through
        assert all(not a.get_hatch() and a.get_facecolor()[3] < 0.5 for a in activator)
        assert panic[0].get_facecolor()[:3] != activator[0].get_facecolor()[:3]
        assert {"panic", "activator in path"} <= set(_legend(ax))
        _assert_legend_clear_of_data(fig, ax)


def test_every_configuration_gets_a_timeline(bursty, calm):
    fig, axes = plotting.timelines(bursty)
    assert axes.shape == (2, 2) and [a.get_title().split("\n")[0] for a in axes[0]] == ["TBC 0", "TBC -1"]
    for k in range(2):
        assert np.array_equal(axes[0, k].get_lines()[0].get_ydata(), bursty.timeseries.values["demand"][k])
    assert "503" in axes[0, 0].get_title()  # its rejection counts, since the figure legend has none
    trace = synthetic.poisson(rate=2, duration=120, service=synthetic.constant(0.2), seed=1)
    many = replay(trace, [KPAConfig(target_burst_capacity=t, stable_window=w) for t in (0, 10, -1)
                          for w in (30, 60, 120)], timeseries=True)
    fig, (top, bottom) = plotting.timelines(many)  # nine: overlaid, one legend entry each
    assert len(top.get_lines()) == len(bottom.get_lines()) == 9
    assert _legend(top)[:2] == ["TBC 0, window 30", "TBC 0, window 60"] and len(_legend(top)) == 9
    _assert_legend_clear_of_data(fig, top)


def test_run_and_compare_plot_every_configuration(tmp_path, monkeypatch):
    from autoscale.cli import main

    drawn = []
    original = plotting.timelines

    def spy(results, **kwargs):
        fig, axes = original(results, **kwargs)
        drawn.append(axes)
        return fig, axes

    monkeypatch.setattr(plotting, "timelines", spy)
    path = tmp_path / "t.csv"
    trace = synthetic.poisson(rate=2, duration=120, service=synthetic.constant(0.2), seed=1)
    trace.to_csv(path)
    assert main(["run", "--trace", str(path), "--set", "target-burst-capacity=0,10,-1", "--plot",
                 str(tmp_path / "run.png")]) == 0
    assert [a.get_title() for a in drawn[-1][0]] == ["TBC 0", "TBC 10", "TBC -1"]
    assert main(["compare", "--trace", str(path), "--policies", "kpa,keepalive", "--set",
                 "target-burst-capacity=0,-1", "--plot", str(tmp_path / "cmp.png")]) == 0
    titles = [a.get_title() for a in drawn[-1][::2].flat if a.get_visible()]
    assert titles == ["kpa: TBC 0", "kpa: TBC -1", "keepalive: TBC 0", "keepalive: TBC -1"]
    for name in ("run.png", "cmp.png"):
        assert imread(tmp_path / name).std() > 0.01


def test_heatmap_labels_fit_inside_the_figure(grid_table):
    fig, ax = plotting.heatmap(grid_table, x="target-burst-capacity", y="container-concurrency-target-default",
                               value="pod_seconds")
    renderer = _renderer(fig)
    for text in (ax.yaxis.label, ax.xaxis.label, ax.title, fig.axes[-1].yaxis.label):
        assert text.get_text()
        assert _inside(text.get_window_extent(renderer), fig.bbox), text.get_text()


def test_heatmap_writes_thousands_in_full():
    table = pd.DataFrame({"a": [1, 2], "b": [1, 1], "requests": 1, "pod_seconds": [8617.3, 0.01234]})
    _, ax = plotting.heatmap(table, x="a", y="b", value="pod_seconds")
    assert [t.get_text() for t in ax.texts] == ["8,617", "0.0123"]


def test_heatmap_refuses_to_average_percentiles(grid_table):
    keys = dict(x="target-burst-capacity", y="container-concurrency-target-default")
    with pytest.raises(ValueError, match=r"latency_p99_s: up to 2 runs share a cell \(they differ in seed\), "
                                         r"and percentiles do not average"):
        plotting.heatmap(grid_table, **keys)
    with pytest.raises(ValueError, match="percentiles do not average"):
        plotting.heatmap(grid_table, value="wait_p50_s", agg="mean", **keys)
    _, ax = plotting.heatmap(grid_table, agg="max", **keys)
    expected = grid_table.groupby([keys["y"], keys["x"]])["latency_p99_s"].max().unstack()
    assert np.allclose(np.asarray(ax.get_images()[0].get_array()), expected.to_numpy())
    assert ax.get_title().endswith("max over seed (2 runs per cell)")
    _, ax = plotting.heatmap(grid_table[grid_table["seed"] == 0], **keys)  # one run a cell: nothing to average
    assert ax.get_title() == "p99 latency (s)"


def test_heatmap_facets_by_function_or_names_what_it_averaged(grid_table):
    hashes = ["8203" + "ab" * 30, "8203" + "cd" * 30]  # two Azure-style hashes sharing a prefix
    table = grid_table.assign(function=np.where(grid_table["seed"] == 0, hashes[0], hashes[1]))
    table = table[["function", *grid_table.columns]]
    keys = dict(x="target-burst-capacity", y="container-concurrency-target-default")
    _, ax = plotting.heatmap(table, value="pod_seconds", **keys)
    assert ax.get_title().endswith("mean over function, seed (2 runs per cell)")
    fig, axes = plotting.heatmap(table, facet="function", **keys)  # one run a cell each: p99 is fine
    assert len(axes) == 2
    assert [a.get_title().split(":")[0] for a in axes] == ["function 8203abab…", "function 8203cdcd…"]
    for a, h in zip(axes, hashes):
        rows = table[table["function"] == h]
        expected = rows.pivot(index=keys["y"], columns=keys["x"], values="latency_p99_s")
        assert np.allclose(np.asarray(a.get_images()[0].get_array()), expected.to_numpy())
        assert "over" not in a.get_title()
    renderer = _renderer(fig)
    for a in axes:
        assert _inside(a.yaxis.label.get_window_extent(renderer), fig.bbox)


def test_short_names_drop_folders_and_cut_hashes_but_stay_distinct():
    assert plotting.short_names(["/home/me/traces/requests.csv.gz", "azure2019-10:" + "f" * 64]) == [
        "requests", "azure2019-10:ffffffff…"]
    assert plotting.short_names(["ab" * 4 + "0" * 56, "ab" * 4 + "1" * 56]) == ["abababab0000…", "abababab1111…"]
    assert plotting.short_names(["kpa", "hpa"]) == ["kpa", "hpa"]


def test_legends_show_short_names_and_sit_clear_of_the_data(grid_table, calm):
    table = grid_table.assign(function=np.where(grid_table["seed"] == 0, "a1" * 32, "b2" * 32))
    fig, ax = plotting.pareto(table, group="function")
    texts = _legend(ax)
    assert {"a1a1a1a1…", "b2b2b2b2…"} <= set(texts) and max(map(len, texts)) < 30
    _assert_legend_clear_of_data(fig, ax)
    fig, ax = plotting.latency_cdf(calm)
    _assert_legend_clear_of_data(fig, ax)
    fig, (ax, twin) = plotting.cold_starts_vs_keepalive(pd.DataFrame({
        "function": ["/data/day1.csv"] * 2 + ["/data/day2.csv"] * 2, "policy.keep_alive": [10, 600, 10, 600],
        "requests": [10] * 4, "cold_start_delayed": [5, 1, 4, 2], "pod_seconds": [1, 9, 2, 8]}), group="function")
    assert _legend(ax) == ["day1: cold-start delayed", "day1: pod-seconds", "day2: cold-start delayed",
                           "day2: pod-seconds"]
    _assert_legend_clear_of_data(fig, ax)
    renderer = _renderer(fig)
    assert not _overlap(ax.get_legend().get_window_extent(renderer), ax.xaxis.label.get_window_extent(renderer))


def test_wait_cdf_shows_the_requests_that_waited_zero(calm):
    hist = calm.wait_hist[0]
    zero = hist[0] / hist.sum()
    assert 0 < zero < 1
    _, ax = plotting.latency_cdf(calm, which="wait")
    label = f"TBC 0 ({zero * 100:.0f} % at 0 s)"
    assert _legend(ax)[0] == label
    (line,) = [line for line in ax.get_lines() if line.get_label() == label]
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    assert x[0] == pytest.approx(ax.get_xlim()[0]) and y[0] == pytest.approx(zero)  # F(0) at the left edge
    assert y[1] == pytest.approx(zero) and np.all(np.diff(y) >= 0) and y[-1] == pytest.approx(1.0)
    assert f"{zero * 100:.0f} % at 0 s" in [t.get_text() for t in ax.texts]


def test_the_readme_closed_vs_open_figure_renders_two_workloads(tmp_path):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "docs" / "make_figures.py"
    spec = importlib.util.spec_from_file_location("make_figures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.closed_vs_open(tmp_path / "closed-vs-open.png")
    image = imread(out)
    assert image.shape[0] > 400 and image.shape[1] > 600
    assert image[..., :3].std() > 0.05  # drawn, not blank
