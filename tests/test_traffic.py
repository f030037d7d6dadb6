"""Routes: splits hold statistically, tags route exactly, schedules and rollouts step as Knative does, files load."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoscale import traffic
from autoscale.config import resolve
from autoscale.errors import ConfigError, TraceError
from autoscale.traffic import (
    PERCENT_RANGE,
    PERCENT_TOTAL,
    Rollout,
    Route,
    StepParams,
    TrafficTarget,
    _step_revisions,
    assign,
    load_route,
    route_from_dict,
)
from autoscale.trace import Trace

T = TrafficTarget


def fraction_ok(hits: int, n: int, p: float, sigmas: float = 4.0) -> bool:
    """Is hits / n within `sigmas` binomial standard errors of p?"""
    se = math.sqrt(p * (1 - p) / n)
    return abs(hits / n - p) <= sigmas * se + 1e-12


def uniform_arrivals(n: int, span: float, seed: int = 0) -> np.ndarray:
    return np.sort(np.random.default_rng(seed).uniform(0.0, span, n))


# -- public API ----------------------------------------------------------------------------


def test_exported_names_are_pinned():
    assert set(traffic.__all__) == {
        "TrafficTarget", "Rollout", "StepParams", "Route", "assign", "route_from_dict", "load_route",
        "PERCENT_RANGE", "PERCENT_TOTAL", "MIN_STEP_MIN", "ROUTE_KEYS", "TARGET_KEYS", "SCHEDULE_KEYS",
        "ROLLOUT_KEYS",
    }
    assert PERCENT_RANGE == (0, 100) and PERCENT_TOTAL == 100


# -- traffic validation --------------------------------------------------------------------


BAD_TRAFFIC = [
    pytest.param(lambda: Route([T("v1", 80), T("v2", 19)]), r"traffic: percents \(v1 80, v2 19\) sum to 99, "
                 r"must sum to exactly 100", id="sum-99"),
    pytest.param(lambda: Route([T("v1", 60), T("v2", 60)]), "sum to 120", id="sum-120"),
    pytest.param(lambda: T("v1", 101), r"percent = 101 \(revision v1\), must be an integer in \[0, 100\]",
                 id="percent-above-100"),
    pytest.param(lambda: T("v1", -1), r"must be an integer in \[0, 100\]", id="negative-percent"),
    pytest.param(lambda: T("", 100), "must name its revision", id="empty-revision"),
    pytest.param(lambda: T("v1", 100, tag=""), "tag must be a non-empty name", id="empty-tag"),
    pytest.param(lambda: Route([T("v1", 50, tag="a"), T("v2", 50, tag="a")]),
                 "tag a is on revisions v1 and v2; tags must be unique", id="duplicate-tag"),
    pytest.param(lambda: Route([]), "no targets", id="no-targets"),
    pytest.param(lambda: Route([T("v1", 100)], schedule=[(-5.0, [T("v1", 100)])]),
                 r"schedule\[0\].at = -5s, must be a finite time >= 0s", id="negative-schedule-time"),
    pytest.param(lambda: Route([T("v1", 100)], schedule=[(20.0, [T("v1", 100)]), (10.0, [T("v1", 100)])]),
                 r"schedule\[1\].at = 10s, must be after schedule\[0\].at = 20s", id="schedule-unsorted"),
    pytest.param(lambda: Route([T("v1", 100)], schedule=[(0.0, [T("v1", 90)])]),
                 r"schedule\[0\].traffic: percents \(v1 90\) sum to 90", id="schedule-sum"),
    pytest.param(lambda: Rollout("v2", start=-1.0, duration=10.0), "rollout.start = -1s", id="negative-start"),
    pytest.param(lambda: Rollout("v2", start=0.0, duration=-10.0), "rollout.rollout-duration = -10s",
                 id="negative-duration"),
    pytest.param(lambda: Rollout("v2", start=0.0, duration=1.5), "whole seconds", id="fractional-duration"),
    pytest.param(lambda: Rollout("v2", start=0.0, duration=10.0, from_="v2"), "must be different",
                 id="from-is-to"),
    pytest.param(lambda: Route([T("v1", 100)], rollout=Rollout("v3", 0.0, 10.0, from_="v2")),
                 "rollout.from = v2 has no untagged traffic", id="from-without-traffic"),
    pytest.param(lambda: Route([T("v1", 100)]).split_at(-1.0), "t = -1s", id="negative-query-time"),
]


@pytest.mark.parametrize(("make", "message"), BAD_TRAFFIC)
def test_bad_routes_raise_config_errors_naming_the_key_and_range(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_wrong_types_raise_type_errors():
    with pytest.raises(TypeError, match="percent"):
        T("v1", 50.0)
    with pytest.raises(TypeError, match="TrafficTarget"):
        Route([("v1", 100)])
    with pytest.raises(TypeError, match="Route"):
        assign("not a route", np.zeros(3), seed=0)


def test_tag_only_targets_count_no_percent_and_the_split_merges_a_revision():
    r = Route([T("v1", 60), T("v1", 40, tag="stable"), T("v2", 0, tag="next")])
    assert r.split_at(0.0) == {"v1": 100}
    assert r.tags_at(0.0) == {"stable": "v1", "next": "v2"}
    assert r.revisions == ["v1", "v2"]


# -- splitting untagged requests -----------------------------------------------------------


def test_80_20_split_of_100k_requests_is_within_4_standard_errors():
    route = Route([T("v1", 80), T("v2", 20)])
    index, names = assign(route, uniform_arrivals(100_000, 3600.0), seed=7)
    assert names == ["v1", "v2"] and index.dtype == np.int32
    assert set(np.unique(index)) == {0, 1}
    assert fraction_ok(int(np.sum(index == 1)), index.size, 0.2)


@settings(max_examples=15, deadline=None)
@given(p=st.integers(1, 99), q=st.integers(0, 99), seed=st.integers(0, 2**32 - 1))
def test_any_split_holds_within_4_standard_errors(p, q, seed):
    q = min(q, 100 - p)  # three targets: p, q (possibly 0 %) and the rest
    route = Route([T("a", p), T("b", q), T("c", 100 - p - q)])
    index, _ = assign(route, uniform_arrivals(100_000, 100.0), seed=seed)
    counts = np.bincount(index, minlength=3)
    for k, share in enumerate((p, q, 100 - p - q)):
        if share == 0:
            assert counts[k] == 0  # a 0 % revision never gets an untagged request
        else:
            assert fraction_ok(int(counts[k]), index.size, share / 100)


def slow_assign(route: Route, arrivals, seed: int, tags=None) -> np.ndarray:
    """One request at a time: split_at, walk the cumulative percents in revision order; tags_at."""
    names = route.revisions
    u = np.random.default_rng(seed).random(len(arrivals))
    out = []
    for i, a in enumerate(arrivals):
        tag = None if tags is None else tags[i]
        if tag:
            out.append(names.index(route.tags_at(a)[tag]))
            continue
        split, slot, cum = route.split_at(a), math.floor(100 * u[i]), 0
        for k, name in enumerate(names):
            cum += split.get(name, 0)
            if slot < cum:
                out.append(k)
                break
    return np.array(out)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), at=st.integers(0, 400), start=st.integers(0, 400),
       duration=st.integers(0, 300))
def test_assign_equals_a_request_at_a_time_reference(seed, at, start, duration):
    route = Route([T("v1", 70), T("v2", 30, tag="canary")],
                  schedule=[(float(at), [T("v1", 40), T("v2", 60, tag="canary")])],
                  rollout=Rollout("v3", start=float(start), duration=float(duration)))
    arrivals = uniform_arrivals(3000, 600.0, seed=seed % 1000)
    tags = np.where(np.arange(arrivals.size) % 7 == 0, "canary", "").astype(object)
    index, _ = assign(route, arrivals, seed=seed, tags=tags)
    np.testing.assert_array_equal(index, slow_assign(route, arrivals, seed, tags))


def test_assign_is_deterministic_under_the_seed_and_seeds_differ():
    route = Route([T("v1", 50), T("v2", 50)])
    arrivals = uniform_arrivals(1000, 60.0)
    a1, _ = assign(route, arrivals, seed=3)
    a2, _ = assign(route, arrivals, seed=3)
    b, _ = assign(route, arrivals, seed=4)
    np.testing.assert_array_equal(a1, a2)
    assert not np.array_equal(a1, b)
    g1, _ = assign(route, arrivals, seed=np.random.default_rng(3))
    np.testing.assert_array_equal(a1, g1)


def test_a_requests_draw_does_not_depend_on_the_other_requests_tags():
    route = Route([T("v1", 50), T("v2", 50, tag="canary")])
    arrivals = uniform_arrivals(1000, 60.0)
    plain, _ = assign(route, arrivals, seed=11)
    tags = np.array(["canary" if i % 3 == 0 else "" for i in range(arrivals.size)])
    tagged, _ = assign(route, arrivals, seed=11, tags=tags)
    untagged = tags == ""
    np.testing.assert_array_equal(plain[untagged], tagged[untagged])


def test_assign_takes_a_trace_and_rejects_bad_arrivals():
    trace = Trace(arrivals=[0.0, 1.0, 2.0], durations=[1.0, 1.0, 1.0])
    index, names = assign(Route([T("v1", 100)]), trace, seed=0)
    assert index.tolist() == [0, 0, 0] and names == ["v1"]
    with pytest.raises(TraceError, match="request 1: arrival = -1.0"):
        assign(Route([T("v1", 100)]), np.array([0.0, -1.0]), seed=0)
    with pytest.raises(TraceError, match="arrival = nan"):
        assign(Route([T("v1", 100)]), np.array([np.nan]), seed=0)


# -- tags ------------------------------------------------------------------------------------


def test_every_tagged_request_goes_to_its_tags_revision():
    route = Route([T("v1", 90, tag="stable"), T("v2", 10, tag="canary"), T("v3", 0, tag="next")])
    n = 20_000
    arrivals = uniform_arrivals(n, 600.0)
    choices = np.array([None, "", "stable", "canary", "next"], dtype=object)
    tags = choices[np.random.default_rng(1).integers(0, choices.size, n)]
    index, names = assign(route, arrivals, seed=5, tags=tags)
    assert names == ["v1", "v2", "v3"]
    for tag, revision in (("stable", 0), ("canary", 1), ("next", 2)):
        assert np.all(index[tags == tag] == revision)
    untagged = np.equal(tags, None) | np.equal(tags, "")
    # the tag-only 0 % target is reachable by its tag only
    assert not np.any(index[untagged] == 2)
    assert np.all(index[tags == "next"] == 2) and np.any(tags == "next")


def test_an_unknown_tag_raises_naming_it_and_the_known_tags():
    route = Route([T("v1", 100, tag="stable"), T("v2", 0, tag="canary")])
    with pytest.raises(ConfigError, match=r"request 1 \(arrival 2 s\): tag 'cnary' is not a tag of the route "
                                          r"at that time; known tags: stable, canary"):
        assign(route, np.array([1.0, 2.0]), seed=0, tags=np.array(["", "cnary"]))


def test_tags_follow_the_schedule():
    route = Route([T("v1", 100), T("v2", 0, tag="canary")],
                  schedule=[(100.0, [T("v1", 100), T("v3", 0, tag="canary")])])
    index, names = assign(route, np.array([50.0, 99.9, 100.0, 150.0]), seed=0,
                          tags=np.array(["canary"] * 4))
    assert [names[i] for i in index] == ["v2", "v2", "v3", "v3"]


def test_tags_must_match_the_arrivals():
    with pytest.raises(ConfigError, match="one tag"):
        assign(Route([T("v1", 100)]), np.zeros(3), seed=0, tags=np.array(["", ""]))
    with pytest.raises(TypeError, match="dtype"):
        assign(Route([T("v1", 100)]), np.zeros(2), seed=0, tags=np.array([1, 2]))


# -- canary schedule ---------------------------------------------------------------------------


def test_canary_schedule_requests_before_and_after_the_change_follow_their_split():
    route = Route([T("v1", 90), T("v2", 10, tag="canary")],
                  schedule=[(600.0, [T("v1", 50), T("v2", 50, tag="canary")])])
    assert route.changes() == [(0.0, {"v1": 90, "v2": 10}), (600.0, {"v1": 50, "v2": 50})]
    assert route.split_at(599.999) == {"v1": 90, "v2": 10} and route.split_at(600.0) == {"v1": 50, "v2": 50}
    arrivals = uniform_arrivals(100_000, 1200.0)
    index, _ = assign(route, arrivals, seed=2)
    before, after = arrivals < 600.0, arrivals >= 600.0
    assert fraction_ok(int(np.sum(index[before] == 1)), int(before.sum()), 0.1)
    assert fraction_ok(int(np.sum(index[after] == 1)), int(after.sum()), 0.5)


def test_a_schedule_entry_during_a_rollout_cancels_it_and_one_before_shapes_it():
    rollout = Rollout("v3", start=100.0, duration=120.0)
    shaped = Route([T("v1", 100)], schedule=[(50.0, [T("v1", 70), T("v2", 30)])], rollout=rollout)
    assert shaped.split_at(100.0) == {"v1": 70, "v2": 29, "v3": 1}
    cancelled = Route([T("v1", 100)], schedule=[(150.0, [T("v1", 20), T("v3", 80)])], rollout=rollout)
    changes = cancelled.changes()
    assert changes[-1] == (150.0, {"v1": 20, "v3": 80})
    assert all(t < 150.0 for t, _ in changes[:-1])
    assert cancelled.split_at(149.0)["v3"] < 80
    assert cancelled.split_at(1000.0) == {"v1": 20, "v3": 80}


def test_a_schedule_entry_at_the_rollout_start_is_what_the_rollout_starts_from():
    route = Route([T("v1", 100)], schedule=[(100.0, [T("v1", 50), T("v2", 50)])],
                  rollout=Rollout("v3", start=100.0, duration=0.0))
    assert route.changes() == [(0.0, {"v1": 100}), (100.0, {"v3": 100})]


# -- gradual rollout -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "min_step", "duration", "want"),
    [
        # knative/serving rollout_test.go TestObserveReady, rollout-duration 120 s:
        pytest.param(100, 1984e-9, 120, (1, 1.202020202), id="ready-in-under-1s"),  # 119 s / 99 steps
        pytest.param(100, 2.4, 120, (3, 3.0), id="ready-in-2.4s"),  # 117 / 3 = 39 steps, round(99/39)
        pytest.param(75, 2.4, 120, (2, 3.0), id="75-percent-rounds-up"),  # round(74/39 = 1.9)
        pytest.param(50, 2.4, 120, (1, 3.0), id="50-percent"),  # round(49/39 = 1.26)
        pytest.param(13, 200.6, 120, (12, 1.0), id="ready-after-the-duration"),  # one step of 12 %
        # and by hand:
        pytest.param(100, 1.0, 10, (11, 1.0), id="10s"),  # 9 steps of round(11)
        pytest.param(100, 1.0, 1000, (1, 10.090909090), id="1000s"),  # 999 steps capped at 99 -> 1 %
        pytest.param(100, 1.0, 7, (17, 1.0), id="half-rounds-away-from-zero"),  # round(99/6 = 16.5)
    ],
)
def test_step_params_match_knative(total, min_step, duration, want):
    p = Rollout("v2", start=0.0, duration=float(duration), min_step=min_step).step_params(total)
    assert (p.step_size, p.step_duration) == pytest.approx(want, abs=1e-12)
    assert p.min_step == max(1.0, math.ceil(min_step))


def formula(duration: float, min_step: float, total: int = 100) -> tuple[int, float]:
    """computeProperties written out once more."""
    m = max(1, math.ceil(min_step))
    d = max(1, duration - m)
    steps = min(max(1, d / m), total - 1)
    size = math.floor(((total - 1) / steps) + 0.5)
    return size, int(d / steps * 1e9) / 1e9


@pytest.mark.parametrize("duration", [2, 10, 60, 120, 301, 1000, 3600])
@pytest.mark.parametrize("min_step", [0.2, 1.0, 4.5])
def test_rollout_from_one_revision_steps_as_the_formula_says(duration, min_step):
    start = 300.0
    r = Rollout("v2", start=start, duration=float(duration), min_step=min_step)
    p = r.step_params()
    assert (p.step_size, p.step_duration) == pytest.approx(formula(duration, min_step), abs=1e-12)
    steps = r.steps({"v1": 100})
    assert steps[0] == (start, {"v1": 99, "v2": 1})
    times = np.array([t for t, _ in steps])
    new = np.array([s.get("v2", 0) for _, s in steps])
    assert all(sum(s.values()) == 100 for _, s in steps)
    assert np.all(np.diff(times) > 0) and np.all(np.diff(new) > 0)
    # the first step one step duration after ready, then every step duration
    assert times[1] == pytest.approx(start + p.min_step + p.step_duration, abs=1e-9)
    np.testing.assert_allclose(np.diff(times[1:]), p.step_duration, atol=1e-9)
    # each step moves step_size, the last one capped at 100
    np.testing.assert_array_equal(new[1:], np.minimum(1 + p.step_size * np.arange(1, len(steps)), 100))
    assert steps[-1][1] == {"v2": 100}
    n_steps = math.ceil(99 / p.step_size)
    assert times[-1] == pytest.approx(start + p.min_step + n_steps * p.step_duration, abs=1e-6)


@pytest.mark.parametrize("duration", [10, 100, 120, 1000])
def test_when_the_step_divides_99_the_rollout_ends_at_start_plus_duration(duration):
    steps = Rollout("v2", start=50.0, duration=float(duration)).steps({"v1": 100})
    assert steps[-1][0] == pytest.approx(50.0 + duration, abs=1e-6)


def test_120s_rollout_by_hand():
    steps = Rollout("v2", start=300.0, duration=120.0).steps({"v1": 100})
    assert len(steps) == 100  # the 1 % start, then 99 steps of 1 %
    # ready after 1 s, then (120 - 1) s / 99 steps = 1.202020202 s (Knative truncates to the ns)
    assert [t for t, _ in steps[:3]] == pytest.approx([300.0, 301.0 + 1.202020202, 301.0 + 2 * 1.202020202])
    assert [s for _, s in steps[:3]] == [{"v1": 99, "v2": 1}, {"v1": 98, "v2": 2}, {"v1": 97, "v2": 3}]
    assert steps[-1][0] == pytest.approx(301.0 + 99 * 1.202020202) and steps[-1][1] == {"v2": 100}


def test_rollout_from_a_two_revision_split_drains_the_newest_old_revision_first():
    steps = Rollout("v3", start=0.0, duration=120.0).steps({"v1": 70, "v2": 30})
    assert steps[0][1] == {"v1": 70, "v2": 29, "v3": 1}
    v1 = [s.get("v1", 0) for _, s in steps]
    v2 = [s.get("v2", 0) for _, s in steps]
    gone = v2.index(0)
    assert all(x == 70 for x in v1[:gone + 1])  # v1 keeps 70 % until v2 is drained
    assert steps[gone][1] == {"v1": 70, "v3": 30}
    assert all(b < a for a, b in zip(v1[gone:], v1[gone + 1:]))
    assert steps[-1][1] == {"v3": 100}


@pytest.mark.parametrize(
    ("entries", "step", "total", "want"),
    [
        # knative/serving rollout_test.go TestStepRevisions
        pytest.param([30, 60], 10, 90, [20, 70], id="step-last"),
        pytest.param([22, 5, 3, 60], 10, 90, [20, 70], id="step-last-delete-some"),
        pytest.param([5, 1, 1, 8], 10, 15, [15], id="over-target-now"),
        pytest.param([5, 1, 1, 8], 8, 15, [15], id="the-very-last-step"),
        pytest.param([10], 10, 10, [10], id="done"),
    ],
)
def test_step_revisions_matches_knatives_table(entries, step, total, want):
    named = [[f"r{i}", p] for i, p in enumerate(entries)]
    out = _step_revisions(named, step, total)
    assert [p for _, p in out] == want
    assert out[-1][0] == f"r{len(entries) - 1}"  # the newest revision is the one that grows


def test_zero_duration_switches_at_once():
    r = Rollout("v2", start=30.0, duration=0.0)
    assert r.steps({"v1": 60, "v3": 40}) == [(30.0, {"v2": 100})]
    route = Route([T("v1", 100)], rollout=r)
    assert route.changes() == [(0.0, {"v1": 100}), (30.0, {"v2": 100})]


def test_rollout_of_one_revisions_share_leaves_the_others_alone():
    r = Rollout("v3", start=0.0, duration=60.0, from_="v1")
    steps = r.steps({"v1": 50, "v2": 50})
    assert all(s["v2"] == 50 and sum(s.values()) == 100 for _, s in steps)
    assert steps[0][1] == {"v1": 49, "v2": 50, "v3": 1}
    assert steps[-1][1] == {"v2": 50, "v3": 50}
    p = r.step_params(50)  # the configuration's share is the rollout's total
    assert p.step_size == formula(60, 1.0, total=50)[0]


def test_rollout_to_a_canary_continues_from_its_share():
    steps = Rollout("v2", start=0.0, duration=100.0).steps({"v1": 80, "v2": 20})
    assert steps[0] == (0.0, {"v1": 79, "v2": 21})
    assert steps[-1][1] == {"v2": 100}
    assert len(steps) == 1 + 79  # 1 % steps from 21 % to 100 %
    assert Rollout("v2", start=0.0, duration=100.0).steps({"v2": 100}) == []


def test_a_one_percent_share_switches_at_once_as_in_knative():
    r = Rollout("v3", start=5.0, duration=60.0, from_="v1")
    assert r.steps({"v1": 1, "v2": 99}) == [(5.0, {"v2": 99, "v3": 1})]


@settings(max_examples=40, deadline=None)
@given(
    shares=st.lists(st.integers(0, 100), min_size=1, max_size=4).filter(lambda s: 0 < sum(s) <= 100),
    duration=st.integers(0, 4000),
    min_step=st.floats(0.0, 300.0),
    start=st.floats(0.0, 1e5),
)
def test_rollouts_keep_the_total_and_only_move_toward_the_new_revision(shares, duration, min_step, start):
    shares[-1] += 100 - sum(shares)
    initial = {f"v{i}": p for i, p in enumerate(shares)}
    steps = Rollout("new", start=start, duration=float(duration), min_step=min_step).steps(initial)
    assert steps[0][0] == start and steps[-1][1] == {"new": 100}
    times = [t for t, _ in steps]
    assert times == sorted(times) and len(set(times)) == len(times)
    previous = initial
    for _, split in steps:
        assert sum(split.values()) == 100 and all(p > 0 for p in split.values())
        assert split.get("new", 0) > previous.get("new", 0)
        assert all(split.get(n, 0) <= previous.get(n, 0) for n in initial)
        previous = split
    if duration > 0 and len(steps) > 1:
        assert len(steps) - 1 <= 99  # at most 99 steps after the start
        p = Rollout("new", start=start, duration=float(duration), min_step=min_step).step_params()
        k = np.arange(1, len(steps))
        np.testing.assert_allclose(times[1:], start + p.min_step + k * p.step_duration, rtol=0, atol=1e-6)


def test_step_params_need_a_total_of_two_percent():
    with pytest.raises(ConfigError, match="percent_total = 1"):
        Rollout("v2", 0.0, 10.0).step_params(1)
    assert isinstance(Rollout("v2", 0.0, 10.0).step_params(), StepParams)


# -- route files -----------------------------------------------------------------------------

SAMPLE = """\
revisions:
  v1: {container-concurrency: 10}
  v2: {container-concurrency: 10, target-burst-capacity: 0}
traffic:
  - {revisionName: v1, percent: 80}
  - {revisionName: v2, percent: 20, tag: canary}
schedule:
  - at: 600s
    traffic:
      - {revisionName: v1, percent: 50}
      - {revision: v2, percent: 50, tag: canary}
rollout:
  to: v2
  start: 300s
  rollout-duration: 120s
"""


def write(tmp_path, text: str):
    path = tmp_path / "route.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_route_reads_the_documented_example(tmp_path):
    revisions, route = load_route(write(tmp_path, SAMPLE))
    assert revisions == {"v1": {"container-concurrency": 10},
                         "v2": {"container-concurrency": 10, "target-burst-capacity": 0}}
    assert resolve(overrides=revisions["v2"]).config.target_burst_capacity == 0.0
    assert route.targets == (T("v1", 80), T("v2", 20, tag="canary"))
    assert route.rollout == Rollout("v2", start=300.0, duration=120.0)
    assert route.split_at(0.0) == {"v1": 80, "v2": 20}
    assert route.split_at(300.0) == {"v1": 79, "v2": 21}  # the canary keeps its share and gains 1 %
    changes = route.changes()
    # 79 steps of 1 % every 1.202020202 s after ready take v2 from 21 % to 100 %, then the schedule
    assert changes[-2][1] == {"v2": 100}
    assert changes[-2][0] == pytest.approx(301.0 + 79 * 1.202020202)
    assert changes[-1] == (600.0, {"v1": 50, "v2": 50})
    assert route.tags_at(700.0) == {"canary": "v2"}


def test_route_from_dict_without_revisions_and_with_a_min_step():
    route = route_from_dict({"traffic": [{"revision": "a", "percent": 100}],
                             "rollout": {"to": "b", "from": "a", "rollout-duration": "1m", "min-step": "2500ms"}})
    assert route.rollout == Rollout("b", start=0.0, duration=60.0, from_="a", min_step=2.5)
    assert route.rollout.ready_after == 3.0


def replace(old: str, new: str) -> str:
    assert old in SAMPLE
    return SAMPLE.replace(old, new)


BAD_FILES = [
    pytest.param(replace("percent: 80", "percent: 79"),
                 r"route.yaml: traffic: percents \(v1 79, v2 20\) sum to 99, must sum to exactly 100",
                 id="percent-sum-99"),
    pytest.param(replace("percent: 80", "percent: 80.5"),
                 r"route.yaml: traffic\[0\].percent = 80.5, must be an integer in \[0, 100\]", id="float-percent"),
    pytest.param(replace("{revisionName: v1, percent: 80}", "{revisionName: v9, percent: 80}"),
                 r"route.yaml: traffic\[0\].revisionName = v9, unknown revision; the revisions are: v1, v2",
                 id="unknown-revision"),
    pytest.param(replace("to: v2", "to: v3"), "rollout.to = v3, unknown revision", id="unknown-rollout-revision"),
    pytest.param(replace("rollout:", "rollouts:"),
                 "route.yaml: the route: unknown key rollouts; allowed: revisions, traffic, schedule, rollout",
                 id="unknown-top-key"),
    pytest.param(replace("percent: 80}", "percent: 80, weight: 3}"),
                 r"traffic\[0\]: unknown key weight; allowed: revisionName, revision, percent, tag",
                 id="unknown-target-key"),
    pytest.param(replace("start: 300s", "begin: 300s"),
                 "rollout: unknown key begin; allowed: to, from, start, rollout-duration, min-step",
                 id="unknown-rollout-key"),
    pytest.param(replace("rollout-duration: 120s", "rollout-duration: 2 minutes"),
                 "route.yaml: rollout.rollout-duration = 2 minutes, must be a duration", id="bad-duration-string"),
    pytest.param(replace("rollout-duration: 120s", "rollout-duration: 120"),
                 "rollout.rollout-duration = 120, must be a duration string with a unit", id="bare-number-duration"),
    pytest.param(replace("rollout-duration: 120s", "rollout-duration: 1500ms"),
                 "rollout.rollout-duration = 1.5s, must be >= 0s in whole seconds", id="sub-second-duration"),
    pytest.param(replace("at: 600s", "at: -10s"), r"route.yaml: schedule\[0\].at = -10s, must be a finite time >= 0s",
                 id="negative-time"),
    pytest.param(replace("at: 600s", "at: 10 min"), r"schedule\[0\].at = 10 min, must be a duration",
                 id="bad-at"),
    pytest.param(replace("{container-concurrency: 10}", "{container-concurency: 10}"),
                 "route.yaml: revisions.v1: unknown override key container-concurency; did you mean "
                 "container-concurrency", id="unknown-config-key"),
    pytest.param(replace("{container-concurrency: 10}", "{container-concurrency: 5000}"),
                 r"revisions.v1: container-concurrency = 5000, must be in \[0, 1000\]", id="config-out-of-range"),
    pytest.param(replace("tag: canary}\nschedule", "tag: canary}\n  - {revisionName: v1, tag: canary}\nschedule"),
                 "route.yaml: traffic: tag canary is on revisions v2 and v1", id="duplicate-tag"),
    pytest.param(SAMPLE.split("traffic:")[0], "route.yaml: traffic: missing", id="no-traffic"),
    pytest.param("traffic:" + SAMPLE.split("traffic:", 1)[1], "route.yaml: revisions: missing",
                 id="no-revisions"),
    pytest.param(SAMPLE + "  [oops", r"route.yaml:\d+: invalid YAML", id="yaml-syntax"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_bad_route_files_name_the_file_the_key_and_the_allowed_values(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_route(write(tmp_path, text))
