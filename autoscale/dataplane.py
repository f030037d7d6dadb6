"""The data plane, compiled: pods, queue-proxies, the activator and routing, at exact event times.

For every configuration of a batch this advances one second of requests through the
revision: arrivals go to the activator (Proxy mode) or to a random ready pod (Serve
mode); each queue-proxy runs ``CC`` requests and queues ``10 x CC`` more (503 beyond,
no limit when CC = 0); the revision timeout answers 504; the activator queues requests
until a pod has room and balances load the way Knative's throttler does. Events
(arrivals, completions, pods becoming ready, activator timeouts, mode switches) are
handled in time order with their exact times, so per-pod concurrency integrals are
exact. At the end of each second, :func:`report` produces what the autoscaler would
receive: the scraped revision estimate and the activator's stat.

This module is the event loop (:func:`_step_one`, :func:`_second_one`) and the
:class:`DataPlane` that the per-second replay path drives; the components are modules
named after Knative's: :mod:`autoscale.pods` (cold starts, ReplicaSet order, draining),
:mod:`autoscale.queueproxy` (the concurrency limit, its queue, 503 and 504),
:mod:`autoscale.activator` (its queue and load-balancing policies, and the Kubernetes
service in Serve mode) and :mod:`autoscale.scraper` (the reports at each second's end).
The layout of the state arrays is in :mod:`autoscale._state`: a handful of arrays whose
leading axis is the configuration, each function touching only its own rows, so a
configuration's result does not depend on the batch around it.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ._numba import LEAF
from ._state import (
    _INLINE, _JIT, AF_CREATED, AI_ARR, AI_ENTRY, AI_HEAD, AI_LEN, AI_PUSHED, CF_BGAP, CF_BNEXT, CF_BUSY_SECONDS,
    CF_FLOOR_TIME, CF_KEEP_ALIVE, CF_LAT_MAX, CF_NEXT_READY, CF_PUSH_TIME, CF_SERVE_DELAY, CF_SW_TIME,
    CI_503, CI_504, CI_ACAP, CI_ACONC, CI_AENTRY, CI_ALEN, CI_APUSHED, CI_AREJ, CI_ASYNC, CI_BCONC, CI_BHEAD, CI_BINF,
    CI_BLEN, CI_KBASE, CI_COLD, CI_DONE, CI_FLOOR, CI_HSIZE, CI_INPATH, CI_INSYS, CI_NACT, CI_NDRAIN, CI_NFIN, CI_NPUSH,
    CI_NREADY, CI_NSTART, CI_NSUB, CI_NSUB_WANT, CI_ON_DEMAND, CI_PHIGH, CI_SWTO, CI_TOTAL, DRAINING, HIST_BINS, INF,
    N_REPORT, N_RS, N_PF, PF_IDLE_SINCE, PF_READY_AT, PI_ACT, PI_ARR, PI_EXEC, PI_PARR, PI_QHEAD, PI_QLEN, PI_STATE,
    READY, STARTING, _act_conc, _ended, _exec_conc, _heap_pop, _pod_conc, act_f, act_i, config_fields, hist_bin,
    pod_fields, reset_rows,
)
from .activator import (
    _assign, _choose_activator, _dequeue, _dispatch, _dispatch_all, _enqueue, _oldest_deadline, _pick_ready,
    _set_subset,
)
from .clients import ClientArrays, answered, next_send, send, start_clients
from .pods import _apply_one, _finish_one, _idle_from, _new_pod, _next_ready, _retire_idle, _terminate
from .queueproxy import _admit, _pop_pod_queue
from .scraper import _report_one

__all__ = ["DataPlane"]


@nb.njit(**_INLINE)
def _arrive(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, a_queue, hist_wait, fin, rng,
            cs_kind, cs_par, cs_emp, cs_emp_n, b, t, req, cc, timeout):
    """Request ``req`` reaches the revision at time t: a random ready pod, or one of the activators."""
    ci[b, CI_TOTAL] += 1
    ci[b, CI_INSYS] += 1
    on_demand = ci[b, CI_ON_DEMAND] == 1
    if on_demand:
        _retire_idle(pf, pi, cf, ci, b, t)
    elif ci[b, CI_NREADY] == 0:
        ci[b, CI_COLD] += 1
    p = -1
    if ci[b, CI_INPATH] == 0:
        p = _pick_ready(pi, ci, rng, b)
    if p >= 0:
        _admit(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, hist_wait, fin,
               b, p, t, req, 0, cc, timeout)
        return
    if ci[b, CI_ACAP] >= 0 and ci[b, CI_ACONC] >= ci[b, CI_ACAP]:
        # The activator pool's share for this revision is full.
        ci[b, CI_503] += 1
        ci[b, CI_AREJ] += 1
        ci[b, CI_INSYS] -= 1
        _ended(fin, ci, b, req, 1, t)
        return
    # Into an activator: the first request with no live stats entry is pushed to the
    # autoscaler at once (and may poke it).
    a = _choose_activator(ci, rng, b)
    ia = act_i(a)
    if ci[b, ia + AI_ENTRY] == 0:
        ci[b, ia + AI_ENTRY] = 1
        ci[b, ia + AI_PUSHED] = 1
        ci[b, CI_AENTRY] += 1
        ci[b, CI_APUSHED] += 1
        if ci[b, CI_NPUSH] == 0:
            cf[b, CF_PUSH_TIME] = t
        ci[b, CI_NPUSH] += 1
        cf[b, act_f(a) + AF_CREATED] = t
    _act_conc(cf, ci, b, a, t, 1)
    ci[b, ia + AI_ARR] += 1
    _enqueue(a_queue, ci, b, a, req)
    _dispatch(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, a_queue,
              hist_wait, fin, rng, b, t, cc, timeout, a)
    if on_demand and ci[b, CI_ALEN] > 0:
        # Scale per request: the request found no instance with room, so it waits for
        # an instance of its own (a cold start).
        ci[b, CI_COLD] += 1
        if cc == 0:
            # Unlimited concurrency: the first instance to start takes every waiting request.
            if ci[b, CI_NSTART] == 0:
                p = _new_pod(b, t, pf, pi, ci, rng, cs_kind, cs_par, cs_emp, cs_emp_n)
                cf[b, CF_NEXT_READY] = min(cf[b, CF_NEXT_READY], pf[b, PF_READY_AT, p])
            return
        # Bound to a starting instance that has a free slot, or to a new one: it leaves
        # the activator's queue (it is the last there) for that instance's queue. (A front
        # end that scales per request has one activator.)
        ci[b, CI_ALEN] -= 1
        ci[b, act_i(0) + AI_LEN] -= 1
        p = -1
        for q in range(ci[b, CI_PHIGH]):
            if pi[b, PI_STATE, q] == STARTING and pi[b, PI_QLEN, q] < cc:
                p = q
                break
        if p < 0:
            p = _new_pod(b, t, pf, pi, ci, rng, cs_kind, cs_par, cs_emp, cs_emp_n)
            cf[b, CF_NEXT_READY] = min(cf[b, CF_NEXT_READY], pf[b, PF_READY_AT, p])
        pi[b, PI_ACT, p] += 1
        pi[b, PI_ARR, p] += 1
        pi[b, PI_PARR, p] += 1
        _pod_conc(pf, pi, b, p, t, 1, 1)
        qcap = 10 * cc
        p_queue[b, p, (pi[b, PI_QHEAD, p] + pi[b, PI_QLEN, p]) % qcap] = req * 64 + 1
        pi[b, PI_QLEN, p] += 1


@nb.njit(**_INLINE)
def _next_dispatch(cf, ci, bq, att_ready, b):
    """When the asynchronous dispatcher sends the head of the backlog next (INF: not now)."""
    if ci[b, CI_BLEN] == 0:
        return INF
    if ci[b, CI_BCONC] > 0 and ci[b, CI_BINF] >= ci[b, CI_BCONC]:
        return INF
    return max(att_ready[bq[b, ci[b, CI_BHEAD]]], cf[b, CF_BNEXT])


@nb.njit(**LEAF)
def _step_one(b, t0, t1, cur, end, arrivals, durations, cc_arr, timeout_arr,
              pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, a_queue, hist_lat, hist_wait, rng,
              cs_kind, cs_par, cs_emp, cs_emp_n, fin, bq, att_ready, cl):
    cc = cc_arr[b]
    timeout = timeout_arr[b]
    bcap = bq.shape[1]
    ptr = cur[b]
    i1 = end[b]
    clients = ci[b, CI_ASYNC] == 2
    if clients and ci[b, CI_NFIN] > 0:  # answers given at the last second's end
        answered(arrivals, rng, ci, fin, b, t0, cl)
    kf = cl[0]
    while True:
        ta = arrivals[ptr] if ptr < i1 else INF
        tk = next_send(kf, ci, b) if clients else INF
        tb = _next_dispatch(cf, ci, bq, att_ready, b)
        tc = h_end[b, 0] if ci[b, CI_HSIZE] > 0 else INF
        tr = cf[b, CF_NEXT_READY]
        ta_act, tt = _oldest_deadline(arrivals, a_queue, ci, b, timeout)
        ts = cf[b, CF_SW_TIME]
        # A pod created by a poke, or a switch it scheduled, may fall inside the second
        # already simulated; it takes effect now, never in the past.
        if tr < t0:
            tr = t0
        if ts < t0:
            ts = t0
        if tb < t0:
            tb = t0
        t = ta  # the earliest of them (none is NaN)
        if tb < t:
            t = tb
        if tc < t:
            t = tc
        if tr < t:
            t = tr
        if tt < t:
            t = tt
        if ts < t:
            t = ts
        if tk < t:
            t = tk
        if t >= t1:
            break
        arrive = False
        req = 0
        if tc == t:
            # A request finishes (or hits the revision timeout while executing).
            p = h_pod[b, 0]
            info = h_info[b, 0]
            _heap_pop(h_end, h_pod, h_info, ci, b)
            req = info >> 7
            va = (info >> 1) & 63
            via = 1 if va > 0 else 0
            timed_out = info & 1
            _pod_conc(pf, pi, b, p, t, -1, -via)
            pi[b, PI_EXEC, p] -= 1
            _exec_conc(cf, ci, b, t, -1)
            if pi[b, PI_EXEC, p] == 0:
                pf[b, PF_IDLE_SINCE, p] = t
                _idle_from(cf, b, t)
            ci[b, CI_INSYS] -= 1
            if timed_out:
                ci[b, CI_504] += 1
                _ended(fin, ci, b, req, 2, t)
            else:
                ci[b, CI_DONE] += 1
                lat = t - arrivals[req]
                hist_lat[b, hist_bin(lat)] += 1
                if lat > cf[b, CF_LAT_MAX]:
                    cf[b, CF_LAT_MAX] = lat
                cf[b, CF_BUSY_SECONDS] += durations[req]
                _ended(fin, ci, b, req, 0, t)
            if via:
                pi[b, PI_ACT + va - 1, p] -= 1
                _act_conc(cf, ci, b, va - 1, t, -1)
            if pi[b, PI_QLEN, p] > 0:
                _pop_pod_queue(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue,
                               hist_wait, fin, b, p, t, cc, timeout)
            if pi[b, PI_STATE, p] == DRAINING and pi[b, PI_EXEC, p] == 0 and pi[b, PI_QLEN, p] == 0:
                _terminate(pf, pi, cf, ci, b, p, t)
            if ci[b, CI_ALEN] > 0:
                _dispatch_all(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, a_queue,
                              hist_wait, fin, rng, b, t, cc, timeout)
        elif tr == t:
            # Pods become ready (and the activator's probe finds them).
            for p in range(ci[b, CI_PHIGH]):
                if pi[b, PI_STATE, p] == STARTING and pf[b, PF_READY_AT, p] <= t:
                    pi[b, PI_STATE, p] = READY
                    _idle_from(cf, b, pf[b, PF_READY_AT, p])  # no sooner than it became ready
                    ci[b, CI_NSTART] -= 1
                    ci[b, CI_NREADY] += 1
                    # Requests bound to it while it started (scale per request) start now.
                    while pi[b, PI_QLEN, p] > 0 and pi[b, PI_EXEC, p] < cc:
                        _pop_pod_queue(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue,
                                       hist_wait, fin, b, p, t, cc, timeout)
            cf[b, CF_NEXT_READY] = _next_ready(pf, pi, ci, b)
            _assign(pf, pi, ci, b)
            if ci[b, CI_NREADY] > 0 and not np.isnan(cf[b, CF_SERVE_DELAY]):
                # The first ready endpoint lets the SKS go to Serve, as its mode asks.
                cf[b, CF_SW_TIME] = t + cf[b, CF_SERVE_DELAY]
                ci[b, CI_SWTO] = 0
                cf[b, CF_SERVE_DELAY] = np.nan
            if ci[b, CI_ALEN] > 0:
                _dispatch_all(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, a_queue,
                              hist_wait, fin, rng, b, t, cc, timeout)
        elif ts == t:
            ci[b, CI_INPATH] = ci[b, CI_SWTO]
            cf[b, CF_SW_TIME] = INF
        elif tt == t:
            # The oldest request waiting in an activator reaches the revision timeout.
            req = _dequeue(a_queue, ci, b, ta_act)
            ci[b, CI_504] += 1
            ci[b, CI_INSYS] -= 1
            _act_conc(cf, ci, b, ta_act, t, -1)
            _ended(fin, ci, b, req, 2, t)
        elif tb == t:
            # The asynchronous dispatcher sends the next attempt of its backlog.
            req = bq[b, ci[b, CI_BHEAD]]
            ci[b, CI_BHEAD] = (ci[b, CI_BHEAD] + 1) % bcap
            ci[b, CI_BLEN] -= 1
            ci[b, CI_BINF] += 1
            cf[b, CF_BNEXT] = t + cf[b, CF_BGAP]
            arrivals[req] = t
            arrive = True
        elif tk == t and ta > t:
            # A closed-loop client's request reaches the ingress (a trace's arrival at the same time goes first).
            req = send(arrivals, durations, rng, ci, b, t, cl)
            arrive = True
        else:
            req = ptr
            ptr += 1
            arrive = True
        if arrive:  # one call site: the arrival's code is inlined once
            _arrive(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, a_queue, hist_wait,
                    fin, rng, cs_kind, cs_par, cs_emp, cs_emp_n, b, t, req, cc, timeout)
        if clients and ci[b, CI_NFIN] > 0:
            answered(arrivals, rng, ci, fin, b, t, cl)
    cur[b] = ptr


@nb.njit(**_INLINE)
def _second_in(b, t0, t1, cur, end, arrivals, durations, limits, pf, pi, cf, ci, heap, queues, hists, rng, out,
               order, cold, replicas, changed, fin, bq, att_ready, cl):
    """One second of configuration ``b``: pending replica changes at t0, events, reports at t1.

    Its arguments come grouped in tuples (the per-configuration limits, the completion
    heap, the queues, the histograms, the cold-start law), so that a call to it stays
    under the 30 arguments beyond which Python passes them as ``*args``, which numba
    cannot inline; inlined, the tuples cost nothing.
    """
    cc, timeout, stable_window, scrape = limits
    h_end, h_pod, h_info = heap
    p_queue, a_queue = queues
    hist_lat, hist_wait = hists
    cs_kind, cs_par, cs_emp, cs_emp_n = cold
    cf[b, CF_PUSH_TIME] = np.nan
    ci[b, CI_NPUSH] = 0
    if changed[b]:
        _apply_one(b, t0, replicas, pf, pi, cf, ci, rng, cs_kind, cs_par, cs_emp, cs_emp_n)
    if ci[b, CI_NSUB_WANT] != ci[b, CI_NSUB]:
        # The SKS puts the activators the reconciler asked for in the revision's endpoints.
        _set_subset(pf, pi, ci, b, ci[b, CI_NSUB_WANT])
        if ci[b, CI_ALEN] > 0:
            _dispatch_all(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, a_queue,
                          hist_wait, fin, rng, b, t0, cc[b], timeout[b])
    _step_one(b, t0, t1, cur, end, arrivals, durations, cc, timeout, pf, pi, cf, ci, h_end, h_pod,
              h_info, p_queue, a_queue, hist_lat, hist_wait, rng, cs_kind, cs_par, cs_emp, cs_emp_n, fin, bq, att_ready,
              cl)
    _report_one(b, t1, arrivals, cc, timeout, stable_window, scrape, pf, pi, cf, ci, p_queue, rng, out, order, fin)


@nb.njit(**LEAF)
def _second_one(b, t0, t1, cur, end, arrivals, durations, cc, timeout, stable_window, scrape, pf, pi, cf, ci,
                h_end, h_pod, h_info, p_queue, a_queue, hist_lat, hist_wait, rng, out, order,
                cs_kind, cs_par, cs_emp, cs_emp_n, replicas, changed, fin, bq, att_ready, cl):
    """:func:`_second_in` with its arguments one by one (the per-second path's call)."""
    _second_in(b, t0, t1, cur, end, arrivals, durations, (cc, timeout, stable_window, scrape), pf, pi, cf, ci,
               (h_end, h_pod, h_info), (p_queue, a_queue), (hist_lat, hist_wait), rng, out, order,
               (cs_kind, cs_par, cs_emp, cs_emp_n), replicas, changed, fin, bq, att_ready, cl)


@nb.njit(parallel=True, nogil=True, cache=True)
def _second_parallel(t0, t1, cur, end, arrivals, durations, cc, timeout, stable_window, scrape, pf, pi, cf, ci,
                     h_end, h_pod, h_info, p_queue, a_queue, hist_lat, hist_wait, rng, out, order,
                     cs_kind, cs_par, cs_emp, cs_emp_n, replicas, changed, fin, bq, att_ready, cl):
    """One second for every configuration: pending replica changes at t0, events, reports at t1.

    Fused into one parallel call so the threads meet once a second.
    """
    for b in nb.prange(ci.shape[0]):
        _second_one(b, t0, t1, cur, end, arrivals, durations, cc, timeout, stable_window, scrape, pf, pi, cf, ci,
                    h_end, h_pod, h_info, p_queue, a_queue, hist_lat, hist_wait, rng, out, order,
                    cs_kind, cs_par, cs_emp, cs_emp_n, replicas, changed, fin, bq, att_ready, cl)


@nb.njit(**_JIT)
def _second_serial(t0, t1, cur, end, arrivals, durations, cc, timeout, stable_window, scrape, pf, pi, cf, ci,
                   h_end, h_pod, h_info, p_queue, a_queue, hist_lat, hist_wait, rng, out, order,
                   cs_kind, cs_par, cs_emp, cs_emp_n, replicas, changed, fin, bq, att_ready, cl):
    """The same on one thread: for small batches a thread barrier each second costs more than it saves."""
    for b in range(ci.shape[0]):
        _second_one(b, t0, t1, cur, end, arrivals, durations, cc, timeout, stable_window, scrape, pf, pi, cf, ci,
                    h_end, h_pod, h_info, p_queue, a_queue, hist_lat, hist_wait, rng, out, order,
                    cs_kind, cs_par, cs_emp, cs_emp_n, replicas, changed, fin, bq, att_ready, cl)


@nb.njit(**_JIT)
def _advance(arrivals, nxt, end, t1):
    """Move each configuration's pointer ``nxt`` past its arrivals before t1; returns the most moved."""
    most = 0
    for b in range(nxt.shape[0]):
        k = nxt[b]
        while k < end[b] and arrivals[k] < t1:
            k += 1
        if k - nxt[b] > most:
            most = k - nxt[b]
        nxt[b] = k
    return most


#: Batches smaller than this run on one thread.
PARALLEL_MIN_BATCH = 16


@nb.njit(parallel=True, nogil=True, cache=True)
def _apply_replicas(now, replicas, pf, pi, cf, ci, rng, cs_kind, cs_par, cs_emp, cs_emp_n, changed):
    """Create or remove pods of the configurations in ``changed``, at their own times ``now``."""
    for b in nb.prange(ci.shape[0]):
        if changed[b]:
            _apply_one(b, now[b], replicas, pf, pi, cf, ci, rng, cs_kind, cs_par, cs_emp, cs_emp_n)


@nb.njit(parallel=True, nogil=True, cache=True)
def _finish(t_end, pf, pi, cf, ci):
    """Account pod-seconds and idle time of the pods still alive at the end of the replay."""
    for b in nb.prange(ci.shape[0]):
        _finish_one(b, t_end, pf, pi, cf)


class DataPlane:
    """The compiled data plane of a batch, with its state arrays and growth.

    Parameters
    ----------
    arrivals, durations : float64 arrays
        The requests. By default every configuration replays all of them (one trace
        shared by the batch).
    container_concurrency, timeout : arrays of shape (B,)
    cold_start : tuple of arrays (kind, params, empirical samples, sample counts)
    seed_state : int array of length ``N_RS``
        Starting state of every configuration's random streams, one per purpose
        (:func:`autoscale.rng.seed_states`).
    segments : pair of int arrays (start, end), optional
        Configuration ``b`` replays requests ``start[b]:end[b]`` only (sorted by arrival):
        several services or revisions, each its own trace, in one batch.
    activators : int
        Activators in the cluster (:attr:`autoscale.Platform.activators`); all of them are in
        the revision's endpoints until :meth:`set_activator_subset` says otherwise.
    clients : autoscale.clients.ClientArrays, optional
        Closed-loop clients of every configuration, besides (or instead of) the requests;
        each configuration's clients have request ids of their own after the requests.
    """

    def __init__(self, arrivals, durations, container_concurrency, timeout, cold_start, seed_state,
                 stable_window, scrape, pods=8, heap=64, activator_queue=64, parallel=None, segments=None,
                 activators=1, clients=None):
        n_clients = 0 if clients is None else clients.n
        b = np.asarray(container_concurrency).size
        arrivals = np.ascontiguousarray(arrivals, dtype=np.float64)
        durations = np.ascontiguousarray(durations, dtype=np.float64)
        self.arrivals = np.concatenate([arrivals, np.zeros(b * n_clients)])
        # Writable (the clients' requests get their service times here): a copy, as the arrivals are.
        self.durations = np.concatenate([durations, np.zeros(b * n_clients)])
        self.n_requests = arrivals.size
        self.cc = np.asarray(container_concurrency, dtype=np.int64)
        self.timeout = np.asarray(timeout, dtype=np.float64)
        self.stable_window = np.asarray(stable_window, dtype=np.float64)
        self.scrape = np.asarray(scrape, dtype=np.bool_)
        self.cs_kind, self.cs_par, self.cs_emp, self.cs_emp_n = cold_start
        b = self.cc.size
        self.batch = b
        self.qcap = int(10 * self.cc.max())
        self.activators = k = int(activators)
        self.pf = np.zeros((b, N_PF, pods))
        self.pi = np.zeros((b, pod_fields(k), pods), dtype=np.int64)
        self.p_queue = np.zeros((b, pods, max(self.qcap, 1)), dtype=np.int64)  # request * 64 + activator + 1
        n_cf, n_ci = config_fields(k)
        self.cf = np.zeros((b, n_cf))
        self.ci = np.zeros((b, n_ci), dtype=np.int64)
        reset_rows(self.cf, self.ci)
        self.h_end = np.zeros((b, heap))
        self.h_pod = np.zeros((b, heap), dtype=np.int64)
        self.h_info = np.zeros((b, heap), dtype=np.int64)
        self.a_queue = np.zeros((b, k, activator_queue), dtype=np.int64)
        self.hist_lat = np.zeros((b, HIST_BINS), dtype=np.int64)
        self.hist_wait = np.zeros((b, HIST_BINS), dtype=np.int64)
        self.rng = np.tile(np.asarray(seed_state, dtype=np.uint64).reshape(1, N_RS), (b, 1))
        self.out = np.zeros((b, N_REPORT))
        self.order = np.zeros((b, pods), dtype=np.int64)
        self._pending = None
        auto = b >= PARALLEL_MIN_BATCH and nb.get_num_threads() > 1
        self.parallel = auto if parallel is None else bool(parallel)
        self._no_replicas = np.zeros(b, dtype=np.int64)
        self._on_demand = False
        if segments is None:
            start, end = np.zeros(b, dtype=np.int64), np.full(b, arrivals.size, dtype=np.int64)
        else:
            start, end = (np.asarray(x, dtype=np.int64).copy() for x in segments)
        self.cur, self.end, self.nxt = start, end, start.copy()
        # Asynchronous invocation: backlog rings, ready times per attempt, finish buffer.
        self.bq = np.zeros((b, 8), dtype=np.int64)
        self.att_ready = np.zeros(max(self.arrivals.size, 1))
        self.fin = np.zeros((b, max(64, n_clients), 3))
        self._async = False
        self._recording = False
        self._no_change = np.zeros(b, dtype=np.bool_)
        self.n_clients = n_clients
        self.clients = clients if clients is not None else ClientArrays((), b)
        self._cl = self.clients.cl()
        if n_clients:
            self.ci[:, CI_ASYNC] = 2
            self.ci[:, CI_KBASE] = arrivals.size + n_clients * np.arange(b)
            for row in range(b):
                start_clients(self.ci, row, self._cl)

    # -- capacity ----------------------------------------------------------------------

    def _make_room(self, replicas: np.ndarray, arrivals: int = 0) -> None:
        """Grow the pod slots for ``replicas`` live pods beside the ones still draining, and
        for one new pod per arrival where pods are created per request."""
        live = np.maximum(replicas, self.ci[:, CI_NSTART] + self.ci[:, CI_NREADY])
        need = live + self.ci[:, CI_NDRAIN] + arrivals * self.ci[:, CI_ON_DEMAND]
        self._grow_pods(int(need.max()))

    def _grow_pods(self, need: int) -> None:
        cap = self.pi.shape[2]
        if need <= cap:
            return
        new = max(need, 2 * cap)
        b = self.batch
        pf = np.zeros((b, N_PF, new))
        pf[:, :, :cap] = self.pf
        pi = np.zeros((b, self.pi.shape[1], new), dtype=np.int64)
        pi[:, :, :cap] = self.pi
        q = np.zeros((b, new, self.p_queue.shape[2]), dtype=np.int64)
        q[:, :cap] = self.p_queue
        self.pf, self.pi, self.p_queue = pf, pi, q
        self.order = np.zeros((b, new), dtype=np.int64)

    def ensure_capacity(self, arrivals_next: int) -> None:
        """Make room for every request in the system plus the next second's arrivals."""
        need = int(self.ci[:, CI_INSYS].max()) + arrivals_next + 1
        cap = self.h_end.shape[1]
        if need > cap:
            new = max(need, 2 * cap)
            for name in ("h_end", "h_pod", "h_info"):
                old = getattr(self, name)
                arr = np.zeros((self.batch, new), dtype=old.dtype)
                arr[:, :cap] = old
                setattr(self, name, arr)
        acap = self.a_queue.shape[2]
        if need > acap:
            new = max(need, 2 * acap)
            arr = np.zeros((self.batch, self.activators, new), dtype=np.int64)
            for a in range(self.activators):
                head = self.ci[:, act_i(a) + AI_HEAD]
                ln = self.ci[:, act_i(a) + AI_LEN]
                for b in np.flatnonzero(ln):
                    idx = (head[b] + np.arange(ln[b])) % acap
                    arr[b, a, : ln[b]] = self.a_queue[b, a, idx]
                self.ci[:, act_i(a) + AI_HEAD] = 0
            self.a_queue = arr

    # -- one second ------------------------------------------------------------------------

    def second(self, t0: float, t1: float) -> np.ndarray:
        """Apply pending replica changes at t0, run the events of [t0, t1), report at t1.

        Returns the reports of t1, one row per configuration (see ``_report_one``).
        """
        incoming = int(_advance(self.arrivals, self.nxt, self.end, t1)) + self.n_clients
        need = 0  # rows of the finish buffer this second may fill (recording and asynchronous invocation)
        if self._recording:
            # Each request in the system or arriving may start and end within the second: two entries each.
            need = 2 * (int(self.ci[:, CI_INSYS].max()) + incoming) + 1
        if self._async:
            incoming += int(self.ci[:, CI_BLEN].max())
            need = max(need, int((self.ci[:, CI_INSYS] + self.ci[:, CI_BLEN]).max()) + incoming + 1)
        if need:
            if need > self.fin.shape[1]:
                self.fin = np.zeros((self.batch, max(need, 2 * self.fin.shape[1]), 3))
            self.ci[:, CI_NFIN] = 0
        self.ensure_capacity(incoming)
        pending = self._pending
        if pending is None:
            replicas, changed = self._no_replicas, self._no_change
        else:
            replicas, changed = pending
            self._pending = None
        if pending is not None or self._on_demand:
            self._make_room(replicas, incoming)
        kernel = _second_parallel if self.parallel else _second_serial
        kernel(t0, t1, self.cur, self.end, self.arrivals, self.durations, self.cc, self.timeout, self.stable_window,
               self.scrape, self.pf, self.pi, self.cf, self.ci, self.h_end, self.h_pod, self.h_info,
               self.p_queue, self.a_queue, self.hist_lat, self.hist_wait, self.rng, self.out, self.order,
               self.cs_kind, self.cs_par, self.cs_emp, self.cs_emp_n, replicas, changed, self.fin, self.bq,
               self.att_ready, self._cl)
        return self.out

    # -- asynchronous invocation ------------------------------------------------------------

    def set_async(self, concurrency: np.ndarray, rate: np.ndarray) -> None:
        """Feed every configuration from its dispatcher backlog: at most ``concurrency``
        attempts in flight (0: no limit) and ``rate`` dispatches a second (``inf``: no limit)."""
        self.ci[:, CI_ASYNC] = 1
        self.ci[:, CI_BCONC] = np.asarray(concurrency, dtype=np.int64)
        rate = np.asarray(rate, dtype=np.float64)
        self.cf[:, CF_BGAP] = np.where(np.isinf(rate), 0.0, 1.0 / rate)
        self.cur[:] = 0
        self.end[:] = 0
        self.nxt[:] = 0
        # The request table now holds attempts, added as the dispatcher queues them.
        self.arrivals, self.durations, self.att_ready = np.zeros(64), np.zeros(64), np.zeros(64)
        self.n_requests = 0
        self._free = np.zeros(0, dtype=np.int64)
        self._async = True

    def set_recording(self) -> None:
        """Write every request's start and end to the finish buffer each second (see :meth:`finished`)."""
        if self._async or self.n_clients:
            raise ValueError("recording needs a data plane without asynchronous invocation or closed-loop clients")
        self.ci[:, CI_ASYNC] = 3
        self._recording = True

    def add_attempts(self, durations: np.ndarray, ready: np.ndarray) -> np.ndarray:
        """New attempts with their service durations and the times they may be dispatched; returns their ids.

        Ids that :meth:`release` gave back are used first, so the table of attempts holds at
        most the attempts queued or in flight at once (ids only name entries: no result
        depends on them)."""
        n = len(durations)
        reused = min(n, self._free.size)
        recycled = self._free[self._free.size - reused:]
        self._free = self._free[: self._free.size - reused]
        first = self.n_requests
        fresh = n - reused
        if first + fresh > self.arrivals.size:
            cap = max(first + fresh, 2 * self.arrivals.size, 64)
            for name in ("arrivals", "durations", "att_ready"):
                old = getattr(self, name)
                arr = np.zeros(cap)
                arr[: old.size] = old
                setattr(self, name, arr)
        ids = np.concatenate([recycled, np.arange(first, first + fresh, dtype=np.int64)])
        self.arrivals[ids] = ready
        self.durations[ids] = durations
        self.att_ready[ids] = ready
        self.n_requests = first + fresh
        return ids

    def release(self, ids: np.ndarray) -> None:
        """Attempts that ended and have been accounted: their ids may name new attempts."""
        self._free = np.concatenate([self._free, np.asarray(ids, dtype=np.int64)])

    @property
    def attempt_slots(self) -> int:
        """Entries of the attempt table: the most attempts queued or in flight at once, over the whole batch."""
        return int(self.n_requests)

    def enqueue(self, row: int, ids: np.ndarray) -> None:
        """Append attempts (in order of their ready times, after those queued) to a configuration's backlog."""
        n = len(ids)
        if not n:
            return
        head, ln = int(self.ci[row, CI_BHEAD]), int(self.ci[row, CI_BLEN])
        cap = self.bq.shape[1]
        if ln + n > cap:
            new = max(ln + n, 2 * cap)
            bq = np.zeros((self.batch, new), dtype=np.int64)
            for b in range(self.batch):
                h, m = int(self.ci[b, CI_BHEAD]), int(self.ci[b, CI_BLEN])
                bq[b, :m] = self.bq[b, (h + np.arange(m)) % cap]
            self.bq = bq
            self.ci[:, CI_BHEAD] = 0
            head, cap = 0, new
        self.bq[row, (head + ln + np.arange(n)) % cap] = ids
        self.ci[row, CI_BLEN] = ln + n

    def finished(self, row: int) -> np.ndarray:
        """Attempts (or, when recording, requests) of a configuration that ended during the last second: rows of
        (id, code, time), code 0 done, 1 503, 2 504; when recording also 3 for a request that started then."""
        return self.fin[row, : self.ci[row, CI_NFIN]].copy()

    @property
    def backlog(self) -> np.ndarray:
        """Attempts waiting in each configuration's dispatcher backlog."""
        return self.ci[:, CI_BLEN].copy()

    def set_activator_share(self, cap: np.ndarray) -> None:
        """Requests the activator may hold per configuration (-1: no limit); beyond, arrivals get 503."""
        self.ci[:, CI_ACAP] = np.asarray(cap, dtype=np.int64)

    @property
    def activator_held(self) -> np.ndarray:
        """Requests the activator holds now (queued or proxied), per configuration."""
        return self.ci[:, CI_ACONC].copy()

    def apply_replicas(self, now, replicas: np.ndarray, changed: np.ndarray) -> None:
        """Create or remove pods now (``now`` per configuration, seconds)."""
        replicas = np.asarray(replicas, dtype=np.int64)
        changed = np.asarray(changed, dtype=np.bool_)
        self._make_room(replicas)
        now = np.ascontiguousarray(np.broadcast_to(np.asarray(now, dtype=np.float64), (self.batch,)))
        _apply_replicas(now, replicas, self.pf, self.pi, self.cf, self.ci,
                        self.rng, self.cs_kind, self.cs_par, self.cs_emp, self.cs_emp_n, changed)

    def schedule_replicas(self, replicas: np.ndarray, changed: np.ndarray) -> None:
        """Create or remove pods at the start of the next :meth:`second`."""
        if self._pending is not None:
            raise RuntimeError("replica changes already scheduled for the next second")
        self._pending = (np.asarray(replicas, dtype=np.int64).copy(), np.asarray(changed, dtype=np.bool_).copy())

    def set_mode(self, at, in_path: np.ndarray, mask: np.ndarray) -> None:
        """Schedule the network to route through the activator (or not) from time ``at`` (scalar or per row)."""
        self.cf[mask, CF_SW_TIME] = np.broadcast_to(at, mask.shape)[mask]
        self.ci[mask, CI_SWTO] = in_path[mask].astype(np.int64)

    def set_serve_on_ready(self, delay: float, wish: np.ndarray) -> None:
        """Rows in ``wish`` want Serve but have no ready pod: the first pod to become ready sends the switch.

        The switch reaches the network ``delay`` seconds after that pod is ready; other rows
        drop any such wish. :attr:`serve_wished` tells which rows still wait.
        """
        self.cf[:, CF_SERVE_DELAY] = np.where(np.asarray(wish, dtype=np.bool_), float(delay), np.nan)

    @property
    def serve_wished(self) -> np.ndarray:
        """Rows whose switch to Serve waits for their first ready pod (see :meth:`set_serve_on_ready`)."""
        return ~np.isnan(self.cf[:, CF_SERVE_DELAY])

    def set_on_demand(self, on: np.ndarray) -> None:
        """Create a pod for each arrival that finds no room and no starting pod to wait for.

        Such a front end (a FaaS platform's) has one queue: those rows use one activator."""
        on = np.asarray(on, dtype=np.bool_)
        self.ci[:, CI_ON_DEMAND] = on
        for f in (CI_NACT, CI_NSUB, CI_NSUB_WANT):
            self.ci[on, f] = 1
        self._on_demand = bool(on.any())

    def set_activator_subset(self, n: np.ndarray, mask: np.ndarray) -> None:
        """The revision's public endpoints hold ``n`` activators (at most the cluster's), from the next second."""
        n = np.minimum(np.asarray(n, dtype=np.int64), self.ci[:, CI_NACT])
        self.ci[mask, CI_NSUB_WANT] = n[mask]

    def set_keep_alive(self, seconds: np.ndarray, mask: np.ndarray) -> None:
        """Retire ready pods idle for ``seconds`` (``inf``: never), per configuration."""
        seconds = np.broadcast_to(np.asarray(seconds, dtype=np.float64), mask.shape)
        self.cf[mask, CF_KEEP_ALIVE] = seconds[mask]

    def set_floor(self, now: float, floor: np.ndarray, mask: np.ndarray) -> None:
        """Keep at least ``floor`` pods through idle retirement, from time ``now``."""
        floor = np.asarray(floor, dtype=np.int64)
        changed = mask & (self.ci[:, CI_FLOOR] != floor)
        self.ci[changed, CI_FLOOR] = floor[changed]
        self.cf[changed, CF_FLOOR_TIME] = now

    def finish(self, t_end: float) -> None:
        _finish(t_end, self.pf, self.pi, self.cf, self.ci)

    # -- views -----------------------------------------------------------------------------

    @property
    def ready(self) -> np.ndarray:
        return self.ci[:, CI_NREADY].copy()

    @property
    def starting(self) -> np.ndarray:
        return self.ci[:, CI_NSTART].copy()

    @property
    def draining(self) -> np.ndarray:
        return self.ci[:, CI_NDRAIN].copy()

    @property
    def in_path(self) -> np.ndarray:
        return self.ci[:, CI_INPATH].astype(bool)

    @property
    def in_system(self) -> np.ndarray:
        """Requests in the system (queued or executing) now."""
        return self.ci[:, CI_INSYS].copy()

    @property
    def arrived(self) -> np.ndarray:
        """Requests that have arrived so far."""
        return self.ci[:, CI_TOTAL].copy()

    @property
    def push_time(self) -> np.ndarray:
        """When the first activator push of the last second happened, per configuration (NaN: none)."""
        return self.cf[:, CF_PUSH_TIME].copy()

    @property
    def push_count(self) -> np.ndarray:
        """Activators that pushed a first request to the autoscaler in the last second."""
        return self.ci[:, CI_NPUSH].copy()
