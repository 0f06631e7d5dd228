"""``envsnap diff [A [B]]``: compare two states with the rules of ``verify``.

Each side is a lock file path, ``REV`` or ``REV:path`` from git, ``live`` (this machine) or a
directory written by ``envsnap record``. No side: the lock against live. One side: a machine
(``live``, a recording) is compared with the lock as verify would; a lock file or a revision is
the base and the work tree's lock the newer side, as ``git diff REV`` reads. With build variants
declared in envsnap.toml, each variant's entries are compared (``--variant NAME``: that one
alone), and each finding names its variant.
"""

from __future__ import annotations

import argparse
import platform as platform_module
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from envsnap.checking import checked_entry, compare_entries, doable
from envsnap.commands import SUMMARIES
from envsnap.config import Variant
from envsnap.drift import Finding, missing_platform
from envsnap.entry import Content
from envsnap.errors import EnvsnapError
from envsnap.host import Host, LocalHost, ReplayHost
from envsnap.lockfile import LOCK_NAME, LockFile, parse_lock, read_lock
from envsnap.probes.collect import GOARCH, take_snapshot
from envsnap.report import Outcome
from envsnap.variants import entry_key, split_key
from envsnap.vocabulary import SEVERITY_RANK
from envsnap.workspace import Workspace

from .verify import add_output_options, emit

if TYPE_CHECKING:
    from envsnap.commands import Subparsers


def add_parser(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("diff", parents=[common], help=SUMMARIES["diff"])
    parser.add_argument("sides", nargs="*", metavar="SIDE", help="lock path, REV[:path], live, DIR")
    parser.add_argument("--platform", metavar="GOOS-GOARCH", help="which entry to compare")
    parser.add_argument(
        "--variant",
        metavar="NAME",
        help="compare only this build variant's entries (default: every variant)",
    )
    add_output_options(parser)


@dataclass
class Side:
    label: str
    entries: Mapping[str, Content]  # by lock key: GOOS-GOARCH, or GOOS-GOARCH+variant
    lock: LockFile | None = None  # set when the side is a lock (its digests are checked)
    probed: frozenset[str] | None = None  # the variants a probed side answers (None: a lock)
    host: Host | None = None  # the machine a probed side was read from (None: a lock)

    def entry(self, key: str) -> Content:
        if key not in self.entries:
            have = ", ".join(sorted(self.entries)) or "none"
            raise EnvsnapError(
                f"{self.label} has no entry for {key} (it has: {have})",
                "choose one with --platform",
            )
        if self.lock is not None:
            return checked_entry(self.lock, key, self.label)
        return self.entries[key]

    @property
    def platforms(self) -> list[str]:
        return sorted({split_key(key)[0] for key in self.entries})

    def answers(self, variant: Variant) -> bool:
        return self.probed is None or variant.name in self.probed


def _snapshot_side(label: str, host: Host, ws: Workspace, variants: Sequence[Variant]) -> Side:
    """This machine (or a recording) as each variant builds; a recording cannot be given a
    variant's tags, so it answers only the variants without tags."""
    probed = [v for v in variants if not (v.tags and isinstance(host, ReplayHost))] or variants
    entries: dict[str, Content] = {}
    try:
        for variant in probed:
            snapshot = take_snapshot(
                host, str(ws.module_root), ws.config.track_env, variant=variant
            )
            entries[snapshot.key] = snapshot.entry
    finally:
        if isinstance(host, LocalHost):
            host.close()
    return Side(label, entries, probed=frozenset(v.name for v in probed), host=host)


def _lock_side(label: str, lock: LockFile) -> Side:
    return Side(label, lock.platforms, lock)


def resolve_side(spec: str, ws: Workspace, base: Path, variants: Sequence[Variant]) -> Side:
    if spec == "live":
        return _snapshot_side("live", ws.host, ws, variants)
    path = base / spec
    if (path / "host.json").is_file():
        return _snapshot_side(spec, ReplayHost(path), ws, variants)
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
            return side.platforms[0]
    common = sorted(set(a.platforms) & set(b.platforms))
    if local_platform() in common:
        return local_platform()
    if len(common) == 1:
        return common[0]
    raise EnvsnapError("both sides hold several platforms", "choose one with --platform")


def compare_variant(
    a: Side, b: Side, platform: str, variant: Variant, ws: Workspace, named: bool
) -> list[Finding]:
    """The findings of one variant's entries, named by the variant when *named*; a side without
    the entry is one finding then (without variants, an error as it always was)."""
    key = entry_key(platform, variant.name)
    if named and key not in b.entries:
        return [replace(missing_platform(key, sorted(b.entries)), variant=variant.name)]
    if named and key not in a.entries:
        return [replace(missing_platform(key, sorted(a.entries)), variant=variant.name)]
    old, new = a.entry(key), b.entry(key)
    findings = compare_entries(old, new, platform, ws.config, (a.label, b.label))
    return [replace(f, variant=variant.name) for f in findings] if named else findings


def run(args: argparse.Namespace) -> int:
    ws = Workspace.from_args(args)
    if len(args.sides) > 2:
        raise EnvsnapError("diff takes at most two sides", "envsnap diff [A [B]]")
    wanted = (ws.config.variant(args.variant),) if args.variant else ws.config.all_variants()
    base = Path(args.directory)
    sides = [resolve_side(spec, ws, base, wanted) for spec in args.sides]
    if not sides:  # the lock against this machine, as verify compares them
        sides = [_work_tree_lock(ws), _snapshot_side("live", ws.host, ws, wanted)]
    elif len(sides) == 1 and sides[0].lock is None:  # a machine: live or a recording
        sides = [_work_tree_lock(ws), sides[0]]
    elif len(sides) == 1:  # a lock file or revision is the base, as in `git diff REV`
        sides = [sides[0], _work_tree_lock(ws)]
    a, b = sides
    platform = choose_platform(a, b, args.platform)
    variants = [v for v in wanted if a.answers(v) and b.answers(v)]
    named = bool(ws.config.variants)
    findings = [f for v in variants for f in compare_variant(a, b, platform, v, ws, named)]
    if named:  # errors first, each variant's own order kept
        findings.sort(key=lambda f: SEVERITY_RANK[f.severity])
    shown = tuple(v.name for v in variants) if named else ()
    history = a.lock is not None and b.lock is not None
    if history:
        findings = [as_history(f) for f in findings]
    elif b.host is not None:  # a machine against the lock: only what that machine can do
        findings = doable(b.host, findings)
    outcome = Outcome(
        f"{platform} in {b.label}", a.label, findings, variants=shown, history=history
    )
    return emit(outcome, args)


STALE = "the lock is stale: "


def as_history(finding: Finding) -> Finding:
    """A difference between two locks told as what changed from the first to the second: why it
    matters, but no fix and no action (verify's fix is for a machine that differs from its
    lock; here both sides are locks)."""
    why = finding.why.removeprefix(STALE)
    return replace(finding, why=why, fix="", actions=())
