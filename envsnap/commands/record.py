"""``envsnap record DIR``: run every probe here and keep what they saw, secrets redacted.

The recording replays anywhere with ``envsnap --replay DIR <command>``: attach it to a bug report,
or compare a teammate's machine with the lock (``envsnap diff DIR``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from envsnap.commands import SUMMARIES
from envsnap.config import load_config
from envsnap.errors import EXIT_OK, EnvsnapError, SecretRefused
from envsnap.host import LocalHost, RecordingHost
from envsnap.module import find_module_root
from envsnap.probes.collect import take_snapshot

if TYPE_CHECKING:
    from envsnap.commands import Subparsers


def add_parser(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("record", parents=[common], help=SUMMARIES["record"])
    parser.add_argument("recording", metavar="DIR", help="where to write the recording")


def run(args: argparse.Namespace) -> int:
    if getattr(args, "replay", None):
        raise EnvsnapError("record cannot run with --replay", "record on the machine itself")
    target = Path(args.recording)
    if target.exists() and any(target.iterdir()) and not (target / "host.json").exists():
        raise EnvsnapError(
            f"{target} is not empty and is not a recording", "choose a new or empty directory"
        )
    root = find_module_root(Path(args.directory))
    local = LocalHost()
    host = RecordingHost(local)
    try:
        config = load_config(root)
        take_snapshot(host, str(root), config.track_env, variant=config.default)
    except SecretRefused as exc:
        print(f"envsnap: note: {exc.message}; it is redacted in the recording", file=sys.stderr)
    finally:
        local.close()
    host.save(target)
    print(f"recorded this machine into {target}", file=sys.stderr)
    return EXIT_OK
