"""A drift seen through the memo is re-checked without it; when the tools' time budget runs out
during that re-check, verify still reports the drift (exit 1), never a timeout (exit 2)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import envsnap

HANGS_WHEN_FLAGGED = """#!/bin/sh
[ -e "{flag}" ] && exec sleep 100
exec "{go}" "$@"
"""


def test_a_recheck_out_of_time_reports_the_remembered_drift(
    cgo_module: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    go = shutil.which("go")
    assert go is not None
    # outside the module's folder and its parents: a file created in a folder go searches
    # (go.work in every parent) rightly makes the memo of `go env` stale
    flag = tmp_path_factory.mktemp("flag") / "hang-now"
    fake_dir = tmp_path_factory.mktemp("fake")
    fake = fake_dir / "go"
    fake.write_text(HANGS_WHEN_FLAGGED.format(flag=flag, go=Path(go).resolve()))
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake_dir}{os.pathsep}{os.environ['PATH']}"}
    locked = envsnap("lock", "-C", str(cgo_module), env={**env, "CGO_CFLAGS": "-O2 -g -DLOCKED"})
    assert locked.returncode == 0, locked.stderr
    first = envsnap("verify", "-C", str(cgo_module), env=env)  # fills the memo
    assert first.returncode == 1 and "removed -DLOCKED" in first.stdout
    flag.touch()  # from now on go hangs; the memo still holds
    started = time.monotonic()
    result = envsnap("verify", "--json", "-C", str(cgo_module), env={**env, "ENVSNAP_TIMEOUT": "3"})
    assert time.monotonic() - started < 20
    assert result.returncode == 1, result.stderr
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["id"] == "go.env.CGO_CFLAGS" and finding["removed"] == ["-DLOCKED"]
    assert "ran out of time" in result.stderr and "remembered" in result.stderr
