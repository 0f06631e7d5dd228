"""What a comparison concludes: a :class:`Finding` per difference, and the user's :class:`Policy`.

A finding prints itself as :class:`envsnap.report.FindingDocument`, the shape the JSON documents
give it (``verify --json``, ``diff --json``, ``inspect --json``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import cast

from envsnap.drift.actions import Action, relock
from envsnap.entry import Json
from envsnap.report import ActionDocument
from envsnap.report import Category as Category
from envsnap.report import FindingDocument as FindingDocument
from envsnap.report import Severity as Severity
from envsnap.vocabulary import SEVERITY_RANK

Verdict = tuple[Severity, str, str]  # a rule's severity, why it matters, and the fix

RELOCK = "`envsnap lock` if the change is intended"
NOTHING_TO_DO = (
    "nothing to do: the lock keeps the path of the machine that wrote it, and re-locking for a "
    "path alone only moves the difference to a teammate"
)


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One thing that differs between the lock and the live machine."""

    id: str  # dotted path of the field, e.g. "go.env.CGO_CFLAGS" or "libraries.zlib.version"
    subject: str  # what a person calls it: "CGO_CFLAGS (go env)", "zlib"
    category: Category
    severity: Severity
    locked: Json
    live: Json
    why: str
    fix: str
    also: tuple[str, ...] = ()
    detail: str = ""  # which part of the subject, e.g. the library file that changed
    variant: str = ""  # the build variant whose entry this is (verify sets it)
    # for a list of flags (or a flag variable) that gained or lost entries: just those entries
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    # found under another subject than the cause it was grouped with (never a group's headline
    # while the cause's own difference is there)
    borrowed: bool = field(default=False, compare=False)
    # what can be done about it, as data (envsnap.drift.actions); the fix line says it in words
    actions: tuple[Action, ...] = ()

    def to_json(self) -> FindingDocument:
        document = FindingDocument(
            id=self.id,
            subject=self.subject,
            category=self.category,
            severity=self.severity,
            locked=self.locked,
            live=self.live,
            why=self.why,
            fix=self.fix,
            also=list(self.also),
            detail=self.detail,
        )
        if self.variant:
            document["variant"] = self.variant
        if self.added:
            document["added"] = list(self.added)
        if self.removed:
            document["removed"] = list(self.removed)
        if self.actions:
            document["actions"] = [cast(ActionDocument, a.to_json()) for a in self.actions]
        return document


@dataclass(frozen=True)
class Policy:
    """Severity overrides and ignored ids from envsnap.toml (globs on finding ids)."""

    severity: Mapping[str, str] = field(default_factory=dict)
    ignore: Sequence[str] = ()


def _severity(name: str) -> Severity | None:
    for known in ("error", "warning", "info"):
        if name == known:
            return known
    return None


def apply_policy(findings: list[Finding], policy: Policy) -> list[Finding]:
    kept = []
    for finding in findings:
        if any(fnmatch.fnmatchcase(finding.id, pattern) for pattern in policy.ignore):
            continue
        for pattern, name in policy.severity.items():
            severity = _severity(name)
            if fnmatch.fnmatchcase(finding.id, pattern) and severity is not None:
                finding = replace(finding, severity=severity)
        kept.append(finding)
    return kept


def by_severity(finding: Finding) -> int:
    return SEVERITY_RANK[finding.severity]


def incomplete_finding(failures: Sequence[str]) -> Finding:
    """The first finding for an entry written with ``lock --allow-incomplete``."""
    return Finding(
        id="incomplete",
        subject="incomplete lock",
        category="unverifiable",
        severity="error",
        locked=list(failures),
        live=None,
        why="it was written with --allow-incomplete while these probes failed, so it does not "
        "describe a working build and the parts they cover are checked on no machine",
        fix="fix the failures (or lock on a machine where the build works), run `envsnap lock` "
        "and commit the lock",
        actions=(relock(),),
    )


def stale_variant(key: str) -> Finding:
    """An entry of this platform for a variant that envsnap.toml no longer declares."""
    variant = key.partition("+")[2]
    return Finding(
        id=f"platforms.{key}",
        subject=f"variant {variant}",
        category="missing",
        severity="warning",
        locked=key,
        live=None,
        why=f"the lock has an entry for variant {variant}, which envsnap.toml no longer declares",
        fix="run `envsnap lock` to drop it, or declare the variant again",
        variant=variant,
        actions=(relock(),),
    )


def missing_platform(platform: str, available: Sequence[str]) -> Finding:
    have = ", ".join(available) or "none"
    return Finding(
        id=f"platforms.{platform}",
        subject=f"platform {platform}",
        category="missing",
        severity="error",
        locked=None,
        live=platform,
        why=f"the lock has no entry for {platform} (it has: {have})",
        fix="run `envsnap lock` on this platform and commit the lock, or pass "
        "--allow-missing-platform",
        actions=(relock(),),
    )
