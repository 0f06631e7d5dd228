"""The developer dir, SDK and Xcode story that verify tells, on replayed recordings.

Each recording's SOURCES.md says where its bytes come from; the values asserted here are the ones
read in those files (the runner-images inventory of macos-15-arm64 image 20250312.1001 for the
Xcodes, the SDKSettings.json files for the SDK versions, the pkgutil receipts for the CLT).
"""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any

from envsnap.drift import compare
from envsnap.host import ReplayHost
from envsnap.probes.collect import take_snapshot
from tests.conftest import RECORDINGS, envsnap
from tests.test_verify_macos import locked_with, verify_on

CLT = "/Library/Developer/CommandLineTools"
ZLIB_14 = RECORDINGS / "macos14-arm64-clt-zlib"
ZLIB_15 = RECORDINGS / "macos14-arm64-clt16-zlib"
XCODES = RECORDINGS / "macos15-arm64-xcodes"
BY_ENV = RECORDINGS / "macos15-arm64-xcodes-developer-dir"
BY_ALIAS = RECORDINGS / "macos15-arm64-xcodes-developer-dir-alias"
BETA = RECORDINGS / "macos15-arm64-xcodes-beta"
XCODE_16_2 = RECORDINGS / "macos15-arm64-xcode16"
CLT_ONLY = RECORDINGS / "macos15-arm64-clt-ld"
XCODE_16 = "/Applications/Xcode_16.app/Contents/Developer"
XCODE_APP = "/Applications/Xcode.app/Contents/Developer"
SDK_IN = "Platforms/MacOSX.platform/Developer/SDKs/MacOSX.sdk"


def subjects(document: dict[str, Any], subject: str) -> list[dict[str, Any]]:
    return [f for f in document["findings"] if f["subject"] == subject]


def one(document: dict[str, Any], subject: str) -> dict[str, Any]:
    (found,) = subjects(document, subject)
    return found


def subdir(tmp_path: Path, name: str) -> Path:
    (tmp_path / name).mkdir()
    return tmp_path / name


def lock_entry(module: Path) -> dict[str, Any]:
    entry: dict[str, Any] = tomllib.loads((module / "envsnap.lock").read_text())["platforms"][
        "darwin-arm64"
    ]
    return entry


# --- the SDK owns its library files ------------------------------------------------------------


def test_an_sdk_change_is_one_error_that_holds_the_sdks_library_files(tmp_path: Path) -> None:
    module = locked_with(ZLIB_14, tmp_path)
    (zlib,) = lock_entry(module)["libraries"]
    old_tbd = f"{CLT}/SDKs/MacOSX14.0.sdk/usr/lib/libz.tbd"
    assert zlib["files"] == [{"path": old_tbd}]  # no hash: the recording has no digests
    document, text = verify_on(ZLIB_15, module)
    # the CLT update owns the SDK change (issue: one finding per cause)
    assert subjects(document, "macOS SDK") == []
    sdk = one(document, "Command Line Tools")
    assert sdk["severity"] == "error" and "SDK 14.0 → 15.0" in sdk["why"]
    new_tbd = f"{CLT}/SDKs/MacOSX15.0.sdk/usr/lib/libz.tbd"
    assert f"libraries.-lz.files.{old_tbd}" in sdk["also"]
    assert f"libraries.-lz.files.{new_tbd}" in sdk["also"]
    assert "apple.sdk_version" in sdk["also"]
    assert "SDKROOT to the locked SDK 14.0" in sdk["fix"]
    assert subjects(document, "-lz") == []
    assert "reinstall the locked version" not in text
    # the "unknown" that stands for a missing hash while comparing never reaches the user
    assert "unknown" not in json.dumps(document) and "unknown" not in text


# --- the CLT only matters when it is the developer dir -----------------------------------------


def test_the_clt_is_not_a_finding_while_xcode_is_the_developer_dir(tmp_path: Path) -> None:
    module = locked_with(XCODE_16_2, tmp_path)  # Xcode 16.2, no CLT receipt
    document, _ = verify_on(XCODES, module)  # Xcode 16.0 selected, CLT 16.2 installed
    # said (the lock would record the new CLT), but as info: nothing to do, nothing fails
    for clt in [f for f in document["findings"] if f["subject"] == "Command Line Tools"]:
        assert clt["severity"] == "info" and "neither side builds with them" in clt["why"]


def test_the_clt_is_a_finding_while_it_is_the_developer_dir(tmp_path: Path) -> None:
    module = locked_with(ZLIB_14, tmp_path)
    document, _ = verify_on(ZLIB_15, module)
    clt = one(document, "Command Line Tools")
    assert (clt["locked"], clt["live"]) == ("15.3.0.0.1.1708646388", "16.2.0.0.1.1733547573")


# --- how the developer dir was chosen, and through which name ----------------------------------


def test_developer_dir_set_to_the_locked_real_path_is_no_finding(tmp_path: Path) -> None:
    """DEVELOPER_DIR naming the locked developer dir by its real path is what the emitted .envrc
    exports to recreate the lock: the lock's own choice, not a difference (issue: verify --strict
    inside envsnap's own .envrc must report nothing)."""
    module = locked_with(XCODES, tmp_path)  # xcode-select: /Applications/Xcode.app -> Xcode_16.app
    document, _ = verify_on(BY_ENV, module)  # DEVELOPER_DIR=/Applications/Xcode_16.app/...
    assert document["findings"] == [] and document["exit_code"] == 0


def test_a_developer_dir_through_a_symlink_is_no_change(tmp_path: Path) -> None:
    module = locked_with(BY_ENV, tmp_path)
    document, _ = verify_on(BY_ALIAS, module)  # DEVELOPER_DIR=/Applications/Xcode_16.0.app/...
    # no change of the toolchain: at most info saying so (what `lock --check` would rewrite)
    assert document["exit_code"] == 0
    for finding in document["findings"]:
        assert finding["severity"] == "info" and "through another path" in finding["why"]
    strict = envsnap("--replay", str(BY_ALIAS), "verify", "--strict", "-C", str(module))
    assert strict.returncode == 0


def test_the_lock_keeps_the_real_developer_dir(tmp_path: Path) -> None:
    apple = lock_entry(locked_with(BY_ALIAS, tmp_path))["apple"]
    assert apple["developer_dir"] == "/Applications/Xcode_16.0.app/Contents/Developer"
    assert apple["developer_dir_realpath"] == XCODE_16
    assert apple["sdk_path"] == f"{XCODE_16}/{SDK_IN}"


def test_a_lock_without_the_real_developer_dir_still_matches() -> None:
    """An entry written before the real path was recorded: its developer dir is taken as real."""
    live = take_snapshot(ReplayHost(XCODE_16_2), "/nonexistent-local-dir").entry
    old = copy.deepcopy(live)
    assert (
        old["apple"].pop("developer_dir_realpath") == "/Applications/Xcode.app/Contents/Developer"
    )
    for finding in compare(old, live) + compare(live, old):
        assert finding.severity == "info"


def test_a_developer_dir_change_names_the_locked_dir_and_sdk(tmp_path: Path) -> None:
    module = locked_with(XCODES, tmp_path)
    document, _ = verify_on(BETA, module)
    devdir = one(document, "developer dir")
    assert devdir["severity"] == "warning"
    assert (devdir["locked"], devdir["live"]) == (
        XCODE_16,
        "/Applications/Xcode_16.3_beta_2.app/Contents/Developer",
    )
    # DEVELOPER_DIR chooses the beta here, so the switch back sets it (xcode-select --switch
    # would change nothing), offered since the locked Xcode is installed here (its xcrun is)
    assert "set DEVELOPER_DIR to the locked developer dir" in devdir["fix"]
    assert "(install Xcode 16.0" in devdir["fix"]
    assert [a["command"] for a in devdir["actions"]][::2] == [
        f"export DEVELOPER_DIR={XCODE_16}",
        "envsnap lock",
    ]
    assert devdir["actions"][1]["kind"] == "install"


def test_a_lock_taken_with_developer_dir_says_to_export_it(tmp_path: Path) -> None:
    module = locked_with(BY_ENV, tmp_path)
    document, _ = verify_on(BETA, module)
    found = one(document, "developer dir")
    assert "xcode-select" not in found["fix"]
    assert all(a["kind"] != "developer-dir" for a in found["actions"])


# --- Xcode: by version, with its build; a beta says so ------------------------------------------


def test_a_beta_xcode_is_flagged_in_the_lock(tmp_path: Path) -> None:
    apple = lock_entry(locked_with(BETA, tmp_path))["apple"]
    assert (apple["xcode_version"], apple["xcode_build"]) == ("16.3", "16E5121h")
    assert apple["xcode_beta"] is True
    # the release Xcode 16.2 has a build ending in a letter too (16C5032a): not a beta
    released = lock_entry(locked_with(XCODE_16_2, subdir(tmp_path, "released")))["apple"]
    assert released["xcode_build"] == "16C5032a" and "xcode_beta" not in released


def test_an_xcode_update_to_a_beta_is_headlined_by_version(tmp_path: Path) -> None:
    module = locked_with(XCODES, tmp_path)
    document, _ = verify_on(BETA, module)
    # the Xcode change is part of the developer dir switch (issue: one finding per cause)
    xcode = one(document, "developer dir")
    assert "Xcode was updated from 16.0 (16A242d) to 16.3 (16E5121h, a beta)" in xcode["why"]
    assert "apple.xcode_version" in xcode["also"] and subjects(document, "Xcode") == []


def test_an_xcode_that_appears_or_disappears_says_so(tmp_path: Path) -> None:
    module = locked_with(CLT_ONLY, tmp_path)
    # one developer dir finding, not a second one for Xcode (issue: causes, not fields)
    document = verify_on(XCODES, module)[0]
    appeared = one(document, "developer dir")
    assert "Xcode appeared" in appeared["why"] and "Xcode 16.0 (16A242d)" in appeared["why"]
    assert subjects(document, "Xcode") == []
    module = locked_with(XCODES, subdir(tmp_path, "back"))
    document = verify_on(CLT_ONLY, module)[0]
    gone = one(document, "developer dir")
    assert "Xcode disappeared" in gone["why"] and "Xcode 16.0 (16A242d)" in gone["why"]
    assert subjects(document, "Xcode") == []


def test_an_older_xcode_is_a_downgrade(tmp_path: Path) -> None:
    module = locked_with(XCODE_16_2, tmp_path)
    xcode = one(verify_on(XCODES, module)[0], "developer dir")
    assert "Xcode was downgraded from 16.2 (16C5032a) to 16.0 (16A242d)" in xcode["why"]
