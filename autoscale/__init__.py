"""autoscale: replay request traces through a faithful, batched model of Knative's KPA.

The layers, top to bottom: traces (:mod:`autoscale.trace`), the data plane
(:mod:`autoscale.dataplane`), the metric pipeline (:mod:`autoscale.windows`,
:mod:`autoscale.collector`), the control plane (:mod:`autoscale.decider`,
:mod:`autoscale.reconciler`, and the other scaling policies of :mod:`autoscale.policies`),
and the experiment (:mod:`autoscale.engine`, :mod:`autoscale.compare`, :mod:`autoscale.results`,
:mod:`autoscale.plotting`, the CLI). :mod:`autoscale.scenarios` replays Knative's reported
autoscaling problems beside their fixes.
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import _numba  # noqa: F401  (the compiled modules' cache folder, set before any of them loads)

from .collector import Collector, Observation
from .compare import Comparison, compare
from .config import Aggregation, KPAConfig, Metric, ResolvedConfig
from .configmap import resolve
from .decider import Decider, Decision
from .engine import replay
from .errors import AutoscaleError, ConfigError, TraceError
from .platform import ColdStart, Platform
from .policies import Policy, Signals
from .reconciler import ActiveState, Mode, Reconciler
from .results import ReplayResult
from .spec import KPASpec

__all__ = [
    "__version__",
    "ActiveState",
    "Aggregation",
    "AutoscaleError",
    "ColdStart",
    "Collector",
    "Comparison",
    "ConfigError",
    "Decider",
    "Decision",
    "KPAConfig",
    "KPASpec",
    "Metric",
    "Mode",
    "Observation",
    "Platform",
    "Policy",
    "Reconciler",
    "ReplayResult",
    "ResolvedConfig",
    "Signals",
    "TraceError",
    "compare",
    "replay",
    "resolve",
]
