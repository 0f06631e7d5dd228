"""Valid JSON of the wrong shape from go: a one-line error naming the command, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.conftest import Tools, assert_reported


@pytest.mark.parametrize(
    "printed",
    ['["GOOS", "linux"]', '{"GOOS": 1, "GOARCH": 2}', '{"GOOS": ["linux"]}', "42"],
    ids=["list", "numbers", "nested", "number"],
)
def test_go_env_json_of_the_wrong_shape(tools: Tools, cgo_module: Path, printed: str) -> None:
    tools.fake("go", "env*", f"echo '{printed}'; exit 0")
    ran = tools.envsnap("lock", "-C", str(cgo_module), limit=60)
    line = assert_reported(ran, "go env", codes=(2,))
    assert ran.stderr.strip() == line


@pytest.mark.parametrize(
    "printed",
    [
        "[1, 2]",
        '{"ImportPath": 5, "CgoFiles": ["a.go"]}',
        '{"ImportPath": "x", "CgoFiles": ["a.go"], "CgoLDFLAGS": 7}',
        '{"ImportPath": "x", "CgoPkgConfig": "zlib"}',
        '{"ImportPath": "x", "CgoFiles": ["a.go"], "CgoCFLAGS": [1, 2]}',
    ],
    ids=["list", "number-path", "number-flags", "string-for-list", "numbers-in-list"],
)
def test_go_list_json_of_the_wrong_shape(tools: Tools, cgo_module: Path, printed: str) -> None:
    tools.fake("go", "list*", f"echo '{printed}'; exit 0")
    ran = tools.envsnap("lock", "-C", str(cgo_module), limit=60, ENVSNAP_NO_CACHE="1")
    assert_reported(ran, "go list -json` printed")
    assert not (cgo_module / "envsnap.lock").exists()
