"""ENVSNAP_TRACE: one JSON line per host call, with no secret in it, and an unwritable file is a
warning, never a traceback."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from envsnap.host import LocalHost, ToolNotFound
from tests.conftest import envsnap

TOKEN = "ghp_" + "Zx8Qw2Er5Ty7Ui9Op1As3Df6Gh8Jk0Lz4Xc"


def _lines(file: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in file.read_text().splitlines()]


def test_a_local_host_traces_each_call_with_its_argv_and_duration(tmp_path: Path) -> None:
    file = tmp_path / "trace.jsonl"
    true = shutil.which("true")
    assert true is not None
    host = LocalHost({"PATH": "/usr/bin:/bin", "ENVSNAP_TRACE": str(file)})
    host.run([true, "a word"])
    host.read_bytes(str(tmp_path / "absent"))
    host.stat(str(tmp_path))
    with pytest.raises(ToolNotFound):
        host.run([str(tmp_path / "no-such-tool")])
    run, read, stat, missing = _lines(file)
    assert (run["call"], run["argv"], run["exit"]) == ("run", [true, "a word"], 0)
    assert isinstance(run["seconds"], float) and run["seconds"] >= 0
    assert (read["call"], read["found"], stat["call"]) == ("read", False, "stat")
    assert (missing["call"], missing["error"]) == ("run", "ToolNotFound")


def test_no_secret_reaches_the_trace(tmp_path: Path) -> None:
    file = tmp_path / "trace.jsonl"
    environ = {"PATH": "/usr/bin:/bin", "ENVSNAP_TRACE": str(file), "GITHUB_TOKEN": TOKEN}
    host = LocalHost(environ)
    host.run([sys.executable, "-c", "pass", f"--header=Authorization: token {TOKEN}"])
    host.read_bytes(f"/tmp/{TOKEN}")
    host.getenv("GITHUB_TOKEN")
    text = file.read_text()
    assert TOKEN not in text
    assert [line["call"] for line in _lines(file)] == ["run", "read", "getenv"]


@pytest.mark.parametrize("where", ["missing-dir/trace.jsonl", "."])
def test_an_unwritable_trace_file_is_one_warning(tmp_path: Path, where: str) -> None:
    module = tmp_path / "mod"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    recording = Path(__file__).parent.parent / "fixtures" / "recordings" / "macos15-arm64-xcodes"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ENVSNAP_NO_CACHE": "1",
        "ENVSNAP_TRACE": str(tmp_path / where),
    }
    result = envsnap("--replay", str(recording), "lock", "-C", str(module), env=env)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "ENVSNAP_TRACE" in line]
    assert len(warnings) == 1, result.stderr
    assert warnings[0].startswith("envsnap: warning: cannot write the trace to ")
    assert "Traceback" not in result.stderr
