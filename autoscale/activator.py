"""The activator: its request queue and its load balancing over the ready pods, and the Kubernetes service's random choice.

Compiled functions of one configuration's rows of the data plane's state arrays
(layout in :mod:`autoscale._state`), after knative/serving ``pkg/activator/net``
(``lb_policy.go``, ``throttler.go``): with CC = 0 a random choice of two by fewest
outstanding requests, with CC 1-3 the first pod with a free slot, above that round
robin from the last pick; a pod's capacity is CC requests sent by the activator. Under
a policy that scales per request, the newest instance with room (a FaaS front end).
In Serve mode requests bypass the activator to a ready pod chosen at random.
"""

from __future__ import annotations

import numba as nb

from ._numba import LEAF
from ._state import (
    CF_RR_ADDR, CI_AHEAD, CI_ALEN, CI_NREADY, CI_ON_DEMAND, CI_PHIGH, PF_ADDR, PF_CREATED, PI_ACT, PI_STATE, READY,
    RS_ROUTE, _INLINE, _act_conc, _below, _uniform,
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
def _pick_activator(pf, pi, cf, ci, rng, b, cc):
    """The pod the activator sends the next request to, or -1 if none has room.

    CC = 0: random choice of two by fewest outstanding requests; CC 1-3: first
    available in address order; CC > 3: round robin in address order from the last
    pick (``lb_policy.go``; the throttler sorts its pod trackers by address). Under a
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
        a1 = pi[b, PI_ACT, p1]
        a2 = pi[b, PI_ACT, p2]
        if a1 < a2:
            return p1
        if a2 < a1:
            return p2
        return p1 if _uniform(rng, b, RS_ROUTE) < 0.5 else p2
    # The backends in address order: the first with room (CC 1-3), or the first with room
    # after the last pick, wrapping round (CC > 3).
    after = cf[b, CF_RR_ADDR] if cc > 3 else -1.0
    first = nxt = -1
    for p in range(npods):
        if pi[b, PI_STATE, p] == READY and pi[b, PI_ACT, p] < cc:
            a = pf[b, PF_ADDR, p]
            if first < 0 or a < pf[b, PF_ADDR, first]:
                first = p
            if a > after and (nxt < 0 or a < pf[b, PF_ADDR, nxt]):
                nxt = p
    pick = nxt if nxt >= 0 else first
    if cc > 3 and pick >= 0:
        cf[b, CF_RR_ADDR] = pf[b, PF_ADDR, pick]
    return pick


@nb.njit(**LEAF)
def _dispatch(arrivals, durations, pf, pi, cf, ci, h_end, h_pod, h_info, p_queue, a_queue,
              hist_wait, fin, rng, b, t, cc, timeout):
    """Send queued activator requests to pods while some pod has room."""
    acap = a_queue.shape[1]
    while ci[b, CI_ALEN] > 0:
        p = _pick_activator(pf, pi, cf, ci, rng, b, cc)
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

