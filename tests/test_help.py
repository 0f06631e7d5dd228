"""Help that teaches: `envsnap` alone, `envsnap help [COMMAND]`, a description, examples and help
text for every command and flag, a `--version` line that is never wrapped, a current man page."""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator

import pytest

from envsnap.cli import COMMANDS, build_parser, version_line
from envsnap.commands.manual import DESCRIPTIONS, EXAMPLES
from tests.conftest import REPO, envsnap


def parsers(
    parser: argparse.ArgumentParser, path: str = "envsnap"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every parser of the grammar, sub-commands' sub-commands included, with its path."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from parsers(sub, f"{path} {name}")


def test_envsnap_alone_prints_the_overview_and_exits_0() -> None:
    result = envsnap()
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    for verb in COMMANDS:
        assert f"\n    {verb} " in result.stdout, verb
    assert "envsnap help verify" in result.stdout


@pytest.mark.parametrize("verb", COMMANDS)
def test_help_verb_is_the_verbs_own_help(verb: str) -> None:
    by_help = envsnap("help", verb, env={**os.environ, "COLUMNS": "100"})
    by_flag = envsnap(verb, "--help", env={**os.environ, "COLUMNS": "100"})
    assert by_help.returncode == 0 and by_flag.returncode == 0, by_help.stderr + by_flag.stderr
    assert by_help.stdout == by_flag.stdout
    assert by_help.stdout.startswith(f"usage: envsnap {verb}")
    assert "examples:" in by_help.stdout


def test_help_without_a_command_is_the_overview() -> None:
    assert envsnap("help").stdout == envsnap().stdout


def test_help_for_an_unknown_command_is_a_usage_error() -> None:
    result = envsnap("help", "nosuch")
    assert result.returncode == 2
    assert "invalid choice: 'nosuch'" in result.stderr


def test_every_flag_and_command_has_help_text() -> None:
    missing = []
    for path, parser in parsers(build_parser([], every=True)):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helped = {choice.dest for choice in action._choices_actions}
                missing += [f"{path} {name}" for name in action.choices if name not in helped]
            elif not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, missing


def test_every_command_has_a_description_and_examples_that_parse() -> None:
    assert set(DESCRIPTIONS) == set(COMMANDS) == set(EXAMPLES)
    for verb, examples in EXAMPLES.items():
        assert examples and verb in shlex.split(examples[0][0]), verb
        for line, why in examples:
            assert why
            words = shlex.split(line)
            assert words[0] == "envsnap"
            argv = words[1:]
            try:
                build_parser(argv, every=True).parse_args(argv)
            except SystemExit as exc:
                pytest.fail(f"the example `{line}` of {verb} does not parse (exit {exc.code})")


@pytest.mark.parametrize("columns", ["20", "80", "300"])
def test_version_is_one_line_whatever_the_terminal_width(columns: str) -> None:
    result = envsnap("--version", env={**os.environ, "COLUMNS": columns})
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    assert lines[0].startswith("envsnap ") and "(Python " in lines[0]


def test_version_names_the_interpreter_that_runs_it() -> None:
    assert sys.executable in version_line()


def test_the_man_page_is_generated_and_current() -> None:
    generated = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen-man"), "--stdout"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert (REPO / "docs" / "envsnap.1").read_text() == generated, (
        "docs/envsnap.1 is stale: run scripts/gen-man"
    )
    for verb in COMMANDS:
        assert f"envsnap {verb}".replace("-", "\\-") in generated, verb


def test_the_man_page_renders() -> None:
    from tests.conftest import require_tool

    man = require_tool("man")
    result = subprocess.run(
        [man, "-l", str(REPO / "docs" / "envsnap.1")],
        capture_output=True,
        text=True,
        env={"MANWIDTH": "100", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "EXIT STATUS" in result.stdout and "envsnap verify" in result.stdout
