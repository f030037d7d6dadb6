"""Traces: requests as arrival times and service durations, loaded from real formats or generated.

Modules, one concept each: :mod:`~autoscale.trace.trace` (the :class:`Trace` value),
:mod:`~autoscale.trace.loaders` (:func:`load` by name or path),
:mod:`~autoscale.trace.azure2019`, :mod:`~autoscale.trace.azure2021`,
:mod:`~autoscale.trace.rates`, :mod:`~autoscale.trace.huawei`,
:mod:`~autoscale.trace.csvtrace` (one per format), :mod:`~autoscale.trace.arrivals`
(counts per period to arrival times), :mod:`~autoscale.trace.durations` (service-time
distributions), :mod:`~autoscale.trace.synthetic` (seeded workloads) and
:mod:`~autoscale.trace.bundled` (the shipped traces by name).

Examples
--------
>>> from autoscale.trace import load
>>> t = load("default")
>>> len(t), round(t.span / 3600), t.provenance.attribution.startswith("Shahrad")
(11484, 8, True)
"""

from __future__ import annotations

from . import durations, synthetic
from .arrivals import DEFAULT_SEED, ArrivalRule, expand_counts
from .azure2019 import load_azure2019
from .azure2021 import load_azure2021
from .bundled import BUNDLED, BundledTrace, bundled_names, traces_dir
from .csvtrace import load_csv, save_csv
from .durations import (
    DEFAULT_SERVICE,
    DurationDistribution,
    constant,
    empirical,
    exponential,
    lognormal,
)
from .huawei import load_huawei
from .loaders import FORMATS, load, sniff_format
from .rates import load_counts, load_period_counts
from .trace import Provenance, Trace, TraceSummary

__all__ = [
    "BUNDLED",
    "DEFAULT_SEED",
    "DEFAULT_SERVICE",
    "FORMATS",
    "ArrivalRule",
    "BundledTrace",
    "DurationDistribution",
    "Provenance",
    "Trace",
    "TraceSummary",
    "bundled_names",
    "constant",
    "durations",
    "empirical",
    "expand_counts",
    "exponential",
    "load",
    "load_azure2019",
    "load_azure2021",
    "load_counts",
    "load_csv",
    "load_huawei",
    "load_period_counts",
    "lognormal",
    "save_csv",
    "sniff_format",
    "synthetic",
    "traces_dir",
]
