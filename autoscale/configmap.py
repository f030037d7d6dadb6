"""Knative's ConfigMap and Service manifests, and the resolution of one revision's KPA configuration from them.

:func:`resolve` reads the ``config-autoscaler`` ConfigMap, a Knative Service (or one
revision of it, :class:`RevisionTemplate`) and explicit overrides, in Knative's order
of precedence, and gives a :class:`~autoscale.config.ResolvedConfig` that records where
every value came from.

Examples
--------
>>> r = resolve(configmap={"stable-window": "90s"}, overrides={"target": "50"})
>>> r.config.stable_window, r.sources["stable-window"], r.sources["target"]
(90.0, 'configmap', 'override')
"""

from __future__ import annotations

import difflib
import os
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._yaml import load_yaml
from .config import (
    _ANNOTATIONS,
    _BY_FIELD,
    _CONFIGMAP_KEYS,
    _KEYS,
    _OVERRIDE_KEYS,
    ANNOTATION_PREFIX,
    IGNORED_CONFIGMAP_KEYS,
    PROGRESS_DEADLINE_ANNOTATION,
    KPAConfig,
    ResolvedConfig,
    _coerce,
    _fmt_value,
    _Key,
    _parse_text,
    _requirement,
)
from .errors import ConfigError
from .values import parse_seconds

__all__ = ["RevisionTemplate", "resolve"]


def _close(name: str, candidates) -> str:
    matches = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    return f"; did you mean {', '.join(matches)}?" if matches else ""


def _close_override(name: str) -> str:
    """Close matches among override keys, one spelling per setting (kebab before snake)."""
    matches, fields = [], set()
    for m in difflib.get_close_matches(name, list(_OVERRIDE_KEYS), n=9, cutoff=0.6):
        field = _OVERRIDE_KEYS[m][0].field
        if field not in fields:
            fields.add(field)
            matches.append(m)
    return f"; did you mean {', '.join(matches[:3])}?" if matches else ""


def _mapping(obj, where: str, label: str) -> Mapping:
    if obj is None:
        return {}
    if not isinstance(obj, Mapping):
        raise ConfigError(f"{label}: {where} must be a mapping, got {type(obj).__name__}")
    return obj


def _configmap_data(configmap) -> tuple[Mapping, str]:
    """The ``data`` of a config-autoscaler ConfigMap file or dict, and a label for messages."""
    if isinstance(configmap, Mapping):
        if configmap.get("kind") == "ConfigMap":
            return _mapping(configmap.get("data"), "data", "configmap"), "configmap"
        return configmap, "configmap"
    if not isinstance(configmap, (str, os.PathLike)):
        raise TypeError(f"configmap must be a path or a mapping, got {type(configmap).__name__}")
    label = os.fspath(configmap)
    docs = [d for d in load_yaml(configmap) if isinstance(d, Mapping) and d.get("kind") == "ConfigMap"]
    if len(docs) > 1:
        docs = [d for d in docs if _mapping(d.get("metadata"), "metadata", label).get("name")
                == "config-autoscaler"]
    if len(docs) != 1:
        raise ConfigError(f"{label}: expected one ConfigMap (kind: ConfigMap, "
                          f"metadata.name: config-autoscaler), found {len(docs)}")
    return _mapping(docs[0].get("data"), "data", label), label


@dataclass(frozen=True)
class RevisionTemplate:
    """One revision's autoscaling inputs as a manifest holds them, and where they were read.

    What :func:`resolve` reads of a revision: its annotations (a Service's
    ``spec.template.metadata.annotations``, a Revision's ``metadata.annotations``) and
    its spec (``spec.template.spec``, a Revision's ``spec``). ``label`` names the file
    and document in messages, ``spec_path`` the spec's place in the document.
    :func:`autoscale.manifests.load_manifests` makes these from Knative's manifests.
    """

    name: str
    annotations: Mapping[str, Any]
    spec: Mapping[str, Any]
    label: str = "revision"
    spec_path: str = "spec.template.spec"


def _service_parts(service) -> tuple[Mapping, Mapping, str, str]:
    """Template annotations and template spec of a Knative Service, a label, and the spec's path.

    A file may hold several documents of one Service (its earlier versions, as
    ``kubectl apply`` would see them one after another): the last one is the Service
    as it is now.
    """
    if isinstance(service, RevisionTemplate):
        return service.annotations, service.spec, service.label, service.spec_path
    if isinstance(service, Mapping):
        label, docs = "service", [service]
    elif isinstance(service, (str, os.PathLike)):
        label, docs = os.fspath(service), load_yaml(service)
    else:
        raise TypeError(f"service must be a path, a mapping or a RevisionTemplate, got {type(service).__name__}")
    found = [d for d in docs if isinstance(d, Mapping) and d.get("kind") == "Service"
             and str(d.get("apiVersion", "")).startswith("serving.knative.dev/")]
    names = {str(_mapping(d.get("metadata"), "metadata", label).get("name")) for d in found}
    if not found or len(names) > 1:
        kinds = ", ".join(f"{d.get('apiVersion')}/{d.get('kind')}" for d in docs if isinstance(d, Mapping))
        raise ConfigError(f"{label}: expected one Knative Service (apiVersion: serving.knative.dev/v1, "
                          f"kind: Service), found {len(found) if len(names) <= 1 else len(names)}"
                          + (f" among {kinds}" if kinds else ""))
    svc = found[-1]
    top = _mapping(_mapping(svc.get("metadata"), "metadata", label).get("annotations"),
                   "metadata.annotations", label)
    for name in top:
        if str(name).startswith(ANNOTATION_PREFIX):
            raise ConfigError(f"{label}: metadata.annotations.{name}: autoscaling annotations must be "
                              f"put under spec.template.metadata.annotations to work")
    template = _mapping(_mapping(svc.get("spec"), "spec", label).get("template"), "spec.template", label)
    meta = _mapping(template.get("metadata"), "spec.template.metadata", label)
    annotations = _mapping(meta.get("annotations"), "spec.template.metadata.annotations", label)
    spec = _mapping(template.get("spec"), "spec.template.spec", label)
    return annotations, spec, label, "spec.template.spec"


def _string_value(raw, label: str, name: str) -> str:
    if not isinstance(raw, str):
        raise ConfigError(f"{label}: {name} = {raw!r}, Kubernetes needs a string here; quote it: "
                          f"'{raw}'")
    return raw


class _Resolver:
    """Collects values layer by layer and remembers each value's source and origin."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.sources = {k.key: "default" for k in _KEYS}
        self.origins: dict[str, str] = {}
        self.notes: list[str] = []
        self.configmap_values: dict[str, tuple[Any, str]] = {}  # field -> (value, origin)

    def set(self, k: _Key, value: Any, source: str, origin: str) -> None:
        self.values[k.field] = value
        self.sources[k.key] = source
        self.origins[k.key] = origin

    def checked(self, k: _Key, value: Any, name: str, shown: str, label: str, annotation: bool) -> Any:
        req = _requirement(k, value, annotation) if value is not None else None
        if req is not None:
            raise ConfigError(f"{label}{name} = {shown}, {req}")
        return value

    def configmap(self, configmap) -> None:
        data, label = _configmap_data(configmap)
        for name, raw in data.items():
            name = str(name)
            if name == "_example":
                continue
            if name in IGNORED_CONFIGMAP_KEYS:
                self.notes.append(f"{label}: {name} is ignored, as Knative ignores it "
                                  f"({IGNORED_CONFIGMAP_KEYS[name]})")
                continue
            k = _CONFIGMAP_KEYS.get(name)
            if k is None:
                raise ConfigError(f"{label}: unknown config-autoscaler key {name}"
                                  f"{_close(name, _CONFIGMAP_KEYS)}")
            text = _string_value(raw, label, name)
            value = self.checked(k, self._parse(k, text, label, name), name, text, f"{label}: ", False)
            self.configmap_values[k.field] = (value, f"configmap {label}")
            self.set(k, value, "configmap", f"configmap {label}")

    def service(self, service) -> None:
        annotations, spec, label, spec_path = _service_parts(service)
        seen: dict[str, str] = {}
        for name, raw in annotations.items():
            name = str(name)
            if not (name.startswith(ANNOTATION_PREFIX) or name == PROGRESS_DEADLINE_ANNOTATION):
                continue  # another component's annotation
            k = _ANNOTATIONS.get(name)
            if k is None:
                known = [n for n in _ANNOTATIONS if n.startswith(ANNOTATION_PREFIX)]
                raise ConfigError(f"{label}: unknown autoscaling annotation {name}{_close(name, known)}")
            if k.field in seen:
                raise ConfigError(f"{label}: annotations {seen[k.field]} and {name} both set "
                                  f"{k.key}; keep one")
            seen[k.field] = name
            text = _string_value(raw, label, name)
            value = self.checked(k, self._parse(k, text, label, name), name, text, f"{label}: ", True)
            self.set(k, value, "annotation", f"annotation {name} in {label}")
        for spec_name, field in (("containerConcurrency", "container_concurrency"),
                                 ("timeoutSeconds", "timeout_seconds")):
            if spec_name not in spec:
                continue
            k, raw, where = _BY_FIELD[field], spec[spec_name], f"{spec_path}.{spec_name}"
            if not isinstance(raw, int) or isinstance(raw, bool):
                raise ConfigError(f"{label}: {where} = {raw!r}, must be an integer")
            value = self.checked(k, _coerce(k, raw), where, str(raw), f"{label}: ", False)
            self.set(k, value, "spec", f"{where} in {label}")

    def overrides(self, overrides: Mapping[str, Any]) -> None:
        if not isinstance(overrides, Mapping):
            raise TypeError(f"overrides must be a mapping, got {type(overrides).__name__}")
        seen: dict[str, str] = {}
        for name, raw in overrides.items():
            entry = _OVERRIDE_KEYS.get(name)
            if entry is None:
                raise ConfigError(f"unknown override key {name}{_close_override(str(name))}")
            k, annotation = entry
            if k.field in seen:
                raise ConfigError(f"overrides {seen[k.field]} and {name} both set {k.key}; keep one")
            seen[k.field] = name
            if isinstance(raw, str):
                parse = parse_seconds if k.kind == "duration" else lambda text, key: _parse_text(k, text, key)
                value, shown = parse(raw, str(name)), raw
            else:
                value = _coerce(k, raw)
                shown = _fmt_value(k, value)
            value = self.checked(k, value, name, shown, "", annotation)
            self.set(k, value, "override", f"override {name}")

    @staticmethod
    def _parse(k: _Key, text: str, label: str, name: str) -> Any:
        try:
            return _parse_text(k, text, name)
        except ConfigError as exc:
            raise ConfigError(f"{label}: {exc}") from None

    def initial_scale_rule(self) -> None:
        """``GetInitialScale``: an annotation of 0 counts only if zero is allowed."""
        k = _BY_FIELD["initial_scale"]
        allow = self.values.get("allow_zero_initial_scale", False)
        if self.sources[k.key] == "annotation" and self.values[k.field] == 0 and not allow:
            origin = self.origins.pop(k.key)
            if k.field in self.configmap_values:
                value, cm_origin = self.configmap_values[k.field]
                self.set(k, value, "configmap", cm_origin)
            else:
                del self.values[k.field]
                self.sources[k.key] = "default"
            self.notes.append(f"{origin} = 0 is ignored because allow-zero-initial-scale is false; "
                              f"initial-scale comes from the {self.sources[k.key]}")

    def build(self) -> ResolvedConfig:
        try:
            config = KPAConfig(**self.values)
        except ConfigError as exc:
            msg = str(exc)
            involved = [f"{key} from {origin}" for key, origin in self.origins.items()
                        if re.search(rf"(?<![\w-]){re.escape(key)}(?![\w-])", msg)]
            raise ConfigError(msg + (f" ({'; '.join(involved)})" if involved else "")) from None
        return ResolvedConfig(config, types.MappingProxyType(dict(self.sources)), tuple(self.notes))


def resolve(configmap=None, service=None, overrides=None) -> ResolvedConfig:
    """Resolve one revision's configuration from Knative's sources, recording each value's source.

    Precedence: default < config map < revision annotations and spec < overrides.

    Parameters
    ----------
    configmap : path or mapping, optional
        A YAML file holding the ``config-autoscaler`` ConfigMap (with several ConfigMaps
        in the file, the one named ``config-autoscaler``), or a mapping of its ``data``
        (string values, as Kubernetes requires). ``_example`` is skipped and
        ``tick-interval`` is accepted and ignored (with a note), as Knative does. Values
        use the config map's ranges (``pkg/autoscaler/config/config.go``).
    service : path, mapping or RevisionTemplate, optional
        A Knative Service manifest (``apiVersion: serving.knative.dev/v1``, ``kind:
        Service``), as a YAML file or the parsed mapping; a file holding several
        documents of the Service is read from the last. Or one revision of a
        manifest (:class:`RevisionTemplate`). Read from ``spec.template``:
        ``metadata.annotations`` starting with ``autoscaling.knative.dev/`` (camelCase
        aliases such as ``minScale`` accepted), ``serving.knative.dev/progress-deadline``,
        and ``spec.containerConcurrency`` and ``spec.timeoutSeconds``. Other annotations
        belong to other components and are ignored. Annotations use the annotation
        ranges (``pkg/apis/autoscaling/annotation_validation.go``), e.g. panic-threshold-percentage in [110, 1000].
    overrides : mapping, optional
        Key -> value, applied last. Keys are Knative keys (as in
        :meth:`KPAConfig.to_dict`, e.g. ``stable-window``), bare annotation names
        (``window``, ``class``), full annotation names, or field names. String values
        are parsed with Knative's syntax (``"90s"``, ``"true"``), except that a
        duration may also be a plain number of seconds (``"90"``); other values are
        Python values (durations in seconds). A full annotation name is checked against
        the annotation range; any other name against the :class:`KPAConfig` range.

    Returns
    -------
    ResolvedConfig

    Raises
    ------
    ConfigError
        For an unknown key (with close matches), an unparsable or out-of-range value
        (naming the file and key), or a YAML syntax error (naming the file and line).

    Notes
    -----
    Initial scale follows Knative's ``GetInitialScale``: an ``initial-scale``
    annotation is used unless it is 0 and ``allow-zero-initial-scale`` is false, in
    which case the config map's ``initial-scale`` (or the default) is used.

    Examples
    --------
    >>> svc = {"apiVersion": "serving.knative.dev/v1", "kind": "Service",
    ...        "spec": {"template": {
    ...            "metadata": {"annotations": {"autoscaling.knative.dev/minScale": "2"}},
    ...            "spec": {"containerConcurrency": 10}}}}
    >>> r = resolve(configmap={"max-scale": "20"}, service=svc, overrides={"stable-window": "90s"})
    >>> [r.sources[k] for k in ("max-scale", "min-scale", "container-concurrency", "stable-window")]
    ['configmap', 'annotation', 'spec', 'override']
    >>> r.config.target_value   # CC 10 at 70 %
    7.0
    """
    r = _Resolver()
    if configmap is not None:
        r.configmap(configmap)
    if service is not None:
        r.service(service)
    if overrides is not None:
        r.overrides(overrides)
    r.initial_scale_rule()
    return r.build()
