"""The README's two commands, copied literally, on a fresh setup: a new HOME, no virtualenv, the
system's python3 and a PATH with nothing but the system's directories."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.conftest import REPO, require_tool

SKIP = shutil.ignore_patterns(
    ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"
)


def readme_commands() -> list[str]:
    """The `$ ` lines of the README's first console block."""
    text = (REPO / "README.md").read_text()
    block = re.search(r"```console\n(.*?)```", text, re.DOTALL)
    assert block is not None
    return [line[2:] for line in block[1].splitlines() if line.startswith("$ ")]


def test_the_readme_commands_lock_and_verify_the_example(tmp_path: Path) -> None:
    """...in a git clone of the repository, which they leave as it was (`git status` clean)."""
    for tool in ("gcc", "pkg-config", "bash", "git"):
        require_tool(tool)
    first, second = readme_commands()
    assert "examples/zlib" in first and "lock" in first and "verify" in second
    demo = re.search(r"envsnap lock -C (\S+)", first)
    assert demo is not None and f"-C {demo[1]}" in second
    clone = tmp_path / "envsnap"
    shutil.copytree(REPO, clone, ignore=SKIP)
    target = tmp_path / "zlib-demo"
    first, second = (c.replace(demo[1], str(target)) for c in (first, second))
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    setup = "git init -q && git add -A && git -c user.name=a -c user.email=a@b commit -qm clone"
    script = f"set -e\n{setup}\n{first}\n{second}\ngit status --porcelain\n"
    result = subprocess.run(
        ["bash", "-c", script], cwd=clone, env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (target / "envsnap.lock").is_file()
    assert "matches envsnap.lock" in result.stdout
    status = result.stdout.split("matches envsnap.lock", 1)[1].strip()
    assert status == "", f"the README's commands changed the clone:\n{status}"


RECORDING = REPO / "tests" / "fixtures" / "recordings" / "debian12-amd64-zlib-example"


def test_the_committed_example_lock_verifies_clean_on_the_machine_that_wrote_it() -> None:
    """The committed lock against a recording of its writer: no dependence on this host's point
    releases (a zlib security update here is real drift, not a broken example)."""
    from tests.conftest import envsnap

    example = REPO / "examples" / "zlib"
    result = envsnap("--replay", str(RECORDING), "verify", "--strict", "-C", str(example))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "matches envsnap.lock" in result.stdout


def test_the_recording_of_the_writer_still_sees_a_changed_library(tmp_path: Path) -> None:
    """The replay is no rubber stamp: the same recording with zlib's file hash changed drifts."""
    from tests.conftest import envsnap

    recording = tmp_path / "recording"
    shutil.copytree(RECORDING, recording)
    host = recording / "host.json"
    manifest = json.loads(host.read_text())
    libz = next(path for path in manifest["digests"] if "/libz.so." in path)
    manifest["digests"][libz] = "sha256:" + "0" * 64
    host.write_text(json.dumps(manifest))
    example = REPO / "examples" / "zlib"
    result = envsnap("--replay", str(recording), "verify", "-C", str(example))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "zlib" in result.stdout


def test_a_fresh_lock_of_the_example_verifies_clean_on_this_machine(tmp_path: Path) -> None:
    require_tool("go")
    from tests.conftest import envsnap

    example = tmp_path / "zlib"
    shutil.copytree(REPO / "examples" / "zlib", example, ignore=SKIP)
    env = {k: v for k, v in os.environ.items() if k != "GOFLAGS"}  # as a user's shell has it
    locked = envsnap("lock", "-C", str(example), env=env)
    assert locked.returncode == 0, locked.stdout + locked.stderr
    result = envsnap("verify", "--strict", "-C", str(example), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
