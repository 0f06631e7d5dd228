"""A module from a real module cache: a file proxy (GOPROXY=file://…) in the proxy protocol's
layout, a private GOMODCACHE filled from it by go itself, and no GOPATH of the user's.

The module's name has upper-case letters, so the cache spells it escaped (``!cgo!dep``), as go's
module cache does on every file system.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEP = "example.com/CgoDep"
DEP_ESCAPED = "example.com/!cgo!dep"
VERSION = "v1.0.0"
DEP_PACKAGE = """package cgodep

// #cgo LDFLAGS: -lm
// #include <math.h>
import "C"

func Hypot(x, y float64) float64 { return float64(C.hypot(C.double(x), C.double(y))) }
"""
MAIN = f"""package main

import "{DEP}"

func main() {{ _ = cgodep.Hypot(3, 4) }}
"""


@dataclass(frozen=True)
class CachedDep:
    module: Path  # the main module, requiring DEP
    env: dict[str, str]  # GOPROXY=off: go reads only the module cache
    proxy: str  # GOPROXY=file://… that serves DEP

    @property
    def cache(self) -> Path:
        return Path(self.env["GOMODCACHE"])

    def download(self) -> dict[str, str]:
        """DEP fetched into the module cache from the file proxy; where go put it."""
        return download(self.env, self.proxy, self.module)

    def remove(self) -> None:
        remove(self.cache)


def download(env: Mapping[str, str], proxy: str, cwd: Path) -> dict[str, str]:
    """``go mod download -json`` of DEP from *proxy*: where go put it, and its go.sum hashes."""
    env = {**env, "GOPROXY": proxy, "GOWORK": "off", "GOFLAGS": "-mod=mod"}
    found: dict[str, str] = json.loads(
        go(["mod", "download", "-json", f"{DEP}@{VERSION}"], env, cwd)
    )
    return found


def remove(cache: Path) -> None:
    """Take DEP out of the module cache *cache*: its extracted files and its downloads."""
    for path in (cache / f"{DEP_ESCAPED}@{VERSION}", cache / "cache" / "download" / DEP_ESCAPED):
        if path.exists():
            make_writable(path)
            shutil.rmtree(path)


def go_sum(said: Mapping[str, str]) -> str:
    """The go.sum lines of DEP, from what ``go mod download -json`` said."""
    return f"{DEP} {VERSION} {said['Sum']}\n{DEP} {VERSION}/go.mod {said['GoModSum']}\n"


def dep_proxy(root: Path) -> str:
    """GOPROXY=file://ROOT serving DEP, a module with one cgo package."""
    return file_proxy(root, {"go.mod": f"module {DEP}\n\ngo 1.21\n", "cgodep.go": DEP_PACKAGE})


def go(argv: list[str], env: Mapping[str, str], cwd: Path) -> str:
    found = shutil.which("go", path=env.get("PATH"))
    assert found is not None
    proc = subprocess.run([found, *argv], env=dict(env), cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def make_writable(path: Path) -> None:
    """The module cache is read-only, as go leaves it."""
    for top, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            entry = Path(top, name)
            if not entry.is_symlink():
                entry.chmod(entry.stat().st_mode | stat.S_IWUSR)
    path.chmod(path.stat().st_mode | stat.S_IWUSR)


def file_proxy(root: Path, files: Mapping[str, str]) -> str:
    """GOPROXY=file://ROOT serving DEP at VERSION with *files* (go.mod included)."""
    versions = root / DEP_ESCAPED / "@v"
    versions.mkdir(parents=True)
    (versions / "list").write_text(f"{VERSION}\n")
    (versions / f"{VERSION}.info").write_text(json.dumps({"Version": VERSION}))
    (versions / f"{VERSION}.mod").write_text(files["go.mod"])
    with zipfile.ZipFile(versions / f"{VERSION}.zip", "w") as archive:
        for name, text in files.items():
            archive.writestr(f"{DEP}@{VERSION}/{name}", text)
    return f"file://{root}"


def cached_dep(tmp_path: Path, base_env: Mapping[str, str], *, download: bool = True) -> CachedDep:
    """A main module requiring DEP, with go.sum, and (with *download*) DEP in the cache."""
    proxy = dep_proxy(tmp_path / "proxy")
    module = tmp_path / "mod"
    module.mkdir()
    (module / "go.mod").write_text(f"module example.com/m\n\ngo 1.21\n\nrequire {DEP} {VERSION}\n")
    (module / "main.go").write_text(MAIN)
    env = {
        **base_env,
        "GOMODCACHE": str(tmp_path / "modcache"),
        "GOPATH": str(tmp_path / "gopath"),
        "GOFLAGS": "-mod=mod",
        "GOSUMDB": "off",
        "GOPROXY": "off",
    }
    dep = CachedDep(module, env, proxy)
    (module / "go.sum").write_text(go_sum(dep.download()))
    if not download:
        dep.remove()
    return dep
