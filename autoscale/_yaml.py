"""Reading YAML files safely: PyYAML's safe loader, with no repeated keys and no alias bombs.

Every YAML file the package reads (``config-autoscaler`` ConfigMaps, Services, Routes,
Revisions and route files) goes through :func:`load_yaml`. On top of ``yaml.SafeLoader``
it refuses:

* a key given twice in one mapping (PyYAML would keep the last silently);
* an alias bomb ("billion laughs"): anchors and aliases (``&a``, ``*a``, ``<<: *a``) are
  allowed, but aliases share nodes, so nine lines of nine aliases each stand for 9^9 =
  387 M nodes. A file may use at most :data:`MAX_ALIASES` aliases, and a document may
  stand for at most :data:`MAX_NODES` nodes with its aliases expanded; both are checked
  while the file is composed, before any Python object of any document is built;
* a recursive alias (``&a [*a]``), whose expansion never ends;
* nesting deeper than Python's recursion limit (``[[[[...]]]]``), which PyYAML cannot compose.

Knative's own manifests use no aliases at all; the limits leave room for hand-written
files that share a block of settings (``<<: *defaults``).

Examples
--------
>>> import os, tempfile
>>> laughs = "a: &a [x, x, x, x, x, x, x, x, x]\\n" + "".join(
...     f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\\n" for p, c in zip("abcdefgh", "bcdefghi"))
>>> fd, path = tempfile.mkstemp(suffix=".yaml")
>>> _ = os.write(fd, laughs.encode()); os.close(fd)
>>> try:
...     load_yaml(path)
... except ConfigError as exc:
...     print(str(exc).replace(path, "laughs.yaml"))
... finally:
...     os.remove(path)
laughs.yaml:1: the document stands for more than 1,000,000 YAML nodes once its aliases are expanded
(an alias bomb); refused
"""

from __future__ import annotations

import os
import sys
from typing import Any

import yaml

from .errors import ConfigError

__all__ = ["load_yaml", "MAX_ALIASES", "MAX_NODES"]

MAX_ALIASES = 10_000  #: aliases (``*name``) one file may use
MAX_NODES = 1_000_000  #: nodes one document may stand for once its aliases are expanded

_MERGE_TAG = "tag:yaml.org,2002:merge"
_RECURSIVE = "the node here holds an alias of itself (a recursive alias), which never ends when expanded; refused"


class _Refused(Exception):
    """A YAML document refused before construction, with the line (1-based) it is refused at."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(line, reason)
        self.line, self.reason = line, reason


def _expanded_size(root: yaml.Node, limit: int) -> int:
    """Nodes under ``root`` with every alias expanded, counted once per use; stops past ``limit``.

    Aliases make the node graph a DAG: size(node) = 1 + the sizes of its children, each
    child counted at every place it is used, memoised so that the count costs one visit
    per distinct node. A cycle (a node reachable from itself) is refused.
    """
    size: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if isinstance(node, yaml.ScalarNode):
            children: list[yaml.Node] = []
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            children = [n for pair in node.value for n in pair]
        if done:
            open_nodes.discard(key)
            size[key] = min(limit + 1, 1 + sum(size[id(c)] for c in children))
            continue
        if key in size:
            continue
        if key in open_nodes:
            raise _Refused(node.start_mark.line + 1, _RECURSIVE)
        open_nodes.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in open_nodes:
                raise _Refused(child.start_mark.line + 1, _RECURSIVE)
            if id(child) not in size:
                stack.append((child, False))
    return size[id(root)]


class _SafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that counts aliases and expanded nodes while composing, and refuses repeated keys."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                line = self.peek_event().start_mark.line + 1
                raise _Refused(line, f"more than {MAX_ALIASES:,} aliases in one file (an alias bomb); refused")
        return super().compose_node(parent, index)

    def compose_document(self):
        node = super().compose_document()
        if _expanded_size(node, MAX_NODES) > MAX_NODES:
            raise _Refused(node.start_mark.line + 1, f"the document stands for more than {MAX_NODES:,} YAML nodes "
                                                     f"once its aliases are expanded (an alias bomb); refused")
        return node

    def construct_mapping(self, node, deep=False):
        first: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:  # `<<: *a` merges; an explicit key may override a merged one
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                seen = first.setdefault(key, line)
            except TypeError:  # an unhashable key: the base class reports it
                continue
            if seen != line:
                raise _Refused(line, f"{key} is given twice (first on line {seen}); keep one")
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: str | os.PathLike) -> list[Any]:
    """The documents of a YAML file, empty ones left out, read with the safe loader described above.

    Parameters
    ----------
    path : str or path-like
        The file (UTF-8).

    Returns
    -------
    list
        One parsed document (mapping, list or scalar) per non-empty document of the file.

    Raises
    ------
    ConfigError
        For a YAML syntax error, a key given twice, an alias bomb or a recursive alias,
        naming the file and line; for nesting too deep, naming the file.
    """
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    loader = _SafeLoader(text)
    try:
        nodes = []  # every document composed and checked before any is built
        while loader.check_node():
            nodes.append(loader.get_node())
        docs = [loader.construct_document(node) for node in nodes]
        return [d for d in docs if d is not None]
    except _Refused as refused:
        raise ConfigError(f"{path}:{refused.line}: {refused.reason}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    except RecursionError:  # PyYAML composes and builds nested nodes recursively
        raise ConfigError(f"{path}: YAML nested more deeply than {sys.getrecursionlimit()} levels; "
                          f"refused") from None
    finally:
        loader.dispose()
