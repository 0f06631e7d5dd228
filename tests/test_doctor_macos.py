"""`envsnap doctor`'s macOS checks on replayed real recordings (tests/fixtures/recordings)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from envsnap.doctor import Check, diagnose
from envsnap.doctor.gather import gather
from envsnap.host import FileInfo, ReplayHost
from tests.conftest import RECORDINGS, REPO, envsnap

SCHEMA = json.loads((REPO / "docs" / "doctor.schema.json").read_text())
HOST_1 = RECORDINGS / "macos14-arm64-clt-brew-openssl"
CLT_MISSING = RECORDINGS / "macos14-arm64-clt-missing"
LEFT_BEHIND = RECORDINGS / "macos15-arm64-clt14-xcode16"
MACOS_CHECKS = ("macos.developer-dir", "macos.sdk", "macos.clt-xcode", "macos.nix-paths")


def doctor_on(recording: Path, tmp_path: Path) -> tuple[dict[str, Any], str]:
    document = envsnap("--replay", str(recording), "doctor", "--json", "-C", str(tmp_path))
    parsed: dict[str, Any] = json.loads(document.stdout)
    jsonschema.validate(parsed, SCHEMA)
    assert parsed["exit_code"] == document.returncode
    text = envsnap("--replay", str(recording), "doctor", "-C", str(tmp_path))
    assert text.returncode == document.returncode and "Traceback" not in text.stderr
    return parsed, text.stdout


def by_id(document: dict[str, Any], check_id: str) -> dict[str, Any]:
    (found,) = [c for c in document["checks"] if c["id"] == check_id]
    assert isinstance(found, dict)
    return found


def flagged(document: dict[str, Any]) -> dict[str, str]:
    return {
        c["id"]: c["status"] for c in document["checks"] if c["status"] in ("problem", "warning")
    }


def lines_of(check: dict[str, Any]) -> list[str]:
    return [line for evidence in check["evidence"] for line in evidence["lines"]]


def blob(recording: Path, name: str) -> str:
    return (recording / name).read_text().strip()


def test_developer_dir_without_xcrun_is_a_problem(tmp_path: Path) -> None:
    document, text = doctor_on(CLT_MISSING, tmp_path)
    check = by_id(document, "macos.developer-dir")
    assert flagged(document) == {"macos.developer-dir": "problem"}
    assert document["exit_code"] == 1 and document["platform"] == "darwin-arm64"
    # the recorded `xcode-select -p` and the recorded xcrun error of `/usr/bin/cc --version`
    assert blob(CLT_MISSING, "commands/xcode-select-p.txt") in lines_of(check)
    assert blob(CLT_MISSING, "commands/cc-version.stderr.txt") in lines_of(check)
    assert "/Library/Developer/CommandLineTools/usr/bin/xcrun does not exist" in lines_of(check)
    assert "xcode-select --install" in check["fix"]
    assert "$ /usr/bin/cc --version  (exit 1)" in text
    assert by_id(document, "macos.sdk")["status"] == "skipped"  # there is no SDK to compare


def test_os_upgrade_that_left_the_command_line_tools_behind(tmp_path: Path) -> None:
    document, _ = doctor_on(LEFT_BEHIND, tmp_path)
    assert flagged(document) == {"macos.sdk": "warning", "macos.clt-xcode": "warning"}
    assert document["exit_code"] == 0
    sdk = by_id(document, "macos.sdk")
    assert "14.0" in sdk["summary"] and "15.3.1" in sdk["summary"]
    assert "ProductVersion 15.3.1" in lines_of(sdk) and '"Version": "14.0"' in lines_of(sdk)
    clt = by_id(document, "macos.clt-xcode")
    assert '"Version": "15.0"' in lines_of(clt)
    receipt = blob(LEFT_BEHIND, "commands/pkgutil-pkg-info-CLTools_Executables.txt")
    assert next(ln for ln in receipt.splitlines() if ln.startswith("version:")) in lines_of(clt)
    assert "softwareupdate" in clt["fix"] and "xcode-select --switch" in clt["fix"]


@pytest.mark.parametrize(
    "name",
    [
        "macos14-arm64-clt-brew-openssl",  # CLT only
        "macos15-arm64-clt-brew-openssl",  # CLT only, updated with the OS
        "macos15-arm64-xcode16",  # Xcode only
        "macos12-x86_64-clt",  # Intel, CLT only
    ],
)
def test_current_developer_tools_pass(tmp_path: Path, name: str) -> None:
    document, _ = doctor_on(RECORDINGS / name, tmp_path)
    assert flagged(document) == {} and document["exit_code"] == 0
    statuses = {c["id"]: c["status"] for c in document["checks"]}
    # one kind of developer tools only: there is nothing to compare the CLT with
    assert [statuses[i] for i in MACOS_CHECKS] == ["ok", "ok", "skipped", "ok"]


def test_lock_summary_on_a_replayed_upgrade(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    assert envsnap("--replay", str(HOST_1), "lock", "-C", str(tmp_path)).returncode == 0
    same, _ = doctor_on(HOST_1, tmp_path)
    assert by_id(same, "lock.verify")["summary"] == "darwin-arm64 matches envsnap.lock"
    upgraded, _ = doctor_on(RECORDINGS / "macos15-arm64-clt-brew-openssl", tmp_path)
    check = by_id(upgraded, "lock.verify")
    assert check["status"] == "problem" and upgraded["exit_code"] == 1
    assert check["summary"].startswith("darwin-arm64 differs from envsnap.lock: ")
    assert "error: Command Line Tools" in lines_of(check)  # the CLT update owns the SDK


class NixEnvironmentReplay(ReplayHost):
    """A real recording with Nix's variables set on top (no real darwin Nix sample exists)."""

    def __init__(self, directory: Path, environ: dict[str, str], dirs: set[str]) -> None:
        super().__init__(directory)
        self.extra, self.dirs = environ, dirs

    def getenv(self, name: str) -> str | None:
        return self.extra.get(name, super().getenv(name))

    def stat(self, path: str) -> FileInfo | None:
        if path in self.dirs:
            return FileInfo("dir", 0, 0, 0, 0o755)
        return super().stat(path)


# The layout of nixpkgs' apple-sdk (NIXPKGS.md); the store hash is made up.
STORE_SDK = "/nix/store/0000000000000000000000000000000a-apple-sdk-14.4/MacOSX14.4.sdk"


def nix_check(environ: dict[str, str], dirs: set[str]) -> Check:
    host = NixEnvironmentReplay(HOST_1, environ, dirs)
    (check,) = [c for c in diagnose(gather(host, "/unused")) if c.id == "macos.nix-paths"]
    return check


def test_sdkroot_in_the_nix_store_outside_a_nix_shell() -> None:
    gone = nix_check({"SDKROOT": STORE_SDK}, set())
    assert gone.status == "problem" and "no longer exists" in gone.summary
    assert f"SDKROOT={STORE_SDK}" in gone.evidence[0].lines
    assert "IN_NIX_SHELL=(unset)" in gone.evidence[0].lines
    present = nix_check({"SDKROOT": STORE_SDK}, {STORE_SDK})
    assert present.status == "warning" and "unset SDKROOT" in present.fix
    inside = nix_check({"SDKROOT": STORE_SDK, "IN_NIX_SHELL": "impure"}, {STORE_SDK})
    assert inside.status == "ok"


# --- the advice follows the current selection --------------------------------------------------

XCODE_APP = "/Applications/Xcode.app/Contents/Developer"


def test_older_clt_with_developer_dir_set_says_to_change_developer_dir(tmp_path: Path) -> None:
    document, _ = doctor_on(RECORDINGS / "macos15-arm64-clt14-xcode16-developer-dir", tmp_path)
    check = by_id(document, "macos.clt-xcode")
    assert check["status"] == "warning"
    assert f"DEVELOPER_DIR={XCODE_APP}" in lines_of(check)
    assert "unset DEVELOPER_DIR" in check["fix"] and "xcode-select --switch" not in check["fix"]


def test_older_clt_with_xcode_selected_gives_no_switch_advice(tmp_path: Path) -> None:
    recording = RECORDINGS / "macos15-arm64-clt14-xcode16-selected"
    document, _ = doctor_on(recording, tmp_path)
    check = by_id(document, "macos.clt-xcode")
    assert check["status"] == "warning" and '"Version": "14.0"' in lines_of(check)
    assert "xcode-select --switch" not in check["fix"] and "already selected" in check["fix"]
    assert blob(recording, "commands/xcode-select-p.txt") == XCODE_APP


BETA = RECORDINGS / "macos15-arm64-xcodes-beta"


def test_a_beta_xcode_is_a_warning_and_has_no_matching_clt(tmp_path: Path) -> None:
    document, _ = doctor_on(BETA, tmp_path)
    check = by_id(document, "macos.developer-dir")
    assert check["status"] == "warning"
    assert "Xcode 16.3 (16E5121h), a beta" in check["summary"]
    assert "/Applications/Xcode_16.3_beta_2.app/Contents/Developer" in check["summary"]
    assert "no released Command Line Tools" in check["summary"]
    assert "DEVELOPER_DIR=/Applications/Xcode_16.3.app/Contents/Developer" in lines_of(check)
    assert "unset DEVELOPER_DIR" in check["fix"]
    clt = by_id(document, "macos.clt-xcode")
    assert "a beta, which no released Command Line Tools match" in clt["summary"]


def test_a_released_xcode_whose_build_ends_in_a_letter_is_no_beta(tmp_path: Path) -> None:
    document, _ = doctor_on(RECORDINGS / "macos15-arm64-xcodes", tmp_path)  # Xcode 16.0, 16A242d
    assert by_id(document, "macos.developer-dir")["status"] == "ok"


def test_an_sdk_newer_than_macos_without_a_deployment_target(tmp_path: Path) -> None:
    recording = RECORDINGS / "macos14-arm64-clt16-zlib"  # macOS 14.3, CLT SDK 15.0
    document, _ = doctor_on(recording, tmp_path)
    check = by_id(document, "macos.sdk")
    assert check["status"] == "warning"
    assert "ProductVersion 14.3" in lines_of(check) and '"Version": "15.0"' in lines_of(check)
    assert "MACOSX_DEPLOYMENT_TARGET=(unset)" in lines_of(check)
    # clang's driver targets min(SDK, host): the binaries run here (issue: doctor's advice)
    assert "require macOS" not in check["summary"]
    assert "targets the older of the two (macOS 14.3" in check["summary"]
    assert "run here, but not on older Macs" in check["summary"]
    assert "MACOSX_DEPLOYMENT_TARGET=14.3" in check["fix"]


def test_an_sdk_newer_than_macos_with_a_deployment_target_is_fine() -> None:
    host = NixEnvironmentReplay(
        RECORDINGS / "macos14-arm64-clt16-zlib", {"MACOSX_DEPLOYMENT_TARGET": "14.0"}, set()
    )
    (check,) = [c for c in diagnose(gather(host, "/unused")) if c.id == "macos.sdk"]
    assert check.status == "ok"
