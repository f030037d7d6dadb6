"""The activators: their queues and load balancing over the ready pods, and the Kubernetes service's random choice.

Compiled functions of one configuration's rows of the data plane's state arrays
(layout in :mod:`autoscale._state`), after knative/serving ``pkg/activator/net``
(``lb_policy.go``, ``throttler.go``): with CC = 0 a random choice of two by fewest
outstanding requests, with CC 1-3 the first pod with a free slot, above that round
robin from the last pick; a pod's capacity is CC requests sent by the activator. Under
a policy that scales per request, the newest instance with room (a FaaS front end).
In Serve mode requests bypass the activator to a ready pod chosen at random.

Several activators: the ingress sends each request to one of the activators in the
revision's public endpoints at random; each has its own queue, stats entry and
throttler, and with CC > 0 its throttler uses only the pods assigned to it
(``assignSlice``, ``pickIndices``): the ready pods in address order, cut into equal
slices by the activator's index, the remnants one each to the first activators; every
pod when it is the only one, when there is one activator, or when the activator has
never been in the endpoints; one pod (index mod pods) when there are more activators
than pods. Each activator counts only its own requests against a pod's CC, so two
activators can send one pod 2 x CC requests (its queue-proxy queues the excess).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ._numba import LEAF
from ._state import (
    AF_RR, AI_HEAD, AI_INDEX, AI_LEN, AI_NA, CI_ALEN, CI_NACT, CI_NREADY, CI_NSUB, CI_ON_DEMAND, CI_PHIGH, PF_ADDR,
    PF_CREATED, PI_ACT, PI_AMASK, PI_STATE, READY, RS_ACT, RS_ROUTE, _INLINE, _act_conc, _below, _float_bits,
    _uniform, act_f, act_i,
)
from .queueproxy import _admit


@nb.njit(**_INLINE)
def _kth_ready(pi, b, npods, k):
    """The slot of the ``k``-th ready pod in slot order, or -1."""
    j = 0
    for p in range(npods):
        if pi[b, PI_STATE, p] == READY:
            if j == k:
                return p
            j += 1
    return -1


@nb.njit(**_INLINE)
def _pick_ready(pi, ci, rng, b):
    """A ready pod chosen uniformly at random (the Kubernetes service), or -1."""
    nready = ci[b, CI_NREADY]
    if nready == 0:
        return -1
    return _kth_ready(pi, b, ci[b, CI_PHIGH], _below(rng, b, RS_ROUTE, nready))


@nb.njit(**LEAF)
def _assign(pf, pi, ci, b):
    """The activators each ready pod is assigned to, from its place in address order (several activators).

    ``pkg/activator/net/throttler.go``: ``assignSlice`` and ``pickIndices`` per activator, on
    its own index and count of activators. (With CC = 0 every activator uses every pod, and
    :func:`_pick_activator` does not look at the assignment.) Called whenever the ready pods
    or the activators' endpoints change.
    """
    k = ci[b, CI_NACT]
    if k == 1:
        return
    npods = ci[b, CI_PHIGH]
    lt = ci[b, CI_NREADY]
    for p in range(npods):
        if pi[b, PI_STATE, p] != READY:
            continue
        r = 0
        ap = pf[b, PF_ADDR, p]
        for q in range(npods):
            if pi[b, PI_STATE, q] == READY and (pf[b, PF_ADDR, q] < ap or (pf[b, PF_ADDR, q] == ap and q < p)):
                r += 1
        mask = 0
        for a in range(k):
            ia = act_i(a)
            ai = ci[b, ia + AI_INDEX]
            na = ci[b, ia + AI_NA]
            if ai < 0 or lt <= 1 or na <= 1:
                mine = True
            elif na > lt:
                mine = r == ai % lt
            else:
                size = lt // na
                rem = lt % na
                mine = (ai * size <= r < ai * size + size) or (ai < rem and r == lt - rem + ai)
            if mine:
                mask |= 1 << a
        pi[b, PI_AMASK, p] = mask


@nb.njit(**LEAF)
def _set_subset(pf, pi, ci, b, n):
    """The revision's public endpoints now hold activators 0 .. n-1: each learns its index and their count.

    An activator that leaves the endpoints keeps what it last saw (``handlePubEpsUpdate``
    ignores endpoints it is not in) and goes on serving the requests it holds.
    """
    ci[b, CI_NSUB] = n
    for a in range(n):
        ia = act_i(a)
        ci[b, ia + AI_INDEX] = a
        ci[b, ia + AI_NA] = n
    _assign(pf, pi, ci, b)


@nb.njit(**_INLINE)
def _choose_activator(ci, rng, b):
    """The activator the ingress sends the next request to: one of the endpoints' at random."""
    n = ci[b, CI_NSUB]
    if n <= 1:
        return 0
    return _below(rng, b, RS_ACT, n)


@nb.njit(**_INLINE)
def _pick_activator(pf, pi, cf, ci, rng, b, cc, a):
    """The pod activator ``a`` sends its next request to, or -1 if none has room.

    CC = 0: random choice of two by fewest outstanding requests; CC 1-3: first
    available in address order; CC > 3: round robin in address order from the last
    pick (``lb_policy.go``; the throttler sorts its pod trackers by address). With several
    activators, among the pods assigned to ``a`` and counting only its own requests.
    Under a policy that scales per request: the newest instance with room.
    """
    npods = ci[b, CI_PHIGH]
    fa = PI_ACT + a
    if ci[b, CI_ON_DEMAND] == 1 and cc > 0:
        # A FaaS front end: the newest instance with room, so that older ones idle and expire.
        # The newest creation time among the instances with room, then the first instance
        # in slot order created then (what one scan keeping the first newest picks).
        # Creation times are not negative, so their bits order as they do: the first loop
        # is a plain maximum of integers, with no dependence on where it was found.
        newest = np.int64(-1)
        for p in range(npods):
            room = (pi[b, PI_STATE, p] == READY) & (pi[b, fa, p] < cc)
            key = _float_bits(pf[b, PF_CREATED, p] + 0.0) if room else np.int64(-1)  # + 0.0: no -0.0
            if key > newest:
                newest = key
        if newest >= 0:
            for p in range(npods):
                if (_float_bits(pf[b, PF_CREATED, p] + 0.0) == newest and pi[b, PI_STATE, p] == READY
                        and pi[b, fa, p] < cc):
                    return p
        return -1
    if cc == 0:
        nready = ci[b, CI_NREADY]
        if nready == 0:
            return -1
        if nready == 1:
            return _kth_ready(pi, b, npods, 0)
        k1 = _below(rng, b, RS_ROUTE, nready)
        k2 = _below(rng, b, RS_ROUTE, nready - 1)
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
        a1 = pi[b, fa, p1]
        a2 = pi[b, fa, p2]
        if a1 < a2:
            return p1
        if a2 < a1:
            return p2
        return p1 if _uniform(rng, b, RS_ROUTE) < 0.5 else p2
    # The backends in address order: the first with room (CC 1-3), or the first with room
    # after the last pick, wrapping round (CC > 3).
    rr = act_f(a) + AF_RR
    after = cf[b, rr] if cc > 3 else -1.0
    several = ci[b, CI_NACT] > 1
    bit = 1 << a
    first = nxt = -1
    for p in range(npods):
        if pi[b, PI_STATE, p] == READY and pi[b, fa, p] < cc and (not several or (pi[b, PI_AMASK, p] & bit) != 0):
            ad = pf[b, PF_ADDR, p]
            if first < 0 or ad < pf[b, PF_ADDR, first]:
                first = p
            if ad > after and (nxt < 0 or ad < pf[b, PF_ADDR, nxt]):
                nxt = p
    pick = nxt if nxt >= 0 else first
    if cc > 3 and pick >= 0:
        cf[b, rr] = pf[b, PF_ADDR, pick]
    return pick


@nb.njit(**_INLINE)
def _dispatch(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, a_queue,
              hist_wait, fin, rng, b, t, cc, timeout, a):
    """Send activator ``a``'s queued requests to pods while one of its pods has room."""
    ia = act_i(a)
    while ci[b, ia + AI_LEN] > 0:
        p = _pick_activator(pf, pi, cf, ci, rng, b, cc, a)
        if p < 0:
            return
        req = _dequeue(a_queue, ci, b, a)
        pi[b, PI_ACT + a, p] += 1
        if not _admit(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, hist_wait, fin,
                      b, p, t, req, a + 1, cc, timeout):
            pi[b, PI_ACT + a, p] -= 1
            _act_conc(cf, ci, b, a, t, -1)


@nb.njit(**LEAF)
def _dispatch_all(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, a_queue,
                  hist_wait, fin, rng, b, t, cc, timeout):
    """Every activator with queued requests dispatches (pods or their assignment changed)."""
    for a in range(ci[b, CI_NACT]):
        if ci[b, act_i(a) + AI_LEN] > 0:
            _dispatch(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, a_queue,
                      hist_wait, fin, rng, b, t, cc, timeout, a)


@nb.njit(**_INLINE)
def _enqueue(a_queue, ci, b, a, req):
    """Put request ``req`` at the tail of activator ``a``'s queue (the caller made room)."""
    ia = act_i(a)
    acap = a_queue.shape[2]
    a_queue[b, a, (ci[b, ia + AI_HEAD] + ci[b, ia + AI_LEN]) % acap] = req
    ci[b, ia + AI_LEN] += 1
    ci[b, CI_ALEN] += 1


@nb.njit(**_INLINE)
def _dequeue(a_queue, ci, b, a):
    """Take the request at the head of activator ``a``'s queue (the caller checked it is not empty)."""
    ia = act_i(a)
    head = ci[b, ia + AI_HEAD]
    ci[b, ia + AI_HEAD] = (head + 1) % a_queue.shape[2]
    ci[b, ia + AI_LEN] -= 1
    ci[b, CI_ALEN] -= 1
    return a_queue[b, a, head]


@nb.njit(**_INLINE)
def _oldest_deadline(arrivals, a_queue, ci, b, timeout):
    """The activator whose oldest queued request reaches the revision timeout first, and when (-1, inf: none)."""
    best = -1
    tt = np.inf
    if ci[b, CI_ALEN] == 0:
        return best, tt
    for a in range(ci[b, CI_NACT]):
        ia = act_i(a)
        if ci[b, ia + AI_LEN] > 0:
            d = arrivals[a_queue[b, a, ci[b, ia + AI_HEAD]]] + timeout
            if d < tt:
                tt = d
                best = a
    return best, tt
