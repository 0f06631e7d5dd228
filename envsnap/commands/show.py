"""``envsnap show``: print the live snapshot of this machine, and which packages it covers."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from envsnap import termsafe
from envsnap.commands import SUMMARIES
from envsnap.errors import EXIT_OK
from envsnap.lockfile import render_entry
from envsnap.probes.collect import Snapshot, take_snapshot
from envsnap.workspace import Workspace

if TYPE_CHECKING:
    from envsnap.commands import Subparsers


def add_parser(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("show", parents=[common], help=SUMMARIES["show"])
    parser.add_argument("--json", action="store_true", help="print JSON instead of TOML")
    parser.add_argument(
        "--variant", metavar="NAME", help="probe this build variant (default: default)"
    )


def run(args: argparse.Namespace) -> int:
    ws = Workspace.from_args(args)
    variant = ws.config.variant(args.variant) if args.variant else ws.config.default
    try:
        snapshot = take_snapshot(ws.host, str(ws.module_root), ws.config.track_env, variant=variant)
    finally:
        ws.close()
    packages = {
        "include": list(variant.packages.include),
        "exclude": list(variant.packages.exclude),
        "excluded": list(snapshot.scope.excluded),
    }
    if args.json:
        document = {"platform": snapshot.key, "packages": packages, "snapshot": snapshot.entry}
        sys.stdout.write(termsafe.dumps(document, sort_keys=True))
    else:
        sys.stdout.write(termsafe.escape(_packages_comment(snapshot, packages)))
        sys.stdout.write(render_entry(snapshot.key, snapshot.entry))
    return EXIT_OK


def _packages_comment(snapshot: Snapshot, packages: dict[str, list[str]]) -> str:
    """TOML comments naming the packages the snapshot covers and those it leaves out."""
    lines = [f"# packages: {' '.join(packages['include'])}"]
    if packages["exclude"]:
        lines.append(f"# excluding: {' '.join(packages['exclude'])}")
    if snapshot.scope.excluded:
        lines.append(f"# not locked: {' '.join(snapshot.scope.excluded)}")
    return "\n".join(lines) + "\n"
