"""The layouts people have: a go.work root, a broken go.mod."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import LIBM_PACKAGE, ZLIB_PACKAGE, envsnap, require_tool, write_module


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A go.work that uses two cgo modules (zlib through pkg-config, libm through -l)."""
    for tool in ("go", "gcc", "pkg-config"):
        require_tool(tool)
    root = tmp_path / "ws"
    write_module(root / "a", {"zz/zz.go": ZLIB_PACKAGE}, module="example.com/a")
    write_module(root / "b", {"mm/mm.go": LIBM_PACKAGE}, module="example.com/b")
    (root / "go.work").write_text("go 1.21\n\nuse (\n\t./a\n\t./b\n)\n")
    return root


def in_workspace() -> dict[str, str]:
    """The environment without the suite's GOFLAGS=-mod=mod, which workspace mode refuses."""
    return {k: v for k, v in os.environ.items() if k != "GOFLAGS"}


def test_lock_and_verify_at_a_go_work_root_cover_each_module(workspace: Path) -> None:
    locked = envsnap("lock", "-C", str(workspace), env=in_workspace())
    assert locked.returncode == 0, locked.stderr
    for module in ("a", "b"):
        assert (workspace / module / "envsnap.lock").is_file()
        assert f"envsnap: module {workspace / module}" in locked.stderr
    assert not (workspace / "envsnap.lock").exists()
    clean = envsnap("verify", "--strict", "-C", str(workspace), env=in_workspace())
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.count("matches envsnap.lock") == 2


def test_a_drift_in_one_module_of_the_workspace_fails_the_root_verify(workspace: Path) -> None:
    assert envsnap("lock", "-C", str(workspace), env=in_workspace()).returncode == 0
    (workspace / "b" / "mm" / "more.go").write_text(
        'package mm\n\n// #cgo pkg-config: zlib\n// #include <zlib.h>\nimport "C"\n'
    )
    result = envsnap("verify", "-C", str(workspace), env=in_workspace())
    assert result.returncode == 1, result.stdout + result.stderr
    assert "matches envsnap.lock" in result.stdout  # module a
    assert "zlib" in result.stdout  # module b: a library the lock lacks


def test_a_directory_inside_the_workspace_but_in_no_module_is_the_workspace(
    workspace: Path,
) -> None:
    assert envsnap("lock", "-C", str(workspace), env=in_workspace()).returncode == 0
    docs = workspace / "docs"
    docs.mkdir()
    result = envsnap("verify", "-C", str(docs), env=in_workspace())
    assert result.returncode == 0, result.stdout + result.stderr


def test_other_commands_at_a_go_work_root_name_the_modules(workspace: Path) -> None:
    result = envsnap("show", "-C", str(workspace), env=in_workspace())
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "Go workspace" in line and "(modules: a, b)" in line and "-C" in line
    assert "go mod init" not in line
    as_json = envsnap("verify", "--json", "-C", str(workspace), env=in_workspace())
    assert as_json.returncode == 2 and as_json.stdout == ""
    assert "one document per module" in as_json.stderr


BROKEN = "module example.com/broken\n\ngo 1.21\n\nrequire (\n\texample.com/x v1.0.0\n"


def _go_says(module: Path) -> str:
    """go's own words for the broken go.mod: the line after `errors parsing go.mod:`."""
    go = require_tool("go")
    listed = subprocess.run(
        [go, "list", "./..."], cwd=module, capture_output=True, text=True, timeout=120
    )
    lines = listed.stderr.splitlines()
    said = lines[lines.index("go: errors parsing go.mod:") + 1]
    return re.sub(r"\S*/go\.mod:", "go.mod:", said)


@pytest.mark.parametrize(
    "command",
    [["lock"], ["lock", "--check"], ["show"], ["show", "--json"], ["verify"], ["verify", "--json"],
     ["diff"], ["init"]],
    ids=" ".join,
)  # fmt: skip
def test_a_broken_go_mod_is_one_line_with_gos_message_and_exit_2(
    cgo_module: Path, command: list[str]
) -> None:
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    shutil.copy(cgo_module / "go.mod", cgo_module / "go.mod.good")
    (cgo_module / "go.mod").write_text(BROKEN)
    before = (cgo_module / "envsnap.lock").read_bytes()
    result = envsnap(*command, "-C", str(cgo_module), env={**os.environ})
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"envsnap: go cannot read go.mod: {_go_says(cgo_module)}")
    assert "go list -e" not in line and "${MODULE}" not in line and str(cgo_module) not in line
    assert (cgo_module / "envsnap.lock").read_bytes() == before


def test_doctor_fails_a_module_whose_go_cannot_be_had(tmp_path: Path) -> None:
    require_tool("go")
    module = write_module(tmp_path / "newgo", {"main.go": "package main\n\nfunc main() {}\n"})
    (module / "go.mod").write_text("module example.com/newgo\n\ngo 1.99\n")
    for setting in ({"GOPROXY": "off"}, {"GOTOOLCHAIN": "path"}):
        result = envsnap("doctor", "-C", str(module), env={**os.environ, **setting})
        assert result.returncode == 1, result.stdout
        line = next(x for x in result.stdout.splitlines() if "go.toolchain" in x)
        assert line.startswith("problem") and "go1.99.0" in line, line


def test_doctor_passes_a_switch_to_a_go_this_machine_has(tmp_path: Path) -> None:
    """The toolchain go switches to is in the module cache, where go looks: no problem."""
    from tests.conftest import other_go

    older = other_go("ENVSNAP_TEST_GO_OTHER_MINOR")
    newer = require_tool("go")
    version = subprocess.run(
        [newer, "env", "GOVERSION"], capture_output=True, text=True, check=True
    ).stdout.strip()
    cache = tmp_path / "modcache"
    bin_dir = cache / "golang.org" / f"toolchain@v0.0.1-{version}.linux-amd64" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "go").symlink_to(Path(newer).resolve())
    module = write_module(tmp_path / "switch", {"main.go": "package main\n\nfunc main() {}\n"})
    (module / "go.mod").write_text(f"module example.com/s\n\ngo {version.removeprefix('go')}\n")
    env = {
        **os.environ,
        "PATH": f"{older}{os.pathsep}{os.environ['PATH']}",
        "GOMODCACHE": str(cache),
    }
    result = envsnap("doctor", "-C", str(module), env=env)
    line = next(x for x in result.stdout.splitlines() if "go.toolchain" in x)
    assert line.startswith("warning") and version in line, result.stdout


def test_cgo_enabled_0_on_a_module_without_cgo_is_no_error(tmp_path: Path) -> None:
    require_tool("go")
    module = write_module(tmp_path / "pure", {"main.go": "package main\n\nfunc main() {}\n"})
    locked = envsnap("lock", "-C", str(module), env={**os.environ, "CGO_ENABLED": "1"})
    assert locked.returncode == 0, locked.stderr
    assert "no cgo package" in locked.stderr
    result = envsnap("verify", "--json", "-C", str(module), env={**os.environ, "CGO_ENABLED": "0"})
    assert result.returncode == 0, result.stdout + result.stderr
    (finding,) = json.loads(result.stdout)["findings"]
    assert (finding["id"], finding["severity"]) == ("go.env.CGO_ENABLED", "info")


def test_cgo_enabled_0_on_a_module_with_cgo_is_still_an_error(cgo_module: Path) -> None:
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    result = envsnap(
        "verify", "--json", "-C", str(cgo_module), env={**os.environ, "CGO_ENABLED": "0"}
    )
    assert result.returncode == 1
    severities = {f["id"]: f["severity"] for f in json.loads(result.stdout)["findings"]}
    assert severities.get("go.env.CGO_ENABLED") == "error", severities


def test_gowork_off_in_a_workspace_is_named_as_the_cause(workspace: Path) -> None:
    """Locked inside the go.work, verified with GOWORK=off: one finding, the workspace, owning
    the cgo package of the other module that drops out (not "the lock is stale")."""
    (workspace / "a" / "uses_b.go").write_text(
        'package main\n\nimport _ "example.com/b/mm"\n\nfunc main() {}\n'
    )
    (workspace / "a" / "go.mod").write_text(
        "module example.com/a\n\ngo 1.21\n\nrequire example.com/b v0.0.0\n"
    )
    module = workspace / "a"
    assert envsnap("lock", "-C", str(module), env=in_workspace()).returncode == 0
    assert 'workspace = "../go.work"' in (module / "envsnap.lock").read_text()
    assert envsnap("verify", "--strict", "-C", str(module), env=in_workspace()).returncode == 0
    off = {**in_workspace(), "GOWORK": "off"}
    result = envsnap("verify", "--json", "-C", str(module), env=off)
    assert result.returncode == 1, result.stdout + result.stderr
    (finding,) = json.loads(result.stdout)["findings"]
    assert (finding["id"], finding["severity"]) == ("go.workspace", "error")
    assert "cgo.packages.example.com/b/mm" in finding["also"]
    assert "GOWORK" in finding["fix"]
    text = envsnap("verify", "-C", str(module), env=off).stdout
    assert "no longer uses cgo" not in text
