"""``envsnap init``: lock, install the hook, set up git's merge driver and, if asked, write an
``.envrc`` or ``shell.nix``, then say what to commit. Safe to run again: what is already in place
is left as it is."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from envsnap.commands import SUMMARIES
from envsnap.errors import EXIT_OK, EnvsnapError
from envsnap.lockfile import LOCK_NAME
from envsnap.module import find_module_root

if TYPE_CHECKING:
    from envsnap.commands import Subparsers

EMITTED = {"direnv": ".envrc", "nix": "shell.nix"}


def add_parser(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("init", parents=[common], help=SUMMARIES["init"])
    for target, name in EMITTED.items():
        parser.add_argument(
            f"--{target}",
            dest="targets",
            action="append_const",
            const=target,
            help=f"also write {name} (`envsnap emit --{target}`)",
        )


def run(args: argparse.Namespace) -> int:
    module = find_module_root(Path(args.directory))
    common = ["-C", str(module), *(["--replay", args.replay] if args.replay else [])]
    code = _step(["lock", *common])
    if code != EXIT_OK:
        return code
    top = _work_tree_top(module)
    if top is None:
        _say(
            f"{module} is not in a git repository: skipped the pre-commit hook and the merge "
            "driver (run `git init`, then `envsnap init` again)"
        )
    else:
        _step(["hook", "install", *common])
        _step(["git", "setup", *common])
    for target in args.targets or []:
        if _step(["emit", f"--{target}", *common]) != EXIT_OK:
            return 1
    _what_to_commit(module, top, [EMITTED[t] for t in args.targets or []])
    return EXIT_OK


def _step(argv: list[str]) -> int:
    """One envsnap command, parsed and run as if typed (its own messages go to stderr)."""
    from envsnap.cli import build_parser, command_module

    parsed = build_parser(argv).parse_args(argv)
    code: int = command_module(parsed.command).run(parsed)
    return code


def _work_tree_top(module: Path) -> Path | None:
    from envsnap.git import work_tree_top

    try:
        return work_tree_top(module)
    except EnvsnapError:
        return None


def _what_to_commit(module: Path, top: Path | None, emitted: list[str]) -> None:
    files = [module / LOCK_NAME, *(module / name for name in emitted)]
    if top is not None:
        files.append(top / ".gitattributes")
    pending = _uncommitted(top, [f for f in files if f.exists()]) if top else files
    if not pending:
        _say("nothing to commit: the lock and its setup are committed")
        return
    shown = " ".join(_relative(path) for path in pending)
    _say(f"commit {shown} so that the whole team verifies against them")


def _uncommitted(top: Path, files: list[Path]) -> list[Path]:
    from envsnap.git import run_git

    if not files:
        return []
    paths = (str(f) for f in files)
    listed = run_git(top, "status", "--porcelain", "-z", "--untracked-files=all", "--", *paths)
    changed = {record[3:] for record in listed.split("\0") if record}
    return [f for f in files if f.resolve().relative_to(top).as_posix() in changed]


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _say(message: str) -> None:
    print(f"envsnap: {message}", file=sys.stderr)
