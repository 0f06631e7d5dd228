"""Shell completion: the script `envsnap completion bash` prints, sourced in a real bash."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import envsnap, require_tool

COMPLETE = """
source <(envsnap completion bash)
complete -p envsnap
ask() {{  # the words so far; bash's own variables, as readline sets them on TAB
    COMP_LINE="$1"; COMP_POINT=${{#COMP_LINE}}
    read -r -a COMP_WORDS <<< "$1"
    [[ "$1" == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
    COMPREPLY=()
    _python_argcomplete envsnap
    printf '%s|' "${{COMPREPLY[@]}}"; echo
}}
{asks}
"""


def completions(*lines: str) -> list[list[str]]:
    require_tool("bash")
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "envsnap").exists():
        pytest.fail("the envsnap console script is not installed beside this python")
    script = COMPLETE.format(asks="\n".join(f"ask '{line}'" for line in lines))
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    out = subprocess.run(
        ["bash", "--norc", "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    first, *answers = out.stdout.splitlines()
    assert first.startswith("complete ") and first.endswith(" envsnap")  # registered for envsnap
    return [[word.strip() for word in a.split("|") if word] for a in answers]


def test_bash_completes_verbs_and_options() -> None:
    verb, options, shells = completions("envsnap em", "envsnap emit --", "envsnap completion ")
    assert verb == ["emit"]
    for option in ("--nix", "--flake", "--direnv", "--stdout", "--force", "--help"):
        assert option in options
    assert "--strict" not in options  # verify's, not emit's
    assert sorted(s for s in shells if not s.startswith("-")) == ["bash", "fish", "zsh"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_every_shell_gets_a_script_naming_envsnap(shell: str) -> None:
    result = envsnap("completion", shell)
    assert result.returncode == 0 and "envsnap" in result.stdout and "_ARGCOMPLETE" in result.stdout


def test_an_unknown_shell_is_a_usage_error() -> None:
    result = envsnap("completion", "tcsh")
    assert result.returncode == 2 and "invalid choice" in result.stderr
