"""Rendering findings: a text report grouped by severity, or a versioned JSON document.

The JSON document's shape is :class:`VerifyDocument` (``docs/verify.schema.json`` is generated
from it, its field docstrings becoming the schema's descriptions).
"""

from __future__ import annotations

import shlex
import sys
import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Literal, NamedTuple, NotRequired

from envsnap import termsafe
from envsnap.entry import AnyJson, Json, NonNegative
from envsnap.entry import Doc as Doc  # where the documents' markers were first declared
from envsnap.vocabulary import SEVERITIES as SEVERITY_ORDER

if sys.version_info >= (3, 12):
    from typing import TypedDict
else:  # pydantic reads only typing_extensions' TypedDict before 3.12
    from typing_extensions import TypedDict

if TYPE_CHECKING:  # the clean path renders no finding and never imports the rules
    from envsnap.drift import Finding
    from envsnap.drift.actions import Action

JSON_SCHEMA_ID: Literal["envsnap-verify/1"] = "envsnap-verify/1"
Category = Literal["changed", "missing", "extra", "unverifiable"]
Severity = Literal["error", "warning", "info"]


class FindingDocument(TypedDict):
    """One difference between the lock and the live side."""

    id: Annotated[
        str,
        Doc(
            "dotted path of the field in the lock entry, e.g. go.env.CGO_CFLAGS, "
            "libraries.zlib.version"
        ),
    ]
    subject: Annotated[str, Doc("what a person calls it")]
    category: Category
    severity: Severity
    locked: Annotated[Json, AnyJson(), Doc("the value in the lock; null when absent there")]
    live: Annotated[Json, AnyJson(), Doc("the value now; null when absent now")]
    why: str
    fix: str
    also: Annotated[list[str], Doc("ids of further differences on the same subject")]
    detail: Annotated[
        str, Doc("which part of the subject changed (a library file's path), or empty")
    ]
    variant: NotRequired[
        Annotated[
            str,
            Doc(
                "verify only: the build variant whose entry differs (default, or a name from "
                "envsnap.toml)"
            ),
        ]
    ]
    added: NotRequired[
        Annotated[
            list[str],
            Doc(
                "for a list of flags (or a flag variable) that changed: the entries it gained; "
                "absent when none"
            ),
        ]
    ]
    removed: NotRequired[
        Annotated[
            list[str],
            Doc(
                "for a list of flags (or a flag variable) that changed: the entries it lost; "
                "absent when none"
            ),
        ]
    ]
    actions: NotRequired[
        Annotated[
            list[ActionDocument],
            Doc(
                "what can be done about it, each checked against this host before it is "
                "offered; absent when no rule names one yet (see fix)"
            ),
        ]
    ]


class ActionDocument(TypedDict):
    """What a person can do about a finding (envsnap.drift.actions)."""

    kind: Annotated[
        Literal["set", "unset", "developer-dir", "install", "variant", "relock", "nothing"],
        Doc(
            "set or unset a variable, select a developer directory, install a package, choose a "
            "build variant, re-lock, or nothing to do"
        ),
    ]
    command: Annotated[str, Doc("what a person types (or does) to carry it out; empty for nothing")]
    target: NotRequired[
        Annotated[str, Doc("the variable, developer directory, package or variant it acts on")]
    ]
    value: NotRequired[Annotated[str, Doc("the variable's value or the package's version")]]
    via: NotRequired[
        Annotated[
            Literal["env", "go-env", "apt", "brew", "apple"],
            Doc("the environment or go env -w; apt, Homebrew or Apple's downloads page"),
        ]
    ]
    manual: Annotated[
        bool, Doc("a person must carry it out (a download, a re-lock whose result they review)")
    ]
    clears: NotRequired[
        Annotated[
            str,
            Doc(
                "a glob of the finding's ids it brings back, when not all of them (absent: "
                "the whole finding)"
            ),
        ]
    ]


Count = Annotated[int, NonNegative()]


class SeveritySummary(TypedDict):
    error: Count
    warning: Count
    info: Count


class VerifyDocument(TypedDict):
    """The document `envsnap verify --json` and `envsnap diff --json` print."""

    schema: Literal["envsnap-verify/1"]
    platform: Annotated[
        str,
        Doc("the compared platform (GOOS-GOARCH), and for diff the side it was read from"),
    ]
    against: Annotated[
        str,
        Doc("what the live side was compared with, e.g. envsnap.lock or envsnap.lock at HEAD~1"),
    ]
    ok: bool
    exit_code: Literal[0, 1]
    summary: SeveritySummary
    findings: list[FindingDocument]
    variants: NotRequired[
        Annotated[
            list[str],
            Doc(
                "verify only, when envsnap.toml declares build variants: the variants checked "
                "(default first)"
            ),
        ]
    ]


WIDTH = 100
INDENT = " " * 8


class Outcome(NamedTuple):
    """What a verify or diff run concluded, before it is rendered."""

    platform: str
    against: str  # what the live side was compared with: "envsnap.lock", "HEAD:envsnap.lock", …
    findings: Sequence[Finding]
    strict: bool = False
    variants: tuple[str, ...] = ()  # the build variants checked, when envsnap.toml declares any
    history: bool = False  # two locks compared (diff A B): what changed from A to B, no fixes

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def exit_code(self) -> Literal[0, 1]:
        failing = self.count("error") + (self.count("warning") if self.strict else 0)
        return 1 if failing else 0

    def summary(self) -> str:
        parts = [
            f"{n} {name}{'s' if n != 1 and name != 'info' else ''}"
            for name in SEVERITY_ORDER
            if (n := self.count(name))
        ]
        return ", ".join(parts)


def _printable(text: str) -> str:
    """Control characters (a lock may hold anything) shown escaped, never sent to the terminal."""
    return termsafe.escape(text, lines=False)


def show_value(value: Json) -> str:
    if value is None:
        return "(absent)"
    if isinstance(value, list):
        return _printable(" ".join(shlex.quote(str(v)) for v in value)) or "(empty)"
    if isinstance(value, dict):
        return _printable(describe(value))
    if value == "":
        return '""'
    return "\n".join(_printable(line) for line in str(value).expandtabs(4).split("\n"))


def describe(record: Mapping[str, Json]) -> str:
    """A record that appeared or went away (a library, a cgo package) in words: its fields in
    order, file paths by name, digests left out; never a JSON dump."""
    parts = []
    for key, value in record.items():
        if isinstance(value, dict):  # files keyed by path
            value = [str(k).rsplit("/", 1)[-1] for k in value]
        if isinstance(value, list):
            value = " ".join(shlex.quote(str(v)) for v in value) or "(none)"
        if value is None or str(value).startswith("sha256:"):
            continue
        parts.append(f"{key.replace('_', ' ')} {value}")
    return "; ".join(parts) or "(empty)"


def _wrapped(label: str, text: str) -> list[str]:
    # Never break at a hyphen or inside a word: ids (libraries.-lz.files…) and flags stay whole,
    # so they can be copied into envsnap.toml's [ignore] or a shell.
    return textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=f"{INDENT}{label}: ",
        subsequent_indent=INDENT + "     ",
        break_on_hyphens=False,
        break_long_words=False,
    )


def _label(outcome: Outcome) -> str:
    """The platform, and the variants checked when there are several to tell apart."""
    if not outcome.variants:
        return outcome.platform
    names = ", ".join(outcome.variants)
    return f"{outcome.platform} (variant{'s' if len(outcome.variants) > 1 else ''} {names})"


def render_finding(
    finding: Finding, with_variant: bool = False, history: bool = False
) -> list[str]:
    """A finding as text; with *history*, a change between two locks (``diff A B``): the
    values as added, removed or A → B, and no fix (nothing on this machine is to be fixed)."""
    # A value of several lines (go's whole message) continues below the headline, indented.
    subject = f"[{finding.variant}] {finding.subject}" if with_variant else finding.subject
    head, *more = f"{finding.severity:<8}{subject}: {_change(finding, history)}".split("\n")
    lines = [head, *(INDENT + line.replace("\t", "    ").strip() for line in more)]
    lines += _wrapped("why", finding.why)
    if finding.fix:
        lines += _wrapped("fix", finding.fix)
    for action in finding.actions:
        if action.command:
            lines += _wrapped("do", action.command + _when(action))
    lines += _wrapped("id", finding.id)
    if finding.also:
        lines += _wrapped("also", ", ".join(finding.also))
    return [_printable(line) for line in lines]


def _when(action: Action) -> str:
    """What a person weighs before an action: a re-lock only if the change is intended."""
    if action.kind == "relock":
        return " (if the change is intended)"
    if action.clears:
        return f" (brings back {action.clears} only)"
    return " (by hand)" if action.manual else ""


def _change(finding: Finding, history: bool = False) -> str:
    if finding.detail:
        return f"{finding.detail}: {_values(finding, history)}"
    return _values(finding, history)


def _values(finding: Finding, history: bool = False) -> str:
    if finding.category == "changed" and (finding.added or finding.removed):
        return _delta(finding)
    if history and finding.category == "extra":
        return f"added, {show_value(finding.live)}"
    if history and finding.category == "missing":
        return f"removed (it was {show_value(finding.locked)})"
    if finding.category == "extra":
        return f"not in the lock, now {show_value(finding.live)}"
    if finding.category == "missing":
        return f"locked {show_value(finding.locked)}, now absent"
    if finding.category == "unverifiable" and isinstance(finding.locked, list):
        return "the lock was written while probes failed:\n" + "\n".join(
            f"- {item}" for item in finding.locked
        )
    if finding.category == "unverifiable":
        return f"cannot be checked: {show_value(finding.live)}"
    return f"{show_value(finding.locked)} → {show_value(finding.live)}"


def _delta(finding: Finding) -> str:
    """A list that gained or lost entries, as just those entries."""
    parts = []
    if finding.added:
        parts.append("added " + show_value(list(finding.added)))
    if finding.removed:
        parts.append("removed " + show_value(list(finding.removed)))
    return "; ".join(parts)


def render_text(outcome: Outcome) -> str:
    label = _label(outcome)
    if not outcome.findings:
        return f"envsnap: {label} matches {outcome.against}\n"
    lines = [f"envsnap: {label} differs from {outcome.against}: {outcome.summary()}"]
    for finding in outcome.findings:
        lines.append("")
        lines.extend(
            render_finding(finding, with_variant=bool(outcome.variants), history=outcome.history)
        )
    return "\n".join(lines) + "\n"


# Colour: only the severity word of each finding, only on a terminal, never with NO_COLOR set
# (https://no-color.org) or TERM=dumb. Reports are rendered plain and painted when printed, so
# a stored or piped report never holds escape sequences.
_PAINT = {"error": "\033[1;31m", "warning": "\033[33m", "info": "\033[36m"}
_RESET = "\033[0m"


def colour_wanted(stream: object) -> bool:
    """True when *stream* is a terminal and the user has not asked for plain output."""
    import os

    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def paint(text: str) -> str:
    """*text* with the severity word that starts a finding's line in its colour."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        word = line.split(" ", 1)[0]
        if word in _PAINT and line.startswith(f"{word:<8}"):
            lines[index] = f"{_PAINT[word]}{word}{_RESET}{line[len(word) :]}"
    return "\n".join(lines)


def render_quiet(outcome: Outcome) -> str:
    if not outcome.findings:
        return ""
    variants = (
        sorted({f.variant for f in outcome.findings if f.variant}) if outcome.variants else []
    )
    where = f" (variant {', '.join(variants)})" if variants else ""
    return (
        f"envsnap: {outcome.platform}{where} differs from {outcome.against}: {outcome.summary()} "
        "(run `envsnap verify` for details)\n"
    )


def summary(outcome: Outcome) -> SeveritySummary:
    count = outcome.count
    return SeveritySummary(error=count("error"), warning=count("warning"), info=count("info"))


def render_json(outcome: Outcome) -> str:
    document = VerifyDocument(
        schema=JSON_SCHEMA_ID,
        platform=outcome.platform,
        against=outcome.against,
        ok=outcome.exit_code == 0,
        exit_code=outcome.exit_code,
        summary=summary(outcome),
        findings=[f.to_json() for f in outcome.findings],
    )
    if outcome.variants:
        document["variants"] = list(outcome.variants)
    return termsafe.dumps(document)
