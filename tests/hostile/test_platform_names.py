"""A go that reports a GOOS or GOARCH that is no platform name never makes a lock key."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import envsnap, require_tool

REAL_GO_WRAPPER = """#!/bin/sh
if [ "$1" = env ]; then
    "{go}" "$@" | sed 's|"{name}": "[^"]*"|"{name}": "{value}"|'
    exit 0
fi
exec "{go}" "$@"
"""


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GOOS", "../../etc"),
        ("GOOS", "Linux"),
        ("GOARCH", "amd64 x"),
        ("GOARCH", ""),
        ("GOOS", "a" * 40),
    ],
)
def test_a_garbage_platform_is_refused(
    cgo_module: Path, tmp_path: Path, name: str, value: str
) -> None:
    go = shutil.which("go")
    require_tool("sed")
    assert go is not None
    real = Path(go).resolve()
    fake_dir = tmp_path / "fake"
    fake_dir.mkdir()
    fake = fake_dir / "go"
    fake.write_text(REAL_GO_WRAPPER.format(go=real, name=name, value=value))
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake_dir}{os.pathsep}{os.environ['PATH']}"}
    result = envsnap("lock", "-C", str(cgo_module), env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and name in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (cgo_module / "envsnap.lock").exists()


def test_every_platform_go_knows_is_a_platform_word() -> None:
    """The platform-word check is held against Go's own list (`go tool dist list`)."""
    import subprocess

    from envsnap.probes.collect import check_platform

    require_tool("go")
    listed = subprocess.run(["go", "tool", "dist", "list"], capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    pairs = [line.split("/") for line in listed.stdout.split()]
    assert len(pairs) > 30 and ["linux", "amd64"] in pairs and ["darwin", "arm64"] in pairs
    for goos, goarch in pairs:
        check_platform({"GOOS": goos, "GOARCH": goarch})  # raises for a word it refuses
