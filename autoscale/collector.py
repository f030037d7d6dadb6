"""The autoscaler's metric collector: stable and panic windows fed with recorded stats, batched.

Modelled on Knative's ``pkg/autoscaler/metrics/collector.go``. Each configuration
averages the metric it scales on (concurrency or requests per second) over its stable
and its panic window, with the linear or weighted-exponential algorithm. Stats are
recorded net of proxied load, and every stat that lands in one 1 s bucket adds up.

Examples
--------
>>> import numpy as np
>>> from autoscale import KPAConfig, KPASpec
>>> from autoscale.collector import Collector
>>> c = Collector(KPASpec.from_configs(KPAConfig()))
>>> for s in range(10):
...     c.record(s, concurrency=np.array([12.0]), rps=np.array([3.0]))
>>> obs = c.observe(9)
>>> float(obs.stable[0]), float(obs.panic[0]), bool(obs.valid[0])
(12.0, 12.0, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .spec import KPASpec
from .windows import BucketWindows

__all__ = ["Collector", "Observation"]


@dataclass(frozen=True, eq=False)
class Observation:
    """What the decider sees at one instant: revision-wide totals, arrays of shape ``(B,)``."""

    stable: np.ndarray
    panic: np.ndarray
    valid: np.ndarray  #: False where there is no data (``ErrNoData``)


class Collector:
    """Stable and panic windows for a batch of configurations."""

    def __init__(self, spec: KPASpec) -> None:
        self.spec = spec
        self.stable = BucketWindows(spec.stable_window)
        self.panic = BucketWindows(spec.panic_window)

    def record(
        self,
        second: int,
        concurrency: np.ndarray,
        rps: np.ndarray,
        mask: np.ndarray | None = None,
    ) -> None:
        """Record one stat per configuration (already net of proxied load) at ``second``."""
        value = np.where(self.spec.rps, rps, concurrency)
        self.stable.record(second, value, mask)
        self.panic.record(second, value, mask)

    def observe(self, now: float) -> Observation:
        """Stable and panic averages at time ``now`` (seconds, floored to the bucket).

        Empty means nothing was written for more than a stable window; with a scrape
        target that is "no data" (the decider's tick is invalid), without one (TBC = -1)
        the windows simply read 0.
        """
        second = int(np.floor(now))
        w = self.spec.weighted
        stable = self.stable.linear_average(second)
        panic = self.panic.linear_average(second)
        if w.any():
            stable = np.where(w, self.stable.weighted_average(second), stable)
            panic = np.where(w, self.panic.weighted_average(second), panic)
        empty = self.stable.is_empty(second)
        valid = ~(empty & self.spec.has_scrape_target)
        return Observation(stable=stable, panic=panic, valid=valid)
