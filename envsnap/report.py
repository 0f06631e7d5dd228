"""Rendering findings: a text report grouped by severity, or a versioned JSON document."""

from __future__ import annotations

import json
import shlex
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from envsnap.vocabulary import SEVERITIES as SEVERITY_ORDER

if TYPE_CHECKING:  # the clean path renders no finding and never imports the rules
    from envsnap.drift import Finding

JSON_SCHEMA_ID = "envsnap-verify/1"
WIDTH = 100
INDENT = " " * 8


class Outcome(NamedTuple):
    """What a verify or diff run concluded, before it is rendered."""

    platform: str
    against: str  # what the live side was compared with: "envsnap.lock", "HEAD:envsnap.lock", …
    findings: Sequence[Finding]
    strict: bool = False
    variants: tuple[str, ...] = ()  # the build variants checked, when envsnap.toml declares any

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def exit_code(self) -> int:
        failing = self.count("error") + (self.count("warning") if self.strict else 0)
        return 1 if failing else 0

    def summary(self) -> str:
        parts = [
            f"{n} {name}{'s' if n != 1 else ''}"
            for name in SEVERITY_ORDER
            if (n := self.count(name))
        ]
        return ", ".join(parts)


def _printable(text: str) -> str:
    """Control characters (a lock may hold anything) shown escaped, never sent to the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def show_value(value: Any) -> str:
    if value is None:
        return "(absent)"
    if isinstance(value, list):
        return _printable(" ".join(shlex.quote(str(v)) for v in value)) or "(empty)"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if value == "":
        return '""'
    return "\n".join(_printable(line) for line in str(value).expandtabs(4).split("\n"))


def _wrapped(label: str, text: str) -> list[str]:
    return textwrap.wrap(
        text, width=WIDTH, initial_indent=f"{INDENT}{label}: ", subsequent_indent=INDENT + "     "
    )


def _label(outcome: Outcome) -> str:
    """The platform, and the variants checked when there are several to tell apart."""
    if not outcome.variants:
        return outcome.platform
    names = ", ".join(outcome.variants)
    return f"{outcome.platform} (variant{'s' if len(outcome.variants) > 1 else ''} {names})"


def render_finding(finding: Finding, with_variant: bool = False) -> list[str]:
    # A value of several lines (go's whole message) continues below the headline, indented.
    subject = f"[{finding.variant}] {finding.subject}" if with_variant else finding.subject
    head, *more = f"{finding.severity:<8}{subject}: {_change(finding)}".split("\n")
    lines = [head, *(INDENT + line.replace("\t", "    ").strip() for line in more)]
    lines += _wrapped("why", finding.why)
    lines += _wrapped("fix", finding.fix)
    if finding.also:
        lines += _wrapped("also", ", ".join(finding.also))
    return [_printable(line) for line in lines]


def _change(finding: Finding) -> str:
    if finding.detail:
        return f"{finding.detail}: {_values(finding)}"
    return _values(finding)


def _values(finding: Finding) -> str:
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


def render_text(outcome: Outcome) -> str:
    label = _label(outcome)
    if not outcome.findings:
        return f"envsnap: {label} matches {outcome.against}\n"
    lines = [f"envsnap: {label} differs from {outcome.against}: {outcome.summary()}"]
    for finding in outcome.findings:
        lines.append("")
        lines.extend(render_finding(finding, with_variant=bool(outcome.variants)))
    return "\n".join(lines) + "\n"


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


def render_json(outcome: Outcome) -> str:
    document = {
        "schema": JSON_SCHEMA_ID,
        "platform": outcome.platform,
        "against": outcome.against,
        "ok": outcome.exit_code == 0,
        "exit_code": outcome.exit_code,
        "summary": {name: outcome.count(name) for name in SEVERITY_ORDER},
        "findings": [f.to_json() for f in outcome.findings],
    }
    if outcome.variants:
        document["variants"] = list(outcome.variants)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
