"""A batch of resolved configurations as arrays, the form the control plane and the engine compute on.

The batch is the leading axis of every array. A configuration inside a batch gives
exactly what it gives alone, because every rule here is applied element-wise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .config import Aggregation, KPAConfig, Metric

__all__ = ["KPASpec", "as_batch"]

# Columns of the packed parameter tables (KPASpec.packed) that the compiled rules read.
(
    P_TARGET, P_TOTAL, P_TBC, P_UP_RATE, P_DOWN_RATE, P_PANIC_THRESHOLD, P_SCALE_DOWN_DELAY, P_GRACE,
    P_RETENTION, P_ACTIVATION_TIMEOUT, P_ACTIVATOR_CAPACITY, P_TIMEOUT,
) = range(12)
N_PF = 12
(
    P_STABLE_WINDOW, P_PANIC_WINDOW, P_ACTIVATION_SCALE, P_REACHABLE, P_WEIGHTED, P_RPS, P_MIN_SCALE, P_MAX_SCALE,
    P_INITIAL_SCALE, P_SCALE_TO_ZERO, P_CC, P_DELAY_SLOTS, P_SCRAPE,
) = range(13)
N_PI = 13


def as_batch(x, batch: int, dtype) -> np.ndarray:
    """``x`` as an array of shape ``(batch,)``; a scalar is repeated (read-only view)."""
    arr = np.asarray(x, dtype=dtype)
    return arr if arr.shape == (batch,) else np.broadcast_to(arr, (batch,))


def _arr(values, dtype) -> np.ndarray:
    out = np.asarray(values, dtype=dtype)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class KPASpec:
    """The decider and reconciler parameters of a batch of configurations, one array each.

    Build it with :meth:`from_configs`; every array has shape ``(B,)``.
    Units: seconds for times, requests (concurrency) or requests/s (rps) for targets.
    """

    configs: tuple[KPAConfig, ...]
    target: np.ndarray  #: per-pod target value (TargetValue)
    total: np.ndarray  #: per-pod total value (TotalValue)
    tbc: np.ndarray  #: target burst capacity, -1 = unlimited
    max_scale_up_rate: np.ndarray
    max_scale_down_rate: np.ndarray
    panic_threshold: np.ndarray  #: fraction, 2.0 for 200 %
    stable_window: np.ndarray  #: whole seconds
    panic_window: np.ndarray  #: whole seconds
    scale_down_delay: np.ndarray
    activation_scale: np.ndarray
    reachable: np.ndarray
    weighted: np.ndarray  #: True for the weighted-exponential aggregation
    rps: np.ndarray  #: True for the rps metric
    min_scale: np.ndarray
    max_scale: np.ndarray  #: 0 = unbounded
    initial_scale: np.ndarray
    enable_scale_to_zero: np.ndarray
    grace_period: np.ndarray
    retention_period: np.ndarray
    activation_timeout: np.ndarray  #: progress deadline + 30 s
    activator_capacity: np.ndarray
    container_concurrency: np.ndarray  #: 0 = unlimited
    timeout_seconds: np.ndarray

    @classmethod
    def from_configs(cls, configs: KPAConfig | Sequence[KPAConfig]) -> "KPASpec":
        """Stack configurations into a batch; a single configuration is a batch of one."""
        if isinstance(configs, KPAConfig):
            configs = (configs,)
        configs = tuple(configs)
        if not configs:
            raise ValueError("a batch needs at least one configuration")
        for c in configs:
            if not isinstance(c, KPAConfig):
                raise TypeError(f"expected KPAConfig, got {type(c).__name__}")

        def col(fn, dtype=np.float64):
            return _arr([fn(c) for c in configs], dtype)

        return cls(
            configs=configs,
            target=col(lambda c: c.target_value),
            total=col(lambda c: c.total),
            tbc=col(lambda c: c.target_burst_capacity),
            max_scale_up_rate=col(lambda c: c.max_scale_up_rate),
            max_scale_down_rate=col(lambda c: c.max_scale_down_rate),
            panic_threshold=col(lambda c: c.panic_threshold),
            stable_window=col(lambda c: c.stable_window, np.int64),
            panic_window=col(lambda c: c.panic_window, np.int64),
            scale_down_delay=col(lambda c: c.scale_down_delay),
            activation_scale=col(lambda c: c.activation_scale, np.int64),
            reachable=col(lambda c: c.reachable, bool),
            weighted=col(lambda c: c.metric_aggregation_algorithm is Aggregation.WEIGHTED_EXPONENTIAL, bool),
            rps=col(lambda c: c.metric is Metric.RPS, bool),
            min_scale=col(lambda c: c.min_scale, np.int64),
            max_scale=col(lambda c: c.max_scale, np.int64),
            initial_scale=col(lambda c: c.effective_initial_scale, np.int64),
            enable_scale_to_zero=col(lambda c: c.enable_scale_to_zero, bool),
            grace_period=col(lambda c: c.scale_to_zero_grace_period),
            retention_period=col(lambda c: c.scale_to_zero_pod_retention_period),
            activation_timeout=col(lambda c: c.progress_deadline + 30.0),
            activator_capacity=col(lambda c: c.activator_capacity),
            container_concurrency=col(lambda c: c.container_concurrency, np.int64),
            timeout_seconds=col(lambda c: c.timeout_seconds),
        )

    @property
    def batch(self) -> int:
        """Number of configurations."""
        return len(self.configs)

    @property
    def has_scrape_target(self) -> np.ndarray:
        """False where TBC = -1: the activator is always in the path and pods are never scraped."""
        return self.tbc != -1

    def __len__(self) -> int:
        return self.batch

    def packed(self) -> tuple[np.ndarray, np.ndarray]:
        """The parameters as two tables, float64 ``(B, N_PF)`` and int64 ``(B, N_PI)``, columns ``P_*``.

        ``P_DELAY_SLOTS`` is the scale-down delay in 2 s slots of the max window,
        ``ceil(delay / 2)``; ``P_SCRAPE`` is 0 where TBC = -1 (pods are never scraped).
        """
        f = np.empty((self.batch, N_PF))
        f[:, P_TARGET] = self.target
        f[:, P_TOTAL] = self.total
        f[:, P_TBC] = self.tbc
        f[:, P_UP_RATE] = self.max_scale_up_rate
        f[:, P_DOWN_RATE] = self.max_scale_down_rate
        f[:, P_PANIC_THRESHOLD] = self.panic_threshold
        f[:, P_SCALE_DOWN_DELAY] = self.scale_down_delay
        f[:, P_GRACE] = self.grace_period
        f[:, P_RETENTION] = self.retention_period
        f[:, P_ACTIVATION_TIMEOUT] = self.activation_timeout
        f[:, P_ACTIVATOR_CAPACITY] = self.activator_capacity
        f[:, P_TIMEOUT] = self.timeout_seconds
        i = np.empty((self.batch, N_PI), dtype=np.int64)
        i[:, P_STABLE_WINDOW] = self.stable_window
        i[:, P_PANIC_WINDOW] = self.panic_window
        i[:, P_ACTIVATION_SCALE] = self.activation_scale
        i[:, P_REACHABLE] = self.reachable
        i[:, P_WEIGHTED] = self.weighted
        i[:, P_RPS] = self.rps
        i[:, P_MIN_SCALE] = self.min_scale
        i[:, P_MAX_SCALE] = self.max_scale
        i[:, P_INITIAL_SCALE] = self.initial_scale
        i[:, P_SCALE_TO_ZERO] = self.enable_scale_to_zero
        i[:, P_CC] = self.container_concurrency
        i[:, P_DELAY_SLOTS] = np.ceil(self.scale_down_delay / 2.0).astype(np.int64)
        i[:, P_SCRAPE] = self.has_scrape_target
        return f, i
