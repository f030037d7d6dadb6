"""A gallery of Knative's own autoscaling problems, each replayed beside the setting that fixes it.

Every scenario reproduces problems reported on the knative/serving tracker: it names
the issues, builds a seeded synthetic workload (:mod:`autoscale.trace.synthetic`),
replays it through the KPA under the settings users had and under the setting that
fixes the problem, in one batch, and checks what it claims against the replay: the
number of Proxy/Serve switches, the scale-to-zero events between jobs, the pods panic
adds, the fall when panic ends. Every number in a write-up is computed from the run.

Examples
--------
>>> from autoscale import scenarios
>>> scenarios.names()[:2]
('activator-flapping', 'periodic-job-cold-starts')
>>> run = scenarios.run("activator-flapping")            # doctest: +SKIP
>>> run.passed, run.rows[["variant", "mode_switches"]]    # doctest: +SKIP
>>> fig, axes = run.plot()                                # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import outputs
from .config import KPAConfig
from .errors import ConfigError
from .platform import ColdStart, Platform
from .trace import Trace, synthetic

__all__ = [
    "Claim", "Issue", "Scenario", "ScenarioRun", "Setup", "Variant", "get", "largest_fall", "markdown",
    "mode_switches", "names", "overview", "panic_periods", "run", "scale_to_zero_events",
]

#: Where the issues live.
TRACKER = "https://github.com/knative/serving/issues"

#: The KPA decider's tick, seconds (``pkg/autoscaler/scaling/multiscaler.go``).
_TICK = 2


@dataclass(frozen=True)
class Issue:
    """One knative/serving issue: its number and title (None where only the number is certain)."""

    number: int
    title: str | None = None

    @property
    def url(self) -> str:
        return f"{TRACKER}/{self.number}"

    def __str__(self) -> str:
        return f"knative/serving#{self.number}" + (f" \"{self.title}\"" if self.title else "")


@dataclass(frozen=True)
class Variant:
    """One configuration of a scenario: a label, the KPA settings, and its role.

    ``role`` is ``"problem"`` (the settings users had), ``"fix"`` (a setting that
    cures it) or ``"contrast"`` (a setting one might try, shown for what it does).
    """

    label: str
    config: KPAConfig
    role: str = "problem"

    def __post_init__(self) -> None:
        if self.role not in ("problem", "fix", "contrast"):
            raise ConfigError(f"variant {self.label}: role = {self.role!r}, must be problem, fix or contrast")

    @property
    def settings(self) -> str:
        """The Knative keys this variant sets away from the defaults, as ``key=value`` pairs."""
        return _changed_keys(self.config)


@dataclass(frozen=True)
class Claim:
    """A statement about the replay and whether it holds, with the numbers that decide it."""

    text: str
    holds: bool
    measured: str

    def __str__(self) -> str:
        return f"[{'holds' if self.holds else 'FAILS'}] {self.text} ({self.measured})"


@dataclass(frozen=True)
class Setup:
    """What a scenario replays: the trace, the variants, the platform, the simulated seconds, the plotted span."""

    trace: Trace
    variants: tuple[Variant, ...]
    platform: Platform
    duration: float
    window: tuple[float, float] | None = None
    pods_max: float | None = None  #: top of the pods axes (default: the highest count of any variant)
    latency: bool = True  #: draw the latency distributions (pointless for a handful of requests)


@dataclass(frozen=True)
class Scenario:
    """A reported problem, how to reproduce it, and how to check the reproduction.

    Attributes
    ----------
    name : str
        The gallery name (``autoscale scenario NAME``).
    issues : tuple of Issue
        The knative/serving issues it reproduces.
    title : str
        One line: the problem.
    workload : str
        The traffic, in words (the trace's own description and size are added from the run).
    saw : str
        What Knative users reported.
    fix : str
        Which setting fixes it, and why.
    build : callable
        ``build() -> Setup``.
    check : callable
        ``check(run) -> (shows, claims)``: what the model shows, in words with the run's
        numbers, and the claims, each decided by the run.
    """

    name: str
    issues: tuple[Issue, ...]
    title: str
    workload: str
    saw: str
    fix: str
    build: Callable[[], Setup] = field(repr=False)
    check: Callable[["ScenarioRun"], tuple[str, tuple[Claim, ...]]] = field(repr=False)


# -- measuring a run ---------------------------------------------------------------------------

def _changed_keys(config: KPAConfig) -> str:
    default = KPAConfig().to_dict()
    changed = [f"{k}={_fmt(v)}" for k, v in config.to_dict().items() if v != default[k]]
    return ", ".join(changed) if changed else "Knative's defaults"


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _timeline(result, i: int, trace: Trace) -> pd.DataFrame:
    """Per-second series of configuration ``i`` (the replay keeps one point a second)."""
    ts = result.timeseries
    v = {k: a[i] for k, a in ts.values.items()}
    n = ts.time.size
    frame = pd.DataFrame({
        "arrivals": trace.arrivals_per_second(0, n).astype(np.int64),
        "demand": v["demand"], "stable": v["stable"], "panic": v["panic"],
        "desired": v["desired"], "ready": np.rint(v["ready"]).astype(np.int64),
        "starting": np.rint(v["starting"]).astype(np.int64),
        "panic_mode": v["panic_mode"] > 0.5, "activator": v["activator"] > 0.5,
        "status_503": np.rint(v["status_503"]).astype(np.int64),
        "status_504": np.rint(v["status_504"]).astype(np.int64),
    }, index=pd.Index(ts.time.astype(np.int64), name="time_s"))
    frame.insert(frame.columns.get_loc("starting") + 1, "pods", frame["ready"] + frame["starting"])
    return frame


def mode_switches(timeline: pd.DataFrame) -> int:
    """Times the activator moved into or out of the request path (Proxy <-> Serve), second by second."""
    a = timeline["activator"].to_numpy()
    return int(np.count_nonzero(a[1:] != a[:-1]))


def scale_to_zero_events(timeline: pd.DataFrame) -> int:
    """Seconds at which the revision's last ready or starting pod went away."""
    p = timeline["pods"].to_numpy()
    return int(np.count_nonzero((p[1:] == 0) & (p[:-1] > 0)))


def largest_fall(timeline: pd.DataFrame) -> float:
    """The largest fraction of the ready pods lost from one second to the next (0 when never falling)."""
    r = timeline["ready"].to_numpy().astype(np.float64)
    before, after = r[:-1], r[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        fall = np.where(before > 0, (before - after) / before, 0.0)
    return float(max(0.0, fall.max(initial=0.0)))


def panic_periods(timeline: pd.DataFrame) -> list[tuple[int, int]]:
    """``(first, last)`` second of each stretch in panic."""
    p = timeline["panic_mode"].to_numpy().astype(np.int8)
    edges = np.diff(np.concatenate([[0], p, [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    t = timeline.index.to_numpy()
    return [(int(t[a]), int(t[b])) for a, b in zip(starts, stops)]


@dataclass(eq=False)
class ScenarioRun:
    """A scenario's replay: the rows, the per-second timelines, the claims and what the model shows.

    Attributes
    ----------
    scenario : Scenario
    setup : Setup
    result : ReplayResult
        The batch, one configuration per variant, in the variants' order.
    rows : pandas.DataFrame
        One row per variant: its label, role, the keys it sets, the replay's outputs,
        and ``mode_switches``, ``scale_to_zero``, ``panic_seconds`` and
        ``largest_fall`` counted on its timeline.
    timelines : dict of str -> pandas.DataFrame
        Per variant, one row a second: arrivals, demand, the observed stable and panic
        values, desired, ready, starting and all pods, panic and activator-in-path
        flags, 503 and 504 responses.
    shows : str
        What the model shows, with the run's numbers.
    claims : tuple of Claim
    """

    scenario: Scenario
    setup: Setup
    result: object
    rows: pd.DataFrame
    timelines: dict[str, pd.DataFrame]
    shows: str = ""
    claims: tuple[Claim, ...] = ()

    @property
    def passed(self) -> bool:
        """Whether every claim holds."""
        return all(c.holds for c in self.claims)

    def row(self, label: str) -> pd.Series:
        """The row of the variant ``label``."""
        hit = self.rows[self.rows["variant"] == label]
        if hit.empty:
            raise KeyError(f"no variant {label!r}; variants: {', '.join(self.rows['variant'])}")
        return hit.iloc[0]

    def settings_text(self) -> str:
        """The trace, the platform and each variant's keys, in words."""
        s = self.setup
        cs = s.platform.cold_start
        cold = (f"{cs.minimum():g} s" if cs.kind == "constant"
                else f"{cs.kind}, minimum {cs.minimum():.1f} s, mean {cs.mean():.1f} s, p99 {cs.quantile(0.99):.1f} s")
        count = f"{len(s.trace):,} request" + ("" if len(s.trace) == 1 else "s")
        lines = [f"Workload: {self.scenario.workload}.",
                 f"Trace: {s.trace.provenance.source}; {count}, {s.duration:g} s simulated"
                 + (f"; durations {s.trace.provenance.durations}." if s.trace.provenance.durations else "."),
                 f"Platform: pod cold start {cold}; mode switch delay {s.platform.mode_switch_delay:g} s."]
        lines += [f"{v.label} ({v.role}): {v.settings}." for v in s.variants]
        return "\n".join(lines)

    def text(self) -> str:
        """The whole write-up as plain text (what ``autoscale scenario NAME`` prints)."""
        sc = self.scenario
        parts = [f"{sc.name}: {sc.title}", "Reproduces: " + "; ".join(str(i) for i in sc.issues),
                 "", "Settings", _indent(self.settings_text()), "", "What Knative users saw", _indent(sc.saw),
                 "", "What the model shows", _indent(self.shows), "", "The fix", _indent(sc.fix), "", "Claims"]
        parts += [f"  {c}" for c in self.claims]
        return "\n".join(parts)

    def to_markdown(self, figure: str | None = None) -> str:
        """The write-up as a Markdown section, with ``figure`` (a path or URL) embedded when given."""
        sc = self.scenario
        issues = "; ".join(f"[knative/serving#{i.number}]({i.url})" + (f" \"{i.title}\"" if i.title else "")
                           for i in sc.issues)
        out = [f"## `{sc.name}`: {sc.title}", "", f"Reproduces {issues}.", "", "**Settings.**", ""]
        out += [f"- {line}" for line in self.settings_text().splitlines()]
        out += ["", f"**What Knative users saw.** {sc.saw}", "", f"**What the model shows.** {self.shows}", "",
                f"**The fix.** {sc.fix}", ""]
        if figure is not None:
            out += [f"![{sc.name}]({figure})", ""]
        out += [_markdown_table(self.rows), "", "**Claims checked on the run:**", ""]
        out += [f"- {'holds' if c.holds else 'FAILS'}: {c.text} ({c.measured})" for c in self.claims]
        return "\n".join(out) + "\n"

    def plot(self, window: tuple[float, float] | None = None):
        """Arrivals, then pods over time per variant (panic and activator-in-path shaded), then latency.

        Returns ``(figure, axes)``; never shows.
        """
        from .plotting import _STATES, PALETTE, _shade, latency_cdf, new_figure

        window = window or self.setup.window
        labels = list(self.timelines)
        n = len(labels)
        latency = self.setup.latency
        fig = new_figure((10, 1.9 * (n + 1) + (3.2 if latency else 0.4)))
        grid = fig.add_gridspec(n + 1 + latency, 1, height_ratios=[1.0] + [1.6] * n + ([2.6] if latency else []))
        top = fig.add_subplot(grid[0])
        axes = [top]
        first = self.timelines[labels[0]]
        t = first.index.to_numpy()
        top.fill_between(t, first["arrivals"], step="post", color=PALETTE["black"], lw=0.8)
        top.set_ylabel("arrivals\n(requests/s)")
        top.set_title(f"{self.scenario.name}: {self.scenario.title}", fontsize="medium")
        peak = self.setup.pods_max or max(float(tl[["desired", "pods"]].to_numpy().max())
                                          for tl in self.timelines.values())
        for k, label in enumerate(labels):
            ax = fig.add_subplot(grid[k + 1], sharex=top)
            tl = self.timelines[label]
            ax.step(t, tl["desired"], where="post", color=PALETTE["vermillion"], lw=1.1, label="decider's desired")
            ax.step(t, tl["ready"], where="post", color=PALETTE["green"], lw=1.3, label="ready")
            ax.step(t, tl["starting"], where="post", color=PALETTE["purple"], lw=1.0, ls=":", label="starting")
            for key, state, style in _STATES:  # the activator underneath, panic hatched above it
                _shade(ax, t, 1, tl[key].to_numpy().astype(float), state, style)
            row = self.row(label)
            ax.set_ylim(0, max(peak, 1.0) * 1.15 + 0.5)
            ax.set_ylabel("pods")
            ax.text(0.005, 0.95, f"{label}  ({row['role']})  switches {row['mode_switches']}, "
                    f"to zero {row['scale_to_zero']}, peak {row['peak_pods']:g} pod"
                    + ("" if row["peak_pods"] == 1 else "s"),
                    transform=ax.transAxes, va="top", fontsize="small",
                    bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.8))
            ax.legend(loc="upper right", fontsize="x-small", ncol=5)
            axes.append(ax)
        axes[-1].set_xlabel("time (s)")
        lo, hi = window if window is not None else (t[0], t[-1] + 1)
        top.set_xlim(lo - 0.01 * (hi - lo), hi)  # a margin, so that a burst at the first second shows
        if latency:
            cdf = fig.add_subplot(grid[n + 1])
            latency_cdf(self.result, labels=labels, ax=cdf)
            axes.append(cdf)
        return fig, np.array(axes, dtype=object)

    def save(self, folder) -> Path:
        """Write ``summary.csv``, ``timeline.csv``, ``claims.csv``, ``scenario.md`` and ``figure.png`` to ``folder``.

        Returns the folder.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.rows.to_csv(folder / "summary.csv", index=False)
        long = pd.concat([tl.assign(variant=label).reset_index() for label, tl in self.timelines.items()])
        long[["variant", *[c for c in long.columns if c != "variant"]]].to_csv(folder / "timeline.csv", index=False)
        pd.DataFrame([{"claim": c.text, "holds": c.holds, "measured": c.measured} for c in self.claims]).to_csv(
            folder / "claims.csv", index=False)
        fig, _ = self.plot()
        fig.savefig(folder / "figure.png", dpi=110)
        (folder / "scenario.md").write_text(self.to_markdown("figure.png"))
        return folder


def _indent(text: str) -> str:
    return "\n".join("  " + line if line else "" for line in text.splitlines())


def _markdown_table(rows: pd.DataFrame) -> str:
    head = ["variant", "role", "requests", "p50 (s)", "p99 (s)", "cold-start delayed", "pod-seconds", "peak pods",
            "to zero", "Proxy/Serve switches", "panic (s)", "largest 1 s fall"]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join(["---"] * 2 + ["---:"] * (len(head) - 2)) + " |"]
    for _, r in rows.iterrows():
        cells = [str(r["variant"]), str(r["role"]), f"{r['requests']:,}", _num(r["latency_p50_s"], 3),
                 _num(r["latency_p99_s"], 3), f"{r['cold_start_delayed']:,}", f"{r['pod_seconds']:,.0f}",
                 f"{r['peak_pods']:g}", str(r["scale_to_zero"]), str(r["mode_switches"]), str(r["panic_seconds"]),
                 f"{r['largest_fall']:.0%}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _num(x: float, digits: int) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:.{digits}f}"


def _measure(scenario: Scenario, seed: int) -> ScenarioRun:
    from .engine import replay

    setup = scenario.build()
    configs = [v.config for v in setup.variants]
    seconds = int(math.ceil(setup.duration))
    result = replay(setup.trace, configs, platform=setup.platform, seed=seed, duration=setup.duration,
                    timeseries=True, max_points=seconds)
    summary = result.summary
    carried = outputs.shown("scenario_rows")  # the replay's outputs a row carries, beside those of its timeline
    timelines, rows = {}, []
    for i, v in enumerate(setup.variants):
        tl = _timeline(result, i, setup.trace)
        timelines[v.label] = tl
        row = {"variant": v.label, "role": v.role, "settings": v.settings}
        row.update({c: summary[c].iloc[i] for c in carried})
        row.update(mode_switches=mode_switches(tl), scale_to_zero=scale_to_zero_events(tl),
                   panic_seconds=int(tl["panic_mode"].sum()), largest_fall=largest_fall(tl))
        rows.append(row)
    frame = pd.DataFrame(rows)
    for c in carried:
        if outputs.get(c).prints == outputs.COUNT:
            frame[c] = frame[c].astype(np.int64)
    out = ScenarioRun(scenario=scenario, setup=setup, result=result, rows=frame, timelines=timelines)
    shows, claims = scenario.check(out)
    out.shows, out.claims = shows, tuple(claims)
    return out


def _claim(text: str, holds, measured: str) -> Claim:
    return Claim(text=text, holds=bool(holds), measured=measured)


# -- the scenarios -----------------------------------------------------------------------------

def _flapping_setup() -> Setup:
    trace = synthetic.poisson(rate=0.1, duration=600.0, service=synthetic.constant(0.2), seed=11926)
    variants = (
        Variant("TBC 200", KPAConfig(min_scale=2, target_burst_capacity=200), "problem"),
        Variant(f"TBC {KPAConfig().target_burst_capacity:g}", KPAConfig(min_scale=2), "fix"),
        Variant("TBC -1", KPAConfig(min_scale=2, target_burst_capacity=-1), "fix"),
    )
    return Setup(trace, variants, Platform(), 600.0, window=(0.0, 300.0))


def _flapping_check(run: ScenarioRun) -> tuple[str, list[Claim]]:
    bad, cur, always = (run.row(v.label) for v in run.setup.variants)
    n = int(bad["requests"])
    cfg = run.setup.variants[1].config
    total, pods, tbc = cfg.total, cfg.min_scale, cfg.target_burst_capacity
    trace = run.setup.trace
    overlap = int(np.count_nonzero(trace.arrivals[1:] < trace.arrivals[:-1] + trace.durations[:-1]))
    shows = (f"{n} requests of 0.2 s in {run.setup.duration / 60:g} minutes, Poisson at 0.1 a second, "
             f"{overlap} of them arriving while another is in flight. With TBC 200, {pods} pods of capacity "
             f"{total:g} have exactly 200 to spare when idle: excess burst capacity floor({pods} x {total:g} - 200 "
             f"- panic concurrency) is 0 (Serve) until a request enters the 6 s panic window and -1 (Proxy) until "
             f"it leaves. The activator moved {bad['mode_switches']} times (in the path "
             f"{bad['activator_fraction']:.0%} of the time). With TBC {tbc:g} the spare capacity is "
             f"{pods * total - tbc:g} even when idle, so the activator never leaves ({cur['mode_switches']} "
             f"switches); with TBC -1 it "
             f"is always in the path by definition ({always['mode_switches']} switches). Latency is the same in "
             f"all three (p99 {bad['latency_p99_s']:.2f} s): the model routes a switch cleanly, while in the "
             f"clusters of the report the churn itself caused 503s.")
    claims = [
        _claim("with TBC 200 one request at a time moves the activator in and out: at least one switch per request",
               bad["mode_switches"] >= n, f"{bad['mode_switches']} switches for {n} requests"),
        _claim(f"with TBC {tbc:g} (today's default) the activator never moves", cur["mode_switches"] == 0,
               f"{cur['mode_switches']} switches"),
        _claim("with TBC -1 the activator never moves and stays in the path",
               always["mode_switches"] == 0 and always["activator_fraction"] == 1.0,
               f"{always['mode_switches']} switches, in path {always['activator_fraction']:.0%} of the time"),
    ]
    return shows, claims


_JOB_PERIOD, _JOB_SIZE, _JOB_SECONDS, _JOB_AFTER = 90.0, 5, 900.0, 300.0


def _periodic_setup() -> Setup:
    trace = synthetic.periodic(period=_JOB_PERIOD, size=_JOB_SIZE, duration=_JOB_SECONDS, spread=1.0,
                               service=synthetic.constant(2.0), seed=9092)
    variants = (
        Variant("defaults", KPAConfig(), "problem"),
        Variant("scale-down-delay 2m", KPAConfig(scale_down_delay=120.0), "fix"),
        Variant("stable-window 2m", KPAConfig(stable_window=120.0), "fix"),
        Variant("min-scale 1", KPAConfig(min_scale=1), "fix"),
    )
    return Setup(trace, variants, Platform(), _JOB_SECONDS + _JOB_AFTER)


def _periodic_check(run: ScenarioRun) -> tuple[str, list[Claim]]:
    runs = int(round(_JOB_SECONDS / _JOB_PERIOD))
    bad = run.row("defaults")
    fixes = [run.row(v.label) for v in run.setup.variants if v.role == "fix"]
    during = {f["variant"]: scale_to_zero_events(run.timelines[f["variant"]].loc[:_JOB_SECONDS]) for f in fixes}
    gone = {f["variant"]: int(run.timelines[f["variant"]]["pods"].iloc[-1]) == 0 for f in fixes}
    released = [name for name, g in gone.items() if g]
    kept = [name for name, g in gone.items() if not g]
    cost = ", ".join(f"{f['variant']} {f['pod_seconds']:,.0f} ({f['pod_seconds'] / bad['pod_seconds'] - 1:+.0%})"
                     for f in fixes)
    shows = (f"{runs} runs of {_JOB_SIZE} two-second requests, one run every {_JOB_PERIOD:g} s. The 60 s stable "
             f"window holds only zeros well before the next run, so the revision goes Inactive and, with the "
             f"activator already in the path, loses its pod at once: {bad['scale_to_zero']} scale-to-zero "
             f"events and {bad['scale_from_zero']} scales from zero, and {bad['cold_start_delayed']} of "
             f"{bad['requests']} requests waited for a cold start (p50 {bad['latency_p50_s']:.2f} s for 2 s of "
             f"work). Each fix keeps the pod between runs: only the first run's {_JOB_SIZE} requests wait for the "
             f"initial pod, and p50 falls to {fixes[0]['latency_p50_s']:.2f} s. When the job stops at "
             f"{_JOB_SECONDS:g} s, {' and '.join(released) or 'none'} let the revision scale to zero, while "
             f"{' and '.join(kept) or 'none'} keeps its pod to the end. The pod that stays costs pod-seconds "
             f"over the {run.setup.duration:g} s: defaults {bad['pod_seconds']:,.0f}, {cost}.")
    claims = [
        _claim("with the defaults the revision scales to zero between runs",
               bad["scale_to_zero"] >= runs - 1, f"{bad['scale_to_zero']} scale-to-zero events in {runs} runs"),
        _claim("with the defaults every run after the first waits for a cold start",
               bad["cold_start_delayed"] >= (runs - 1) * _JOB_SIZE,
               f"{bad['cold_start_delayed']} cold-start-delayed requests of {bad['requests']}"),
    ]
    for f in fixes:
        name = f["variant"]
        claims.append(_claim(f"with {name} the pod stays between runs and only the first run meets a "
                             "cold start", during[name] == 0 and f["cold_start_delayed"] <= _JOB_SIZE,
                             f"{during[name]} scale-to-zero events while the job runs, {f['cold_start_delayed']} "
                             "cold-start-delayed requests"))
    claims.append(_claim("scale-down-delay and a longer stable window still scale to zero once the job stops; "
                         "min-scale 1 does not", released == [f["variant"] for f in fixes[:2]] and
                         kept == [fixes[2]["variant"]],
                         f"pods at the end: {', '.join(f'{n} {0 if g else 1}' for n, g in gone.items())}"))
    return shows, claims


_SLOW_RATE, _SLOW_WORK, _SLOW_CC = 50.0, 1.0, 10


def _slow_start_setup() -> Setup:
    trace = synthetic.step(0.0, _SLOW_RATE, at=0.0, duration=60.0, service=synthetic.constant(_SLOW_WORK),
                           seed=13284)
    base = dict(container_concurrency=_SLOW_CC, initial_scale=0, allow_zero_initial_scale=True)
    variants = (
        Variant("defaults", KPAConfig(**base), "problem"),
        Variant("max-scale 10", KPAConfig(**base, max_scale=10), "fix"),
        Variant("panic threshold 1000%", KPAConfig(**base, panic_threshold_percentage=1000.0), "contrast"),
    )
    platform = Platform(cold_start=ColdStart.lognormal(20.0, 25.0, 30.0))
    return Setup(trace, variants, platform, 300.0)


def _slow_start_check(run: ScenarioRun) -> tuple[str, list[Claim]]:
    bad, cap, high = run.row("defaults"), run.row("max-scale 10"), run.row("panic threshold 1000%")
    target = run.setup.variants[0].config.target_value
    need = math.ceil(_SLOW_RATE * _SLOW_WORK / target)
    tl = run.timelines["defaults"]
    first_ready = int(tl.index[tl["ready"] > 0][0])
    periods = panic_periods(tl)
    panic_from = periods[0][0] if periods else -1
    desired_at_ready = int(tl["desired"].loc[first_ready])
    shows = (f"{_SLOW_RATE:g} events/s of {_SLOW_WORK:g} s work each reach a revision at zero whose pods take "
             f"20-30 s to start; {need} pods (CC {_SLOW_CC}, target {target:g} a pod) carry the load once "
             f"warm. While no pod is ready the events queue in the activator, and its reported concurrency, "
             f"growing with the queue, is what the autoscaler sees: the decider panics at {panic_from} s and by "
             f"the time the first pod is ready ({first_ready} s) it wants {desired_at_ready} pods; it reaches "
             f"{bad['peak_pods']} ({bad['peak_pods'] / need:.0f} x the need, {bad['pod_seconds']:,.0f} "
             f"pod-seconds). max-scale 10 caps the revision at {cap['peak_pods']} pods and "
             f"{cap['pod_seconds']:,.0f} pod-seconds for the same p99 ({cap['latency_p99_s']:.1f} s against "
             f"{bad['latency_p99_s']:.1f} s), while p50 rises from {bad['latency_p50_s']:.1f} s to "
             f"{cap['latency_p50_s']:.1f} s as the backlog drains through fewer pods. A panic threshold of 1000 % "
             f"does not help: with no pod ready the panic test divides by one pod, and the stable window sees "
             f"the same queue ({high['peak_pods']} pods).")
    claims = [
        _claim(f"with the defaults the revision scales far beyond the {need} pods the load needs",
               bad["peak_pods"] >= 5 * need, f"peak {bad['peak_pods']} pods"),
        _claim("the decider panics before the first pod is ready", 0 <= panic_from < first_ready,
               f"panic from {panic_from} s, first pod ready at {first_ready} s"),
        _claim("max-scale 10 holds the revision at 10 pods", cap["peak_pods"] <= 10, f"peak {cap['peak_pods']} pods"),
        _claim("max-scale 10 costs at most a fifth of the pod-seconds with no worse p99",
               cap["pod_seconds"] <= bad["pod_seconds"] / 5 and cap["latency_p99_s"] <= bad["latency_p99_s"] * 1.05,
               f"{cap['pod_seconds']:,.0f} against {bad['pod_seconds']:,.0f} pod-seconds; p99 "
               f"{cap['latency_p99_s']:.1f} s against {bad['latency_p99_s']:.1f} s"),
        _claim("a panic threshold of 1000 % still lets the revision scale as far",
               high["peak_pods"] >= 0.9 * bad["peak_pods"], f"peak {high['peak_pods']} pods"),
    ]
    return shows, claims


_DROP_RATE, _DROP_AT = 300.0, 30.0


def _panic_exit_setup() -> Setup:
    trace = synthetic.step(2.0, _DROP_RATE, at=_DROP_AT, duration=400.0, service=synthetic.lognormal(0.5, 0.3),
                           seed=9121)
    base = dict(container_concurrency=10, target_burst_capacity=0)
    variants = (
        Variant("defaults", KPAConfig(**base), "problem"),
        Variant("max-scale-down-rate 1.1", KPAConfig(**base, max_scale_down_rate=1.1), "fix"),
        Variant("scale-down-delay 1m", KPAConfig(**base, scale_down_delay=60.0), "contrast"),
    )
    platform = Platform(cold_start=ColdStart.lognormal(8.0, 10.0, 14.0))
    return Setup(trace, variants, platform, 400.0)


def _first_fall(tl: pd.DataFrame, after: int) -> tuple[int, int, int]:
    """The first second after ``after`` at which the ready pods fall, the count before it, and 10 s later."""
    r = tl["ready"]
    later = r.loc[after:]
    falls = later.index[later.diff() < 0]
    if len(falls) == 0:
        return -1, int(r.loc[after]), int(r.loc[after])
    t = int(falls[0])
    end = min(t + 10, int(r.index[-1]))
    return t, int(r.loc[t - 1]), int(r.loc[end])


def _panic_exit_check(run: ScenarioRun) -> tuple[str, list[Claim]]:
    labels = [v.label for v in run.setup.variants]
    bad, fix, delay = (run.row(x) for x in labels)
    tls = [run.timelines[x] for x in labels]
    ends = [panic_periods(tl)[0][1] if panic_periods(tl) else -1 for tl in tls]
    (t0, before0, after0), (t1, before1, after1), (t2, before2, after2) = (
        _first_fall(tl, max(e, 0)) for tl, e in zip(tls, ends))
    steady = [int(tl["ready"].iloc[-60:].median()) for tl in tls]
    target = run.setup.variants[0].config.target_value
    warm = int(tls[0]["ready"].loc[int(_DROP_AT)])
    shows = (f"The load steps from 2 to {_DROP_RATE:g} requests/s at {_DROP_AT:g} s (0.5 s each: about "
             f"{_DROP_RATE * 0.5 * math.exp(0.3 ** 2 / 2):.0f} concurrent, {steady[0]} pods at target {target:g}), "
             f"and new pods take about 10 s to start. While they start, requests queue at the {warm} warm pod(s) "
             f"(TBC 0 keeps the activator out of the path, as in #9121) and the panic window sees the queues: "
             f"panic holds the highest count it asked for, {bad['peak_pods']} pods. Panic ends at {ends[0]} s, a "
             f"stable window after the last overload; the decider then follows the stable window, and "
             f"max-scale-down-rate 2 lets it halve the ready pods every tick: {before0} to {after0} pods within "
             f"10 s (the largest one-second fall {bad['largest_fall']:.0%}). The count lands on the {steady[0]} "
             f"pods the load needs and stays; with steady load the model does not dip below it. "
             f"max-scale-down-rate 1.1 turns the fall into steps of at most {fix['largest_fall']:.0%} "
             f"({before1} to {after1} pods in the first 10 s). scale-down-delay 1m only postpones it: the first "
             f"fall comes at {t2} s instead of {t0} s, and each later step still halves "
             f"({delay['largest_fall']:.0%}), {delay['pod_seconds'] - bad['pod_seconds']:,.0f} pod-seconds dearer.")
    claims = [
        _claim("with the defaults the ready pods fall by half or more within 10 s of panic's end",
               t0 >= ends[0] and after0 <= 0.5 * before0, f"panic ends at {ends[0]} s; {before0} -> {after0} pods "
               f"from {t0} s"),
        _claim("the count falls to what the load needs, not below it",
               abs(after0 - steady[0]) <= 2 and int(tls[0]["ready"].loc[t0:].min()) >= steady[0] - 2,
               f"{after0} pods after the fall, {steady[0]} in the last minute, lowest "
               f"{int(tls[0]['ready'].loc[t0:].min())}"),
        _claim("max-scale-down-rate 1.1 takes at most ready - floor(ready / 1.1) pods a tick: no one-second fall "
               "above 15 %", fix["largest_fall"] <= 0.15, f"largest one-second fall {fix['largest_fall']:.1%}"),
        _claim("max-scale-down-rate 1.1 reaches the same steady count", abs(steady[1] - steady[0]) <= 1,
               f"{steady[1]} against {steady[0]} pods in the last minute"),
        _claim("scale-down-delay 1m postpones the fall by about the delay (within two ticks) but it still halves",
               t2 >= t0 + 60 - 2 * _TICK and delay["largest_fall"] >= 0.45,
               f"first fall at {t2} s against {t0} s; largest one-second fall {delay['largest_fall']:.0%}"),
    ]
    return shows, claims


_UNEVEN_WORK, _UNEVEN_START, _UNEVEN_SECONDS, _UNEVEN_BURST = 0.01, 10.0, 600.0, 10


def _uneven_setup() -> Setup:
    work = synthetic.constant(_UNEVEN_WORK)
    steady = synthetic.periodic(period=0.01, size=1, duration=_UNEVEN_SECONDS, start=_UNEVEN_START, service=work,
                                seed=15000)
    bursts = synthetic.periodic(period=1.0, size=_UNEVEN_BURST, duration=_UNEVEN_SECONDS, start=_UNEVEN_START,
                                service=work, seed=15001)
    trace = Trace.merge([steady, bursts], name="steady-100rps+bursts-10")
    variants = (
        Variant("CC 1", KPAConfig(container_concurrency=1), "problem"),
        Variant("min-scale 11", KPAConfig(container_concurrency=1, min_scale=11), "fix"),
        Variant("target 0.1", KPAConfig(container_concurrency=1, target=0.1), "fix"),
    )
    return Setup(trace, variants, Platform(), _UNEVEN_SECONDS, pods_max=20.0)


def _uneven_check(run: ScenarioRun) -> tuple[str, list[Claim]]:
    bad, floor, low = run.row("CC 1"), run.row("min-scale 11"), run.row("target 0.1")
    half = int(_UNEVEN_SECONDS / 2)
    tl, tl_low = run.timelines["CC 1"], run.timelines["target 0.1"]
    stable = float(tl["stable"].iloc[half:].median())
    pods = int(tl["ready"].iloc[half:].median())
    pods_low = int(tl_low["ready"].iloc[half:].median())
    target = run.setup.variants[0].config.target_value
    peak_at_once = _UNEVEN_BURST + 1
    offered = float(run.setup.trace.concurrency_per_second(int(_UNEVEN_START), int(_UNEVEN_SECONDS)).mean())
    shows = (f"One 10 ms request every 10 ms, plus {_UNEVEN_BURST} at once at the start of every second, on pods "
             f"that serve one request at a time (CC 1). The work averages {offered:.2f} concurrent requests, and the "
             f"autoscaler, averaging each pod's time-weighted concurrency over its windows, settles on "
             f"{pods} pods (stable value {stable:.2f}, target {target:g} a pod) in the second half of the run, "
             f"while {peak_at_once} requests arrive together every second: the burst queues, and p90 and p99 are "
             f"{bad['latency_p90_s'] * 1000:.0f} ms and {bad['latency_p99_s'] * 1000:.0f} ms for 10 ms of work "
             f"(the start of the run, before the windows fill, panics and over-provisions, which only flatters "
             f"these numbers). min-scale 11 gives every request of a burst its own pod: p99 "
             f"{floor['latency_p99_s'] * 1000:.0f} ms at {floor['pod_seconds']:,.0f} pod-seconds against "
             f"{bad['pod_seconds']:,.0f}. A target of 0.1 does it through the autoscaler ({pods_low} pods in the "
             f"second half, p99 {low['latency_p99_s'] * 1000:.0f} ms), but its panic at the start also scales "
             f"{low['peak_pods'] / bad['peak_pods']:.0f} times as far ({low['peak_pods']} pods against "
             f"{bad['peak_pods']}, {low['pod_seconds']:,.0f} pod-seconds).")
    claims = [
        _claim(f"with CC 1 the averaged concurrency gives far fewer pods than the {peak_at_once} requests that "
               "arrive at once", pods <= 4 and stable < 2, f"{pods} pods, stable value {stable:.2f}"),
        _claim("with CC 1 the tail waits: p99 at least three times the 10 ms of work",
               bad["latency_p99_s"] >= 3 * _UNEVEN_WORK, f"p99 {bad['latency_p99_s'] * 1000:.0f} ms"),
        _claim("min-scale 11 brings p99 to the work itself (within 20 %)",
               floor["latency_p99_s"] <= 1.2 * _UNEVEN_WORK, f"p99 {floor['latency_p99_s'] * 1000:.1f} ms"),
        _claim("target 0.1 keeps at least 11 pods and brings p99 to the work itself (within 20 %)",
               pods_low >= peak_at_once and low["latency_p99_s"] <= 1.2 * _UNEVEN_WORK,
               f"{pods_low} pods, p99 {low['latency_p99_s'] * 1000:.1f} ms"),
    ]
    return shows, claims


_LONG_AT, _LONG_WORK = 100.0, 300.0


def _two_pods_setup() -> Setup:
    trace = Trace(arrivals=[_LONG_AT], durations=[_LONG_WORK], name="one-5-minute-request",
                  provenance=f"synthetic: one request of {_LONG_WORK:g} s at {_LONG_AT:g} s")
    base = dict(target=1.0, timeout_seconds=600.0)
    variants = (
        Variant("target 1", KPAConfig(**base), "problem"),
        Variant("target 1, utilisation 100%", KPAConfig(**base, target_utilization_percentage=100.0), "fix"),
    )
    return Setup(trace, variants, Platform(), 520.0, latency=False)


def _two_pods_check(run: ScenarioRun) -> tuple[str, list[Claim]]:
    bad, fix = (run.row(v.label) for v in run.setup.variants)
    cfg = run.setup.variants[0].config
    shows = (f"One request of {_LONG_WORK:g} s reaches a revision at zero. With target 1 the default target "
             f"utilisation of {cfg.container_concurrency_target_percentage:g} % makes the per-pod target "
             f"{cfg.target_value:g}, so one request wants ceil(1 / {cfg.target_value:g}) = "
             f"{math.ceil(1 / cfg.target_value)} pods: the second pod starts, gets nothing, and waits out the "
             f"request ({bad['peak_pods']} pods, {bad['idle_pod_seconds']:,.0f} idle pod-seconds of "
             f"{bad['pod_seconds']:,.0f}). With target-utilization-percentage 100 the target is 1 and one pod "
             f"serves it ({fix['peak_pods']} pod, {fix['idle_pod_seconds']:,.0f} idle pod-seconds of "
             f"{fix['pod_seconds']:,.0f}), at the price of no headroom for a second request.")
    claims = [
        _claim("with target 1 one request gets two pods", bad["peak_pods"] == 2, f"peak {bad['peak_pods']} pods"),
        _claim("with utilisation 100 % it gets one", fix["peak_pods"] == 1, f"peak {fix['peak_pods']} pod"),
        _claim("the extra pod idles for about the length of the request",
               bad["idle_pod_seconds"] - fix["idle_pod_seconds"] >= 0.9 * _LONG_WORK,
               f"{bad['idle_pod_seconds'] - fix['idle_pod_seconds']:,.0f} more idle pod-seconds"),
        _claim("both serve the request", bad["completed"] == 1 and fix["completed"] == 1,
               f"{bad['completed']} and {fix['completed']} completed"),
    ]
    return shows, claims


_SCENARIOS = (
    Scenario(
        name="activator-flapping",
        issues=(Issue(11926, "With default settings, a single request causes flipping activator in/out of path "
                             "with min-scale=2"),),
        title="one request at a time moves the activator in and out of the path",
        workload="sparse traffic, under one request per second",
        saw=("A service with min-scale 2 and otherwise default settings (CC 0, so 100 requests a pod, and the "
             "target burst capacity of 200 that was the default then) has exactly the burst capacity the TBC "
             "asks for, so a single request tips it under, and the end of that request back over. Curling the "
             "service a few times in series flipped the ServerlessService between Serve and Proxy, churning the "
             "endpoints, and in the reporter's clusters some requests failed with 503. The default was then raised "
             "above 200 (knative/serving#12774, so that min-scale x 100 no longer equals it; Knative 1.23 "
             "defaults to 211), and TBC -1 was proposed as the default (knative/serving#12241)."),
        fix=("Keep the activator in the path (target-burst-capacity -1), or use a TBC that is not a multiple of "
             "the pods' capacity, as today's default 211 is: either way the activator stays put."),
        build=_flapping_setup, check=_flapping_check,
    ),
    Scenario(
        name="periodic-job-cold-starts",
        issues=(Issue(9092),),
        title="a periodic job scales to zero between runs and meets a cold start every run",
        workload="a job that sends a few requests at once every 90 s",
        saw=("Traffic that comes and goes finds its pods gone when it comes back: once the stable window has "
             "seen only zeros the revision scales down, and the next request pays a cold start. knative/serving"
             "#9092 is the issue that knative/serving#9626 closed by adding scale-down-delay, \"maintaining "
             "replica count for a configurable period after request count drops to avoid cold start penalty\"."),
        fix=("scale-down-delay longer than the gap between runs (here 2m) keeps the pod through the gap and "
             "lets the revision scale to zero once the job stops; a stable window longer than the gap does the "
             "same but makes all scaling slower; min-scale 1 keeps a pod for ever."),
        build=_periodic_setup, check=_periodic_check,
    ),
    Scenario(
        name="slow-start-panic",
        issues=(Issue(13284, "Settings for a \"conservative\" panic mode with slow starting workloads."),),
        title="pods that take 20-30 s to start make panic add pods for the whole backlog",
        workload="a backlog of events delivered at 50 per second to a revision at zero",
        saw=("A Java processor that needed 20-30 s before it could take requests, scaled to zero, received "
             "batches of thousands of events from a RabbitMQ source. Panic mode, unaware of the start-up time, "
             "kept scheduling pods while the backlog grew faster than capacity, degrading the whole cluster. "
             "max-scale contained it, which the reporter considered a workaround, and asked for a more "
             "conservative panic mode."),
        fix=("max-scale (here 10, enough for the steady load) bounds the pods the backlog can ask for. A higher "
             "panic threshold is not a cure: it is measured against at least one ready pod, and the stable window "
             "counts the same queue. There is no setting that tells the autoscaler how long pods take to start."),
        build=_slow_start_setup, check=_slow_start_check,
    ),
    Scenario(
        name="panic-exit-drop",
        issues=(Issue(9121, "pod number decreased extremely when panic-window passed"),
                Issue(3153, "Autoscaler makes *really* bad decision when exiting \"panic\" mode")),
        title="the pod count falls sharply when panic ends",
        workload="a step from 2 to 300 requests per second, on pods that take about 10 s to start",
        saw=("#9121: with CC 10, TBC 0 and 3000 requests/s of a hello-world service, panic took the revision to "
             "204 pods, and when the panic window passed the pod count fell steeply (and rose again); the "
             "reporter asked how to avoid the fluctuation. #3153 (2019): scaling towards 1000 pods with about 40 "
             "ready, the autoscaler stopped panicking after 60 s and almost wholly undid the scale-up. In Knative "
             "1.23 the stable count is the whole revision's stable concurrency over the per-pod target "
             "(pkg/autoscaler/scaling/autoscaler.go), so at panic's end the count falls to what the stable "
             "window asks for, by at most max-scale-down-rate (2: a halving) per tick."),
        fix=("max-scale-down-rate close to 1 (here 1.1, a config-autoscaler key) turns the fall into a gradual "
             "descent. scale-down-delay does not soften it: it holds the panic count longer and then falls in "
             "the same halvings."),
        build=_panic_exit_setup, check=_panic_exit_check,
    ),
    Scenario(
        name="cc1-uneven-traffic",
        issues=(Issue(15000, "Autoscaler underprovisions for uneven low latency traffic"),),
        title="CC 1 under steady plus bursty short requests is under-provisioned by the averaged concurrency",
        workload="one 10 ms request every 10 ms plus 10 at once at the start of every second",
        saw=("A CPU-bound service that handles one request at a time (containerConcurrency 1, 10 ms a request) "
             "received one request every 10 ms plus 10 in parallel at the start of each second. The reporters "
             "expected about 11 pods and got fewer, with high p90 and above; raising min-scale to an "
             "over-provisioned level brought the tail back. They suspected the autoscaler's use of the average "
             "concurrency a pod reports rather than its peaks."),
        fix=("min-scale at the burst size (here 11) removes the queueing; a lower target (here 0.1) makes the "
             "autoscaler keep as many, at the price of over-reacting to anything else. Neither is automatic: "
             "the windows average away a burst that lasts 10 ms."),
        build=_uneven_setup, check=_uneven_check,
    ),
    Scenario(
        name="one-request-two-pods",
        issues=(Issue(8682, "Autoscaler scaling down problem"),),
        title="with target 1, one long request gets two pods",
        workload="a single request of 5 minutes",
        saw=("With target concurrency 1, one 5-minute request created two pods, and the extra one sat idle until "
             "the request finished: wasteful when a pod holds a GPU. A maintainer answered that this is by "
             "design: container-concurrency-target-percentage (targetUtilization on a revision, 70 % by "
             "default) leaves headroom, and 100 % gives one pod per request."),
        fix="target-utilization-percentage 100: one pod per request, with no headroom for the next one.",
        build=_two_pods_setup, check=_two_pods_check,
    ),
)

_BY_NAME = {s.name: s for s in _SCENARIOS}


def names() -> tuple[str, ...]:
    """The scenarios' names, in the gallery's order."""
    return tuple(_BY_NAME)


def get(name: str) -> Scenario:
    """The scenario called ``name``; a :class:`~autoscale.ConfigError` naming the known ones otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ConfigError(f"no scenario {name!r}; the scenarios are {', '.join(_BY_NAME)} "
                          "(autoscale scenario --list)") from None


def overview() -> pd.DataFrame:
    """One row per scenario: name, the issues it reproduces, and the problem in one line."""
    return pd.DataFrame([{"scenario": s.name, "issues": ", ".join(f"#{i.number}" for i in s.issues),
                          "problem": s.title} for s in _SCENARIOS])


def run(name: str | Scenario, seed: int = 0) -> ScenarioRun:
    """Replay the scenario ``name`` (all its variants in one batch) and check its claims.

    Parameters
    ----------
    name : str or Scenario
    seed : int
        Seed of the replay's random streams (cold starts, routing); the workloads have seeds of their own.

    Returns
    -------
    ScenarioRun
    """
    scenario = name if isinstance(name, Scenario) else get(name)
    return _measure(scenario, seed)


def markdown(runs: Sequence[ScenarioRun], figures: str | None = "figures") -> str:
    """The gallery page (``docs/scenarios.md``): an introduction, then every run's write-up.

    ``figures`` is the folder, relative to the page, holding ``scenario-NAME.png``; None leaves the figures out.
    """
    head = [
        "# Knative's autoscaling problems, reproduced",
        "",
        "Each section is a problem reported on the knative/serving tracker, replayed through the model "
        "(`docs/model.md`) beside the setting that fixes it, all variants in one batch with the same seeds. "
        "The text, the numbers and the claims are generated by `autoscale.scenarios` from the run; "
        "`autoscale scenario NAME` prints the same, and `autoscale scenario --docs docs` regenerates this page "
        "and its figures. The claims are also the scenarios' tests (`tests/test_scenarios.py`).",
        "",
        "Figures: arrivals per second on top; then, per variant, the desired, ready and starting pods, with "
        "panic shaded yellow and the activator in the request path shaded blue; at the bottom the latency "
        "distribution of every variant.",
        "",
        "| scenario | issues | problem |",
        "| --- | --- | --- |",
    ]
    for r in runs:
        sc = r.scenario
        issues = ", ".join(f"[#{i.number}]({i.url})" for i in sc.issues)
        head.append(f"| [`{sc.name}`](#{_anchor(r)}) | {issues} | {sc.title} |")
    body = [r.to_markdown(None if figures is None else f"{figures}/scenario-{r.scenario.name}.png") for r in runs]
    return "\n".join(head) + "\n\n" + "\n".join(body)


def _anchor(run: ScenarioRun) -> str:
    """GitHub's anchor of a run's section heading."""
    text = f"{run.scenario.name}: {run.scenario.title}".lower()
    keep = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return keep.replace(" ", "-")
