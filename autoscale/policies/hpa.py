"""The Kubernetes Horizontal Pod Autoscaler, autoscaling/v2, with its default behaviour."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from .base import Policy

__all__ = ["HPA"]


@dataclass
class _HPAState:
    recommendations: np.ndarray  # (B, slots): the last stabilisation window's recommendations
    times: np.ndarray  # (slots,): when each slot was written (-inf: empty)
    slot: int
    replicas: np.ndarray  # the scale's spec.replicas
    capacity: np.ndarray
    target: np.ndarray


class HPA(Policy):
    """Kubernetes' HPA (``pkg/controller/podautoscaler/horizontal.go`` and ``replica_calculator.go``).

    Every ``sync_period`` seconds (15 s, ``--horizontal-pod-autoscaler-sync-period``):

    1. **Metric.** ``metric="concurrency"``: the mean concurrency per ready pod (queued
       and executing requests, read from every pod, not sampled) over the last
       ``window`` seconds, against ``target`` requests per pod (default: each
       configuration's KPA target, ``container-concurrency-target-default`` or CC x
       utilisation). ``metric="cpu"``: CPU utilisation derived from busy time, the mean
       number of requests executing per ready pod divided by the requests a pod can run
       at full CPU (its containerConcurrency, 1 when CC is 0), against
       ``target_utilisation``.
    2. **Ratio rule.** ``ratio = metric / target``; inside the tolerance
       (``|ratio - 1| <= 0.1``) nothing changes. Pods still starting have no metric yet:
       on a scale-up they count as using nothing, on a scale-down as using the target,
       and if that brings the ratio inside the tolerance or reverses its direction the
       scale stays. Otherwise ``ceil(ratio x pods with a metric)``.
    3. **Behaviour** (the autoscaling/v2 defaults). Scale-up: no stabilisation; at most
       ``max(2 x current, current + 4)`` per 15 s period (the Percent 100 and Pods 4
       policies, selectPolicy Max). Scale-down: the highest recommendation of the last
       ``scale_down_stabilisation`` seconds (300 s); at most 100 % per period.
    4. **Bounds.** ``[min_replicas, max_replicas]``, at least 1 replica (the HPA cannot
       scale to zero).

    Requests go straight to a random ready pod (a Kubernetes Service); before the first
    pod is ready they wait in the activator.
    """

    name = "hpa"
    durations = ("window", "sync_period", "scale_down_stabilisation")
    routing = "direct"

    def __init__(self, metric: str = "concurrency", target: float | None = None, target_utilisation: float = 0.8,
                 window: int = 15, tolerance: float = 0.1, sync_period: int = 15,
                 scale_down_stabilisation: float = 300.0, min_replicas: int = 1, max_replicas: int = 0) -> None:
        if metric not in ("concurrency", "cpu"):
            raise ConfigError(f"hpa: metric = {metric!r}, must be 'concurrency' or 'cpu'")
        if target is not None and not (target > 0 and math.isfinite(target)):
            raise ConfigError(f"hpa: target = {target!r}, must be > 0 requests per pod")
        if not (0 < target_utilisation <= 1):
            raise ConfigError(f"hpa: target_utilisation = {target_utilisation!r}, must be in (0, 1]")
        for key, value in (("window", window), ("sync_period", sync_period)):
            if not (isinstance(value, (int, np.integer)) and value >= 1):
                raise ConfigError(f"hpa: {key} = {value!r}, must be a whole number of seconds >= 1")
        if not (0 <= tolerance < 1):
            raise ConfigError(f"hpa: tolerance = {tolerance!r}, must be in [0, 1)")
        if not (scale_down_stabilisation >= 0):
            raise ConfigError(f"hpa: scale_down_stabilisation = {scale_down_stabilisation!r} s, must be >= 0")
        if not (isinstance(min_replicas, (int, np.integer)) and min_replicas >= 1):
            raise ConfigError(f"hpa: min_replicas = {min_replicas!r}, must be a whole number >= 1")
        if not (isinstance(max_replicas, (int, np.integer)) and (max_replicas == 0 or max_replicas >= min_replicas)):
            raise ConfigError(f"hpa: max_replicas = {max_replicas!r}, must be 0 (unbounded) or >= min_replicas")
        self.metric = metric
        self.target = target
        self.target_utilisation = float(target_utilisation)
        self.window = int(window)
        self.tolerance = float(tolerance)
        self.period = int(sync_period)
        self.history = int(window)
        self.scale_down_stabilisation = float(scale_down_stabilisation)
        self.min_replicas = int(min_replicas)
        self.max_replicas = int(max_replicas)

    def params(self) -> dict:
        out = {"metric": self.metric}
        if self.metric == "concurrency":
            out["target"] = self.target
        else:
            out["target_utilisation"] = self.target_utilisation
        out.update(window=self.window, tolerance=self.tolerance, sync_period=self.period,
                   scale_down_stabilisation=self.scale_down_stabilisation, min_replicas=self.min_replicas,
                   max_replicas=self.max_replicas)
        return out

    def start(self, ctx):
        b = ctx.batch
        slots = max(1, int(math.ceil(self.scale_down_stabilisation / self.period)) + 1)
        cc = ctx.spec.container_concurrency
        if self.metric == "cpu":
            capacity = np.where(cc > 0, cc, 1).astype(np.float64)
            target = np.full(b, self.target_utilisation)
        else:
            capacity = np.ones(b)
            target = np.full(b, self.target) if self.target is not None else ctx.spec.target.astype(np.float64)
        return _HPAState(recommendations=np.zeros((b, slots), dtype=np.int64), times=np.full(slots, -np.inf),
                         slot=0, replicas=np.zeros(b, dtype=np.int64), capacity=capacity, target=target)

    def decide(self, state: _HPAState, signals):
        now = float(np.max(signals.now))
        current = state.replicas
        with_metric = signals.ready
        name = "busy" if self.metric == "cpu" else "pod_concurrency"
        total = signals.recent(name, self.window).mean(axis=1) / state.capacity  # summed over ready pods
        starting = np.maximum(current - with_metric, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(with_metric > 0, total / np.maximum(with_metric, 1) / state.target, 0.0)
            proposal = np.ceil(ratio * with_metric)
            # Pods without a metric: 0 usage on a scale-up, the target on a scale-down.
            up = ratio > 1
            pods = with_metric + starting
            usage = np.where(up, total / state.target, total / state.target + starting)
            ratio2 = np.where(pods > 0, usage / np.maximum(pods, 1), 0.0)
        within = np.abs(ratio - 1.0) <= self.tolerance
        flipped = (starting > 0) & ((np.abs(ratio2 - 1.0) <= self.tolerance) | ((ratio2 > 1) != up))
        proposal = np.where(starting > 0, np.ceil(ratio2 * pods), proposal)
        rec = np.where(within | flipped, current, proposal).astype(np.int64)
        rec = np.where(with_metric == 0, np.maximum(current, self.min_replicas), rec)  # no metrics yet

        # Scale-down stabilisation: the highest recommendation of the window (this one included).
        state.recommendations[:, state.slot] = rec
        state.times[state.slot] = now
        state.slot = (state.slot + 1) % state.times.size
        fresh = state.times > now - self.scale_down_stabilisation
        stabilised = np.where(rec < current, np.max(np.where(fresh, state.recommendations, 0), axis=1), rec)
        stabilised = np.minimum(np.maximum(stabilised, rec), np.maximum(current, rec))
        # Rate limits of the default behaviour, per 15 s period.
        up_limit = np.maximum(2 * current, current + 4)
        new = np.minimum(stabilised, up_limit)
        new = np.maximum(new, self.min_replicas)
        if self.max_replicas:
            new = np.minimum(new, self.max_replicas)
        state.replicas = np.where(signals.mask, new, current).astype(np.int64)
        return state.replicas.copy()
