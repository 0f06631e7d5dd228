"""One lock, several platforms: entries kept byte for byte, concurrent writers both land."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from envsnap.lockfile import entry_digest
from tests.conftest import RECORDINGS, envsnap, require_tool, write_module

MAC = RECORDINGS / "macos14-arm64-clt-brew-openssl"
MAC_X86 = RECORDINGS / "macos12-x86_64-clt"


def block(text: str, platform: str) -> str:
    """The text of one platform's entry: every line from its headers up to another platform's."""
    lines, inside = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith("["):
            inside = line.lstrip("[").startswith(f"platforms.{platform}")
        if inside:
            lines.append(line)
    return "".join(lines).rstrip("\n")  # the blank line between entries is not part of one


def test_lock_here_keeps_the_darwin_entry_byte_identical(tmp_path: Path) -> None:
    require_tool("go")
    module = write_module(tmp_path / "m", {"p.go": "package p\n"})
    assert envsnap("--replay", str(MAC), "lock", "-C", str(module)).returncode == 0
    before = (module / "envsnap.lock").read_text()
    darwin = block(before, "darwin-arm64")
    assert "sdk_version" in darwin
    result = envsnap("lock", "-C", str(module))
    assert result.returncode == 0, result.stderr
    after = (module / "envsnap.lock").read_text()
    assert "[platforms.linux-amd64]" in after
    assert block(after, "darwin-arm64") == darwin


def test_concurrent_locks_for_two_platforms_both_land(tmp_path: Path) -> None:
    for round_ in range(5):
        module = write_module(tmp_path / f"m{round_}", {"p.go": "package p\n"})
        argv = [sys.executable, "-m", "envsnap", "--replay"]
        procs = [
            subprocess.Popen([*argv, str(rec), "lock", "-C", str(module)], stderr=subprocess.PIPE)
            for rec in (MAC, MAC_X86)
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
        doc = tomllib.loads((module / "envsnap.lock").read_text())
        assert sorted(doc["platforms"]) == ["darwin-amd64", "darwin-arm64"]
        for entry in doc["platforms"].values():
            assert entry["digest"] == entry_digest(entry)
