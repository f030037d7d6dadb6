"""Several scaling policies on the same trace, the same configurations and the same random streams.

Examples
--------
>>> from autoscale import KPAConfig
>>> from autoscale.compare import compare
>>> from autoscale.trace import synthetic
>>> trace = synthetic.poisson(rate=4.0, duration=120.0, service=synthetic.constant(0.2), seed=2)
>>> cmp = compare(trace, ["kpa", "fixed", "keepalive"], KPAConfig(container_concurrency=1))
>>> list(cmp.summary["policy"])
['kpa', 'fixed', 'keepalive']
>>> bool((cmp.summary["requests"] == len(trace)).all())
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from . import progress as _progress
from .config import KPAConfig
from .engine import replay
from .errors import ConfigError
from .policies import as_policy, get, parse_param, split_param
from .results import ReplayResult

__all__ = ["Comparison", "compare", "parse_policy_params", "side_by_side"]


@dataclass(eq=False)
class Comparison:
    """Results of several policies on one trace: ``results[label]`` is that policy's :class:`ReplayResult`."""

    results: dict[str, ReplayResult]
    trace_name: str
    provenance: str

    @property
    def labels(self) -> list[str]:
        return list(self.results)

    @property
    def summary(self) -> pd.DataFrame:
        """One row per policy and configuration; ``policy`` holds the label."""
        frames = []
        for label, result in self.results.items():
            frame = result.summary
            frame["policy"] = label
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    @property
    def load_summary(self) -> pd.DataFrame | None:
        """What the closed-loop clients observed: a row per policy, configuration and client pool, ``policy``
        first (:attr:`ReplayResult.load_summary`); None for a trace without clients."""
        frames = []
        for label, result in self.results.items():
            frame = result.load_summary
            if frame is None:
                return None
            frame.insert(0, "policy", label)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def to_pandas(self) -> pd.DataFrame:
        return self.summary

    def __getitem__(self, label: str) -> ReplayResult:
        return self.results[label]

    def __len__(self) -> int:
        return len(self.results)

    def plot(self, config: int | None = None):
        """Timelines of every policy (needs ``timeseries=True``); returns ``(figure, axes)``.

        By default every configuration of every policy, as small multiples, or overlaid
        when there are more than six (:func:`autoscale.plotting.timelines`); with
        ``config``, that configuration of each policy, side by side.
        """
        if config is None:
            from .plotting import timelines

            return timelines(self)
        return side_by_side([(label, result, config) for label, result in self.results.items()])


def side_by_side(panels, *, ncols: int = 3):
    """Timelines in a grid up to ``ncols`` wide, one per ``(title, result, configuration index)``.

    Each panel has its own y scales (see :func:`autoscale.plotting.small_multiples`).
    Returns ``(figure, axes)``.
    """
    from .plotting import small_multiples

    return small_multiples(panels, ncols=ncols)


def compare(
    trace,
    policies: Sequence | Mapping,
    configs: KPAConfig | Sequence[KPAConfig] | None = None,
    *,
    platform=None,
    seed: int = 0,
    duration: float | None = None,
    timeseries: bool = False,
    parallel: bool | None = None,
    invocations: Sequence[str] = ("sync",),
    invocation=None,
    progress=None,
) -> Comparison:
    """Replay ``trace`` under each policy with the same configurations, platform and seed.

    Parameters
    ----------
    trace : autoscale.trace.Trace or autoscale.workload.ClosedLoop
        The requests, or closed-loop client pools (such as :func:`autoscale.loadgen.parse`
        reads from a load generator's command line); then :attr:`Comparison.load_summary`
        holds what each pool observed under each policy.
    policies : sequence or mapping
        Policies as registry names, policy objects or functions; a mapping gives each a
        label (by default the policy's name, numbered if it repeats).
    configs : KPAConfig or sequence, optional
        The configurations every policy runs (the defaults by default).
    platform, seed, duration, timeseries, parallel
        As for :func:`autoscale.replay`.
    invocations : sequence of "sync" and "async"
        Run every policy synchronously, asynchronously, or both (labels get " (async)").
    invocation : autoscale.invocation.Async, optional
        The asynchronous settings (the defaults of :class:`~autoscale.invocation.Async`
        when omitted).
    progress : bool or callable, optional
        As for :func:`autoscale.replay`, counting the replays (policies x invocation
        modes), or a single replay's configurations.
    """
    configs = KPAConfig() if configs is None else configs
    if isinstance(policies, Mapping):
        items = [(str(label), as_policy(p)) for label, p in policies.items()]
    else:
        items = []
        for p in policies:
            pol = as_policy(p)
            label, k = pol.name, 2
            while label in dict(items):
                label, k = f"{pol.name}-{k}", k + 1
            items.append((label, pol))
    if not items:
        raise ConfigError("compare needs at least one policy")
    if "async" in invocations and invocation is None:
        from .invocation import Async

        invocation = Async()
    for mode in invocations:
        if mode not in ("sync", "async"):
            raise ConfigError(f"invocation {mode!r}: must be 'sync' or 'async'")
    results = {}
    replays = len(items) * len(invocations)
    # Several replays: count them; a single one counts its own configurations.
    with _progress.bar(replays, "compare", "replays", progress=progress if replays > 1 else False) as shown:
        for mode in invocations:
            for label, pol in items:
                key = label if mode == "sync" else f"{label} (async)"
                results[key] = replay(trace, configs, policy=pol, platform=platform, seed=seed, duration=duration,
                                      timeseries=timeseries, parallel=parallel,
                                      invocation=invocation if mode == "async" else None,
                                      progress=progress if replays == 1 else False)
                shown.update()
    return Comparison(results=results, trace_name=getattr(trace, "name", ""),
                      provenance=str(getattr(trace, "provenance", "")))


def parse_policy_params(names: Sequence[str], params: Sequence[str]) -> dict:
    """Build labelled policies from names and ``POLICY.KEY=VALUE`` (or ``POLICY:KEY=VALUE``) parameters.

    ``-`` in a key reads as ``_``; each value is read as the policy's parameter takes it
    (:func:`autoscale.policies.parse_param`: ``keep_alive=5m`` is 300 s).

    >>> parse_policy_params(["kpa", "fixed"], ["fixed.replicas=3"])
    {'kpa': kpa(), 'fixed': fixed(replicas=3)}
    >>> parse_policy_params(["keepalive"], ["keepalive:keep-alive=5m"])
    {'keepalive': keepalive(keep_alive=300.0)}
    """
    by_name: dict[str, dict] = {n: {} for n in names}
    given: dict[tuple[str, str], str] = {}
    for item in params:
        name, key, value = split_param(item)
        if name not in by_name:
            raise ConfigError(f"--param {item!r}: policy {name!r} is not among --policies ({', '.join(names)})")
        if "," in value:
            raise ConfigError(f"--param {item}: takes one value; sweep several with "
                              f"autoscale sweep --policy {name}:{key}={value}")
        try:
            key, parsed = parse_param(name, key, value)
        except ConfigError as exc:
            raise ConfigError(f"--param {exc}") from None
        if (name, key) in given:
            raise ConfigError(f"--param {name}.{key} is given twice ({given[name, key]} and {value.strip()}); "
                              "give it once")
        given[name, key] = value.strip()
        by_name[name][key] = parsed
    return {name: get(name, **kw) for name, kw in by_name.items()}
