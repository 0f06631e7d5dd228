"""``envsnap doctor``'s result shown once, at the edge: as text for people or as JSON."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Literal

from envsnap import redact, termsafe
from envsnap.doctor import STATUS_ORDER, Check, Evidence, Facts, exit_code
from envsnap.doctor.facts import CheckDocument
from envsnap.entry import Doc, Json, NonNegative, Pattern

if sys.version_info >= (3, 12):
    from typing import TypedDict
else:  # as envsnap.entry: pydantic validates only typing_extensions' TypedDict before 3.12
    from typing_extensions import TypedDict

JSON_SCHEMA_ID: Literal["envsnap-doctor/1"] = "envsnap-doctor/1"
INDENT = " " * 9
Count = Annotated[int, NonNegative()]


class StatusSummary(TypedDict):
    problem: Count
    warning: Count
    ok: Count
    skipped: Count


class DoctorDocument(TypedDict):
    """The document `envsnap doctor --json` prints. See docs/doctor.md."""

    schema: Literal["envsnap-doctor/1"]
    directory: Annotated[
        str,
        Doc(
            "The directory doctor was pointed at, as the probed host sees it (a replay shows "
            "the recorded one)."
        ),
    ]
    module_root: Annotated[
        str | None,
        Doc(
            "The nearest directory at or above `directory` with a go.mod; null when there is none."
        ),
    ]
    module_path: Annotated[str | None, Doc("The `module` line of that go.mod; null without one.")]
    platform: Annotated[
        Annotated[str, Pattern(r"^[a-z0-9]+-[a-z0-9]+$")] | None,
        Doc("GOOS-GOARCH from go env; null when go env cannot be read."),
    ]
    ok: Annotated[bool, Doc("True when no check is a problem.")]
    exit_code: Literal[0, 1]
    summary: StatusSummary
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


def counts(checks: Sequence[Check]) -> StatusSummary:
    def count(status: str) -> int:
        return sum(1 for c in checks if c.status == status)

    return StatusSummary(
        problem=count("problem"), warning=count("warning"), ok=count("ok"), skipped=count("skipped")
    )


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
    code: Literal[0, 1] = 1 if exit_code(checks) else 0
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
