"""Pods: cold starts, creation, readiness, draining and termination in ReplicaSet order, and idle retirement.

Compiled functions of one configuration's rows of the data plane's state arrays
(layout in :mod:`autoscale._state`): :func:`_apply_one` makes starting + ready pods equal
the deployment's replicas, removing starting pods first (newest first), then ready pods,
most recently ready first; a removed ready pod drains (it takes no new requests and
terminates when it holds none). Pod-seconds run from creation to termination.
"""

from __future__ import annotations

import math

import numba as nb

from ._numba import LEAF
from ._state import (
    CF_FLOOR_TIME, CF_IDLE_SECONDS, CF_KEEP_ALIVE, CF_NEXT_READY, CF_POD_SECONDS, CF_RETIRE_AT, CF_RETIRE_KA,
    CI_CREATED, CI_FLOOR, CI_NDRAIN, CI_NREADY, CI_NSTART, CI_PHIGH, DRAINING, EMPTY, INF, PF_ADDR, PF_CREATED, PF_IDLE_SINCE,
    PF_INT, PF_LAST, PF_PINT, PF_READY_AT, PI_EXEC, PI_QLEN, PI_STATE, READY, RS_ADDR, RS_COLD, STARTING, _INLINE,
    _below, _uniform,
)
from .activator import _assign


@nb.njit(**LEAF)
def _cold_start(rng, b, cs_kind, cs_par, cs_emp, cs_emp_n):
    kind = cs_kind[b]
    if kind == 0:
        return cs_par[b, 0]
    if kind == 1:
        u1 = 1.0 - _uniform(rng, b, RS_COLD)
        u2 = _uniform(rng, b, RS_COLD)
        z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
        return cs_par[b, 0] + math.exp(cs_par[b, 1] + cs_par[b, 2] * z)
    return cs_emp[b, _below(rng, b, RS_COLD, cs_emp_n[b])]


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


@nb.njit(**LEAF)
def _next_ready(pf, pi, ci, b):
    t = INF
    for p in range(ci[b, CI_PHIGH]):
        if pi[b, PI_STATE, p] == STARTING and pf[b, PF_READY_AT, p] < t:
            t = pf[b, PF_READY_AT, p]
    return t


@nb.njit(**LEAF)
def _new_pod(b, t, pf, pi, ci, rng, cs_kind, cs_par, cs_emp, cs_emp_n):
    """Create a pod at time t in the first empty slot (the caller made room); returns the slot."""
    for p in range(pi.shape[2]):
        if pi[b, PI_STATE, p] == EMPTY:
            break
    if p + 1 > ci[b, CI_PHIGH]:
        ci[b, CI_PHIGH] = p + 1
    pi[b, PI_STATE, p] = STARTING
    for f in range(pi.shape[1]):
        if f != PI_STATE:
            pi[b, f, p] = 0
    ready_at = t + _cold_start(rng, b, cs_kind, cs_par, cs_emp, cs_emp_n)
    pf[b, PF_ADDR, p] = _uniform(rng, b, RS_ADDR)
    pf[b, PF_CREATED, p] = t
    pf[b, PF_READY_AT, p] = ready_at
    pf[b, PF_LAST, p] = t
    pf[b, PF_INT, p] = 0.0
    pf[b, PF_PINT, p] = 0.0
    pf[b, PF_IDLE_SINCE, p] = t
    ci[b, CI_NSTART] += 1
    ci[b, CI_CREATED] += 1
    return p


@nb.njit(**_INLINE)
def _idle_from(cf, b, since):
    """A ready pod has nothing to do from time ``since``: its keep-alive runs out no earlier than
    ``since`` plus the keep-alive, so the bound :func:`_retire_idle` checks against comes down to that."""
    cf[b, CF_RETIRE_AT] = min(cf[b, CF_RETIRE_AT], since + cf[b, CF_KEEP_ALIVE])


@nb.njit(**LEAF)
def _retire_idle(pf, pi, cf, ci, b, t):
    """Remove ready pods idle for the keep-alive by time t, longest idle first, down to the floor.

    A pod's idle clock starts when it last finished a request, or when it became ready if
    it never served one; it is removed at the moment its keep-alive ran out (or when the
    floor last dropped, if later).
    """
    ka = cf[b, CF_KEEP_ALIVE]
    if ka == INF:
        return
    if ka == cf[b, CF_RETIRE_KA] and t < cf[b, CF_RETIRE_AT]:
        return  # no idle pod's keep-alive has run out yet (see _state)
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
            cf[b, CF_RETIRE_AT] = best
            cf[b, CF_RETIRE_KA] = ka
            return
        _terminate(pf, pi, cf, ci, b, victim, max(best, cf[b, CF_FLOOR_TIME]))


@nb.njit(**LEAF)
def _finish_one(b, t_end, pf, pi, cf):
    """Charge the pods of configuration ``b`` still alive at ``t_end``: pod-seconds, and idle time."""
    for p in range(pi.shape[2]):
        if pi[b, PI_STATE, p] != EMPTY:
            cf[b, CF_POD_SECONDS] += t_end - pf[b, PF_CREATED, p]
            if pi[b, PI_EXEC, p] == 0:
                cf[b, CF_IDLE_SECONDS] += t_end - pf[b, PF_IDLE_SINCE, p]


@nb.njit(**LEAF)
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
    _assign(pf, pi, ci, b)  # the activators' view of the ready pods

