"""Many services at once, and one service's revisions behind a route, each with its own autoscaler, in one batch.

:func:`replay_services` replays every function of a multi-function trace (such as the
1,250-function Azure day) as its own service: each has its own configuration, its own
pods and its own autoscaler, and all of them share the activator pool. The batch axis
runs over services instead of configurations, so the whole cluster replays in one
call. Results come per service and for the cluster (total pods over time, peak pods,
pod-seconds).

:func:`replay_route` splits one service's requests across its revisions by a
:class:`~autoscale.traffic.Route` (percentages, tags, a canary schedule, a gradual
rollout), then replays every revision with its own configuration and autoscaler in
the same way. Results come per revision and for the service.

The activator pool (``activator_pool``: requests the pool holds at once, queued or
proxied) is shared: each second every service keeps what it holds and the pool's free
capacity is split equally among them; a request beyond its service's share is answered
503 (``activator_rejected``). Without a limit every service runs exactly as it would
alone (with the same seed and duration).

Examples
--------
>>> import numpy as np
>>> from autoscale import KPAConfig
>>> from autoscale.services import replay_services
>>> from autoscale.trace import synthetic, Trace
>>> a = synthetic.poisson(rate=3.0, duration=60.0, service=synthetic.constant(0.2), seed=1)
>>> b = synthetic.poisson(rate=1.0, duration=60.0, service=synthetic.constant(0.5), seed=2)
>>> run = replay_services({"a": a, "b": b}, KPAConfig(container_concurrency=1))
>>> list(run.summary["service"]), int(run.cluster["requests"].iloc[0]) == len(a) + len(b)
(['a', 'b'], True)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import outputs
from .config import KPAConfig
from .engine import Requests, Streams, run, simulated_seconds
from .errors import ConfigError
from .results import ReplayResult
from .spec import KPASpec

__all__ = ["ServicesResult", "replay_services", "replay_route", "cluster_summary"]


def cluster_summary(result: ReplayResult, label: str = "cluster", members: str = "services") -> pd.DataFrame:
    """One row for the whole batch: the outputs of the ``cluster`` view, each combined over the rows as
    :data:`autoscale.outputs.REGISTRY` says (additive totals, the peak and mean of the total pods over time),
    and the sum of the rows' peaks."""
    s = result.summary
    shown = outputs.shown("cluster")
    combined = outputs.combine_services(result, s, columns=shown)
    row = {"scope": label, members: len(s)}
    for col in shown:
        if col in combined:
            row[col] = combined[col]
    row[f"sum_of_{members.rstrip('s')}_peaks"] = int(s["peak_pods"].sum())
    return pd.DataFrame([row])


@dataclass(eq=False)
class ServicesResult:
    """A batch of services (or of one service's revisions): ``result`` has one row per entry of ``names``."""

    result: ReplayResult
    names: list[str]
    kind: str = "service"  #: "service" or "revision"
    assignment: np.ndarray | None = None  #: revision index of each request (routes only)
    #: revision -> its route's tags, comma-separated (routes with tags only)
    tags: Mapping[str, str] | None = None

    @property
    def summary(self) -> pd.DataFrame:
        """One row per service (or revision), named in the first column; then the tags, for a route with tags."""
        frame = self.result.summary
        frame.insert(0, self.kind, self.names)
        if self.tags:
            frame.insert(1, "tags", [self.tags.get(n, "") for n in self.names])
        return frame.drop(columns=["config"])

    @property
    def cluster(self) -> pd.DataFrame:
        """Totals for the cluster (or the service, for revisions)."""
        if self.kind == "service":
            return cluster_summary(self.result, "cluster", "services")
        return cluster_summary(self.result, "service", "revisions")

    def pods_over_time(self) -> pd.Series:
        """Total live pods at the end of each second, over every service (or revision)."""
        totals = self.result.pods_total
        return pd.Series(totals, index=pd.Index(np.arange(totals.size), name="time_s"), name="pods")

    def plot(self):
        """Every service's or revision's timeline (needs ``timeseries=True``); see ``plotting.timelines``."""
        from .plotting import timelines

        return timelines(self)


def _configs_for(names: list[str], configs) -> list[KPAConfig]:
    if configs is None:
        return [KPAConfig() for _ in names]
    if isinstance(configs, KPAConfig):
        return [configs for _ in names]
    if isinstance(configs, Mapping):
        missing = [n for n in names if n not in configs]
        if missing:
            raise ConfigError(f"no configuration for {', '.join(missing[:5])}" + (" ..." if len(missing) > 5 else ""))
        return [configs[n] for n in names]
    if callable(configs):
        return [configs(n) for n in names]
    raise TypeError("configs: give a KPAConfig, a mapping of name -> KPAConfig, or a function of the name")


def replay_services(
    traces,
    configs: KPAConfig | Mapping | Callable | None = None,
    *,
    functions=None,
    policy=None,
    platform=None,
    seed: int = 0,
    duration: float | None = None,
    timeseries: bool = False,
    max_points: int = 2000,
    parallel: bool | None = None,
    activator_pool: int | None = None,
    invocation=None,
    progress=None,
) -> ServicesResult:
    """Replay each service with its own autoscaler, all in one batch sharing the activator pool.

    Parameters
    ----------
    traces : Trace or mapping of name -> Trace
        A multi-function trace (every function becomes a service named after it), or
        one trace per service.
    configs : KPAConfig, mapping or function, optional
        One configuration for every service, one per service name, or a function of
        the name. Knative's defaults when omitted.
    functions : sequence of str, optional
        Only these functions of a multi-function trace.
    policy, platform, seed, timeseries, max_points, parallel, invocation, progress
        As for :func:`autoscale.replay`; every service uses the same policy.
    duration : float, optional
        Seconds to simulate; by default until every service's last request would end.
    activator_pool : int, optional
        Requests the shared activator pool holds at once; no limit by default.
    """
    if isinstance(traces, Mapping):
        names = [str(n) for n in traces]
        rows = list(traces.values())
        trace_name = ", ".join(names[:3]) + (" ..." if len(names) > 3 else "")
        provenance = "\n".join(dict.fromkeys(str(getattr(t, "provenance", "")) for t in rows))
    else:
        trace = traces
        if trace.function is None:
            names, rows = [trace.name], [trace]
        else:
            chosen = list(trace.function_names) if functions is None else [str(f) for f in functions]
            codes = np.asarray(trace.function)
            index = {n: k for k, n in enumerate(trace.function_names)}
            unknown = [f for f in chosen if f not in index]
            if unknown:
                raise ConfigError(f"trace {trace.name}: no function {unknown[0]!r}")
            names = chosen
            # One stable sort by function keeps each function's requests in arrival order.
            by_function = np.argsort(codes, kind="stable")
            bounds = np.searchsorted(codes[by_function], np.arange(len(trace.function_names) + 1))
            arrivals, durations = trace.arrivals[by_function], trace.durations[by_function]
            rows = [Requests(arrivals[bounds[index[n]]:bounds[index[n] + 1]],
                             durations[bounds[index[n]]:bounds[index[n] + 1]]) for n in chosen]
        trace_name, provenance = trace.name, str(trace.provenance)
    if activator_pool is not None and not (isinstance(activator_pool, (int, np.integer)) and activator_pool >= 1):
        raise ConfigError(f"activator pool = {activator_pool!r} requests, must be a whole number >= 1")
    spec = KPASpec.from_configs(_configs_for(names, configs))
    streams = Streams.per_row(rows, name=trace_name, provenance=provenance)
    t_end = simulated_seconds(streams, duration)
    result = run(streams, spec, policy=policy, platform=platform, seed=seed, t_end=t_end, timeseries=timeseries,
                 max_points=max_points, parallel=parallel, invocation=invocation, activator_pool=activator_pool,
                 progress=progress)
    return ServicesResult(result=result, names=names)


def replay_route(
    trace,
    revisions: Mapping[str, KPAConfig],
    route,
    *,
    tags=None,
    policy=None,
    platform=None,
    seed: int = 0,
    duration: float | None = None,
    timeseries: bool = False,
    max_points: int = 2000,
    parallel: bool | None = None,
    activator_pool: int | None = None,
    progress=None,
) -> ServicesResult:
    """Replay one service whose route splits its requests across revisions, each with its own autoscaler.

    Parameters
    ----------
    trace : Trace
        The service's requests.
    revisions : mapping of name -> KPAConfig
        Every revision the route names, with its configuration. All revisions exist
        from time 0 (each starts with its initial scale).
    route : autoscale.traffic.Route
        Percentages, tags, canary schedule and gradual rollout.
    tags : array of str, optional
        The tag each request was addressed to ("" or None: the service's main URL).
    seed : int
        Seeds both the assignment of requests to revisions and the replay.
    progress : bool or callable, optional
        As for :func:`autoscale.replay`.

    Returns
    -------
    ServicesResult
        One row per revision (``kind = "revision"``), with a ``tags`` column when the
        route has tags (every tag the route gives the revision at any time);
        ``cluster`` totals the service; ``assignment`` holds each request's revision
        index.
    """
    from .traffic import assign

    index, names = assign(route, np.asarray(trace.arrivals), seed=seed, tags=tags)
    unknown = [n for n in names if n not in revisions]
    if unknown:
        raise ConfigError(f"the route sends traffic to revision {unknown[0]!r}, which has no configuration "
                          f"(revisions: {', '.join(revisions)})")
    names = list(dict.fromkeys([*names, *revisions]))  # revisions without traffic still run
    rows = [Requests(trace.arrivals[index == k], trace.durations[index == k]) for k in range(len(names))]
    spec = KPASpec.from_configs([revisions[n] for n in names])
    streams = Streams.per_row(rows, name=trace.name, provenance=str(trace.provenance))
    t_end = simulated_seconds(streams, duration)
    result = run(streams, spec, policy=policy, platform=platform, seed=seed, t_end=t_end, timeseries=timeseries,
                 max_points=max_points, parallel=parallel, activator_pool=activator_pool, progress=progress)
    tagged: dict[str, list[str]] = {}
    for _, mapping in route._tag_timeline:
        for tag, revision in mapping.items():
            if tag not in tagged.setdefault(revision, []):
                tagged[revision].append(tag)
    return ServicesResult(result=result, names=names, kind="revision", assignment=index,
                          tags={n: ",".join(t) for n, t in tagged.items()} or None)
