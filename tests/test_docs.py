"""The docs cannot drift from the CLI: every `envsnap …` command line in README.md and docs/
parses with the real argument parser, and docs/reference.md is the generated --help text."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest

from envsnap.cli import COMMANDS, build_parser
from tests.conftest import REPO

REFERENCE = REPO / "docs" / "reference.md"  # the generated --help text, checked below
DOCS = [REPO / "README.md", *sorted(p for p in (REPO / "docs").rglob("*.md") if p != REFERENCE)]
FENCE = re.compile(r"^```.*?$(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`(envsnap [^`]+)`")
SYNOPSIS = re.compile(
    r"\[|…|\.\.\.|<[A-Za-z]|\{|\|"
)  # `envsnap diff [A [B]]`: a synopsis, not a line
SHELL_TAIL = re.compile(r"\s(?:#|>|\|\s|&&|2>).*$")


def command_lines(text: str) -> list[str]:
    found = []
    for block in FENCE.findall(text):
        for line in block.splitlines():
            line = line.strip().removeprefix("$ ")
            if line.startswith("envsnap "):
                found.append(line)
    found += INLINE.findall(text)
    return found


def as_argv(line: str) -> list[str] | None:
    """The arguments of a command line as a user would type it; None for a synopsis, a TOML
    key or program output that merely starts with the word envsnap."""
    line = SHELL_TAIL.sub("", line)
    if SYNOPSIS.search(line):
        return None
    try:
        words = shlex.split(line)
    except ValueError:
        return None
    if len(words) < 2 or not (words[1] in COMMANDS or words[1].startswith("-")):
        return None
    return words[1:]


CASES = [
    (path.relative_to(REPO).as_posix(), line, argv)
    for path in DOCS
    for line in command_lines(path.read_text())
    if (argv := as_argv(line)) is not None
]


def test_the_docs_show_many_command_lines() -> None:
    assert len(CASES) >= 30, [c[1] for c in CASES]
    verbs = {argv[0] for _, _, argv in CASES if not argv[0].startswith("-")}
    assert verbs >= {"lock", "verify", "emit"}, verbs


@pytest.mark.parametrize(("where", "line", "argv"), CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_every_command_line_in_the_docs_parses(where: str, line: str, argv: list[str]) -> None:
    if argv in (["--help"], ["--version"]) or "--help" in argv:
        return
    if len(argv) == 1 and argv[0] in COMMANDS:  # a command named in prose: it exists
        return
    try:
        build_parser(argv, every=True).parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"{where}: `{line}` does not parse (exit {exc.code})")


def test_the_reference_is_the_generated_help() -> None:
    generated = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen-reference"), "--stdout"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert (REPO / "docs" / "reference.md").read_text() == generated, (
        "docs/reference.md is stale: run scripts/gen-reference"
    )
