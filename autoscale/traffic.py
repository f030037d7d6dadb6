"""A Knative Route's traffic: splits across revisions, tags, canary schedules, rollouts, and each request's revision.

A :class:`Route` is what a Knative Service's ``spec.traffic`` says, over time:

* a split of the untagged traffic across revisions in integer percents summing to 100,
  in effect from t = 0 (:class:`TrafficTarget`);
* tags: a target with a tag is also reachable at the tag's own URL, which sends every
  request to that revision only; a tag-only target has percent 0;
* an optional canary schedule: at time ``at`` the targets become a new list;
* an optional gradual rollout (:class:`Rollout`, Knative's ``rollout-duration``) that
  moves the untagged traffic to a new revision in steps, exactly as Knative's route
  reconciler steps it.

:func:`assign` gives every request of a trace the revision it goes to, by one seeded
uniform draw per request against the split in effect at its arrival (vectorised).
:func:`load_route` reads all of it from a small YAML file.

Times are seconds from the start of the trace.

Examples
--------
>>> import numpy as np
>>> route = Route([TrafficTarget("v1", 100), TrafficTarget("v2", 0, tag="next")],
...               rollout=Rollout(to="v2", start=60.0, duration=10.0))
>>> route.split_at(59.0), route.split_at(60.0)   # 1 % to the new revision at the start
({'v1': 100}, {'v1': 99, 'v2': 1})
>>> route.split_at(62.0), route.split_at(70.0)   # 11 % steps each second, done at 70 s
({'v1': 88, 'v2': 12}, {'v2': 100})
>>> index, names = assign(route, np.array([0.0, 30.0, 75.0]), seed=1,
...                       tags=np.array([None, "next", None], dtype=object))
>>> names, index.tolist()
(['v1', 'v2'], [0, 1, 1])
"""

from __future__ import annotations

import bisect
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._yaml import load_yaml
from .configmap import resolve
from .errors import ConfigError, TraceError
from .values import format_duration, parse_duration

__all__ = [
    "TrafficTarget",
    "Rollout",
    "StepParams",
    "Route",
    "assign",
    "route_from_dict",
    "load_route",
    # bounds and names shared by validation, docs and tests
    "PERCENT_RANGE",
    "PERCENT_TOTAL",
    "MIN_STEP_MIN",
    "ROUTE_KEYS",
    "TARGET_KEYS",
    "SCHEDULE_KEYS",
    "ROLLOUT_KEYS",
]

PERCENT_RANGE = (0, 100)  #: a target's percent, inclusive integers
PERCENT_TOTAL = 100  #: what the percents of a traffic list sum to
MIN_STEP_MIN = 1.0  #: Knative's shortest rollout step (s): ``max(1, ceil(time to ready))``

#: Keys of a route file, of one traffic target, of one schedule entry and of the rollout.
ROUTE_KEYS = ("revisions", "traffic", "schedule", "rollout")
TARGET_KEYS = ("revisionName", "revision", "percent", "tag")
SCHEDULE_KEYS = ("at", "traffic")
ROLLOUT_KEYS = ("to", "from", "start", "rollout-duration", "min-step")

_NS = 1_000_000_000


# -- traffic targets -------------------------------------------------------------------------


@dataclass(frozen=True)
class TrafficTarget:
    """One entry of a route's traffic: a revision, its share of untagged traffic, an optional tag.

    Parameters
    ----------
    revision : str
        The revision's name.
    percent : int
        Share of the untagged traffic, an integer in [0, 100]. The percents of one
        traffic list sum to exactly 100 (checked by :class:`Route`).
    tag : str, optional
        Makes the revision reachable at the tag's URL as well; with percent 0 the target
        is reachable by its tag only.

    Examples
    --------
    >>> TrafficTarget("v2", 0, tag="canary")
    TrafficTarget(revision='v2', percent=0, tag='canary')
    >>> TrafficTarget("v1", 120)
    Traceback (most recent call last):
    ...
    autoscale.errors.ConfigError: percent = 120 (revision v1), must be an integer in [0, 100]
    """

    revision: str
    percent: int
    tag: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.revision, str):
            raise TypeError(f"revision must be a str, got {type(self.revision).__name__} {self.revision!r}")
        if not self.revision:
            raise ConfigError("revision = '', a traffic target must name its revision")
        if not isinstance(self.percent, numbers.Integral) or isinstance(self.percent, bool):
            raise TypeError(f"percent (revision {self.revision}) must be an int, "
                            f"got {type(self.percent).__name__} {self.percent!r}")
        lo, hi = PERCENT_RANGE
        if not lo <= self.percent <= hi:
            raise ConfigError(f"percent = {self.percent} (revision {self.revision}), "
                              f"must be an integer in [{lo}, {hi}]")
        object.__setattr__(self, "percent", int(self.percent))
        if self.tag is not None:
            if not isinstance(self.tag, str):
                raise TypeError(f"tag (revision {self.revision}) must be a str or None, "
                                f"got {type(self.tag).__name__} {self.tag!r}")
            if not self.tag:
                raise ConfigError(f"tag = '' (revision {self.revision}), a tag must be a non-empty "
                                  f"name; leave it out (None) for no tag")


def _check_targets(targets, where: str) -> tuple[TrafficTarget, ...]:
    """A validated tuple of targets: percents > 0 sum to 100, tags unique."""
    if isinstance(targets, (str, bytes)) or not isinstance(targets, Sequence):
        raise TypeError(f"{where}: targets must be a list of TrafficTarget, got {type(targets).__name__}")
    targets = tuple(targets)
    for t in targets:
        if not isinstance(t, TrafficTarget):
            raise TypeError(f"{where}: targets must be TrafficTarget values, got {type(t).__name__} {t!r}")
    if not targets:
        raise ConfigError(f"{where}: no targets; give at least one, e.g. TrafficTarget('v1', 100)")
    total = sum(t.percent for t in targets)
    if total != PERCENT_TOTAL:
        shares = ", ".join(f"{t.revision} {t.percent}" for t in targets if t.percent > 0) or "none"
        raise ConfigError(f"{where}: percents ({shares}) sum to {total}, must sum to exactly {PERCENT_TOTAL}")
    seen: dict[str, str] = {}
    for t in targets:
        if t.tag is None:
            continue
        if t.tag in seen:
            raise ConfigError(f"{where}: tag {t.tag} is on revisions {seen[t.tag]} and {t.revision}; "
                              f"tags must be unique")
        seen[t.tag] = t.revision
    return targets


def _split(targets: Sequence[TrafficTarget]) -> dict[str, int]:
    """Percent per revision of the untagged traffic, revisions with traffic only, in target order."""
    out: dict[str, int] = {}
    for t in targets:
        if t.percent > 0:
            out[t.revision] = out.get(t.revision, 0) + t.percent
    return out


def _tags(targets: Sequence[TrafficTarget]) -> dict[str, str]:
    return {t.tag: t.revision for t in targets if t.tag is not None}


def _fmt_split(split: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {p}" for n, p in split.items()) or "no traffic"


def _check_time(value, where: str) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{where} must be a number of seconds, got {type(value).__name__} {value!r}")
    t = float(value)
    if not math.isfinite(t) or t < 0:
        raise ConfigError(f"{where} = {format_duration(t)}, must be a finite time >= 0s")
    return t


# -- the gradual rollout ---------------------------------------------------------------------


def _go_round(x: float) -> int:
    """Go's ``math.Round`` for x >= 0: halves away from zero (2.5 -> 3, where Python gives 2)."""
    whole = math.floor(x)
    return int(whole) + (1 if x - whole >= 0.5 else 0)


@dataclass(frozen=True)
class StepParams:
    """The stepping Knative computes once the route is ready (``computeProperties``).

    Attributes
    ----------
    min_step : float
        Whole seconds from the start to "ready", at least 1 s; the first step comes
        ``step_duration`` after it.
    num_steps : float
        ``max(1, (duration - min_step) / min_step)``, capped at ``percent_total - 1``;
        a float, as in Knative.
    step_size : int
        Percent moved per step: ``round((percent_total - 1) / num_steps)``, halves away
        from zero.
    step_duration : float
        Seconds between steps: ``max(1, duration - min_step) / num_steps``, truncated to
        whole nanoseconds.
    """

    min_step: float
    num_steps: float
    step_size: int
    step_duration: float

    @property
    def step_duration_ns(self) -> int:
        """The step duration in integer nanoseconds, as Knative stores it."""
        return round(self.step_duration * _NS)


@dataclass(frozen=True)
class Rollout:
    """Knative's gradual rollout of a new revision (``rollout-duration``).

    The rollout moves the untagged traffic of the route (all of it, or only the share
    of ``from_``) to revision ``to``, beginning at ``start``, stepped as Knative's
    route reconciler does (knative/serving ``pkg/reconciler/route/traffic/rollout.go``):

    1. at ``start`` the new revision gets 1 %, taken from the newest previous revision
       that has traffic;
    2. the route is ready ``min_step`` seconds later (Knative measures
       ``max(1, ceil(time since start))``); then :meth:`step_params` gives the step size
       and the step duration, and the first step comes one step duration after ready;
    3. each step moves ``step_size`` percent to the new revision, draining the newest
       old revision first (revisions that reach 0 drop out), never giving the new
       revision more than the total; when only the new revision remains, it is done.

    Revisions are ordered oldest first as they appear in the split in effect at
    ``start``. With ``duration`` 0 the switch is immediate at ``start``.

    Parameters
    ----------
    to : str
        The new revision.
    start : float
        When the new revision is ready to take traffic (s, >= 0).
    duration : float
        ``rollout-duration`` in seconds: whole seconds >= 0, as Knative validates
        (``serving.knative.dev/rollout-duration`` annotation, or ``rollout-duration`` in
        ``config-network``). 0 = no gradual rollout.
    from_ : str, optional
        Move only this revision's share (like a Knative configuration target that holds
        part of the route); the other revisions keep theirs. None moves the whole
        untagged split (100 %).
    min_step : float
        Seconds the route takes to become ready after the start (>= 0); it is used as
        ``max(1, ceil(min_step))``.

    Notes
    -----
    One extension beyond Knative: when ``to`` already has a share of the moving
    traffic (say a 20 % canary), it counts as the newest revision with that share; the
    start step adds 1 % to it and the steps continue from there, so such a rollout ends
    sooner than ``duration``. (Knative only ever rolls out a freshly created revision.)

    Examples
    --------
    >>> r = Rollout(to="v2", start=0.0, duration=10.0)
    >>> r.step_params()        # (10 - 1) / 1 = 9 steps of round(99 / 9) = 11 %, 1 s apart
    StepParams(min_step=1.0, num_steps=9.0, step_size=11, step_duration=1.0)
    >>> [(t, s["v2"]) for t, s in r.steps({"v1": 100})][:4]
    [(0.0, 1), (2.0, 12), (3.0, 23), (4.0, 34)]
    """

    to: str
    start: float
    duration: float
    from_: str | None = None
    min_step: float = 1.0

    def __post_init__(self) -> None:
        for name in ("to", "from_"):
            value = getattr(self, name)
            if value is None and name == "from_":
                continue
            if not isinstance(value, str):
                raise TypeError(f"rollout.{name.rstrip('_')} must be a revision name (str), "
                                f"got {type(value).__name__} {value!r}")
            if not value:
                raise ConfigError(f"rollout.{name.rstrip('_')} = '', must name a revision")
        if self.from_ == self.to:
            raise ConfigError(f"rollout.from = rollout.to = {self.to}, must be different revisions")
        object.__setattr__(self, "start", _check_time(self.start, "rollout.start"))
        object.__setattr__(self, "min_step", _check_time(self.min_step, "rollout.min-step"))
        d = _check_time(self.duration, "rollout.rollout-duration")
        if not d.is_integer():
            raise ConfigError(f"rollout.rollout-duration = {format_duration(d)}, must be >= 0s in whole "
                              f"seconds (Knative's second precision)")
        object.__setattr__(self, "duration", d)

    @property
    def ready_after(self) -> float:
        """Knative's ``minStepSec``: ``max(1, ceil(min_step))`` seconds from start to ready."""
        return max(MIN_STEP_MIN, float(math.ceil(self.min_step)))

    def step_params(self, percent_total: int = PERCENT_TOTAL) -> StepParams:
        """Step size and step duration for a rollout of ``percent_total`` percent (``computeProperties``).

        ``d = max(1, duration - min_step)``; ``num_steps = max(1, d / min_step)``,
        capped at ``rem = percent_total - 1`` (the first 1 % has moved already);
        ``step_size = round(rem / num_steps)``; ``step_duration = d / num_steps``.
        120 s at 1 s: d = 119, 119 steps capped at 99, steps of 1 % every 1.20202 s.

        Examples
        --------
        >>> Rollout(to="v2", start=0.0, duration=120.0, min_step=2.4).step_params()
        StepParams(min_step=3.0, num_steps=39.0, step_size=3, step_duration=3.0)
        """
        if not isinstance(percent_total, numbers.Integral) or percent_total < 2:
            raise ConfigError(f"percent_total = {percent_total}, must be an integer >= 2 for a stepped rollout "
                              f"(with 1 % Knative switches at once)")
        min_step = self.ready_after
        d = max(1.0, self.duration - min_step)
        num_steps = max(1.0, d / min_step)
        rem = float(percent_total - 1)
        if rem < num_steps:
            num_steps = rem
        step_size = _go_round(rem / num_steps)
        step_ns = int(d / num_steps * float(_NS))  # Go's int64() truncates
        return StepParams(min_step=min_step, num_steps=num_steps, step_size=step_size,
                          step_duration=step_ns / _NS)

    def steps(self, initial: Mapping[str, int]) -> list[tuple[float, dict[str, int]]]:
        """Every change of the split the rollout makes: ``(time s, {revision: percent})``.

        Parameters
        ----------
        initial : mapping of str -> int
            The untagged split in effect at ``start``, oldest revision first (percents
            >= 0; those of a route sum to 100).

        Returns
        -------
        list of (float, dict)
            The first change is at ``start``, the last leaves the moved traffic on
            ``to``. Each dict is the whole split (revisions with traffic only).
            Empty when ``to`` has all the moving traffic already.

        Raises
        ------
        ConfigError
            When there is no traffic to move (``from_`` has none, or the split is empty).

        Examples
        --------
        Steps of round(99 / 6) = round(16.5) = 17 %, one a second, newest old revision first:

        >>> r = Rollout(to="v3", start=0.0, duration=7.0)
        >>> for t, split in r.steps({"v1": 70, "v2": 30}):
        ...     print(t, split)
        0.0 {'v1': 70, 'v2': 29, 'v3': 1}
        2.0 {'v1': 70, 'v2': 12, 'v3': 18}
        3.0 {'v1': 65, 'v3': 35}
        4.0 {'v1': 48, 'v3': 52}
        5.0 {'v1': 31, 'v3': 69}
        6.0 {'v1': 14, 'v3': 86}
        7.0 {'v3': 100}
        """
        initial = _check_initial(initial)
        order = list(dict.fromkeys([*initial, self.to]))
        if self.from_ is None:
            moving = [[n, p] for n, p in initial.items() if p > 0 and n != self.to]
            if initial.get(self.to, 0) > 0:
                moving.append([self.to, initial[self.to]])
            fixed: dict[str, int] = {}
        else:
            share = initial.get(self.from_, 0)
            if share <= 0:
                raise ConfigError(f"rollout.from = {self.from_} has no untagged traffic at rollout.start = "
                                  f"{format_duration(self.start)} (split: {_fmt_split(initial)})")
            moving = [[self.from_, share]]
            fixed = {n: p for n, p in initial.items() if n != self.from_ and p > 0}
        total = sum(p for _, p in moving)
        if total == 0:
            raise ConfigError(f"rollout to {self.to}: no untagged traffic to move at rollout.start = "
                              f"{format_duration(self.start)}")

        def split(entries) -> dict[str, int]:
            sums = dict(fixed)
            for n, p in entries:
                sums[n] = sums.get(n, 0) + p
            return {n: sums[n] for n in order if sums.get(n, 0) > 0}

        if len(moving) == 1 and moving[0][0] == self.to:
            return []
        if self.duration == 0 or total == 1:  # Knative: no rollout; a 1 % share switches at once
            return [(self.start, split([[self.to, total]]))]
        out = [(self.start, split(_start_rollout(moving, self.to)))]
        params = self.step_params(total)
        ready_ns = int(params.min_step) * _NS
        step_ns = params.step_duration_ns
        k = 1
        while len(moving) > 1:
            _step_revisions(moving, params.step_size, total)
            out.append((self.start + (ready_ns + k * step_ns) / _NS, split(moving)))
            k += 1
        return out


def _check_initial(initial) -> dict[str, int]:
    if not isinstance(initial, Mapping):
        raise TypeError(f"initial must be a mapping of revision -> percent, got {type(initial).__name__}")
    out = {}
    for n, p in initial.items():
        if not isinstance(p, numbers.Integral) or isinstance(p, bool):
            raise TypeError(f"initial[{n!r}] must be an int percent, got {type(p).__name__} {p!r}")
        if p < 0:
            raise ConfigError(f"initial[{n}] = {p}, must be >= 0")
        out[str(n)] = int(p)
    return out


def _start_rollout(entries: list[list], to: str) -> list[list]:
    """Knative's start of a rollout, in place: 1 % to ``to`` from the newest revision with traffic.

    ``entries`` is ``[[revision, percent], ...]`` oldest first. When ``to`` is already
    the last entry it gains the 1 %; otherwise it is appended with 1 %. Entries left at
    0 % drop out.
    """
    has_to = entries[-1][0] == to
    for i in range(len(entries) - (2 if has_to else 1), -1, -1):
        if entries[i][1] > 0:
            entries[i][1] -= 1
            break
    if has_to:
        entries[-1][1] += 1
    else:
        entries.append([to, 1])
    entries[:] = [e for e in entries if e[1] > 0]
    return entries


def _step_revisions(entries: list[list], step_size: int, total: int) -> list[list]:
    """Knative's ``stepRevisions``, in place: move ``step_size`` % to the last entry.

    The percent comes from the newest old revision first (``readPos`` walks backwards
    from the second-to-last); a revision drained to 0 drops out. The new revision is
    capped at ``total``. [22, 5, 3, 60] with step 10 -> [20, 70]: 3 and 5 are drained,
    2 more come from 22.
    """
    n = len(entries)
    if n < 2:
        return entries
    remaining = step_size
    write, read = n - 1, n - 2
    while remaining > 0 and read >= 0:
        if entries[read][1] > remaining:
            entries[read][1] -= remaining
            break
        remaining -= entries[read][1]
        write -= 1
        read -= 1
    entries[write] = entries[n - 1]
    entries[write][1] = min(entries[write][1] + step_size, total)
    del entries[write + 1:]
    return entries


# -- the route -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """A route over time: the split from t = 0, a canary schedule and a gradual rollout.

    Parameters
    ----------
    targets : list of TrafficTarget
        The traffic in effect from t = 0.
    schedule : list of (float, list of TrafficTarget)
        Timed changes: at time ``at`` (s, >= 0, strictly increasing) the targets become
        the given list, tags included.
    rollout : Rollout, optional
        A gradual rollout; it starts from the split in effect at ``rollout.start``.

    Notes
    -----
    How the schedule and the rollout combine: schedule entries at or before
    ``rollout.start`` shape the split the rollout starts from; the first entry after
    ``rollout.start`` replaces the split and cancels the rollout if it is still in
    progress (its later steps never happen; a step at the same instant as the entry is
    cancelled too). The rollout changes percentages only: tags keep pointing at their
    revisions, and a tag's revision changes only with the schedule.

    Examples
    --------
    >>> r = Route([TrafficTarget("v1", 80), TrafficTarget("v2", 20, tag="canary")],
    ...           schedule=[(600.0, [TrafficTarget("v1", 50), TrafficTarget("v2", 50)])])
    >>> r.changes()
    [(0.0, {'v1': 80, 'v2': 20}), (600.0, {'v1': 50, 'v2': 50})]
    >>> r.tags_at(0.0), r.tags_at(600.0)
    ({'canary': 'v2'}, {})
    """

    targets: tuple[TrafficTarget, ...]
    schedule: tuple[tuple[float, tuple[TrafficTarget, ...]], ...] = ()
    rollout: Rollout | None = None
    _timeline: tuple[tuple[float, dict[str, int]], ...] = field(init=False, repr=False, compare=False)
    _tag_timeline: tuple[tuple[float, dict[str, str]], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "targets", _check_targets(self.targets, "traffic"))
        if isinstance(self.schedule, (str, bytes)) or not isinstance(self.schedule, Sequence):
            raise TypeError(f"schedule must be a list of (at, targets), got {type(self.schedule).__name__}")
        entries = []
        for i, entry in enumerate(self.schedule):
            if not isinstance(entry, Sequence) or len(entry) != 2:
                raise TypeError(f"schedule[{i}] must be a pair (at, targets), got {entry!r}")
            at = _check_time(entry[0], f"schedule[{i}].at")
            if entries and at <= entries[-1][0]:
                raise ConfigError(f"schedule[{i}].at = {format_duration(at)}, must be after schedule[{i - 1}].at = "
                                  f"{format_duration(entries[-1][0])}; entries must be in increasing time order")
            entries.append((at, _check_targets(entry[1], f"schedule[{i}].traffic")))
        object.__setattr__(self, "schedule", tuple(entries))
        if self.rollout is not None and not isinstance(self.rollout, Rollout):
            raise TypeError(f"rollout must be a Rollout or None, got {type(self.rollout).__name__}")
        pieces = [(0.0, self.targets), *self.schedule]
        object.__setattr__(self, "_tag_timeline", tuple((t, _tags(tg)) for t, tg in pieces))
        object.__setattr__(self, "_timeline", self._build_timeline(pieces))

    def _build_timeline(self, pieces) -> tuple[tuple[float, dict[str, int]], ...]:
        # (time, order at equal times: schedule before rollout, split)
        events = [(t, 0, _split(tg)) for t, tg in pieces]
        ro = self.rollout
        if ro is not None:
            i = bisect.bisect_right([t for t, _ in pieces], ro.start) - 1
            initial = _split(pieces[i][1])
            cancel = pieces[i + 1][0] if i + 1 < len(pieces) else math.inf
            events += [(t, 1, s) for t, s in ro.steps(initial) if t < cancel]
        events.sort(key=lambda e: (e[0], e[1]))
        out: list[tuple[float, dict[str, int]]] = []
        for t, _, s in events:  # at equal times the last event wins
            if out and out[-1][0] == t:
                out[-1] = (t, s)
            else:
                out.append((t, s))
        merged = [out[0]]  # then drop the changes that change nothing
        for t, s in out[1:]:
            if s != merged[-1][1]:
                merged.append((t, s))
        return tuple(merged)

    @property
    def revisions(self) -> list[str]:
        """Every revision the route names, in first-appearance order (traffic, schedule, rollout)."""
        names = [t.revision for t in self.targets]
        for _, tg in self.schedule:
            names += [t.revision for t in tg]
        if self.rollout is not None:
            names.append(self.rollout.to)
        return list(dict.fromkeys(names))

    def changes(self) -> list[tuple[float, dict[str, int]]]:
        """The piecewise-constant untagged split: ``(from time s, {revision: percent})``, first at 0.

        Schedule entries and rollout steps merged (see the class notes); a change that
        leaves the split as it was is left out.
        """
        return [(t, dict(s)) for t, s in self._timeline]

    def split_at(self, t: float) -> dict[str, int]:
        """Percent per revision for untagged requests at time ``t`` (s); revisions with traffic only."""
        t = _check_time(t, "t")
        i = bisect.bisect_right([c[0] for c in self._timeline], t) - 1
        return dict(self._timeline[i][1])

    def tags_at(self, t: float) -> dict[str, str]:
        """Tag -> revision at time ``t`` (s)."""
        t = _check_time(t, "t")
        i = bisect.bisect_right([c[0] for c in self._tag_timeline], t) - 1
        return dict(self._tag_timeline[i][1])


# -- assigning requests ----------------------------------------------------------------------


def _untagged(tags: np.ndarray) -> np.ndarray:
    """Mask of requests without a tag: None or "" entries."""
    if tags.dtype.kind == "U":
        return tags == ""
    if tags.dtype.kind == "O":
        return np.equal(tags, None) | np.equal(tags, "")
    raise TypeError(f"tags must be an array of str (or object with None), got dtype {tags.dtype}")


def assign(route: Route, arrivals, seed, tags=None) -> tuple[np.ndarray, list[str]]:
    """The revision each request goes to.

    An untagged request is split by the percentages in effect at its arrival: one
    uniform draw ``u`` per request from ``numpy.random.default_rng(seed)``, turned into
    the percent slot ``floor(100 u)`` (0..99), looked up in the piece's cumulative
    percents with ``np.searchsorted`` (80/20: slots 0-79 -> first, 80-99 -> second).
    A tagged request goes to its tag's revision at its arrival time.

    Parameters
    ----------
    route : Route
    arrivals : array of float, or Trace
        Arrival times (s, finite, >= 0), in any order.
    seed : int or numpy.random.Generator
        The draws are a function of the seed alone: the same seed gives the same
        assignment, and a request's draw does not depend on the others' tags.
    tags : array of str or object, optional
        One per request: the tag the request was addressed to, or "" / None for the
        route's main URL.

    Returns
    -------
    index : numpy.ndarray of int32
        Per request, an index into ``names``.
    names : list of str
        :attr:`Route.revisions`: every revision of the route, in first-appearance order.

    Raises
    ------
    ConfigError
        For a tag the route does not have at that request's arrival, naming it and the
        known tags.
    TraceError
        For arrivals that are not a 1-D array of finite times >= 0.
    """
    from .trace import Trace

    if not isinstance(route, Route):
        raise TypeError(f"route must be a Route, got {type(route).__name__}")
    if isinstance(arrivals, Trace):
        arrivals = arrivals.arrivals
    a = np.asarray(arrivals, dtype=np.float64)
    if a.ndim != 1:
        raise TraceError(f"arrivals must be a 1-D array of times, got shape {a.shape}")
    bad = np.flatnonzero(~(np.isfinite(a) & (a >= 0)))
    if bad.size:
        i = int(bad[0])
        raise TraceError(f"request {i}: arrival = {a[i]}, must be a finite time >= 0 s")
    names = route.revisions
    col = {n: j for j, n in enumerate(names)}
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    u = rng.random(a.size)

    # Untagged: row p of `cum` holds the cumulative percents of piece p, shifted by
    # 100 p, so one sorted array serves every piece: slot k of piece p is k + 100 p,
    # and the first entry above it is the revision (a 0 % revision never is).
    timeline = route._timeline
    times = np.array([t for t, _ in timeline])
    pct = np.zeros((len(timeline), len(names)), dtype=np.int64)
    for p, (_, split) in enumerate(timeline):
        for n, q in split.items():
            pct[p, col[n]] = q
    width = PERCENT_TOTAL
    offsets = width * np.arange(len(timeline), dtype=np.int64)
    cum = (np.cumsum(pct, axis=1) + offsets[:, None]).ravel()
    piece = np.searchsorted(times, a, side="right") - 1
    slot = np.minimum((u * width).astype(np.int64), width - 1) + offsets[piece]
    index = np.searchsorted(cum, slot, side="right") - piece * len(names)

    if tags is not None:
        tg = np.asarray(tags)
        if tg.shape != a.shape:
            raise ConfigError(f"tags has shape {tg.shape} for {a.size} arrivals; give one tag (or None) per request")
        tagged = np.flatnonzero(~_untagged(tg))
        if tagged.size:
            unique, inverse = np.unique(tg[tagged].astype(str), return_inverse=True)
            tag_timeline = route._tag_timeline
            tag_times = np.array([t for t, _ in tag_timeline])
            table = np.full((len(tag_timeline), unique.size), -1, dtype=np.int64)
            for p, (_, mapping) in enumerate(tag_timeline):
                for j, tag in enumerate(unique):
                    if tag in mapping:
                        table[p, j] = col[mapping[tag]]
            tpiece = np.searchsorted(tag_times, a[tagged], side="right") - 1
            chosen = table[tpiece, inverse.ravel()]
            missing = np.flatnonzero(chosen < 0)
            if missing.size:
                m = int(missing[0])
                i = int(tagged[m])
                known = ", ".join(tag_timeline[tpiece[m]][1]) or "none"
                raise ConfigError(f"request {i} (arrival {a[i]:g} s): tag {str(unique[inverse.ravel()[m]])!r} is "
                                  f"not a tag of the route at that time; known tags: {known}")
            index[tagged] = chosen
    return index.astype(np.int32), names


# -- reading a route file --------------------------------------------------------------------


def _mapping(obj, where: str, label: str, allowed: Sequence[str]) -> Mapping:
    if not isinstance(obj, Mapping):
        raise ConfigError(f"{label}: {where} must be a mapping with keys {', '.join(allowed)}, "
                          f"got {type(obj).__name__}")
    for key in obj:
        if key not in allowed:
            raise ConfigError(f"{label}: {where}: unknown key {key}; allowed: {', '.join(allowed)}")
    return obj


def _name(value, where: str, label: str, known) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{label}: {where} = {value!r}, must be a revision name")
    if known is not None and value not in known:
        raise ConfigError(f"{label}: {where} = {value}, unknown revision; the revisions are: "
                          f"{', '.join(known) or 'none'}")
    return value


def _duration(value, where: str, label: str) -> float:
    if not isinstance(value, str):
        raise ConfigError(f"{label}: {where} = {value!r}, must be a duration string with a unit, "
                          f"such as 600s, 10m or 1h30m")
    try:
        return parse_duration(value, where)
    except ConfigError as exc:
        raise ConfigError(f"{label}: {exc}") from None


def _targets_from(raw, where: str, label: str, known) -> list[TrafficTarget]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{label}: {where} must be a non-empty list of targets such as "
                          f"{{revisionName: v1, percent: 100}}")
    lo, hi = PERCENT_RANGE
    out = []
    for i, item in enumerate(raw):
        w = f"{where}[{i}]"
        item = _mapping(item, w, label, TARGET_KEYS)
        if "revisionName" in item and "revision" in item:
            raise ConfigError(f"{label}: {w}: both revisionName and revision given; keep one")
        if "revisionName" not in item and "revision" not in item:
            raise ConfigError(f"{label}: {w}: missing revisionName (or revision)")
        key = "revisionName" if "revisionName" in item else "revision"
        name = _name(item[key], f"{w}.{key}", label, known)
        percent = item.get("percent", 0)
        if not isinstance(percent, int) or isinstance(percent, bool) or not lo <= percent <= hi:
            raise ConfigError(f"{label}: {w}.percent = {percent!r}, must be an integer in [{lo}, {hi}]")
        tag = item.get("tag")
        if tag is not None and (not isinstance(tag, str) or not tag):
            raise ConfigError(f"{label}: {w}.tag = {tag!r}, must be a non-empty string (or left out)")
        out.append(TrafficTarget(name, percent, tag))
    return out


def _revisions_from(raw, label: str) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError(f"{label}: revisions must be a non-empty mapping of name -> config keys, "
                          f"such as {{v1: {{container-concurrency: 10}}}}")
    out = {}
    for name, keys in raw.items():
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{label}: revisions: {name!r} is not a revision name (a non-empty string)")
        keys = {} if keys is None else keys
        if not isinstance(keys, Mapping):
            raise ConfigError(f"{label}: revisions.{name} must be a mapping of config-autoscaler keys or "
                              f"annotations to values, got {type(keys).__name__}")
        keys = dict(keys)
        try:
            resolve(overrides=keys)
        except (ConfigError, TypeError) as exc:
            raise ConfigError(f"{label}: revisions.{name}: {exc}") from None
        out[name] = keys
    return out


def _parse(data, label: str, need_revisions: bool) -> tuple[dict[str, dict[str, Any]], Route]:
    if isinstance(data, Mapping) and "apiVersion" in data and "kind" in data:
        raise ConfigError(f"{label}: a Kubernetes manifest ({data['apiVersion']}/{data['kind']}), not a route "
                          f"file; read Knative's Service and Route manifests with "
                          f"autoscale.manifests.load_manifests")
    data = _mapping(data, "the route", label, ROUTE_KEYS)
    if "traffic" not in data:
        raise ConfigError(f"{label}: traffic: missing; give a list such as [{{revisionName: v1, percent: 100}}]")
    if "revisions" in data or need_revisions:
        if "revisions" not in data:
            raise ConfigError(f"{label}: revisions: missing; name every revision with its config keys, "
                              f"such as {{v1: {{container-concurrency: 10}}}}")
        revisions = _revisions_from(data["revisions"], label)
        known = list(revisions)
    else:
        revisions, known = {}, None
    targets = _targets_from(data["traffic"], "traffic", label, known)
    schedule = []
    raw_schedule = data.get("schedule") or []
    if not isinstance(raw_schedule, list):
        raise ConfigError(f"{label}: schedule must be a list of entries {{at: 600s, traffic: [...]}}")
    for i, entry in enumerate(raw_schedule):
        w = f"schedule[{i}]"
        entry = _mapping(entry, w, label, SCHEDULE_KEYS)
        for key in SCHEDULE_KEYS:
            if key not in entry:
                raise ConfigError(f"{label}: {w}: missing {key}; an entry needs at and traffic")
        schedule.append((_duration(entry["at"], f"{w}.at", label),
                         _targets_from(entry["traffic"], f"{w}.traffic", label, known)))
    rollout = None
    if data.get("rollout") is not None:
        ro = _mapping(data["rollout"], "rollout", label, ROLLOUT_KEYS)
        for key in ("to", "rollout-duration"):
            if key not in ro:
                raise ConfigError(f"{label}: rollout: missing {key}; a rollout needs to and rollout-duration "
                                  f"(start defaults to 0s)")
        to = _name(ro["to"], "rollout.to", label, known)
        from_ = _name(ro["from"], "rollout.from", label, known) if ro.get("from") is not None else None
        start = _duration(ro.get("start", "0s"), "rollout.start", label)
        duration = _duration(ro["rollout-duration"], "rollout.rollout-duration", label)
        min_step = _duration(ro.get("min-step", "1s"), "rollout.min-step", label)
        try:
            rollout = Rollout(to=to, start=start, duration=duration, from_=from_, min_step=min_step)
        except ConfigError as exc:
            raise ConfigError(f"{label}: {exc}") from None
    try:
        route = Route(targets, schedule=schedule, rollout=rollout)
    except ConfigError as exc:
        raise ConfigError(f"{label}: {exc}") from None
    return revisions, route


def route_from_dict(data: Mapping, source: str = "route") -> Route:
    """A :class:`Route` from a mapping shaped like a route file (see :func:`load_route`).

    ``revisions`` is optional here; when present, every revision named elsewhere must
    be one of them and each one's keys are checked. ``source`` labels the messages.

    Examples
    --------
    >>> r = route_from_dict({"traffic": [{"revisionName": "v1", "percent": 100}],
    ...                      "rollout": {"to": "v2", "start": "5m", "rollout-duration": "100s"}})
    >>> r.split_at(300.0), r.changes()[-1]   # 99 steps of 1 %, 1 s apart, after 1 s to ready
    ({'v1': 99, 'v2': 1}, (400.0, {'v2': 100}))
    """
    return _parse(data, source, need_revisions=False)[1]


def load_route(path) -> tuple[dict[str, dict[str, Any]], Route]:
    """Read a route file: revisions with their config keys, traffic, a canary schedule, a rollout.

    The file (YAML)::

        revisions:      # name -> config-autoscaler keys / annotations, strings or numbers
          v1: {container-concurrency: 10}
          v2: {container-concurrency: 10, target-burst-capacity: 0}
        traffic:        # like a Knative Service's spec.traffic
          - {revisionName: v1, percent: 80}
          - {revisionName: v2, percent: 20, tag: canary}
        schedule:       # optional: at a time the traffic becomes a new list
          - at: 600s
            traffic:
              - {revisionName: v1, percent: 50}
              - {revisionName: v2, percent: 50, tag: canary}
        rollout:        # optional gradual rollout
          to: v2
          start: 300s            # default 0s
          rollout-duration: 120s
          from: v1               # optional: move only v1's share
          min-step: 1s           # optional: time to ready, default 1s

    A target accepts ``revisionName`` (Knative's spelling) or ``revision``; ``percent``
    defaults to 0 (a tag-only target). Durations are Go durations (``600s``, ``10m``).
    Knative's own Service and Route manifests are read by
    :func:`autoscale.manifests.load_manifests` (``autoscale run --route`` takes both).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    revisions : dict of str -> dict
        Each revision's keys as written, for ``autoscale.configmap.resolve(overrides=...)``.
    route : Route

    Raises
    ------
    ConfigError
        Naming the file, the key and the allowed values: an unknown key, percents not
        summing to 100, an unknown revision, a bad duration, a key
        :func:`autoscale.configmap.resolve` rejects, a YAML syntax error.
    """
    label = os.fspath(path)
    docs = load_yaml(path)
    if docs and all(isinstance(d, Mapping) and "apiVersion" in d for d in docs):
        _parse(docs[0], label, need_revisions=True)  # names the manifest reader
    if len(docs) != 1:
        raise ConfigError(f"{label}: expected one YAML document holding the route, found {len(docs)}")
    return _parse(docs[0], label, need_revisions=True)
