"""``envsnap help [COMMAND]``: the overview, or one command's description, options and examples."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from envsnap.commands import SUMMARIES

if TYPE_CHECKING:
    from envsnap.commands import Subparsers


def add_parser(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("help", parents=[common], help=SUMMARIES["help"])
    parser.add_argument(
        "topic",
        nargs="?",
        choices=sorted(SUMMARIES),
        metavar="COMMAND",
        help="the command to explain (default: the overview)",
    )


def run(args: argparse.Namespace) -> int:
    from envsnap.cli import help_text

    print(help_text(args.topic), end="")
    return 0
