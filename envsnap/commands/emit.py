"""``envsnap emit``: write a shell.nix, flake.nix or .envrc that recreates the locked toolchain."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from envsnap.atomic import atomic_write
from envsnap.commands import SUMMARIES
from envsnap.config import Config, load_config
from envsnap.emit import is_generated
from envsnap.errors import EXIT_OK, EnvsnapError, LockError
from envsnap.lockfile import LOCK_NAME, read_lock
from envsnap.module import find_module_root

if TYPE_CHECKING:
    from envsnap.emit import VariantChoice
    from envsnap.emit.nix import Pin
    from envsnap.entry import Entry

Entries = list[tuple[str, "Entry"]]

TARGETS = {"nix": "shell.nix", "flake": "flake.nix", "direnv": ".envrc"}
NATIVE_TARGETS = {
    "apt": "envsnap-apt.sh",
    "brewfile": "Brewfile",
    "github-actions": ".github/workflows/envsnap.yml",
}
TARGETS.update(NATIVE_TARGETS)
TARGET_HELP = {
    "nix": (TARGETS["nix"], "a Nix shell with the locked Go, compiler, SDK and libraries"),
    "flake": (TARGETS["flake"], "the same as a Nix flake with a devShell"),
    "direnv": (TARGETS["direnv"], "a direnv file exporting the locked settings"),
    "apt": (TARGETS["apt"], "a script installing the locked Debian packages"),
    "brewfile": (TARGETS["brewfile"], "a Brewfile of the locked Homebrew formulae"),
    "github-actions": (TARGETS["github-actions"], "a CI job that verifies the lock"),
}


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser("emit", parents=[common], help=SUMMARIES["emit"])
    kind = parser.add_mutually_exclusive_group(required=True)
    for target, (file_name, what) in TARGET_HELP.items():
        kind.add_argument(
            f"--{target}", dest="target", action="store_const", const=target,
            help=f"{what} ({file_name})",
        )  # fmt: skip
    where = parser.add_mutually_exclusive_group()
    where.add_argument("-o", dest="output", metavar="PATH", help="write here instead")
    where.add_argument("--stdout", action="store_true", help="print instead of writing")
    parser.add_argument("--force", action="store_true", help="replace a file envsnap did not write")
    parser.add_argument("--nixpkgs", metavar="REV", help="pin nixpkgs at this revision")
    parser.add_argument("--nixpkgs-sha256", metavar="HASH", help="the pinned tarball's sha256")
    parser.add_argument(
        "--variant",
        metavar="NAME",
        default="default",
        help="the build variant whose entries (and tags) the file exports (default: default)",
    )


def locked_entries(root: Path) -> Entries:
    """Every platform entry of the lock, checked (digest, schema) before anything is emitted:
    each as its schema validated it."""
    from envsnap.checking import checked_entry
    from envsnap.snapshot import validate_entry

    lock = read_lock(root / LOCK_NAME)
    if lock is None or not lock.platforms:
        raise LockError(f"there is no locked platform in {LOCK_NAME}", "run `envsnap lock` first")
    return [
        (platform, validate_entry(platform, checked_entry(lock, platform, LOCK_NAME)))
        for platform in sorted(lock.platforms)
    ]


def variant_entries(entries: Entries, variant: str) -> tuple[Entries, VariantChoice]:
    """The entries of *variant*, keyed by platform, and the choice naming the other variants."""
    from envsnap.emit import VariantChoice
    from envsnap.variants import split_key

    chosen = [(split_key(k)[0], e) for k, e in entries if split_key(k)[1] == variant]
    names = sorted({split_key(k)[1] for k, _ in entries})
    if not chosen:
        raise LockError(
            f"{LOCK_NAME} has no entry for variant {variant!r} (it has: {', '.join(names)})",
            "pass one of those to --variant, or run `envsnap lock` after declaring it",
        )
    return chosen, VariantChoice(variant, tuple(n for n in names if n != variant))


def _pin(args: argparse.Namespace, config: Config) -> Pin | None:
    from envsnap.emit.nix import Pin

    rev = args.nixpkgs or config.nix.get("nixpkgs")
    sha = args.nixpkgs_sha256 or config.nix.get("nixpkgs_sha256")
    if not rev and not sha:
        return None
    if not isinstance(rev, str) or not (sha is None or isinstance(sha, str)):
        raise EnvsnapError(
            "a nixpkgs sha256 needs the revision it is the hash of",
            'pass --nixpkgs REV, or set [nix] nixpkgs = "github:NixOS/nixpkgs/<rev>"',
        )
    return Pin.parse(rev, sha)


def envrc_module_dir(root: Path | None, args: argparse.Namespace) -> str:
    """The module's directory relative to the folder the .envrc is written to."""
    if root is None or not args.output:
        return "."
    return os.path.relpath(root.resolve(), Path(args.output).resolve().parent)


def render(
    target: str,
    entries: Entries,
    args: argparse.Namespace,
    config: Config,
    root: Path | None = None,
) -> tuple[str, list[str]]:
    """The file's text and the warnings to print."""
    entries, choice = variant_entries(entries, args.variant)
    if target in NATIVE_TARGETS:
        from envsnap.emit import native

        renderers = {
            "apt": native.render_apt,
            "brewfile": native.render_brewfile,
            "github-actions": native.render_workflow,
        }
        return renderers[target](entries, choice)
    if target == "direnv":
        from envsnap.emit.direnv import render_envrc

        text, skipped = render_envrc(entries, choice, envrc_module_dir(root, args))
        return text, [f"{p}: no .envrc case for this platform" for p in skipped]
    from envsnap.emit import nix
    from envsnap.emit.plan import load_tables, plan_shell

    pin = _pin(args, config)  # a bad pin is reported before anything about the lock
    tables = load_tables(config)
    plans = [plan_shell(p, e, tables) for p, e in entries]
    warnings = [
        f"{p}: no Nix system for this platform"
        for (p, _), pl in zip(entries, plans, strict=True)
        if pl is None
    ]
    kept = [p for p in plans if p is not None]
    warnings += [f"{p.platform}: {w}" for p in kept for w in p.warnings]
    if target == "flake":
        return nix.render_flake(kept, pin, choice), warnings
    if pin is None and nix.nixpkgs_missing():
        warnings.append(nix.NO_NIXPKGS)
    tarball = config.nix.get("tarball_url", nix.DEFAULT_TARBALL)
    return nix.render_shell_nix(kept, pin, str(tarball), choice), warnings


def _holds(path: Path, text: str) -> bool:
    """Whether *path* is a regular file that already holds exactly *text*."""
    try:
        return path.is_file() and not path.is_symlink() and path.read_bytes() == text.encode()
    except OSError:
        return False


def write(path: Path, text: str, force: bool, mode: int | None = None) -> None:
    if path.exists() and not force:
        try:
            existing = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise EnvsnapError(
                f"cannot read {path}: {exc.strerror}", "check its permissions"
            ) from None
        if not is_generated(existing):
            raise EnvsnapError(
                f"{path} exists and was not written by envsnap",
                "pass --force to replace it, or -o PATH to write elsewhere",
            )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # .github/workflows
    except OSError as exc:
        raise EnvsnapError(
            f"cannot create {path.parent}: {exc.strerror}", "check its permissions"
        ) from None
    atomic_write(path, text.encode(), mode=mode)


def run(args: argparse.Namespace) -> int:
    root = find_module_root(Path(args.directory))
    config = load_config(root)
    text, warnings = render(args.target, locked_entries(root), args, config, root)
    for warning in warnings:
        print(f"envsnap: warning: {warning}", file=sys.stderr)
    if args.stdout:
        sys.stdout.write(text)
        return EXIT_OK
    path = Path(args.output) if args.output else root / TARGETS[args.target]
    if _holds(path, text):  # written before, and the lock has not changed since
        print(f"{path} is up to date", file=sys.stderr)
        return EXIT_OK
    write(path, text, args.force, 0o755 if args.target == "apt" else None)
    print(f"wrote {path}", file=sys.stderr)
    if args.target == "direnv":
        print("run `direnv allow` to trust it", file=sys.stderr)
    return EXIT_OK
