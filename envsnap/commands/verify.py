"""``envsnap verify``: compare this machine with the lock; the exit code is the contract.

The clean path is the fast path: when the live entry's digest equals the locked digest nothing
else runs, so deepdiff, gitpython and pydantic are not even imported.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envsnap.commands import SUMMARIES
from envsnap.errors import EXIT_OK, LockError
from envsnap.module import LOCK_NAME
from envsnap.report import Outcome, render_json, render_quiet, render_text
from envsnap.stamps import caching_disabled

if TYPE_CHECKING:  # a clean verdict needs none of these (envsnap.verdict)
    from envsnap.config import Config
    from envsnap.lockfile import LockFile
    from envsnap.probes.collect import Snapshot
    from envsnap.workspace import Workspace


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("verify", parents=[common], help=SUMMARIES["verify"])
    add_output_options(parser)
    parser.add_argument("--strict", action="store_true", help="warnings fail too")
    parser.add_argument("--quiet", action="store_true", help="exit code and at most one line")
    parser.add_argument("--rev", metavar="REV", help="verify against the lock as committed at REV")
    parser.add_argument(
        "--allow-missing-platform",
        action="store_true",
        help="exit 0 when the lock has no entry for this platform",
    )


def add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON document")


def load_lock(path: Path, rev: str | None) -> tuple[LockFile, str]:
    """The lock from the work tree, or as committed at *rev*, and how to name it."""
    from envsnap.lockfile import parse_lock, read_lock

    if rev is not None:
        from envsnap.git import file_at_rev

        return parse_lock(path, file_at_rev(path, rev)), f"{LOCK_NAME} at {rev}"
    lock = read_lock(path)
    if lock is None:
        raise LockError(f"there is no {LOCK_NAME} beside go.mod", "create it with `envsnap lock`")
    return lock, LOCK_NAME


def checked_entry(lock: LockFile, platform: str, name: str) -> dict[str, Any]:
    """The locked entry for *platform*, refusing one whose digest shows a hand edit."""
    if not lock.digest_ok(platform):
        raise LockError(
            f"the {platform} entry of {name} was edited by hand (its digest does not match)",
            "run `envsnap lock` or restore the file",
        )
    return lock.platforms[platform]


def findings_for(
    locked: dict[str, Any],
    live: dict[str, Any],
    platform: str,
    config: Config,
    validate: bool = True,
) -> list[Any]:
    """Explain the differences (the slow path: validates the lock, imports deepdiff)."""
    from envsnap.drift import Policy, compare
    from envsnap.snapshot import validate_entry

    if validate:
        validate_entry(platform, locked)
    return compare(locked, live, Policy(config.severity, config.ignore))


def is_clean(locked: dict[str, Any], live_content: dict[str, Any]) -> bool:
    """The live entry has the locked digest, and the lock is not marked incomplete (which no
    machine verifies clean)."""
    from envsnap.lockfile import entry_digest

    if locked.get("incomplete"):
        return False
    live = {"envsnap": locked.get("envsnap"), **live_content}
    return entry_digest(live) == locked.get("digest")


def emit(outcome: Outcome, args: argparse.Namespace) -> int:
    if getattr(args, "json", False):
        sys.stdout.write(render_json(outcome))
    elif getattr(args, "quiet", False):
        sys.stderr.write(render_quiet(outcome))
    else:
        sys.stdout.write(render_text(outcome))
    return outcome.exit_code


# --- git: say when the lock being verified is not what is committed -------------------------
# One `git status` process (a few ms), only when a .git is found above the module; no gitpython,
# so the clean path stays fast. It runs on every path, not only the slow one: a lock that was
# never committed is the common mistake, and it verifies clean on the machine that wrote it.


def uncommitted_warning(status: str | None, in_commit_hook: bool) -> str | None:
    """The warning for git's two-letter status of the lock (None: nothing to say)."""
    if status == "??":
        return "is not tracked by git: commit it, so that teammates and CI verify against it"
    if status == "!!":
        return "is ignored by git (.gitignore): teammates and CI never see it; commit it"
    if not status:
        return None
    if in_commit_hook:  # staged changes are what this commit records: only unstaged ones matter
        if status[1] == " ":
            return None
        return "has changes not staged for this commit: verify checked the work-tree file"
    return "has uncommitted changes: verify checked the work-tree file, not the committed one"


def warn_if_uncommitted(lock_path: Path, args: argparse.Namespace) -> None:
    if args.rev is not None or args.quiet:
        return
    from envsnap.git import lock_status

    # git exports GIT_INDEX_FILE to a pre-commit hook (both envsnap's and the framework's).
    warning = uncommitted_warning(lock_status(lock_path), "GIT_INDEX_FILE" in os.environ)
    if warning:
        print(f"envsnap: warning: {lock_path.name} {warning}", file=sys.stderr)


def live_snapshot(ws: Workspace, cached: bool) -> tuple[Snapshot, dict[str, Any] | None]:
    """This machine's snapshot; with *cached*, probe answers may come from the memo. Also what
    the answers stood on, when every one of them is in the memo (None otherwise)."""
    from envsnap.probecache import ProbeCache
    from envsnap.probes.collect import take_snapshot

    cache = ProbeCache.for_user(ws.host, os.environ) if cached else None
    try:
        # the first look models the linker; a drift is re-checked against the real link
        snapshot = take_snapshot(
            ws.host, str(ws.module_root), ws.config.track_env, cache, trace=not cached
        )
    finally:
        if cache is not None:
            cache.save()
    stood_on = cache.used if cache is not None and ws.host.system != "darwin" else None
    return snapshot, stood_on


def remembered_clean(args: argparse.Namespace) -> bool:
    """Report a clean result from a verdict whose every stamp still holds (envsnap.verdict)."""
    if args.rev is not None or getattr(args, "replay", None) or caching_disabled(os.environ):
        return False
    from envsnap.module import find_module_root
    from envsnap.verdict import clean_platform

    start = Path(args.directory)
    root = find_module_root(start)
    platform = clean_platform(os.environ, start, root)
    if platform is None:
        return False
    warn_if_uncommitted(root / LOCK_NAME, args)
    emit(Outcome(platform, LOCK_NAME, [], args.strict), args)
    return True


def run(args: argparse.Namespace) -> int:
    started = time.time_ns()
    if remembered_clean(args):
        return EXIT_OK
    from envsnap.workspace import Workspace

    ws = Workspace.from_args(args)
    lock, name = load_lock(ws.lock_path, args.rev)
    warn_if_uncommitted(ws.lock_path, args)
    try:
        return compare_with_lock(ws, lock, name, args, started)
    finally:
        ws.close()


def compare_with_lock(
    ws: Workspace, lock: LockFile, name: str, args: argparse.Namespace, started: int
) -> int:
    snapshot, stood_on = live_snapshot(ws, cached=True)
    platform = snapshot.platform
    if platform not in lock.platforms:
        if args.allow_missing_platform:
            if not args.quiet:
                print(f"envsnap: {name} has no entry for {platform} (allowed)", file=sys.stderr)
            return EXIT_OK
        from envsnap.drift import missing_platform

        finding = missing_platform(platform, sorted(lock.platforms))
        return emit(Outcome(platform, name, [finding], args.strict), args)
    locked = checked_entry(lock, platform, name)
    if is_clean(locked, snapshot.entry) and args.rev is None:
        from envsnap.verdict import remember_clean

        remember_clean(
            os.environ, Path(args.directory), ws.module_root, platform, stood_on, started
        )
    if not is_clean(locked, snapshot.entry):
        snapshot, _ = live_snapshot(ws, cached=False)  # a drift is only ever reported fresh
    if is_clean(locked, snapshot.entry):
        return emit(Outcome(platform, name, [], args.strict), args)
    findings = findings_for(locked, snapshot.entry, platform, ws.config)
    return emit(Outcome(platform, name, findings, args.strict), args)
