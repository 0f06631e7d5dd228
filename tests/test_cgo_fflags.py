"""CGO_FFLAGS, the flags go passes to gfortran: locked, verified, emitted and inspected like the
other flag variables, declared once (envsnap.vocabulary.GO_VARIABLES). A lock written before
envsnap recorded it is held to go's own value, so it still verifies clean."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from envsnap.lockfile import make_entry
from tests.conftest import REPO, envsnap, require_tool

EXAMPLE = REPO / "examples" / "zlib"


@pytest.fixture
def module(tmp_path: Path) -> Path:
    for tool in ("go", "gcc", "pkg-config"):
        require_tool(tool)
    copy = tmp_path / "zlib"
    shutil.copytree(EXAMPLE, copy)
    (copy / "envsnap.lock").unlink()
    return copy


def environ(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CGO_FFLAGS"}
    return {**env, **values}


def verify(module: Path, **values: str) -> tuple[int, list[dict[str, Any]]]:
    result = envsnap("verify", "--json", "-C", str(module), env=environ(**values))
    document = json.loads(result.stdout)
    return result.returncode, document["findings"]


def go_env(name: str, env: dict[str, str]) -> str:
    out = subprocess.run(["go", "env", name], capture_output=True, text=True, env=env, check=True)
    return out.stdout.strip()


def test_it_is_locked_as_go_env_reports_it(module: Path) -> None:
    assert envsnap("lock", "-C", str(module), env=environ(CGO_FFLAGS="-O3")).returncode == 0
    lock = tomllib.loads((module / "envsnap.lock").read_text())
    (entry,) = lock["platforms"].values()
    assert entry["go"]["env"]["CGO_FFLAGS"] == go_env("CGO_FFLAGS", environ(CGO_FFLAGS="-O3"))


def test_a_changed_value_is_an_error_naming_it(module: Path) -> None:
    assert envsnap("lock", "-C", str(module), env=environ()).returncode == 0
    assert verify(module) == (0, [])
    code, findings = verify(module, CGO_FFLAGS="-O3 -ffast-math")
    assert code == 1
    (finding,) = findings
    assert (finding["id"], finding["severity"]) == ("go.env.CGO_FFLAGS", "error")
    assert finding["added"] == ["-O3", "-ffast-math"] and finding["removed"] == ["-O2", "-g"]


def without_fflags(module: Path) -> None:
    """The lock as an envsnap that did not record CGO_FFLAGS wrote it (schema 1, re-digested)."""
    path = module / "envsnap.lock"
    lock = tomllib.loads(path.read_text())
    for name, entry in lock["platforms"].items():
        del entry["go"]["env"]["CGO_FFLAGS"]
        lock["platforms"][name] = make_entry(entry)
    assert lock["schema"] == 1
    path.write_text(tomli_w.dumps(lock))


def test_an_older_lock_without_it_verifies_clean_at_gos_own_value(module: Path) -> None:
    assert envsnap("lock", "-C", str(module), env=environ()).returncode == 0
    without_fflags(module)
    assert verify(module) == (0, [])
    code, findings = verify(module, CGO_FFLAGS="-O3")
    assert code == 1 and [f["id"] for f in findings] == ["go.env.CGO_FFLAGS"]


def test_the_committed_example_lock_holds_no_cgo_fflags_and_replays_clean() -> None:
    """The example lock was written before CGO_FFLAGS was recorded; its own recording (whose
    go env reports CGO_FFLAGS at go's value) verifies it clean."""
    lock = tomllib.loads((EXAMPLE / "envsnap.lock").read_text())
    assert all("CGO_FFLAGS" not in e["go"]["env"] for e in lock["platforms"].values())
    recording = REPO / "tests" / "fixtures" / "recordings" / "debian12-amd64-zlib-example"
    result = envsnap("--replay", str(recording), "verify", "-C", str(EXAMPLE))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_emitted_envrc_exports_it(module: Path) -> None:
    assert envsnap("lock", "-C", str(module), env=environ(CGO_FFLAGS="-O1")).returncode == 0
    assert envsnap("emit", "--direnv", "-C", str(module), env=environ()).returncode == 0
    assert "export CGO_FFLAGS='-O1'" in (module / ".envrc").read_text()


def test_inspect_neither_shows_nor_compares_it_as_go_records_none(module: Path) -> None:
    """go writes CGO_CFLAGS, CGO_CPPFLAGS, CGO_CXXFLAGS and CGO_LDFLAGS into a binary's build
    information, never CGO_FFLAGS (cmd/go/internal/load: setBuildInfo): a binary cannot tell
    it, so inspect says nothing of it rather than a guess."""
    assert envsnap("lock", "-C", str(module), env=environ()).returncode == 0
    env = environ(CGO_FFLAGS="-O3", CGO_CFLAGS="-O2 -g -DMARK")
    binary = module / "app"
    subprocess.run(["go", "build", "-o", str(binary), "main.go"], cwd=module, env=env, check=True)
    told = subprocess.run(
        ["go", "version", "-m", str(binary)], capture_output=True, text=True, check=True
    )
    assert "CGO_CFLAGS=" in told.stdout and "CGO_FFLAGS" not in told.stdout
    shown = envsnap("inspect", "--show", str(binary))
    assert "CGO_CFLAGS" in shown.stdout and "CGO_FFLAGS" not in shown.stdout
    result = envsnap("inspect", "--json", "-C", str(module), str(binary))
    ids = [f["id"] for f in json.loads(result.stdout)["findings"]]
    assert "go.env.CGO_CFLAGS" in ids and not any("CGO_FFLAGS" in i for i in ids)


def test_each_declared_unset_value_is_gos_own() -> None:
    """A lock written before a setting was recorded is held to the value declared as go's when
    nothing sets it: ask go itself (no variable set, no go env file)."""
    from envsnap.vocabulary import GO_VARIABLES

    require_tool("go")
    declared = {v.name: v.unset for v in GO_VARIABLES if v.unset is not None}
    env = {k: v for k, v in os.environ.items() if k not in declared} | {"GOENV": "off"}
    out = subprocess.run(
        ["go", "env", "-json", *declared], capture_output=True, text=True, env=env, check=True
    )
    assert json.loads(out.stdout) == declared
