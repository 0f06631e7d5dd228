"""An emitted .envrc recreates the lock so exactly that verify has nothing to say inside it.

On Linux the real direnv loads the .envrc and the real envsnap verifies inside it. On each macOS
recording the real direnv loads the .envrc too, with ``uname`` answering as that Mac and ``[ -d ]``
answering from what the recording holds; the values it exports are then laid over the recording's
environment and the recording is verified against the lock it wrote: zero findings, not even info.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from tests.conftest import RECORDINGS, REPO, envsnap, require_tool
from tests.test_emit_envrc import DUMP_ENV, base_env, direnv_exec, path_without, run, shim

UNAME_MACHINE = {"arm64": "arm64", "x86_64": "x86_64", "amd64": "x86_64"}


def darwin_recordings() -> list[str]:
    names = []
    for path in sorted(RECORDINGS.iterdir()):
        host = json.loads((path / "host.json").read_text())
        if host["system"] == "darwin":
            names.append(path.name)
    return names


def findings_inside(module: Path, env: dict[str, str], *replay: str) -> dict[str, Any]:
    result = envsnap(*replay, "verify", "--strict", "--json", "-C", str(module), env=env)
    document: dict[str, Any] = json.loads(result.stdout)
    assert document["exit_code"] == result.returncode
    return document


def test_linux_envrc_verifies_with_zero_findings(tmp_path: Path) -> None:
    """The real direnv, the real go: not even the info that GOTOOLCHAIN pins the locked Go."""
    for tool in ("go", "gcc", "pkg-config", "direnv"):
        require_tool(tool)
    module = tmp_path / "zlib"
    shutil.copytree(REPO / "examples" / "zlib", module)
    bin_dir = tmp_path / "bin"
    shim(bin_dir, "envsnap", f'exec {sys.executable} -m envsnap "$@"\n')
    env = base_env(bin_dir)
    assert envsnap("lock", "-C", str(module), env=env).returncode == 0
    assert envsnap("emit", "--direnv", "-C", str(module), env=env).returncode == 0
    assert run(["direnv", "allow"], module, env).returncode == 0
    loaded = direnv_exec(module, env, "envsnap", "verify", "--strict", "--json")
    document = json.loads(loaded.stdout)
    assert "GOTOOLCHAIN" in (module / ".envrc").read_text()
    assert document["findings"] == [], loaded.stdout
    assert loaded.returncode == 0 and "differs" not in loaded.stderr, loaded.stderr
    before = (module / "envsnap.lock").read_bytes()
    relocked = direnv_exec(module, env, "envsnap", "lock", "--check")  # lock agrees with verify
    assert relocked.returncode == 0, relocked.stderr
    assert direnv_exec(module, env, "envsnap", "lock").returncode == 0
    assert (module / "envsnap.lock").read_bytes() == before


# --- macOS: the recordings ------------------------------------------------------------------


def _parents(path: str) -> list[str]:
    return [str(p) for p in PurePosixPath(path).parents if str(p) != "/"]


def existing_dirs(host: dict[str, Any]) -> set[str]:
    """The directories a recording shows exist: a recorded directory, the real path of a
    recorded symlink, and every folder that holds a recorded file."""
    stats = host.get("stat", {})
    dirs = {path for path, info in stats.items() if info and info.get("kind") == "dir"}
    known = [*stats, *host.get("files", {}), *host.get("realpath", {}).values()]
    known = [p for p in known if p and (stats.get(p) is not None or p not in stats)]
    for path in known:
        dirs.update(_parents(path))
    for link, real in host.get("realpath", {}).items():
        if real in dirs:
            dirs.add(link)
    return dirs


def with_xcode_sdk_links(host: dict[str, Any], entry: dict[str, Any]) -> None:
    """An Xcode's SDKs folder holds its SDK as ``MacOSX.sdk`` and the versioned name as a symlink
    to it (``MacOSX15.0.sdk -> MacOSX.sdk``, as a public Xcode shows: the xnu build notes quoted
    in docs/emit.md); the recordings, made from samples, hold only the former."""
    apple = entry.get("apple") or {}
    real, version = str(apple.get("sdk_realpath") or ""), apple.get("sdk_version")
    if apple.get("developer_dir_kind") != "xcode" or not real.endswith("/MacOSX.sdk"):
        return
    versioned = str(PurePosixPath(real).parent / f"MacOSX{version}.sdk")
    host.setdefault("realpath", {})[versioned] = real
    host.setdefault("stat", {})[versioned] = {"kind": "dir"}
    for name, blob in list(host.get("files", {}).items()):
        if name.startswith(real + "/"):
            host["files"][versioned + name[len(real) :]] = blob


def direnvrc(config: Path, dirs: set[str]) -> None:
    """direnv's user rc: ``[ -d PATH ]`` answers from the recording, everything else as bash."""
    cases = " | ".join(f"'{d}'" for d in sorted(dirs)) or "''"
    (config / "direnv").mkdir(parents=True, exist_ok=True)
    (config / "direnv" / "direnvrc").write_text(
        "[() {\n"
        "  if [[ $1 == -d && $# == 3 ]]; then\n"
        f'    case "$2" in {cases}) return 0 ;; *) return 1 ;; esac\n'
        "  fi\n"
        '  builtin [ "$@"\n'
        "}\n"
    )


def locked_entry(module: Path) -> dict[str, Any]:
    import tomllib

    platforms = tomllib.loads((module / "envsnap.lock").read_text())["platforms"]
    (entry,) = platforms.values()
    assert isinstance(entry, dict)
    return entry


def case_exports(envrc: str) -> set[str]:
    return set(re.findall(r"^\s+export ([A-Z_][A-Z0-9_]*)=", envrc, re.MULTILINE))


@pytest.mark.parametrize("name", darwin_recordings())
def test_mac_envrc_exports_verify_with_zero_findings(name: str, tmp_path: Path) -> None:
    require_tool("direnv")
    recording = RECORDINGS / name
    module = tmp_path / "m"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    locked = envsnap("--replay", str(recording), "lock", "-C", str(module))
    if locked.returncode != 0:
        assert "probe(s) failed" in locked.stderr  # a Mac whose tools are gone locks nothing
        return
    host = json.loads((recording / "host.json").read_text())
    entry = locked_entry(module)
    with_xcode_sdk_links(host, entry)

    env = base_env(tmp_path / "uname")
    env["PATH"] = f"{tmp_path / 'uname'}{os.pathsep}{path_without(tmp_path, 'envsnap')}"
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    shim(
        tmp_path / "uname",
        "uname",
        f'case "$1" in -s) echo Darwin ;; -m) echo {UNAME_MACHINE[host["machine"]]} ;; '
        "*) echo Darwin ;; esac\n",
    )
    dirs = existing_dirs(host)
    direnvrc(tmp_path / "config", dirs)
    for directory in dirs:  # what the .envrc found, the replayed probes find too
        host["stat"].setdefault(directory, {"kind": "dir"})
    assert envsnap("emit", "--direnv", "-C", str(module), env=env).returncode == 0
    assert run(["direnv", "allow"], module, env).returncode == 0
    loaded = direnv_exec(module, env, *DUMP_ENV)
    assert loaded.returncode == 0, loaded.stderr
    assert "not set" not in loaded.stderr, loaded.stderr  # every locked directory is there
    exported = json.loads(loaded.stdout)
    names = case_exports((module / ".envrc").read_text())
    host["environ"].update({k: exported[k] for k in names})

    replayed = tmp_path / "replayed"
    shutil.copytree(recording, replayed)
    (replayed / "host.json").write_text(json.dumps(host))
    document = findings_inside(module, dict(os.environ), "--replay", str(replayed))
    assert document["findings"] == [], json.dumps(document["findings"], indent=1)
    assert document["exit_code"] == 0
    relocked = envsnap("--replay", str(replayed), "lock", "--check", "-C", str(module))
    assert relocked.returncode == 0, relocked.stderr


def test_a_variants_envrc_verifies_that_variant_with_zero_findings(tmp_path: Path) -> None:
    for tool in ("go", "gcc", "pkg-config", "direnv"):
        require_tool(tool)
    module = tmp_path / "zlib"
    shutil.copytree(REPO / "examples" / "zlib", module)
    (module / "envsnap.toml").write_text('[variants.withz]\ntags = ["withz"]\n')
    bin_dir = tmp_path / "bin"
    shim(bin_dir, "envsnap", f'exec {sys.executable} -m envsnap "$@"\n')
    env = base_env(bin_dir)
    assert envsnap("lock", "-C", str(module), env=env).returncode == 0
    emitted = envsnap("emit", "--direnv", "--variant", "withz", "-C", str(module), env=env)
    assert emitted.returncode == 0, emitted.stderr
    assert run(["direnv", "allow"], module, env).returncode == 0
    exported = json.loads(direnv_exec(module, env, *DUMP_ENV).stdout)
    assert exported["ENVSNAP_VARIANT"] == "withz" and "withz" in exported["GOFLAGS"]
    loaded = direnv_exec(module, env, "envsnap", "verify", "--strict", "--json")
    document = json.loads(loaded.stdout)
    assert document["findings"] == [] and document["exit_code"] == 0, loaded.stdout
