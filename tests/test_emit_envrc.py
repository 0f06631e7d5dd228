"""The emitted .envrc run by the real direnv: it recreates the locked toolchain and verify agrees.

Each test enters the folder with `direnv exec .` as a shell entering it would, with a fresh HOME
(the isolated_home fixture), and checks the result with the real go, envsnap and shellcheck.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.conftest import RECORDINGS, REPO, envsnap, other_go, require_tool

MAC14 = RECORDINGS / "macos14-arm64-clt-brew-openssl"
DUMP_ENV = [sys.executable, "-c", "import os, json; print(json.dumps(dict(os.environ)))"]
GO_ENV_NAMES = ("CC", "CXX", "CGO_ENABLED", "CGO_CFLAGS", "CGO_LDFLAGS", "GOVERSION")


def run(
    args: list[str], cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, env=dict(env or os.environ), timeout=600
    )


def base_env(*first: Path | str) -> dict[str, str]:
    """The environment with *first* ahead on PATH, then this Python's (envsnap, the venv's go)."""
    path = [str(p) for p in first] + [str(Path(sys.executable).parent), os.environ["PATH"]]
    return {
        **os.environ,
        "PATH": os.pathsep.join(path),
        "DIRENV_LOG_FORMAT": "direnv: %s",
        "PYTHONPATH": str(REPO),
    }


def shim(directory: Path, name: str, script: str) -> None:
    """An executable *name* in *directory* running the sh *script*."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text("#!/bin/sh\n" + script)
    (directory / name).chmod(0o755)


def envsnap_shim(directory: Path) -> None:
    """`envsnap` on PATH: the .envrc runs `envsnap verify` when it finds one."""
    shim(directory, "envsnap", f'exec {sys.executable} -m envsnap "$@"\n')


def emit_envrc(module: Path, env: Mapping[str, str]) -> None:
    result = envsnap("emit", "--direnv", "-C", str(module), env=env)
    assert result.returncode == 0, result.stderr
    require_tool("shellcheck")
    check = run(["shellcheck", str(module / ".envrc")], module)
    assert check.returncode == 0, check.stdout
    require_tool("direnv")
    assert run(["direnv", "allow"], module, env).returncode == 0


def direnv_exec(
    module: Path, env: Mapping[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return run(["direnv", "exec", ".", *args], module, env)


def go_env(module: Path, env: Mapping[str, str], *prefix: str) -> dict[str, str]:
    out = run([*prefix, "go", "env", "-json", *GO_ENV_NAMES], module, env)
    assert out.returncode == 0, out.stderr
    values: dict[str, str] = json.loads(out.stdout)
    return values


def lock(module: Path, env: Mapping[str, str]) -> None:
    result = envsnap("lock", "-C", str(module), env=env)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def zlib_module(tmp_path: Path) -> Path:
    require_tool("go")
    require_tool("pkg-config")
    module = tmp_path / "zlib"
    shutil.copytree(REPO / "examples" / "zlib", module)
    return module


def test_zlib_envrc_is_clean_under_verify_strict(zlib_module: Path, tmp_path: Path) -> None:
    env = base_env(tmp_path / "bin")
    envsnap_shim(tmp_path / "bin")
    lock(zlib_module, env)
    wanted = go_env(zlib_module, env)  # what the locking machine's go uses outside the .envrc
    emit_envrc(zlib_module, env)
    verified = direnv_exec(zlib_module, env, "envsnap", "verify", "--strict")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert go_env(zlib_module, env, "direnv", "exec", ".") == wanted
    loaded = json.loads(direnv_exec(zlib_module, env, *DUMP_ENV).stdout)
    assert loaded["GOTOOLCHAIN"] == f"{wanted['GOVERSION']}+auto"


CFLAGS_PACKAGE = """package hh

// #include <modhdr.h>
// #include <homehdr.h>
import "C"

func Sum() int { return int(C.MOD_VALUE + C.HOME_VALUE) }
"""


def test_module_and_home_flags_resolve_where_the_envrc_loads(tmp_path: Path) -> None:
    require_tool("go")
    require_tool("gcc")
    home = Path(os.environ["HOME"])
    module = tmp_path / "flags"
    (module / "include").mkdir(parents=True)
    (module / "hh").mkdir()
    (home / ".local" / "include").mkdir(parents=True)
    (module / "go.mod").write_text("module example.com/flags\n\ngo 1.21\n")
    (module / "hh" / "hh.go").write_text(CFLAGS_PACKAGE)
    (module / "include" / "modhdr.h").write_text("#define MOD_VALUE 1\n")
    (home / ".local" / "include" / "homehdr.h").write_text("#define HOME_VALUE 2\n")
    envsnap_shim(tmp_path / "bin")
    env = base_env(tmp_path / "bin")
    modcache = run(["go", "env", "GOMODCACHE"], module, env).stdout.strip()
    cflags = f"-I{module}/include -I{home}/.local/include -I{modcache}/example.com/c@v1"
    lock(module, {**env, "CGO_CFLAGS": cflags})
    locked = (
        'CGO_CFLAGS = "-I${MODULE}/include -I~/.local/include -I${GOMODCACHE}/example.com/c@v1"'
    )
    assert locked in (module / "envsnap.lock").read_text()
    emit_envrc(module, env)

    assert go_env(module, env, "direnv", "exec", ".")["CGO_CFLAGS"] == cflags
    built = direnv_exec(module, env, "go", "build", "./...")
    assert built.returncode == 0, built.stderr
    verified = direnv_exec(module, env, "envsnap", "verify", "--strict")
    assert verified.returncode == 0, verified.stdout + verified.stderr

    sub = module / "tools"  # written elsewhere with -o, it still finds the module
    sub.mkdir()
    written = envsnap("emit", "--direnv", "-C", str(module), "-o", str(sub / ".envrc"), env=env)
    assert written.returncode == 0, written.stderr
    assert run(["direnv", "allow"], sub, env).returncode == 0
    assert go_env(sub, env, "direnv", "exec", ".")["CGO_CFLAGS"] == cflags

    moved = tmp_path / "moved"  # the same checkout elsewhere: paths follow the folder
    module.rename(moved)
    assert run(["direnv", "allow"], moved, env).returncode == 0
    assert go_env(moved, env, "direnv", "exec", ".")["CGO_CFLAGS"] == cflags.replace(
        str(module), str(moved)
    )


def test_a_mac_lock_here_names_the_sdk_to_install_and_sets_no_sdkroot(tmp_path: Path) -> None:
    module = tmp_path / "mac"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    assert envsnap("--replay", str(MAC14), "lock", "-C", str(module)).returncode == 0
    fake = tmp_path / "fake"
    shim(
        fake, "uname", 'case "$1" in -s) echo Darwin ;; -m) echo arm64 ;; *) echo Darwin ;; esac\n'
    )
    env = base_env(fake)
    emit_envrc(module, env)
    loaded = direnv_exec(module, env, *DUMP_ENV)
    assert loaded.returncode == 0, loaded.stderr
    exported = json.loads(loaded.stdout)
    assert "SDKROOT" not in exported and "DEVELOPER_DIR" not in exported
    assert exported["CGO_ENABLED"] == "1"  # the rest of the darwin-arm64 case did run
    errors = [line for line in loaded.stderr.splitlines() if "SDKROOT not set" in line]
    assert len(errors) == 1, loaded.stderr
    (error,) = errors
    assert "macOS SDK 14.0" in error and "MacOSX14.0.sdk" in error
    # Apple's download name for CLT 15.3.0.0.1.1708646388; xcode-select --install cannot pick it
    assert "install Command Line Tools for Xcode 15.3 from developer.apple.com" in error
    assert "xcode-select --install installs only the newest" in error
    assert "DEVELOPER_DIR not set" in loaded.stderr


def path_without(tmp_path: Path, *names: str) -> str:
    """PATH with every directory holding one of *names* replaced by a copy of links without them."""
    entries = []
    for index, entry in enumerate(os.environ["PATH"].split(os.pathsep)):
        directory = Path(entry)
        if not any((directory / name).exists() for name in names):
            entries.append(entry)
            continue
        shadow = tmp_path / f"shadow{index}"
        shadow.mkdir()
        for item in directory.iterdir():
            if item.name not in names:
                (shadow / item.name).symlink_to(item)
        entries.append(str(shadow))
    return os.pathsep.join(entries)


FAKE_NIX = """case "$*" in
  --version) echo "nix (Nix) 2.24.9" ;;
  "config show"|show-config) echo "experimental-features = $FAKE_NIX_FEATURES" ;;
  print-dev-env*) echo "export ENVSNAP_TEST_SHELL=flake ENVSNAP_SHELL=nix" ;;
  *) exit 1 ;;
esac
"""
# nix-shell --show-trace --run "direnv dump": the dump is what direnv's use_nix loads
FAKE_NIX_SHELL = """while [ $# -gt 0 ]; do
  if [ "$1" = --run ]; then ENVSNAP_TEST_SHELL=shell.nix ENVSNAP_SHELL=nix exec sh -c "$2"; fi
  shift
done
exit 1
"""


@pytest.fixture
def nix_files_module(tmp_path: Path) -> Path:
    module = tmp_path / "nixmod"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/nixmod\n\ngo 1.21\n")
    lock(module, base_env())
    for flag in ("--nix", "--flake"):
        assert envsnap("emit", flag, "-C", str(module)).returncode == 0
    return module


def enter_with_nix(
    module: Path, tmp_path: Path, features: str | None
) -> tuple[str, dict[str, str]]:
    env = base_env()
    env["PATH"] = path_without(tmp_path, "nix", "nix-shell")
    if features is not None:
        shim(tmp_path / "fakenix", "nix", FAKE_NIX)
        shim(tmp_path / "fakenix", "nix-shell", FAKE_NIX_SHELL)
        env["PATH"] = f"{tmp_path / 'fakenix'}{os.pathsep}{env['PATH']}"
        env["FAKE_NIX_FEATURES"] = features
    emit_envrc(module, env)
    loaded = direnv_exec(module, env, *DUMP_ENV)
    assert loaded.returncode == 0, loaded.stderr
    exported: dict[str, str] = json.loads(loaded.stdout)
    return loaded.stderr, exported


def test_nix_without_flakes_takes_the_use_nix_branch(
    nix_files_module: Path, tmp_path: Path
) -> None:
    log, exported = enter_with_nix(nix_files_module, tmp_path, "nix-command ca-derivations")
    assert exported.get("ENVSNAP_TEST_SHELL") == "shell.nix"
    assert "envsnap: using shell.nix" in log and "failed" not in log


def test_nix_with_flakes_takes_the_use_flake_branch(nix_files_module: Path, tmp_path: Path) -> None:
    log, exported = enter_with_nix(nix_files_module, tmp_path, "flakes nix-command")
    assert exported.get("ENVSNAP_TEST_SHELL") == "flake"
    assert "envsnap: using flake.nix" in log and "failed" not in log


def test_without_nix_the_locked_values_are_exported(nix_files_module: Path, tmp_path: Path) -> None:
    log, exported = enter_with_nix(nix_files_module, tmp_path, None)
    assert "ENVSNAP_TEST_SHELL" not in exported
    assert "envsnap: exporting the values locked in envsnap.lock" in log
    assert exported["CGO_ENABLED"] == "1"


def toolchain_proxy(root: Path, goroot: Path, version: str, platform: str) -> Path:
    """A file GOPROXY serving golang.org/toolchain for *version*, zipped from *goroot* the way
    the published toolchain modules are laid out (go.mod files renamed _go.mod)."""
    name = f"v0.0.1-{version}.{platform}"
    prefix = f"golang.org/toolchain@{name}/"
    versions = root / "golang.org" / "toolchain" / "@v"
    versions.mkdir(parents=True)
    with zipfile.ZipFile(versions / f"{name}.zip", "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(goroot.rglob("*")):
            relative = path.relative_to(goroot)
            if path.is_dir() or relative.parts[0] in ("__init__.py", "__pycache__"):
                continue
            parts = [*relative.parts[:-1], "_go.mod" if path.name == "go.mod" else path.name]
            archive.write(path, prefix + "/".join(parts))
    (versions / f"{name}.mod").write_text("module golang.org/toolchain\n")
    (versions / f"{name}.info").write_text(
        json.dumps({"Version": name, "Time": "2026-01-01T00:00:00Z"})
    )
    (versions / "list").write_text(name + "\n")
    return root


def test_gotoolchain_makes_another_local_go_run_the_locked_release(tmp_path: Path) -> None:
    require_tool("go")
    other = other_go("ENVSNAP_TEST_GO_OTHER_MINOR")
    module = tmp_path / "tc"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/tc\n\ngo 1.21\n")
    env = base_env(tmp_path / "bin")
    envsnap_shim(tmp_path / "bin")
    lock(module, env)
    locked = go_env(module, env)["GOVERSION"]
    goroot = Path(run(["go", "env", "GOROOT"], module, env).stdout.strip())
    platform = "-".join(run(["go", "env", "GOOS", "GOARCH"], module, env).stdout.split())
    proxy = toolchain_proxy(tmp_path / "proxy", goroot, locked, platform)
    emit_envrc(module, env)

    offline = {
        **base_env(other, tmp_path / "bin"),
        "GOPROXY": proxy.as_uri(),
        "GOSUMDB": "off",
        "GOMODCACHE": str(tmp_path / "modcache"),
    }
    assert run(["go", "version"], module, offline).stdout.split()[2] != locked  # other go first
    shown = direnv_exec(module, offline, "go", "version")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split()[2] == locked, shown.stdout + shown.stderr
    fetched = tmp_path / "modcache" / "golang.org" / f"toolchain@v0.0.1-{locked}.{platform}"
    assert (fetched / "bin" / "go").is_file()  # go fetched it through the file GOPROXY


# Flags that run `touch PWNED` wherever a quote of the .envrc gives way: command substitution,
# backquotes, a quote of each kind, a parameter expansion, a backslash; the module's own folder
# name, which the .envrc puts back for ${MODULE}, holds a quote too (direnv itself cannot enter
# a folder whose name holds a `$`).
HOSTILE_CFLAGS = (
    "-I{module}/inc -DQ='$(touch PWNED)' -DB=`touch PWNED` -DD=\"$HOME\" "
    "-DS=\\$(touch PWNED) -DA=it's -DX=${{x:-$(touch PWNED)}}"
)
HOSTILE_LDFLAGS = "-L{module}/lib -Wl,-rpath,'$ORIGIN' `touch PWNED` ';touch PWNED;'"


def test_hostile_locked_flags_run_nothing_when_the_envrc_loads(tmp_path: Path) -> None:
    require_tool("go")
    module = tmp_path / "it's"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/h\n\ngo 1.21\n")
    (module / "p.go").write_text("package p\n")
    env = base_env()
    hostile = {
        "CGO_CFLAGS": HOSTILE_CFLAGS.format(module=module),
        "CGO_LDFLAGS": HOSTILE_LDFLAGS.format(module=module),
    }
    lock(module, {**env, **hostile})
    (entry,) = tomllib.loads((module / "envsnap.lock").read_text())["platforms"].values()
    locked = {name: entry["go"]["env"][name] for name in hostile}
    assert all("${MODULE}/" in value for value in locked.values())
    emitted = envsnap("emit", "--direnv", "-C", str(module), env=env)
    assert emitted.returncode == 0, emitted.stderr
    require_tool("direnv")
    assert run(["direnv", "allow"], module, env).returncode == 0

    loaded = direnv_exec(module, env, *DUMP_ENV)
    assert loaded.returncode == 0, loaded.stderr
    exported = json.loads(loaded.stdout)
    for name, value in locked.items():
        assert exported[name] == value.replace("${MODULE}", str(module)), name
    sourced = subprocess.run(  # plain bash too, as a user sourcing it by hand would
        ["bash", "-c", 'watch_file() { :; }; has() { return 1; }; . ./.envrc; echo "$CGO_CFLAGS"'],
        cwd=module,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert sourced.stdout == exported["CGO_CFLAGS"] + "\n", sourced.stderr
    assert sorted(tmp_path.rglob("PWNED")) == []
    require_tool("shellcheck")  # last: what ran above is what is held, not its style
    check = run(["shellcheck", str(module / ".envrc")], module)
    assert check.returncode == 0, check.stdout
