"""Durations from other columns: a safe arithmetic expression of a table's columns, evaluated with numpy.

A per-request trace that records no durations may record what they depend on: the
Azure LLM inference traces (``TIMESTAMP,ContextTokens,GeneratedTokens``) give token
counts, so ``0.02 + 0.015 * GeneratedTokens`` is a service time of 20 ms plus 15 ms a
generated token. The text is parsed with :mod:`ast` and only these are accepted:
numbers, column names (a name that is not an identifier goes between backquotes:
```latency ms` / 1000``), ``+ - * / **``, unary ``-`` and ``+``, parentheses, and the
functions ``min(a, b, ...)`` and ``max(a, b, ...)`` (element by element), ``log``,
``exp``, ``sqrt`` and ``abs``. Nothing is ever passed to ``eval``; every column is read
as numbers, so a malformed cell is reported with its line.

Examples
--------
>>> e = Expression.parse("0.02 + 0.015 * GeneratedTokens")
>>> e.columns
('GeneratedTokens',)
>>> e.evaluate({"GeneratedTokens": np.array([10.0, 100.0])}).round(3).tolist()
[0.17, 1.52]
>>> Expression.parse("max(0.1, `prompt len` / 1000)").columns
('prompt len',)
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import numpy as np

from ..errors import TraceError

__all__ = ["FUNCTIONS", "Expression"]

#: The functions an expression may call, and how many arguments each takes (None: two or more).
FUNCTIONS = {"min": None, "max": None, "log": 1, "exp": 1, "sqrt": 1, "abs": 1}
_NUMPY = {"log": np.log, "exp": np.exp, "sqrt": np.sqrt, "abs": np.abs}
_OPERATORS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide, ast.Pow: np.power}
_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
ALLOWED = ("numbers, column names (`quoted` when not identifiers), + - * / **, parentheses and "
           + ", ".join(FUNCTIONS))
_QUOTED = re.compile(r"`([^`]*)`")


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text, the columns it reads (in order of first use) and its syntax tree."""

    text: str
    columns: tuple[str, ...]
    tree: ast.Expression
    quoted: tuple[tuple[str, str], ...] = ()  # placeholder identifier -> column name

    @classmethod
    def parse(cls, text: str, what: str = "duration_from") -> "Expression":
        """Parse and check ``text``; a :class:`~autoscale.errors.TraceError` names what is not allowed."""
        if not isinstance(text, str):
            raise TypeError(f"{what}: expected a str, got {type(text).__name__}")
        if not text.strip():
            raise TraceError(f"{what}: empty expression; give one of {ALLOWED}")
        quoted: dict[str, str] = {}

        def placeholder(m) -> str:
            name = m.group(1)
            if not name.strip():
                raise TraceError(f"{what} = {text!r}: `` names no column")
            key = next((k for k, v in quoted.items() if v == name), f"__column_{len(quoted)}__")
            quoted[key] = name
            return key

        if text.count("`") % 2:
            raise TraceError(f"{what} = {text!r}: a backquote is not closed")
        source = _QUOTED.sub(placeholder, text)
        try:
            tree = ast.parse(source.strip(), mode="eval")
        except SyntaxError as exc:
            at = f" at character {exc.offset}" if exc.offset else ""
            raise TraceError(f"{what} = {text!r}: not an expression{at} ({exc.msg}); allowed: {ALLOWED}") from None
        columns: list[str] = []
        cls._check(tree.body, text, what, columns, quoted)
        return cls(text=text, columns=tuple(dict.fromkeys(columns)), tree=tree, quoted=tuple(quoted.items()))

    @staticmethod
    def _check(node, text: str, what: str, columns: list[str], quoted: dict) -> None:
        def refuse(found: str):
            raise TraceError(f"{what} = {text!r}: {found} is not allowed; allowed: {ALLOWED}")

        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                refuse(f"the constant {node.value!r}")
            return
        if isinstance(node, ast.Name):
            columns.append(quoted.get(node.id, node.id))
            return
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _OPERATORS:
                refuse(f"the operator {type(node.op).__name__}")
            Expression._check(node.left, text, what, columns, quoted)
            Expression._check(node.right, text, what, columns, quoted)
            return
        if isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                refuse(f"the operator {type(node.op).__name__}")
            Expression._check(node.operand, text, what, columns, quoted)
            return
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name not in FUNCTIONS:
                refuse(f"calling {ast.unparse(node.func)}")
            if node.keywords:
                refuse(f"a keyword argument to {name}")
            arity = FUNCTIONS[name]
            if (arity is None and len(node.args) < 2) or (arity is not None and len(node.args) != arity):
                need = "two or more arguments" if arity is None else "one argument"
                raise TraceError(f"{what} = {text!r}: {name} takes {need}, got {len(node.args)}")
            for arg in node.args:
                if isinstance(arg, ast.Starred):
                    refuse("a starred argument")
                Expression._check(arg, text, what, columns, quoted)
            return
        refuse(f"{type(node).__name__.lower()} {ast.unparse(node)!r}")

    def evaluate(self, values: dict) -> np.ndarray:
        """The expression over columns ``values`` (name -> float array), element by element, as float64.

        Invalid operations (a log of a negative, a division by zero) give NaN or inf,
        not an exception: the caller checks the result and names the line.
        """
        names = {k: v for k, v in self.quoted}
        n = max((np.size(v) for v in values.values()), default=1)

        def ev(node):
            if isinstance(node, ast.Constant):
                return np.float64(node.value)
            if isinstance(node, ast.Name):
                return np.asarray(values[names.get(node.id, node.id)], dtype=np.float64)
            if isinstance(node, ast.BinOp):
                return _OPERATORS[type(node.op)](ev(node.left), ev(node.right))
            if isinstance(node, ast.UnaryOp):
                v = ev(node.operand)
                return -v if isinstance(node.op, ast.USub) else v
            args = [ev(a) for a in node.args]
            fname = node.func.id
            if fname in ("min", "max"):
                combine = np.minimum if fname == "min" else np.maximum
                out = args[0]
                for a in args[1:]:
                    out = combine(out, a)
                return out
            return _NUMPY[fname](args[0])

        with np.errstate(all="ignore"):
            out = ev(self.tree.body)
        return np.broadcast_to(np.asarray(out, dtype=np.float64), (n,)).copy()

    def __str__(self) -> str:
        return self.text
