"""envsnap sbom of macOS locks, written by replaying the recorded hosts of fixtures/recordings,
and of real Mach-O files against them.

The expected values are those a person reads in each recording's SOURCES.md (the SDK's
SDKSettings.json, pkgutil's CLT version, xcodebuild's Xcode version, the Homebrew keg's path)
and, for the Mach-O fixtures, in otool's listing of their load commands (fixtures/macho).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL
from spdx_tools.spdx.parser.json.json_parser import parse_from_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from tests.conftest import FIXTURES, RECORDINGS, envsnap

BREW_OPENSSL = RECORDINGS / "macos14-arm64-clt-brew-openssl"  # CLT 15.3, SDK 14.0, openssl@3
XCODE_16 = RECORDINGS / "macos15-arm64-xcode16"  # Xcode 16.2 selected, SDK 15.0


def replayed_lock(host: Path, tmp_path: Path) -> Path:
    module = tmp_path / "m"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    result = envsnap("--replay", str(host), "lock", "-C", str(module))
    assert result.returncode == 0, result.stderr
    return module


def sbom(host: Path, module: Path, *args: str) -> dict[str, Any]:
    result = envsnap("--replay", str(host), "sbom", "-C", str(module), *args)
    assert result.returncode == 0, result.stderr
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(result.stdout) is None
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def tools(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    formulation = document["formulation"][0]["components"]
    return {c["bom-ref"].rsplit("/", 1)[1]: c for c in formulation}


def test_a_replayed_clt_host_gives_the_sdk_the_clt_and_the_homebrew_keg(tmp_path: Path) -> None:
    module = replayed_lock(BREW_OPENSSL, tmp_path)
    document = sbom(BREW_OPENSSL, module)
    found = tools(document)
    assert (found["sdk"]["name"], found["sdk"]["version"]) == ("macOS SDK", "14.0")
    assert found["sdk"]["type"] == "framework"
    assert found["clt"]["version"] == "15.3.0.0.1.1708646388"
    assert (found["compiler"]["name"], found["compiler"]["version"]) == ("Apple clang", "15.0.0")
    assert (found["os"]["name"], found["os"]["version"]) == ("macos", "14.3")
    (libcrypto,) = [c for c in document["components"] if c["name"] == "libcrypto"]
    purl = PackageURL.from_string(libcrypto["purl"])
    assert (purl.type, purl.name, purl.version) == ("brew", "openssl@3", "3.3.0")
    assert libcrypto["purl"] == "pkg:brew/openssl%403@3.3.0"
    (dylib,) = libcrypto["components"]
    assert dylib["name"] == "/opt/homebrew/Cellar/openssl@3/3.3.0/lib/libcrypto.3.dylib"


def test_a_replayed_xcode_host_gives_xcode(tmp_path: Path) -> None:
    module = replayed_lock(XCODE_16, tmp_path)
    found = tools(sbom(XCODE_16, module))
    assert (found["xcode"]["name"], found["xcode"]["version"]) == ("Xcode", "16.2")
    properties = {p["name"]: p["value"] for p in found["xcode"]["properties"]}
    assert properties["envsnap:xcode-build"] == "16C5032a"
    assert found["sdk"]["version"] == "15.0" and "clt" not in found


def test_the_spdx_document_of_a_replayed_host_passes_spdx_tools(tmp_path: Path) -> None:
    module = replayed_lock(BREW_OPENSSL, tmp_path)
    out = tmp_path / "m.spdx.json"
    result = envsnap(
        "--replay",
        str(BREW_OPENSSL),
        "sbom",
        "-C",
        str(module),
        "--format",
        "spdx-json",
        "-o",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    parsed = parse_from_file(str(out))
    assert validate_full_spdx_document(parsed) == []
    by_name = {p.name: p for p in parsed.packages}
    (purl,) = by_name["libcrypto"].external_references
    assert purl.locator == "pkg:brew/openssl%403@3.3.0"
    purpose = by_name["macOS SDK"].primary_package_purpose
    assert purpose is not None and purpose.name == "FRAMEWORK"
    built = [r for r in parsed.relationships if r.relationship_type.name == "BUILD_TOOL_OF"]
    assert {by_id(parsed, r.spdx_element_id) for r in built} >= {"macOS SDK", "Command Line Tools"}


def by_id(parsed: Any, spdx_id: str) -> str:
    (name,) = [p.name for p in parsed.packages if p.spdx_id == spdx_id]
    return str(name)


@pytest.mark.parametrize(
    ("name", "loads"),
    [
        # gmpy2's extension loads three dylibs vendored beside it (otool -L)
        (
            "gmpy2-2.3.2-arm64-gmpy2.so",
            {
                "@loader_path/../gmpy2.libs/libmpc.3.dylib": "8.1.0",
                "@loader_path/../gmpy2.libs/libmpfr.6.dylib": "9.2.0",
                "@loader_path/../gmpy2.libs/libgmp.10.dylib": "16.0.0",
                "/usr/lib/libSystem.B.dylib": "1351.0.0",
            },
        ),
    ],
)
def test_a_mach_o_binary_lists_the_dylibs_it_loads(
    tmp_path: Path, name: str, loads: dict[str, str]
) -> None:
    module = replayed_lock(BREW_OPENSSL, tmp_path)
    binary = FIXTURES / "macho" / name
    result = envsnap("--replay", str(BREW_OPENSSL), "sbom", "-C", str(module), str(binary))
    # linked against the 15.5 SDK (LC_BUILD_VERSION), the lock's is 14.0: inspect's error
    assert result.returncode == 1 and "macOS SDK: 14.0 → 15.5" in result.stderr
    document = json.loads(result.stdout)
    listed = {}
    for component in document["components"]:
        for prop in component.get("properties", []):
            if prop["name"] == "envsnap:loads":
                listed[prop["value"]] = component["version"]
    assert listed == loads
    # not built by go: it holds none of the lock's cgo packages
    assert not [c for c in document["components"] if "/go-package/" in c["bom-ref"]]
    sdk = tools(document)["sdk"]  # as the binary says, not as the lock does
    assert (sdk["name"], sdk["version"]) == ("macOS SDK", "15.5")
    assert {"name": "envsnap:differs-from-lock", "value": "14.0"} in sdk["properties"]
