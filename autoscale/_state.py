"""The data plane's state: the layout of its arrays, and the small compiled helpers every component shares.

All state of the data plane lives in a handful of arrays whose leading axis is the
configuration; the field indices are the module constants below. Every compiled
function takes a configuration's row index ``b`` and touches only that row, so a
configuration's result does not depend on the batch around it. The components are
modules of their own, named after Knative's: :mod:`autoscale.pods`,
:mod:`autoscale.queueproxy`, :mod:`autoscale.activator`, :mod:`autoscale.scraper`; the
event loop that drives them is :mod:`autoscale.dataplane`. (The compiled functions of
one module call and inline those of another; the cache folder of :mod:`autoscale._numba`
is what makes that safe with numba's on-disk cache.)

Here: the random streams (SplitMix64, the twin of :mod:`autoscale.rng`), the latency
histogram bins, the completion heap, and the time integrals of pod, activator and
executing concurrency.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from llvmlite import ir as llvm_ir
from numba.core import types
from numba.extending import intrinsic

from ._numba import INLINE, JIT


# --- pod fields -------------------------------------------------------------------------
# float64 per pod: pf[b, F, p]
PF_CREATED, PF_READY_AT, PF_LAST, PF_INT, PF_PINT, PF_IDLE_SINCE, PF_ADDR = range(7)
N_PF = 7
# PF_ADDR: the pod's address, a random draw in [0, 1) at creation; the activator orders its
# backends by address, as Knative's throttler sorts them by their IP:port strings.
# int64 per pod: pi[b, F, p]; the last field, PI_ACT, is repeated once per activator: pi[b, PI_ACT + a, p]
# is the number of requests activator a has sent pod p and not yet seen answered.
PI_STATE, PI_EXEC, PI_QHEAD, PI_QLEN, PI_CONC, PI_PCONC, PI_ARR, PI_PARR, PI_AMASK, PI_ACT = range(10)
N_PI = 10  # with one activator; ``pod_fields(k)`` with k activators
# PI_AMASK: the activators (bit a for activator a) whose throttler is assigned the pod, kept
# only with several activators (``pkg/activator/net/throttler.go``, ``assignSlice``).
# pod states
EMPTY, STARTING, READY, DRAINING = 0, 1, 2, 3

# --- configuration fields -----------------------------------------------------------------
# float64 per configuration: cf[b, F]
(
    CF_A_LAST, CF_A_INT, CF_SW_TIME, CF_NEXT_READY, CF_LAT_MAX, CF_WAIT_MAX,
    CF_POD_SECONDS, CF_IDLE_SECONDS, CF_BUSY_SECONDS, CF_PUSH_TIME, CF_X_LAST, CF_X_INT,
    CF_KEEP_ALIVE, CF_FLOOR_TIME, CF_BNEXT, CF_BGAP, CF_SERVE_DELAY, CF_RETIRE_AT, CF_RETIRE_KA,
) = range(19)
N_CF = 19
# int64 per configuration: ci[b, F]
(
    CI_HSIZE, CI_ALEN, CI_ACONC, CI_AENTRY, CI_APUSHED, CI_INPATH, CI_SWTO,
    CI_TOTAL, CI_DONE, CI_503, CI_504, CI_COLD, CI_CREATED, CI_NREADY, CI_NSTART, CI_NDRAIN,
    CI_INSYS, CI_PHIGH, CI_XCONC, CI_ON_DEMAND, CI_FLOOR, CI_ACAP, CI_AREJ, CI_ASYNC, CI_NFIN, CI_BHEAD,
    CI_BLEN, CI_BINF, CI_BCONC, CI_NACT, CI_NSUB, CI_NSUB_WANT, CI_NPUSH, CI_KSIZE, CI_KBASE,
) = range(35)
N_CI = 35
# The activators: CI_NACT of them in the cluster, the first CI_NSUB of them in the revision's
# public endpoints (the subset the SKS gives it; CI_NSUB_WANT: the subset the control plane asks
# for, applied at the next second). Totals over the activators: CI_ALEN requests queued,
# CI_ACONC held (queued or proxied; CF_A_* its time integral), CI_AENTRY live stats entries,
# CI_APUSHED entries that pushed a first request since their last report; CI_NPUSH such pushes
# this second and CF_PUSH_TIME the first of them.
# Each activator a has a block of fields of its own after the configuration's: ci[b, act_i(a) + AI_*]
# and cf[b, act_f(a) + AF_*].
AI_HEAD, AI_LEN, AI_CONC, AI_ARR, AI_ENTRY, AI_PUSHED, AI_INDEX, AI_NA = range(8)
N_AI = 8
AF_LAST, AF_INT, AF_CREATED, AF_RR = range(4)
N_AF = 4
# AI_HEAD, AI_LEN: its FIFO queue, a_queue[b, a, :]; AI_CONC, AF_LAST, AF_INT: the requests it
# holds and their integral since its last report; AI_ARR: requests since that report; AI_ENTRY:
# its stats entry is live; AI_PUSHED: it pushed a first request since its last report; AF_CREATED:
# when the entry was made. AI_INDEX, AI_NA: its index in the revision's public endpoints and their
# count, as its throttler last saw them (-1, 0: never in them). AF_RR: the address of its last
# round-robin pick (-1 before the first).
# Requests carry the activator they came through as ``va`` (0: sent direct, a + 1: activator a):
# completion-heap info ``req * 128 + va * 2 + timed_out``, pod-queue codes ``req * 64 + va``.
# CF_RETIRE_AT: no ready idle pod's keep-alive runs out before this time, as long as the keep-alive
# is still CF_RETIRE_KA (set by the last scan of keep-alive retirement, lowered whenever a pod
# becomes ready or idle), so that a retirement check before it needs no scan of the pods.
MAX_ACTIVATORS = 32
# CF_SERVE_DELAY: the pods are wanted direct (Serve) but none is ready yet, so the path stays
# on the activator; the first pod to become ready sends the switch to Serve, which reaches
# the network this many seconds later (NaN: no such wish), as the SKS reconciler does when
# the private endpoints change (``pkg/reconciler/serverlessservice``).
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
# Closed-loop clients (CI_ASYNC = 2, :mod:`autoscale.clients`): client c's request has id
# CI_KBASE + c, and every one that ends goes to the finish buffer the same way, for the client
# to send its next; CI_KSIZE clients wait in the heap of next sends.
# Recording (CI_ASYNC = 3, ``replay(..., record=True)``): every request that starts executing
# (code 3, its start time) and every one that ends goes to the finish buffer, for the replay loop
# to keep each request's outcome.

# --- what the data plane reports at the end of each second: out[b, R] ----------------------
(
    R_CONC, R_PROXIED_CONC, R_RPS, R_PROXIED_RPS, R_SCRAPED, R_ACTIVATOR_CONC, R_ACTIVATOR_RPS, R_ACTIVATOR_REPORTED,
    R_BUSY, R_POD_CONC, R_SYSTEM_CONC,
) = range(11)
N_REPORT = 11
# R_CONC, R_RPS: the scraper's revision-wide estimate from its sample of the ready pods, and
# R_PROXIED_*: the part of it that came through the activator (subtracted, since the
# activator reports it itself); R_SCRAPED: 1 when the scraper had pods to sample.
# R_ACTIVATOR_*: the activator's stat, R_ACTIVATOR_REPORTED: 1 when it sent one.
# R_BUSY: exact mean number of requests executing (not queued) over the second;
# R_POD_CONC: exact total of every ready pod's mean concurrency (no sampling);
# R_SYSTEM_CONC: exact mean number of requests in the system (pods and the activator).

@nb.njit(**INLINE)
def pod_fields(activators):
    """Rows of the int64 pod array with ``activators`` activators."""
    return N_PI + activators - 1


@nb.njit(**INLINE)
def config_fields(activators):
    """Columns of the float64 and int64 configuration arrays with ``activators`` activators."""
    return N_CF + activators * N_AF, N_CI + activators * N_AI


@nb.njit(**INLINE)
def act_i(a):
    """First int64 column of activator ``a``'s fields."""
    return N_CI + a * N_AI


@nb.njit(**INLINE)
def act_f(a):
    """First float64 column of activator ``a``'s fields."""
    return N_CF + a * N_AF


@nb.njit(**JIT)
def reset_rows(cf, ci):
    """The data plane's per-configuration state before anything happens: nothing scheduled,
    the activator in the path, no keep-alive retirement, no activator pool limit, and as many
    activators as the arrays have room for, all in the revision's endpoints."""
    k = (ci.shape[1] - N_CI) // N_AI
    for b in range(ci.shape[0]):
        cf[b, CF_SW_TIME] = np.inf
        cf[b, CF_NEXT_READY] = np.inf
        cf[b, CF_PUSH_TIME] = np.nan
        cf[b, CF_KEEP_ALIVE] = np.inf
        cf[b, CF_RETIRE_KA] = np.nan
        cf[b, CF_SERVE_DELAY] = np.nan
        ci[b, CI_INPATH] = 1
        ci[b, CI_ACAP] = -1
        ci[b, CI_NACT] = k
        ci[b, CI_NSUB] = k
        ci[b, CI_NSUB_WANT] = k
        for a in range(k):
            cf[b, act_f(a) + AF_RR] = -1.0
            ci[b, act_i(a) + AI_INDEX] = a
            ci[b, act_i(a) + AI_NA] = k


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

_JIT = JIT
_INLINE = INLINE


# --- random streams: rng[b, RS_*], one SplitMix64 state per purpose -------------------------
# Each purpose draws from its own stream (common random numbers): a configuration that
# scrapes draws the same cold starts, routing and addresses as one that does not.
RS_COLD, RS_ROUTE, RS_SCRAPE, RS_ADDR, RS_ACT, RS_CLIENT = range(6)
N_RS = 6


@nb.njit(**_INLINE)
def _uniform(rng, b, k):
    """A float in [0, 1) from stream ``k`` of configuration ``b``."""
    s = rng[b, k] + _GOLDEN
    rng[b, k] = s
    z = s
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    z = z ^ (z >> _S31)
    return float(z >> _S11) * _INV53


@nb.njit(**_INLINE)
def _below(rng, b, k, n):
    """An integer in [0, n) from stream ``k`` of configuration ``b``."""
    i = int(_uniform(rng, b, k) * n)
    return i if i < n else n - 1




#: Lower edge of each histogram bin, seconds (bin 0 is everything below 1 us).
_HIST_EDGES = 10.0 ** (HIST_MIN_EXP + (np.arange(HIST_BINS + 1) - 1.0) / HIST_PER_DECADE)
_HIST_EDGES[0] = 0.0
_HIST_EDGES[-1] = np.inf
#: log10 of the middle of each of 4096 slices of the mantissa range [1, 2): a first guess
#: of the bin without calling log10 twice per request (it is most of the cost otherwise).
_MANTISSA_LOG10 = np.log10(1.0 + (np.arange(4096) + 0.5) / 4096.0)
_LOG10_2 = math.log10(2.0)


@intrinsic
def _float_bits(typingctx, x):
    """The 64 bits of a float64, as an int64 (a bit cast, no conversion)."""
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.IntType(64))

    return types.int64(types.float64), codegen


@nb.njit(**_INLINE)
def hist_bin(x):
    """Histogram bin of a latency of ``x`` seconds: 0 below 1 us, then 100 bins a decade.

    Bin k >= 1 holds ``[_HIST_EDGES[k], _HIST_EDGES[k + 1])``. The bin is guessed from the
    float's exponent and mantissa, then moved to the exact edge by comparison.
    """
    if x < 1e-6:
        return 0
    # x = 1.f * 2**e: e and the first 12 bits of f read from the float's bits (what
    # math.frexp gives, without a call into numba's C helper per request).
    bits = _float_bits(x)
    e = ((bits >> 52) & 0x7FF) - 1023
    l10 = e * _LOG10_2 + _MANTISSA_LOG10[(bits >> 40) & 0xFFF]
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
def _act_conc(cf, ci, b, a, t, d):
    """Change the requests activator ``a`` holds at time t (and the total), accumulating the integrals."""
    last = cf[b, CF_A_LAST]
    if t > last:
        cf[b, CF_A_INT] += ci[b, CI_ACONC] * (t - last)
        cf[b, CF_A_LAST] = t
    ci[b, CI_ACONC] += d
    fa = act_f(a)
    ia = act_i(a)
    last = cf[b, fa + AF_LAST]
    if t > last:
        cf[b, fa + AF_INT] += ci[b, ia + AI_CONC] * (t - last)
        cf[b, fa + AF_LAST] = t
    ci[b, ia + AI_CONC] += d


@nb.njit(**_INLINE)
def _exec_conc(cf, ci, b, t, d):
    last = cf[b, CF_X_LAST]
    if t > last:
        cf[b, CF_X_INT] += ci[b, CI_XCONC] * (t - last)
        cf[b, CF_X_LAST] = t
    ci[b, CI_XCONC] += d


@nb.njit(**_INLINE)
def _ended(fin, ci, b, req, code, t):
    """A request ended: an asynchronous attempt is recorded for the dispatcher (and frees its slot),
    a closed-loop client's request for its client, any request when recording."""
    mode = ci[b, CI_ASYNC]
    if mode == 1 or mode == 3 or (mode == 2 and req >= ci[b, CI_KBASE]):
        k = ci[b, CI_NFIN]
        fin[b, k, 0] = req
        fin[b, k, 1] = code
        fin[b, k, 2] = t
        ci[b, CI_NFIN] = k + 1
        if mode == 1:
            ci[b, CI_BINF] -= 1


@nb.njit(**_INLINE)
def _started(fin, ci, b, req, t):
    """A request started executing on a pod: recorded (code 3) when recording."""
    if ci[b, CI_ASYNC] == 3:
        k = ci[b, CI_NFIN]
        fin[b, k, 0] = req
        fin[b, k, 1] = 3
        fin[b, k, 2] = t
        ci[b, CI_NFIN] = k + 1
