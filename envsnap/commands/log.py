"""``envsnap log``: the lock's history from git, each change explained with verify's rules."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from envsnap import history
from envsnap.checking import policy_of
from envsnap.commands import SUMMARIES
from envsnap.config import load_config
from envsnap.errors import EXIT_OK
from envsnap.git import lock_revisions
from envsnap.lockfile import LOCK_NAME
from envsnap.module import find_module_root
from envsnap.variants import split_key

if TYPE_CHECKING:
    from envsnap.commands import Subparsers


def add_parser(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "log",
        parents=[common],
        help=SUMMARIES["log"],
    )
    parser.add_argument(
        "--platform", metavar="GOOS-GOARCH", help="only this platform's entries (every variant)"
    )
    parser.add_argument("--variant", metavar="NAME", help="only this build variant's entries")


def run(args: argparse.Namespace) -> int:
    root = find_module_root(Path(args.directory))
    config = load_config(root)
    revisions = lock_revisions(root / LOCK_NAME)
    if not revisions:
        print(f"envsnap: {LOCK_NAME} has never been committed", file=sys.stderr)
        return EXIT_OK
    found = history.changes(revisions, policy_of(config), selection(args.platform, args.variant))
    if not found:
        print(f"envsnap: no commit changed {_entries(args)} of {LOCK_NAME}", file=sys.stderr)
        return EXIT_OK
    sys.stdout.write(history.render(found))
    return EXIT_OK


def selection(platform: str | None, variant: str | None) -> history.Selected:
    """The entries (by lock key) of *platform* and of *variant*, each when given."""

    def selected(key: str) -> bool:
        key_platform, key_variant = split_key(key)
        return platform in (None, key_platform) and variant in (None, key_variant)

    return selected


def _entries(args: argparse.Namespace) -> str:
    if args.platform and args.variant:
        return f"the {args.platform} entry of variant {args.variant}"
    if args.variant:
        return f"an entry of variant {args.variant}"
    return f"the {args.platform} entry" if args.platform else "a platform entry"
