"""Nothing in a lock depends on where a teammate cloned the repository or keeps Go's module cache.

A module depends, through the module cache (filled offline from a ``file://`` GOPROXY), on a
cgo module that uses ``${SRCDIR}``, a relative ``-I`` and a static library of its own. It is
locked in one checkout and verified, cached and uncached, from a second clone at another path,
through a symlink, with another GOMODCACHE and another HOME.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.conftest import envsnap, require_tool, write_module

DEP = "example.com/cgodep"
DEP_SOURCE = """package cgodep

// #cgo CFLAGS: -I${SRCDIR}/include -I./include
// #cgo LDFLAGS: -L${SRCDIR}/lib -ldep
// #include "dep.h"
import "C"

func Answer() int { return int(C.dep_answer()) }
"""


def _proxy(tmp_path: Path) -> Path:
    """A file GOPROXY serving DEP v1.0.0, with a real static library inside its zip."""
    work = tmp_path / "dep-build"
    work.mkdir()
    (work / "dep.c").write_text("int dep_answer(void) { return 42; }\n")
    subprocess.run(["gcc", "-c", "-o", "dep.o", "dep.c"], cwd=work, check=True)
    subprocess.run(["ar", "rcD", "libdep.a", "dep.o"], cwd=work, check=True)
    files = {
        "go.mod": f"module {DEP}\n\ngo 1.21\n",
        "dep.go": DEP_SOURCE,
        "include/dep.h": "int dep_answer(void);\n",
    }
    proxy = tmp_path / "proxy"
    versions = proxy / DEP / "@v"
    versions.mkdir(parents=True)
    (versions / "list").write_text("v1.0.0\n")
    (versions / "v1.0.0.info").write_text('{"Version":"v1.0.0","Time":"2026-01-01T00:00:00Z"}')
    (versions / "v1.0.0.mod").write_text(files["go.mod"])
    with zipfile.ZipFile(versions / "v1.0.0.zip", "w") as archive:
        for name, text in files.items():
            archive.writestr(f"{DEP}@v1.0.0/{name}", text)
        archive.write(work / "libdep.a", f"{DEP}@v1.0.0/lib/libdep.a")
    return proxy


def _machine(tmp_path: Path, name: str, proxy: Path) -> dict[str, str]:
    home = tmp_path / f"home-{name}"
    home.mkdir()
    return {
        **os.environ,
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "GOMODCACHE": str(tmp_path / f"modcache-{name}"),
        "GOPROXY": f"file://{proxy}",
        "GOSUMDB": "off",
        "GOFLAGS": "-mod=mod",
    }


def _verify(module: Path, env: dict[str, str], cached: bool) -> dict[str, object]:
    env = {**env, "ENVSNAP_NO_CACHE": "0" if cached else "1"}
    result = envsnap("verify", "--json", "-C", str(module), env=env)
    document: dict[str, object] = json.loads(result.stdout or "{}")
    assert result.returncode == 0 and document["findings"] == [], (result.stdout, result.stderr)
    return document


def test_a_lock_verifies_clean_from_another_clone_cache_and_home(tmp_path: Path) -> None:
    for tool in ("go", "gcc", "ar"):
        require_tool(tool)
    proxy = _proxy(tmp_path)
    main = f'package main\n\nimport "{DEP}"\n\nfunc main() {{ println(cgodep.Answer()) }}\n'
    first = write_module(tmp_path / "alice" / "src" / "app", {"main.go": main})
    alice = _machine(tmp_path, "alice", proxy)
    subprocess.run(["go", "get", f"{DEP}@v1.0.0"], cwd=first, env=alice, check=True)
    subprocess.run(["go", "build", "-o", os.devnull, "."], cwd=first, env=alice, check=True)
    assert envsnap("lock", "-C", str(first), env=alice).returncode == 0
    lock = (first / "envsnap.lock").read_text()
    assert "${GOMODCACHE}/example.com/cgodep@v1.0.0/include" in lock
    assert "${GOMODCACHE}/example.com/cgodep@v1.0.0/lib/libdep.a" in lock
    for private in (str(tmp_path), "modcache-alice"):
        assert private not in lock

    second = tmp_path / "bob" / "work" / "app"
    shutil.copytree(first, second)
    link = tmp_path / "bob-link"
    link.symlink_to(second.parent, target_is_directory=True)
    bob = _machine(tmp_path, "bob", proxy)
    for module in (second, link / "app"):
        for cached in (True, False, True):
            _verify(module, bob, cached)


VENDORED = """package vv

// #cgo CFLAGS: -I${SRCDIR}/include
// #cgo LDFLAGS: -L${SRCDIR}/lib -lvend -lm
import "C"
"""


@pytest.mark.parametrize("via_link", [False, True])
def test_the_lock_written_through_a_symlink_is_the_same(tmp_path: Path, via_link: bool) -> None:
    for tool in ("go", "gcc", "ar"):
        require_tool(tool)
    real = write_module(tmp_path / "real" / "mod", {"vv/vv.go": VENDORED, "vv/include/v.h": ""})
    (real / "vv" / "lib").mkdir()
    (real / "vv" / "v.c").write_text("int vend(void) { return 1; }\n")
    subprocess.run(["gcc", "-c", "-o", "lib/v.o", "v.c"], cwd=real / "vv", check=True)
    subprocess.run(["ar", "rcD", "lib/libvend.a", "lib/v.o"], cwd=real / "vv", check=True)
    (real / "vv" / "v.c").unlink()
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    where = tmp_path / "link" / "mod" if via_link else real
    assert envsnap("lock", "-C", str(where)).returncode == 0
    lock = (real / "envsnap.lock").read_text()
    assert "${MODULE}/vv/lib/libvend.a" in lock and str(tmp_path) not in lock
    for module in (real, tmp_path / "link" / "mod"):
        for cached in (True, False):
            _verify(module, dict(os.environ), cached)
