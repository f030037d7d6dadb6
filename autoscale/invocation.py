"""Asynchronous invocation: a queue in front of the service, a dispatcher, retries with backoff, dead letters.

With ``replay(..., invocation=Async(...))`` requests do not reach the service when they
arrive: they enter a queue (as with an event broker or a platform's async invoke API),
and a dispatcher drains it into the service in arrival order, with at most
``concurrency`` invocations in flight and at most ``rate`` dispatches a second. An
invocation that fails (503, or 504 at the revision timeout) is retried after a backoff,
``backoff_delay x 2**k`` (exponential) or ``backoff_delay x k`` (linear) for the k-th
retry, up to ``retries`` times; then it is dead-lettered (sent to the failure
destination). This follows Knative Eventing's delivery spec (``retry``,
``backoffPolicy``, ``backoffDelay``); the defaults are those of its
``config-br-defaults`` (10 retries, exponential, 0.2 s).

The dispatcher runs inside the data plane at exact event times: a slot freed by a
finishing invocation is refilled at that instant. Every attempt reaches the service as
a request of its own, so the service's counters (requests, 503, 504, latency) count
attempts; :class:`AsyncOutcome` counts the original requests: completed, dead-lettered,
still pending at the end, retries, the queueing delay of each attempt (from the time it
may be dispatched to its dispatch) and the time to completion (from the request's
arrival to the end of its successful attempt).

Memory: the data plane keeps an entry per attempt while it is queued or in flight, and
reuses it once the attempt has ended, so an asynchronous replay's memory follows the
attempts in flight at once (``AsyncOutcome.attempt_slots``), not batch x requests.

Examples
--------
>>> from autoscale import KPAConfig, replay
>>> from autoscale.invocation import Async
>>> from autoscale.trace import synthetic
>>> trace = synthetic.poisson(rate=20.0, duration=60.0, service=synthetic.constant(0.5), seed=3)
>>> r = replay(trace, KPAConfig(container_concurrency=1), invocation=Async(concurrency=4))
>>> s = r.summary.iloc[0]
>>> int(s["async_completed"] + s["dead_lettered"] + s["async_pending"]) == len(trace)
True
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

from ._state import HIST_BINS, hist_add
from .errors import ConfigError

__all__ = ["Async", "AsyncOutcome", "AsyncLayer"]

_POLICIES = ("exponential", "linear")


@dataclass(frozen=True)
class Async:
    """How requests are invoked asynchronously.

    Parameters
    ----------
    concurrency : int
        Invocations in flight at most (0: no limit).
    rate : float
        Dispatches per second at most (``inf``: no limit).
    retries : int
        Retries after the first attempt before a request is dead-lettered.
    backoff_delay : float
        Seconds; the k-th retry waits ``backoff_delay x 2**k`` (exponential) or
        ``backoff_delay x k`` (linear) after the failure.
    backoff_policy : str
        ``"exponential"`` or ``"linear"``.
    """

    concurrency: int = 0
    rate: float = math.inf
    retries: int = 10
    backoff_delay: float = 0.2
    backoff_policy: str = "exponential"

    def __post_init__(self) -> None:
        if not (isinstance(self.concurrency, (int, np.integer)) and self.concurrency >= 0):
            raise ConfigError(f"async concurrency = {self.concurrency!r}, must be a whole number >= 0 (0: no limit)")
        if not (self.rate > 0):
            raise ConfigError(f"async rate = {self.rate!r} per second, must be > 0 (inf: no limit)")
        if not (isinstance(self.retries, (int, np.integer)) and 0 <= self.retries <= 1000):
            raise ConfigError(f"async retries = {self.retries!r}, must be a whole number in [0, 1000]")
        if not (math.isfinite(self.backoff_delay) and self.backoff_delay >= 0):
            raise ConfigError(f"async backoff_delay = {self.backoff_delay!r} s, must be finite and >= 0")
        if self.backoff_policy not in _POLICIES:
            raise ConfigError(f"async backoff_policy = {self.backoff_policy!r}, must be one of {', '.join(_POLICIES)}")

    def backoff(self, k: int) -> float:
        """Seconds before the k-th retry (k >= 1)."""
        if self.backoff_policy == "linear":
            return self.backoff_delay * k
        return self.backoff_delay * 2.0**k


@dataclass(eq=False)
class AsyncOutcome:
    """What happened to the original requests of an asynchronous replay, per configuration (arrays of shape (B,))."""

    requests: np.ndarray
    completed: np.ndarray
    dead_lettered: np.ndarray
    pending: np.ndarray  #: queued, in flight or waiting to be retried at the end
    waiting: np.ndarray  #: of those, not dispatched: in the dispatcher's queue or waiting for a retry
    retries: np.ndarray
    completion_hist: np.ndarray  #: (B, bins) time to completion of completed requests
    completion_max: np.ndarray
    queue_hist: np.ndarray  #: (B, bins) queueing delay of every dispatched attempt
    queue_max: np.ndarray
    settings: Async
    #: entries of the data plane's attempt table at the end: the most attempts queued or in flight at once over
    #: the batch (memory follows this, not the requests)
    attempt_slots: int = 0


class AsyncLayer:
    """The dispatcher's bookkeeping around a data plane in asynchronous mode (used by the engine)."""

    def __init__(self, settings: Async, dp, streams, batch: int) -> None:
        self.settings = settings
        self.dp = dp
        self.batch = batch
        self.arrivals = streams.arrivals
        self.durations = streams.durations
        if streams.segments is None:
            self.start = np.zeros(batch, dtype=np.int64)
            self.end = np.full(batch, self.arrivals.size, dtype=np.int64)
        else:
            self.start, self.end = (np.asarray(x, dtype=np.int64) for x in streams.segments)
        self.next = self.start.copy()
        dp.set_async(np.full(batch, settings.concurrency), np.full(batch, settings.rate))
        # Per attempt id (the data plane's request index): original request and attempt number.
        self.orig = np.zeros(0, dtype=np.int64)
        self.tries = np.zeros(0, dtype=np.int64)
        self.waiting: list[list] = [[] for _ in range(batch)]  # retry heaps: (ready, original, attempt)
        z = lambda: np.zeros(batch, dtype=np.int64)  # noqa: E731
        self.completed, self.dead, self.retries, self.requests = z(), z(), z(), z()
        self.completion_hist = np.zeros((batch, HIST_BINS), dtype=np.int64)
        self.queue_hist = np.zeros((batch, HIST_BINS), dtype=np.int64)
        self.completion_max = np.zeros(batch)
        self.queue_max = np.zeros(batch)

    def _attempts(self, originals: np.ndarray, tries: np.ndarray, ready: np.ndarray) -> np.ndarray:
        ids = self.dp.add_attempts(self.durations[originals], ready)
        if ids.size and ids[-1] >= self.orig.size:
            cap = max(int(ids[-1]) + 1, 2 * self.orig.size)
            self.orig = np.resize(self.orig, cap)
            self.tries = np.resize(self.tries, cap)
        self.orig[ids] = originals
        self.tries[ids] = tries
        return ids

    def feed(self, s: int) -> None:
        """Queue the requests arriving in second s and the retries due in it, in time order."""
        t1 = float(s + 1)
        for b in range(self.batch):
            lo = int(self.next[b])
            hi = lo + int(np.searchsorted(self.arrivals[lo:self.end[b]], t1, side="left"))
            self.next[b] = hi
            fresh = np.arange(lo, hi, dtype=np.int64)
            self.requests[b] += fresh.size
            heap = self.waiting[b]
            due = []
            while heap and heap[0][0] < t1:
                due.append(heapq.heappop(heap))
            originals = np.concatenate([fresh, np.array([d[1] for d in due], dtype=np.int64)])
            if not originals.size:
                continue
            ready = np.concatenate([self.arrivals[fresh], np.array([d[0] for d in due])])
            tries = np.concatenate([np.zeros(fresh.size, dtype=np.int64), np.array([d[2] for d in due], dtype=np.int64)])
            order = np.argsort(ready, kind="stable")
            ids = self._attempts(originals[order], tries[order], ready[order])
            self.dp.enqueue(b, ids)

    def collect(self, s: int) -> None:
        """Account the attempts that ended in second s: completions, retries and dead letters."""
        settings = self.settings
        for b in range(self.batch):
            done = self.dp.finished(b)
            if not done.size:
                continue
            ids = done[:, 0].astype(np.int64)
            codes = done[:, 1].astype(np.int64)
            ends = done[:, 2]
            waits = self.dp.arrivals[ids] - self.dp.att_ready[ids]
            hist_add(self.queue_hist, b, waits)
            self.queue_max[b] = max(self.queue_max[b], waits.max())
            ok = codes == 0
            if ok.any():
                totals = ends[ok] - self.arrivals[self.orig[ids[ok]]]
                hist_add(self.completion_hist, b, totals)
                self.completion_max[b] = max(self.completion_max[b], totals.max())
            self.completed[b] += int(ok.sum())
            for i in np.flatnonzero(~ok):
                k = int(self.tries[ids[i]]) + 1
                if k <= settings.retries:
                    heapq.heappush(self.waiting[b], (float(ends[i]) + settings.backoff(k), int(self.orig[ids[i]]), k))
                    self.retries[b] += 1
                else:
                    self.dead[b] += 1
            # Every attempt that ended is accounted: its id may name the next attempt queued.
            self.dp.release(ids)

    def busy(self) -> bool:
        """Some request has neither completed nor been dead-lettered."""
        return bool(np.any(self.requests - self.completed - self.dead > 0))

    def result(self) -> AsyncOutcome:
        return AsyncOutcome(
            requests=self.requests.copy(), completed=self.completed.copy(), dead_lettered=self.dead.copy(),
            pending=self.requests - self.completed - self.dead,
            waiting=self.dp.backlog + np.array([len(h) for h in self.waiting], dtype=np.int64),
            retries=self.retries.copy(),
            completion_hist=self.completion_hist, completion_max=self.completion_max,
            queue_hist=self.queue_hist, queue_max=self.queue_max, settings=self.settings,
            attempt_slots=self.dp.attempt_slots,
        )
