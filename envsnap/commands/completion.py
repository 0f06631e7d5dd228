"""``envsnap completion SHELL``: print the completion script for bash, zsh or fish; and answer
the requests that script makes.

The script is argcomplete's: on TAB the shell runs envsnap with ``_ARGCOMPLETE`` and the
variables of :data:`REQUEST_VARIABLES` set and file descriptor 8 open, and ``cli.main`` answers
from the whole argument parser, so completions never drift from the CLI. Anything less is no
completion request: a stray ``_ARGCOMPLETE`` in a CI job's environment must not turn ``verify``
into a silent exit 0, nor make envsnap write to a file the environment names. Install it with,
for example, ``envsnap completion bash > ~/.local/share/bash-completion/completions/envsnap``
(see docs/completion.md).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, NoReturn

from envsnap.commands import SUMMARIES
from envsnap.errors import EXIT_OK

if TYPE_CHECKING:
    from envsnap.commands import Subparsers

SHELLS = ("bash", "zsh", "fish")
# What each shell's script sets besides _ARGCOMPLETE and _ARGCOMPLETE_SHELL (argcomplete's
# shell_integration.py: bashcode for bash and zsh, fishcode).
REQUEST_VARIABLES = {
    "bash": ("COMP_LINE", "COMP_POINT", "COMP_TYPE", "_ARGCOMPLETE_COMP_WORDBREAKS"),
    "zsh": ("COMP_LINE", "COMP_POINT"),
    "fish": ("COMP_LINE", "COMP_POINT", "COMP_TYPE", "_ARGCOMPLETE_DFS", "_ARGCOMPLETE_IFS"),
}
ANSWER_FD = 8  # each script runs envsnap with 8>&1 and discards its stdout and stderr


def add_parser(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("completion", parents=[common], help=SUMMARIES["completion"])
    parser.add_argument("shell", choices=SHELLS, help="the shell to print the script for")


def run(args: argparse.Namespace) -> int:
    from argcomplete.shell_integration import shellcode

    sys.stdout.write(shellcode(["envsnap"], shell=args.shell))
    return EXIT_OK


def not_a_request(environ: Mapping[str, str]) -> str | None:
    """Why *environ* is not a completion request from one of :data:`SHELLS`' scripts, or None
    when it is one."""
    if environ.get("_ARGCOMPLETE") not in ("1", "2", "3"):
        return "_ARGCOMPLETE is not 1, 2 or 3"
    shell = environ.get("_ARGCOMPLETE_SHELL", "")
    if shell not in REQUEST_VARIABLES:
        return "_ARGCOMPLETE_SHELL is not bash, zsh or fish"
    missing = [name for name in REQUEST_VARIABLES[shell] if name not in environ]
    if missing:
        return f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set"
    point, line = environ["COMP_POINT"], environ["COMP_LINE"]
    # bash counts bytes, zsh and fish characters: the byte length bounds both
    if not (point.isascii() and point.isdigit()) or int(point) > len(os.fsencode(line)):
        return "COMP_POINT is not a position in COMP_LINE"
    if environ.get("_ARGCOMPLETE_SUPPRESS_SPACE") not in ("0", "1"):
        return "_ARGCOMPLETE_SUPPRESS_SPACE is not 0 or 1"
    if not _writable(ANSWER_FD):
        return f"file descriptor {ANSWER_FD} is not open for writing"
    return None


def _writable(fd: int) -> bool:
    import fcntl

    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    except OSError:
        return False
    return flags & os.O_ACCMODE in (os.O_WRONLY, os.O_RDWR)


class _Answered(Exception):
    """Not an error: how argcomplete's exit status reaches :func:`answer`."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _stop(code: int) -> NoReturn:
    raise _Answered(code)


def answer(parser: argparse.ArgumentParser) -> int:
    """Write the candidates to file descriptor 8 (never to ``_ARGCOMPLETE_STDOUT_FILENAME``);
    argcomplete's exit status, which is 0 only when it answered."""
    import argcomplete

    with os.fdopen(ANSWER_FD, "w", closefd=False) as out:
        try:
            argcomplete.autocomplete(parser, exit_method=_stop, output_stream=out)
        except _Answered as done:
            return done.code
    return 1  # argcomplete returned without answering
