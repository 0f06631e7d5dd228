"""The benchmarks run end to end in their short mode, with a native go, and report numbers.

No ratio is asserted (CI machines are slow and noisy); what is checked is that every target has
its row, measured, and that a wrapper ``go`` is refused rather than measured.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.toolchain import is_native_executable, native_go_dir
from tests.conftest import REPO, require_tool

RUNNER = REPO / "benchmarks" / "run.py"
ROWS = {
    "verify_warm",
    "verify_after_lock",
    "verify_drift",
    "startup__version",
    "startup__help",
    "verify_files",
    "verify_memory",
    "lock_packages",
    "hash_one_core",
    "hash_all_cores",
}


def run_benchmarks(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(RUNNER), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=dict(os.environ),
    )


def is_figure(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


@pytest.mark.slow
def test_short_mode_measures_every_target_with_a_native_go() -> None:
    for tool in ("go", "gcc", "ar", "pkg-config", "openssl", "sh"):
        require_tool(tool)
    result = run_benchmarks("--short", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["mode"] == "short" and document["failures"] == []
    assert is_native_executable(Path(document["machine"]["go_binary"]))
    rows = {row["key"]: row for row in document["rows"]}
    assert set(rows) == ROWS
    for key, row in rows.items():
        assert is_figure(row["envsnap"]), row
        if row["result_unit"] == "ms above":  # a difference of two timings: noise may make it <= 0
            assert math.isfinite(row["result"]), row
        else:
            assert is_figure(row["result"]), row
        assert key == "verify_memory" or is_figure(row["baseline"]), row
        assert isinstance(row["met"], bool) and row["target"], row


def test_a_wrapper_go_is_refused(tmp_path: Path) -> None:
    wrapper = tmp_path / "go"
    wrapper.write_text('#!/bin/sh\nexec /usr/bin/env go "$@"\n')
    wrapper.chmod(0o755)
    result = run_benchmarks("--go", str(tmp_path), "--only", "startup")
    assert result.returncode == 2
    assert "not a native executable" in result.stderr and "Traceback" not in result.stderr


def test_the_native_go_is_found_behind_go_bins_wrapper() -> None:
    require_tool("go")
    found = native_go_dir(None) / "go"
    assert is_native_executable(found)
    version = subprocess.run([str(found), "version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("go version go")


def test_short_is_the_default_mode() -> None:
    from benchmarks.run import parse_args

    assert parse_args([]).full is False
    assert parse_args(["--short"]).full is False
    assert parse_args(["--full"]).full is True
