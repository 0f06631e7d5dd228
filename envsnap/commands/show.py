"""``envsnap show``: print the live snapshot of this machine."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from envsnap import termsafe
from envsnap.commands import SUMMARIES
from envsnap.errors import EXIT_OK
from envsnap.lockfile import render_entry
from envsnap.probes.collect import take_snapshot
from envsnap.workspace import Workspace


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("show", parents=[common], help=SUMMARIES["show"])
    parser.add_argument("--json", action="store_true", help="print JSON instead of TOML")


def run(args: argparse.Namespace) -> int:
    ws = Workspace.from_args(args)
    try:
        snapshot = take_snapshot(ws.host, str(ws.module_root), ws.config.track_env)
    finally:
        ws.close()
    if args.json:
        document = {"platform": snapshot.platform, "snapshot": snapshot.entry}
        sys.stdout.write(termsafe.dumps(document, sort_keys=True))
    else:
        sys.stdout.write(render_entry(snapshot.platform, snapshot.entry))
    return EXIT_OK
