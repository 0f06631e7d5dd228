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
from typing import TYPE_CHECKING

from envsnap import checking, termsafe
from envsnap.commands import SUMMARIES
from envsnap.errors import EXIT_OK
from envsnap.module import LOCK_NAME
from envsnap.report import Outcome, colour_wanted, paint, render_json, render_quiet, render_text

if TYPE_CHECKING:  # a clean verdict needs none of these (envsnap.verdict)
    from envsnap.commands import Subparsers
    from envsnap.config import Config, Variant
    from envsnap.lockfile import LockFile
    from envsnap.stamps import Stamp
    from envsnap.workspace import Workspace

VARIANT_VARIABLE = "ENVSNAP_VARIANT"  # set by emitted shells of a named variant


def add_parser(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
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


def emit(outcome: Outcome, args: argparse.Namespace) -> int:
    if getattr(args, "json", False):
        sys.stdout.write(render_json(outcome))
    elif getattr(args, "quiet", False):
        sys.stderr.write(render_quiet(outcome))
    elif colour_wanted(sys.stdout):  # escaped first, then painted: only envsnap's own colours
        termsafe.write_raw(sys.stdout, paint(termsafe.json_text(render_text(outcome))))
    else:
        sys.stdout.write(render_text(outcome))
    return outcome.exit_code


def warn_if_uncommitted(lock_path: Path, args: argparse.Namespace) -> None:
    if args.rev is not None or args.quiet:
        return
    from envsnap.git import lock_status

    # It runs on every path, the clean one included: one `git status` process, no gitpython.
    # git exports GIT_INDEX_FILE to a pre-commit hook (both envsnap's and the framework's).
    warning = checking.uncommitted_warning(lock_status(lock_path), "GIT_INDEX_FILE" in os.environ)
    if warning:
        print(f"envsnap: warning: {lock_path.name} {warning}", file=sys.stderr)


def wanted_variant(args: argparse.Namespace) -> str | None:
    return getattr(args, "variant", None) or os.environ.get(VARIANT_VARIABLE) or None


def run(args: argparse.Namespace) -> int:
    started = time.time_ns()
    from envsnap.workspace import Workspace

    ws = Workspace.from_args(args)
    lock, name = checking.load_lock(ws.lock_path, args.rev)
    warn_if_uncommitted(ws.lock_path, args)
    try:
        return compare_with_lock(ws, lock, name, args, started)
    finally:
        ws.close()


def selected_variants(config: Config, args: argparse.Namespace) -> tuple[Variant, ...]:
    """--variant, else $ENVSNAP_VARIANT (an emitted shell of one variant), else all of them."""
    wanted = wanted_variant(args)
    return (config.variant(wanted),) if wanted else config.all_variants()


def compare_with_lock(
    ws: Workspace, lock: LockFile, name: str, args: argparse.Namespace, started: int
) -> int:
    variants = selected_variants(ws.config, args)
    results = checking.check_variants(
        ws, lock, name, variants, args.allow_missing_platform, notes=not args.quiet
    )
    for result in results:
        if result.findings is None and not args.quiet:
            print(f"envsnap: {name} has no entry for {result.key} (allowed)", file=sys.stderr)
    platform = results[0].platform
    if all(r.findings is None for r in results):
        return EXIT_OK
    every = not wanted_variant(args)
    findings = checking.merged_findings(lock, ws.config, variants, results, every)
    shown = tuple(v.name for v in variants) if ws.config.variants else ()
    if not findings and args.rev is None and name == LOCK_NAME:
        remember(ws, args, platform, shown, results, started)
    return emit(Outcome(platform, name, findings, args.strict, shown), args)


def remember(
    ws: Workspace,
    args: argparse.Namespace,
    platform: str,
    shown: tuple[str, ...],
    results: list[checking.Checked],
    started: int,
) -> None:
    """Keep the clean verdict, with its report, when every variant's answers came from the memo
    (the next clean verify is answered by envsnap.shortcut)."""
    stood_on: dict[str, Stamp] = {}
    for result in results:
        if result.findings is None or result.stood_on is None:
            return
        stood_on.update(result.stood_on)
    keep_clean_verdict(ws, args, platform, shown, stood_on, started)


def keep_clean_verdict(
    ws: Workspace,
    args: argparse.Namespace,
    platform: str,
    shown: tuple[str, ...],
    stood_on: dict[str, Stamp],
    started: int,
) -> None:
    """Remember the clean report a verify with *args* prints, standing on *stood_on* (and the
    lock, envsnap.toml and go.mod) as of *started*: ``verify`` after a clean check, ``lock``
    after writing what it found."""
    from envsnap.verdict import remember_clean

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
