"""``envsnap completion SHELL``: print the completion script for bash, zsh or fish.

The script is argcomplete's: on TAB the shell runs envsnap with ``_ARGCOMPLETE`` set, and
``cli.main`` answers from the whole argument parser, so completions never drift from the CLI.
Install it with, for example, ``envsnap completion bash > ~/.local/share/bash-completion/
completions/envsnap`` (see docs/completion.md).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from envsnap.commands import SUMMARIES
from envsnap.errors import EXIT_OK

SHELLS = ("bash", "zsh", "fish")


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("completion", parents=[common], help=SUMMARIES["completion"])
    parser.add_argument("shell", choices=SHELLS, help="the shell to print the script for")


def run(args: argparse.Namespace) -> int:
    from argcomplete.shell_integration import shellcode

    sys.stdout.write(shellcode(["envsnap"], shell=args.shell))
    return EXIT_OK
