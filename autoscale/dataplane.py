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

Layout: all state lives in a handful of arrays whose leading axis is the
configuration; field indices are the module constants below. ``prange`` runs the
configurations in parallel; each one touches only its own rows, so a configuration's
result does not depend on the batch around it.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

__all__ = ["DataPlane"]

# --- pod fields -------------------------------------------------------------------------
# float64 per pod: pf[b, F, p]
PF_CREATED, PF_READY_AT, PF_LAST, PF_INT, PF_PINT, PF_IDLE_SINCE = range(6)
N_PF = 6
# int64 per pod: pi[b, F, p]
PI_STATE, PI_EXEC, PI_QHEAD, PI_QLEN, PI_CONC, PI_PCONC, PI_ARR, PI_PARR, PI_ACT = range(9)
N_PI = 9
# pod states
EMPTY, STARTING, READY, DRAINING = 0, 1, 2, 3

# --- configuration fields -----------------------------------------------------------------
# float64 per configuration: cf[b, F]
(
    CF_A_LAST, CF_A_INT, CF_SW_TIME, CF_NEXT_READY, CF_LAT_MAX, CF_WAIT_MAX,
    CF_POD_SECONDS, CF_IDLE_SECONDS, CF_BUSY_SECONDS, CF_PUSH_TIME, CF_A_CREATED, CF_X_LAST, CF_X_INT,
    CF_KEEP_ALIVE, CF_FLOOR_TIME, CF_BNEXT, CF_BGAP,
) = range(17)
N_CF = 17
# int64 per configuration: ci[b, F]
(
    CI_HSIZE, CI_AHEAD, CI_ALEN, CI_ACONC, CI_AARR, CI_AENTRY, CI_APUSHED, CI_INPATH, CI_SWTO,
    CI_RR, CI_TOTAL, CI_DONE, CI_503, CI_504, CI_COLD, CI_CREATED, CI_NREADY, CI_NSTART, CI_NDRAIN,
    CI_INSYS, CI_PHIGH, CI_XCONC, CI_ON_DEMAND, CI_FLOOR, CI_ACAP, CI_AREJ, CI_ASYNC, CI_NFIN, CI_BHEAD,
    CI_BLEN, CI_BINF, CI_BCONC,
) = range(32)
N_CI = 32
# CI_PHIGH: one past the highest pod slot this configuration has used; per-pod loops stop there.
# CF_X_*, CI_XCONC: requests executing (not queued) and their time integral over the second.
# CI_ON_DEMAND: an arrival that finds no room creates a pod at once (scale per request).
# CF_KEEP_ALIVE: a ready pod idle this long is removed, while more than CI_FLOOR pods live;
# never before CF_FLOOR_TIME, when the floor was last set (INF: pods are never retired idle).
# CI_ACAP: requests the activator may hold for this configuration (-1: no limit); beyond it
# an arrival is answered 503 (counted in CI_AREJ too).
# Asynchronous invocation (CI_ASYNC = 1): requests wait in a backlog ring (CI_BHEAD, CI_BLEN)
# of attempt ids, each with its own ready time, and are dispatched into the service in
# order while fewer than CI_BCONC are in flight (0: no limit; CI_BINF in flight) and at
# least CF_BGAP seconds apart (CF_BNEXT: the earliest next dispatch). Every attempt that
# ends is written to the finish buffer (id, code 0 done / 1 503 / 2 504, time), CI_NFIN of them.

# --- latency histograms -------------------------------------------------------------------
#: bins per decade of the latency histograms: 10**(1/100) = 2.3 % wide bins
HIST_PER_DECADE = 100
HIST_MIN_EXP = -6  # 1 microsecond; bin 0 holds everything below
HIST_DECADES = 12  # up to 1e6 s
HIST_BINS = HIST_DECADES * HIST_PER_DECADE + 2
INF = np.inf

# SplitMix64 constants (see autoscale.rng for the Python twin).
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0

_JIT = dict(nogil=True, cache=True)
# Small helpers on the per-request path are inlined at the IR level: calls that pass a dozen
# arrays cost more than the work inside them.
_INLINE = dict(nogil=True, cache=True, inline="always")


@nb.njit(**_INLINE)
def _uniform(rng, b):
    s = rng[b] + _GOLDEN
    rng[b] = s
    z = s
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    z = z ^ (z >> _S31)
    return float(z >> _S11) * _INV53


@nb.njit(**_INLINE)
def _below(rng, b, n):
    k = int(_uniform(rng, b) * n)
    return k if k < n else n - 1


@nb.njit(**_JIT)
def _cold_start(rng, b, cs_kind, cs_par, cs_emp, cs_emp_n):
    kind = cs_kind[b]
    if kind == 0:
        return cs_par[b, 0]
    if kind == 1:
        u1 = 1.0 - _uniform(rng, b)
        u2 = _uniform(rng, b)
        z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
        return cs_par[b, 0] + math.exp(cs_par[b, 1] + cs_par[b, 2] * z)
    return cs_emp[b, _below(rng, b, cs_emp_n[b])]


#: Lower edge of each histogram bin, seconds (bin 0 is everything below 1 us).
_HIST_EDGES = 10.0 ** (HIST_MIN_EXP + (np.arange(HIST_BINS + 1) - 1.0) / HIST_PER_DECADE)
_HIST_EDGES[0] = 0.0
_HIST_EDGES[-1] = np.inf
#: log10 of the middle of each of 4096 slices of the mantissa range [1, 2): a first guess
#: of the bin without calling log10 twice per request (it is most of the cost otherwise).
_MANTISSA_LOG10 = np.log10(1.0 + (np.arange(4096) + 0.5) / 4096.0)
_LOG10_2 = math.log10(2.0)


@nb.njit(**_INLINE)
def hist_bin(x):
    """Histogram bin of a latency of ``x`` seconds: 0 below 1 us, then 100 bins a decade.

    Bin k >= 1 holds ``[_HIST_EDGES[k], _HIST_EDGES[k + 1])``. The bin is guessed from the
    float's exponent and mantissa, then moved to the exact edge by comparison.
    """
    if x < 1e-6:
        return 0
    m, e = math.frexp(x)  # x = m * 2**e, m in [0.5, 1)
    l10 = (e - 1) * _LOG10_2 + _MANTISSA_LOG10[int((m * 2.0 - 1.0) * 4096.0)]
    k = 1 + int((l10 - HIST_MIN_EXP) * HIST_PER_DECADE)
    if k < 1:
        k = 1
    if k > HIST_BINS - 1:
        k = HIST_BINS - 1
    while k > 1 and x < _HIST_EDGES[k]:
        k -= 1
    while k < HIST_BINS - 1 and x >= _HIST_EDGES[k + 1]:
        k += 1
    return k


@nb.njit(**_JIT)
def hist_add(hist, b, values):
    """Count ``values`` (seconds) into row ``b`` of the histograms ``hist``."""
    for x in values:
        hist[b, hist_bin(x)] += 1


# --- completion heap (per configuration, keyed by end time) ----------------------------


@nb.njit(**_INLINE)
def _heap_push(h_end, h_pod, h_info, ci, b, t, pod, info):
    i = ci[b, CI_HSIZE]
    ci[b, CI_HSIZE] = i + 1
    while i > 0:
        parent = (i - 1) >> 1
        if h_end[b, parent] <= t:
            break
        h_end[b, i] = h_end[b, parent]
        h_pod[b, i] = h_pod[b, parent]
        h_info[b, i] = h_info[b, parent]
        i = parent
    h_end[b, i] = t
    h_pod[b, i] = pod
    h_info[b, i] = info


@nb.njit(**_INLINE)
def _heap_pop(h_end, h_pod, h_info, ci, b):
    n = ci[b, CI_HSIZE] - 1
    ci[b, CI_HSIZE] = n
    t = h_end[b, n]
    pod = h_pod[b, n]
    info = h_info[b, n]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and h_end[b, c + 1] < h_end[b, c]:
            c += 1
        if h_end[b, c] >= t:
            break
        h_end[b, i] = h_end[b, c]
        h_pod[b, i] = h_pod[b, c]
        h_info[b, i] = h_info[b, c]
        i = c
    h_end[b, i] = t
    h_pod[b, i] = pod
    h_info[b, i] = info


# --- state changes ------------------------------------------------------------------------


@nb.njit(**_INLINE)
def _pod_conc(pf, pi, b, p, t, dconc, dpconc):
    """Change a pod's concurrency at time t, accumulating the time-weighted integrals."""
    last = pf[b, PF_LAST, p]
    if t > last:
        dt = t - last
        pf[b, PF_INT, p] += pi[b, PI_CONC, p] * dt
        pf[b, PF_PINT, p] += pi[b, PI_PCONC, p] * dt
        pf[b, PF_LAST, p] = t
    pi[b, PI_CONC, p] += dconc
    pi[b, PI_PCONC, p] += dpconc


@nb.njit(**_INLINE)
def _act_conc(cf, ci, b, t, d):
    last = cf[b, CF_A_LAST]
    if t > last:
        cf[b, CF_A_INT] += ci[b, CI_ACONC] * (t - last)
        cf[b, CF_A_LAST] = t
    ci[b, CI_ACONC] += d


@nb.njit(**_INLINE)
def _exec_conc(cf, ci, b, t, d):
    last = cf[b, CF_X_LAST]
    if t > last:
        cf[b, CF_X_INT] += ci[b, CI_XCONC] * (t - last)
        cf[b, CF_X_LAST] = t
    ci[b, CI_XCONC] += d


@nb.njit(**_INLINE)
def _ended(fin, ci, b, req, code, t):
    """An asynchronous attempt ended: record it for the dispatcher and free its slot."""
    if ci[b, CI_ASYNC] == 1:
        k = ci[b, CI_NFIN]
        fin[b, k, 0] = req
        fin[b, k, 1] = code
        fin[b, k, 2] = t
        ci[b, CI_NFIN] = k + 1
        ci[b, CI_BINF] -= 1


@nb.njit(**_INLINE)
def _terminate(pf, pi, cf, ci, b, p, t):
    cf[b, CF_POD_SECONDS] += t - pf[b, PF_CREATED, p]
    if pi[b, PI_EXEC, p] == 0:
        cf[b, CF_IDLE_SECONDS] += t - pf[b, PF_IDLE_SINCE, p]
    st = pi[b, PI_STATE, p]
    if st == READY:
        ci[b, CI_NREADY] -= 1
    elif st == STARTING:
        ci[b, CI_NSTART] -= 1
    elif st == DRAINING:
        ci[b, CI_NDRAIN] -= 1
    pi[b, PI_STATE, p] = EMPTY


@nb.njit(**_INLINE)
def _start(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, b, p, t, req, via, timeout):
    """Start request ``req`` executing on pod ``p`` at time t."""
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
    _heap_push(h_end, h_pod, h_info, ci, b, end, p, req * 4 + via * 2 + timed_out)
    w = t - arr
    if w > cf[b, CF_WAIT_MAX]:
        cf[b, CF_WAIT_MAX] = w
    return w


@nb.njit(**_INLINE)
def _admit(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, hist_wait, fin,
           b, p, t, req, via, cc, timeout):
    """A request reaches pod p's queue-proxy: execute, queue, or 503."""
    pi[b, PI_ARR, p] += 1
    if via:
        pi[b, PI_PARR, p] += 1
    qcap = 10 * cc
    if cc == 0 or pi[b, PI_EXEC, p] < cc:
        _pod_conc(pf, pi, b, p, t, 1, via)
        w = _start(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, b, p, t, req, via, timeout)
        hist_wait[b, hist_bin(w)] += 1
        return True
    if pi[b, PI_QLEN, p] < qcap:
        _pod_conc(pf, pi, b, p, t, 1, via)
        slot = (pi[b, PI_QHEAD, p] + pi[b, PI_QLEN, p]) % qcap
        p_queue[b, p, slot] = req * 2 + via
        pi[b, PI_QLEN, p] += 1
        return True
    ci[b, CI_503] += 1
    ci[b, CI_INSYS] -= 1
    _ended(fin, ci, b, req, 1, t)
    return False


@nb.njit(**_INLINE)
def _pick_ready(pi, rng, b, npods):
    """A ready pod chosen uniformly at random (the Kubernetes service), or -1."""
    n = npods
    nready = 0
    for p in range(n):
        if pi[b, PI_STATE, p] == READY:
            nready += 1
    if nready == 0:
        return -1
    k = _below(rng, b, nready)
    j = 0
    for p in range(n):
        if pi[b, PI_STATE, p] == READY:
            if j == k:
                return p
            j += 1
    return -1


@nb.njit(**_JIT)
def _pick_activator(pf, pi, ci, rng, b, cc):
    """The pod the activator sends the next request to, or -1 if none has room.

    CC = 0: random choice of two by fewest outstanding requests; CC 1-3: first
    available in address (slot) order; CC > 3: round robin from the last pick. Under a
    policy that scales per request: the newest instance with room.
    """
    npods = ci[b, CI_PHIGH]
    if ci[b, CI_ON_DEMAND] == 1 and cc > 0:
        # A FaaS front end: the newest instance with room, so that older ones idle and expire.
        best = -1
        for p in range(npods):
            if pi[b, PI_STATE, p] == READY and pi[b, PI_ACT, p] < cc:
                if best < 0 or pf[b, PF_CREATED, p] > pf[b, PF_CREATED, best]:
                    best = p
        return best
    if cc == 0:
        nready = 0
        for p in range(npods):
            if pi[b, PI_STATE, p] == READY:
                nready += 1
        if nready == 0:
            return -1
        if nready == 1:
            for p in range(npods):
                if pi[b, PI_STATE, p] == READY:
                    return p
        k1 = _below(rng, b, nready)
        k2 = _below(rng, b, nready - 1)
        if k2 >= k1:
            k2 += 1
        p1 = p2 = -1
        j = 0
        for p in range(npods):
            if pi[b, PI_STATE, p] == READY:
                if j == k1:
                    p1 = p
                if j == k2:
                    p2 = p
                j += 1
        a1 = pi[b, PI_ACT, p1]
        a2 = pi[b, PI_ACT, p2]
        if a1 < a2:
            return p1
        if a2 < a1:
            return p2
        return p1 if _uniform(rng, b) < 0.5 else p2
    if cc <= 3:
        for p in range(npods):
            if pi[b, PI_STATE, p] == READY and pi[b, PI_ACT, p] < cc:
                return p
        return -1
    start = ci[b, CI_RR]
    for k in range(1, npods + 1):
        p = (start + k) % npods
        if pi[b, PI_STATE, p] == READY and pi[b, PI_ACT, p] < cc:
            ci[b, CI_RR] = p
            return p
    return -1


@nb.njit(**_JIT)
def _dispatch(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, a_queue,
              hist_wait, fin, rng, b, t, cc, timeout):
    """Send queued activator requests to pods while some pod has room."""
    acap = a_queue.shape[1]
    while ci[b, CI_ALEN] > 0:
        p = _pick_activator(pf, pi, ci, rng, b, cc)
        if p < 0:
            return
        head = ci[b, CI_AHEAD]
        req = a_queue[b, head]
        ci[b, CI_AHEAD] = (head + 1) % acap
        ci[b, CI_ALEN] -= 1
        pi[b, PI_ACT, p] += 1
        if not _admit(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, hist_wait, fin,
                      b, p, t, req, 1, cc, timeout):
            pi[b, PI_ACT, p] -= 1
            _act_conc(cf, ci, b, t, -1)


@nb.njit(**_JIT)
def _pop_pod_queue(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, hist_wait, fin,
                   b, p, t, cc, timeout):
    """Start the next queued request on pod p, answering 504 for any that expired."""
    qcap = 10 * cc
    while pi[b, PI_QLEN, p] > 0:
        head = pi[b, PI_QHEAD, p]
        code = p_queue[b, p, head]
        pi[b, PI_QHEAD, p] = (head + 1) % qcap
        pi[b, PI_QLEN, p] -= 1
        req = code >> 1
        via = code & 1
        if arrivals[req] + timeout <= t:
            _expire_queued(pf, pi, cf, ci, fin, b, p, t, arrivals[req] + timeout, via, req)
            continue
        w = _start(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, b, p, t, req, via, timeout)
        hist_wait[b, hist_bin(w)] += 1
        return


@nb.njit(**_INLINE)
def _expire_queued(pf, pi, cf, ci, fin, b, p, t, expiry, via, req):
    """A request queued in a pod's queue-proxy timed out: 504."""
    _pod_conc(pf, pi, b, p, max(expiry, pf[b, PF_LAST, p]), -1, -via)
    ci[b, CI_504] += 1
    ci[b, CI_INSYS] -= 1
    _ended(fin, ci, b, req, 2, max(expiry, pf[b, PF_LAST, p]))
    if via:
        pi[b, PI_ACT, p] -= 1
        _act_conc(cf, ci, b, max(expiry, cf[b, CF_A_LAST]), -1)


@nb.njit(**_JIT)
def _next_ready(pf, pi, ci, b):
    t = INF
    for p in range(ci[b, CI_PHIGH]):
        if pi[b, PI_STATE, p] == STARTING and pf[b, PF_READY_AT, p] < t:
            t = pf[b, PF_READY_AT, p]
    return t


@nb.njit(**_INLINE)
def _arrive(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, a_queue, hist_wait, fin, rng,
            cs_kind, cs_par, cs_emp, cs_emp_n, b, t, req, cc, timeout):
    """Request ``req`` reaches the revision at time t: a random ready pod, or the activator."""
    acap = a_queue.shape[1]
    ci[b, CI_TOTAL] += 1
    ci[b, CI_INSYS] += 1
    on_demand = ci[b, CI_ON_DEMAND] == 1
    if on_demand:
        _retire_idle(pf, pi, cf, ci, b, t)
    elif ci[b, CI_NREADY] == 0:
        ci[b, CI_COLD] += 1
    p = -1
    if ci[b, CI_INPATH] == 0:
        p = _pick_ready(pi, rng, b, ci[b, CI_PHIGH])
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
    # Into the activator: the first request with no live stats entry is pushed to the
    # autoscaler at once (and may poke it).
    if ci[b, CI_AENTRY] == 0:
        ci[b, CI_AENTRY] = 1
        ci[b, CI_APUSHED] = 1
        cf[b, CF_PUSH_TIME] = t
        cf[b, CF_A_CREATED] = t
    _act_conc(cf, ci, b, t, 1)
    ci[b, CI_AARR] += 1
    slot = (ci[b, CI_AHEAD] + ci[b, CI_ALEN]) % acap
    a_queue[b, slot] = req
    ci[b, CI_ALEN] += 1
    _dispatch(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, a_queue,
              hist_wait, fin, rng, b, t, cc, timeout)
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
        # the activator's queue (it is the last there) for that instance's queue.
        ci[b, CI_ALEN] -= 1
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
        p_queue[b, p, (pi[b, PI_QHEAD, p] + pi[b, PI_QLEN, p]) % qcap] = req * 2 + 1
        pi[b, PI_QLEN, p] += 1


@nb.njit(**_INLINE)
def _next_dispatch(cf, ci, bq, att_ready, b):
    """When the asynchronous dispatcher sends the head of the backlog next (INF: not now)."""
    if ci[b, CI_BLEN] == 0:
        return INF
    if ci[b, CI_BCONC] > 0 and ci[b, CI_BINF] >= ci[b, CI_BCONC]:
        return INF
    return max(att_ready[bq[b, ci[b, CI_BHEAD]]], cf[b, CF_BNEXT])


@nb.njit(**_JIT)
def _step_one(b, t0, t1, cur, end, arrivals, durations, cc_arr, timeout_arr,
              pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, a_queue, hist_lat, hist_wait, rng,
              cs_kind, cs_par, cs_emp, cs_emp_n, fin, bq, att_ready):
    cc = cc_arr[b]
    timeout = timeout_arr[b]
    acap = a_queue.shape[1]
    bcap = bq.shape[1]
    ptr = cur[b]
    i1 = end[b]
    while True:
        ta = arrivals[ptr] if ptr < i1 else INF
        tb = _next_dispatch(cf, ci, bq, att_ready, b)
        tc = h_end[b, 0] if ci[b, CI_HSIZE] > 0 else INF
        tr = cf[b, CF_NEXT_READY]
        tt = arrivals[a_queue[b, ci[b, CI_AHEAD]]] + timeout if ci[b, CI_ALEN] > 0 else INF
        ts = cf[b, CF_SW_TIME]
        # A pod created by a poke, or a switch it scheduled, may fall inside the second
        # already simulated; it takes effect now, never in the past.
        if tr < t0:
            tr = t0
        if ts < t0:
            ts = t0
        if tb < t0:
            tb = t0
        t = min(ta, tb, tc, tr, tt, ts)
        if t >= t1:
            break
        if tc == t:
            # A request finishes (or hits the revision timeout while executing).
            p = h_pod[b, 0]
            info = h_info[b, 0]
            _heap_pop(h_end, h_pod, h_info, ci, b)
            req = info >> 2
            via = (info >> 1) & 1
            timed_out = info & 1
            _pod_conc(pf, pi, b, p, t, -1, -via)
            pi[b, PI_EXEC, p] -= 1
            _exec_conc(cf, ci, b, t, -1)
            if pi[b, PI_EXEC, p] == 0:
                pf[b, PF_IDLE_SINCE, p] = t
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
                pi[b, PI_ACT, p] -= 1
                _act_conc(cf, ci, b, t, -1)
            if pi[b, PI_QLEN, p] > 0:
                _pop_pod_queue(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue,
                               hist_wait, fin, b, p, t, cc, timeout)
            if pi[b, PI_STATE, p] == DRAINING and pi[b, PI_EXEC, p] == 0 and pi[b, PI_QLEN, p] == 0:
                _terminate(pf, pi, cf, ci, b, p, t)
            if ci[b, CI_ALEN] > 0:
                _dispatch(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, a_queue,
                          hist_wait, fin, rng, b, t, cc, timeout)
        elif tr == t:
            # Pods become ready (and the activator's probe finds them).
            for p in range(ci[b, CI_PHIGH]):
                if pi[b, PI_STATE, p] == STARTING and pf[b, PF_READY_AT, p] <= t:
                    pi[b, PI_STATE, p] = READY
                    ci[b, CI_NSTART] -= 1
                    ci[b, CI_NREADY] += 1
                    # Requests bound to it while it started (scale per request) start now.
                    while pi[b, PI_QLEN, p] > 0 and pi[b, PI_EXEC, p] < cc:
                        _pop_pod_queue(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue,
                                       hist_wait, fin, b, p, t, cc, timeout)
            cf[b, CF_NEXT_READY] = _next_ready(pf, pi, ci, b)
            if ci[b, CI_ALEN] > 0:
                _dispatch(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, a_queue,
                          hist_wait, fin, rng, b, t, cc, timeout)
        elif ts == t:
            ci[b, CI_INPATH] = ci[b, CI_SWTO]
            cf[b, CF_SW_TIME] = INF
        elif tt == t:
            # The oldest request waiting in the activator reaches the revision timeout.
            req = a_queue[b, ci[b, CI_AHEAD]]
            ci[b, CI_AHEAD] = (ci[b, CI_AHEAD] + 1) % acap
            ci[b, CI_ALEN] -= 1
            ci[b, CI_504] += 1
            ci[b, CI_INSYS] -= 1
            _act_conc(cf, ci, b, t, -1)
            _ended(fin, ci, b, req, 2, t)
        elif tb == t:
            # The asynchronous dispatcher sends the next attempt of its backlog.
            req = bq[b, ci[b, CI_BHEAD]]
            ci[b, CI_BHEAD] = (ci[b, CI_BHEAD] + 1) % bcap
            ci[b, CI_BLEN] -= 1
            ci[b, CI_BINF] += 1
            cf[b, CF_BNEXT] = t + cf[b, CF_BGAP]
            arrivals[req] = t
            _arrive(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, a_queue, hist_wait,
                    fin, rng, cs_kind, cs_par, cs_emp, cs_emp_n, b, t, req, cc, timeout)
        else:
            req = ptr
            ptr += 1
            _arrive(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, a_queue, hist_wait,
                    fin, rng, cs_kind, cs_par, cs_emp, cs_emp_n, b, t, req, cc, timeout)
    cur[b] = ptr


_SAMPLE_X = 1.96 * 1.96 * 100.0 / (5.0 * 5.0)  # 15.3664


@nb.njit(**_JIT)
def sample_size(n):
    """Pods the scraper samples out of n ready ones: all up to 3, then ceil(n X / (n + X - 1))."""
    if n <= 3:
        return n
    return int(math.ceil(n * _SAMPLE_X / (n + _SAMPLE_X - 1.0)))


@nb.njit(**_JIT)
def _report_one(b, t1, arrivals, cc_arr, timeout, stable_window, scrape, pf, pi, cf, ci, p_queue, rng, out, order,
                fin):
    """End of second t1 - 1: queue-proxy and activator reports, then the scrape.

    ``out[b]`` receives: scraped concurrency, proxied concurrency, rps, proxied rps,
    scraped flag, activator concurrency, activator rps, activator flag, the exact mean
    number of requests executing (not queued) over the second, the exact total of
    the ready pods' mean concurrency (every pod, not a sample), and the exact mean number
    of requests in the system (pods and the activator).
    """
    _retire_idle(pf, pi, cf, ci, b, t1)
    npods = ci[b, CI_PHIGH]
    qcap = 10 * cc_arr[b]
    # Queue-proxy side: expire queued requests that reached the timeout this second.
    to = timeout[b]
    for p in range(npods):
        st = pi[b, PI_STATE, p]
        if st == EMPTY or pi[b, PI_QLEN, p] == 0:
            continue
        # The queue is in admission order, not arrival order (a request that waited in
        # the activator may sit behind younger ones), so every entry is checked and the
        # survivors are compacted in place.
        head = pi[b, PI_QHEAD, p]
        n = pi[b, PI_QLEN, p]
        kept = 0
        for k in range(n):
            code = p_queue[b, p, (head + k) % qcap]
            expiry = arrivals[code >> 1] + to
            if expiry <= t1:
                pi[b, PI_QLEN, p] -= 1
                _expire_queued(pf, pi, cf, ci, fin, b, p, t1, expiry, code & 1, code >> 1)
            else:
                p_queue[b, p, (head + kept) % qcap] = code
                kept += 1
        if st == DRAINING and pi[b, PI_EXEC, p] == 0 and pi[b, PI_QLEN, p] == 0:
            _terminate(pf, pi, cf, ci, b, p, t1)
    # Per-pod averages over the second, stored; scrape samples the ready ones.
    nready = 0
    nold = 0
    exact = 0.0
    direct = 0.0  # requests the pods hold that did not come through the activator
    for p in range(npods):
        st = pi[b, PI_STATE, p]
        if st == EMPTY:
            continue
        _pod_conc(pf, pi, b, p, t1, 0, 0)
        direct += pf[b, PF_INT, p] - pf[b, PF_PINT, p]
        if st == READY:
            exact += pf[b, PF_INT, p]
            if pf[b, PF_CREATED, p] <= t1 - stable_window[b]:
                order[b, nold] = p
                nold += 1
            nready += 1
    for k in range(11):
        out[b, k] = 0.0
    _exec_conc(cf, ci, b, t1, 0)
    out[b, 8] = cf[b, CF_X_INT]
    cf[b, CF_X_INT] = 0.0
    out[b, 9] = exact
    if scrape[b] and nready > 0:
        n = sample_size(nready)
        # old pods first, then young ones, each group in random order
        j = nold
        for p in range(npods):
            if pi[b, PI_STATE, p] == READY and not (pf[b, PF_CREATED, p] <= t1 - stable_window[b]):
                order[b, j] = p
                j += 1
        # shuffle within the old group, then within the young group (partial Fisher-Yates)
        lo = 0
        hi = nold
        for _g in range(2):
            m = hi - lo
            take = n - lo if n - lo < m else m
            for i in range(take):
                k = lo + i + _below(rng, b, m - i)
                tmp = order[b, lo + i]
                order[b, lo + i] = order[b, k]
                order[b, k] = tmp
            if n <= hi:
                break
            lo = hi
            hi = nready
        sc = 0.0
        spc = 0.0
        sr = 0.0
        spr = 0.0
        for i in range(n):
            p = order[b, i]
            sc += pf[b, PF_INT, p]
            spc += pf[b, PF_PINT, p]
            sr += pi[b, PI_ARR, p]
            spr += pi[b, PI_PARR, p]
        out[b, 0] = sc / n * nready
        out[b, 1] = spc / n * nready
        out[b, 2] = sr / n * nready
        out[b, 3] = spr / n * nready
        out[b, 4] = 1.0
    for p in range(npods):
        if pi[b, PI_STATE, p] != EMPTY:
            pf[b, PF_INT, p] = 0.0
            pf[b, PF_PINT, p] = 0.0
            pi[b, PI_ARR, p] = 0
            pi[b, PI_PARR, p] = 0
    # Activator report: subtract the immediate first-request push; drop an idle entry.
    _act_conc(cf, ci, b, t1, 0)
    out[b, 10] = direct + cf[b, CF_A_INT]
    if ci[b, CI_AENTRY] == 1:
        # The first report of a new stats entry averages from the entry's creation.
        since = max(cf[b, CF_A_CREATED], t1 - 1.0)
        avg = cf[b, CF_A_INT] / (t1 - since)
        cnt = float(ci[b, CI_AARR])
        if avg == 0.0:
            ci[b, CI_AENTRY] = 0
        if ci[b, CI_APUSHED] == 1:
            avg = max(avg - 1.0, 0.0)
            cnt = max(cnt - 1.0, 0.0)
        out[b, 5] = avg
        out[b, 6] = cnt
        out[b, 7] = 1.0
    ci[b, CI_APUSHED] = 0
    cf[b, CF_A_INT] = 0.0
    ci[b, CI_AARR] = 0


@nb.njit(**_JIT)
def _new_pod(b, t, pf, pi, ci, rng, cs_kind, cs_par, cs_emp, cs_emp_n):
    """Create a pod at time t in the first empty slot (the caller made room); returns the slot."""
    for p in range(pi.shape[2]):
        if pi[b, PI_STATE, p] == EMPTY:
            break
    if p + 1 > ci[b, CI_PHIGH]:
        ci[b, CI_PHIGH] = p + 1
    pi[b, PI_STATE, p] = STARTING
    for f in range(N_PI):
        if f != PI_STATE:
            pi[b, f, p] = 0
    ready_at = t + _cold_start(rng, b, cs_kind, cs_par, cs_emp, cs_emp_n)
    pf[b, PF_CREATED, p] = t
    pf[b, PF_READY_AT, p] = ready_at
    pf[b, PF_LAST, p] = t
    pf[b, PF_INT, p] = 0.0
    pf[b, PF_PINT, p] = 0.0
    pf[b, PF_IDLE_SINCE, p] = t
    ci[b, CI_NSTART] += 1
    ci[b, CI_CREATED] += 1
    return p


@nb.njit(**_JIT)
def _retire_idle(pf, pi, cf, ci, b, t):
    """Remove ready pods idle for the keep-alive by time t, longest idle first, down to the floor.

    A pod's idle clock starts when it last finished a request, or when it became ready if
    it never served one; it is removed at the moment its keep-alive ran out (or when the
    floor last dropped, if later).
    """
    ka = cf[b, CF_KEEP_ALIVE]
    if ka == INF:
        return
    while ci[b, CI_NSTART] + ci[b, CI_NREADY] > ci[b, CI_FLOOR]:
        victim = -1
        best = INF
        for p in range(ci[b, CI_PHIGH]):
            if pi[b, PI_STATE, p] == READY and pi[b, PI_EXEC, p] == 0 and pi[b, PI_QLEN, p] == 0:
                expiry = max(pf[b, PF_IDLE_SINCE, p], pf[b, PF_READY_AT, p]) + ka
                if expiry < best:
                    best = expiry
                    victim = p
        if victim < 0 or best > t:
            return
        _terminate(pf, pi, cf, ci, b, victim, max(best, cf[b, CF_FLOOR_TIME]))


@nb.njit(**_JIT)
def _apply_one(b, now, replicas, pf, pi, cf, ci, rng, cs_kind, cs_par, cs_emp, cs_emp_n):
    """Create or remove pods so that starting + ready pods equal ``replicas``.

    Removal follows the ReplicaSet's ranking: pods still starting go first (newest
    first), then ready pods, most recently ready first. A removed ready pod drains:
    it takes no new requests and terminates when it holds none.
    """
    npods = pi.shape[2]
    t = now
    live = ci[b, CI_NSTART] + ci[b, CI_NREADY]
    want = replicas[b]
    while live < want:
        _new_pod(b, t, pf, pi, ci, rng, cs_kind, cs_par, cs_emp, cs_emp_n)
        live += 1
    while live > want:
        victim = -1
        best = -INF
        for p in range(npods):
            if pi[b, PI_STATE, p] == STARTING and pf[b, PF_CREATED, p] >= best:
                best = pf[b, PF_CREATED, p]
                victim = p
        if victim >= 0:
            _terminate(pf, pi, cf, ci, b, victim, max(t, pf[b, PF_CREATED, victim]))
        else:
            for p in range(npods):
                if pi[b, PI_STATE, p] == READY and pf[b, PF_READY_AT, p] >= best:
                    best = pf[b, PF_READY_AT, p]
                    victim = p
            if pi[b, PI_EXEC, victim] == 0 and pi[b, PI_QLEN, victim] == 0:
                _terminate(pf, pi, cf, ci, b, victim, t)
            else:
                pi[b, PI_STATE, victim] = DRAINING
                ci[b, CI_NREADY] -= 1
                ci[b, CI_NDRAIN] += 1
        live -= 1
    cf[b, CF_NEXT_READY] = _next_ready(pf, pi, ci, b)


@nb.njit(**_JIT)
def _second_one(b, t0, t1, cur, end, arrivals, durations, cc, timeout, stable_window, scrape, pf, pi, cf, ci,
                h_end, h_pod, h_info, p_queue, a_queue, hist_lat, hist_wait, rng, out, order,
                cs_kind, cs_par, cs_emp, cs_emp_n, replicas, changed, fin, bq, att_ready):
    cf[b, CF_PUSH_TIME] = np.nan
    if changed[b]:
        _apply_one(b, t0, replicas, pf, pi, cf, ci, rng, cs_kind, cs_par, cs_emp, cs_emp_n)
    _step_one(b, t0, t1, cur, end, arrivals, durations, cc, timeout, pf, pi, cf, ci, h_end, h_pod,
              h_info, p_queue, a_queue, hist_lat, hist_wait, rng, cs_kind, cs_par, cs_emp, cs_emp_n, fin, bq, att_ready)
    _report_one(b, t1, arrivals, cc, timeout, stable_window, scrape, pf, pi, cf, ci, p_queue, rng, out, order, fin)


@nb.njit(parallel=True, nogil=True, cache=True)
def _second_parallel(t0, t1, cur, end, arrivals, durations, cc, timeout, stable_window, scrape, pf, pi, cf, ci,
                     h_end, h_pod, h_info, p_queue, a_queue, hist_lat, hist_wait, rng, out, order,
                     cs_kind, cs_par, cs_emp, cs_emp_n, replicas, changed, fin, bq, att_ready):
    """One second for every configuration: pending replica changes at t0, events, reports at t1.

    Fused into one parallel call so the threads meet once a second.
    """
    for b in nb.prange(ci.shape[0]):
        _second_one(b, t0, t1, cur, end, arrivals, durations, cc, timeout, stable_window, scrape, pf, pi, cf, ci,
                    h_end, h_pod, h_info, p_queue, a_queue, hist_lat, hist_wait, rng, out, order,
                    cs_kind, cs_par, cs_emp, cs_emp_n, replicas, changed, fin, bq, att_ready)


@nb.njit(**_JIT)
def _second_serial(t0, t1, cur, end, arrivals, durations, cc, timeout, stable_window, scrape, pf, pi, cf, ci,
                   h_end, h_pod, h_info, p_queue, a_queue, hist_lat, hist_wait, rng, out, order,
                   cs_kind, cs_par, cs_emp, cs_emp_n, replicas, changed, fin, bq, att_ready):
    """The same on one thread: for small batches a thread barrier each second costs more than it saves."""
    for b in range(ci.shape[0]):
        _second_one(b, t0, t1, cur, end, arrivals, durations, cc, timeout, stable_window, scrape, pf, pi, cf, ci,
                    h_end, h_pod, h_info, p_queue, a_queue, hist_lat, hist_wait, rng, out, order,
                    cs_kind, cs_par, cs_emp, cs_emp_n, replicas, changed, fin, bq, att_ready)


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
        for p in range(pi.shape[2]):
            if pi[b, PI_STATE, p] != EMPTY:
                cf[b, CF_POD_SECONDS] += t_end - pf[b, PF_CREATED, p]
                if pi[b, PI_EXEC, p] == 0:
                    cf[b, CF_IDLE_SECONDS] += t_end - pf[b, PF_IDLE_SINCE, p]


class DataPlane:
    """The compiled data plane of a batch, with its state arrays and growth.

    Parameters
    ----------
    arrivals, durations : float64 arrays
        The requests. By default every configuration replays all of them (one trace
        shared by the batch).
    container_concurrency, timeout : arrays of shape (B,)
    cold_start : tuple of arrays (kind, params, empirical samples, sample counts)
    seed_state : int
        Starting state of every configuration's random stream.
    segments : pair of int arrays (start, end), optional
        Configuration ``b`` replays requests ``start[b]:end[b]`` only (sorted by arrival):
        several services or revisions, each its own trace, in one batch.
    """

    def __init__(self, arrivals, durations, container_concurrency, timeout, cold_start, seed_state,
                 stable_window, scrape, pods=8, heap=64, activator_queue=64, parallel=None, segments=None):
        self.arrivals = np.ascontiguousarray(arrivals, dtype=np.float64).copy()
        self.durations = np.ascontiguousarray(durations, dtype=np.float64)
        self.n_requests = self.arrivals.size
        self.cc = np.asarray(container_concurrency, dtype=np.int64)
        self.timeout = np.asarray(timeout, dtype=np.float64)
        self.stable_window = np.asarray(stable_window, dtype=np.float64)
        self.scrape = np.asarray(scrape, dtype=np.bool_)
        self.cs_kind, self.cs_par, self.cs_emp, self.cs_emp_n = cold_start
        b = self.cc.size
        self.batch = b
        self.qcap = int(10 * self.cc.max())
        self.pf = np.zeros((b, N_PF, pods))
        self.pi = np.zeros((b, N_PI, pods), dtype=np.int64)
        self.p_queue = np.zeros((b, pods, max(self.qcap, 1)), dtype=np.int32)  # request * 2 + via
        self.cf = np.zeros((b, N_CF))
        self.cf[:, CF_SW_TIME] = INF
        self.cf[:, CF_NEXT_READY] = INF
        self.cf[:, CF_PUSH_TIME] = np.nan
        self.cf[:, CF_KEEP_ALIVE] = INF
        self.ci = np.zeros((b, N_CI), dtype=np.int64)
        self.ci[:, CI_INPATH] = 1
        self.h_end = np.zeros((b, heap))
        self.h_pod = np.zeros((b, heap), dtype=np.int64)
        self.h_info = np.zeros((b, heap), dtype=np.int64)
        self.a_queue = np.zeros((b, activator_queue), dtype=np.int64)
        self.hist_lat = np.zeros((b, HIST_BINS), dtype=np.int64)
        self.hist_wait = np.zeros((b, HIST_BINS), dtype=np.int64)
        self.rng = np.full(b, np.uint64(seed_state), dtype=np.uint64)
        self.out = np.zeros((b, 11))
        self.order = np.zeros((b, pods), dtype=np.int64)
        self._pending = None
        auto = b >= PARALLEL_MIN_BATCH and nb.get_num_threads() > 1
        self.parallel = auto if parallel is None else bool(parallel)
        self._no_replicas = np.zeros(b, dtype=np.int64)
        self._on_demand = False
        if segments is None:
            start, end = np.zeros(b, dtype=np.int64), np.full(b, self.arrivals.size, dtype=np.int64)
        else:
            start, end = (np.asarray(x, dtype=np.int64).copy() for x in segments)
        self.cur, self.end, self.nxt = start, end, start.copy()
        self.ci[:, CI_ACAP] = -1
        # Asynchronous invocation: backlog rings, ready times per attempt, finish buffer.
        self.bq = np.zeros((b, 8), dtype=np.int64)
        self.att_ready = np.zeros(max(self.arrivals.size, 1))
        self.fin = np.zeros((b, 64, 3))
        self._async = False
        self._no_change = np.zeros(b, dtype=np.bool_)

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
        pi = np.zeros((b, N_PI, new), dtype=np.int64)
        pi[:, :, :cap] = self.pi
        q = np.zeros((b, new, self.p_queue.shape[2]), dtype=np.int32)
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
        acap = self.a_queue.shape[1]
        if need > acap:
            new = max(need, 2 * acap)
            arr = np.zeros((self.batch, new), dtype=np.int64)
            head = self.ci[:, CI_AHEAD]
            ln = self.ci[:, CI_ALEN]
            for b in np.flatnonzero(ln):
                idx = (head[b] + np.arange(ln[b])) % acap
                arr[b, : ln[b]] = self.a_queue[b, idx]
            self.a_queue = arr
            self.ci[:, CI_AHEAD] = 0

    # -- one second ------------------------------------------------------------------------

    def second(self, t0: float, t1: float) -> np.ndarray:
        """Apply pending replica changes at t0, run the events of [t0, t1), report at t1.

        Returns the reports of t1, one row per configuration (see ``_report_one``).
        """
        incoming = int(_advance(self.arrivals, self.nxt, self.end, t1))
        if self._async:
            incoming += int(self.ci[:, CI_BLEN].max())
            need = int((self.ci[:, CI_INSYS] + self.ci[:, CI_BLEN]).max()) + incoming + 1
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
               self.att_ready)
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
        self._async = True

    def add_attempts(self, durations: np.ndarray, ready: np.ndarray) -> np.ndarray:
        """New attempts with their service durations and the times they may be dispatched; returns their ids."""
        n = len(durations)
        first = self.n_requests
        if first + n > self.arrivals.size:
            cap = max(first + n, 2 * self.arrivals.size, 64)
            for name in ("arrivals", "durations", "att_ready"):
                old = getattr(self, name)
                arr = np.zeros(cap)
                arr[: old.size] = old
                setattr(self, name, arr)
        ids = np.arange(first, first + n, dtype=np.int64)
        self.arrivals[ids] = ready
        self.durations[ids] = durations
        self.att_ready[ids] = ready
        self.n_requests = first + n
        return ids

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
        """Attempts of a configuration that ended during the last second: rows of (id, code, time)."""
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

    def set_on_demand(self, on: np.ndarray) -> None:
        """Create a pod for each arrival that finds no room and no starting pod to wait for."""
        on = np.asarray(on, dtype=np.bool_)
        self.ci[:, CI_ON_DEMAND] = on
        self._on_demand = bool(on.any())

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
        return self.cf[:, CF_PUSH_TIME].copy()
