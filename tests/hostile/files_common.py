"""Helpers of the tests of hostile files envsnap reads (tests/hostile/test_files_*.py)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from envsnap.cli import main
from tests.conftest import RECORDINGS

MAC = RECORDINGS / "macos14-arm64-clt-brew-openssl"
GO_MOD = "module example.com/app\n\ngo 1.22\n"
# The commands that read the lock, each run on the module; `show` reads only envsnap.toml.
LOCK_READERS = (("verify",), ("diff",), ("emit", "--direnv"), ("lock", "--check"))
HANG_SECONDS = 20  # a command still running after this long is hung on the file


def replay_module(root: Path, locked: bool = True) -> Path:
    """A module locked on the recorded Mac (no real tool runs, no cache is used)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "go.mod").write_text(GO_MOD)
    if locked:
        env = {**os.environ, "ENVSNAP_NO_CACHE": "1"}
        done = subprocess.run(
            [sys.executable, "-m", "envsnap", "--replay", str(MAC), "lock", "-C", str(root)],
            capture_output=True,
            env=env,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    return root


def errors_of(stderr: str) -> list[str]:
    """The lines of *stderr* that are not warnings or notes."""
    skipped = ("envsnap: warning:", "envsnap: note:")
    return [line for line in stderr.splitlines() if not line.startswith(skipped)]


def assert_one_line_refusal(code: int, stderr: str, *words: str) -> None:
    """Exit 2 with exactly one error line, `envsnap: ...` with a hint, naming *words*."""
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    lines = errors_of(stderr)
    assert (code, len(lines)) == (2, 1), stderr
    assert lines[0].startswith("envsnap: ") and lines[0].endswith(")"), lines[0]
    for word in words:
        assert word in lines[0], lines[0]


def run_inside(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """``envsnap ARGV`` in this process: its exit code and stderr."""
    code = main(list(argv))
    return code, capsys.readouterr().err


MEMORY_CAP = 1024**3  # a child reading /dev/zero fails here instead of calling the OOM killer


def cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_child(*argv: str, timeout: float = HANG_SECONDS) -> tuple[int, str]:
    """``envsnap ARGV`` in a child with at most 1 GiB of memory; a hang past *timeout* fails
    the test."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "envsnap", *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            preexec_fn=cap_memory,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"envsnap {' '.join(argv)} hung for {timeout}s")
    return done.returncode, done.stderr


def plant(path: Path, kind: str) -> None:
    """Put a hostile *kind* of file at *path*: fifo, dir, zero (a symlink to /dev/zero), loop."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dir":
        path.mkdir()
    elif kind == "zero":
        path.symlink_to("/dev/zero")
    elif kind == "loop":
        path.symlink_to(path.name)
    else:
        raise ValueError(kind)


SPECIAL_KINDS = ("fifo", "dir", "zero", "loop")
