"""`envsnap diff A B` between two locks reads like `git diff A B`: A is the base, what B adds is
added and what it drops is removed, in diff's own words: no fix (verify's fix is for a machine
that differs from its lock; between two locks nothing here is to be fixed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import LIBM_PACKAGE, envsnap, require_tool, write_module

EXTRA = LIBM_PACKAGE.replace("package mm", "package extra")


def two_locks(tmp_path: Path) -> Path:
    """A module locked, its lock kept as old.lock, then a cgo package added and locked again."""
    for tool in ("go", "gcc"):
        require_tool(tool)
    module = write_module(tmp_path / "m", {"mm/mm.go": LIBM_PACKAGE})
    assert envsnap("lock", "-C", str(module)).returncode == 0
    shutil.copy(module / "envsnap.lock", module / "old.lock")
    (module / "extra").mkdir()
    (module / "extra" / "extra.go").write_text(EXTRA)
    assert envsnap("lock", "-C", str(module)).returncode == 0
    return module


def test_a_package_added_since_the_base_is_added_with_no_fix(tmp_path: Path) -> None:
    module = two_locks(tmp_path)
    forward = envsnap("diff", "old.lock", "envsnap.lock", "-C", str(module))
    assert forward.returncode == 1, forward.stderr
    head = next(line for line in forward.stdout.splitlines() if "example.com/m/extra:" in line)
    assert head.split(": ", 1)[1].startswith("added")
    assert "fix:" not in forward.stdout and "do:" not in forward.stdout
    assert "the lock is stale" not in forward.stdout and "not in the lock" not in forward.stdout
    backward = envsnap("diff", "envsnap.lock", "old.lock", "-C", str(module))
    head = next(line for line in backward.stdout.splitlines() if "example.com/m/extra:" in line)
    assert head.split(": ", 1)[1].startswith("removed")
    assert "no longer uses cgo" in backward.stdout


def test_the_json_of_a_diff_between_locks_offers_no_fix(tmp_path: Path) -> None:
    module = two_locks(tmp_path)
    result = envsnap("diff", "old.lock", "envsnap.lock", "--json", "-C", str(module))
    findings = json.loads(result.stdout)["findings"]
    assert findings and all(f["fix"] == "" and "actions" not in f for f in findings)
    package = next(f for f in findings if f["id"] == "cgo.packages.example.com/m/extra")
    assert package["category"] == "extra" and package["locked"] is None


def test_a_machine_against_the_lock_keeps_verifys_fix(tmp_path: Path) -> None:
    """One side a machine (live): it is compared with the lock as verify would, fix and all."""
    module = two_locks(tmp_path)
    shutil.rmtree(module / "extra")
    result = envsnap("diff", "live", "-C", str(module))
    assert result.returncode == 1 and "fix:" in result.stdout
