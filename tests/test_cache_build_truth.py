"""A verify that says "matches" is a build that uses what the lock names.

For the zlib example and for a module whose cgo dependency comes from the module cache, the
machine goes through a few changes (a linker planted in a ``-B`` directory of CGO_LDFLAGS, the
dependency taken out of the module cache and put back). After each one the cached verify runs,
as a commit hook would; whenever it says "matches", a real ``go build`` with the external
linker's trace on (``-ldflags=-extldflags=-Wl,--trace``, and ``-v`` so the driver and the linker
name themselves; never a link go replays from its cache) must open exactly the locked libraries
(less what a trivial cgo program opens too), through the locked compiler and linker.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import tomllib
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tests.conftest import REPO, envsnap, require_tool, write_module
from tests.modcache import cached_dep
from tests.test_cache_inputs import fake_ld
from tests.test_link_truth import CGO_MAIN

# go keeps a link's output in its build cache and replays it when nothing it knows of changed
# (a linker planted in a -B directory is not among what it knows): a fresh -X makes it link
TRACE = '-ldflags=-X main.truth={nonce} -extldflags "-Wl,--trace -Wl,-v -v"'
LINKER_LINE = re.compile(r"^(GNU ld|GNU gold|LLD|mold) ")


def built(module: Path, env: Mapping[str, str], out: Path, target: str = ".") -> str:
    """What go build's external link printed: the driver's -v, the linker's -v and its trace."""
    go = shutil.which("go", path=env["PATH"])
    assert go is not None
    argv = [go, "build", "-o", str(out), TRACE.format(nonce=uuid.uuid4().hex), target]
    proc = subprocess.run(argv, env=dict(env), cwd=module, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "/go.o" in proc.stdout + proc.stderr, "go did not link"
    return proc.stdout + proc.stderr


def opened(said: str) -> set[str]:
    lines = (line.strip() for line in said.splitlines())
    return {
        os.path.realpath(line)
        for line in lines
        if line.startswith("/") and " " not in line and "/go-link-" not in line
    }


def compiler(said: str, env: Mapping[str, str]) -> str:
    """The driver the link ran, as gcc -v names it (COLLECT_GCC), found as go finds it."""
    (name,) = {
        line.split("=", 1)[1] for line in said.splitlines() if line.startswith("COLLECT_GCC=")
    }
    found = name if name.startswith("/") else shutil.which(name, path=env["PATH"])
    assert found is not None
    return os.path.realpath(found)


def locked_entry(module: Path) -> dict[str, Any]:
    lock = tomllib.loads((module / "envsnap.lock").read_text())
    (entry,) = lock["platforms"].values()
    found: dict[str, Any] = entry
    return found


def the_build_is_the_lock(module: Path, env: Mapping[str, str], common: set[str]) -> None:
    """A real build of *module*'s program opens the locked files, through the locked compiler
    and linker."""
    target = "./cmd/truth" if (module / "cmd" / "truth").is_dir() else "."
    said = built(module, env, module.parent / "truth.bin", target)
    entry = locked_entry(module)
    marks = {"${MODULE}": str(module), "${GOMODCACHE}": env.get("GOMODCACHE", "")}
    locked = set()
    for library in entry["libraries"]:
        for file in library.get("files", []):
            path = file["path"]
            for mark, value in marks.items():
                path = path.replace(mark, value)
            locked.add(os.path.realpath(path))
    files = opened(said)
    assert locked <= files, f"locked but not opened: {locked - files}"
    assert files - common <= locked, f"opened but not locked: {files - common - locked}"
    assert compiler(said, env) == entry["cc"]["compiler"]["realpath"]
    linkers = {line for line in said.splitlines() if LINKER_LINE.match(line)}
    assert linkers == {entry["cc"]["linker"]["version"]}, linkers


def baseline(tmp_path: Path, env: Mapping[str, str]) -> set[str]:
    """What a trivial cgo program makes the linker open."""
    module = write_module(tmp_path / "baseline", {"main.go": CGO_MAIN}, "example.com/baseline")
    return opened(built(module, env, tmp_path / "baseline.bin"))


def says_matches(module: Path, env: Mapping[str, str]) -> bool:
    result = envsnap("verify", "--json", "-C", str(module), env=env)
    assert result.returncode in (0, 1), result.stderr
    return bool(json.loads(result.stdout)["findings"] == [] and result.returncode == 0)


def walk(
    module: Path, env: Mapping[str, str], common: set[str], steps: list[Callable[[], None]]
) -> int:
    """Lock, then after each step a cached verify; every "matches" is held to a real build.
    How many steps said "matches"."""
    locked = envsnap("lock", "-C", str(module), env=env)
    assert locked.returncode == 0, locked.stderr
    matched = 0
    for step in steps:
        step()
        time.sleep(0.2)  # older than the racy window: the caches keep what this verify saw
        if says_matches(module, env):
            matched += 1
            the_build_is_the_lock(module, env, common)
    return matched


def nothing() -> None:
    """A step that changes nothing: the verdict must still say what the build does."""


def test_the_zlib_example(tmp_path: Path) -> None:
    for tool in ("go", "gcc", "pkg-config"):
        require_tool(tool)
    module = tmp_path / "zlib"
    shutil.copytree(REPO / "examples" / "zlib", module)
    (module / "envsnap.lock").unlink()
    program = module / "cmd" / "truth" / "main.go"  # its main.go is a `go run main.go` demo
    program.parent.mkdir(parents=True)
    program.write_text((module / "main.go").read_text().replace("//go:build ignore\n", ""))
    ldbin = tmp_path / "ldbin"
    ldbin.mkdir()
    env = {**os.environ, "CGO_LDFLAGS": f"-O2 -g -B {ldbin}/"}

    def plant() -> None:
        fake_ld(ldbin)

    # matches (from the memo, then the verdict), a planted linker twice, and without it again
    steps = [nothing, nothing, plant, nothing, (ldbin / "ld").unlink, nothing]
    assert walk(module, env, baseline(tmp_path, env), steps) == 4


def test_a_cgo_dependency_from_the_module_cache(tmp_path: Path) -> None:
    for tool in ("go", "gcc"):
        require_tool(tool)
    dep = cached_dep(tmp_path, os.environ)

    def put_back() -> None:
        dep.download()

    steps = [nothing, nothing, dep.remove, nothing, put_back, nothing]
    assert walk(dep.module, dep.env, baseline(tmp_path, dep.env), steps) == 4
