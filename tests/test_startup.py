"""``envsnap --version`` and ``--help`` start fast: they import only what they print."""

from __future__ import annotations

import pytest

from envsnap.commands import SUMMARIES
from tests.conftest import envsnap, heavy_imports_of


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["-C", ".", "--help"], ["-h"]])
def test_version_and_help_import_no_command_module_and_nothing_heavy(argv: list[str]) -> None:
    rc, heavy, own = heavy_imports_of(argv)
    assert rc == 0
    assert heavy == []
    assert sorted(m for m in own if m.startswith("envsnap.commands.")) == []
    light = {"envsnap", "envsnap.cli", "envsnap.commands", "envsnap.errors", "envsnap.termsafe"}
    assert own <= light


def test_help_still_lists_every_verb_with_its_summary() -> None:
    result = envsnap("--help")
    assert result.returncode == 0, result.stderr
    for verb, summary in SUMMARIES.items():
        line = next(line for line in result.stdout.splitlines() if line.split()[:1] == [verb])
        assert " ".join(line.split()[1:]) in summary


def test_a_verb_still_gets_its_own_options_in_help() -> None:
    result = envsnap("verify", "--help")
    assert result.returncode == 0, result.stderr
    assert "--allow-missing-platform" in result.stdout


def test_a_typo_in_the_verb_is_a_usage_error_naming_the_choices() -> None:
    result = envsnap("verfy")
    assert result.returncode == 2
    assert "invalid choice: 'verfy'" in result.stderr
    assert "Traceback" not in result.stderr


def test_version_names_envsnap_and_the_python_that_runs_it() -> None:
    import platform
    import sys

    from envsnap import __version__
    from tests.conftest import envsnap

    result = envsnap("--version")
    assert result.returncode == 0
    assert result.stdout == (
        f"envsnap {__version__} (Python {platform.python_version()}, {sys.executable})\n"
    )
