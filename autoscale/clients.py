"""Closed-loop clients in the data plane: each sends its next request when the previous one is answered.

A load generator such as ``hey -c 20`` or k6's virtual users runs a fixed number of
clients; each sends a request, waits for its response (200, 503 or 504), waits its think
time, and sends the next, no sooner than its rate limit allows and only while it is
active (its pool's duration, or a k6 ramp's stage that counts it). The arrivals of such
a workload depend on the responses, so they are made inside the replay of each
configuration, from the configuration's own random stream ``RS_CLIENT``
(:mod:`autoscale.rng`): the service time of each request when it is sent, the think time
when its response arrives.

A client has at most one request in the system, so request ids are recycled: client
``c``'s current request is ``CI_KBASE + c`` in the data plane's arrival and duration
arrays, and memory does not grow with the number of requests. Times here are ingress
times: a client's request reaches the ingress one network delay after the client sent
it, and its response reaches the client one delay after the revision answered, so the
next request reaches the ingress ``2 x delay + think`` after the answer.

The arrays (one tuple ``cl`` that the data plane passes through, :class:`ClientArrays`):

* ``kf[b, KF_HEAP, i]``, ``ki[b, KI_HEAP, i]``: the heap of next sends, (time, client),
  ordered by time then client; ``ci[b, CI_KSIZE]`` entries;
* ``kf[b, KF_LAST, c]``: when client c's last request reached the ingress; ``ki[b, KI_SENT, c]``
  its requests so far; ``ki[b, KI_WIN, c]``: its current activity window;
* static: ``ks[KS_POOL, c]``, ``ks[KS_BUDGET, c]`` (requests it may send, -1: no limit),
  ``ks[KS_WIN, c] : ks[KS_WIN, c + 1]`` its windows ``kw[w] = (on, off)`` in ingress time;
  ``kp[pool, KP_*]`` each pool's network delay, rate gap, think and service distributions,
  ``ke[pool, :]`` its empirical service times;
* ``ko[b, pool, :]``: what a load generator reports per pool: requests sent, responses
  200 / 503 / 504, when the last response reached its client (integer microseconds),
  then the histogram of client-observed latencies (bins of :func:`autoscale._state.hist_bin`).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ._numba import INLINE, LEAF
from ._state import CI_KBASE, CI_KSIZE, CI_NFIN, HIST_BINS, RS_CLIENT, _below, _uniform, hist_bin

__all__ = ["ClientArrays", "no_clients"]

KF_HEAP, KF_LAST = range(2)
N_KF = 2
KI_HEAP, KI_SENT, KI_WIN = range(3)
N_KI = 3
KS_POOL, KS_BUDGET, KS_WIN = range(3)
N_KS = 3
(KP_DELAY, KP_GAP, KP_THINK_KIND, KP_THINK_A, KP_THINK_B, KP_SVC_KIND, KP_SVC_A, KP_SVC_B, KP_SVC_N) = range(9)
N_KP = 9
# Distribution kinds: none (0 s), constant a, exponential of mean a, lognormal exp(a + b z),
# empirical (uniform over ke[pool, :n]).
D_NONE, D_CONSTANT, D_EXPONENTIAL, D_LOGNORMAL, D_EMPIRICAL = range(5)
KO_SENT, KO_OK, KO_503, KO_504, KO_LAST, KO_HIST = range(6)
N_KO = KO_HIST + HIST_BINS


@nb.njit(**INLINE)
def _before(kf, ki, b, i, j):
    """Heap entry i comes before entry j: earlier, or as early and a lower client."""
    ti = kf[b, KF_HEAP, i]
    tj = kf[b, KF_HEAP, j]
    return ti < tj or (ti == tj and ki[b, KI_HEAP, i] < ki[b, KI_HEAP, j])


@nb.njit(**INLINE)
def _swap(kf, ki, b, i, j):
    t = kf[b, KF_HEAP, i]
    kf[b, KF_HEAP, i] = kf[b, KF_HEAP, j]
    kf[b, KF_HEAP, j] = t
    c = ki[b, KI_HEAP, i]
    ki[b, KI_HEAP, i] = ki[b, KI_HEAP, j]
    ki[b, KI_HEAP, j] = c


@nb.njit(**LEAF)
def _push(kf, ki, ci, b, t, c):
    i = ci[b, CI_KSIZE]
    ci[b, CI_KSIZE] = i + 1
    kf[b, KF_HEAP, i] = t
    ki[b, KI_HEAP, i] = c
    while i > 0:
        parent = (i - 1) >> 1
        if not _before(kf, ki, b, i, parent):
            break
        _swap(kf, ki, b, i, parent)
        i = parent


@nb.njit(**LEAF)
def _pop(kf, ki, ci, b):
    """Remove the first entry of the heap; returns its client."""
    c = ki[b, KI_HEAP, 0]
    n = ci[b, CI_KSIZE] - 1
    ci[b, CI_KSIZE] = n
    kf[b, KF_HEAP, 0] = kf[b, KF_HEAP, n]
    ki[b, KI_HEAP, 0] = ki[b, KI_HEAP, n]
    i = 0
    while True:
        first = i
        left = 2 * i + 1
        if left < n and _before(kf, ki, b, left, first):
            first = left
        if left + 1 < n and _before(kf, ki, b, left + 1, first):
            first = left + 1
        if first == i:
            break
        _swap(kf, ki, b, i, first)
        i = first
    return c


@nb.njit(**INLINE)
def next_send(kf, ci, b):
    """When the next client request reaches the ingress (INF: none is due)."""
    return kf[b, KF_HEAP, 0] if ci[b, CI_KSIZE] > 0 else np.inf


@nb.njit(**LEAF)
def _draw(rng, b, kind, a, sd, emp, pool, n):
    """A draw from one of the client distributions (seconds, >= 0)."""
    if kind == D_NONE:
        return 0.0
    if kind == D_CONSTANT:
        return a
    if kind == D_EXPONENTIAL:
        return -a * math.log(1.0 - _uniform(rng, b, RS_CLIENT))
    if kind == D_LOGNORMAL:
        u1 = 1.0 - _uniform(rng, b, RS_CLIENT)
        u2 = _uniform(rng, b, RS_CLIENT)
        return math.exp(a + sd * math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2))
    return emp[pool, _below(rng, b, RS_CLIENT, n)]


@nb.njit(**LEAF)
def _schedule(kf, ki, ks, kw, ci, b, c, t):
    """Client c wants to send at ingress time t: at t, or when its next activity window opens."""
    w = ki[b, KI_WIN, c]
    last = ks[KS_WIN, c + 1]
    while w < last and kw[w, 1] <= t:
        w += 1
    ki[b, KI_WIN, c] = w
    if w < last:
        _push(kf, ki, ci, b, max(t, kw[w, 0]), c)


@nb.njit(**LEAF)
def start_clients(ci, b, cl):
    """Before the first second: every client with requests to send waits for its first window."""
    kf, ki, ks, kw, kp, ke, ko = cl
    n = ks.shape[1] - 1
    ci[b, CI_KSIZE] = 0
    for c in range(n):
        ki[b, KI_WIN, c] = ks[KS_WIN, c]
        ki[b, KI_SENT, c] = 0
        kf[b, KF_LAST, c] = -np.inf
        if ks[KS_BUDGET, c] != 0:
            _schedule(kf, ki, ks, kw, ci, b, c, -np.inf)


@nb.njit(**LEAF)
def send(arrivals, durations, rng, ci, b, t, cl):
    """The first client of the heap sends its request, reaching the ingress at t; returns the request id."""
    kf, ki, ks, kw, kp, ke, ko = cl
    c = _pop(kf, ki, ci, b)
    pool = ks[KS_POOL, c]
    req = ci[b, CI_KBASE] + c
    arrivals[req] = t
    durations[req] = _draw(rng, b, np.int64(kp[pool, KP_SVC_KIND]), kp[pool, KP_SVC_A], kp[pool, KP_SVC_B], ke,
                           pool, np.int64(kp[pool, KP_SVC_N]))
    kf[b, KF_LAST, c] = t
    ki[b, KI_SENT, c] += 1
    ko[b, pool, KO_SENT] += 1
    return req


@nb.njit(**LEAF)
def answered(arrivals, rng, ci, fin, b, t, cl):
    """The clients whose requests ended (the finish buffer) count the response and plan their next request.

    ``t`` is the time of the event being handled; a response recorded for an earlier time
    (a request found expired in a queue-proxy's queue) sends no request before ``t``.
    """
    kf, ki, ks, kw, kp, ke, ko = cl
    base = ci[b, CI_KBASE]
    for k in range(ci[b, CI_NFIN]):
        req = np.int64(fin[b, k, 0])
        code = np.int64(fin[b, k, 1])
        end = fin[b, k, 2]
        c = req - base
        pool = ks[KS_POOL, c]
        delay = kp[pool, KP_DELAY]
        ko[b, pool, KO_OK + code] += 1
        ko[b, pool, KO_HIST + hist_bin(end - arrivals[req] + 2.0 * delay)] += 1
        seen = np.int64((end + delay) * 1e6 + 0.5)  # the response reaches the client, microseconds
        if seen > ko[b, pool, KO_LAST]:
            ko[b, pool, KO_LAST] = seen
        budget = ks[KS_BUDGET, c]
        if budget >= 0 and ki[b, KI_SENT, c] >= budget:
            continue
        think = _draw(rng, b, np.int64(kp[pool, KP_THINK_KIND]), kp[pool, KP_THINK_A], kp[pool, KP_THINK_B], ke,
                      pool, np.int64(1))
        nxt = end + 2.0 * delay + think
        gap = kp[pool, KP_GAP]
        if gap > 0.0 and kf[b, KF_LAST, c] + gap > nxt:
            nxt = kf[b, KF_LAST, c] + gap
        _schedule(kf, ki, ks, kw, ci, b, c, max(nxt, t))
    ci[b, CI_NFIN] = 0


class ClientArrays:
    """The compiled form of a workload's client pools for a batch of ``batch`` configurations.

    ``pools`` are :class:`autoscale.workload.Clients`; :meth:`cl` is the tuple the data plane
    takes; :attr:`out` (batch, pools, ``N_KO``) what each pool observed.
    """

    def __init__(self, pools, batch: int) -> None:
        self.pools = tuple(pools)
        n = sum(p.clients_max for p in self.pools)
        self.n = n
        windows, pool_of, budget, offsets = [], [], [], [0]
        emp_n = max([p.empirical_size for p in self.pools] + [1])
        kp = np.zeros((max(len(self.pools), 1), N_KP))
        ke = np.zeros((max(len(self.pools), 1), emp_n))
        for k, p in enumerate(self.pools):
            kp[k] = p.parameters()
            emp = p.empirical_samples()
            ke[k, : emp.size] = emp
            for c in range(p.clients_max):
                w = p.windows(c)
                windows.extend(w)
                offsets.append(offsets[-1] + len(w))
                pool_of.append(k)
                budget.append(-1 if p.requests is None else p.requests)
        self.ks = np.zeros((N_KS, n + 1), dtype=np.int64)
        self.ks[KS_POOL, :n] = pool_of
        self.ks[KS_BUDGET, :n] = budget
        self.ks[KS_WIN] = offsets
        self.kw = np.asarray(windows, dtype=np.float64).reshape(-1, 2) if windows else np.zeros((0, 2))
        self.kp, self.ke = kp, ke
        self.kf = np.zeros((batch, N_KF, max(n, 1)))
        self.ki = np.zeros((batch, N_KI, max(n, 1)), dtype=np.int64)
        self.out = np.zeros((batch, max(len(self.pools), 1), N_KO), dtype=np.int64)

    def cl(self):
        return (self.kf, self.ki, self.ks, self.kw, self.kp, self.ke, self.out)

    def outcome(self, duration: float):
        """What the pools observed over a replay of ``duration`` seconds (:class:`autoscale.workload.LoadOutcome`)."""
        from .workload import LoadOutcome

        return LoadOutcome(self.pools, self.out, duration)


def no_clients(batch: int = 1):
    """The client arrays of a workload without clients."""
    return ClientArrays((), batch).cl()
