"""go.mod and go.work, read as go reads them.

The authority is go itself (``go mod edit -json``, ``go work edit -json``), but envsnap's readers
cannot ask it: the probes and doctor work on a Host that may replay a recording (which holds the
file, not go's answer to a new question), the go on PATH may be missing or broken (doctor's very
subject), and the clean verify path must not pay a go process per file. So :func:`parse` reads the
text itself, and ``tests/test_gomod.py`` holds it to ``go mod edit -json`` on real files (comments,
blocks, quoted paths, ``toolchain``, ``godebug``, ``retract`` intervals): :func:`to_json` gives the
document go prints.

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
from typing import Any

_TOKEN = re.compile(r'\s*(?:(//.*)|("(?:[^"\\]|\\.)*")|(=>|[()\[\],])|([^\s"()\[\],]+))')
BLOCK_VERBS = ("require", "exclude", "replace", "retract", "godebug", "tool", "ignore", "use")


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


def _unquote(word: str) -> str:
    if not word.startswith('"'):
        return word
    value: str = json.loads(word)  # go's escapes that JSON lacks (\x, \a, octal) are refused
    return value


def _tokens(text: str) -> tuple[list[str], str]:
    """The words of one line (quotes removed) and its trailing comment."""
    words: list[str] = []
    position = 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ValueError("unquoted string cannot contain quote")
        comment, quoted, punct, bare = match.groups()
        if comment is not None:
            return words, comment[2:].strip()
        words.append(_unquote(quoted) if quoted is not None else punct or bare)
        position = match.end()
    return words, ""


def _lines(text: str) -> tuple[list[Line], list[str]]:
    lines: list[Line] = []
    errors: list[str] = []
    block: str | None = None
    block_comments: tuple[str, ...] = ()
    before: list[str] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        try:
            words, suffix = _tokens(raw)
        except ValueError as exc:
            errors.append(f"{number}: {exc}")
            before = []
            continue
        if not words:
            before = [*before, suffix] if suffix or raw.strip().startswith("//") else []
            continue
        if block is None and len(words) == 2 and words[1] == "(" and words[0] in BLOCK_VERBS:
            block, block_comments, before = words[0], (*before, *([suffix] if suffix else [])), []
            continue
        if block is not None and words == [")"]:
            block, block_comments, before = None, (), []
            continue
        verb, args = (block, words) if block is not None else (words[0], words[1:])
        line = Line(number, verb, tuple(args), raw.strip(), suffix, tuple(before), block_comments)
        lines.append(line)
        before = []
    if block is not None:
        errors.append(f"{len(text.split(chr(10)))}: unterminated {block} block")
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


def _version_pair(path: str, version: str) -> dict[str, str]:
    return {"Path": path, **({"Version": version} if version else {})}


def _retract(line: Line) -> dict[str, str]:
    args = [a for a in line.args if a not in ("[", "]", ",")]
    low, high = (args[0], args[-1]) if args else ("", "")
    rationale = "\n".join(_comments(line))
    return {"Low": low, "High": high, **({"Rationale": rationale} if rationale else {})}


def _require(line: Line) -> dict[str, Any]:
    indirect = line.suffix == "indirect" or line.suffix.startswith("indirect;")
    return {
        "Path": line.args[0],
        "Version": line.args[1],
        **({"Indirect": True} if indirect else {}),
    }


def to_json(mod: ModFile, work: bool = False) -> dict[str, Any]:
    """What ``go mod edit -json`` (or, with *work*, ``go work edit -json``) prints for *mod*."""
    doc: dict[str, Any] = {}
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
    sections: list[tuple[str, list[Any]]] = [
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


def _replace_json(replace: Replace) -> dict[str, Any]:
    return {
        "Old": _version_pair(replace.old_path, replace.old_version),
        "New": _version_pair(replace.new_path, replace.new_version),
    }
