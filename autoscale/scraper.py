"""The end of each second: queue-proxy reports, the autoscaler's scrape of the ready pods, and the activator's stat.

Compiled, for one configuration's rows of the data plane's state arrays (layout in
:mod:`autoscale._state`), after knative/serving ``pkg/autoscaler/metrics``
(``stats_scraper.go``: the sample size ``n(N)``, pods older than a stable window first)
and ``pkg/activator/handler`` (the activator's stats, the immediate first-request push
and its subtraction). :func:`_report_one` writes the reports into ``out[b, R_*]``.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ._numba import LEAF
from ._state import (
    AF_CREATED, AF_INT, AI_ARR, AI_ENTRY, AI_PUSHED, CF_A_INT, CF_X_INT, CI_AENTRY, CI_APUSHED, CI_NACT, CI_PHIGH,
    DRAINING, EMPTY, N_REPORT,
    PF_CREATED, PF_INT, PF_PINT, PI_ARR, PI_EXEC, PI_PARR, PI_QHEAD, PI_QLEN, PI_STATE, READY, R_ACTIVATOR_CONC,
    R_ACTIVATOR_REPORTED, R_ACTIVATOR_RPS, R_BUSY, R_CONC, R_POD_CONC, R_PROXIED_CONC, R_PROXIED_RPS, R_RPS,
    R_SCRAPED, R_SYSTEM_CONC, RS_SCRAPE, _act_conc, _below, _exec_conc, _pod_conc, act_f, act_i,
)
from .pods import _retire_idle, _terminate
from .queueproxy import _expire_queued


_SAMPLE_X = 1.96 * 1.96 * 100.0 / (5.0 * 5.0)  # 15.3664


@nb.njit(**LEAF)
def sample_size(n):
    """Pods the scraper samples out of n ready ones: all up to 3, then ceil(n X / (n + X - 1))."""
    if n <= 3:
        return n
    return int(math.ceil(n * _SAMPLE_X / (n + _SAMPLE_X - 1.0)))


@nb.njit(**LEAF)
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
            expiry = arrivals[code >> 6] + to
            if expiry <= t1:
                pi[b, PI_QLEN, p] -= 1
                _expire_queued(pf, pi, cf, ci, fin, b, p, t1, expiry, code & 63, code >> 6)
            else:
                p_queue[b, p, (head + kept) % qcap] = code
                kept += 1
        if st == DRAINING and pi[b, PI_EXEC, p] == 0 and pi[b, PI_QLEN, p] == 0:
            _terminate(pf, pi, cf, ci, b, p, t1)
    # Per-pod averages over the second, stored; scrape samples the ready ones.
    nready = np.int64(0)  # int64, not a literal 0: sample_size compiles once
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
    for k in range(N_REPORT):
        out[b, k] = 0.0
    _exec_conc(cf, ci, b, t1, 0)
    out[b, R_BUSY] = cf[b, CF_X_INT]
    cf[b, CF_X_INT] = 0.0
    out[b, R_POD_CONC] = exact
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
                k = lo + i + _below(rng, b, RS_SCRAPE, m - i)
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
        out[b, R_CONC] = sc / n * nready
        out[b, R_PROXIED_CONC] = spc / n * nready
        out[b, R_RPS] = sr / n * nready
        out[b, R_PROXIED_RPS] = spr / n * nready
        out[b, R_SCRAPED] = 1.0
    for p in range(npods):
        if pi[b, PI_STATE, p] != EMPTY:
            pf[b, PF_INT, p] = 0.0
            pf[b, PF_PINT, p] = 0.0
            pi[b, PI_ARR, p] = 0
            pi[b, PI_PARR, p] = 0
    # Each activator's report: subtract the immediate first-request push; drop an idle entry.
    # The autoscaler records every activator's stat in the same second's buckets, so the
    # revision's activator signal is their sum.
    _act_conc(cf, ci, b, 0, t1, 0)
    out[b, R_SYSTEM_CONC] = direct + cf[b, CF_A_INT]
    if ci[b, CI_AENTRY] > 0:
        conc = 0.0
        rps = 0.0
        for a in range(ci[b, CI_NACT]):
            ia = act_i(a)
            fa = act_f(a)
            if ci[b, ia + AI_ENTRY] == 0:
                continue
            _act_conc(cf, ci, b, a, t1, 0)
            # The first report of a new stats entry averages from the entry's creation.
            since = max(cf[b, fa + AF_CREATED], t1 - 1.0)
            avg = cf[b, fa + AF_INT] / (t1 - since)
            cnt = float(ci[b, ia + AI_ARR])
            if avg == 0.0:
                ci[b, ia + AI_ENTRY] = 0
                ci[b, CI_AENTRY] -= 1
            if ci[b, ia + AI_PUSHED] == 1:
                avg = max(avg - 1.0, 0.0)
                cnt = max(cnt - 1.0, 0.0)
            conc += avg
            rps += cnt
        out[b, R_ACTIVATOR_CONC] = conc
        out[b, R_ACTIVATOR_RPS] = rps
        out[b, R_ACTIVATOR_REPORTED] = 1.0
    ci[b, CI_APUSHED] = 0
    cf[b, CF_A_INT] = 0.0
    for a in range(ci[b, CI_NACT]):
        ia = act_i(a)
        ci[b, ia + AI_PUSHED] = 0
        ci[b, ia + AI_ARR] = 0
        cf[b, act_f(a) + AF_INT] = 0.0
