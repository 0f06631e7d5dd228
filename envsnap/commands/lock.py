"""``envsnap lock``: probe this machine and write its entry of envsnap.lock."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from envsnap.atomic import atomic_write
from envsnap.commands import SUMMARIES
from envsnap.errors import EXIT_DRIFT, EXIT_OK, EnvsnapError, LockError
from envsnap.lockfile import LockFile, exclusive, read_lock, render, with_entry
from envsnap.probes.collect import Snapshot, take_snapshot
from envsnap.workspace import Workspace

ESSENTIAL = ("go", "cgo")


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("lock", parents=[common], help=SUMMARIES["lock"])
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the lock would change"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace a lock that cannot be read (its entries are lost)",
    )


def live_snapshot(ws: Workspace) -> Snapshot:
    """Probe the host; refuse when the Go or cgo probe failed, warn about the others."""
    snapshot = take_snapshot(ws.host, str(ws.module_root), ws.config.track_env, trace=True)
    for name in snapshot.failed_sections:
        section = snapshot.entry[name]
        message = section.get("error") if isinstance(section, dict) else None
        if name in ESSENTIAL and message:
            raise EnvsnapError(f"cannot lock: {message}", "fix the error above and run it again")
        print(
            f"envsnap: warning: {name}: probe incomplete ({_first_error(section)})", file=sys.stderr
        )
    return snapshot


def _first_error(section: Any) -> str:
    if isinstance(section, dict) and "error" in section:
        return str(section["error"])
    if isinstance(section, (dict, list)):
        for value in section.values() if isinstance(section, dict) else section:
            found = _first_error(value)
            if found:
                return found
    return ""


def _current(ws: Workspace, force: bool) -> tuple[LockFile, bytes | None]:
    try:
        existing = read_lock(ws.lock_path)
    except LockError:
        if not force:
            raise
        print(f"envsnap: replacing unreadable {ws.lock_path.name} (--force)", file=sys.stderr)
        return LockFile(ws.lock_path), b""
    if existing is None:
        return LockFile(ws.lock_path), None
    return existing, ws.lock_path.read_bytes()


def run(args: argparse.Namespace) -> int:
    from envsnap.snapshot import validate_entry

    ws = Workspace.from_args(args)
    try:
        snapshot = live_snapshot(ws)
    finally:
        ws.close()
    validate_entry(
        snapshot.platform, {"envsnap": "-", "digest": "sha256:" + "0" * 64, **snapshot.entry}
    )

    def waiting() -> None:
        print(f"envsnap: another envsnap is writing {ws.lock_path.name}, waiting…", file=sys.stderr)

    with exclusive(ws.lock_path, on_wait=waiting):
        lock, old_bytes = _current(ws, args.force)
        new_bytes = render(with_entry(lock, snapshot.platform, snapshot.entry))
        if new_bytes == old_bytes:
            print(f"{ws.lock_path.name} is up to date ({snapshot.platform})", file=sys.stderr)
            return EXIT_OK
        if args.check:
            state = "does not exist" if old_bytes is None else "would change"
            print(
                f"{ws.lock_path.name} {state} for {snapshot.platform}; run `envsnap lock`",
                file=sys.stderr,
            )
            return EXIT_DRIFT
        atomic_write(ws.lock_path, new_bytes)
    print(f"wrote {ws.lock_path} ({snapshot.platform})", file=sys.stderr)
    return EXIT_OK
