"""The KPA as a policy: the decider of ``pkg/autoscaler/scaling/autoscaler.go`` behind Knative's reconciler."""

from __future__ import annotations

import numpy as np

from ..decider import Decider
from .base import Policy

__all__ = ["KPA"]


class KPA(Policy):
    """Knative Serving's KPA (knative.dev/serving ``pkg/autoscaler/scaling/autoscaler.go``).

    Ticks every 2 s on the stable and panic windows of the metric pipeline, and at once
    when the activator pokes a revision scaled to zero. Its decision goes through
    Knative's reconciler (min/max/initial scale, scale to zero, the Proxy/Serve mode
    from the excess burst capacity). Every parameter comes from the configurations
    (:class:`autoscale.KPAConfig`), so the policy itself has none.

    The returned :class:`autoscale.Decision` carries, beside the desired scale, the
    excess burst capacity and the panic flag the engine needs for ``routing = "kpa"``.
    """

    name = "kpa"
    period = 2
    routing = "kpa"
    wakes = True

    def start(self, ctx):
        return Decider(ctx.spec, now=0.0, ready=np.zeros(ctx.batch, dtype=np.int64))

    def decide(self, state: Decider, signals):
        return state.scale(signals.now, signals.ready, signals.stable, signals.panic, valid=signals.valid,
                           mask=signals.mask)
