"""`envsnap emit` checked by the real consumers: nix-instantiate, direnv, bash and shellcheck."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any, cast

import pytest

from envsnap.lockfile import LockFile, make_entry, render
from tests.conftest import RECORDINGS, REPO, envsnap, require_tool

MAC14 = RECORDINGS / "macos14-arm64-clt-brew-openssl"
MAC15_XCODE = RECORDINGS / "macos15-arm64-xcode16"


def stub_pkgs(system: str) -> str:
    """A stand-in for nixpkgs: every attribute envsnap may use evaluates to its own name."""
    tables = tomllib.loads((REPO / "nix" / "attributes.toml").read_text())
    names = {v for t in ("go", "apple_sdk", "compilers") for v in tables[t].values()}
    names |= {row["attribute"] for row in tables["library"]}
    names |= {"go_1_22", "go_1_24", "pkg-config"}
    attrs = " ".join(f'"{n}" = "{n}";' for n in sorted(names) if n)
    hook = 'darwinMinVersionHook = v: "darwinMinVersionHook " + v;'
    return (
        f'({{ {attrs} }} // {{ stdenv.hostPlatform.system = "{system}"; mkShell = a: a; {hook} }})'
    )


def nix_eval(expression: str) -> Any:
    require_tool("nix-instantiate")
    out = subprocess.run(
        ["nix-instantiate", "--eval", "--strict", "--json", "-E", expression],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def nix_parse(path: Path) -> None:
    require_tool("nix-instantiate")
    out = subprocess.run(["nix-instantiate", "--parse", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def eval_shell(path: Path, system: str) -> dict[str, Any]:
    result: dict[str, Any] = nix_eval(f"import {path} {{ pkgs = {stub_pkgs(system)}; }}")
    return result


def emit(module: Path, *args: str) -> str:
    result = envsnap("emit", *args, "-C", str(module))
    assert result.returncode == 0, result.stderr
    return result.stderr


def go_env(name: str) -> str:
    out = subprocess.run(["go", "env", name], capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.fixture
def linux_module(cgo_module: Path) -> Path:
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    return cgo_module


def replay_locked(tmp_path: Path, host: Path, config: str = "") -> Path:
    module = tmp_path / host.name
    module.mkdir()
    (module / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    if config:
        (module / "envsnap.toml").write_text(config)
    assert envsnap("--replay", str(host), "lock", "-C", str(module)).returncode == 0
    return module


def test_shell_nix_for_this_linux_machine(linux_module: Path) -> None:
    emit(linux_module, "--nix")
    shell = linux_module / "shell.nix"
    nix_parse(shell)
    minor = ".".join(go_env("GOVERSION").removeprefix("go").split(".")[:2])
    evaluated = eval_shell(shell, "x86_64-linux")
    assert evaluated["packages"] == [f"go_{minor.replace('.', '_')}", "gcc", "pkg-config", "zlib"]
    assert evaluated["env"]["CGO_ENABLED"] == "1"
    assert evaluated["env"]["GOTOOLCHAIN"] == "local"
    assert evaluated["env"]["CGO_CFLAGS"] == go_env("CGO_CFLAGS")
    assert evaluated["env"]["CGO_LDFLAGS"] == go_env("CGO_LDFLAGS")


def test_shell_nix_for_replayed_macs_names_sdk_and_go(tmp_path: Path) -> None:
    pinned = '[nix.attributes.go]\n"1.22" = "go_1_22"\n"1.24" = "go_1_24"\n'
    mac14 = replay_locked(tmp_path, MAC14, pinned)
    emit(mac14, "--nix", "--nixpkgs", "0123456789abcdef0123", "--nixpkgs-sha256", "1" * 52)
    nix_parse(mac14 / "shell.nix")
    assert "fetchTarball" in (mac14 / "shell.nix").read_text()
    evaluated = eval_shell(mac14 / "shell.nix", "aarch64-darwin")
    assert evaluated["packages"] == ["go_1_22", "clang", "pkg-config", "openssl_3"]
    assert evaluated["buildInputs"] == ["apple-sdk_14"]
    assert evaluated["env"]["CGO_CFLAGS"] == "-O2 -g"  # from the recorded go env

    mac15 = replay_locked(tmp_path, MAC15_XCODE, pinned)
    emit(mac15, "--nix")
    evaluated = eval_shell(mac15 / "shell.nix", "aarch64-darwin")
    assert evaluated["packages"] == ["go_1_24", "clang"]
    assert evaluated["buildInputs"] == ["apple-sdk_15"]


def test_a_go_without_attribute_is_an_error_naming_the_table(tmp_path: Path) -> None:
    mac14 = replay_locked(tmp_path, MAC14)
    refused = envsnap("emit", "--nix", "-C", str(mac14))
    assert refused.returncode == 1, refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "Go 1.22" in refused.stderr
    assert '[nix.attributes.go] "1.22" = "go_1_22"' in refused.stderr
    assert not (mac14 / "shell.nix").exists()


def test_flake_has_one_dev_shell_per_platform(linux_module: Path) -> None:
    assert envsnap("--replay", str(MAC14), "lock", "-C", str(linux_module)).returncode == 0
    (linux_module / "envsnap.toml").write_text('[nix.attributes.go]\n"1.22" = "go_1_22"\n')
    emit(linux_module, "--flake")
    flake = linux_module / "flake.nix"
    nix_parse(flake)
    inputs = (
        "{ self = { }; nixpkgs.legacyPackages = { "
        f'"x86_64-linux" = {stub_pkgs("x86_64-linux")}; '
        f'"aarch64-darwin" = {stub_pkgs("aarch64-darwin")}; }}; }}'
    )
    shells = nix_eval(f"((import {flake}).outputs {inputs}).devShells")
    assert sorted(shells) == ["aarch64-darwin", "x86_64-linux"]
    assert shells["aarch64-darwin"]["default"]["buildInputs"] == ["apple-sdk_14"]
    assert "zlib" in shells["x86_64-linux"]["default"]["packages"]
    assert shells["x86_64-linux"]["default"]["env"]["GOTOOLCHAIN"] == "local"


def direnv_env(module: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "DIRENV_LOG_FORMAT": "direnv: %s",
    }


def direnv(module: Path, *args: str) -> subprocess.CompletedProcess[str]:
    require_tool("direnv")
    return subprocess.run(
        ["direnv", *args], cwd=module, capture_output=True, text=True, env=direnv_env(module)
    )


DUMP_ENV = [sys.executable, "-c", "import os, json; print(json.dumps(dict(os.environ)))"]


def test_direnv_loads_the_locked_values_and_reports_drift(linux_module: Path) -> None:
    emit(linux_module, "--direnv")
    require_tool("shellcheck")
    check = subprocess.run(["shellcheck", str(linux_module / ".envrc")], capture_output=True)
    assert check.returncode == 0, check.stdout
    assert direnv(linux_module, "allow").returncode == 0
    loaded = direnv(linux_module, "exec", ".", *DUMP_ENV)
    assert loaded.returncode == 0, loaded.stderr
    env = json.loads(loaded.stdout)
    assert env["CGO_CFLAGS"] == go_env("CGO_CFLAGS")
    assert env["CC"] == "gcc" and env["GOTOOLCHAIN"] == go_env("GOVERSION") + "+auto"
    assert "differs" not in loaded.stderr

    (linux_module / "pp").mkdir()
    (linux_module / "pp" / "pp.go").write_text('package pp\n\n// #cgo LDFLAGS: -lpng\nimport "C"\n')
    drifted = direnv(linux_module, "exec", ".", *DUMP_ENV)
    assert drifted.returncode == 0  # the shell still loads
    assert "differs from envsnap.lock" in drifted.stderr
    assert json.loads(drifted.stdout)["GOTOOLCHAIN"] == go_env("GOVERSION") + "+auto"


HOSTILE = {
    "CGO_CFLAGS": "$(touch PWNED)",
    "CGO_LDFLAGS": "`touch PWNED`",
    "CGO_CPPFLAGS": '"; touch PWNED; "',
    "CGO_CXXFLAGS": "${builtins.readFile /etc/passwd}",
    "CC": "''${x}'; touch PWNED; '",
    "CXX": "junk\x01\x7f\u00e9\x1b[31m\\n\\",
    "PKG_CONFIG": "line one\nline two $HOME \t'q' \"dq\" \\$(touch PWNED)",
}


def hostile_sdk(module: Path) -> Path:
    return module / "x'$(touch PWNED)'" / "MacOSX14.0.sdk"


def hostile_lock(linux_module: Path) -> None:
    lock = tomllib.loads((linux_module / "envsnap.lock").read_text())
    (entry,) = lock["platforms"].values()
    entry["go"]["env"].update(HOSTILE)
    entry["env"]["PKG_CONFIG_PATH"] = "$(touch PWNED)\n${builtins.readFile /etc/passwd}"
    entry["libraries"][0]["name"] = "x$(touch PWNED)\n  pkgs.evil"
    darwin = json.loads(json.dumps(entry))
    darwin["os"].update(goos="darwin", goarch="arm64")
    darwin["apple"] = {
        "sdk_realpath": str(hostile_sdk(linux_module)),
        "sdk_build": "$(touch PWNED)",
        "developer_dir_realpath": str(linux_module / "`touch PWNED`"),
        "clt_version": "'; touch PWNED; '",
    }
    platforms = {"linux-amd64": make_entry(entry), "darwin-arm64": make_entry(darwin)}
    data = render(LockFile(linux_module / "envsnap.lock", 1, platforms))
    (linux_module / "envsnap.lock").write_bytes(data)


def source_envrc(module: Path, uname: str = "") -> dict[str, str]:
    """Source .envrc in bash with direnv's stdlib stubbed (and `uname` faked if asked)."""
    stubs = (
        "has() { return 1; }; watch_file() { :; }; log_error() { :; }; use() { :; }; "
        "strict_env() { :; }; log_status() { :; }"
    )
    if uname:
        system, machine = uname.split("-")
        stubs += f'; uname() {{ if [ "$1" = -s ]; then echo {system}; else echo {machine}; fi; }}'
    script = f'{stubs}; source ./.envrc; {" ".join(DUMP_ENV[:2])} "$1"'
    out = subprocess.run(
        ["bash", "-c", script, "bash", DUMP_ENV[2]], cwd=module, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    parsed: dict[str, str] = json.loads(out.stdout)
    return parsed


def test_hostile_lock_values_run_nothing_and_round_trip(linux_module: Path) -> None:
    hostile_lock(linux_module)
    emit(linux_module, "--direnv")  # alone first: with a shell.nix beside it, it would use Nix
    pwned = linux_module / "PWNED"
    envrc = linux_module / ".envrc"
    assert subprocess.run(["bash", "-n", str(envrc)], cwd=linux_module).returncode == 0
    require_tool("shellcheck")
    assert subprocess.run(["shellcheck", str(envrc)], capture_output=True).returncode == 0
    sourced = source_envrc(linux_module)
    for name, value in HOSTILE.items():
        assert sourced[name] == value, name
    on_a_mac = source_envrc(linux_module, uname="Darwin-arm64")
    assert "SDKROOT" not in on_a_mac and "DEVELOPER_DIR" not in on_a_mac  # neither exists yet
    hostile_sdk(linux_module).mkdir(parents=True)
    (linux_module / "`touch PWNED`").mkdir()
    on_a_mac = source_envrc(linux_module, uname="Darwin-arm64")
    assert on_a_mac["SDKROOT"] == str(hostile_sdk(linux_module))
    assert on_a_mac["DEVELOPER_DIR"] == str(linux_module / "`touch PWNED`")
    assert not pwned.exists()

    assert direnv(linux_module, "allow").returncode == 0
    loaded = direnv(linux_module, "exec", ".", *DUMP_ENV)
    assert loaded.returncode == 0, loaded.stderr
    for name, value in HOSTILE.items():
        assert json.loads(loaded.stdout)[name] == value, name
    assert not pwned.exists()

    for flag, nix_file in (("--nix", "shell.nix"), ("--flake", "flake.nix")):
        emit(linux_module, flag)
        nix_parse(linux_module / nix_file)
    evaluated = eval_shell(linux_module / "shell.nix", "x86_64-linux")
    for name in ("CGO_CFLAGS", "CGO_LDFLAGS", "CGO_CPPFLAGS", "CGO_CXXFLAGS"):
        assert evaluated["env"][name] == HOSTILE[name]
    flake_inputs = (
        "{ self = { }; nixpkgs.legacyPackages = { "
        f'"x86_64-linux" = {stub_pkgs("x86_64-linux")}; '
        f'"aarch64-darwin" = {stub_pkgs("aarch64-darwin")}; }}; }}'
    )
    flake = nix_eval(f"((import {linux_module / 'flake.nix'}).outputs {flake_inputs}).devShells")
    assert flake["x86_64-linux"]["default"]["env"]["CGO_CXXFLAGS"] == HOSTILE["CGO_CXXFLAGS"]
    assert "root:" not in json.dumps(evaluated) + json.dumps(flake)
    assert not pwned.exists()


def test_emitting_twice_gives_identical_bytes(linux_module: Path) -> None:
    for flag, name in (("--nix", "shell.nix"), ("--flake", "flake.nix"), ("--direnv", ".envrc")):
        emit(linux_module, flag)
        first = (linux_module / name).read_bytes()
        emit(linux_module, flag)
        assert (linux_module / name).read_bytes() == first


def test_a_foreign_envrc_survives_without_force(linux_module: Path) -> None:
    envrc = linux_module / ".envrc"
    envrc.write_text("export MINE=1\n")
    refused = envsnap("emit", "--direnv", "-C", str(linux_module))
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert envrc.read_text() == "export MINE=1\n"
    emit(linux_module, "--direnv", "--force")
    assert "envsnap:generated" in envrc.read_text()
    emit(linux_module, "--direnv")  # its own file is replaced without --force


def test_homebrew_flags_stay_out_of_the_nix_shell_with_a_comment() -> None:
    from envsnap.config import Config
    from envsnap.emit.plan import load_tables, plan_shell
    from envsnap.entry import Entry

    entry = {
        "go": {
            "version": "go1.26.1",
            "env": {
                "CGO_CFLAGS": "-I/opt/homebrew/opt/openssl@3/include",
                "CGO_LDFLAGS": "-O2 -g",
            },
        },
        "cc": {"compiler": {"version": "Apple clang version 17.0.0 (clang-1700.0.13.5)"}},
        "apple": {"sdk_version": "15.0"},
        "env": {},
        "libraries": [],
    }
    plan = plan_shell("darwin-arm64", cast(Entry, entry), load_tables(Config()))
    assert plan is not None
    assert "CGO_CFLAGS" not in plan.env and plan.env["CGO_LDFLAGS"] == "-O2 -g"
    assert any("CGO_CFLAGS is not set" in note and "Homebrew" in note for note in plan.notes)
    assert plan.packages == ["go_1_26", "clang"] and plan.sdk == "apple-sdk_15"
