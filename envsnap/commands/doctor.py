"""``envsnap doctor``: why ``go run`` works and ``go test`` does not; no lock needed.

The facts come from :mod:`envsnap.doctor.gather`, the checks from :func:`envsnap.doctor.diagnose`
and the report from :mod:`envsnap.doctor.render`. Exit 0 without a problem, 1 with.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from envsnap.commands import SUMMARIES
from envsnap.doctor import diagnose, exit_code
from envsnap.doctor.gather import gather, with_lock
from envsnap.doctor.render import render_json, render_text
from envsnap.errors import NotInModule
from envsnap.host import LocalHost
from envsnap.workspace import make_host


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "doctor",
        parents=[common],
        help=SUMMARIES["doctor"],
    )
    parser.add_argument("--json", action="store_true", help="print a JSON document")


def run(args: argparse.Namespace) -> int:
    directory = Path(args.directory).absolute()
    if not directory.is_dir():
        raise NotInModule(f"{directory} is not a directory", "pass an existing directory with -C")
    host = make_host(args)
    try:
        facts = gather(host, str(directory))
        checks = diagnose(with_lock(facts, host, directory))
    finally:
        if isinstance(host, LocalHost):
            host.close()
    render = render_json if args.json else render_text
    sys.stdout.write(render(facts, checks))
    return exit_code(checks)
