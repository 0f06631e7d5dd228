"""Two entries that share few of their fields (a module whose libraries changed wholesale):
verify, diff and the merge driver report every difference, under the lowest and the highest
deepdiff the pin in pyproject.toml allows (deepdiff 8 and later report such a pair as one change
at the root unless told not to).

The lowest deepdiff is installed by scripts/test.sh into its own folder, named by
ENVSNAP_TEST_DEEPDIFF_LOWEST, and put first on the children's PYTHONPATH.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.version import Version

from envsnap.entry import Content
from envsnap.lockfile import LOCK_NAME, LockFile, content_of, parse_lock, render, with_entry
from tests.conftest import REPO, unavailable
from tests.hostile.files_common import MAC, replay_module, run_child

PLATFORM = "darwin-arm64"
LIBRARIES = 40  # library fields outnumber the rest: under a third of the fields are shared


def deepdiff_pin() -> tuple[Version, int]:
    """The lowest deepdiff the project allows and the major version it stops before."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = [d for d in project["dependencies"] if d.startswith("deepdiff")]
    found = re.fullmatch(r"deepdiff>=([\d.]+),<(\d+)", pins[0].replace(" ", ""))
    assert found, pins
    return Version(found[1]), int(found[2])


def child_deepdiff() -> Version:
    done = subprocess.run(
        [sys.executable, "-c", "import deepdiff; print(deepdiff.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Version(done.stdout.strip())


@pytest.fixture(params=["lowest", "highest"])
def deepdiff_bound(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Children import the lowest or the highest deepdiff the pin allows."""
    lowest, stop = deepdiff_pin()
    if request.param == "lowest":
        folder = os.environ.get("ENVSNAP_TEST_DEEPDIFF_LOWEST")
        if not folder or not Path(folder, "deepdiff").is_dir():
            unavailable("ENVSNAP_TEST_DEEPDIFF_LOWEST must name a folder with deepdiff in it")
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, (folder, str(REPO)))))
        assert child_deepdiff() == lowest
    else:
        assert child_deepdiff().major == stop - 1
    return str(request.param)


def locked_entry(tmp_path: Path) -> Content:
    """The content of a real entry, locked on the recorded Mac in tmp_path/m."""
    module = replay_module(tmp_path / "m")
    lock = parse_lock(Path(LOCK_NAME), (module / LOCK_NAME).read_bytes())
    return content_of(lock.platforms[PLATFORM])


def with_other_libraries(content: Content) -> Content:
    """*content* linking LIBRARIES libraries none of which it linked before."""
    other = copy.deepcopy(content)
    model = content["libraries"][0]
    other["libraries"] = [{**model, "name": f"other{i}"} for i in range(LIBRARIES)]
    return other


def write_lock(path: Path, content: Content) -> Path:
    path.write_bytes(render(with_entry(LockFile(path), PLATFORM, content)))
    return path


def assert_drift_reported(code: int, stderr: str) -> None:
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert code == 1, stderr


def test_verify_reports_an_entry_that_shares_few_fields(
    deepdiff_bound: str, tmp_path: Path
) -> None:
    content = locked_entry(tmp_path)
    write_lock(tmp_path / "m" / LOCK_NAME, with_other_libraries(content))
    code, stderr = run_child("--replay", str(MAC), "verify", "-C", str(tmp_path / "m"))
    assert_drift_reported(code, stderr)


def test_diff_reports_two_entries_that_share_few_fields(
    deepdiff_bound: str, tmp_path: Path
) -> None:
    content = locked_entry(tmp_path)
    old = write_lock(tmp_path / "old.lock", content)
    new = write_lock(tmp_path / "new.lock", with_other_libraries(content))
    code, stderr = run_child(
        "--replay", str(MAC), "diff", "-C", str(tmp_path / "m"), str(old), str(new)
    )
    assert_drift_reported(code, stderr)


def test_the_merge_driver_explains_two_entries_that_share_few_fields(
    deepdiff_bound: str, tmp_path: Path
) -> None:
    content = locked_entry(tmp_path)
    ours = copy.deepcopy(content)
    ours["go"]["version"] = "go1.22.4"
    base = write_lock(tmp_path / "base", content)
    mine = write_lock(tmp_path / "ours", ours)
    theirs = write_lock(tmp_path / "theirs", with_other_libraries(content))
    code, stderr = run_child("merge-driver", str(base), str(mine), str(theirs), LOCK_NAME)
    assert_drift_reported(code, stderr)
    assert "both branches changed the darwin-arm64 entry" in stderr
    assert "other0" in stderr, stderr
    assert "<<<<<<< ours" in mine.read_text()
