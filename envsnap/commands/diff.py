"""``envsnap diff [A [B]]``: compare two states with the rules of ``verify``.

Each side is a lock file path, ``REV`` or ``REV:path`` from git, ``live`` (this machine) or a
directory written by ``envsnap record``. No side: the lock against live. One side: a machine
(``live``, a recording) is compared with the lock as verify would; a lock file or a revision is
the base and the work tree's lock the newer side, as ``git diff REV`` reads.
"""

from __future__ import annotations

import argparse
import platform as platform_module
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envsnap.checking import checked_entry, compare_entries
from envsnap.commands import SUMMARIES
from envsnap.errors import EnvsnapError
from envsnap.host import Host, LocalHost, ReplayHost
from envsnap.lockfile import LOCK_NAME, LockFile, parse_lock, read_lock
from envsnap.probes.collect import GOARCH, take_snapshot
from envsnap.report import Outcome
from envsnap.workspace import Workspace

from .verify import add_output_options, emit


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("diff", parents=[common], help=SUMMARIES["diff"])
    parser.add_argument("sides", nargs="*", metavar="SIDE", help="lock path, REV[:path], live, DIR")
    parser.add_argument("--platform", metavar="GOOS-GOARCH", help="which entry to compare")
    add_output_options(parser)


@dataclass
class Side:
    label: str
    entries: dict[str, dict[str, Any]]
    lock: LockFile | None = None  # set when the side is a lock (its digests are checked)

    def entry(self, platform: str) -> dict[str, Any]:
        if platform not in self.entries:
            have = ", ".join(sorted(self.entries)) or "none"
            raise EnvsnapError(
                f"{self.label} has no entry for {platform} (it has: {have})",
                "choose one with --platform",
            )
        if self.lock is not None:
            return checked_entry(self.lock, platform, self.label)
        return self.entries[platform]


def _snapshot_side(label: str, host: Host, ws: Workspace) -> Side:
    try:
        snapshot = take_snapshot(host, str(ws.module_root), ws.config.track_env)
    finally:
        if isinstance(host, LocalHost):
            host.close()
    return Side(label, {snapshot.platform: snapshot.entry})


def _lock_side(label: str, lock: LockFile) -> Side:
    return Side(label, lock.platforms, lock)


def resolve_side(spec: str, ws: Workspace, base: Path) -> Side:
    if spec == "live":
        return _snapshot_side("live", ws.host, ws)
    path = base / spec
    if (path / "host.json").is_file():
        return _snapshot_side(spec, ReplayHost(path), ws)
    if path.is_file():
        lock = read_lock(path)
        assert lock is not None  # noqa: S101 - the file exists
        return _lock_side(spec, lock)
    from envsnap.git import file_at_rev

    rev, _, rel = spec.partition(":")
    target = (base / rel) if rel else ws.lock_path
    return _lock_side(spec, parse_lock(target, file_at_rev(target, rev)))


def _work_tree_lock(ws: Workspace) -> Side:
    lock = read_lock(ws.lock_path)
    if lock is None:
        raise EnvsnapError(
            f"there is no {LOCK_NAME} beside go.mod", "create it with `envsnap lock`"
        )
    return _lock_side(LOCK_NAME, lock)


def local_platform() -> str:
    system = platform_module.system().lower()
    machine = platform_module.machine()
    return f"{system}-{GOARCH.get(machine, machine)}"


def choose_platform(a: Side, b: Side, wanted: str | None) -> str:
    if wanted:
        return wanted
    for side in (b, a):
        if side.lock is None:
            return next(iter(side.entries))
    common = sorted(set(a.entries) & set(b.entries))
    if local_platform() in common:
        return local_platform()
    if len(common) == 1:
        return common[0]
    raise EnvsnapError("both sides hold several platforms", "choose one with --platform")


def run(args: argparse.Namespace) -> int:
    ws = Workspace.from_args(args)
    if len(args.sides) > 2:
        raise EnvsnapError("diff takes at most two sides", "envsnap diff [A [B]]")
    base = Path(args.directory)
    sides = [resolve_side(spec, ws, base) for spec in args.sides]
    if not sides:  # the lock against this machine, as verify compares them
        sides = [_work_tree_lock(ws), _snapshot_side("live", ws.host, ws)]
    elif len(sides) == 1 and sides[0].lock is None:  # a machine: live or a recording
        sides = [_work_tree_lock(ws), sides[0]]
    elif len(sides) == 1:  # a lock file or revision is the base, as in `git diff REV`
        sides = [sides[0], _work_tree_lock(ws)]
    a, b = sides
    platform = choose_platform(a, b, args.platform)
    old, new = a.entry(platform), b.entry(platform)
    findings = compare_entries(old, new, platform, ws.config, (a.label, b.label))
    outcome = Outcome(f"{platform} in {b.label}", a.label, findings)
    return emit(outcome, args)
