"""``envsnap merge-driver BASE OURS THEIRS [PATH]``: git's merge driver for envsnap.lock.

git runs it (see ``envsnap git setup``) with ``%O %A %B %P``. Each platform entry is taken from
the side that changed it, with its text unchanged; when both sides changed the same entry
differently, both versions go between conflict markers with a note saying what differs, and the
exit status 1 tells git the file is conflicted. The result is written to OURS atomically. A side
that cannot be read (not a regular file, larger than a lock can be, or carrying a hand-edited entry)
leaves OURS untouched: exit 2, one line.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from envsnap.atomic import atomic_write
from envsnap.commands import SUMMARIES
from envsnap.entry import Entry
from envsnap.errors import EXIT_DRIFT, EXIT_OK, LockError
from envsnap.lockfile import (
    LOCK_NAME,
    MAX_LOCK,
    LockFile,
    content_of,
    parse_lock,
    render_entry,
    render_head,
)
from envsnap.termsafe import escape

if TYPE_CHECKING:
    from envsnap.commands import Subparsers

SIDES = ("base", "ours", "theirs")


def add_parser(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "merge-driver",
        parents=[common],
        help=SUMMARIES["merge-driver"],
    )
    for side in SIDES:
        parser.add_argument(
            side, metavar=side.upper(), help=f"the {side} version (git's %%O %%A %%B)"
        )
    parser.add_argument("path", nargs="?", default=LOCK_NAME, metavar="PATH", help="for messages")


@dataclass(frozen=True)
class Conflict:
    platform: str
    ours: Entry | None
    theirs: Entry | None


@dataclass
class Merged:
    """The merged entries, the side each was taken from, and the entries both sides changed."""

    entries: dict[str, tuple[LockFile, Entry]] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)


def _winner(base: Entry | None, ours: Entry | None, theirs: Entry | None) -> str | None:
    """Which side's version of one entry the merge keeps (None: both changed it differently)."""
    if ours == theirs or theirs == base:
        return "ours"
    if ours == base:
        return "theirs"
    if ours is not None and theirs is not None and content_of(ours) == content_of(theirs):
        return "ours"  # the same state, locked by two envsnap versions
    return None


def merge(base: LockFile, ours: LockFile, theirs: LockFile) -> Merged:
    """Three-way merge, one platform entry at a time (pure)."""
    merged = Merged()
    sides = {"ours": ours, "theirs": theirs}
    for platform in sorted(set(base.platforms) | set(ours.platforms) | set(theirs.platforms)):
        versions = [lock.platforms.get(platform) for lock in (base, ours, theirs)]
        winner = _winner(*versions)
        if winner is None:
            merged.conflicts.append(Conflict(platform, versions[1], versions[2]))
            continue
        entry = sides[winner].platforms.get(platform)
        if entry is not None:
            merged.entries[platform] = (sides[winner], entry)
    return merged


def _check_digests(merged: Merged, ours: LockFile, theirs: LockFile, name: str) -> None:
    """Never write a lock with a broken digest: a hand-edited entry stops the merge."""
    kept = [(side, platform) for platform, (side, _) in merged.entries.items()]
    for conflict in merged.conflicts:
        kept += [(side, conflict.platform) for side in (ours, theirs)]
    for side, platform in kept:
        if platform in side.platforms and not side.digest_ok(platform):
            raise LockError(
                f"cannot merge {name}: the {platform} entry in {side.path.name} was edited by hand "
                "(its digest does not match)",
                "resolve the file by hand, then run `envsnap lock` on that platform",
            )


def _block(side: LockFile | None, platform: str, entry: Entry | None) -> str:
    if entry is None:
        return f"# (the {platform} entry was removed on this side)\n"
    kept = side.blocks.get(platform) if side is not None else None
    return (kept or render_entry(platform, entry)).rstrip("\n") + "\n"


def _conflict_text(conflict: Conflict, ours: LockFile, theirs: LockFile) -> str:
    p = conflict.platform
    return (
        f"# envsnap: both branches changed the {p} entry. Keep one of the two versions below\n"
        "# (delete the other and the marker lines), or keep either and run `envsnap lock` on\n"
        f"# {p}. Each version is complete, with its own digest.\n"
        "<<<<<<< ours\n"
        + _block(ours, p, conflict.ours)
        + "=======\n"
        + _block(theirs, p, conflict.theirs)
        + ">>>>>>> theirs\n"
    )


def render_merged(merged: Merged, ours: LockFile, theirs: LockFile) -> bytes:
    """The merged file: entries in name order, each conflict in place, between markers."""
    parts = [render_head(ours, theirs)]
    conflicts = {c.platform: c for c in merged.conflicts}
    for platform in sorted(set(merged.entries) | set(conflicts)):
        if platform in conflicts:
            parts.append("\n" + _conflict_text(conflicts[platform], ours, theirs))
        else:
            side, entry = merged.entries[platform]
            parts.append("\n" + _block(side, platform, entry))
    return "".join(parts).encode()


def read_side(path: Path, side: str, name: str) -> LockFile:
    """One of git's three versions; an empty base (both sides added the file) has no entries.
    Only a regular file of at most MAX_LOCK bytes is read: a FIFO cannot hang the merge, nor a
    device fill the memory."""
    from envsnap.safeio import read_regular

    label = Path(f"{name} ({side})")
    try:
        data = read_regular(path, MAX_LOCK)
    except OSError as exc:
        raise LockError(
            f"cannot merge {name}: {path}: {exc.strerror}",
            "resolve the conflict by hand, or run `envsnap lock` on each platform",
        ) from None
    if side == "base" and not data.strip():
        return LockFile(label)
    try:
        return parse_lock(label, data)
    except LockError as exc:
        raise LockError(
            f"cannot merge {name}: {exc.message}",
            f"git left {name} conflicted with our version; fix the broken side, or keep one "
            f"with `git checkout --ours -- {name}` (or --theirs) and run `envsnap lock`",
        ) from None


def explain(conflicts: list[Conflict], name: str) -> str:
    lines = []
    for conflict in conflicts:
        lines.append(
            f"envsnap: {name}: both branches changed the {conflict.platform} entry (ours → theirs):"
        )
        lines += [f"    {line}" for line in _differences(conflict)]
    lines.append(
        f"envsnap: keep one version of each in {name} (both are there, between conflict markers) "
        "or relock on that platform, then `git add` it"
    )
    return "\n".join(escape(line, lines=False) for line in lines) + "\n"


def _differences(conflict: Conflict) -> list[str]:
    if conflict.ours is None or conflict.theirs is None:
        return ["removed on one side, changed on the other"]
    from envsnap.drift import Policy
    from envsnap.history import entry_drift

    return entry_drift(conflict.ours, conflict.theirs, conflict.platform, Policy())


def run(args: argparse.Namespace) -> int:
    base, ours, theirs = (read_side(Path(getattr(args, side)), side, args.path) for side in SIDES)
    merged = merge(base, ours, theirs)
    _check_digests(merged, ours, theirs, args.path)
    try:
        atomic_write(Path(args.ours), render_merged(merged, ours, theirs))
    except OSError as exc:
        raise LockError(
            f"cannot write the merged {args.path}: {exc.strerror}",
            "check the work tree is writable, then merge again",
        ) from None
    if merged.conflicts:
        sys.stderr.write(explain(merged.conflicts, args.path))
        return EXIT_DRIFT
    return EXIT_OK
