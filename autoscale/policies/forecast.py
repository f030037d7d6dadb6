"""Scale to a forecast of demand one cold start ahead (Holt's linear trend)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from .base import Policy

__all__ = ["Forecast"]


@dataclass
class _HoltState:
    level: np.ndarray
    trend: np.ndarray
    started: bool
    horizon: float
    target: np.ndarray


class Forecast(Policy):
    """Holt's linear-trend exponential smoothing of the observed concurrency, scaled to one cold start ahead.

    Each second the level and trend follow the mean number of requests in the system
    (``Signals.system_concurrency``: in pods or waiting in the activator; a scrape
    sample would feed back on the forecast, since old pods are sampled first)::

        level = alpha x observed + (1 - alpha) x (level + trend)
        trend = beta x (level - previous level) + (1 - beta) x trend

    Every ``period`` seconds the policy wants
    ``ceil(max(level + horizon x trend, last second's mean, in system now) / target)`` pods, where the
    horizon is the mean cold start plus one period (pods asked for now are ready by
    then) unless given, and the target is each configuration's KPA target per pod unless
    given. It scales to zero when the forecast and the demand are zero, and wakes on the
    first request after that like the KPA. Requests go straight to a random ready pod;
    while none is ready they wait in the activator.
    """

    name = "forecast"
    durations = ("period", "horizon")
    routing = "direct"
    wakes = True

    def __init__(self, alpha: float = 0.5, beta: float = 0.2, period: int = 2, horizon: float | None = None,
                 target: float | None = None) -> None:
        if not (0 < alpha <= 1):
            raise ConfigError(f"forecast: alpha = {alpha!r}, must be in (0, 1]")
        if not (0 <= beta <= 1):
            raise ConfigError(f"forecast: beta = {beta!r}, must be in [0, 1]")
        if not (isinstance(period, (int, np.integer)) and period >= 1):
            raise ConfigError(f"forecast: period = {period!r}, must be a whole number of seconds >= 1")
        if horizon is not None and not (horizon >= 0 and math.isfinite(horizon)):
            raise ConfigError(f"forecast: horizon = {horizon!r} s, must be >= 0")
        if target is not None and not (target > 0 and math.isfinite(target)):
            raise ConfigError(f"forecast: target = {target!r}, must be > 0 requests per pod")
        self.alpha, self.beta = float(alpha), float(beta)
        self.period = self.history = int(period)
        self.horizon = horizon
        self.target = target

    def params(self) -> dict:
        return {"alpha": self.alpha, "beta": self.beta, "period": self.period, "horizon": self.horizon,
                "target": self.target}

    def start(self, ctx):
        b = ctx.batch
        horizon = self.horizon if self.horizon is not None else ctx.platform.cold_start.mean() + self.period
        target = np.full(b, self.target) if self.target is not None else ctx.spec.target.astype(np.float64)
        return _HoltState(level=np.zeros(b), trend=np.zeros(b), started=False, horizon=float(horizon), target=target)

    def decide(self, state: _HoltState, signals):
        if np.ndim(signals.now) == 0 and float(signals.now) % self.period == 0:
            # A scheduled tick (a poke's time is per configuration): fold in the seconds since the last one.
            for x in signals.recent("system_concurrency", self.period).T:
                prev = state.level
                state.level = self.alpha * x + (1 - self.alpha) * (state.level + state.trend)
                state.trend = self.beta * (state.level - prev) + (1 - self.beta) * state.trend
        forecast = np.maximum(state.level + state.horizon * state.trend, 0.0)
        demand = np.maximum(np.maximum(forecast, signals.system_concurrency), signals.in_system)
        return np.ceil(demand / state.target - 1e-9).astype(np.int64)
