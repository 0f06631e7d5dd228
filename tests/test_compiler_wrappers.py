"""The compiler locked is the compiler that runs, seen through ccache (real ccache, real gcc)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LIBM_PACKAGE, envsnap, require_tool, write_module


def sha256(path: str) -> str:
    return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()


def first_line(argv: list[str]) -> str:
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return out.splitlines()[0].strip()


def locked_compiler(module: Path) -> dict[str, Any]:
    lock = tomllib.loads((module / "envsnap.lock").read_text())
    entry = next(iter(lock["platforms"].values()))
    compiler: dict[str, Any] = entry["cc"]["compiler"]
    return compiler


@pytest.fixture
def module(tmp_path: Path) -> Path:
    for tool in ("go", "gcc", "ccache", "clang"):
        require_tool(tool)
    return write_module(tmp_path / "mod", {"mm/mm.go": LIBM_PACKAGE})


@pytest.fixture
def own_gcc(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A `gcc` of the test's own on PATH (a link to the real one, re-pointable)."""
    gcc = linked_first_on_path(tmp_path / "bin", os.path.realpath(require_tool("gcc")))
    return gcc, ccache_environment(tmp_path, gcc.parent)


def linked_first_on_path(bin_dir: Path, target: str) -> Path:
    bin_dir.mkdir()
    link = bin_dir / "gcc"
    link.symlink_to(target)
    return link


def ccache_environment(tmp_path: Path, first: Path) -> dict[str, str]:
    """*first* ahead of PATH, and a ccache directory of the test's own."""
    return {
        **os.environ,
        "PATH": f"{first}:{os.environ['PATH']}",
        "CCACHE_DIR": str(tmp_path / "ccache"),
    }


def test_ccache_gcc_locks_gcc_and_names_ccache(
    module: Path, own_gcc: tuple[Path, dict[str, str]]
) -> None:
    gcc, env = own_gcc
    env = {**env, "CC": "ccache gcc"}
    assert envsnap("lock", "-C", str(module), env=env).returncode == 0
    compiler = locked_compiler(module)
    real = os.path.realpath(gcc)
    assert compiler["command"] == "ccache gcc"
    assert (compiler["path"], compiler["realpath"]) == (str(gcc), real)
    assert compiler["sha256"] == sha256(real)
    assert compiler["version"] == first_line([str(gcc), "--version"])
    assert compiler["wrapper"] == shutil.which("ccache")
    assert compiler["wrapper_version"] == first_line(["ccache", "--version"])
    # the build really goes through ccache: its statistics count the compilations
    subprocess.run(["go", "build", "-a", "./..."], cwd=module, env=env, check=True)
    stats = subprocess.run(["ccache", "-s"], env=env, capture_output=True, text=True).stdout
    assert "Cacheable calls" in stats or "cache miss" in stats


def test_a_changed_gcc_under_ccache_is_a_finding(
    module: Path, own_gcc: tuple[Path, dict[str, str]]
) -> None:
    gcc, env = own_gcc
    env = {**env, "CC": "ccache gcc"}
    assert envsnap("lock", "-C", str(module), env=env).returncode == 0
    assert envsnap("verify", "-C", str(module), env=env).returncode == 0
    gcc.unlink()
    gcc.symlink_to(os.path.realpath(require_tool("clang")))
    for cache in ("0", "1"):
        result = envsnap(
            "verify", "--json", "-C", str(module), env={**env, "ENVSNAP_NO_CACHE": cache}
        )
        document = json.loads(result.stdout)
        ids = [f["id"] for f in document["findings"]]
        assert result.returncode == 1, result.stdout
        assert any(i.startswith("cc.compiler.") for i in ids), ids


def test_a_ccache_masquerading_as_gcc_is_seen_through(module: Path, tmp_path: Path) -> None:
    masquerade = linked_first_on_path(tmp_path / "ccache-links", require_tool("ccache")).parent
    env = ccache_environment(tmp_path, masquerade)
    assert envsnap("lock", "-C", str(module), env=env).returncode == 0
    compiler = locked_compiler(module)
    real_gcc = shutil.which("gcc")  # without the masquerade directory
    assert real_gcc is not None
    assert compiler["path"] == real_gcc and compiler["sha256"] == sha256(os.path.realpath(real_gcc))
    assert compiler["wrapper"] == str(masquerade / "gcc")


CXX_PACKAGE = """package cx

// #cgo CXXFLAGS: -std=c++17
// #cgo LDFLAGS: -lstdc++
// int twice(int);
import "C"

func Twice(x int) int { return int(C.twice(C.int(x))) }
"""


def test_a_cxx_package_locks_the_cxx_compiler_and_its_flags(tmp_path: Path) -> None:
    for tool in ("go", "gcc", "g++"):
        require_tool(tool)
    module = write_module(
        tmp_path / "mod",
        {"cx/cx.go": CXX_PACKAGE, "cx/twice.cc": 'extern "C" int twice(int x) { return 2 * x; }\n'},
    )
    subprocess.run(["go", "build", "./..."], cwd=module, check=True)
    assert envsnap("lock", "-C", str(module)).returncode == 0
    lock = tomllib.loads((module / "envsnap.lock").read_text())
    entry = next(iter(lock["platforms"].values()))
    gxx = shutil.which("g++")
    assert gxx is not None
    cxx = entry["cc"]["cxx"]
    assert (cxx["command"], cxx["path"]) == ("g++", gxx)
    assert cxx["version"] == first_line([gxx, "--version"])
    assert cxx["sha256"] == sha256(os.path.realpath(gxx))
    (package,) = entry["cgo"]["packages"]
    assert package["cxx"] is True and package["cxxflags"] == ["-std=c++17"]
    assert envsnap("verify", "-C", str(module)).returncode == 0
