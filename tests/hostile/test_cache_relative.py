"""A program or a ``.pc`` file planted where a relative search-path entry points, after the caches
were filled (docs/cache.md).

``PATH=:$PATH`` and ``PATH=bin:$PATH`` search the working directory; ``PKG_CONFIG_PATH=pc``
searches under it. envsnap refuses a program found that way (as go does), and pkg-config reads
the ``.pc`` file it finds first: either changes the answer, so the caches stamp those entries
resolved against the working directory (which their keys include). Each case requires the
cached verify, run from the same directory, to report what ``ENVSNAP_NO_CACHE=1`` reports, and
that to be a drift.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LIBM_PACKAGE, ZLIB_PACKAGE, envsnap, require_tool, write_module


def verify_from(work: Path, module: Path, env: Mapping[str, str], cached: bool) -> dict[str, Any]:
    env = {**env, "ENVSNAP_NO_CACHE": "0" if cached else "1", "PWD": str(work)}
    result = envsnap("verify", "--json", "-C", str(module), env=env, cwd=work)
    assert result.returncode in (0, 1), result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def warm_from(work: Path, module: Path, env: Mapping[str, str]) -> None:
    locked = envsnap("lock", "-C", str(module), env={**env, "PWD": str(work)}, cwd=work)
    assert locked.returncode == 0, locked.stderr
    time.sleep(0.2)  # older than the racy window, so the caches keep what they see
    for _ in range(2):
        assert verify_from(work, module, env, cached=True)["exit_code"] == 0


def drift_from(work: Path, module: Path, env: Mapping[str, str]) -> list[str]:
    cached = verify_from(work, module, env, cached=True)
    assert cached == verify_from(work, module, env, cached=False)
    return [finding["id"] for finding in cached["findings"]]


@pytest.mark.parametrize("entry", ["", "bin"])
def test_a_compiler_planted_under_a_relative_path_entry(tmp_path: Path, entry: str) -> None:
    gcc = require_tool("gcc")
    require_tool("go")
    module = write_module(tmp_path / "mod", {"mm/mm.go": LIBM_PACKAGE})
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PATH": f"{entry}:{os.environ['PATH']}"}
    warm_from(work, module, env)
    planted = work / entry / "gcc"
    planted.parent.mkdir(exist_ok=True)
    planted.write_text(f'#!/bin/sh\nexec "{gcc}" "$@"\n')
    planted.chmod(0o755)
    found = drift_from(work, module, env)
    assert any(path.startswith("cc.") for path in found), found


def test_a_pc_file_planted_under_a_relative_pkg_config_path(tmp_path: Path) -> None:
    for tool in ("go", "gcc", "pkg-config"):
        require_tool(tool)
    module = write_module(tmp_path / "mod", {"zz/zz.go": ZLIB_PACKAGE})
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PKG_CONFIG_PATH": "pc"}
    warm_from(work, module, env)
    (work / "pc").mkdir()
    (work / "pc" / "zlib.pc").write_text(
        "Name: zlib\nDescription: planted\nVersion: 0.0.1\nLibs: -lz\n"
    )
    assert "libraries.zlib.version" in drift_from(work, module, env)
