"""One finding per cause on Linux, with real tools, and each fix an action that works here.

A missing archive of the module, a Debian package at another version, a compiler chosen by CC,
tags of another variant in GOFLAGS, one library named twice, a compiler that is not there: each
is one finding (or one error), in words a person uses, and its ``do:`` lines name what to type.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import envsnap, require_tool, unavailable, write_module
from tests.test_causes import lock, verify_json

# The module's own archive, linked by path, next to three system libraries.
ARCHIVE_MAIN = """package a

// #cgo LDFLAGS: {flags} -ldl -lpthread -lrt
// int foo(void);
import "C"

func Foo() int {{ return int(C.foo()) }}
"""


def archive_module(tmp_path: Path, flags: str) -> Path:
    for tool in ("go", "gcc", "ar"):
        require_tool(tool)
    module = write_module(tmp_path / "a", {"a.go": ARCHIVE_MAIN.format(flags=flags)})
    (module / "lib").mkdir()
    (module / "lib" / "foo.c").write_text("int foo(void) { return 1; }\n")
    subprocess.run(["gcc", "-c", "lib/foo.c", "-o", "lib/foo.o"], cwd=module, check=True)
    subprocess.run(["ar", "rcs", "lib/libfoo.a", "lib/foo.o"], cwd=module, check=True)
    return module


@pytest.mark.parametrize("flags", ["${SRCDIR}/lib/libfoo.a", "-L${SRCDIR}/lib -l:libfoo.a"])
def test_a_missing_archive_of_the_module_is_one_missing_finding(tmp_path: Path, flags: str) -> None:
    module = archive_module(tmp_path, flags)
    lock(module)
    (module / "lib" / "libfoo.a").unlink()
    document = verify_json(module)
    (finding,) = document["findings"]
    assert (finding["category"], finding["severity"]) == ("missing", "error")
    assert finding["locked"] == "${MODULE}/lib/libfoo.a" and finding["live"] is None
    assert "is missing" in finding["why"] and "cannot be checked" not in finding["why"]
    assert "envsnap lock" not in finding["fix"]
    assert document["exit_code"] == 1


def recipe_digest(entry: dict[str, Any]) -> str:
    """The entry's digest by the recipe of docs/lock-format.md (as tests/test_lockfile.py)."""
    body = {k: v for k, v in entry.items() if k != "digest"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def edit_lock(path: Path, replacements: dict[str, str]) -> None:
    """The lock as another machine would have written it: *replacements* made, the digests
    computed again."""
    text = path.read_text()
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    for entry in tomllib.loads(text)["platforms"].values():
        text = text.replace(entry["digest"], recipe_digest(entry))
    path.write_text(text)


def dpkg_version(package: str) -> str:
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True
    )
    if out.returncode != 0 or not out.stdout:
        unavailable(f"{package} is not installed by dpkg")
    return out.stdout


# The Debian security update of zlib (DSA-5775-1, bookworm-security): the package version and
# the sha256 of /lib/x86_64-linux-gnu/libz.so.1.2.13 in it, read from the real .deb
# (`apt-get download zlib1g=1:1.2.13.dfsg-1+deb12u1 && dpkg -x zlib1g_*.deb x && sha256sum
# x/lib/x86_64-linux-gnu/libz.so.1.2.13`).
ZLIB_UPDATE = "1:1.2.13.dfsg-1+deb12u1"
ZLIB_UPDATE_LIBZ = "sha256:ace5150912a174a4db94f1f8a92e201ded2cce24b50d535ef4617cb569efbb93"
# The release before it, as bookworm ships it (sha256sum of the same file from zlib1g
# 1:1.2.13.dfsg-1): a machine that already has the update is held to a lock written before it.
ZLIB_RELEASE = "1:1.2.13.dfsg-1"
ZLIB_RELEASE_LIBZ = "sha256:7e2a72b4c4b38c61e6962de6e3f4a5e9ae692e732c68deead10a7ce2135a7f68"
ZZ_LINKS_Z = 'package zz\n\n// #cgo LDFLAGS: -lz\n// #include <zlib.h>\nimport "C"\n'


def test_a_debian_package_at_another_version_is_named_with_both_versions(tmp_path: Path) -> None:
    """A lock written on a machine with another zlib point release (the security update, or
    the release before it where this machine has the update), verified here: the package and
    both versions head the finding, and the action installs the locked version with apt."""
    for tool in ("go", "gcc"):
        require_tool(tool)
    here = dpkg_version("zlib1g-dev")
    if platform.machine() != "x86_64":
        unavailable("the recorded zlib releases are Debian's amd64 packages")
    locked, locked_libz = (
        (ZLIB_RELEASE, ZLIB_RELEASE_LIBZ)
        if here == ZLIB_UPDATE
        else (ZLIB_UPDATE, ZLIB_UPDATE_LIBZ)
    )
    module = write_module(tmp_path / "z", {"zz/zz.go": ZZ_LINKS_Z})
    lock(module)
    lock_path = module / "envsnap.lock"
    libz = Path("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13")
    if f'path = "{libz}"' not in lock_path.read_text():
        unavailable("libz is not where Debian's zlib1g puts it")
    live_hash = "sha256:" + hashlib.sha256(libz.read_bytes()).hexdigest()
    edit_lock(
        lock_path,
        {
            f'package = "zlib1g-dev {here}"': f'package = "zlib1g-dev {locked}"',
            live_hash: locked_libz,
        },
    )
    document = verify_json(module)
    (finding,) = document["findings"]
    assert finding["severity"] == "error" and finding["id"] == "libraries.-lz.package"
    assert (finding["locked"], finding["live"]) == (f"zlib1g-dev {locked}", here)
    assert "sha256:" not in json.dumps([finding["locked"], finding["live"], finding["why"]])
    assert any(a.startswith("libraries.-lz.files.") for a in finding["also"])
    install = finding["actions"][0]
    assert (install["kind"], install["via"]) == ("install", "apt")
    assert (install["target"], install["value"]) == ("zlib1g-dev", locked)
    assert install["command"] == f"sudo apt-get install zlib1g-dev={locked}"
    text = envsnap("verify", "-C", str(module)).stdout
    assert f"-lz: zlib1g-dev {locked} → {here}\n" in text


def test_cc_naming_another_compiler_says_set_cc(tmp_path: Path) -> None:
    for tool in ("go", "gcc", "clang"):
        require_tool(tool)
    module = write_module(tmp_path / "m", {"zz/zz.go": ZZ_LINKS_Z})
    lock(module, {**os.environ, "CC": "gcc"})
    document = verify_json(module, env={**os.environ, "CC": "clang"})
    (finding,) = [f for f in document["findings"] if f["severity"] == "error"]
    assert finding["subject"] == "C compiler" and "go.env.CC" in finding["also"]
    assert "CC" in finding["fix"].split("`")[0] and "clang" in finding["why"]
    set_cc = finding["actions"][0]
    assert (set_cc["kind"], set_cc["target"], set_cc["value"]) == ("set", "CC", "gcc")
    assert set_cc["command"] == "export CC=gcc"
    assert verify_json(module, env={**os.environ, "CC": "gcc"})["exit_code"] == 0


def test_a_compiler_that_is_not_there_is_one_error_at_lock(tmp_path: Path) -> None:
    for tool in ("go", "gcc"):
        require_tool(tool)
    module = write_module(tmp_path / "m", {"zz/zz.go": ZZ_LINKS_Z.replace("-lz", "-lz -lm")})
    result = envsnap("lock", "-C", str(module), env={**os.environ, "CC": "nosuchcc"})
    assert result.returncode == 1 and not (module / "envsnap.lock").exists()
    lines = result.stderr.splitlines()
    (failed,) = [line for line in lines if "probe" in line and "not writing" not in line]
    assert failed.startswith("envsnap: error: probe failed: C compiler:") and "nosuchcc" in failed
    assert "resolves nowhere" not in result.stderr and "linker" not in result.stderr
    assert "1 probe(s) failed" in result.stderr


ZZ_TAGGED = """//go:build withpng

package zz

// #cgo LDFLAGS: -lpng
import "C"
"""


def test_goflags_tags_of_another_variant_are_one_finding_that_drops_them(tmp_path: Path) -> None:
    for tool in ("go", "gcc"):
        require_tool(tool)
    module = write_module(tmp_path / "m", {"zz/zz.go": ZZ_LINKS_Z, "zz/png.go": ZZ_TAGGED})
    (module / "envsnap.toml").write_text('[variants.png]\ntags = ["withpng"]\n')
    env = {k: v for k, v in os.environ.items() if k != "GOFLAGS"}
    lock(module, env)
    tagged = {**env, "GOFLAGS": "-tags=withpng"}
    document = verify_json(module, "--variant", "default", env=tagged)
    (finding,) = document["findings"]
    assert finding["id"] == "go.tags" and "envsnap lock" not in finding["fix"]
    assert "--variant" in finding["fix"] and "GOFLAGS" in finding["fix"]
    assert {"libraries.-lpng", "go.env.GOFLAGS"} <= set(finding["also"])
    actions = [(a["kind"], a["target"]) for a in finding["actions"]]
    assert actions == [("variant", "png"), ("unset", "GOFLAGS")]
    # each action carried out: verify is clean
    assert verify_json(module, "--variant", "png", env=tagged)["exit_code"] == 0
    assert verify_json(module, "--variant", "default", env=env)["exit_code"] == 0


def test_a_tracked_go_setting_is_explained_as_one(tmp_path: Path) -> None:
    require_tool("go")
    module = write_module(tmp_path / "m", {"main.go": "package main\n\nfunc main() {}\n"})
    (module / "envsnap.toml").write_text('[track]\nenv = ["GOPROXY"]\n')
    env = {k: v for k, v in os.environ.items() if k != "GOPROXY"}
    lock(module, env)
    document = verify_json(module, env={**env, "GOPROXY": "https://proxy.example.com"})
    (finding,) = document["findings"]
    assert finding["id"] == "env.GOPROXY"
    assert "compiler" not in finding["why"] and "Go setting" in finding["why"]
    kinds = [(a["kind"], a.get("target", "")) for a in finding["actions"]]
    assert kinds == [("unset", "GOPROXY"), ("relock", "")]
    assert verify_json(module, env=env)["exit_code"] == 0


def test_cgo_disabled_on_a_module_without_cgo_is_not_an_error(tmp_path: Path) -> None:
    require_tool("go")
    module = write_module(tmp_path / "m", {"main.go": "package main\n\nfunc main() {}\n"})
    env = {k: v for k, v in os.environ.items() if k != "CGO_ENABLED"}
    lock(module, env)
    document = verify_json(module, env={**env, "CGO_ENABLED": "0"})
    assert document["exit_code"] == 0
    assert all(f["severity"] != "error" for f in document["findings"])


def test_a_go_setting_changed_offers_to_set_it_back(cgo_module: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CGO_CFLAGS"}
    lock(cgo_module, env)
    changed = {**env, "CGO_CFLAGS": "-O0 -g"}
    (finding,) = verify_json(cgo_module, env=changed)["findings"]
    assert finding["id"] == "go.env.CGO_CFLAGS"
    back = finding["actions"][0]
    assert (back["kind"], back["target"], back["command"]) == (
        "unset",
        "CGO_CFLAGS",
        "unset CGO_CFLAGS",
    )
    assert verify_json(cgo_module, env=env)["exit_code"] == 0


def test_another_go_minor_offers_the_locked_go_by_gotoolchain(cgo_module: Path) -> None:
    from tests.conftest import other_go

    other = other_go("ENVSNAP_TEST_GO_OTHER_MINOR")
    lock(cgo_module)
    env = {**os.environ, "PATH": f"{other}{os.pathsep}{os.environ['PATH']}", "GOTOOLCHAIN": "local"}
    document = verify_json(cgo_module, env=env)
    (finding,) = [f for f in document["findings"] if f["id"] == "go.version"]
    locked = finding["locked"]
    assert ("set", "GOTOOLCHAIN", locked) == tuple(
        finding["actions"][0].get(k) for k in ("kind", "target", "value")
    )
    assert f"GOTOOLCHAIN={locked}" in finding["fix"]


def test_a_library_named_by_pkg_config_and_l_whose_pc_moves_is_one_finding(
    tmp_path: Path,
) -> None:
    for tool in ("go", "gcc", "pkg-config"):
        require_tool(tool)
    system_pc = Path(
        subprocess.run(
            ["pkg-config", "--variable=pcfiledir", "zlib"], capture_output=True, text=True
        ).stdout.strip(),
        "zlib.pc",
    )
    if not system_pc.is_file():
        unavailable("zlib1g-dev's zlib.pc is not installed")
    source = (
        "package c\n\n// #cgo pkg-config: zlib\n// #cgo LDFLAGS: -lz\n// #include <zlib.h>\n"
        'import "C"\n'
    )
    module = write_module(tmp_path / "c", {"c.go": source})
    (module / "pc1").mkdir()
    (module / "pc2").mkdir()
    (module / "pc1" / "zlib.pc").write_bytes(system_pc.read_bytes())
    lock(module, {**os.environ, "PKG_CONFIG_PATH": str(module / "pc1")})
    (module / "pc1" / "zlib.pc").rename(module / "pc2" / "zlib.pc")
    document = verify_json(module, env={**os.environ, "PKG_CONFIG_PATH": str(module / "pc2")})
    (finding,) = document["findings"]
    assert finding["id"] == "env.PKG_CONFIG_PATH"
    # no command sets the lock's ${MODULE} placeholder as if it were a path
    assert all("${" not in a["command"] for a in finding["actions"])
