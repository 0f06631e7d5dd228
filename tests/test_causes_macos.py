"""One finding per cause on the macOS recordings, and fixes that work on the verifying Mac:
the CLT 16.4 -> 26.6 upgrade, Homebrew's go against setup-go's on the same clang, and a lock
taken with the Xcode 27 beta verified on macOS 15.7 (which that beta cannot run on)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tests.conftest import RECORDINGS
from tests.test_verify_macos import locked_with, verify_on

CLT = "/Library/Developer/CommandLineTools"


def findings(lock_host: str, verify_host: str, tmp_path: Path) -> list[dict[str, Any]]:
    module = locked_with(RECORDINGS / lock_host, tmp_path)
    document, _ = verify_on(RECORDINGS / verify_host, module)
    found: list[dict[str, Any]] = document["findings"]
    return found


def errors(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in found if f["severity"] == "error"]


def test_a_clt_upgrade_is_one_error_owning_sdk_and_clang(tmp_path: Path) -> None:
    (clt,) = errors(findings("macos15.7-arm64-clt16.4", "macos26.3-arm64-clt26.6", tmp_path))
    assert clt["subject"] == "Command Line Tools"
    assert clt["why"].startswith("the Command Line Tools were updated from 16.4 to 26.6")
    assert (
        "SDK 15.0 → 26.5" in clt["why"] and "Apple clang 17.0.0 → Apple clang 21.0.0" in clt["why"]
    )
    assert {"apple.sdk_version", "cc.compiler.version"} <= set(clt["also"])
    commands = [a["command"] for a in clt["actions"]]
    # the old SDK is gone on this Mac: no SDKROOT to it, no path at all in the fix
    assert (
        not any("MacOSX15.0.sdk" in c for c in commands) and "/" not in clt["fix"].split("://")[0]
    )
    assert [(a["kind"], a.get("target"), a["manual"]) for a in clt["actions"]] == [
        ("install", "Command Line Tools for Xcode 16.4", True),
        ("relock", None, True),
    ]


def test_the_kept_sdk_is_offered_through_sdkroot(tmp_path: Path) -> None:
    found = findings("macos15.7-arm64-clt16.4", "macos26.3-arm64-clt26.6-sdk15-kept", tmp_path)
    (clt,) = errors(found)
    sdkroot = [a for a in clt["actions"] if a["kind"] == "set"]
    assert sdkroot == [
        {
            "kind": "set",
            "command": f"export SDKROOT={CLT}/SDKs/MacOSX15.0.sdk",
            "target": "SDKROOT",
            "value": f"{CLT}/SDKs/MacOSX15.0.sdk",
            "via": "env",
            "clears": "apple.sdk_*",
            "manual": False,
        }
    ]


def test_homebrew_go_and_setup_go_on_the_same_clang_is_no_error(tmp_path: Path) -> None:
    found = findings("macos15-arm64-brew-go", "macos15-arm64-setup-go", tmp_path)
    assert [f["severity"] for f in found] == ["info"] * len(found)
    cxx = next(f for f in found if f["id"] == "go.env.CXX")
    assert "xcrun shim" in cxx["why"]


def test_the_move_from_clt_clang_to_a_beta_xcode_is_named(tmp_path: Path) -> None:
    found = findings("macos15-arm64-clt-ld", "macos15-arm64-xcodes-beta", tmp_path)
    devdir = next(f for f in found if f["subject"] == "developer dir")
    assert devdir["severity"] == "error"
    assert "Xcode appeared: the developer dir moved from the Command Line Tools" in devdir["why"]
    assert (
        "Xcode 16.3 (16E5121h, a beta)" in devdir["why"] and "Apple clang 17.0.0" in devdir["why"]
    )
    assert not [f for f in found if f["subject"] in ("C compiler", "Xcode", "Command Line Tools")]


def test_a_beta_xcode_lock_on_a_mac_that_cannot_run_it(tmp_path: Path) -> None:
    found = findings("macos26.5-arm64-xcode27-beta", "macos15.7-arm64-clt16.4", tmp_path)
    (devdir,) = errors(found)
    assert "cannot run on macOS 15.7.1 (it needs macOS 26.2 or later)" in devdir["why"]
    assert not any("xcode-select" in a["command"] for a in devdir["actions"])
    assert "xcode-select" not in devdir["fix"] and "Xcode_27" not in devdir["fix"]
    # nor a download of it: the re-lock on this Mac is the one thing to do
    assert [a["kind"] for a in devdir["actions"]] == ["relock"]
    # Xcode disappearing and the CLT version are part of this one finding
    assert not [f for f in found if f["subject"] in ("Xcode", "Command Line Tools")]


def with_environ(name: str, tmp_path: Path, **environ: str) -> Path:
    """A copy of recording *name* whose process environment has *environ* set (an action
    applied to the replayed Mac)."""
    copy = tmp_path / name
    shutil.copytree(RECORDINGS / name, copy)
    host = json.loads((copy / "host.json").read_text())
    host["environ"].update(environ)
    (copy / "host.json").write_text(json.dumps(host))
    return copy


def test_the_sdkroot_action_gives_the_locked_sdk_back(tmp_path: Path) -> None:
    """Applied to the replay, SDKROOT clears every SDK difference; what remains is Apple clang,
    which left with CLT 16.4 (no variable brings it back: the download or a re-lock does)."""
    module = locked_with(RECORDINGS / "macos15.7-arm64-clt16.4", tmp_path)
    kept = "macos26.3-arm64-clt26.6-sdk15-kept"
    (before,) = errors(verify_on(RECORDINGS / kept, module)[0]["findings"])
    (action,) = [a for a in before["actions"] if a["kind"] == "set"]
    after, _ = verify_on(
        with_environ(kept, tmp_path, **{action["target"]: action["value"]}), module
    )
    (clt,) = errors(after["findings"])
    assert clt["also"] == ["cc.compiler.version"]
    assert "SDK" not in clt["why"] and "Apple clang 17.0.0 → Apple clang 21.0.0" in clt["why"]
    assert [a["kind"] for a in clt["actions"]] == ["install", "relock"]  # SDKROOT is set now
    assert [f["id"] for f in after["findings"]] == ["apple.clt_version", "os.version"]


def test_an_os_downgrade_is_not_called_an_update(tmp_path: Path) -> None:
    found = findings("macos26.5-arm64-xcode27-beta", "macos15.7-arm64-clt16.4", tmp_path)
    (os_change,) = [f for f in found if f["id"] == "os.version"]
    assert os_change["why"].startswith("an OS downgrade")
    found = findings("macos15.7-arm64-clt16.4", "macos26.3-arm64-clt26.6", subdir(tmp_path))
    (os_change,) = [f for f in found if f["id"] == "os.version"]
    assert os_change["why"].startswith("an OS update")


def subdir(tmp_path: Path) -> Path:
    made = tmp_path / "again"
    made.mkdir()
    return made


def test_a_developer_dir_chosen_by_developer_dir_is_set_back_by_it(tmp_path: Path) -> None:
    """Locked with the CLT 15.3 selected; here DEVELOPER_DIR names Xcode and the same CLT is
    installed: the fix is DEVELOPER_DIR (xcode-select --switch changes nothing while it is
    set), and no download of tools that are already there."""
    found = findings(
        "macos14-arm64-clt-brew-openssl", "macos15-arm64-clt14-xcode16-developer-dir", tmp_path
    )
    (devdir,) = errors(found)
    assert devdir["id"] == "apple.developer_dir_realpath"
    assert "which DEVELOPER_DIR names" in devdir["why"] and "set DEVELOPER_DIR to" in devdir["fix"]
    assert [a["command"] for a in devdir["actions"]] == [
        f"export DEVELOPER_DIR={CLT}",
        "envsnap lock",
    ]


def test_selecting_other_command_line_tools_only_brings_back_the_developer_dir(
    tmp_path: Path,
) -> None:
    """Locked with CLT 16.2; this Mac has Xcode selected and CLT 15.3 installed: switching to
    the CLT brings back the developer dir, not the locked tools (their download, named in the
    fix, selects nothing while Xcode is selected)."""
    found = findings("macos14-arm64-clt16-zlib", "macos15-arm64-clt14-xcode16-selected", tmp_path)
    devdir = next(f for f in found if f["id"] == "apple.developer_dir_realpath")
    assert [(a["command"], a.get("clears")) for a in devdir["actions"]] == [
        (f"sudo xcode-select --switch {CLT}", "apple.developer_dir*"),
        ("envsnap lock", None),
    ]
