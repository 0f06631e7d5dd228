"""verify and diff on replayed real macOS recordings: the drifts a Mac upgrade causes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import RECORDINGS, REPO, envsnap

SCHEMA = json.loads((REPO / "docs" / "verify.schema.json").read_text())
MAC14 = RECORDINGS / "macos14-arm64-clt-brew-openssl"


def locked_with(host: Path, tmp_path: Path) -> Path:
    module = tmp_path / "m"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    result = envsnap("--replay", str(host), "lock", "-C", str(module))
    assert result.returncode == 0, result.stderr
    return module


def verify_on(host: Path, module: Path, *extra: str) -> tuple[dict[str, Any], str]:
    document = envsnap("--replay", str(host), "verify", "--json", "-C", str(module), *extra)
    parsed: dict[str, Any] = json.loads(document.stdout)
    jsonschema.validate(parsed, SCHEMA)
    assert parsed["exit_code"] == document.returncode
    text = envsnap("--replay", str(host), "verify", "-C", str(module), *extra)
    assert text.returncode == document.returncode
    return parsed, text.stdout


def by_id(document: dict[str, Any], finding_id: str) -> dict[str, Any]:
    (found,) = [f for f in document["findings"] if f["id"] == finding_id]
    assert isinstance(found, dict)
    return found


def test_same_host_is_clean(tmp_path: Path) -> None:
    module = locked_with(MAC14, tmp_path)
    document, text = verify_on(MAC14, module)
    assert document["exit_code"] == 0 and text == "envsnap: darwin-arm64 matches envsnap.lock\n"


def test_sdk_14_to_15_is_an_error(tmp_path: Path) -> None:
    module = locked_with(MAC14, tmp_path)
    document, text = verify_on(RECORDINGS / "macos15-arm64-clt-brew-openssl", module)
    # the SDK change is owned by the CLT update that brought it (issue: one finding per cause)
    clt = by_id(document, "apple.clt_version")
    assert clt["severity"] == "error" and "apple.sdk_version" in clt["also"]
    assert "updated from 15.3 to 16.2, and with them SDK 14.0 → 15.0" in text
    assert by_id(document, "os.version")["severity"] == "warning"
    assert document["exit_code"] == 1


def test_clt_vanished_after_an_upgrade(tmp_path: Path) -> None:
    module = locked_with(MAC14, tmp_path)
    document, text = verify_on(RECORDINGS / "macos14-arm64-clt-missing", module)
    tools = by_id(document, "apple.has_xcrun")
    assert (tools["severity"], tools["locked"], tools["live"]) == ("error", True, False)
    assert "xcode-select --install" in tools["fix"]
    assert (
        "xcrun: error: invalid active developer path (/Library/Developer/CommandLineTools), "
        "missing xcrun at: /Library/Developer/CommandLineTools/usr/bin/xcrun" in tools["why"]
    )
    # the compiler that cannot run went with the developer tools: one finding owns both
    assert "cc.compiler.error" in tools["also"]
    assert not [f for f in document["findings"] if f["id"] == "cc.compiler.error"]
    assert "xcode-select --install" in text and document["exit_code"] == 1


def test_homebrew_formula_upgrade_names_formula_and_versions(tmp_path: Path) -> None:
    module = locked_with(MAC14, tmp_path)
    document, text = verify_on(RECORDINGS / "macos14-arm64-clt-brew-openssl-3.4.0", module)
    (library,) = [f for f in document["findings"] if f["subject"] == "libcrypto"]
    assert library["severity"] == "error"
    assert (library["locked"], library["live"]) == ("brew:openssl@3 3.3.0", "brew:openssl@3 3.4.0")
    assert "brew pin openssl@3" in library["fix"]
    assert "libcrypto: brew:openssl@3 3.3.0 → brew:openssl@3 3.4.0" in text
    assert document["exit_code"] == 1


def test_macos_minor_update_alone_is_a_warning(tmp_path: Path) -> None:
    module = locked_with(RECORDINGS / "macos14.0-arm64-clt-brew-openssl", tmp_path)
    document, _ = verify_on(MAC14, module)
    (finding,) = document["findings"]
    assert finding["severity"] == "warning" and finding["subject"] == "operating system"
    assert document["exit_code"] == 0
    strict, _ = verify_on(MAC14, module, "--strict")
    assert strict["exit_code"] == 1


@pytest.mark.parametrize(
    "other",
    ["macos15-arm64-clt-brew-openssl", "macos14-arm64-clt-missing"],
)
def test_diff_of_a_recording_against_the_lock_matches_verify(tmp_path: Path, other: str) -> None:
    module = locked_with(MAC14, tmp_path)
    expected, _ = verify_on(RECORDINGS / other, module)
    result = envsnap("diff", str(RECORDINGS / other), "--json", "-C", str(module))
    assert result.returncode == 1
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    assert document["findings"] == expected["findings"]  # actions kept for that machine too
