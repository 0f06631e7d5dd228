"""``envsnap hook install | uninstall``: envsnap's own git pre-commit hook (no framework needed)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from envsnap import hooks
from envsnap.commands import SUMMARIES
from envsnap.errors import EXIT_OK
from envsnap.git import hooks_dir, tracked_under, work_tree_top
from envsnap.module import find_module_root

if TYPE_CHECKING:
    from envsnap.commands import Subparsers


def add_parser(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("hook", parents=[common], help=SUMMARIES["hook"])
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser(
        "install",
        parents=[common],
        help="run `envsnap verify` before every commit (an existing hook is kept and runs first)",
    )
    actions.add_parser(
        "uninstall", parents=[common], help="remove envsnap's hook and restore the previous one"
    )


def run(args: argparse.Namespace) -> int:
    if not sys.executable:
        raise hooks.HookError(
            "cannot tell which Python runs envsnap", "run it as `python -m envsnap`"
        )
    module = find_module_root(Path(args.directory))
    paths = hooks.HookPaths.in_dir(hooks_dir(module))
    refuse_if_tracked(module, paths)
    try:
        if args.action == "install":
            relative = module.resolve().relative_to(work_tree_top(module)).as_posix()
            python = sys.executable
            script = hooks.hook_script(python, relative, hooks.launcher(python))
            done = hooks.install(paths, script)
        else:
            done = hooks.uninstall(paths)
    except OSError as exc:
        raise hooks.HookError(
            f"cannot change {paths.hook}: {exc.strerror}", "check the hooks folder's permissions"
        ) from None
    print(f"envsnap: {done}", file=sys.stderr)
    return EXIT_OK


def refuse_if_tracked(module: Path, paths: hooks.HookPaths) -> None:
    """A hooks folder the repository tracks (``core.hooksPath``) is the team's: envsnap never
    writes its machine-specific hook there."""
    if tracked_under(module, paths.hook.parent):
        raise hooks.HookError(
            f"{paths.hook.parent} is tracked by git (core.hooksPath): envsnap will not change "
            "the team's committed hooks",
            "call `envsnap verify` from the committed pre-commit hook by hand, or use the "
            "pre-commit framework (docs/git.md)",
        )
