"""``envsnap doctor``'s result shown once, at the edge: as text for people or as JSON."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

from envsnap import redact, termsafe
from envsnap.doctor import STATUS_ORDER, Check, Evidence, Facts, exit_code
from envsnap.doctor.facts import CheckDocument
from envsnap.entry import Json

if sys.version_info >= (3, 12):
    from typing import TypedDict
else:  # as envsnap.entry: pydantic validates only typing_extensions' TypedDict before 3.12
    from typing_extensions import TypedDict

JSON_SCHEMA_ID = "envsnap-doctor/1"
INDENT = " " * 9


class DoctorDocument(TypedDict):
    """``envsnap doctor --json`` (docs/doctor.md)."""

    schema: str
    directory: str
    module_root: str | None
    module_path: str | None
    platform: str | None
    ok: bool
    exit_code: int
    summary: dict[str, int]
    checks: list[CheckDocument]


def render_text(facts: Facts, checks: Sequence[Check]) -> str:
    """Problems, then warnings, each with its evidence and fix; then one line per other check."""
    ordered = sorted(checks, key=lambda c: STATUS_ORDER.index(c.status))
    loud = [c for c in ordered if c.status in ("problem", "warning")]
    quiet = [c for c in ordered if c.status in ("ok", "skipped")]
    lines = [headline(facts, checks)]
    for check in loud:
        lines += ["", *render_check(check)]
    if quiet:
        lines += ["", *(line for check in quiet for line in render_check(check))]
    hide = scrubber(facts)
    return "\n".join(printable(hide(line)) for line in lines) + "\n"


def scrubber(facts: Facts) -> Callable[[str], str]:
    """What doctor shows passes the protection ``lock`` and ``show`` have: values of secret-named
    or credential-shaped variables (the environment's and go's), URL userinfo and token shapes
    are hidden wherever they appear in a check, its evidence or its fix."""
    secrets = redact.secret_values({**os.environ, **facts.go_env})
    for name, value in {**os.environ, **facts.go_env}.items():
        if redact.looks_like_credential(redact.strip_userinfo(value), name):
            secrets.add(value)
    return lambda text: redact.scrub(text, secrets)


def _scrubbed(data: object, hide: Callable[[str], str]) -> Json:
    """The document *data* as plain JSON data, every text in it passed through *hide*."""
    if isinstance(data, str):
        return hide(data)
    if isinstance(data, dict):
        return {hide(str(k)): _scrubbed(v, hide) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_scrubbed(v, hide) for v in data]
    if data is None or isinstance(data, (bool, int, float)):
        return data
    raise TypeError(f"{type(data).__name__} is not JSON data")  # as json.dumps would say


def headline(facts: Facts, checks: Sequence[Check]) -> str:
    where = facts.module_path or "no module"
    platform = platform_of(facts) or facts.system
    summary = ", ".join(
        f"{n} {status}{'s' if n != 1 and status in ('problem', 'warning') else ''}"
        for status, n in counts(checks).items()
        if n
    )
    return f"envsnap doctor: {where} in {facts.directory} ({platform}): {summary}"


def counts(checks: Sequence[Check]) -> dict[str, int]:
    return {status: sum(1 for c in checks if c.status == status) for status in STATUS_ORDER}


def platform_of(facts: Facts) -> str | None:
    goos, goarch = facts.go_env.get("GOOS"), facts.go_env.get("GOARCH")
    return f"{goos}-{goarch}" if goos and goarch else None


def render_check(check: Check) -> list[str]:
    lines = [f"{check.status:<9}{check.id}: {check.summary}"]
    if check.status in ("ok", "skipped"):
        return lines
    for evidence in check.evidence:
        lines += [f"{INDENT}{line}" for line in render_evidence(evidence)]
    if check.fix:
        lines.append(f"{INDENT}fix: {check.fix}")
    return lines


def render_evidence(evidence: Evidence) -> list[str]:
    if evidence.kind == "command":
        status = f"  (exit {evidence.exit_code})" if evidence.exit_code not in (0, None) else ""
        head = f"$ {evidence.source}{status}"
    else:
        head = f"{evidence.source}:"
    return [head, *(f"  {line}" for line in evidence.lines)]


def printable(line: str) -> str:
    """Control characters (tools print anything) escaped, never sent to the terminal."""
    return termsafe.escape(line, lines=False)


def render_json(facts: Facts, checks: Sequence[Check]) -> str:
    code = exit_code(checks)
    document: DoctorDocument = {
        "schema": JSON_SCHEMA_ID,
        "directory": facts.directory,
        "module_root": facts.module_root,
        "module_path": facts.module_path,
        "platform": platform_of(facts),
        "ok": code == 0,
        "exit_code": code,
        "summary": counts(checks),
        "checks": [c.to_json() for c in checks],
    }
    return termsafe.dumps(_scrubbed(document, scrubber(facts)))
