"""A reader of JavaScript object literals of plain values, as k6 scripts write their ``options``.

k6 reads a script's options by running it; autoscale reads them without running
anything, so it takes the object literal of ``export const options = {...}`` as it is
written: objects, arrays, strings, numbers, booleans and null, with what k6's examples
use of JavaScript's syntax (unquoted keys, either quote, template strings without
``${}``, trailing commas, ``//`` and ``/* */`` comments, ``1_000``). Anything computed
(``__ENV.VUS || 10``, a function call, a spread) is refused with its line and column.

>>> read_object("export const options = { vus: 10, duration: '30s', }  // ten users")
{'vus': 10, 'duration': '30s'}
"""

from __future__ import annotations

import re

from .errors import ConfigError

__all__ = ["read_object"]


class _Reader:
    """A reader of one JavaScript object literal of plain values: objects, arrays, strings, numbers, booleans, null.

    It takes what k6's examples write: unquoted keys, single or double quotes, template
    strings without ``${}``, trailing commas, ``//`` and ``/* */`` comments, numeric
    separators (``1_000``). An expression (``__ENV.VUS || 10``, a function call) is
    refused with its line and column.
    """

    _NUMBER = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?)")
    _IDENT = re.compile(r"[A-Za-z_$][\w$]*")

    def __init__(self, text: str, where: str, pos: int = 0) -> None:
        self.text, self.where, self.pos = text, where, pos

    def at(self, pos: int | None = None) -> str:
        pos = self.pos if pos is None else pos
        line = self.text.count("\n", 0, pos) + 1
        col = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        return f"{self.where}:{line}:{col}"

    def fail(self, what: str, pos: int | None = None):
        raise ConfigError(f"{self.at(pos)}: {what}")

    def skip(self) -> None:
        t = self.text
        while self.pos < len(t):
            if t[self.pos].isspace():
                self.pos += 1
            elif t.startswith("//", self.pos):
                end = t.find("\n", self.pos)
                self.pos = len(t) if end < 0 else end + 1
            elif t.startswith("/*", self.pos):
                end = t.find("*/", self.pos + 2)
                if end < 0:
                    self.fail("a /* comment is not closed")
                self.pos = end + 2
            else:
                return

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos:self.pos + 1]

    def expect(self, ch: str) -> None:
        if self.peek() != ch:
            found = self.text[self.pos:self.pos + 12].split("\n")[0] or "the end of the file"
            self.fail(f"expected {ch!r}, found {found!r}")
        self.pos += 1

    def value(self):
        ch = self.peek()
        if not ch:
            self.fail("the object ends too early")
        if ch == "{":
            return self.obj()
        if ch == "[":
            return self.array()
        if ch in "'\"`":
            return self.string()
        m = self._NUMBER.match(self.text, self.pos)
        if m and m.group(0) not in ("+", "-"):
            return self.number(m)
        m = self._IDENT.match(self.text, self.pos)
        if m:
            word = m.group(0)
            if word in ("true", "false", "null", "undefined"):
                self.pos = m.end()
                return {"true": True, "false": False}.get(word)
            self.fail(f"{word!r}: autoscale reads k6 options of literal values only (numbers, strings, objects, "
                      "arrays); write the value itself")
        self.fail(f"unexpected {ch!r}: autoscale reads k6 options of literal values only")

    def number(self, m):
        text = m.group(0).replace("_", "")
        self.pos = m.end()
        nxt = self.text[self.pos:self.pos + 1]
        if nxt and (nxt.isalnum() or nxt in "_$.("):
            self.fail(f"{m.group(0) + nxt!r}: not a number literal", m.start())
        try:
            value = int(text, 16) if text.lstrip("+-")[:2].lower() == "0x" else float(text)
        except ValueError:
            self.fail(f"{m.group(0)!r}: not a number literal", m.start())
        if isinstance(value, float) and value.is_integer() and re.fullmatch(r"[+-]?\d+", text):
            return int(value)
        return value

    def string(self) -> str:
        quote = self.text[self.pos]
        start = self.pos
        self.pos += 1
        out = []
        escapes = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
        t = self.text
        while True:
            if self.pos >= len(t) or (t[self.pos] == "\n" and quote != "`"):
                self.fail("a string is not closed", start)
            ch = t[self.pos]
            if ch == quote:
                self.pos += 1
                return "".join(out)
            if quote == "`" and t.startswith("${", self.pos):
                self.fail("a template string with ${...}: write the value itself", self.pos)
            if ch == "\\":
                nxt = t[self.pos + 1:self.pos + 2]
                if nxt == "u":
                    code = t[self.pos + 2:self.pos + 6]
                    if not re.fullmatch(r"[0-9a-fA-F]{4}", code):
                        self.fail("a \\u escape needs four hex digits", self.pos)
                    out.append(chr(int(code, 16)))
                    self.pos += 6
                    # A surrogate pair (\ud83d\ude00) is one character, as JavaScript's strings hold it.
                    if len(out) > 1 and "\ud800" <= out[-2] <= "\udbff" and "\udc00" <= out[-1] <= "\udfff":
                        high, low = out.pop(-2), out.pop()
                        out.append(chr(0x10000 + (ord(high) - 0xD800) * 0x400 + ord(low) - 0xDC00))
                    continue
                out.append(escapes.get(nxt, nxt))
                self.pos += 2
                continue
            out.append(ch)
            self.pos += 1

    def key(self) -> str:
        ch = self.peek()
        if ch and ch in "'\"`":
            return self.string()
        m = self._IDENT.match(self.text, self.pos) or self._NUMBER.match(self.text, self.pos)
        if not m:
            self.fail(f"expected a key, found {ch!r}" if ch else "the object ends too early")
        self.pos = m.end()
        return m.group(0)

    def obj(self) -> dict:
        self.expect("{")
        out: dict = {}
        while self.peek() != "}":
            start = self.pos
            if self.text.startswith("...", self.pos):
                self.fail("a spread (...): write the values themselves")
            k = self.key()
            if self.peek() != ":":
                self.fail(f"{k!r} without ':' and a value (autoscale reads literal values only)", start)
            self.pos += 1
            if k in out:
                self.fail(f"{k!r} is given twice in one object", start)
            out[k] = self.value()
            self.after_item("}")
        self.pos += 1
        return out

    def array(self) -> list:
        self.expect("[")
        out = []
        while self.peek() != "]":
            out.append(self.value())
            self.after_item("]")
        self.pos += 1
        return out

    def after_item(self, close: str) -> None:
        """After an item of an object or array: a comma (perhaps trailing), or the closing bracket."""
        if self.peek() == ",":
            self.pos += 1
        elif self.peek() != close:
            self.expect(close)


def read_object(text: str, where: str = "options") -> dict:
    """k6's options from a script (the object literal of ``export const options = {...}``) or a JSON file.

    >>> read_object("export const options = { vus: 10, duration: '30s', }  // ten users")
    {'vus': 10, 'duration': '30s'}
    """
    m = re.search(r"export\s+(?:const|let|var)\s+options\s*=", text)
    if m is None:
        if text.lstrip().startswith("{"):
            reader = _Reader(text, where, text.index("{"))
        else:
            raise ConfigError(f"{where}: no 'export const options = {{...}}' (nor a JSON object of k6 options)")
    else:
        reader = _Reader(text, where, m.end())
        if reader.peek() != "{":
            reader.fail("options must be an object literal {...}")
    out = reader.obj()
    if m is None:
        reader.skip()
        if reader.pos < len(text):
            reader.fail("text after the options object")
    return out
