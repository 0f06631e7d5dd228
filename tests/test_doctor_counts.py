"""doctor counts what verify counts: on incomplete locks (written with ``--allow-incomplete``
while a tool was missing, or while a probe failed on a recorded Mac), doctor's lock check
names as many errors and warnings as ``envsnap verify`` prints for the same lock on the same
machine (a drift re-checked against the real link, as verify re-checks it)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import RECORDINGS, envsnap, require_tool


def verify_counts(*args: str, env: dict[str, str] | None = None) -> tuple[int, int]:
    result = envsnap(*args, "verify", "--json", env=env)
    summary = json.loads(result.stdout)["summary"]
    return summary["error"], summary["warning"]


def doctor_counts(*args: str, env: dict[str, str] | None = None) -> tuple[int, int]:
    """The errors and warnings doctor's lock check says verify finds (its summary line)."""
    result = envsnap(*args, "doctor", "--json", env=env)
    (check,) = [c for c in json.loads(result.stdout)["checks"] if c["id"] == "lock.verify"]
    said = check["summary"]

    def count(word: str) -> int:
        found = re.search(rf"(\d+) {word}", said)
        return int(found.group(1)) if found else 0

    return count("error"), count("warning")


def incomplete_lock(*args: str, env: dict[str, str] | None = None) -> None:
    result = envsnap(*args, "lock", "--allow-incomplete", env=env)
    assert result.returncode == 0, result.stderr


def without_tools(tmp_path: Path) -> str:
    """A PATH with go, the compiler and pkg-config, and no linker or assembler."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    goroot = subprocess.run(
        [require_tool("go"), "env", "GOROOT"], capture_output=True, text=True, check=True
    ).stdout.strip()
    (bin_dir / "go").symlink_to(Path(goroot, "bin", "go"))
    for tool in ("gcc", "pkg-config"):
        (bin_dir / tool).symlink_to(require_tool(tool))
    return str(bin_dir)


def test_doctor_counts_verifys_errors_on_incomplete_locks_here(
    cgo_module: Path, tmp_path: Path
) -> None:
    module = ["-C", str(cgo_module)]
    no_linker = {**os.environ, "PATH": without_tools(tmp_path), "CC": "gcc"}
    incomplete_lock(*module, env=no_linker)
    assert "incomplete" in (cgo_module / "envsnap.lock").read_text()
    no_compiler = {**os.environ, "CC": "nosuchcc"}
    checked = 0
    for env in (no_linker, os.environ.copy(), no_compiler):
        assert doctor_counts(*module, env=env) == verify_counts(*module, env=env)
        checked += 1
    (cgo_module / "envsnap.lock").unlink()
    incomplete_lock(*module, env=no_compiler)
    assert "incomplete" in (cgo_module / "envsnap.lock").read_text()
    for env in (no_compiler, os.environ.copy(), no_linker):
        assert doctor_counts(*module, env=env) == verify_counts(*module, env=env)
        checked += 1
    assert checked == 6


@pytest.mark.parametrize(
    ("locked_on", "verified_on"),
    [
        ("macos15.7-arm64-clt16.4", "macos15.7-arm64-clt16.4"),
        ("macos15.7-arm64-clt16.4", "macos26.3-arm64-clt26.6"),
        ("macos14-arm64-clt-missing", "macos14-arm64-clt-missing"),
        ("macos14-arm64-clt-missing", "macos14-arm64-clt-zlib"),
    ],
)
def test_doctor_counts_verifys_errors_on_incomplete_locks_of_replays(
    tmp_path: Path, locked_on: str, verified_on: str
) -> None:
    (tmp_path / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    incomplete_lock("--replay", str(RECORDINGS / locked_on), "-C", str(tmp_path))
    replay = ("--replay", str(RECORDINGS / verified_on), "-C", str(tmp_path))
    assert doctor_counts(*replay) == verify_counts(*replay)
