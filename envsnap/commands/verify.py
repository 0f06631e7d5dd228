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
from envsnap.report import (
    Outcome,
    colour_wanted,
    paint,
    render_json,
    render_quiet,
    render_text,
)

if TYPE_CHECKING:  # a clean verdict needs none of these (envsnap.verdict)
    from envsnap.config import Config, Variant
    from envsnap.lockfile import LockFile
    from envsnap.probes.collect import Snapshot
    from envsnap.workspace import Workspace

VARIANT_VARIABLE = "ENVSNAP_VARIANT"  # set by emitted shells of a named variant


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
    parser.add_argument(
        "--variant",
        metavar="NAME",
        help="check only this build variant (default: $ENVSNAP_VARIANT, else all of them)",
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
    labels: tuple[str | None, str | None] = (LOCK_NAME, None),
) -> list[Any]:
    """Explain the differences (the slow path: validates the lock, imports deepdiff). Fields a
    newer envsnap added to a locked side are left out, with a note naming them (after the
    side's label; no label, no note)."""
    from envsnap.drift import Policy, compare
    from envsnap.lockfile import readable_entry

    def readable(entry: dict[str, Any], label: str | None) -> dict[str, Any]:
        known, note = readable_entry(label or "", platform, entry)
        if note and label:
            print(note, file=sys.stderr)
        return known

    if validate:
        locked = readable(locked, labels[0])
    if "digest" in live:  # diff: the other side is a lock too
        live = readable(live, labels[1])
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
        text = render_text(outcome)
        sys.stdout.write(paint(text) if colour_wanted(sys.stdout) else text)
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


def live_snapshot(
    ws: Workspace, cached: bool, variant: Variant | None = None
) -> tuple[Snapshot, dict[str, Any] | None]:
    """This machine's snapshot as *variant* builds; with *cached*, probe answers may come from
    the memo. Also what the answers stood on, when every one of them is in the memo."""
    from envsnap.config import THE_DEFAULT
    from envsnap.probecache import ProbeCache
    from envsnap.probes.collect import take_snapshot

    cache = ProbeCache.for_user(ws.host, os.environ) if cached else None
    try:
        # the first look models the linker; a drift is re-checked against the real link
        snapshot = take_snapshot(
            ws.host,
            str(ws.module_root),
            ws.config.track_env,
            cache,
            variant=variant or THE_DEFAULT,
            trace=not cached,
        )
    finally:
        if cache is not None:
            cache.save()
    stood_on = cache.used if cache is not None and ws.host.system != "darwin" else None
    return snapshot, stood_on


def wanted_variant(args: argparse.Namespace) -> str | None:
    return getattr(args, "variant", None) or os.environ.get(VARIANT_VARIABLE) or None


def run(args: argparse.Namespace) -> int:
    started = time.time_ns()
    from envsnap.workspace import Workspace

    ws = Workspace.from_args(args)
    lock, name = load_lock(ws.lock_path, args.rev)
    warn_if_uncommitted(ws.lock_path, args)
    try:
        return compare_with_lock(ws, lock, name, args, started)
    finally:
        ws.close()


def selected_variants(config: Config, args: argparse.Namespace) -> tuple[Variant, ...]:
    """--variant, else $ENVSNAP_VARIANT (an emitted shell of one variant), else all of them."""
    wanted = wanted_variant(args)
    return (config.variant(wanted),) if wanted else config.all_variants()


class Checked:
    """One variant's result: its platform, its findings (None: a missing entry, allowed), and
    what a clean answer stood on (for a verdict)."""

    def __init__(
        self, platform: str, findings: list[Any] | None, stood_on: dict[str, Any] | None = None
    ) -> None:
        self.platform, self.findings, self.stood_on = platform, findings, stood_on


def check_variant(
    ws: Workspace, lock: LockFile, name: str, variant: Variant, args: argparse.Namespace
) -> Checked:
    snapshot, stood_on = live_snapshot(ws, cached=True, variant=variant)
    key = snapshot.key
    if key not in lock.platforms:
        if args.allow_missing_platform:
            if not args.quiet:
                print(f"envsnap: {name} has no entry for {key} (allowed)", file=sys.stderr)
            return Checked(snapshot.platform, None)
        from envsnap.drift import missing_platform

        return Checked(snapshot.platform, [missing_platform(key, sorted(lock.platforms))])
    locked = checked_entry(lock, key, name)
    if is_clean(locked, snapshot.entry):
        return Checked(snapshot.platform, [], stood_on)
    snapshot, _ = live_snapshot(ws, cached=False, variant=variant)  # drifts are reported fresh
    if is_clean(locked, snapshot.entry):
        return Checked(snapshot.platform, [])
    labels = (None if args.quiet else name, None)
    return Checked(
        snapshot.platform, findings_for(locked, snapshot.entry, key, ws.config, True, labels)
    )


def stale_variants(lock: LockFile, platform: str, config: Config) -> list[Any]:
    """Entries of this platform for variants envsnap.toml no longer declares."""
    from envsnap.drift import stale_variant
    from envsnap.variants import split_key

    declared = {v.name for v in config.all_variants()}
    keys = [k for k in sorted(lock.platforms) if split_key(k)[0] == platform]
    return [stale_variant(k) for k in keys if split_key(k)[1] not in declared]


def compare_with_lock(
    ws: Workspace, lock: LockFile, name: str, args: argparse.Namespace, started: int
) -> int:
    from concurrent.futures import ThreadPoolExecutor
    from dataclasses import replace

    from envsnap.report import SEVERITY_RANK

    variants = selected_variants(ws.config, args)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda v: check_variant(ws, lock, name, v, args), variants))
    platform = results[0].platform
    if all(r.findings is None for r in results):
        return EXIT_OK
    named = bool(ws.config.variants)  # without declared variants, output is as it always was
    findings = [
        replace(finding, variant=variant.name) if named else finding
        for variant, result in zip(variants, results, strict=True)
        for finding in result.findings or []
    ]
    if not wanted_variant(args):  # all variants were checked
        findings += stale_variants(lock, platform, ws.config)
    findings.sort(key=lambda f: SEVERITY_RANK[f.severity])  # stable: each variant's order kept
    shown = tuple(v.name for v in variants) if named else ()
    if not findings and args.rev is None and name == LOCK_NAME:
        remember(ws, args, platform, shown, results, started)
    return emit(Outcome(platform, name, findings, args.strict, shown), args)


def remember(
    ws: Workspace,
    args: argparse.Namespace,
    platform: str,
    shown: tuple[str, ...],
    results: list[Checked],
    started: int,
) -> None:
    """Keep the clean verdict, with its report, when every variant's answers came from the memo
    (the next clean verify is answered by envsnap.shortcut)."""
    from envsnap.verdict import remember_clean

    stood_on: dict[str, Any] = {}
    for result in results:
        if result.findings is None or result.stood_on is None:
            return
        stood_on.update(result.stood_on)
    outcome = Outcome(platform, LOCK_NAME, [], False, shown)
    report = {
        "text": render_text(outcome),
        "json": render_json(outcome),
        "quiet": render_quiet(outcome),
    }
    remember_clean(
        os.environ,
        args.directory,
        str(ws.module_root),
        report,
        stood_on,
        started,
        wanted_variant(args),
    )
