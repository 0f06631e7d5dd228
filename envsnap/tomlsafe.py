"""TOML parsing with bounds on what makes ``tomllib`` slow or crash.

``tomllib`` takes time quadratic in the number of parts of a dotted key (``a.b.c...``: 80 KB of
one key takes minutes) and recurses once per level of nested arrays and inline tables (a few
thousand ``[`` raise RecursionError). envsnap's files need neither: a key has a handful of parts
and values nest a few levels. So the text is refused before parsing when a key (at a line's
start, in a table header or in an inline table) has more than :data:`MAX_DOTS` dots between its
parts, and the parsed document is refused when it nests deeper than :data:`MAX_DEPTH`.
"""

from __future__ import annotations

import re
import tomllib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envsnap.entry import JsonObject

MAX_DOTS = 8
MAX_DEPTH = 32
_ATOM = r"""(?:[A-Za-z0-9_-]++|"[^"\\\n]*+(?:\\.[^"\\\n]*+)*+"|'[^'\n]*+')"""
_ATOMS = re.compile(_ATOM)
# a dotted key where TOML has keys: at a line's start, in a table header, in an inline table
_DOTTED = re.compile(
    rf"(?:^|[\[{{,])[ \t]*+({_ATOM}(?:[ \t]*+\.[ \t]*+{_ATOM})++)[ \t]*+[=\]]", re.MULTILINE
)


class TooComplex(ValueError):
    """The text is refused before or after parsing; the message says why."""


def loads(text: str) -> JsonObject:
    """``tomllib.loads`` within the bounds above; raises TooComplex or tomllib.TOMLDecodeError."""
    for match in _DOTTED.finditer(text):
        run = match.group(1)
        if run.count(".") > MAX_DOTS and len(_ATOMS.findall(run)) > MAX_DOTS + 1:
            line = text.count("\n", 0, match.start()) + 1
            raise TooComplex(f"line {line} has a key of more than {MAX_DOTS + 1} dotted parts")
    try:
        doc = tomllib.loads(text)
    except RecursionError:
        raise TooComplex(f"it nests arrays or tables deeper than {MAX_DEPTH} levels") from None
    if depth(doc) > MAX_DEPTH:
        raise TooComplex(f"it nests arrays or tables deeper than {MAX_DEPTH} levels")
    return doc


def depth(value: object) -> int:
    """How deeply *value* nests lists and dicts (0 for a scalar), without recursion."""
    deepest = 0
    pending = [(value, 0)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            deepest = max(deepest, level)
            continue
        deepest = max(deepest, level + 1)
        pending.extend((child, level + 1) for child in children)
    return deepest
