"""The whole replay of one configuration in one compiled call: data plane, metrics, policy, reconciler.

:func:`replay_rows` runs every configuration of a batch from the first simulated second
to the last without returning to Python in between, under the KPA or any built-in
policy (:mod:`autoscale.policies.compiled`). Each second runs, in this order:

1. the data plane advances through the second at exact event times
   (:mod:`autoscale.dataplane`);
2. an activator's immediate first-request push is recorded, and pokes the policy when
   it wants zero pods and wakes on requests (the KPA's scale from zero), the decision
   taking effect at the push time;
3. at the second boundary the queue-proxies report, the scraper samples the ready pods
   and the activator reports; the stats go into the stable and panic windows
   (:mod:`autoscale.windows`, as :class:`autoscale.collector.Collector` does);
4. the policy ticks on its period: the KPA decider every 2 s, or at once on a poke
   (:func:`autoscale.decider.decide`);
5. the decision becomes replicas: through Knative's reconciler for the KPA, which runs
   only when one of Knative's events or its own requeue timers is due
   (:func:`autoscale.reconciler.reconcile_on_events`), as a floor of pre-warmed
   instances for policies that scale per request, or directly; replicas become pods at
   the start of the next second, and a change of Proxy/Serve mode reaches the network
   after the platform's delay (a switch to Serve that waits only for a ready pod leaves
   when the first pod is ready, from the data plane).

The decider, the reconciler and the windows are the same compiled rules that the public
:class:`~autoscale.decider.Decider`, :class:`~autoscale.reconciler.Reconciler` and
:class:`~autoscale.windows.BucketWindows` run row by row. Only the KPA reads the metric
windows; under any other policy they are kept only when the stable and panic time series
are, the one thing they feed there.

**Idle time is skipped exactly** (KPA). When a configuration has no pod in any state, no
request in the system or in the activator, no pending mode switch, a reconciler that is
Inactive at zero replicas with no requeue or activator probe still to come, a decider at
zero and out of panic, and metric windows that are empty (and no scale-down-delay window
that a tick would write to), then nothing can change before its next arrival: every
second until then would run the same no-op. The loop jumps to the second of that arrival
and accounts the span in closed form (the time with the activator in the path grows by
the span; pods, pod-seconds and panic time do not; the time series, when kept, receive
the same per-second values they would have).

Configurations are independent, so a batch runs them on a pool of threads that each
take the next configuration when done with one (:func:`replay_rows`): no thread waits
for another, and a core busy with other work slows only the configurations on it. Each
configuration keeps its state in arrays of its own (leading axis of length 1, the
layout of :mod:`autoscale.dataplane`), which grow as its pods and requests need.
"""

from __future__ import annotations

import math
import os
import threading

import numba as nb
import numpy as np

from . import spec as P
from ._numba import INLINE, JIT, LEAF
from ._state import (
    AI_HEAD, AI_LEN, CF_FLOOR_TIME, CF_KEEP_ALIVE, CF_PUSH_TIME, CF_SERVE_DELAY, CF_SW_TIME, CI_503, CI_504,
    CI_AENTRY, CI_ALEN, CI_APUSHED, CI_ASYNC, CI_FLOOR, CI_INPATH, CI_INSYS, CI_KBASE, CI_NACT, CI_NDRAIN, CI_NFIN,
    CI_NPUSH, CI_NREADY, CI_NSTART, CI_NSUB, CI_NSUB_WANT, CI_ON_DEMAND, CI_SWTO, CI_TOTAL, HIST_BINS, N_CF, N_CI,
    N_PF, N_REPORT, N_RS,
    R_ACTIVATOR_CONC, R_ACTIVATOR_REPORTED, R_ACTIVATOR_RPS, R_BUSY, R_CONC, R_POD_CONC, R_PROXIED_CONC,
    R_PROXIED_RPS, R_RPS, R_SCRAPED, R_SYSTEM_CONC, act_i, config_fields, pod_fields, reset_rows,
)
from .activator import _set_subset
from .clients import ClientArrays, next_send, start_clients
from .dataplane import _second_in
from .pods import _apply_one, _finish_one
from .policies import compiled as C
from .decider import DF_PANIC_TIME, DI_DESIRED, N_DF, N_DI, decide, new_decider_state
from .reconciler import (
    N_RF, N_RI, RF_PROBE_SINCE, RF_REQUEUE, RI_ACTIVATORS, RI_DESIRED, RI_MODE, RI_REPLICAS, RI_STATE,
    activators_for, new_reconciler_state, reconcile_on_events, serve_waits_for_pod,
)
from .windows import NEVER, window_empty, window_linear, window_record, window_weighted

__all__ = ["replay_rows", "Outcome", "TS_SERIES"]

_INF = np.inf
_PROXY = 0
_INACTIVE = 2

# What a configuration's replay counts beside the data plane's own counters.
O_PANIC_SECONDS, O_PATH_SECONDS = range(2)
N_OF = 2
O_PEAK_PODS, O_SCALE_EVENTS, O_FROM_ZERO, O_SKIPPED_SECONDS = range(4)
N_OI = 4

#: Time series kept per configuration, in the order of :data:`autoscale.results._SERIES`.
TS_SERIES = ("demand", "stable", "panic", "desired", "starting", "ready", "panic_mode", "activator",
             "status_503", "status_504", "backlog")
(TS_DEMAND, TS_STABLE, TS_PANIC, TS_DESIRED, TS_STARTING, TS_READY, TS_PANIC_MODE, TS_ACTIVATOR, TS_503,
 TS_504, TS_BACKLOG) = range(11)


# -- growth of one configuration's arrays ------------------------------------------------------


@nb.njit(**LEAF)
def _pods_needed(ci, replicas, arrivals):
    """Pod slots for ``replicas`` live pods beside the ones still draining, and one per arrival."""
    return max(replicas, ci[0, CI_NSTART] + ci[0, CI_NREADY]) + ci[0, CI_NDRAIN] + arrivals


@nb.njit(**JIT)
def _room_for_pods(pf, pi, p_queue, order, need):
    """The pod arrays with at least ``need`` slots (:func:`_pods_needed`)."""
    cap = pi.shape[2]
    if need <= cap:
        return pf, pi, p_queue, order
    new = max(need, 2 * cap)
    pf2 = np.zeros((1, N_PF, new))
    pi2 = np.zeros((1, pi.shape[1], new), dtype=np.int64)
    q2 = np.zeros((1, new, p_queue.shape[2]), dtype=np.int64)
    for p in range(cap):  # element loops: slice assignment costs seconds of compile time
        for f in range(N_PF):
            pf2[0, f, p] = pf[0, f, p]
        for f in range(pi.shape[1]):
            pi2[0, f, p] = pi[0, f, p]
        for k in range(p_queue.shape[2]):
            q2[0, p, k] = p_queue[0, p, k]
    return pf2, pi2, q2, np.zeros((1, new), dtype=np.int64)


@nb.njit(**JIT)
def _room_for_requests(h_end, h_pod, h_info, a_queue, ci, need):
    """Completion-heap and activator-queue room for ``need`` requests."""
    cap = h_end.shape[1]
    if need > cap:
        new = max(need, 2 * cap)
        e2 = np.zeros((1, new))
        p2 = np.zeros((1, new), dtype=np.int64)
        i2 = np.zeros((1, new), dtype=np.int64)
        for k in range(cap):
            e2[0, k] = h_end[0, k]
            p2[0, k] = h_pod[0, k]
            i2[0, k] = h_info[0, k]
        h_end, h_pod, h_info = e2, p2, i2
    acap = a_queue.shape[2]
    if need > acap:
        new = max(need, 2 * acap)
        q2 = np.zeros((1, a_queue.shape[1], new), dtype=np.int64)
        for a in range(a_queue.shape[1]):
            ia = act_i(a)
            head = ci[0, ia + AI_HEAD]
            for k in range(ci[0, ia + AI_LEN]):
                q2[0, a, k] = a_queue[0, a, (head + k) % acap]
            ci[0, ia + AI_HEAD] = 0
        a_queue = q2
    return h_end, h_pod, h_info, a_queue


# -- the control plane of one configuration ------------------------------------------------------


@nb.njit(**INLINE)
def _observe(pi_p, s_slots, s_meta, s_tot, p_slots, p_meta, p_tot, second):
    """Stable and panic averages at ``second`` and whether there is data (``Collector.observe``)."""
    if pi_p[P.P_WEIGHTED] != 0:
        stable = window_weighted(s_slots, s_meta, second)
        panic = window_weighted(p_slots, p_meta, second)
    else:
        stable = window_linear(s_slots, s_meta, s_tot, second)
        panic = window_linear(p_slots, p_meta, p_tot, second)
    valid = not (window_empty(s_meta, second) and pi_p[P.P_SCRAPE] != 0)
    return stable, panic, valid


@nb.njit(**LEAF)
def _record(s_slots, s_meta, s_tot, p_slots, p_meta, p_tot, second, value):
    window_record(s_slots, s_meta, s_tot, second, value)
    window_record(p_slots, p_meta, p_tot, second, value)


@nb.njit(**LEAF)
def _idle(pi_p, ci, cf, rf, ri, df, di, s_meta, p_meta, second, replicas, desired, panicking, routed_proxy):
    """Nothing can change before the next arrival (see the module docstring)."""
    if (ci[0, CI_NREADY] | ci[0, CI_NSTART] | ci[0, CI_NDRAIN] | ci[0, CI_INSYS] | ci[0, CI_ALEN]
            | ci[0, CI_AENTRY] | ci[0, CI_APUSHED]) != 0:
        return False
    if ci[0, CI_INPATH] != 1 or cf[0, CF_SW_TIME] != _INF or not routed_proxy:
        return False
    if ci[0, CI_NSUB_WANT] != ci[0, CI_NSUB]:
        return False  # the activators' endpoints change at the next second
    if replicas != 0 or desired != 0 or panicking:
        return False
    if ri[RI_STATE] != _INACTIVE or ri[RI_REPLICAS] != 0 or ri[RI_MODE] != _PROXY or ri[RI_DESIRED] != 0:
        return False
    if rf[RF_REQUEUE] != _INF or not math.isnan(rf[RF_PROBE_SINCE]):
        return False  # a reconcile is still to come
    if pi_p[P.P_SCALE_TO_ZERO] == 0 or (pi_p[P.P_MIN_SCALE] > 0 and pi_p[P.P_REACHABLE] != 0):
        return False
    if not math.isnan(df[DF_PANIC_TIME]) or di[DI_DESIRED] != 0:
        return False
    # A decider that ticks with data (TBC -1 reads empty windows as 0) would write its
    # scale-down-delay window.
    if pi_p[P.P_DELAY_SLOTS] > 0 and pi_p[P.P_SCRAPE] == 0:
        return False
    return window_empty(s_meta, second) and window_empty(p_meta, second)


# The loop's own state of one configuration, shared by the pieces below: int64 lv[L_*] and
# float64 lf[F_*].
# The last group is where :func:`_seconds` stands when it returns for room: the second, the
# next arrival, whether the first (time 0) decision is still to come, and whether it stopped
# within a second with a poke's replicas to apply (``L_POKE_NEW`` at ``F_POKE_TIME``, then
# ``L_EXTRA_PUSHES`` pushes to record).
(
    L_DESIRED, L_EBC, L_PANICKING, L_REPLICAS, L_ROUTED_PROXY, L_PENDING, L_PENDING_REPLICAS, L_SCALE_EVENTS,
    L_FROM_ZERO, L_PEAK, L_SKIPPED, L_ERR503, L_ERR504, L_ARRIVED_SEEN, L_LAST_ARRIVALS, L_HPOS,
    L_SECOND, L_NEXT, L_FIRST, L_IN_POKE, L_POKE_NEW, L_EXTRA_PUSHES,
) = range(22)
N_L = 22
F_STABLE_SEEN, F_PANIC_SEEN, F_PANIC_SECONDS, F_PATH_SECONDS, F_LAST_SYSTEM, F_POKE_TIME = range(6)
N_F = 6

#: Why :func:`_seconds` returned: the replay is over, or the requests' or the pods' arrays must grow.
DONE, NEED_REQUESTS, NEED_PODS = range(3)


@nb.njit(**LEAF)
def _history_value(series, out, arrived):
    """The per-second signal a policy keeps a history of."""
    if series == C.SERIES_POD_CONCURRENCY:
        return out[0, R_POD_CONC]
    if series == C.SERIES_BUSY:
        return out[0, R_BUSY]
    if series == C.SERIES_SYSTEM_CONCURRENCY:
        return out[0, R_SYSTEM_CONC]
    return float(arrived)


@nb.njit(**LEAF)
def _skip(b, s, t_end, pf_p, pi_p, ci, cf, rf, ri, df, di, s_meta, p_meta, lv, lf, next_arrival, ts_vals, ts_step):
    """The second to go on from: past the idle seconds from ``s`` up to the next arrival, accounted (or ``s``)."""
    if lv[L_PENDING] or not _idle(pi_p, ci, cf, rf, ri, df, di, s_meta, p_meta, s, lv[L_REPLICAS],
                                  lv[L_DESIRED], lv[L_PANICKING] != 0, lv[L_ROUTED_PROXY] != 0):
        return s
    upto = t_end if next_arrival == _INF else min(t_end, int(math.floor(next_arrival)))
    if upto <= s:
        return s
    ri[RI_ACTIVATORS] = activators_for(pf_p, np.int64(0))
    lf[F_PATH_SECONDS] += upto - s
    lv[L_SKIPPED] += upto - s
    if ts_vals.shape[2] > 0:
        for k in range(s, upto):
            j = k // ts_step
            ts_vals[b, TS_STABLE, j] += lf[F_STABLE_SEEN]
            ts_vals[b, TS_PANIC, j] += lf[F_PANIC_SEEN]
            ts_vals[b, TS_ACTIVATOR, j] += 1.0
    return upto


@nb.njit(**INLINE)
def _boundary(pi_p, q, out, ci, lv, lf, s_slots, s_meta, s_tot, p_slots, p_meta, p_tot, ring, second, metrics):
    """The second's end before the tick: the stats into the windows, the last second's signals, the history.

    The windows are written only when ``metrics`` (they are read: see :func:`_seconds`).

    Returns whether the policy ticks now: on its period, or off it when the activator
    reports requests for a policy that wakes and wants zero pods (the KPA's poke).
    """
    reported = out[0, R_ACTIVATOR_REPORTED] > 0
    if metrics and (out[0, R_SCRAPED] > 0 or reported):
        # The scraper's estimate and the activator's stat land in one bucket.
        if pi_p[P.P_RPS] != 0:
            value = out[0, R_RPS] - out[0, R_PROXIED_RPS] + out[0, R_ACTIVATOR_RPS]
        else:
            value = out[0, R_CONC] - out[0, R_PROXIED_CONC] + out[0, R_ACTIVATOR_CONC]
        _record(s_slots, s_meta, s_tot, p_slots, p_meta, p_tot, second, value)
    arrived = ci[0, CI_TOTAL] - lv[L_ARRIVED_SEEN]
    lv[L_ARRIVED_SEEN] = ci[0, CI_TOTAL]
    lv[L_LAST_ARRIVALS] = arrived
    lf[F_LAST_SYSTEM] = out[0, R_SYSTEM_CONC]
    if ring.size > 0:
        ring[lv[L_HPOS]] = _history_value(q[C.Q_SERIES], out, arrived)
        lv[L_HPOS] = (lv[L_HPOS] + 1) % ring.size
    wakes = q[C.Q_WAKES] != 0
    return (second % q[C.Q_PERIOD] == 0
            or (wakes and reported and out[0, R_ACTIVATOR_CONC] != 0 and lv[L_DESIRED] == 0))


@nb.njit(**INLINE)
def _tick(b, q, g, pf_p, pi_p, target, capacity, table, ci, cf, lv, lf, windows, control, policy, now, second,
          scheduled, metrics):
    """One decision of the policy at ``now``, from the windows at ``second`` (when ``metrics``); sets ``lv[L_DESIRED]``.

    Its state comes in the tuples :func:`_seconds` keeps, so that a call stays under the 30
    arguments beyond which Python passes them as ``*args``, which numba cannot inline.
    """
    s_slots, s_meta, s_tot, p_slots, p_meta, p_tot = windows
    df, di, dw_values, dw_index, _, _ = control
    sf, si, recs, times, counts, scratch, stack, values, ring, recent = policy
    kind = q[C.Q_KIND]
    ready = ci[0, CI_NREADY]
    stable = panic = 0.0
    valid = False
    if metrics:
        stable, panic, valid = _observe(pi_p, s_slots, s_meta, s_tot, p_slots, p_meta, p_tot, second)
    if valid:
        lf[F_STABLE_SEEN] = stable
        lf[F_PANIC_SEEN] = panic
    if kind == C.KIND_KPA:
        desired, ebc, _, _, _ = decide(pf_p, pi_p, df, di, dw_values, dw_index, now, ready, stable, panic, valid)
        lv[L_EBC] = ebc
        lv[L_PANICKING] = 0 if math.isnan(df[DF_PANIC_TIME]) else 1
    elif kind == C.KIND_FIXED:
        desired = q[C.Q_REPLICAS]
    elif kind == C.KIND_KEEPALIVE:
        desired = 0
        cf[0, CF_KEEP_ALIVE] = g[C.G_KEEP_ALIVE]
    elif kind == C.KIND_HPA:
        C.ring_in_order(ring, lv[L_HPOS], recent)
        mean = C.pairwise_sum_into(recent, stack, values) / ring.size
        desired = C.hpa_decide(q, g, sf, si, recs, times, mean, now, ready, target, capacity)
    elif kind == C.KIND_HYBRID:
        desired = C.hybrid_decide(q, g, counts, sf, si, scratch, stack, values, now, ci[0, CI_INSYS],
                                  lv[L_LAST_ARRIVALS])
        cf[0, CF_KEEP_ALIVE] = C.hybrid_keep_alive(sf)
    elif kind == C.KIND_FORECAST:
        C.ring_in_order(ring, lv[L_HPOS], recent)
        desired = C.forecast_decide(g, sf, recent, scheduled, lf[F_LAST_SYSTEM], ci[0, CI_INSYS], target)
    else:  # the oracle
        desired = table[b, min(int(now), table.shape[1] - 1)]
    lv[L_DESIRED] = desired


@nb.njit(**LEAF)
def _control(q, pf_p, pi_p, rf, ri, ci, cf, lv, now, switch_delay):
    """Turn the decision into replicas and the activator's place in the path; returns the replicas if patched, else -1.

    The KPA goes through Knative's reconciler; a policy that scales per request keeps its
    decision as a floor of pre-warmed instances; any other sets the replicas directly
    (the activator in the path only while no pod is ready, unless it routes through it).
    A change of mode reaches the network ``switch_delay`` seconds later.
    """
    ready = ci[0, CI_NREADY]
    desired = lv[L_DESIRED]
    replicas = lv[L_REPLICAS]
    serve_wish = False  # Serve as soon as a pod is ready (the SKS forces Proxy until then)
    if q[C.Q_KIND] == C.KIND_KPA:
        pods = ready + ci[0, CI_NSTART] + ci[0, CI_NDRAIN]
        want, _, _, _, ran = reconcile_on_events(pf_p, pi_p, rf, ri, now, desired, lv[L_EBC], ready, pods,
                                                 ci[0, CI_INPATH] != 0)
        if not ran:
            return -1  # nothing Knative would reconcile on
        new = ri[RI_REPLICAS]
        patched = new != replicas
        want_proxy = ri[RI_MODE] == _PROXY
        if want_proxy:  # the SKS subsets the activators in Proxy mode
            ci[0, CI_NSUB_WANT] = min(ri[RI_ACTIVATORS], ci[0, CI_NACT])
        serve_wish = serve_waits_for_pod(want, lv[L_EBC], ready)
    elif q[C.Q_ON_DEMAND] != 0:
        # Requests create instances and idleness retires them; the policy keeps a floor.
        if ci[0, CI_FLOOR] != desired:
            ci[0, CI_FLOOR] = desired
            cf[0, CF_FLOOR_TIME] = now
        live = ready + ci[0, CI_NSTART]
        patched = desired > live
        new = desired if patched else live
        want_proxy = True
    else:
        new = desired
        patched = new != replicas
        want_proxy = q[C.Q_ROUTING] == C.ROUTE_ACTIVATOR or ready == 0
        serve_wish = q[C.Q_ROUTING] != C.ROUTE_ACTIVATOR and ready == 0 and new > 0
    cf[0, CF_SERVE_DELAY] = switch_delay if serve_wish else np.nan
    if patched:
        lv[L_SCALE_EVENTS] += 1
        if replicas == 0 and new > 0:
            lv[L_FROM_ZERO] += 1
        lv[L_REPLICAS] = new
    if want_proxy != (lv[L_ROUTED_PROXY] != 0):
        cf[0, CF_SW_TIME] = now + switch_delay
        ci[0, CI_SWTO] = 1 if want_proxy else 0
        lv[L_ROUTED_PROXY] = 1 if want_proxy else 0
    return new if patched else -1


@nb.njit(**INLINE)
def _account(b, s, ci, lv, lf, pods_total, ts_vals, ts_step):
    """The second's totals: panic and activator time, pods, and the time series."""
    in_path = ci[0, CI_INPATH]
    panicking = lv[L_PANICKING] != 0
    if panicking:
        lf[F_PANIC_SECONDS] += 1.0
    lf[F_PATH_SECONDS] += in_path
    pods = ci[0, CI_NREADY] + ci[0, CI_NSTART] + ci[0, CI_NDRAIN]
    if pods > lv[L_PEAK]:
        lv[L_PEAK] = pods
    pods_total[s] += pods
    if ts_vals.shape[2] > 0:
        j = s // ts_step
        ts_vals[b, TS_STABLE, j] += lf[F_STABLE_SEEN]
        ts_vals[b, TS_PANIC, j] += lf[F_PANIC_SEEN]
        ts_vals[b, TS_DESIRED, j] += lv[L_DESIRED]
        ts_vals[b, TS_STARTING, j] += ci[0, CI_NSTART]
        ts_vals[b, TS_READY, j] += ci[0, CI_NREADY]
        ts_vals[b, TS_PANIC_MODE, j] += 1.0 if panicking else 0.0
        ts_vals[b, TS_ACTIVATOR, j] += in_path
        ts_vals[b, TS_503, j] += ci[0, CI_503] - lv[L_ERR503]
        ts_vals[b, TS_504, j] += ci[0, CI_504] - lv[L_ERR504]
        lv[L_ERR503] = ci[0, CI_503]
        lv[L_ERR504] = ci[0, CI_504]


@nb.njit(**LEAF)
def _seconds(b, t_end, arrivals, durations, cur, stop, pf_p, pi_p, target, capacity, q, g, table, switch_delay, kpa,
             metrics, on_demand, skip_idle, n_clients, ccv, tov, swv, scv, pf, pi, p_queue, order, cf, ci, h_end, h_pod, h_info,
             a_queue, hl, hw, rng, out, ck, cp, ce, cn, rep1, chg, fin, bq, att_ready, cl1, windows, control, policy,
             lv, lf, pods_total, ts_vals, ts_step):
    """Simulated seconds of configuration ``b`` from ``lv[L_SECOND]`` to ``t_end``: returns ``(DONE, 0)``.

    It allocates nothing, so it runs without numba's reference counting (two atomic
    operations per array at every call and branch, otherwise most of the time of a second
    with nothing to do). When the requests' or the pods' arrays are too small for what
    comes next, it returns ``(NEED_REQUESTS, n)`` or ``(NEED_PODS, n)`` before changing
    anything it cannot resume from; :func:`replay_row` grows them and calls it again.
    The metric windows are written and read only when ``metrics`` (see :func:`replay_row`).
    """
    s_slots, s_meta, s_tot, p_slots, p_meta, p_tot = windows
    df, di, dw_values, dw_index, rf, ri = control
    ring = policy[8]
    kf1 = cl1[0]
    s = lv[L_SECOND]
    while s < t_end:
        first = lv[L_FIRST] != 0
        if lv[L_IN_POKE] != 0:
            # Resumed within the second, with room for the replicas its poke asked for.
            lv[L_IN_POKE] = 0
            now = lf[F_POKE_TIME]
            extra_pushes = lv[L_EXTRA_PUSHES]
            rep1[0] = lv[L_POKE_NEW]
            _apply_one(0, now, rep1, pf, pi, cf, ci, rng, ck, cp, ce, cn)
        else:
            poke = first
            now = 0.0
            extra_pushes = np.int64(0)
            if not first:
                if kpa and skip_idle:
                    upcoming = arrivals[cur[0]] if cur[0] < stop[0] else _INF
                    if n_clients > 0:
                        upcoming = min(upcoming, next_send(kf1, ci, 0)) if ci[0, CI_NFIN] == 0 else float(s)
                    went_on = _skip(b, s, t_end, pf_p, pi_p, ci, cf, rf, ri, df, di, s_meta, p_meta, lv, lf,
                                    upcoming, ts_vals, ts_step)
                    if went_on > s:
                        s = went_on
                        continue
                t1 = float(s + 1)
                # Room for every request in the system plus this second's arrivals.
                k = lv[L_NEXT]
                while k < stop[0] and arrivals[k] < t1:
                    k += 1
                incoming = k - lv[L_NEXT] + n_clients
                need = ci[0, CI_INSYS] + incoming + 1
                if need > h_end.shape[1] or need > a_queue.shape[2]:
                    lv[L_SECOND] = s
                    return NEED_REQUESTS, need
                pending = lv[L_PENDING] != 0
                if pending or on_demand:
                    need = _pods_needed(ci, lv[L_PENDING_REPLICAS] if pending else np.int64(0),
                                        incoming if on_demand else np.int64(0))
                    if need > pi.shape[2]:
                        lv[L_SECOND] = s
                        return NEED_PODS, need
                lv[L_NEXT] = k
                rep1[0] = lv[L_PENDING_REPLICAS]
                chg[0] = pending
                lv[L_PENDING] = 0
                wished = not math.isnan(cf[0, CF_SERVE_DELAY])
                _second_in(0, float(s), t1, cur, stop, arrivals, durations, (ccv, tov, swv, scv), pf, pi, cf, ci,
                           (h_end, h_pod, h_info), (p_queue, a_queue), (hl, hw), rng, out, order, (ck, cp, ce, cn),
                           rep1, chg, fin, bq, att_ready, cl1)
                if wished and math.isnan(cf[0, CF_SERVE_DELAY]):
                    lv[L_ROUTED_PROXY] = 0  # the first ready pod sent the switch to Serve
                # The activators' immediate pushes on a first request, and the poke the first may cause
                # (those of other activators later in the second are recorded after it).
                push = cf[0, CF_PUSH_TIME]
                if not math.isnan(push):
                    if metrics:
                        _record(s_slots, s_meta, s_tot, p_slots, p_meta, p_tot, s, 1.0)
                    extra_pushes = ci[0, CI_NPUSH] - 1
                    if q[C.Q_WAKES] != 0 and lv[L_DESIRED] == 0:
                        poke = True
                        now = push
            if poke:
                # Decide and apply at once, at the poke's time (the windows as of second s).
                _tick(b, q, g, pf_p, pi_p, target, capacity, table, ci, cf, lv, lf, windows, control, policy, now, s,
                      s < 0, metrics)
                new = _control(q, pf_p, pi_p, rf, ri, ci, cf, lv, now, switch_delay)
                if new >= 0:
                    need = _pods_needed(ci, new, np.int64(0))
                    if need > pi.shape[2]:
                        lv[L_IN_POKE] = 1
                        lv[L_POKE_NEW] = new
                        lf[F_POKE_TIME] = now
                        lv[L_EXTRA_PUSHES] = extra_pushes
                        lv[L_SECOND] = s
                        return NEED_PODS, need
                    rep1[0] = new
                    _apply_one(0, now, rep1, pf, pi, cf, ci, rng, ck, cp, ce, cn)
        if extra_pushes > 0 and metrics:
            _record(s_slots, s_meta, s_tot, p_slots, p_meta, p_tot, s, float(extra_pushes))
        if first:
            lv[L_FIRST] = 0
            continue
        # The second's end: record, tick on the period, reconcile; replicas change at the next second.
        now = float(s + 1)
        if _boundary(pi_p, q, out, ci, lv, lf, s_slots, s_meta, s_tot, p_slots, p_meta, p_tot, ring, s + 1, metrics):
            _tick(b, q, g, pf_p, pi_p, target, capacity, table, ci, cf, lv, lf, windows, control, policy, now, s + 1,
                  (s + 1) % q[C.Q_PERIOD] == 0, metrics)
        new = _control(q, pf_p, pi_p, rf, ri, ci, cf, lv, now, switch_delay)
        if new >= 0:
            lv[L_PENDING] = 1
            lv[L_PENDING_REPLICAS] = new
        _account(b, s, ci, lv, lf, pods_total, ts_vals, ts_step)
        if n_clients > 0 and ts_vals.shape[2] > 0:
            # The demand of clients is what they have in the system (a trace's is known in advance).
            ts_vals[b, TS_DEMAND, s // ts_step] += out[0, R_SYSTEM_CONC]
        s += 1
    lv[L_SECOND] = s
    return DONE, np.int64(0)


@nb.njit(**JIT)
def replay_row(b, t_end, arrivals, durations, start, end, pfp, pip, stable_window_f, cs_kind, cs_par, cs_emp,
               cs_emp_n, seed_state, switch_delay, activators, skip_idle, q, g, pol_rows, table, hist_lat,
               hist_wait, out_f, out_i, ci_out, cf_out, pods_total, ts_vals, ts_step, cl):
    """Replay configuration ``b`` from second 0 to ``t_end``; results go into row ``b`` of the outputs.

    ``cl`` are the workload's closed-loop clients (:mod:`autoscale.clients`; its per-pool
    counts go to row ``b`` of ``cl[6]``); with any, the configuration's requests are copied
    into arrays of its own with a request slot per client after them.

    ``q``, ``g``, ``pol_rows`` and ``table`` are the policy (:mod:`autoscale.policies.compiled`).
    ``pods_total`` (one per worker) receives the live pods at the end of each second;
    ``ts_vals[b]`` (series x points) the per-second values summed per bucket of ``ts_step``
    seconds, when it has any points.
    """
    kpa = q[C.Q_KIND] == C.KIND_KPA
    on_demand = q[C.Q_ON_DEMAND] != 0
    pf_p = pfp[b]
    pi_p = pip[b]
    cc = pi_p[P.P_CC]
    ccv = pip[b:b + 1, P.P_CC].copy()
    tov = pfp[b:b + 1, P.P_TIMEOUT].copy()
    swv = stable_window_f[b:b + 1]
    scv = pip[b:b + 1, P.P_SCRAPE] != 0
    # Only the KPA reads the metric windows; under another policy they feed nothing but the
    # stable and panic time series, so without those they are not kept, and no scrape is
    # taken for them (the scrape draws from a random stream of its own: no other draw moves).
    metrics = kpa or ts_vals.shape[2] > 0
    if not kpa:
        scv[0] = metrics  # every other policy's pods are scraped when the windows are kept
    ck = cs_kind[b:b + 1]
    cp = cs_par[b:b + 1]
    ce = cs_emp[b:b + 1]
    cn = cs_emp_n[b:b + 1]
    hl = hist_lat[b:b + 1]
    hw = hist_wait[b:b + 1]
    target = pol_rows[b, C.ROW_TARGET]
    capacity = pol_rows[b, C.ROW_CAPACITY]

    # The data plane of this configuration.
    npods = 8
    nact = 1 if on_demand else activators  # a front end that scales per request has one queue
    pf = np.zeros((1, N_PF, npods))
    pi = np.zeros((1, pod_fields(nact), npods), dtype=np.int64)
    p_queue = np.zeros((1, npods, max(10 * cc, 1)), dtype=np.int64)
    order = np.zeros((1, npods), dtype=np.int64)
    n_cf, n_ci = config_fields(nact)
    cf = np.zeros((1, n_cf))
    ci = np.zeros((1, n_ci), dtype=np.int64)
    reset_rows(cf, ci)
    if on_demand:
        ci[0, CI_ON_DEMAND] = 1
    h_end = np.zeros((1, 64))
    h_pod = np.zeros((1, 64), dtype=np.int64)
    h_info = np.zeros((1, 64), dtype=np.int64)
    a_queue = np.zeros((1, nact, 64), dtype=np.int64)
    rng = seed_state.reshape(1, N_RS).copy()
    out = np.zeros((1, N_REPORT))
    cur = np.full(1, start[b], dtype=np.int64)
    stop = np.full(1, end[b], dtype=np.int64)
    n_clients = cl[2].shape[1] - 1
    fin = np.zeros((1, max(n_clients, 1), 3))
    kf1 = np.zeros((1, cl[0].shape[1], cl[0].shape[2]))
    ki1 = np.zeros((1, cl[1].shape[1], cl[1].shape[2]), dtype=np.int64)
    ko1 = np.zeros((1, cl[6].shape[1], cl[6].shape[2]), dtype=np.int64)
    cl1 = (kf1, ki1, cl[2], cl[3], cl[4], cl[5], ko1)
    if n_clients > 0:
        n_req = end[b] - start[b]
        own_arrivals = np.zeros(n_req + n_clients)
        own_durations = np.zeros(n_req + n_clients)
        for k in range(n_req):
            own_arrivals[k] = arrivals[start[b] + k]
            own_durations[k] = durations[start[b] + k]
        arrivals = own_arrivals
        durations = own_durations
        cur[0] = 0
        stop[0] = n_req
        ci[0, CI_ASYNC] = 2
        ci[0, CI_KBASE] = n_req
        start_clients(ci, 0, cl1)
    bq = np.zeros((1, 1), dtype=np.int64)
    att_ready = np.zeros(1)
    rep1 = np.zeros(1, dtype=np.int64)
    chg = np.zeros(1, dtype=np.bool_)

    # Metric windows, decider, reconciler.
    sw_n = pi_p[P.P_STABLE_WINDOW]
    pw_n = pi_p[P.P_PANIC_WINDOW]
    s_slots = np.zeros(sw_n)
    s_meta = np.array([sw_n, NEVER, NEVER], dtype=np.int64)
    s_tot = np.zeros(1)
    p_slots = np.zeros(pw_n)
    p_meta = np.array([pw_n, NEVER, NEVER], dtype=np.int64)
    p_tot = np.zeros(1)
    df = np.empty(N_DF)
    di = np.empty(N_DI, dtype=np.int64)
    width = max(pi_p[P.P_DELAY_SLOTS], 1)
    dw_values = np.full(width, -np.inf)
    dw_index = np.full(width, NEVER, dtype=np.int64)
    new_decider_state(pf_p, pi_p, pi_p[P.P_INITIAL_SCALE], 0, 0.0, df, di)
    rf = np.empty(N_RF)
    ri = np.empty(N_RI, dtype=np.int64)
    new_reconciler_state(pi_p, 0.0, rf, ri)

    # The other policies' state.
    sf = np.zeros(C.N_SF)
    sf[C.S_IDLE_SINCE] = np.nan
    sf[C.S_KEEP] = g[C.G_RANGE]
    si = np.zeros(C.N_SI, dtype=np.int64)
    slots = max(q[C.Q_SLOTS], 1)
    recs = np.zeros(slots, dtype=np.int64)
    times = np.full(slots, -np.inf)
    counts = np.zeros(max(q[C.Q_BINS], 1))
    scratch = np.zeros(counts.size)
    stack = np.zeros((3, 64), dtype=np.int64)  # the work arrays of numpy-order sums
    values = np.zeros(64)
    hlen = q[C.Q_HISTORY] if q[C.Q_SERIES] != C.SERIES_NONE else 0
    ring = np.zeros(hlen)
    recent = np.zeros(hlen)

    # The loop's own state.
    lv = np.zeros(N_L, dtype=np.int64)
    lf = np.zeros(N_F)
    lv[L_DESIRED] = -1 if kpa else 0  # the policy's last decision, as the loop uses it
    lv[L_REPLICAS] = ri[RI_REPLICAS] if kpa else 0  # what the deployment wants
    lv[L_ROUTED_PROXY] = 1  # the mode last sent to the network

    # The activators in the revision's endpoints: as the reconciler sizes them (any other
    # policy: every activator).
    _set_subset(pf, pi, ci, 0, min(ri[RI_ACTIVATORS], nact) if kpa else nact)
    ci[0, CI_NSUB_WANT] = ci[0, CI_NSUB]
    if kpa:  # the deployment starts at the initial scale
        pf, pi, p_queue, order = _room_for_pods(pf, pi, p_queue, order, _pods_needed(ci, lv[L_REPLICAS], np.int64(0)))
        rep1[0] = lv[L_REPLICAS]
        _apply_one(0, 0.0, rep1, pf, pi, cf, ci, rng, ck, cp, ce, cn)
    # Every other policy decides at time 0, before the first second, and is applied at once.
    lv[L_FIRST] = 0 if kpa else 1
    lv[L_NEXT] = cur[0]
    windows = (s_slots, s_meta, s_tot, p_slots, p_meta, p_tot)
    control = (df, di, dw_values, dw_index, rf, ri)
    policy = (sf, si, recs, times, counts, scratch, stack, values, ring, recent)
    while True:
        why, need = _seconds(b, t_end, arrivals, durations, cur, stop, pf_p, pi_p, target, capacity, q, g, table,
                             switch_delay, kpa, metrics, on_demand, skip_idle, n_clients, ccv, tov, swv, scv, pf, pi, p_queue,
                             order, cf, ci, h_end, h_pod, h_info, a_queue, hl, hw, rng, out, ck, cp, ce, cn, rep1,
                             chg, fin, bq, att_ready, cl1, windows, control, policy, lv, lf, pods_total, ts_vals,
                             ts_step)
        if why == DONE:
            break
        # Growth allocates, so it happens here, between calls of the loop that never does.
        if why == NEED_REQUESTS:
            h_end, h_pod, h_info, a_queue = _room_for_requests(h_end, h_pod, h_info, a_queue, ci, need)
        else:
            pf, pi, p_queue, order = _room_for_pods(pf, pi, p_queue, order, need)

    _finish_one(0, float(t_end), pf, pi, cf)  # pods still alive at the end
    out_f[b, O_PANIC_SECONDS] = lf[F_PANIC_SECONDS]
    out_f[b, O_PATH_SECONDS] = lf[F_PATH_SECONDS]
    out_i[b, O_PEAK_PODS] = lv[L_PEAK]
    out_i[b, O_SCALE_EVENTS] = lv[L_SCALE_EVENTS]
    out_i[b, O_FROM_ZERO] = lv[L_FROM_ZERO]
    out_i[b, O_SKIPPED_SECONDS] = lv[L_SKIPPED]
    for f in range(N_CI):  # the configuration's own fields, not the activators'
        ci_out[b, f] = ci[0, f]
    for f in range(N_CF):
        cf_out[b, f] = cf[0, f]
    ko = cl[6]
    for k in range(ko1.shape[1]):
        for f in range(ko1.shape[2]):
            ko[b, k, f] = ko1[0, k, f]


@nb.njit(**JIT)
def _replay_rows(rows, t_end, arrivals, durations, start, end, pfp, pip, stable_window_f, cs_kind, cs_par, cs_emp,
                 cs_emp_n, seed_state, switch_delay, activators, skip_idle, q, g, pol_rows, table, hist_lat,
                 hist_wait, out_f, out_i, ci_out, cf_out, pods_total, ts_vals, ts_step, cl):
    for b in rows:
        replay_row(b, t_end, arrivals, durations, start, end, pfp, pip, stable_window_f, cs_kind, cs_par, cs_emp,
                   cs_emp_n, seed_state, switch_delay, activators, skip_idle, q, g, pol_rows, table, hist_lat,
                   hist_wait, out_f, out_i, ci_out, cf_out, pods_total, ts_vals, ts_step, cl)


class Outcome:
    """What :func:`replay_rows` produced for a batch: the data plane's final counters and the loop's own."""

    def __init__(self, batch: int, t_end: int, points: int) -> None:
        self.hist_lat = np.zeros((batch, HIST_BINS), dtype=np.int64)
        self.hist_wait = np.zeros((batch, HIST_BINS), dtype=np.int64)
        self.out_f = np.zeros((batch, N_OF))
        self.out_i = np.zeros((batch, N_OI), dtype=np.int64)
        self.ci = np.zeros((batch, N_CI), dtype=np.int64)
        self.cf = np.zeros((batch, N_CF))
        self.ts = np.zeros((batch, len(TS_SERIES), points))
        self.pods_total = np.zeros(t_end, dtype=np.int64)

    @property
    def panic_seconds(self) -> np.ndarray:
        return self.out_f[:, O_PANIC_SECONDS]

    @property
    def path_seconds(self) -> np.ndarray:
        return self.out_f[:, O_PATH_SECONDS]

    @property
    def peak_pods(self) -> np.ndarray:
        return self.out_i[:, O_PEAK_PODS]

    @property
    def scale_events(self) -> np.ndarray:
        return self.out_i[:, O_SCALE_EVENTS]

    @property
    def scale_from_zero(self) -> np.ndarray:
        return self.out_i[:, O_FROM_ZERO]

    @property
    def skipped_seconds(self) -> np.ndarray:
        """Seconds each configuration jumped over as idle."""
        return self.out_i[:, O_SKIPPED_SECONDS]


def workers_for(batch: int, parallel: bool | None) -> int:
    """Threads for a batch: one when ``parallel`` is False, else up to numba's thread count (or the cores)."""
    if parallel is False or batch == 1:
        return 1
    return max(1, min(batch, nb.get_num_threads() or os.cpu_count() or 1))


def replay_rows(arrivals, durations, start, end, spec, policy, cold_start, seed_state, switch_delay: float,
                t_end: int, ts_points: int = 0, ts_step: int = 1, parallel: bool | None = None,
                skip_idle: bool = True, activators: int = 1, on_row=None, clients=None) -> Outcome:
    """Replay every configuration of ``spec`` under a compiled ``policy``, each in one compiled call.

    ``start[b]:end[b]`` are the requests of configuration ``b``; ``policy`` a
    :class:`~autoscale.policies.compiled.CompiledPolicy`; ``cold_start`` the arrays of
    :func:`autoscale.engine._cold_start_arrays`. Configurations are handed to a pool of
    threads one at a time, so no thread waits for another until the batch is done.
    ``on_row()``, when given, is called (from the thread that ran it) as each configuration
    finishes; a configuration's result is the same whether it runs alone or with others.
    ``clients`` (:class:`~autoscale.clients.ClientArrays`) adds closed-loop clients to every
    configuration; what they observed is in ``clients.out``.
    """
    b = spec.batch
    pfp, pip = spec.packed()
    cs_kind, cs_par, cs_emp, cs_emp_n = cold_start
    sw = np.asarray(spec.stable_window, dtype=np.float64)
    res = Outcome(b, t_end, ts_points)
    # One compiled signature: writable, contiguous float64 (a trace's arrays are read-only).
    arrivals = np.require(arrivals, dtype=np.float64, requirements=["C", "W"])
    durations = np.require(durations, dtype=np.float64, requirements=["C", "W"])
    start = np.ascontiguousarray(start, dtype=np.int64)
    end = np.ascontiguousarray(end, dtype=np.int64)
    workers = workers_for(b, parallel)
    # The configurations with the most requests first, so the last ones to finish are short.
    order = np.argsort(-(end - start), kind="stable")
    totals = [np.zeros(t_end, dtype=np.int64) for _ in range(workers)]
    seed = np.ascontiguousarray(seed_state, dtype=np.uint64).reshape(N_RS)
    cl = (clients if clients is not None else ClientArrays((), b)).cl()

    def run(rows, pods_total):
        _replay_rows(np.asarray(rows, dtype=np.int64), t_end, arrivals, durations, start, end, pfp, pip, sw, cs_kind,
                     cs_par, cs_emp, cs_emp_n, seed, float(switch_delay), int(activators), bool(skip_idle), policy.q,
                     policy.g, policy.rows, policy.table, res.hist_lat, res.hist_wait, res.out_f, res.out_i, res.ci,
                     res.cf, pods_total, res.ts, int(ts_step), cl)

    if workers == 1 and on_row is None:
        run(order, totals[0])
    elif workers == 1:
        for row in order:
            run([row], totals[0])
            on_row()
    else:
        lock = threading.Lock()
        queue = list(order[::-1])
        errors = []

        def worker(k):
            try:
                while True:
                    with lock:
                        if not queue:
                            return
                        row = queue.pop()
                    run([row], totals[k])
                    if on_row is not None:
                        on_row()
            except BaseException as exc:  # surfaced in the calling thread
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(workers)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        if errors:
            raise errors[0]
    for tot in totals:
        res.pods_total += tot
    return res
