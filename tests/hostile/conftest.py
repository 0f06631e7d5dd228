"""Fake tools for the hostile cases: shell scripts in a bin dir put first on PATH.

Each fake misbehaves for the arguments a case names and runs the real tool otherwise, so the
rest of envsnap's probes see a working machine.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import envsnap, require_tool


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


class Tools:
    """A bin dir of fake tools and the environment that puts it first on PATH."""

    def __init__(self, root: Path) -> None:
        self.bin = root / "fake-bin"
        self.bin.mkdir()
        self.env = {**os.environ, "PATH": f"{self.bin}:{os.environ['PATH']}"}

    def fake(self, name: str, when: str, body: str) -> Path:
        """``name``: *body* when the arguments match the shell pattern *when*, else the real
        tool (found on PATH after the fake dir)."""
        real = require_tool(name)
        script = self.bin / name
        script.write_text(f'#!/bin/sh\ncase "$*" in\n  {when}) {body} ;;\nesac\nexec {real} "$@"\n')
        script.chmod(0o755)
        return script

    def envsnap(self, *args: str, limit: float, **env: str) -> Ran:
        """Run envsnap; fail the test if it is still running after *limit* seconds."""
        started = time.monotonic()
        result = envsnap(*args, env={**self.env, **env}, timeout=limit)
        return Ran(result.returncode, result.stdout, result.stderr, time.monotonic() - started)


@pytest.fixture
def tools(tmp_path: Path) -> Tools:
    require_tool("go")
    return Tools(tmp_path)


def assert_reported(
    ran: Ran, *words: str, codes: tuple[int, ...] = (1, 2), in_report: bool = False
) -> str:
    """Exit 1 or 2, no traceback, and a line of stderr (with *in_report*, of the report on
    stdout too) naming *words*; returns that line."""
    assert ran.returncode in codes, (ran.returncode, ran.stderr)
    assert "Traceback" not in ran.stderr and "internal error" not in ran.stderr, ran.stderr
    text = ran.stdout + ran.stderr if in_report else ran.stderr
    lines = [line for line in text.splitlines() if all(w in line for w in words)]
    assert lines, (words, ran.stderr)
    return lines[0]
