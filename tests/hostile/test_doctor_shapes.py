"""doctor reads go list's JSON as go types it: a package of another shape is a failed listing
(its checks are skipped, saying why), never a crash."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import envsnap

LISTS = """#!/bin/sh
if [ "$1" = list ]; then printf '%s\\n' '{listing}'; exit 0; fi
exec "{go}" "$@"
"""


@pytest.mark.parametrize(
    "listing",
    [
        '{"ImportPath": "x", "CgoFiles": 5}',
        '{"ImportPath": "x", "Dir": 7}',
        '{"ImportPath": ["x"], "CgoFiles": ["a.go"]}',
        '{"ImportPath": "x", "CgoPkgConfig": [1, 2]}',
        '{"ImportPath": "x", "Error": "not an object"}',
        "[1, 2, 3]",
    ],
)
def test_a_listing_of_another_shape_is_no_crash(
    cgo_module: Path, tmp_path: Path, listing: str
) -> None:
    go = shutil.which("go")
    assert go is not None
    fake_dir = tmp_path / "fake"
    fake_dir.mkdir()
    (fake_dir / "go").write_text(LISTS.format(listing=listing, go=Path(go).resolve()))
    (fake_dir / "go").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake_dir}{os.pathsep}{os.environ['PATH']}"}
    for extra in ((), ("--json",)):
        result = envsnap("doctor", *extra, "-C", str(cgo_module), env=env)
        assert result.returncode in (0, 1), result.stderr
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
