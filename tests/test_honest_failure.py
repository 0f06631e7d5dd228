"""`lock` refuses a machine whose probes failed, unless told to write an incomplete entry, and
`verify` says so first; a failed package listing is one finding with go's whole message; a
GOOS/GOARCH other than the host's is refused. All with the real tools."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LIBM_PACKAGE, ZLIB_PACKAGE, envsnap, require_tool


def verify_json(module: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = envsnap("verify", "--json", "-C", str(module), env=env)
    document: dict[str, Any] = json.loads(result.stdout)
    assert document["exit_code"] == result.returncode
    return document


def entry_of(module: Path) -> dict[str, Any]:
    (entry,) = tomllib.loads((module / "envsnap.lock").read_text())["platforms"].values()
    assert isinstance(entry, dict)
    return entry


@pytest.fixture
def missing_module(cgo_module: Path) -> Path:
    """The cgo module plus a package whose pkg-config module is not installed."""
    source = ZLIB_PACKAGE.replace("package zz", "package gone").replace("zlib\n", "envsnapgone\n")
    (cgo_module / "gone").mkdir()
    (cgo_module / "gone" / "gone.go").write_text(source)
    return cgo_module


def test_a_missing_pkg_config_module_fails_lock_naming_it(missing_module: Path) -> None:
    result = envsnap("lock", "-C", str(missing_module))
    assert result.returncode == 1
    assert "envsnapgone" in result.stderr and "example.com/m/gone" in result.stderr
    assert "--allow-incomplete" in result.stderr and "Traceback" not in result.stderr
    assert not (missing_module / "envsnap.lock").exists()


def test_an_incomplete_lock_is_reported_first_on_this_machine(missing_module: Path) -> None:
    result = envsnap("lock", "--allow-incomplete", "-C", str(missing_module))
    assert result.returncode == 0, result.stderr
    (failure,) = entry_of(missing_module)["incomplete"]
    assert "envsnapgone" in failure
    document = verify_json(missing_module)
    assert document["exit_code"] == 1
    first = document["findings"][0]
    assert (first["id"], first["severity"]) == ("incomplete", "error")
    assert first["locked"] == [failure]
    text = envsnap("verify", "-C", str(missing_module)).stdout
    assert "incomplete lock" in text.splitlines()[2] and "envsnapgone" in text


def test_a_good_machine_is_not_told_to_install_what_was_never_locked(
    missing_module: Path, tmp_path: Path
) -> None:
    assert envsnap("lock", "--allow-incomplete", "-C", str(missing_module)).returncode == 0
    pc_dir = tmp_path / "pc"
    pc_dir.mkdir()
    zlib_pc = subprocess.run(
        ["pkg-config", "--variable=pcfiledir", "zlib"], capture_output=True, text=True, check=True
    ).stdout.strip()
    shutil.copy(Path(zlib_pc) / "zlib.pc", pc_dir / "envsnapgone.pc")
    env = {**os.environ, "PKG_CONFIG_PATH": str(pc_dir)}
    document = verify_json(missing_module, env=env)
    assert document["findings"][0]["id"] == "incomplete"
    (gone,) = [f for f in document["findings"] if f["subject"] == "envsnapgone"]
    assert gone["severity"] == "error" and "envsnap lock" in gone["fix"]
    assert not any("install the locked" in f["fix"] for f in document["findings"])


def test_the_incomplete_field_is_covered_by_the_digest(missing_module: Path) -> None:
    assert envsnap("lock", "--allow-incomplete", "-C", str(missing_module)).returncode == 0
    lock = missing_module / "envsnap.lock"
    text = lock.read_text()
    start = text.index("incomplete = [")
    end = text.index("]\n", start) + 2
    lock.write_text(text[:start] + text[end:])
    result = envsnap("verify", "-C", str(missing_module))
    assert result.returncode == 2 and "edited by hand" in result.stderr


def test_an_unresolved_library_fails_lock(cgo_module: Path) -> None:
    (cgo_module / "mm" / "mm.go").write_text(LIBM_PACKAGE.replace("-lm", "-lm -lenvsnapnone"))
    result = envsnap("lock", "-C", str(cgo_module))
    assert result.returncode == 1
    assert "-lenvsnapnone" in result.stderr and "example.com/m/mm" in result.stderr


def test_cgo_disabled_with_cgo_files_fails_lock(cgo_module: Path) -> None:
    result = envsnap("lock", "-C", str(cgo_module), env={**os.environ, "CGO_ENABLED": "0"})
    assert result.returncode == 1
    line = next(x for x in result.stderr.splitlines() if "CGO_ENABLED=0" in x)
    assert "example.com/m/zz" in line and "example.com/m/mm" in line
    assert not (cgo_module / "envsnap.lock").exists()


def test_no_c_compiler_fails_lock(cgo_module: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("go", "pkg-config"):
        (bin_dir / tool).symlink_to(require_tool(tool))
    result = envsnap("lock", "-C", str(cgo_module), env={**os.environ, "PATH": str(bin_dir)})
    assert result.returncode == 1
    assert "C compiler" in result.stderr and "gcc" in result.stderr
    assert "CGO_ENABLED=0" in result.stderr  # go's default without a compiler hides the cgo files
    assert not (cgo_module / "envsnap.lock").exists()


def test_a_go_mod_go_cannot_parse_is_one_line_with_gos_message(cgo_module: Path) -> None:
    """go's refusal to read go.mod stops every command the same way (exit 2, one line); it is
    no drift of the toolchain, and not a stale lock ("no longer uses cgo")."""
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    with (cgo_module / "go.mod").open("a") as handle:
        handle.write("\nbogusdirective x\n")
    said = (
        subprocess.run(
            ["go", "list", "./..."], cwd=cgo_module, capture_output=True, text=True, check=False
        )
        .stderr.strip()
        .splitlines()
    )
    assert said[0] == "go: errors parsing go.mod:"  # go says what failed first, the detail after
    detail = said[1].strip().replace(f"{cgo_module}/", "")
    for argv in (["verify"], ["verify", "--json"]):
        result = envsnap(*argv, "-C", str(cgo_module))
        assert result.returncode == 2 and result.stdout == "", result.stdout
        assert_one_line(result.stderr, "go cannot read go.mod", detail)
        assert "no longer uses" not in result.stderr


def assert_one_line(stderr: str, *words: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    for word in words:
        assert word in lines[0]


def test_a_cross_target_from_the_environment_is_refused(cgo_module: Path) -> None:
    env = {**os.environ, "GOOS": "darwin", "GOARCH": "arm64"}
    result = envsnap("lock", "-C", str(cgo_module), env=env)
    assert result.returncode == 2
    assert_one_line(result.stderr, "darwin-arm64", "linux-amd64", "environment", "not supported")
    assert not (cgo_module / "envsnap.lock").exists()


def test_a_cross_target_from_go_env_w_is_refused(cgo_module: Path) -> None:
    subprocess.run(["go", "env", "-w", "GOARCH=arm64"], cwd=cgo_module, check=True)
    result = envsnap("lock", "-C", str(cgo_module))
    assert result.returncode == 2
    assert_one_line(result.stderr, "linux-arm64", "go env -w", "go env -u")
    assert not (cgo_module / "envsnap.lock").exists()
