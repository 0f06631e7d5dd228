"""`envsnap lock` on this machine, checked against what the real tools print."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, envsnap, require_tool, write_module


def sh(*argv: str, cwd: Path | None = None) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True, cwd=cwd).stdout


def sha256sum(path: str) -> str:
    return "sha256:" + sh("sha256sum", path).split()[0]


def load_entry(module: Path) -> dict[str, Any]:
    doc = tomllib.loads((module / "envsnap.lock").read_text())
    assert doc["schema"] == 1
    (entry,) = doc["platforms"].values()
    assert isinstance(entry, dict)
    return entry


def library(entry: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [lib for lib in entry["libraries"] if lib["name"] == name]
    assert isinstance(found, dict)
    return found


def test_lock_records_what_the_real_tools_print(cgo_module: Path) -> None:
    result = envsnap("lock", "-C", str(cgo_module))
    assert result.returncode == 0, result.stderr
    entry = load_entry(cgo_module)

    zlib = library(entry, "zlib")
    assert zlib["version"] == sh("pkg-config", "--modversion", "zlib").strip()
    libz = os.path.realpath(sh("gcc", "-print-file-name=libz.so").strip())
    assert zlib["files"] == [{"path": libz, "sha256": sha256sum(libz)}]
    assert zlib["used_by"] == ["example.com/m/zz"]

    libm = library(entry, "m")
    script = os.path.realpath(sh("gcc", "-print-file-name=libm.so").strip())
    libm6 = os.path.realpath(sh("gcc", "-print-file-name=libm.so.6").strip())
    recorded = {f["path"]: f["sha256"] for f in libm["files"]}
    assert recorded[script] == sha256sum(script)
    assert recorded[libm6] == sha256sum(libm6)  # the code behind glibc's ld script

    assert entry["go"]["version"] == sh("go", "version").split()[2]
    gcc = shutil.which("gcc")
    assert entry["cc"]["compiler"]["path"] == gcc
    assert entry["cc"]["compiler"]["realpath"] == os.path.realpath(str(gcc))
    assert entry["cc"]["compiler"]["version"] == sh("gcc", "--version").splitlines()[0]
    assert entry["cc"]["linker"]["version"] == sh("ld", "--version").splitlines()[0]
    os_release = dict(
        line.split("=", 1)
        for line in Path("/etc/os-release").read_text().splitlines()
        if "=" in line
    )
    assert entry["os"]["id"] == os_release["ID"].strip('"')
    assert entry["os"]["version_id"] == os_release["VERSION_ID"].strip('"')
    ldd = subprocess.run(["ldd", "--version"], capture_output=True, text=True, check=False).stdout
    assert entry["os"]["glibc"] == ldd.splitlines()[0].split()[-1]


def test_lock_twice_changes_no_byte_and_check_passes(cgo_module: Path) -> None:
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    first = (cgo_module / "envsnap.lock").read_bytes()
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    assert (cgo_module / "envsnap.lock").read_bytes() == first
    check = envsnap("lock", "--check", "-C", str(cgo_module))
    assert check.returncode == 0, check.stderr


def test_lock_check_exits_1_and_writes_nothing_when_the_lock_would_change(
    cgo_module: Path,
) -> None:
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    before = (cgo_module / "envsnap.lock").read_bytes()
    env = {**os.environ, "PKG_CONFIG_PATH": "/opt/elsewhere/pkgconfig"}
    check = envsnap("lock", "--check", "-C", str(cgo_module), env=env)
    assert check.returncode == 1
    assert "would change" in check.stderr
    assert (cgo_module / "envsnap.lock").read_bytes() == before


def test_lock_has_no_home_paths_or_timestamps(cgo_module: Path, isolated_home: Path) -> None:
    env = {**os.environ, "PKG_CONFIG_PATH": f"{isolated_home}/lib/pkgconfig"}
    assert envsnap("lock", "-C", str(cgo_module), env=env).returncode == 0
    text = (cgo_module / "envsnap.lock").read_text()
    assert str(isolated_home) not in text
    assert str(cgo_module) not in text
    assert load_entry(cgo_module)["env"]["PKG_CONFIG_PATH"] == "~/lib/pkgconfig"


@pytest.mark.slow
def test_readme_first_command_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    """`pip install . && envsnap lock -C examples/zlib`, in a new venv, on a copy of the repo."""
    require_tool("go")
    require_tool("pkg-config")
    repo = tmp_path / "repo"
    shutil.copytree(
        REPO, repo, ignore=shutil.ignore_patterns(".venv", ".git", "*.lock", "__pycache__")
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [
        str(venv / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
    ]
    subprocess.run([*pip, "."], cwd=repo, check=True, timeout=600)
    lock_cmd = [str(venv / "bin" / "envsnap"), "lock", "-C", "examples/zlib"]
    subprocess.run(lock_cmd, cwd=repo, check=True, timeout=120)
    lock = repo / "examples" / "zlib" / "envsnap.lock"
    first = lock.read_bytes()
    assert b"[platforms." in first
    subprocess.run(lock_cmd, cwd=repo, check=True, timeout=120)
    assert lock.read_bytes() == first
    subprocess.run([*lock_cmd, "--check"], cwd=repo, check=True, timeout=120)
    # the installed wheel carries its data files: the nixpkgs tables and the .envrc template
    for flag in ("--nix", "--direnv"):
        emitted = subprocess.run(
            [str(venv / "bin" / "envsnap"), "emit", flag, "--stdout", "-C", "examples/zlib"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        )
        assert "envsnap:generated" in emitted.stdout


@pytest.fixture
def plain_module(tmp_path: Path) -> Path:
    require_tool("go")
    return write_module(tmp_path / "plain", {"p.go": "package p\n"})


def assert_one_line_error(stderr: str, *words: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for word in words:
        assert word in lines[0]


def test_not_in_a_module(tmp_path: Path) -> None:
    result = envsnap("lock", "-C", str(tmp_path))
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "no go.mod", "go mod init")


def test_go_not_on_path(plain_module: Path) -> None:
    env = {**os.environ, "PATH": "/nonexistent"}
    result = envsnap("lock", "-C", str(plain_module), env=env)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "`go` is not on PATH", "install Go")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\xff\xfe garbage \x00", ("not UTF-8", "git checkout")),
        (b"schema = 1\n[platforms\n", ("not valid TOML", "--force")),
        (b"schema = 7\n", ("newer envsnap", "upgrade")),
        (b"[platforms]\n", ("schema", "restore")),
        (
            b"schema = 1\n<<<<<<< ours\n[platforms.a]\n=======\n[platforms.b]\n>>>>>>> theirs\n",
            ("conflict markers", "envsnap git setup"),
        ),
    ],
)
def test_unusable_lock_is_refused_and_kept(
    plain_module: Path, content: bytes, words: tuple[str, ...]
) -> None:
    (plain_module / "envsnap.lock").write_bytes(content)
    result = envsnap("lock", "-C", str(plain_module))
    assert result.returncode == 2
    assert_one_line_error(result.stderr, *words)
    assert (plain_module / "envsnap.lock").read_bytes() == content


def test_force_replaces_an_unreadable_lock(plain_module: Path) -> None:
    (plain_module / "envsnap.lock").write_bytes(b"\xff not a lock")
    result = envsnap("lock", "--force", "-C", str(plain_module))
    assert result.returncode == 0, result.stderr
    assert tomllib.loads((plain_module / "envsnap.lock").read_text())["schema"] == 1


def test_a_go_that_needs_a_newer_toolchain_is_a_clear_error(tmp_path: Path) -> None:
    require_tool("go")
    module = write_module(tmp_path / "m", {"p.go": "package p\n"})
    (module / "go.mod").write_text("module example.com/m\n\ngo 1.99\n")
    result = envsnap("lock", "-C", str(module))
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "cannot", "go")
    assert not (module / "envsnap.lock").exists()
