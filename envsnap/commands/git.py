"""``envsnap git setup``: let git merge envsnap.lock one platform entry at a time.

Two halves, because git never takes configuration from a repository: the ``.gitattributes`` line
(committed, shared by the team) names the driver for envsnap.lock, and the local git config (each
clone, once) says how to run it. Without the config git falls back to its ordinary text merge.
Running it again changes nothing.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from envsnap.atomic import atomic_write
from envsnap.commands import SUMMARIES
from envsnap.errors import EXIT_OK, EnvsnapError
from envsnap.git import config_value, merge_attribute, set_config, work_tree_top
from envsnap.hooks import ISOLATED, safe_python
from envsnap.lockfile import LOCK_NAME
from envsnap.module import find_module_root

if TYPE_CHECKING:
    from envsnap.commands import Subparsers

DRIVER = "envsnap"
ATTRIBUTE_LINE = f"{LOCK_NAME} merge={DRIVER}"
ATTRIBUTE_COMMENT = (
    "# written by `envsnap git setup`: merge envsnap.lock one platform entry at a time"
)
DRIVER_NAME = "envsnap: merge envsnap.lock one platform entry at a time"


def add_parser(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("git", parents=[common], help=SUMMARIES["git"])
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser(
        "setup",
        parents=[common],
        help="write the .gitattributes line and the local git config of the merge driver",
    )


def driver_command(python: str, isolation: str = ISOLATED) -> str:
    """What git runs to merge the lock (git shell-quotes the file names it puts for %O %A %B %P).

    git runs it at the top of the work tree: *isolation* keeps the files there off Python's
    import path (see :func:`envsnap.hooks.safe_python`), and ``--`` keeps a path such as
    ``-dash/envsnap.lock`` from reading as an option."""
    return f"{shlex.quote(python)} {isolation} -m envsnap merge-driver -- %O %A %B %P"


def ensure_attribute(module: Path, top: Path) -> bool:
    """Append the attribute line to the top-level .gitattributes unless git already applies it."""
    lock = module / LOCK_NAME
    if merge_attribute(module, lock) == DRIVER:
        return False
    attributes = top / ".gitattributes"
    old = attributes.read_bytes() if attributes.exists() else b""
    separator = b"\n" if old and not old.endswith(b"\n") else b""
    added = f"{ATTRIBUTE_COMMENT}\n{ATTRIBUTE_LINE}\n".encode()
    atomic_write(attributes, old + separator + added)
    found = merge_attribute(module, lock)
    if found != DRIVER:
        raise EnvsnapError(
            f"git still merges {LOCK_NAME} with `{found}`: another attributes file overrides "
            f"{attributes}",
            "check `git check-attr -a envsnap.lock` and .git/info/attributes",
        )
    return True


def ensure_config(module: Path, python: str) -> list[str]:
    """Set the driver's local config keys that differ; returns the keys it set."""
    wanted = {
        f"merge.{DRIVER}.name": DRIVER_NAME,
        f"merge.{DRIVER}.driver": driver_command(python, safe_python(python)),
    }
    changed = [key for key, value in wanted.items() if config_value(module, key) != value]
    for key in changed:
        set_config(module, key, wanted[key])
    return changed


def run(args: argparse.Namespace) -> int:
    module = find_module_root(Path(args.directory))
    top = work_tree_top(module)
    try:
        wrote_attribute = ensure_attribute(module, top)
    except OSError as exc:
        raise EnvsnapError(
            f"cannot update {top / '.gitattributes'}: {exc.strerror}",
            "check the file's permissions, or add the line envsnap prints by hand",
        ) from None
    changed = ensure_config(module, sys.executable)
    if wrote_attribute:
        print(f"envsnap: added `{ATTRIBUTE_LINE}` to {top / '.gitattributes'}", file=sys.stderr)
        print("envsnap: commit .gitattributes so the whole team uses it", file=sys.stderr)
    if changed:
        print(f"envsnap: set {', '.join(changed)} in the local git config", file=sys.stderr)
    if not wrote_attribute and not changed:
        print("envsnap: git is already set up for envsnap.lock", file=sys.stderr)
    return EXIT_OK
