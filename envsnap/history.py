"""The lock's history, told with verify's rules: which commit changed which platform, and how.

:func:`changes` is pure: it takes the lock before and after each commit (from
:func:`envsnap.git.lock_revisions`) and explains each changed platform entry with
:func:`envsnap.drift.compare`, so ``envsnap log`` says ``macOS SDK 14.0 → 15.0 (error)`` exactly
where ``envsnap verify`` would have.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from envsnap.config import DEFAULT_VARIANT
from envsnap.drift import Finding, Policy
from envsnap.entry import Entry, Json
from envsnap.errors import LockError
from envsnap.git import LockRevision
from envsnap.lockfile import LOCK_NAME, LockFile, content_of, parse_lock
from envsnap.report import show_value
from envsnap.termsafe import escape
from envsnap.variants import split_key

MAX_VALUE = 48  # characters of a value shown in one summary line


@dataclass(frozen=True)
class Change:
    """What one commit did to one platform entry (or, with no platform, to the whole file)."""

    revision: LockRevision
    platform: str
    summaries: tuple[str, ...]

    def lines(self) -> list[str]:
        where = f"in {self.revision.short}, {self.revision.date}, by {self.revision.author}"
        prefix = f"{entry_name(self.platform)}: " if self.platform else ""
        return [f"{prefix}{summary} {where}" for summary in self.summaries]


def entry_name(key: str) -> str:
    """A lock key as people read it: ``linux-amd64``, ``linux-amd64 (variant withz)``."""
    platform, variant = split_key(key)
    return key if variant == DEFAULT_VARIANT else f"{platform} (variant {variant})"


Selected = Callable[[str], bool]  # which entries (by lock key) to tell about


def every_entry(key: str) -> bool:
    return True


def _short(value: Json) -> str:
    text = show_value(value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def describe(finding: Finding) -> str:
    """One finding in a few words: ``macOS SDK 14.0 → 15.0 (error)``."""
    subject = f"{finding.subject} {finding.detail}" if finding.detail else finding.subject
    if finding.category == "extra":
        what = f"added ({_short(finding.live)})" if _scalar(finding.live) else "added"
    elif finding.category == "missing":
        what = f"removed (was {_short(finding.locked)})" if _scalar(finding.locked) else "removed"
    elif finding.category == "unverifiable":
        what = f"could not be probed ({_short(finding.live)})"
    else:
        what = f"{_short(finding.locked)} → {_short(finding.live)}"
    return f"{subject} {what} ({finding.severity})"


def _scalar(value: Json) -> bool:
    return not isinstance(value, dict | list)


def entry_drift(old: Entry, new: Entry, platform: str, policy: Policy) -> list[str]:
    """The differences between two versions of one entry, as :func:`describe` lines."""
    from envsnap.checking import explain

    try:
        findings = explain(old, new, platform, policy, validate=(old, new))
    except LockError as exc:
        return [f"changed, not comparable ({exc.message})"]
    return [describe(finding) for finding in findings]


def _entry_change(old: LockFile | None, new: LockFile, platform: str, policy: Policy) -> list[str]:
    before = old.platforms.get(platform) if old else None
    after = new.platforms.get(platform)
    if after is None:
        return ["entry removed"]
    notes = [] if new.digest_ok(platform) else ["entry edited by hand (its digest does not match)"]
    if before is None:
        return ["entry added", *notes]
    if content_of(before) == content_of(after):
        return notes or [f"relocked by envsnap {after.get('envsnap', '?')}, no drift"]
    return notes + (entry_drift(before, after, platform, policy) or ["relocked, no drift"])


def _parse(data: bytes | None, label: str, memo: dict[bytes, LockFile]) -> LockFile | None:
    """The parsed lock; *memo* keeps the last one parsed (a commit's before is the after of
    the next, older, commit)."""
    if data is None:
        return None
    if data not in memo:
        memo.clear()
        memo[data] = parse_lock(Path(label), data)
    return memo[data]


def revision_changes(
    revision: LockRevision,
    policy: Policy,
    only: Selected = every_entry,
    memo: dict[bytes, LockFile] | None = None,
) -> list[Change]:
    """Every platform entry *revision* changed, explained; an unreadable lock is one note."""
    memo = {} if memo is None else memo
    try:
        new = _parse(revision.after, f"{LOCK_NAME} at {revision.short}", memo)
        old = _parse(revision.before, f"{LOCK_NAME} before {revision.short}", memo)
    except LockError as exc:
        return [Change(revision, "", (f"{exc.message}; skipped",))]
    if new is None:
        return [Change(revision, "", (f"{LOCK_NAME} deleted",))]
    names = sorted(set(new.platforms) | set(old.platforms if old else ()))
    changes = []
    for platform in names:
        if not only(platform):
            continue
        if old is not None and old.platforms.get(platform) == new.platforms.get(platform):
            continue
        summaries = _entry_change(old, new, platform, policy)
        changes.append(Change(revision, platform, tuple(summaries)))
    return changes


def changes(
    revisions: Iterable[LockRevision], policy: Policy, only: Selected = every_entry
) -> list[Change]:
    """What each revision did, newest first (the order of *revisions*)."""
    memo: dict[bytes, LockFile] = {}
    return [change for rev in revisions for change in revision_changes(rev, policy, only, memo)]


def render(found: Sequence[Change]) -> str:
    """One line per change; a commit's author or a lock value cannot drive the terminal."""
    return "".join(escape(line, lines=False) + "\n" for change in found for line in change.lines())
