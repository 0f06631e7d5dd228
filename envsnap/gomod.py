"""go.mod and go.work, read as go reads them.

The authority is go itself (``go mod edit -json``, ``go work edit -json``), but envsnap's readers
cannot ask it: the probes and doctor work on a Host that may replay a recording (which holds the
file, not go's answer to a new question), the go on PATH may be missing or broken (doctor's very
subject), and the clean verify path must not pay a go process per file. So :func:`parse` reads the
text itself, cutting it into tokens as go's modfile lexer does (``readToken`` in
golang.org/x/mod/modfile/read.go: ``//`` ends a word, ``verb (`` opens a block of any verb).
``tests/test_gomod.py`` holds it to ``go mod edit -json`` on real files (comments, blocks, quoted
paths, ``toolchain``, ``godebug``, ``retract`` intervals): :func:`to_json` gives the document go
prints.

One exception is kept on purpose: :func:`envsnap.gover.go_mod_lookup` scans for the first
``go``/``toolchain`` line without parsing, because that is what go's own toolchain switch does
(``gover.GoModLookup``), on files it may not be able to parse.

The parser is tolerant: a line it cannot read is skipped and named in ``errors`` (go would refuse
the file; the commands that run go report go's own message).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from envsnap.entry import Json, JsonObject

_PUNCTUATION = "()[]{},"
# The verbs go reads in a block: go.mod's (module, godebug, require, exclude, replace, retract,
# tool, ignore) and go.work's (use, godebug, replace); a block of any other kind is ignored.
BLOCK_VERBS = (
    "module",
    "require",
    "exclude",
    "replace",
    "retract",
    "godebug",
    "tool",
    "ignore",
    "use",
)


@dataclass(frozen=True)
class Line:
    """One directive: its verb (a block's, inside one), its arguments, and its comments."""

    number: int
    verb: str
    args: tuple[str, ...]
    text: str  # the line as written, without surrounding space
    suffix: str = ""  # the comment after it, without //
    before: tuple[str, ...] = ()  # the comment lines just above it, without //
    block_comments: tuple[str, ...] = ()  # the comments of its block's opening line


@dataclass(frozen=True)
class Replace:
    old_path: str
    old_version: str
    new_path: str
    new_version: str
    line: Line

    @property
    def is_local(self) -> bool:
        """go.mod's rule: a target starting with ./ ../ or / is a directory, not a module."""
        return self.new_path.startswith(("./", "../", "/")) or self.new_path in (".", "..")


@dataclass(frozen=True)
class ModFile:
    """The directives of a go.mod or go.work, in file order."""

    lines: tuple[Line, ...]
    errors: tuple[str, ...] = ()
    replaces: tuple[Replace, ...] = field(default=())

    def first(self, verb: str) -> Line | None:
        return next((line for line in self.lines if line.verb == verb), None)

    def all(self, verb: str) -> list[Line]:
        return [line for line in self.lines if line.verb == verb]

    def value(self, verb: str) -> str | None:
        line = self.first(verb)
        return line.args[0] if line is not None and len(line.args) == 1 else None

    @property
    def module(self) -> str | None:
        return self.value("module")

    @property
    def go(self) -> str | None:
        return self.value("go")

    @property
    def toolchain(self) -> str | None:
        return self.value("toolchain")

    @property
    def uses(self) -> list[str]:
        return [line.args[0] for line in self.all("use") if len(line.args) == 1]


@dataclass(frozen=True)
class _Block:
    """An open ``verb (`` block: its verb ("" for a block go ignores) and its comments."""

    verb: str
    comments: tuple[str, ...]


def _unquote(token: str) -> str:
    """A token's value as go's parseString reads it: a ``"quoted"`` string unquoted, any other
    quote refused (a backquoted string too)."""
    if token.startswith('"'):
        try:
            value: str = json.loads(token, strict=False)  # go's \x and octal escapes refused
        except ValueError:
            raise ValueError("invalid quoted string") from None
        return value
    if any(quote in token for quote in "\"'`"):
        raise ValueError("unquoted string cannot contain quote")
    return token


def _is_ident(char: str) -> bool:
    """go's modfile isIdent: a printable non-space rune other than ( ) [ ] { } ,"""
    return char not in _PUNCTUATION and char.isprintable() and not char.isspace()


def _string_end(text: str, start: int) -> int:
    """The index after the quoted string that opens at *start* (go's lexer: one line only)."""
    quote, position = text[start], start + 1
    while position < len(text):
        char = text[position]
        if char == quote:
            return position + 1
        position += 2 if char == "\\" and quote == '"' else 1
    raise ValueError("unexpected newline in string")


def _ident_end(text: str, start: int) -> int:
    position = start
    while (
        position < len(text) and _is_ident(text[position]) and not text.startswith("//", position)
    ):
        if text.startswith("/*", position):
            raise ValueError("mod files must use // comments (not /* */ comments)")
        position += 1
    return position


def _tokens(text: str) -> tuple[list[str], str]:
    """The tokens of one line, as go's modfile lexer (``readToken``) cuts them, quotes kept,
    and its trailing comment: ``//`` starts a comment even right after a word (``go 1.21// c``)."""
    tokens: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char in " \t\r":
            position += 1
            continue
        if text.startswith("//", position):
            return tokens, text[position + 2 :].strip()
        if text.startswith("/*", position):
            raise ValueError("mod files must use // comments (not /* */ comments)")
        if char in _PUNCTUATION:
            end = position + 1
        elif char in '"`':
            end = _string_end(text, position)
        elif _is_ident(char):
            end = _ident_end(text, position)
        else:
            raise ValueError(f"unexpected input character {char!r}")
        _unquote(text[position:end])  # go refuses the file for a token it cannot read
        tokens.append(text[position:end])
        position = end
    return tokens, ""


def _opens_block(tokens: list[str]) -> tuple[str, bool] | None:
    """``verb (`` (or an empty ``verb ()``) at the end of a line: the block's verb ("" when go
    ignores its kind) and whether it is empty; None for a plain line (go's parseStmt)."""
    if len(tokens) >= 2 and tokens[-1] == "(":
        head, empty = tokens[:-1], False
    elif len(tokens) >= 3 and tokens[-2:] == ["(", ")"]:
        head, empty = tokens[:-2], True
    else:
        return None
    return (head[0] if len(head) == 1 and head[0] in BLOCK_VERBS else ""), empty


def _lines(text: str) -> tuple[list[Line], list[str]]:
    lines: list[Line] = []
    errors: list[str] = []
    block: _Block | None = None
    before: list[str] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        try:
            tokens, suffix = _tokens(raw)
        except ValueError as exc:
            errors.append(f"{number}: {exc}")
            before = []
            continue
        if not tokens:
            before = [*before, suffix] if suffix or raw.strip().startswith("//") else []
            continue
        if block is not None and tokens[0] == ")":
            if len(tokens) > 1:
                errors.append(f"{number}: syntax error (expected newline after closing paren)")
            block, before = None, []
            continue
        opened = _opens_block(tokens) if block is None else None
        if opened is not None:
            verb, empty = opened
            if not verb:
                errors.append(f"{number}: unknown block type: {' '.join(tokens[:-1])}")
            comments = (*before, *([suffix] if suffix else []))
            block, before = (None if empty else _Block(verb, comments)), []
            continue
        verb, words = (block.verb, tokens) if block is not None else (tokens[0], tokens[1:])
        if verb:  # a line of a block go ignores is skipped
            args = tuple(_unquote(word) for word in words)
            comments = block.comments if block is not None else ()
            lines.append(Line(number, verb, args, raw.strip(), suffix, tuple(before), comments))
        before = []
    if block is not None:
        errors.append(f"{len(text.split(chr(10)))}: unterminated {block.verb or 'unknown'} block")
    return lines, errors


def _replace(line: Line) -> Replace | None:
    args = list(line.args)
    if "=>" not in args:
        return None
    arrow = args.index("=>")
    old, new = args[:arrow], args[arrow + 1 :]
    if len(old) not in (1, 2) or len(new) not in (1, 2):
        return None
    return Replace(
        old[0], old[1] if len(old) == 2 else "", new[0], new[1] if len(new) == 2 else "", line
    )


def parse(text: str) -> ModFile:
    """The directives of a go.mod or go.work text (tolerant: see the module's docstring)."""
    lines, errors = _lines(text)
    replaces = tuple(r for line in lines if line.verb == "replace" and (r := _replace(line)))
    return ModFile(tuple(lines), tuple(errors), replaces)


# --- the document `go mod edit -json` / `go work edit -json` prints ---------------------------


def _comments(line: Line) -> list[str]:
    own = [*line.before, *([line.suffix] if line.suffix else [])]
    return own or list(line.block_comments)


def _deprecation(line: Line) -> str | None:
    """The ``Deprecated:`` paragraph of the module line's comments (go's parseDeprecation)."""
    text = "\n".join(_comments(line))
    match = re.search(r"(?:^|\n\n)Deprecated: *(.*?)(?:$|\n\n)", text, re.DOTALL)
    return match.group(1).strip() if match else None


def _version_pair(path: str, version: str) -> JsonObject:
    return {"Path": path, **({"Version": version} if version else {})}


def _retract(line: Line) -> JsonObject:
    args = [a for a in line.args if a not in ("[", "]", ",")]
    low, high = (args[0], args[-1]) if args else ("", "")
    rationale = "\n".join(_comments(line))
    return {"Low": low, "High": high, **({"Rationale": rationale} if rationale else {})}


def _require(line: Line) -> JsonObject:
    indirect = line.suffix == "indirect" or line.suffix.startswith("indirect;")
    return {
        "Path": line.args[0],
        "Version": line.args[1],
        **({"Indirect": True} if indirect else {}),
    }


def to_json(mod: ModFile, work: bool = False) -> JsonObject:
    """What ``go mod edit -json`` (or, with *work*, ``go work edit -json``) prints for *mod*."""
    doc: JsonObject = {}
    module = mod.first("module")
    if module is not None and not work:
        deprecated = _deprecation(module)
        doc["Module"] = {
            "Path": module.args[0],
            **({"Deprecated": deprecated} if deprecated else {}),
        }
    if mod.go:
        doc["Go"] = mod.go
    if mod.toolchain and not work:
        doc["Toolchain"] = mod.toolchain
    godebug = [a.partition("=") for line in mod.all("godebug") for a in line.args[:1]]
    if godebug and not work:
        doc["GoDebug"] = [{"Key": key, "Value": value} for key, _, value in godebug]
    sections: list[tuple[str, list[Json]]] = [
        ("Use", [{"DiskPath": path} for path in mod.uses] if work else []),
        ("Require", [_require(line) for line in mod.all("require")]),
        ("Exclude", [_version_pair(*line.args[:2]) for line in mod.all("exclude")]),
        ("Replace", [_replace_json(r) for r in mod.replaces]),
        ("Retract", [_retract(line) for line in mod.all("retract")]),
        ("Tool", [{"Path": line.args[0]} for line in mod.all("tool")]),
        ("Ignore", [{"Path": line.args[0]} for line in mod.all("ignore")]),
    ]
    doc.update((name, items) for name, items in sections if items)
    return doc


def _replace_json(replace: Replace) -> JsonObject:
    return {
        "Old": _version_pair(replace.old_path, replace.old_version),
        "New": _version_pair(replace.new_path, replace.new_version),
    }
