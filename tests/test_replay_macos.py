"""Recorded macOS hosts replayed through every probe.

The recordings in ``fixtures/recordings/`` were assembled from real command output and real files
(``/work/shared/fixtures/macos``); each one's SOURCES.md says where every byte came from. The
expected values below are the ones a person reads in those files, written out literally.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import Any

import pytest

from envsnap.cli import main
from envsnap.entry import Content
from envsnap.host import ReplayHost
from envsnap.probes.cgo import FIELDS
from envsnap.probes.collect import Snapshot, take_snapshot

RECORDINGS = Path(__file__).parent / "fixtures" / "recordings"

CLT = "/Library/Developer/CommandLineTools"
CLT_SDK = f"{CLT}/SDKs/MacOSX.sdk"
XCODE = "/Applications/Xcode.app/Contents/Developer"
XCODE_SDK = f"{XCODE}/Platforms/MacOSX.platform/Developer/SDKs/MacOSX.sdk"
CELLAR = "/opt/homebrew/Cellar"

HOST_1 = "macos14-arm64-clt-brew-openssl"
XCODE_16 = "macos15-arm64-xcode16"
INTEL = "macos12-x86_64-clt"
CLT_MISSING = "macos14-arm64-clt-missing"
MACOS_15_CLT = "macos15-arm64-clt-brew-openssl"
OPENSSL_340 = "macos14-arm64-clt-brew-openssl-3.4.0"
CLT_LD = "macos15-arm64-clt-ld"
ALL = (HOST_1, XCODE_16, INTEL, CLT_MISSING, MACOS_15_CLT, OPENSSL_340, CLT_LD)

APPLE_KEYS = (
    "developer_dir",
    "developer_dir_kind",
    "has_xcrun",
    "clt_version",
    "sdk_path",
    "sdk_realpath",
    "sdk_version",
    "sdk_name",
    "sdk_build",
    "sdk_error",
    "xcode_version",
    "xcode_build",
)


@functools.cache
def replay(name: str) -> tuple[Snapshot, frozenset[str]]:
    """The snapshot of one recording, and what the probes asked that it does not hold."""
    host = ReplayHost(RECORDINGS / name)
    snapshot = take_snapshot(host, "/nonexistent-local-dir")
    return snapshot, frozenset(host.misses)


def entry(name: str) -> Content:
    return replay(name)[0].entry


@pytest.mark.parametrize(
    ("name", "platform", "version", "build"),
    [
        (HOST_1, "darwin-arm64", "14.3", "23D56"),
        (XCODE_16, "darwin-arm64", "15.3.1", "24D70"),
        (INTEL, "darwin-amd64", "12.6.1", "21G217"),
        (CLT_MISSING, "darwin-arm64", "14.7.4", "23H420"),
        (MACOS_15_CLT, "darwin-arm64", "15.3.1", "24D70"),
        (OPENSSL_340, "darwin-arm64", "14.3", "23D56"),
        (CLT_LD, "darwin-arm64", "15.3.1", "24D70"),
    ],
)
def test_platform_and_macos_version(name: str, platform: str, version: str, build: str) -> None:
    snapshot, _ = replay(name)
    assert snapshot.platform == platform
    assert snapshot.entry["os"] == {
        "goos": "darwin",
        "goarch": platform.removeprefix("darwin-"),
        "name": "macos",
        "version": version,
        "build": build,
    }


def _clt(clt_version: str | None, sdk: str, version: str, build: str) -> dict[str, Any]:
    return {
        "developer_dir": CLT,
        "developer_dir_kind": "clt",
        "has_xcrun": True,
        "clt_version": clt_version,
        "sdk_path": CLT_SDK,
        "sdk_realpath": f"{CLT}/SDKs/{sdk}",
        "sdk_version": version,
        "sdk_name": f"macosx{version}",
        "sdk_build": build,
        "sdk_error": None,
        "xcode_version": None,
        "xcode_build": None,
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (HOST_1, _clt("15.3.0.0.1.1708646388", "MacOSX14.0.sdk", "14.0", "23A334")),
        (OPENSSL_340, _clt("15.3.0.0.1.1708646388", "MacOSX14.0.sdk", "14.0", "23A334")),
        (MACOS_15_CLT, _clt("16.2.0.0.1.1733547573", "MacOSX15.0.sdk", "15.0", "24A336")),
        (INTEL, _clt(None, "MacOSX12.3.sdk", "12.3", "21E226")),
        (CLT_LD, _clt(None, "MacOSX15.0.sdk", "15.0", "24A336")),
        (
            XCODE_16,
            {
                "developer_dir": XCODE,
                "developer_dir_kind": "xcode",
                "has_xcrun": True,
                "clt_version": None,
                "sdk_path": XCODE_SDK,
                "sdk_realpath": XCODE_SDK,
                "sdk_version": "15.0",
                "sdk_name": "macosx15.0",
                "sdk_build": "24A336",
                "sdk_error": None,
                "xcode_version": "16.2",
                "xcode_build": "16C5032a",
            },
        ),
        (
            CLT_MISSING,
            {
                "developer_dir": CLT,
                "developer_dir_kind": "clt",
                "has_xcrun": False,
                "clt_version": None,
                "sdk_path": CLT_SDK,
                "sdk_realpath": None,
                "sdk_version": None,
                "sdk_name": None,
                "sdk_build": None,
                "sdk_error": f"{CLT_SDK} does not exist",
                "xcode_version": None,
                "xcode_build": None,
            },
        ),
    ],
)
def test_developer_dir_clt_and_sdk(name: str, expected: dict[str, Any]) -> None:
    apple = entry(name)["apple"]
    assert {key: apple.get(key) for key in APPLE_KEYS} == expected
    assert apple["developer_dir_source"] == "xcode-select"


@pytest.mark.parametrize(
    ("name", "command", "version"),
    [
        (HOST_1, "cc", "Apple clang version 15.0.0 (clang-1500.0.40.1)"),
        (OPENSSL_340, "cc", "Apple clang version 15.0.0 (clang-1500.0.40.1)"),
        (MACOS_15_CLT, "cc", "Apple clang version 16.0.0 (clang-1600.0.26.6)"),
        (XCODE_16, "cc", "Apple clang version 16.0.0 (clang-1600.0.26.6)"),
        (CLT_LD, "cc", "Apple clang version 17.0.0 (clang-1700.0.13.5)"),
        # the first line of this sample is "Configured with: ...", which the probe skips
        (INTEL, "clang", "Apple clang version 12.0.5 (clang-1205.0.22.11)"),
    ],
)
def test_compiler_version_line(name: str, command: str, version: str) -> None:
    behind = XCODE_CLANG if name == XCODE_16 else f"/usr/bin/{command}"
    assert entry(name)["cc"]["compiler"] == {
        "command": command,
        "path": f"/usr/bin/{command}",
        "realpath": behind,
        "version": version,
    }


XCODE_CLANG = (
    "/Applications/Xcode.app/Contents/Developer/Toolchains/XcodeDefault.xctoolchain/usr/bin/clang"
)


def test_the_compiler_behind_the_cc_shim_is_found_through_xcrun() -> None:
    """Only the Xcode host has a recorded `xcrun --find clang`; the others keep the shim."""
    _, misses = replay(XCODE_16)
    assert "run xcrun --find clang" not in misses
    assert entry(XCODE_16)["cc"]["compiler"]["realpath"] == XCODE_CLANG
    assert "run xcrun --find clang" in replay(HOST_1)[1]


def test_compiler_without_developer_tools_is_an_error() -> None:
    compiler = entry(CLT_MISSING)["cc"]["compiler"]
    assert "version" not in compiler
    assert "xcrun: error: invalid active developer path" in compiler["error"]


def test_linker_from_the_one_real_ld_sample() -> None:
    assert entry(CLT_LD)["cc"]["linker"] == {
        "path": "/usr/bin/ld",
        "realpath": "/usr/bin/ld",
        "version": "@(#)PROGRAM:ld PROJECT:ld-1167.5",
    }


@pytest.mark.parametrize("name", [n for n in ALL if n != CLT_LD])
def test_linker_without_a_sample_is_reported_missing(name: str) -> None:
    assert entry(name)["cc"]["linker"] == {"error": "`ld` is not on PATH"}


@pytest.mark.parametrize(
    ("name", "version", "goroot", "cc", "mod_go"),
    [
        (HOST_1, "go1.22.3", f"{CELLAR}/go/1.22.3/libexec", "cc", "1.22"),
        (CLT_MISSING, "go1.22.3", f"{CELLAR}/go/1.22.3/libexec", "cc", "1.22"),
        (MACOS_15_CLT, "go1.22.3", f"{CELLAR}/go/1.22.3/libexec", "cc", "1.22"),
        (OPENSSL_340, "go1.22.3", f"{CELLAR}/go/1.22.3/libexec", "cc", "1.22"),
        (XCODE_16, "go1.24.0", f"{CELLAR}/go/1.24.0/libexec", "cc", "1.24"),
        (CLT_LD, "go1.24.0", f"{CELLAR}/go/1.24.0/libexec", "cc", "1.24"),
        (INTEL, "go1.16", "/usr/local/Cellar/go/1.16/libexec", "clang", "1.16"),
    ],
)
def test_go_toolchain(name: str, version: str, goroot: str, cc: str, mod_go: str) -> None:
    go = entry(name)["go"]
    assert go["version"] == version
    assert go["goroot"] == goroot
    assert go["path"] == f"{goroot}/bin/go"
    assert go["mod_go"] == mod_go
    # GOTOOLCHAIN exists from go1.21 on; older Go has no such setting
    assert go.get("gotoolchain") == (None if version == "go1.16" else "auto")
    assert go["env"]["CC"] == cc
    assert go["env"]["CGO_ENABLED"] == "1"
    assert go["env"]["PKG_CONFIG"] == "pkg-config"


def _libcrypto(version: str) -> dict[str, Any]:
    return {
        "name": "libcrypto",
        "found_by": "pkg-config",
        "provider": f"brew:openssl@3 {version}",
        "version": version,
        "files": [{"path": f"{CELLAR}/openssl@3/{version}/lib/libcrypto.3.dylib"}],
        "used_by": ["example.com/app/sslver"],
    }


@pytest.mark.parametrize(
    ("name", "libraries"),
    [
        (HOST_1, [_libcrypto("3.3.0")]),
        (CLT_MISSING, [_libcrypto("3.3.0")]),
        (MACOS_15_CLT, [_libcrypto("3.3.0")]),
        (OPENSSL_340, [_libcrypto("3.4.0")]),
        (XCODE_16, []),
        (CLT_LD, []),
        (INTEL, []),
    ],
)
def test_libraries_and_their_homebrew_provider(name: str, libraries: list[dict[str, Any]]) -> None:
    assert entry(name)["libraries"] == libraries


@pytest.mark.parametrize(
    ("name", "packages"),
    [
        (HOST_1, [("example.com/app/sslver", ["libcrypto"], [])]),
        (XCODE_16, [("example.com/app/cfver", [], ["-framework", "CoreFoundation"])]),
        (INTEL, [("example.com/gomodule", [], [])]),
    ],
)
def test_cgo_packages(name: str, packages: list[tuple[str, list[str], list[str]]]) -> None:
    found = entry(name)["cgo"]["packages"]
    assert [(p["path"], p["pkg_config"], p["ldflags"]) for p in found] == packages


# recorded before envsnap listed test dependencies (and only the fields it reads): replays fall
# back to the plain listing
FIELDS_ARG = "-json=" + FIELDS


def _listings(go: str) -> set[str]:
    return {
        f"run {go} list -e -test -deps {FIELDS_ARG} ./...",
        f"run {go} list -e -test -deps -json ./...",
    }


HOMEBREW_TEST_LISTING = _listings("/opt/homebrew/bin/go")
GO_1223_MISSES = {
    *HOMEBREW_TEST_LISTING,
    "run /opt/homebrew/bin/go env -json",
    "read /Users/furychick/Library/Application Support/go/env",
    "read /opt/homebrew/Cellar/go/1.22.3/libexec/go.env",
    "stat /var/db/xcode_select_link",
    "run xcrun --find clang",
}
GO_1240_MISSES = {
    *HOMEBREW_TEST_LISTING,
    "run /opt/homebrew/bin/go env -json",
    "read /Users/jettcc/Library/Application Support/go/env",
    "read /opt/homebrew/Cellar/go/1.24.0/libexec/go.env",
    "stat /var/db/xcode_select_link",
}


def _keg_misses(version: str) -> set[str]:
    keg = f"{CELLAR}/openssl@3/{version}"
    return {
        "run pkg-config --variable=pcfiledir libcrypto",
        f"stat {keg}/lib/libcrypto.tbd",
        f"read {keg}/lib/libcrypto.dylib",
        f"read {keg}/INSTALL_RECEIPT.json",
    }


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        (HOST_1, GO_1223_MISSES | _keg_misses("3.3.0")),
        (CLT_MISSING, GO_1223_MISSES | _keg_misses("3.3.0")),
        (MACOS_15_CLT, GO_1223_MISSES | _keg_misses("3.3.0")),
        (OPENSSL_340, GO_1223_MISSES | _keg_misses("3.4.0")),
        (XCODE_16, GO_1240_MISSES),
        (
            CLT_LD,
            GO_1240_MISSES
            | {
                "run pkgutil --pkg-info=com.apple.pkg.CLTools_Executables",
                "run xcrun --find clang",
                "run xcrun --find ld",
            },
        ),
        (
            INTEL,
            _listings("/usr/local/bin/go")
            | {
                "read /Users/kido/Library/Application Support/go/env",
                "read /usr/local/Cellar/go/1.16/libexec/go.env",
                "stat /var/db/xcode_select_link",
                "run pkgutil --pkg-info=com.apple.pkg.CLTools_Executables",
                "run xcrun --find clang",
            },
        ),
    ],
)
def test_recording_answers_all_but_the_unsampled_questions(name: str, allowed: set[str]) -> None:
    """A new unanswered question means the recording (and its SOURCES.md) needs a look."""
    _, misses = replay(name)
    assert misses <= allowed


def test_lock_from_a_replayed_host_writes_a_darwin_entry(tmp_path: Path) -> None:
    module = tmp_path / "mod"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    code = main(["--replay", str(RECORDINGS / HOST_1), "lock", "-C", str(module)])
    assert code == 0
    lock = tomllib.loads((module / "envsnap.lock").read_text())
    darwin = lock["platforms"]["darwin-arm64"]
    assert darwin["apple"]["sdk_version"] == "14.0"
    assert darwin["cc"]["compiler"]["version"] == "Apple clang version 15.0.0 (clang-1500.0.40.1)"
    (libcrypto,) = darwin["libraries"]
    assert libcrypto["provider"] == "brew:openssl@3 3.3.0"
