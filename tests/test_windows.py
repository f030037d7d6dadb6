"""Metric windows against Knative's worked examples and a naive recomputation from their definition."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoscale.windows import BucketWindows, MaxTimeWindow, round6, weighted_alpha


# -- naive models, written from the definitions in bucketing.go and max/timewindow.go ------


class NaiveLinear:
    """Keeps every (second, value) write and recomputes the average from scratch."""

    def __init__(self, w: int) -> None:
        self.w = w
        self.values: dict[int, float] = {}
        self.first = None
        self.last = None

    def record(self, s: int, v: float) -> None:
        if self.last is not None and s != self.last and not (s + self.w > self.last):
            return  # too old
        if self.last is None or s - self.last >= self.w:
            self.values = {}
            self.first = s
        if self.first is None or self.first > s:
            self.first = s
        if self.last is None or s > self.last:
            self.last = s
        self.values[s] = self.values.get(s, 0.0) + v

    def average(self, now: int) -> float:
        if self.last is None:
            return 0.0
        d = now - self.last
        if d >= self.w:
            return 0.0
        if d <= 0:
            lo, hi = self.last - self.w, self.last
            nb = min(self.last - self.first + 1, self.w)
        else:
            lo, hi = now - self.w, self.last
            nb = min(self.last - self.first + 1, self.w - d)
        total = sum(v for s, v in self.values.items() if lo < s <= hi)
        return float(round6(total / nb))

    def weighted(self, now: int) -> float:
        if self.last is None or now - self.last > self.w:
            return 0.0
        a = float(weighted_alpha(np.array([self.w]))[0])
        z = max(now - self.last, 0)
        out = 0.0
        for i in range(self.w - z):
            s = self.last - i
            if s > self.last - self.w:
                out += self.values.get(s, 0.0) * a * (1 - a) ** (z + i)
        return out


def test_round6_rounds_halves_away_from_zero():
    assert round6(np.array([0.0000025]))[0] == pytest.approx(0.000003)
    assert round6(np.array([-0.0000025]))[0] == pytest.approx(-0.000003)
    assert round6(np.array([1.2345674]))[0] == pytest.approx(1.234567)
    # numpy's round would give 0.000002 (half to even)
    assert np.round(0.0000025, 6) != round6(np.array([0.0000025]))[0]


@pytest.mark.parametrize(
    "n, alpha",
    [(6, 0.78456), (5, 0.84151), (40, 0.20567), (42, 0.2), (60, 0.2)],
    ids=["6s", "5s", "40s", "42s-floor", "60s-floor"],
)
def test_weighted_alpha_matches_knative_examples(n, alpha):
    assert weighted_alpha(np.array([n]))[0] == pytest.approx(alpha, abs=5e-6)


def test_partial_window_is_not_padded_with_zeros():
    w = BucketWindows(np.array([60]))
    for s in range(1000, 1030):
        w.record(s, np.array([10.0]))
    assert w.linear_average(1029)[0] == 10.0
    # the current second, not yet written, is left out rather than averaged as zero
    assert w.linear_average(1030)[0] == 10.0


def test_one_stat_after_long_silence_averages_to_itself():
    w = BucketWindows(np.array([60]))
    w.record(100, np.array([5.0]))
    w.record(500, np.array([1.0]))  # more than a window later: reset
    assert w.linear_average(500)[0] == 1.0


def test_holes_between_writes_count_as_zero():
    w = BucketWindows(np.array([6]))
    w.record(10, np.array([6.0]))
    w.record(13, np.array([6.0]))
    assert w.linear_average(13)[0] == 3.0  # (6 + 0 + 0 + 6) / 4


def test_write_older_than_window_is_dropped():
    w = BucketWindows(np.array([6]))
    w.record(20, np.array([1.0]))
    w.record(14, np.array([100.0]))  # 20 - 6 = 14: at the boundary, dropped
    assert w.linear_average(20)[0] == 1.0


def test_weighted_single_bucket_is_alpha_times_value():
    w = BucketWindows(np.array([60]))
    w.record(50, np.array([10.0]))
    assert w.weighted_average(50)[0] == pytest.approx(2.0)


def test_weighted_full_window_of_constant_is_nearly_the_constant():
    w = BucketWindows(np.array([6]))
    for s in range(6):
        w.record(s, np.array([10.0]))
    a = weighted_alpha(np.array([6]))[0]
    assert w.weighted_average(5)[0] == pytest.approx(10.0 * (1 - (1 - a) ** 6))


def test_is_empty_after_more_than_a_window():
    w = BucketWindows(np.array([60]))
    w.record(0, np.array([1.0]))
    assert not w.is_empty(60)[0]
    assert w.is_empty(61)[0]


def test_max_window_holds_a_decision_for_the_delay():
    m = MaxTimeWindow(np.array([300.0]))
    assert m.record(2.0, np.array([4.0]))[0] == 4
    assert m.record(4.0, np.array([1.0]))[0] == 4
    assert m.record(300.0, np.array([1.0]))[0] == 4
    assert m.record(302.0, np.array([1.0]))[0] == 1


def test_max_window_without_delay_passes_values_through():
    m = MaxTimeWindow(np.array([0.0, 10.0]))
    out = m.record(0.0, np.array([3.0, 3.0]))
    out = m.record(2.0, np.array([1.0, 1.0]))
    assert list(out) == [1.0, 3.0]


writes = st.lists(
    st.tuples(st.integers(0, 3), st.floats(0, 50, allow_nan=False), st.booleans()),
    min_size=1,
    max_size=60,
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(w=st.integers(1, 12), steps=writes, lookahead=st.integers(0, 15))
def test_linear_and_weighted_equal_naive_recomputation(w, steps, lookahead):
    fast = BucketWindows(np.array([w]))
    slow = NaiveLinear(w)
    t = 1000
    for gap, v, late in steps:
        t += gap
        s = t - (gap if late else 0)  # sometimes write into an earlier second
        fast.record(s, np.array([v]))
        slow.record(s, v)
        assert fast.linear_average(t)[0] == pytest.approx(slow.average(t), abs=2e-6)
        assert fast.weighted_average(t)[0] == pytest.approx(slow.weighted(t), rel=1e-9, abs=1e-9)
    q = t + lookahead
    assert fast.linear_average(q)[0] == pytest.approx(slow.average(q), abs=2e-6)
    assert fast.weighted_average(q)[0] == pytest.approx(slow.weighted(q), rel=1e-9, abs=1e-9)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    widths=st.lists(st.integers(1, 10), min_size=2, max_size=5),
    data=st.lists(st.lists(st.floats(0, 9, allow_nan=False), min_size=5, max_size=5), min_size=1, max_size=30),
    gaps=st.lists(st.integers(1, 4), min_size=30, max_size=30),
)
def test_batch_rows_equal_separate_windows(widths, data, gaps):
    b = len(widths)
    batch = BucketWindows(np.array(widths))
    alone = [BucketWindows(np.array([w])) for w in widths]
    t = 0
    for row, gap in zip(data, gaps):
        t += gap
        vals = np.array(row[:b])
        mask = vals > 3  # some rows skip some seconds
        batch.record(t, vals, mask)
        for i in range(b):
            if mask[i]:
                alone[i].record(t, vals[i : i + 1])
        got = batch.linear_average(t)
        want = [a.linear_average(t)[0] for a in alone]
        assert list(got) == want


@settings(max_examples=100, deadline=None, derandomize=True)
@given(delay=st.integers(0, 20), values=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 9)), max_size=40))
def test_max_window_equals_naive_max(delay, values):
    m = MaxTimeWindow(np.array([float(delay)]))
    k = math.ceil(delay / 2)
    seen: list[tuple[int, int]] = []
    t = 100.0
    for dt, v in values:
        t += dt
        idx = int(t // 2)
        seen.append((idx, v))
        got = m.record(t, np.array([float(v)]))[0]
        want = v if k == 0 else max(val for i, val in seen if idx - k < i <= idx)
        assert got == want


class GoTimedBuckets:
    """``bucketing.go`` ``TimedFloat64Buckets`` transcribed statement by statement (1 s buckets, precision 6)."""

    def __init__(self, w: int) -> None:
        self.buckets = [0.0] * w
        self.w = w
        self.first = None
        self.last = -(2**62)
        self.total = 0.0

    def record(self, now: int, value: float) -> None:
        if self.last != now:
            if now + self.w > self.last:
                if self.first is None or self.first > now:
                    self.first = now
                if now > self.last:
                    if now - self.last >= self.w:
                        self.first = now
                        self.buckets = [0.0] * self.w
                        self.total = 0.0
                    else:
                        for i in range(self.last + 1, now + 1):
                            self.total -= self.buckets[i % self.w]
                            self.buckets[i % self.w] = 0.0
                    self.last = now
            else:
                return
        self.buckets[now % self.w] += value
        self.total += value

    def window_average(self, now: int) -> float:
        d = now - self.last
        if d <= 0:
            return _go_round(self.total / min(self.last - self.first + 1, self.w))
        if d < self.w:
            ret = self.total
            for i in range(self.last + 1, now + 1):
                ret -= self.buckets[i % self.w]
            return _go_round(ret / min(self.last - self.first + 1, self.w - d))
        return 0.0


def _go_round(f: float, n: int = 6) -> float:
    """Go's ``math.Round(f*p)/p``: halves away from zero."""
    v = f * 10.0**n
    whole = float(math.trunc(v))
    if abs(v - whole) >= 0.5:
        whole += math.copysign(1.0, v)
    return whole / 10.0**n


@settings(max_examples=200, deadline=None, derandomize=True)
@given(w=st.integers(1, 12), steps=writes, lookahead=st.integers(0, 15))
def test_linear_window_equals_knative_bucket_by_bucket_exactly(w, steps, lookahead):
    # Exact equality, not approximate: the additions and subtractions happen bucket by
    # bucket in bucketing.go's order, so the rounded averages agree to the last bit.
    fast = BucketWindows(np.array([w]))
    go = GoTimedBuckets(w)
    t = 1000
    for gap, v, late in steps:
        t += gap
        s = t - (gap if late else 0)
        fast.record(s, np.array([v]))
        go.record(s, v)
        assert fast.linear_average(t)[0] == go.window_average(t)
    assert fast.linear_average(t + lookahead)[0] == go.window_average(t + lookahead)


def test_aged_buckets_leave_the_total_one_by_one():
    # Two seconds after the last write the two oldest buckets leave the total. Knative
    # subtracts them one by one (3.300001 here); subtracting their sum at once would
    # give 3.3, and a ceil of the two differs.
    w = BucketWindows(np.array([3]))
    values = [0.3, 0.3000005, 3.3000005]
    for s, v in enumerate(values):
        w.record(s, np.array([v]))
    total = 0.0
    for v in values:
        total += v
    at_once = _go_round(total - (values[0] + values[1]))
    assert w.linear_average(4)[0] == 3.300001
    assert at_once == 3.3


@pytest.mark.parametrize("digits, x, expected", [(0, 2.5, 3.0), (0, -2.5, -3.0), (2, 1.005, 1.0), (3, 0.0015, 0.002),
                                                 (6, 0.0000025, 0.000003), (9, 1.0000000005, 1.000000001)])
def test_round_to_any_number_of_digits(digits, x, expected):
    assert round6(np.array([x]), digits)[0] == expected
    assert round6(np.array([x]), digits)[0] == _go_round(x, digits)


def test_round_refuses_digits_a_double_cannot_hold():
    with pytest.raises(ValueError, match="digits"):
        round6(np.array([1.0]), 23)
