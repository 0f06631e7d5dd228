"""argcomplete's variables in the environment of a real command: envsnap answers a completion
request only when a shell's script made it (every variable that script sets, sane, and file
descriptor 8 open); otherwise the command runs and reports as usual. Nothing is ever written
to the file _ARGCOMPLETE_STDOUT_FILENAME names (docs/completion.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from envsnap.lockfile import LOCK_NAME, LockFile, content_of, parse_lock, render, with_entry
from tests.conftest import require_tool
from tests.hostile.files_common import MAC, cap_memory, replay_module
from tests.test_completion import completions

PLATFORM = "darwin-arm64"
LINE = "envsnap verify"
BASH_REQUEST = {  # what the script `envsnap completion bash` prints sets on TAB
    "_ARGCOMPLETE": "1",
    "_ARGCOMPLETE_SHELL": "bash",
    "_ARGCOMPLETE_SUPPRESS_SPACE": "0",
    "_ARGCOMPLETE_COMP_WORDBREAKS": "\"'><=;|&(:",
    "COMP_LINE": LINE,
    "COMP_POINT": str(len(LINE)),
    "COMP_TYPE": "9",
}
PRECIOUS = "a file the environment names\n"


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str
    answer: str  # what envsnap wrote to file descriptor 8 ("" when it was not open)


@pytest.fixture
def drifted(tmp_path: Path) -> Path:
    """A module whose lock has a CGO_CFLAGS the recorded Mac lacks (an error: exit 1)."""
    module = replay_module(tmp_path / "m")
    lock = module / LOCK_NAME
    content = content_of(parse_lock(lock, lock.read_bytes()).platforms[PLATFORM])
    content["go"]["env"]["CGO_CFLAGS"] = "-O2 -g -DLOCKED"
    lock.write_bytes(render(with_entry(LockFile(lock), PLATFORM, content)))
    return module


def verify(module: Path, env: dict[str, str], fd8: bool = True) -> Ran:
    """``envsnap verify`` on the recorded Mac run by bash with *env* added, file descriptor 8
    open on a file (as the completion scripts do) or closed; 1 GiB of memory at most."""
    answer = module.parent / "fd8"
    answer.write_text("")
    argv = [sys.executable, "-m", "envsnap", "--replay", str(MAC), "verify", "-C", str(module)]
    script = '"$@" 8>"$ANSWER"' if fd8 else '"$@"'
    clean = {k: v for k, v in os.environ.items() if "ARGCOMPLETE" not in k and "COMP_" not in k}
    done = subprocess.run(
        [require_tool("bash"), "-c", script, "bash", *argv],
        capture_output=True,
        text=True,
        env={**clean, **env, "ANSWER": str(answer)},
        timeout=60,
        preexec_fn=cap_memory,
        check=False,
    )
    return Ran(done.returncode, done.stdout, done.stderr, answer.read_text())


def assert_verified(ran: Ran) -> None:
    """The real verify ran and reported the drift; nothing was completed."""
    assert "Traceback" not in ran.stderr, ran.stderr
    assert ran.returncode == 1, ran.stderr
    assert "-DLOCKED" in ran.stdout
    assert ran.answer == ""


def test_a_stray_argcomplete_runs_the_command(drifted: Path) -> None:
    ran = verify(drifted, {"_ARGCOMPLETE": "1"})
    assert_verified(ran)
    warning = "envsnap: warning: _ARGCOMPLETE is set but this is no shell's completion request"
    assert ran.stderr.startswith(warning), ran.stderr


def test_comp_line_alone_does_not_turn_a_drift_into_exit_0(drifted: Path) -> None:
    ran = verify(drifted, {"_ARGCOMPLETE": "1", "COMP_LINE": LINE, "COMP_POINT": "14"})
    assert_verified(ran)
    assert "_ARGCOMPLETE_SHELL is not bash, zsh or fish" in ran.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("_ARGCOMPLETE", "x"),
        ("_ARGCOMPLETE_SHELL", "powershell"),
        ("COMP_POINT", "-1"),
        ("COMP_POINT", str(len(LINE) + 1)),
        ("_ARGCOMPLETE_SUPPRESS_SPACE", "yes"),
        ("COMP_TYPE", None),
        ("_ARGCOMPLETE_COMP_WORDBREAKS", None),
    ],
)
def test_a_request_short_of_a_variable_or_with_an_insane_one_runs_the_command(
    drifted: Path, name: str, value: str | None
) -> None:
    env = {k: v for k, v in BASH_REQUEST.items() if k != name}
    ran = verify(drifted, env if value is None else {**env, name: value})
    assert_verified(ran)
    assert name in ran.stderr


def test_a_request_without_descriptor_8_runs_the_command(drifted: Path) -> None:
    ran = verify(drifted, BASH_REQUEST, fd8=False)
    assert_verified(ran)
    assert "file descriptor 8 is not open for writing" in ran.stderr


def test_the_file_the_environment_names_is_never_written(drifted: Path, tmp_path: Path) -> None:
    named = tmp_path / "named"
    for env, fd8 in (
        ({"_ARGCOMPLETE": "1", "COMP_LINE": LINE, "COMP_POINT": "14"}, False),
        (BASH_REQUEST, False),
        (BASH_REQUEST, True),
    ):
        named.write_text(PRECIOUS)
        verify(drifted, {**env, "_ARGCOMPLETE_STDOUT_FILENAME": str(named)}, fd8)
        assert named.read_text() == PRECIOUS, env


def test_a_well_formed_request_is_answered_on_descriptor_8(drifted: Path) -> None:
    ran = verify(drifted, BASH_REQUEST)
    assert (ran.returncode, ran.stdout, ran.answer) == (0, "", "verify ")


def test_a_failed_completion_is_not_exit_0(drifted: Path) -> None:
    """argcomplete refuses a separator of two characters: no answer, no command run."""
    ran = verify(drifted, {**BASH_REQUEST, "_ARGCOMPLETE_IFS": "ab"})
    assert ran.returncode != 0
    assert (ran.stdout, ran.answer) == ("", "")


def test_bash_with_argcomplete_tempfiles_still_completes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The script's tempfile mode names a file; the answer on descriptor 8 reaches bash too."""
    monkeypatch.setenv("ARGCOMPLETE_USE_TEMPFILES", "1")
    assert completions("envsnap ver") == [["verify"]]
