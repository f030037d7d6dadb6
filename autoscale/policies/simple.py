"""Two baselines: a fixed number of pods, and scale per request with a fixed keep-alive."""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError
from .base import Policy

__all__ = ["Fixed", "KeepAlive"]


class Fixed(Policy):
    """Always ``replicas`` pods, from time 0 (a provisioned deployment without an autoscaler).

    Requests go straight to a random ready pod (a Kubernetes Service); until the first
    pod is ready they wait in the activator.
    """

    name = "fixed"
    period = 1
    routing = "direct"

    def __init__(self, replicas: int = 1) -> None:
        if not (isinstance(replicas, (int, np.integer)) and replicas >= 0):
            raise ConfigError(f"fixed: replicas = {replicas!r}, must be a whole number >= 0")
        self.replicas = int(replicas)

    def decide(self, state, signals):
        return np.full(signals.mask.shape, self.replicas, dtype=np.int64)

    def params(self) -> dict:
        return {"replicas": self.replicas}


class KeepAlive(Policy):
    """Scale per request with a fixed keep-alive: the AWS Lambda and Azure Functions model.

    A request goes to the newest instance with a free slot; one that finds none is a
    cold start and runs on an instance of its own, started at its arrival (or one still
    starting with a free slot). An instance runs ``containerConcurrency`` requests at
    once (set CC 1 for one request per instance, as Lambda does) and is removed after
    ``keep_alive`` seconds without a request. Nothing else scales: the policy's decision is "no
    pre-warmed instances". Lambda keeps instances about 10 minutes and Azure Functions 20
    (Shahrad et al., USENIX ATC 2020, §4); the default here is 10 minutes.
    """

    name = "keepalive"
    durations = ("keep_alive",)
    period = 1
    routing = "activator"
    on_demand = True

    def __init__(self, keep_alive: float = 600.0) -> None:
        keep_alive = float(keep_alive)
        if not (keep_alive >= 0 and math.isfinite(keep_alive)):
            raise ConfigError(f"keepalive: keep_alive = {keep_alive!r} s, must be finite and >= 0")
        self.seconds = keep_alive

    def decide(self, state, signals):
        return np.zeros(signals.mask.shape, dtype=np.int64)

    def keep_alive(self, state):
        return self.seconds

    def params(self) -> dict:
        return {"keep_alive": self.seconds}
