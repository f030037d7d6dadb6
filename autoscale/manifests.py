"""Knative's own manifests as a route: the ``spec.traffic`` of a Service or a Route over the revisions a file holds.

:func:`load_manifests` reads Knative Serving manifests as they are written for
``kubectl apply`` (``apiVersion: serving.knative.dev/v1``) and turns them into what
:func:`autoscale.services.replay_route` replays: a :class:`~autoscale.traffic.Route`
and, per revision, the annotations and spec :func:`autoscale.configmap.resolve` reads
(:class:`~autoscale.configmap.RevisionTemplate`).

The documents it reads, in any number and order, from one or several files:

* ``kind: Service``: its ``spec.template`` is a revision, named by the template's
  ``metadata.name``; without one, by Knative's generated name ``<service>-00001``,
  where the number counts the Service's documents in the files (its generations).
  Several documents of one Service are its versions one after another: the last one
  is the Service as it is now, its template is the latest revision, and its
  ``spec.traffic`` is the route (without one, all traffic goes to the latest revision,
  Knative's default). An earlier document contributes its revision only.
* ``kind: Configuration``: a template as a Service has, without traffic.
* ``kind: Revision``: a revision of its own (``metadata.name``, autoscaling annotations
  under ``metadata.annotations``, ``spec.containerConcurrency``); the label
  ``serving.knative.dev/configuration`` makes it its configuration's latest revision
  unless a later document says otherwise.
* ``kind: Route``: ``spec.traffic`` over the revisions above; a Route's traffic takes
  the place of a Service's.

A traffic target is Knative's ``TrafficTarget``: ``revisionName``, or
``latestRevision: true`` (the default when ``revisionName`` is absent, as Knative's
defaulting sets it) for the latest revision of the Service, or in a Route of
``configurationName``; ``percent`` (absent = 0) and ``tag``. The percents sum to 100
(Knative's validation). Fields the model does not use (``url``, container images,
resources, labels, other components' annotations, ``status``, documents of other
kinds) are named in :attr:`Manifests.notes`; unknown autoscaling annotations and
unknown traffic keys are errors.

Examples
--------
>>> svc = {"apiVersion": "serving.knative.dev/v1", "kind": "Service",
...        "metadata": {"name": "demo"},
...        "spec": {"template": {"spec": {"containerConcurrency": 10}},
...                 "traffic": [{"latestRevision": True, "percent": 100, "url": "http://x"}]}}
>>> m = load_manifests(svc)
>>> list(m.revisions), m.route.split_at(0.0), m.has_traffic
(['demo-00001'], {'demo-00001': 100}, True)
>>> m.notes
('service: document 1 (Service demo): not used by the model: spec.traffic[0].url',)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._yaml import load_yaml
from .config import ANNOTATION_PREFIX, PROGRESS_DEADLINE_ANNOTATION, KPAConfig, ResolvedConfig
from .configmap import RevisionTemplate, resolve
from .errors import ConfigError
from .traffic import PERCENT_RANGE, PERCENT_TOTAL, Route, TrafficTarget

__all__ = [
    "Manifests",
    "load_manifests",
    "is_manifest",
    "KINDS",
    "SERVICE_TARGET_KEYS",
    "ROUTE_TARGET_KEYS",
    "CONFIGURATION_LABEL",
]

API_PREFIX = "serving.knative.dev/"
KINDS = ("Service", "Configuration", "Revision", "Route")  #: the kinds read
#: Keys of a traffic target in a Service and in a Route (Knative's ``TrafficTarget``).
SERVICE_TARGET_KEYS = ("tag", "revisionName", "latestRevision", "percent", "url")
ROUTE_TARGET_KEYS = (*SERVICE_TARGET_KEYS, "configurationName")
CONFIGURATION_LABEL = "serving.knative.dev/configuration"  #: a Revision's configuration

_USED_SPEC = ("containerConcurrency", "timeoutSeconds")


@dataclass(frozen=True)
class Manifests:
    """What Knative's manifests say about one service: its revisions, its route, and what was not used.

    Attributes
    ----------
    revisions : Mapping of str -> RevisionTemplate
        Every revision the manifests hold, in document order.
    route : Route
        The traffic: the Route's or the current Service's ``spec.traffic``, or all of it
        to the latest revision when neither gives one.
    has_traffic : bool
        Whether a ``spec.traffic`` was given (a Route, or a Service's).
    name : str
        The Route's name, else the Service's (or Configuration's).
    notes : tuple of str
        Fields and documents the model does not use, one note per document.
    """

    revisions: Mapping[str, RevisionTemplate]
    route: Route
    has_traffic: bool
    name: str
    notes: tuple[str, ...] = ()

    @property
    def routed(self) -> list[str]:
        """The revisions the route names (with traffic or a tag), in first-appearance order."""
        return self.route.revisions

    def resolved(self, configmap=None, overrides=None) -> dict[str, ResolvedConfig]:
        """Each routed revision's configuration: defaults < ``configmap`` < its manifest < ``overrides``."""
        return {n: resolve(configmap=configmap, service=self.revisions[n], overrides=overrides)
                for n in self.routed}

    def configs(self, configmap=None, overrides=None) -> dict[str, KPAConfig]:
        """Each routed revision's :class:`~autoscale.config.KPAConfig`, for :func:`autoscale.services.replay_route`."""
        return {n: r.config for n, r in self.resolved(configmap, overrides).items()}

    def replay(self, trace, configmap=None, overrides=None, **kwargs):
        """Replay ``trace`` through the route, every routed revision with its own autoscaler.

        ``kwargs`` go to :func:`autoscale.services.replay_route` (``seed``, ``duration``,
        ``policy``, ``platform``, ``tags``, ...).
        """
        from .services import replay_route

        return replay_route(trace, self.configs(configmap, overrides), self.route, **kwargs)


def is_manifest(source) -> bool:
    """Whether a file (or mapping) holds a Knative Serving document, rather than the project's route format."""
    docs = [source] if isinstance(source, Mapping) else load_yaml(source)
    return any(isinstance(d, Mapping) and str(d.get("apiVersion", "")).startswith(API_PREFIX) for d in docs)


# -- reading -------------------------------------------------------------------------------


def _mapping(obj, where: str) -> Mapping:
    if obj is None:
        return {}
    if not isinstance(obj, Mapping):
        raise ConfigError(f"{where} must be a mapping, got {type(obj).__name__}")
    return obj


@dataclass
class _Doc:
    where: str  # "file: document N (Kind name)"
    kind: str
    name: str
    body: Mapping
    unused: list[str]


def _documents(sources) -> list[tuple[str, int, Any]]:
    out = []
    for source in sources:
        if isinstance(source, Mapping):
            out.append(("service" if source.get("kind") != "Route" else "route", 1, source))
            continue
        if not isinstance(source, (str, os.PathLike)):
            raise TypeError(f"a manifest must be a path or a mapping, got {type(source).__name__}")
        label = os.fspath(source)
        out.extend((label, i + 1, d) for i, d in enumerate(load_yaml(source)))
    return out


def _unused_annotations(annotations: Mapping, path: str, unused: list[str], autoscaling: bool) -> None:
    for name in annotations:
        name = str(name)
        if autoscaling and (name.startswith(ANNOTATION_PREFIX) or name == PROGRESS_DEADLINE_ANNOTATION):
            continue  # read (and checked) by resolve
        unused.append(f"{path}.{name}")


def _unused_spec(spec: Mapping, path: str, unused: list[str]) -> None:
    for key, value in spec.items():
        if key in _USED_SPEC:
            continue
        if key == "containers" and isinstance(value, list):
            for i, c in enumerate(value):
                fields = list(c) if isinstance(c, Mapping) else []
                unused.extend(f"{path}.containers[{i}].{f}" for f in fields)
            continue
        unused.append(f"{path}.{key}")


def _template(doc: _Doc, generation: int) -> RevisionTemplate:
    """The revision of a Service's or Configuration's ``spec.template``."""
    w, unused = doc.where, doc.unused
    spec = _mapping(doc.body.get("spec"), f"{w}: spec")
    template = _mapping(spec.get("template"), f"{w}: spec.template")
    meta = _mapping(template.get("metadata"), f"{w}: spec.template.metadata")
    name = meta.get("name")
    if name is None:
        name = f"{doc.name}-{generation:05d}"
    elif not isinstance(name, str) or not name.startswith(doc.name + "-"):
        raise ConfigError(f"{w}: spec.template.metadata.name = {name!r}, must be a string starting with "
                          f"{doc.name}- (Knative names a revision after its {doc.kind})")
    annotations = _mapping(meta.get("annotations"), f"{w}: spec.template.metadata.annotations")
    _unused_annotations(annotations, "spec.template.metadata.annotations", unused, True)
    unused.extend(f"spec.template.metadata.{k}" for k in meta if k not in ("name", "annotations"))
    body = _mapping(template.get("spec"), f"{w}: spec.template.spec")
    _unused_spec(body, "spec.template.spec", unused)
    unused.extend(f"spec.template.{k}" for k in template if k not in ("metadata", "spec"))
    return RevisionTemplate(name, annotations, body, label=w, spec_path="spec.template.spec")


def _revision(doc: _Doc) -> tuple[RevisionTemplate, str | None]:
    """A Revision document's revision and its configuration (label), if it names one."""
    w, unused = doc.where, doc.unused
    meta = _mapping(doc.body.get("metadata"), f"{w}: metadata")
    annotations = _mapping(meta.get("annotations"), f"{w}: metadata.annotations")
    _unused_annotations(annotations, "metadata.annotations", unused, True)
    labels = _mapping(meta.get("labels"), f"{w}: metadata.labels")
    config = labels.get(CONFIGURATION_LABEL)
    unused.extend(f"metadata.labels.{k}" for k in labels if k != CONFIGURATION_LABEL)
    spec = _mapping(doc.body.get("spec"), f"{w}: spec")
    _unused_spec(spec, "spec", unused)
    return (RevisionTemplate(doc.name, annotations, spec, label=w, spec_path="spec"),
            None if config is None else str(config))


def _targets(doc: _Doc, revisions: Mapping[str, RevisionTemplate], latest: Mapping[str, str]) -> list[TrafficTarget]:
    """The traffic targets of a Service's or a Route's ``spec.traffic``, checked as Knative checks them."""
    w = doc.where
    route = doc.kind == "Route"
    allowed = ROUTE_TARGET_KEYS if route else SERVICE_TARGET_KEYS
    raw = _mapping(doc.body.get("spec"), f"{w}: spec").get("traffic")
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{w}: spec.traffic must be a non-empty list of targets such as "
                          f"{{revisionName: {next(iter(revisions), 'name')}, percent: 100}}")
    known = ", ".join(revisions) or "none"
    lo, hi = PERCENT_RANGE
    out = []
    for i, item in enumerate(raw):
        f = f"spec.traffic[{i}]"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{w}: {f} must be a mapping with keys {', '.join(allowed)}")
        for key in item:
            if key not in allowed:
                extra = "; a Service's traffic refers to its own configuration" if key == "configurationName" else ""
                raise ConfigError(f"{w}: {f}: unknown key {key}; allowed: {', '.join(allowed)}{extra}")
        if "url" in item:
            doc.unused.append(f"{f}.url")
        name = item.get("revisionName")
        if name is not None and (not isinstance(name, str) or not name):
            raise ConfigError(f"{w}: {f}.revisionName = {name!r}, must be a revision name")
        latest_flag = item.get("latestRevision", name is None)  # Knative's default
        if not isinstance(latest_flag, bool):
            raise ConfigError(f"{w}: {f}.latestRevision = {latest_flag!r}, must be true or false")
        if latest_flag and name is not None:
            raise ConfigError(f"{w}: {f}: revisionName {name} with latestRevision: true; give one "
                              f"(Knative refuses both)")
        if not latest_flag and name is None:
            raise ConfigError(f"{w}: {f}: latestRevision: false needs a revisionName")
        config = item.get("configurationName")
        if config is not None and name is not None:
            raise ConfigError(f"{w}: {f}: both revisionName and configurationName given; give one")
        if latest_flag:
            if config is None:
                if route:
                    raise ConfigError(f"{w}: {f}: latestRevision: true in a Route needs a configurationName")
                config = doc.name
            if config not in latest:
                raise ConfigError(f"{w}: {f}.configurationName = {config}, unknown configuration; the "
                                  f"configurations are: {', '.join(latest) or 'none'}")
            name = latest[config]
        elif name not in revisions:
            raise ConfigError(f"{w}: {f}.revisionName = {name}, unknown revision; the revisions are: {known}")
        percent = item.get("percent", 0)
        if percent is None:
            percent = 0
        if not isinstance(percent, int) or isinstance(percent, bool) or not lo <= percent <= hi:
            raise ConfigError(f"{w}: {f}.percent = {percent!r}, must be an integer in [{lo}, {hi}]")
        tag = item.get("tag")
        if tag is not None and (not isinstance(tag, str) or not tag):
            raise ConfigError(f"{w}: {f}.tag = {tag!r}, must be a non-empty string (or left out)")
        out.append(TrafficTarget(name, percent, tag))
    total = sum(t.percent for t in out)
    if total != PERCENT_TOTAL:
        shares = ", ".join(f"{t.revision} {t.percent}" for t in out if t.percent) or "none"
        raise ConfigError(f"{w}: spec.traffic: percents ({shares}) sum to {total}, must sum to exactly "
                          f"{PERCENT_TOTAL} (Knative's rule)")
    return out


def load_manifests(*sources) -> Manifests:
    """Read Knative Service, Configuration, Revision and Route manifests into revisions and a route.

    Parameters
    ----------
    *sources : path or mapping
        YAML files (one or many documents each) or parsed documents, read in order as
        one set of documents; see the module notes for what is read.

    Returns
    -------
    Manifests

    Raises
    ------
    ConfigError
        Naming the file, the document and the field: percents not summing to 100, an
        unknown revision (listing the known ones), an unknown traffic key, a revision
        defined twice, no Service or Route, a YAML error. An unknown autoscaling
        annotation or a bad value is reported when the revisions are resolved
        (:meth:`Manifests.resolved`).
    """
    if not sources:
        raise TypeError("load_manifests needs at least one file or document")
    docs: list[_Doc] = []
    notes: list[str] = []
    labels: list[str] = []
    for label, index, body in _documents(sources):
        labels.append(label)
        at = f"{label}: document {index}"
        if not isinstance(body, Mapping):
            notes.append(f"{at} is not a mapping; not read")
            continue
        api, kind = str(body.get("apiVersion", "")), body.get("kind")
        if not api.startswith(API_PREFIX) or kind not in KINDS:
            notes.append(f"{at} ({api or 'no apiVersion'}/{kind}) is not read; the model reads "
                         f"{API_PREFIX}v1 {', '.join(KINDS)}")
            continue
        meta = _mapping(body.get("metadata"), f"{at}: metadata")
        name = meta.get("name")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{at} ({kind}): metadata.name = {name!r}, must name the {kind}")
        doc = _Doc(f"{at} ({kind} {name})", kind, name, body, [])
        doc.unused.extend(k for k in body if k not in ("apiVersion", "kind", "metadata", "spec"))
        doc.unused.extend(f"metadata.{k}" for k in meta if k not in ("name", "annotations", "labels"))
        if kind != "Revision":
            top = _mapping(meta.get("annotations"), f"{doc.where}: metadata.annotations")
            for a in top:
                if str(a).startswith(ANNOTATION_PREFIX):
                    raise ConfigError(f"{doc.where}: metadata.annotations.{a}: autoscaling annotations must "
                                      f"be put under spec.template.metadata.annotations to work")
            _unused_annotations(top, "metadata.annotations", doc.unused, False)
            doc_labels = _mapping(meta.get("labels"), f"{doc.where}: metadata.labels")
            doc.unused.extend(f"metadata.labels.{k}" for k in doc_labels)
        docs.append(doc)

    revisions: dict[str, RevisionTemplate] = {}
    latest: dict[str, str] = {}
    generations: dict[str, int] = {}
    services = [d for d in docs if d.kind == "Service"]
    routes = [d for d in docs if d.kind == "Route"]
    for doc in docs:
        if doc.kind == "Route":
            spec = _mapping(doc.body.get("spec"), f"{doc.where}: spec")
            doc.unused.extend(f"spec.{k}" for k in spec if k != "traffic")
            continue
        if doc.kind == "Revision":
            rev, config = _revision(doc)
        else:
            generations[doc.name] = generations.get(doc.name, 0) + 1
            rev, config = _template(doc, generations[doc.name]), doc.name
            spec = _mapping(doc.body.get("spec"), f"{doc.where}: spec")
            used = ("template", "traffic") if doc.kind == "Service" else ("template",)
            doc.unused.extend(f"spec.{k}" for k in spec if k not in used)
        if rev.name in revisions:
            raise ConfigError(f"{doc.where}: revision {rev.name} is already defined by "
                              f"{revisions[rev.name].label}; a revision is immutable, give the new "
                              f"template a new name")
        revisions[rev.name] = rev
        if config is not None:
            latest[config] = rev.name

    if len({d.name for d in services}) > 1:
        raise ConfigError(f"{services[-1].where}: the manifests hold several Services "
                          f"({', '.join(dict.fromkeys(d.name for d in services))}); give one service's")
    if len(routes) > 1:
        raise ConfigError(f"{routes[1].where}: a second Route; give one")
    # The Route's traffic, else the current Service's (its last document); earlier ones are superseded.
    last = services[-1] if services else None
    source = routes[0] if routes else last
    if source is last and last is not None and "traffic" not in _mapping(last.body.get("spec"), last.where):
        source = None  # Knative's default: all traffic to the latest revision
    for d in services:
        if d is not source and "traffic" in _mapping(d.body.get("spec"), d.where):
            by = source.where if source is not None else f"{last.where}, which has no spec.traffic"
            d.unused.append(f"spec.traffic (superseded by {by})")
    if source is not None:
        targets = _targets(source, revisions, latest)
        name = source.name
    elif services or any(d.kind == "Configuration" for d in docs):
        owner = services[-1] if services else [d for d in docs if d.kind == "Configuration"][-1]
        targets, name = [TrafficTarget(latest[owner.name], PERCENT_TOTAL)], owner.name
    else:
        raise ConfigError(f"{', '.join(dict.fromkeys(labels))}: no Knative "
                          f"Service or Route (apiVersion: {API_PREFIX}v1) to take the traffic from")
    try:
        route = Route(targets)
    except ConfigError as exc:
        raise ConfigError(f"{source.where if source is not None else name}: spec.traffic: {exc}") from None
    notes.extend(f"{d.where}: not used by the model: {', '.join(d.unused)}" for d in docs if d.unused)
    return Manifests(revisions=revisions, route=route, has_traffic=source is not None, name=name,
                     notes=tuple(notes))
