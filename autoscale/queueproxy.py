"""The queue-proxy of each pod: containerConcurrency requests executing, 10 x CC queued, 503 beyond, 504 at the timeout.

Compiled functions of one configuration's rows of the data plane's state arrays
(layout in :mod:`autoscale._state`), after knative/serving ``pkg/queue`` (the breaker:
``MaxConcurrency = CC``, queue depth ``10 x CC``; no limit when CC = 0). A request that
reaches a pod executes at once if a slot is free, else waits in the pod's FIFO queue;
the revision timeout ends it with a 504 while queued or executing.
"""

from __future__ import annotations

import numba as nb

from ._numba import LEAF
from ._state import (
    CF_A_LAST, CF_IDLE_SECONDS, CF_WAIT_MAX, CI_503, CI_504, CI_INSYS, PF_IDLE_SINCE, PF_LAST, PI_ACT, PI_ARR,
    PI_EXEC, PI_PARR, PI_QHEAD, PI_QLEN, _INLINE, _act_conc, _ended, _started, _exec_conc, _heap_push, _pod_conc,
    hist_bin,
)


@nb.njit(**_INLINE)
def _start(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, b, p, t, req, va, timeout):
    """Start request ``req`` (``va``: 0 sent direct, a + 1 through activator a) executing on pod ``p`` at time t."""
    if pi[b, PI_EXEC, p] == 0:
        cf[b, CF_IDLE_SECONDS] += t - pf[b, PF_IDLE_SINCE, p]
    pi[b, PI_EXEC, p] += 1
    _exec_conc(cf, ci, b, t, 1)
    arr = arrivals[req]
    end = t + durations[req]
    deadline = arr + timeout
    timed_out = 0
    if end > deadline:
        end = deadline
        timed_out = 1
    _heap_push(h_end, h_pod, h_info, ci, b, end, p, req * 128 + va * 2 + timed_out)
    w = t - arr
    if w > cf[b, CF_WAIT_MAX]:
        cf[b, CF_WAIT_MAX] = w
    return w


@nb.njit(**_INLINE)
def _admit(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, hist_wait, fin,
           b, p, t, req, va, cc, timeout):
    """A request reaches pod p's queue-proxy: execute, queue, or 503 (``va``: 0 direct, a + 1 from activator a)."""
    pi[b, PI_ARR, p] += 1
    via = 1 if va > 0 else 0
    pi[b, PI_PARR, p] += via
    qcap = 10 * cc
    if cc == 0 or pi[b, PI_EXEC, p] < cc:
        _pod_conc(pf, pi, b, p, t, 1, via)
        w = _start(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, b, p, t, req, va, timeout)
        _started(fin, ci, b, req, t)
        hist_wait[b, hist_bin(w)] += 1
        return True
    if pi[b, PI_QLEN, p] < qcap:
        _pod_conc(pf, pi, b, p, t, 1, via)
        slot = (pi[b, PI_QHEAD, p] + pi[b, PI_QLEN, p]) % qcap
        p_queue[b, p, slot] = req * 64 + va
        pi[b, PI_QLEN, p] += 1
        return True
    ci[b, CI_503] += 1
    ci[b, CI_INSYS] -= 1
    _ended(fin, ci, b, req, 1, t)
    return False


@nb.njit(**_INLINE)
def _expire_queued(pf, pi, cf, ci, fin, b, p, t, expiry, va, req):
    """A request queued in a pod's queue-proxy timed out: 504."""
    via = 1 if va > 0 else 0
    _pod_conc(pf, pi, b, p, max(expiry, pf[b, PF_LAST, p]), -1, -via)
    ci[b, CI_504] += 1
    ci[b, CI_INSYS] -= 1
    _ended(fin, ci, b, req, 2, max(expiry, pf[b, PF_LAST, p]))
    if via:
        pi[b, PI_ACT + va - 1, p] -= 1
        _act_conc(cf, ci, b, va - 1, max(expiry, cf[b, CF_A_LAST]), -1)


@nb.njit(**LEAF)
def _pop_pod_queue(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, hist_wait, fin,
                   b, p, t, cc, timeout):
    """Start the next queued request on pod p, answering 504 for any that expired."""
    qcap = 10 * cc
    while pi[b, PI_QLEN, p] > 0:
        head = pi[b, PI_QHEAD, p]
        code = p_queue[b, p, head]
        pi[b, PI_QHEAD, p] = (head + 1) % qcap
        pi[b, PI_QLEN, p] -= 1
        req = code >> 6
        va = code & 63
        if arrivals[req] + timeout <= t:
            _expire_queued(pf, pi, cf, ci, fin, b, p, t, arrivals[req] + timeout, va, req)
            continue
        w = _start(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, b, p, t, req, va, timeout)
        _started(fin, ci, b, req, t)
        hist_wait[b, hist_bin(w)] += 1
        return

