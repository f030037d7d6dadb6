"""The built-in policies' decision rules, compiled for one configuration, as the replay loop runs them.

The replay loop (:mod:`autoscale.loop`) runs the built-in policies inside its compiled
call, with no return to Python per tick: :func:`plan` turns a policy object into a
:class:`CompiledPolicy` (its kind, its parameters as arrays, per-configuration targets
and, for the oracle, its precomputed table), and the functions here are each policy's
``decide`` for one configuration, written to give exactly the numbers of the numpy
``decide`` of its class (sums and means in numpy's pairwise order). A policy of any
other class, including a subclass of a built-in one, runs through its own Python
``decide`` at its ticks.

The rules themselves are documented on the policy classes
(:class:`~autoscale.policies.HPA`, :class:`~autoscale.policies.Hybrid`,
:class:`~autoscale.policies.Forecast`, :class:`~autoscale.policies.Oracle`, ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from .._numba import LEAF
from .forecast import Forecast
from .hpa import HPA
from .hybrid import Hybrid
from .kpa import KPA
from .oracle import Oracle
from .simple import Fixed, KeepAlive

__all__ = ["CompiledPolicy", "plan"]

KIND_KPA, KIND_FIXED, KIND_KEEPALIVE, KIND_HPA, KIND_HYBRID, KIND_FORECAST, KIND_ORACLE = range(7)
ROUTE_KPA, ROUTE_ACTIVATOR, ROUTE_DIRECT = range(3)

# Integer parameters: how the loop runs the policy, then each policy's own.
(
    Q_KIND, Q_PERIOD, Q_HISTORY, Q_ROUTING, Q_ON_DEMAND, Q_WAKES, Q_SERIES, Q_REPLICAS, Q_MIN_REPLICAS,
    Q_MAX_REPLICAS, Q_SLOTS, Q_BINS, Q_MIN_SAMPLES,
) = range(13)
N_Q = 13
# Float parameters.
(
    G_KEEP_ALIVE, G_TOLERANCE, G_STABILISATION, G_BIN, G_RANGE, G_HEAD, G_TAIL, G_MARGIN, G_CV, G_OOB,
    G_ALPHA, G_BETA, G_HORIZON,
) = range(13)
N_G = 13
# Per configuration: the target per pod and the capacity a metric is divided by.
ROW_TARGET, ROW_CAPACITY = range(2)
# The per-second signal a policy keeps a history of.
SERIES_NONE, SERIES_POD_CONCURRENCY, SERIES_BUSY, SERIES_SYSTEM_CONCURRENCY = range(4)

# Policy state of one configuration: float64 and int64 slots.
(S_OOB, S_OOB_MEAN, S_IDLE_SINCE, S_PREWARM, S_KEEP, S_LEVEL, S_TREND) = range(7)
N_SF = 7
(S_REPLICAS, S_SLOT, S_MODE, S_SEEN) = range(4)
N_SI = 4


@dataclass(frozen=True, eq=False)
class CompiledPolicy:
    """A policy as the compiled loop takes it."""

    kind: int
    q: np.ndarray  #: int64 (N_Q,)
    g: np.ndarray  #: float64 (N_G,)
    rows: np.ndarray  #: float64 (B, 2): target, capacity
    table: np.ndarray  #: int64 (B, seconds): the oracle's wanted pods; (1, 1) otherwise


def plan(policy, ctx) -> CompiledPolicy | None:
    """The compiled form of a built-in policy (its exact class), or ``None`` for any other."""
    kind = {KPA: KIND_KPA, Fixed: KIND_FIXED, KeepAlive: KIND_KEEPALIVE, HPA: KIND_HPA, Hybrid: KIND_HYBRID,
            Forecast: KIND_FORECAST, Oracle: KIND_ORACLE}.get(type(policy))
    if kind is None:
        return None
    b = ctx.batch
    q = np.zeros(N_Q, dtype=np.int64)
    g = np.zeros(N_G)
    rows = np.zeros((b, 2))
    rows[:, ROW_TARGET] = ctx.spec.target
    rows[:, ROW_CAPACITY] = 1.0
    table = np.zeros((1, 1), dtype=np.int64)
    q[Q_KIND] = kind
    q[Q_PERIOD] = policy.period
    q[Q_HISTORY] = policy.history
    q[Q_ROUTING] = {"kpa": ROUTE_KPA, "activator": ROUTE_ACTIVATOR, "direct": ROUTE_DIRECT}[policy.routing]
    q[Q_ON_DEMAND] = bool(policy.on_demand)
    q[Q_WAKES] = bool(policy.wakes)
    if kind == KIND_FIXED:
        q[Q_REPLICAS] = policy.replicas
    elif kind == KIND_KEEPALIVE:
        g[G_KEEP_ALIVE] = policy.seconds
    elif kind == KIND_HPA:
        state = policy.start(ctx)
        rows[:, ROW_TARGET] = state.target
        rows[:, ROW_CAPACITY] = state.capacity
        q[Q_SERIES] = SERIES_BUSY if policy.metric == "cpu" else SERIES_POD_CONCURRENCY
        q[Q_MIN_REPLICAS] = policy.min_replicas
        q[Q_MAX_REPLICAS] = policy.max_replicas
        q[Q_SLOTS] = state.times.size
        g[G_TOLERANCE] = policy.tolerance
        g[G_STABILISATION] = policy.scale_down_stabilisation
    elif kind == KIND_HYBRID:
        q[Q_BINS] = policy.bins
        q[Q_MIN_SAMPLES] = policy.min_samples
        g[G_BIN], g[G_RANGE], g[G_HEAD], g[G_TAIL] = policy.bin, policy.range_, policy.head, policy.tail
        g[G_MARGIN], g[G_CV], g[G_OOB] = policy.margin, policy.cv_threshold, policy.oob_threshold
    elif kind == KIND_FORECAST:
        state = policy.start(ctx)
        rows[:, ROW_TARGET] = state.target
        q[Q_SERIES] = SERIES_SYSTEM_CONCURRENCY
        g[G_ALPHA], g[G_BETA], g[G_HORIZON] = policy.alpha, policy.beta, state.horizon
    elif kind == KIND_ORACLE:
        table = np.ascontiguousarray(np.broadcast_to(policy.start(ctx), (b, ctx.duration + 1)), dtype=np.int64)
    return CompiledPolicy(kind=kind, q=q, g=g, rows=rows, table=table)


# -- numpy's pairwise summation, so that sums and means match the numpy rules bit for bit -------


@nb.njit(**LEAF)
def _block(a, lo, n):
    """numpy's sum of ``a[lo:lo + n]`` for n <= 128: eight running sums, then the rest."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    m = n - n % 8
    while i < m:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@nb.njit(**LEAF)
def pairwise_sum_into(a, stack, values):
    """``a.sum()`` in numpy's order (for a contiguous row): blocks of at most 128, halved recursively.

    ``stack`` (int64, (3, 64)) and ``values`` ((64,)) are the caller's work arrays.

    The recursion (``sum(a[:n2]) + sum(a[n2:])`` with ``n2`` half of n rounded down to a
    multiple of 8) runs on an explicit stack: numba's cache does not load recursive
    functions reliably. Allocating nothing, it runs without reference counting, as does
    every per-second rule that calls it.
    """
    los = stack[0]
    ns = stack[1]
    phases = stack[2]
    top = 0
    nv = 0
    los[0], ns[0], phases[0] = 0, a.size, 0
    while top >= 0:
        lo, n, phase = los[top], ns[top], phases[top]
        if n <= 128:
            values[nv] = _block(a, lo, n)
            nv += 1
            top -= 1
            continue
        n2 = n // 2
        n2 -= n2 % 8
        if phase == 0:
            phases[top] = 1
            top += 1
            los[top], ns[top], phases[top] = lo, n2, 0
        elif phase == 1:
            phases[top] = 2
            top += 1
            los[top], ns[top], phases[top] = lo + n2, n - n2, 0
        else:
            values[nv - 2] = values[nv - 2] + values[nv - 1]
            nv -= 1
            top -= 1
    return values[0]


@nb.njit(**LEAF)
def ring_in_order(ring, pos, out):
    """The ring's values oldest first (``pos`` is the next slot to write) into ``out``."""
    n = ring.size
    for k in range(n):
        out[k] = ring[(pos + k) % n]


# -- the rules ---------------------------------------------------------------------------------


@nb.njit(**LEAF)
def hpa_decide(q, g, sf, si, recs, times, window_mean, now, ready, target, capacity):
    """One sync of the HPA (:class:`~autoscale.policies.HPA`); returns the new replicas."""
    current = si[S_REPLICAS]
    with_metric = ready
    total = window_mean / capacity
    starting = max(current - with_metric, 0)
    ratio = total / max(with_metric, 1) / target if with_metric > 0 else 0.0
    proposal = math.ceil(ratio * with_metric)
    up = ratio > 1
    pods = with_metric + starting
    usage = total / target if up else total / target + starting
    ratio2 = usage / max(pods, 1) if pods > 0 else 0.0
    tol = g[G_TOLERANCE]
    within = abs(ratio - 1.0) <= tol
    flipped = starting > 0 and (abs(ratio2 - 1.0) <= tol or (ratio2 > 1) != up)
    if starting > 0:
        proposal = math.ceil(ratio2 * pods)
    rec = current if (within or flipped) else int(proposal)
    if with_metric == 0:
        rec = max(current, q[Q_MIN_REPLICAS])  # no metrics yet
    # Scale-down stabilisation: the highest recommendation of the window (this one included).
    slot = si[S_SLOT]
    recs[slot] = rec
    times[slot] = now
    si[S_SLOT] = (slot + 1) % times.size
    stabilised = rec
    if rec < current:
        stabilised = 0
        for c in range(times.size):
            v = recs[c] if times[c] > now - g[G_STABILISATION] else 0
            if c == 0 or v > stabilised:
                stabilised = v
    stabilised = min(max(stabilised, rec), max(current, rec))
    new = min(stabilised, max(2 * current, current + 4))
    new = max(new, q[Q_MIN_REPLICAS])
    if q[Q_MAX_REPLICAS]:
        new = min(new, q[Q_MAX_REPLICAS])
    si[S_REPLICAS] = new
    return new


@nb.njit(**LEAF)
def hybrid_windows(q, g, counts, sf, si, scratch, stack, values):
    """Pre-warm and keep-alive windows and the mode, from the idle-time histogram."""
    bins = counts.size
    n = pairwise_sum_into(counts, stack, values)
    oob = sf[S_OOB]
    total = n + oob
    mean = n / bins
    for k in range(bins):
        d = counts[k] - mean
        scratch[k] = d * d
    std = math.sqrt(pairwise_sum_into(scratch[:bins], stack, values) / bins)
    cv = std / mean if mean > 0 else 0.0
    head_need = math.ceil(g[G_HEAD] / 100 * n)
    tail_need = math.ceil(g[G_TAIL] / 100 * n)
    head_bin = 0
    tail_bin = 0
    cum = 0.0
    for k in range(bins):
        cum += counts[k]
        if cum < head_need:
            head_bin += 1
        if cum < tail_need:
            tail_bin += 1
    prewarm = head_bin * g[G_BIN] * (1 - g[G_MARGIN])
    keep = (tail_bin + 1) * g[G_BIN] * (1 + g[G_MARGIN]) - prewarm
    representative = n >= q[Q_MIN_SAMPLES] and cv >= g[G_CV]
    out_of_bounds = total >= q[Q_MIN_SAMPLES] and oob > g[G_OOB] * total
    if out_of_bounds:
        si[S_MODE] = 2
        sf[S_PREWARM] = 0.85 * sf[S_OOB_MEAN]
        sf[S_KEEP] = 0.30 * sf[S_OOB_MEAN]
    elif representative:
        si[S_MODE] = 1
        sf[S_PREWARM] = prewarm
        sf[S_KEEP] = keep
    else:
        si[S_MODE] = 0
        sf[S_PREWARM] = 0.0
        sf[S_KEEP] = g[G_RANGE]


@nb.njit(**LEAF)
def hybrid_decide(q, g, counts, sf, si, scratch, stack, values, now, in_system, arrivals):
    """One tick of the hybrid histogram policy (:class:`~autoscale.policies.Hybrid`); returns pre-warmed instances."""
    busy = in_system > 0 or arrivals > 0
    if arrivals > 0 and not math.isnan(sf[S_IDLE_SINCE]):
        # A request ended an idle period: record its idle time (to 1 s).
        it = max(now - 1.0 - sf[S_IDLE_SINCE], 0.0)
        if it < g[G_RANGE]:
            counts[min(int(it / g[G_BIN]), q[Q_BINS] - 1)] += 1
        else:
            sf[S_OOB_MEAN] = (sf[S_OOB_MEAN] * sf[S_OOB] + it) / max(sf[S_OOB] + 1, 1)
            sf[S_OOB] += 1.0
        hybrid_windows(q, g, counts, sf, si, scratch, stack, values)
    if busy:
        si[S_SEEN] = 1
        sf[S_IDLE_SINCE] = np.nan
    elif si[S_SEEN] and math.isnan(sf[S_IDLE_SINCE]):
        sf[S_IDLE_SINCE] = now
    idle_for = now - sf[S_IDLE_SINCE]
    prewarm = sf[S_PREWARM]
    return 1 if (prewarm > 0 and idle_for >= prewarm and idle_for < prewarm + sf[S_KEEP]) else 0


@nb.njit(**LEAF)
def hybrid_keep_alive(sf):
    """With a pre-warm window the instance is unloaded as soon as it is idle."""
    return 0.0 if sf[S_PREWARM] > 0 else sf[S_KEEP]


@nb.njit(**LEAF)
def forecast_decide(g, sf, recent, scheduled, system_concurrency, in_system, target):
    """One tick of Holt's forecaster (:class:`~autoscale.policies.Forecast`); returns pods."""
    if scheduled:  # fold in the seconds since the last tick
        alpha = g[G_ALPHA]
        beta = g[G_BETA]
        for x in recent:
            prev = sf[S_LEVEL]
            sf[S_LEVEL] = alpha * x + (1 - alpha) * (sf[S_LEVEL] + sf[S_TREND])
            sf[S_TREND] = beta * (sf[S_LEVEL] - prev) + (1 - beta) * sf[S_TREND]
    forecast = max(sf[S_LEVEL] + g[G_HORIZON] * sf[S_TREND], 0.0)
    demand = max(max(forecast, system_concurrency), float(in_system))
    return int(math.ceil(demand / target - 1e-9))
