"""What the tools consulted that the caches once did not stamp, on real files and a real go.

Each test locks, fills the caches with clean verifies, changes one thing a tool read (the module
cache, a global version file, a program in the compiler's own search path, a Go file a build
constraint excludes, a secret-named variable, a pkg-config wrapper's own search path), and then
requires the cached verify to report exactly what ``ENVSNAP_NO_CACHE=1 verify`` reports, and that
to be the drift. Working through a symlinked checkout must be clean, and lock there must write
the same lock. Planted programs and relative search paths are in tests/hostile/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import cast

import pytest

from envsnap import toolinputs
from envsnap.entry import Content, Entry
from envsnap.lockfile import parse_lock, render, with_entry
from tests.conftest import LIBM_PACKAGE, envsnap, other_go, require_tool, write_module
from tests.modcache import DEP, VERSION, cached_dep
from tests.test_cache_truth import after_change, paths_of, verify, warm


def without_keys(entry: Entry, *keys: str) -> Content:
    return cast(Content, {k: v for k, v in entry.items() if k not in keys})


@pytest.fixture
def tools() -> None:
    for name in ("go", "gcc", "pkg-config"):
        require_tool(name)


# --- the module cache ---------------------------------------------------------------------------


def test_the_module_cache_is_spelled_as_go_spells_it(tmp_path: Path, tools: None) -> None:
    dep = cached_dep(tmp_path, os.environ, download=False)
    said = dep.download()
    files = toolinputs.module_cache_files(str(dep.cache), DEP, VERSION)
    assert files == [said["Dir"], said["Info"], said["GoMod"], said["Zip"]]


def test_a_module_removed_from_the_module_cache(tmp_path: Path, tools: None) -> None:
    dep = cached_dep(tmp_path, os.environ)
    warm(dep.module, dep.env)
    dep.remove()
    found = paths_of(after_change(dep.module, dep.env))
    assert "cgo.package_errors" in found and f"cgo.packages.{DEP}" in found, found


def test_a_module_added_to_the_module_cache(tmp_path: Path, tools: None) -> None:
    """lock refuses packages go cannot load, and --allow-incomplete marks the entry incomplete,
    which never verifies clean; a lock of an envsnap that recorded the package errors without a
    word verifies clean, and its cached verify must see the module arrive."""
    dep = cached_dep(tmp_path, os.environ, download=False)
    refused = envsnap("lock", "-C", str(dep.module), env=dep.env)
    assert refused.returncode == 1 and "missing from the module cache" in refused.stderr
    allowed = envsnap("lock", "--allow-incomplete", "-C", str(dep.module), env=dep.env)
    assert allowed.returncode == 0, allowed.stderr
    path = dep.module / "envsnap.lock"
    lock = parse_lock(path, path.read_bytes())
    ((key, entry),) = lock.platforms.items()
    path.write_bytes(render(with_entry(lock, key, without_keys(entry, "incomplete"))))
    time.sleep(0.2)  # older than the racy window, so the caches keep what they see
    for _ in range(2):
        assert verify(dep.module, dep.env, cached=True)["exit_code"] == 0
    dep.download()
    found = paths_of(after_change(dep.module, dep.env))
    assert "cgo.package_errors" in found and f"cgo.packages.{DEP}" in found, found


# --- a checkout reached through a symlink, as the shell names it -------------------------------

INCLUDING = """package mathc

// #cgo CFLAGS: -I${SRCDIR}/inc
// #cgo LDFLAGS: -lm
// #include <math.h>
import "C"

func Hypot(x, y float64) float64 { return float64(C.hypot(C.double(x), C.double(y))) }
"""


def in_directory(logical: Path, *argv: str, env: Mapping[str, str]) -> str:
    """envsnap run from *logical* as a shell that cd'd there runs it: PWD names the path given."""
    result = envsnap(*argv, env={**env, "PWD": str(logical)}, cwd=logical)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_verify_and_lock_in_a_checkout_reached_through_a_symlink(
    tmp_path: Path, tools: None
) -> None:
    real = write_module(tmp_path / "real" / "m2", {"mathc/m.go": INCLUDING, "mathc/inc/m.h": ""})
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "real", target_is_directory=True)
    warm(real, os.environ)  # locked through the real path
    locked = (real / "envsnap.lock").read_bytes()
    (real / "envsnap.lock").unlink()
    in_directory(link / "m2", "lock", env=os.environ)
    assert (real / "envsnap.lock").read_bytes() == locked  # no symlink path in it
    time.sleep(0.2)  # older than the racy window, so the caches keep what they see
    for cached in ("0", "1", "0", "0"):  # the last two: from the memo, then from the verdict
        env = {**os.environ, "ENVSNAP_NO_CACHE": cached}
        for directory in (link / "m2", link / "m2" / "mathc"):
            assert "matches" in in_directory(directory, "verify", env=env)


# --- variables whose names look secret -----------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["LIBSECRET_PREFIX", "OAUTH_SDK_DIR", "KRB5_AUTH_LIB", "TOKENIZER_HOME", "SESSION_LIB_DIR"],
)
def test_a_tracked_variable_with_a_secret_looking_name(
    tmp_path: Path, tools: None, name: str
) -> None:
    module = write_module(tmp_path / "mod", {"mm/mm.go": LIBM_PACKAGE})
    (module / "envsnap.toml").write_text(f'[track]\nenv = ["{name}"]\n')
    warm(module, {**os.environ, name: "/opt/one"})
    assert f"env.{name}" in paths_of(after_change(module, {**os.environ, name: "/opt/two"}))


# --- a Go file that a build constraint excludes, rewritten in place -----------------------------

EXCLUDED = """//go:build ignore

package cc

// #cgo LDFLAGS: -lz
import "C"
"""


def test_a_constrained_file_rewritten_in_place(tmp_path: Path, tools: None) -> None:
    module = write_module(tmp_path / "mod", {"mm/mm.go": LIBM_PACKAGE, "cc/cc.go": EXCLUDED})
    warm(module, os.environ)
    directory = (module / "cc").stat()
    with (module / "cc" / "cc.go").open("w") as handle:  # as the shell's > does: same inode
        handle.write(EXCLUDED.removeprefix("//go:build ignore\n\n"))
    assert (module / "cc").stat().st_mtime_ns == directory.st_mtime_ns
    assert "cgo.packages.example.com/m/cc" in paths_of(after_change(module, os.environ))


# --- version managers' global settings ------------------------------------------------------------


def shim(tmp_path: Path, reads: str) -> Path:
    """A `go` shim that runs go 1.25.5 when the file at *reads* (a shell word) says so."""
    local, older = shutil.which("go"), Path(other_go("ENVSNAP_TEST_GO_OTHER_MINOR"), "go")
    shims = tmp_path / "shims"
    shims.mkdir()
    (shims / "go").write_text(
        f'#!/bin/sh\ncase "$(cat {reads} 2>/dev/null)" in\n'
        f'  *1.25.5*) exec "{older}" "$@" ;;\n  *) exec "{local}" "$@" ;;\nesac\n'
    )
    (shims / "go").chmod(0o755)
    return shims


GLOBAL_SETTINGS = {
    "goenv": ({"GOENV_ROOT": "{top}/goenv"}, '"$GOENV_ROOT/version"', "goenv/version"),
    "asdf": (
        {"ASDF_DEFAULT_TOOL_VERSIONS_FILENAME": ".versions"},
        '"$PWD/$ASDF_DEFAULT_TOOL_VERSIONS_FILENAME"',
        "mod/.versions",
    ),
    "mise": ({}, '"$XDG_CONFIG_HOME/mise/config.toml"', "config/mise/config.toml"),
}


@pytest.mark.parametrize("manager", sorted(GLOBAL_SETTINGS))
def test_a_version_managers_global_setting(tmp_path: Path, tools: None, manager: str) -> None:
    variables, reads, written = GLOBAL_SETTINGS[manager]
    module = write_module(tmp_path / "mod", {"mm/mm.go": LIBM_PACKAGE})
    env = {
        **os.environ,
        **{name: value.format(top=tmp_path) for name, value in variables.items()},
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PATH": f"{shim(tmp_path, reads)}:{os.environ['PATH']}",
    }
    setting = tmp_path / written
    setting.parent.mkdir(parents=True, exist_ok=True)
    setting.write_text("go 1.26.6\n")
    warm(module, env)
    setting.write_text("go 1.25.5\n")
    assert "go.version" in paths_of(after_change(module, env))


FOO_PC = "Name: foo\nDescription: test\nVersion: {version}\nLibs: -lm\n"


def test_a_pkg_config_wrapper_with_a_search_path_of_its_own(tmp_path: Path, tools: None) -> None:
    first, second = tmp_path / "pc1", tmp_path / "pc2"
    for folder in (first, second):
        folder.mkdir()
    (second / "foo.pc").write_text(FOO_PC.format(version="1.0"))
    wrapper = tmp_path / "wrapper" / "pkg-config"
    wrapper.parent.mkdir()
    real = require_tool("pkg-config")
    wrapper.write_text(f'#!/bin/sh\nPKG_CONFIG_PATH={first}:{second} exec "{real}" "$@"\n')
    wrapper.chmod(0o755)
    package = LIBM_PACKAGE.replace("LDFLAGS: -lm", "pkg-config: foo")
    module = write_module(tmp_path / "mod", {"mm/mm.go": package})
    env = {**os.environ, "PATH": f"{wrapper.parent}:{os.environ['PATH']}"}
    warm(module, env)
    (first / "foo.pc").write_text(FOO_PC.format(version="2.0"))
    assert "libraries.foo.version" in paths_of(after_change(module, env))


# --- the compiler's own program search -----------------------------------------------------------


def gcc_exec_prefix(tmp_path: Path) -> Path:
    """A GCC_EXEC_PREFIX of its own: gcc's own programs and files, linked, under
    PREFIX/MACHINE/VERSION, as gcc looks for them there."""
    said = subprocess.run(["gcc", "-print-search-dirs"], capture_output=True, text=True)
    install = Path(said.stdout.splitlines()[0].split(":", 1)[1].strip())
    prefix = tmp_path / "gcc-prefix"
    own = prefix / install.relative_to(install.parent.parent)
    own.mkdir(parents=True)
    for entry in install.iterdir():
        (own / entry.name).symlink_to(entry)
    return prefix


PLANTED_LD = "GNU ld (planted) 9.99"


def fake_ld(directory: Path) -> Path:
    """An `ld` that says it is another linker (asked its version alone, or within a link), and
    links with the real one."""
    real = subprocess.run(["gcc", "-print-prog-name=ld"], capture_output=True, text=True)
    ld_path = shutil.which(real.stdout.strip())
    assert ld_path is not None
    directory.mkdir(parents=True, exist_ok=True)
    ld = directory / "ld"
    ld.write_text(
        '#!/bin/sh\nfor word in "$@"; do\n  case "$word" in -v|--version)\n'
        f'    echo "{PLANTED_LD}"; [ $# = 1 ] && exit 0 ;;\n  esac\ndone\n'
        f'exec "{ld_path}" "$@"\n'
    )
    ld.chmod(0o755)
    return ld


PROGRAM_SEARCH: dict[str, tuple[str, Callable[[Path], dict[str, str]]]] = {
    "CC -B": ("ldbin", lambda d: {"CC": f"gcc -B{d}/"}),
    "COMPILER_PATH": ("ldbin", lambda d: {"COMPILER_PATH": str(d)}),
    "CGO_LDFLAGS -B": ("ldbin", lambda d: {"CGO_LDFLAGS": f"-O2 -g -B {d}/"}),
    "GCC_EXEC_PREFIX": ("gcc-prefix", lambda d: {"GCC_EXEC_PREFIX": f"{d}/"}),
}


@pytest.mark.parametrize("how", sorted(PROGRAM_SEARCH))
def test_a_new_ld_in_the_compilers_program_search(tmp_path: Path, tools: None, how: str) -> None:
    folder, variables = PROGRAM_SEARCH[how]
    directory = gcc_exec_prefix(tmp_path) if folder == "gcc-prefix" else tmp_path / folder
    directory.mkdir(exist_ok=True)
    module = write_module(tmp_path / "mod", {"mm/mm.go": LIBM_PACKAGE})
    env = {**os.environ, **variables(directory)}
    warm(module, env)
    locked = tomllib.loads((module / "envsnap.lock").read_text())
    (entry,) = locked["platforms"].values()
    assert entry["cc"]["linker"]["version"] != PLANTED_LD
    fake_ld(directory)
    found = paths_of(after_change(module, env))
    assert any(path.startswith("cc.linker.") for path in found), found
    check = envsnap("lock", "--check", "-C", str(module), env=env)
    assert check.returncode == 1 and "planted" in check.stderr, check.stderr
