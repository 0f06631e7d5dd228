"""The recordings of the "causes, not fields" scenarios, replayed: each says what SOURCES.md says.

An OS upgrade 15.7 -> 26.3 that replaced CLT 16.4 by CLT 26.6 (with and without the old 15.0 SDK
left installed), a lock taken with Xcode 27 beta 4 on macOS 26.5.2, and one runner with Homebrew's
go (``CC=cc``) or setup-go's go (``CC=clang``) in front of the same Xcode 16.4 clang. The expected
values are the ones a person reads in the recordings' blobs and in the runner-images inventories
their SOURCES.md cite, written out literally.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import Any, cast

import pytest

from envsnap.host import ReplayHost
from envsnap.probes.collect import Snapshot, take_snapshot
from tests.conftest import RECORDINGS
from tests.test_verify_macos import locked_with, verify_on

CLT = "/Library/Developer/CommandLineTools"
XCODE_APP = "/Applications/Xcode.app/Contents/Developer"
BETA = "/Applications/Xcode_27_beta_4.app/Contents/Developer"
XCODE_16_4 = "/Applications/Xcode_16.4.app/Contents/Developer"
SDKS = "Platforms/MacOSX.platform/Developer/SDKs"
XCODE_CLANG = f"{XCODE_APP}/Toolchains/XcodeDefault.xctoolchain/usr/bin/clang"
CLT_CLANG = f"{CLT}/usr/bin/clang"
CLANG_21_CLT = "Apple clang version 21.0.0 (clang-2100.0.123.102)"

CLT_16_4 = "macos15.7-arm64-clt16.4"
CLT_26_6 = "macos26.3-arm64-clt26.6"
SDK15_KEPT = "macos26.3-arm64-clt26.6-sdk15-kept"
XCODE_27_BETA = "macos26.5-arm64-xcode27-beta"
BREW_GO = "macos15-arm64-brew-go"
SETUP_GO = "macos15-arm64-setup-go"
CLT_CLANG_15 = "macos15-arm64-clt-ld"
XCODE_BETA_16_3 = "macos15-arm64-xcodes-beta"
NEW = (CLT_16_4, CLT_26_6, SDK15_KEPT, XCODE_27_BETA, BREW_GO, SETUP_GO)


@functools.cache
def replay(name: str) -> tuple[Snapshot, frozenset[str]]:
    host = ReplayHost(RECORDINGS / name)
    return take_snapshot(host, "/nonexistent-local-dir"), frozenset(host.misses)


def entry(name: str) -> dict[str, Any]:
    return cast(dict[str, Any], replay(name)[0].entry)


@pytest.mark.parametrize(
    ("name", "version", "build"),
    [
        (CLT_16_4, "15.7.1", "24G231"),
        (CLT_26_6, "26.3", "25D125"),
        (SDK15_KEPT, "26.3", "25D125"),
        (XCODE_27_BETA, "26.5.2", "25F84"),
        (BREW_GO, "15.7.1", "24G231"),
        (SETUP_GO, "15.7.1", "24G231"),
    ],
)
def test_macos_version(name: str, version: str, build: str) -> None:
    snapshot, _ = replay(name)
    assert snapshot.platform == "darwin-arm64"
    assert (entry(name)["os"]["version"], entry(name)["os"]["build"]) == (version, build)


@pytest.mark.parametrize(
    ("name", "developer_dir", "real", "clt", "sdk_real", "sdk"),
    [
        (CLT_16_4, CLT, CLT, "16.4.0.0.1.1747106510", f"{CLT}/SDKs/MacOSX15.0.sdk", "15.0"),
        (CLT_26_6, CLT, CLT, "26.6.0.0.1781586589", f"{CLT}/SDKs/MacOSX26.5.sdk", "26.5"),
        (SDK15_KEPT, CLT, CLT, "26.6.0.0.1781586589", f"{CLT}/SDKs/MacOSX26.5.sdk", "26.5"),
        (
            XCODE_27_BETA,
            XCODE_APP,
            BETA,
            "26.6.0.0.1781586589",
            f"{BETA}/{SDKS}/MacOSX27.0.sdk",
            "27.0",
        ),
        (
            BREW_GO,
            XCODE_APP,
            XCODE_16_4,
            "16.4.0.0.1.1747106510",
            f"{XCODE_16_4}/{SDKS}/MacOSX15.5.sdk",
            "15.5",
        ),
        (
            SETUP_GO,
            XCODE_APP,
            XCODE_16_4,
            "16.4.0.0.1.1747106510",
            f"{XCODE_16_4}/{SDKS}/MacOSX15.5.sdk",
            "15.5",
        ),
    ],
)
def test_developer_dir_clt_and_sdk(
    name: str, developer_dir: str, real: str, clt: str, sdk_real: str, sdk: str
) -> None:
    apple = entry(name)["apple"]
    assert apple["developer_dir"] == developer_dir
    assert apple["developer_dir_realpath"] == real
    assert apple["clt_version"] == clt
    assert apple["sdk_realpath"] == sdk_real
    assert (apple["sdk_version"], apple["sdk_name"]) == (sdk, f"macosx{sdk}")
    assert apple.get("sdk_error") is None


@pytest.mark.parametrize(
    ("name", "xcode", "build", "beta"),
    [
        (XCODE_27_BETA, "27.0", "27A5228h", True),
        (BREW_GO, "16.4", "16F6", None),
        (SETUP_GO, "16.4", "16F6", None),
        (CLT_16_4, None, None, None),
        (CLT_26_6, None, None, None),
    ],
)
def test_xcode(name: str, xcode: str | None, build: str | None, beta: bool | None) -> None:
    apple = entry(name)["apple"]
    assert (apple.get("xcode_version"), apple.get("xcode_build")) == (xcode, build)
    assert apple.get("xcode_beta") is beta


@pytest.mark.parametrize(
    ("name", "cc", "realpath", "version"),
    [
        (CLT_16_4, "cc", f"{CLT}/usr/bin/clang", "Apple clang version 17.0.0 (clang-1700.0.13.5)"),
        (
            CLT_26_6,
            "cc",
            f"{CLT}/usr/bin/clang",
            "Apple clang version 21.0.0 (clang-2100.0.123.102)",
        ),
        (
            SDK15_KEPT,
            "cc",
            f"{CLT}/usr/bin/clang",
            "Apple clang version 21.0.0 (clang-2100.0.123.102)",
        ),
        (XCODE_27_BETA, "cc", XCODE_CLANG, "Apple clang version 21.0.0 (clang-2100.3.34.2)"),
        (BREW_GO, "cc", XCODE_CLANG, "Apple clang version 17.0.0 (clang-1700.0.13.5)"),
        (SETUP_GO, "clang", XCODE_CLANG, "Apple clang version 17.0.0 (clang-1700.0.13.5)"),
        (CLT_CLANG_15, "cc", "/usr/bin/cc", "Apple clang version 17.0.0 (clang-1700.0.13.5)"),
        (XCODE_BETA_16_3, "cc", XCODE_CLANG, "Apple clang version 16.0.0 (clang-1600.0.26.6)"),
    ],
)
def test_compiler_and_go_cc(name: str, cc: str, realpath: str, version: str) -> None:
    assert entry(name)["go"]["env"]["CC"] == cc
    compiler = entry(name)["cc"]["compiler"]
    assert (compiler["path"], compiler["realpath"], compiler["version"]) == (
        f"/usr/bin/{cc}",
        realpath,
        version,
    )


@pytest.mark.parametrize(
    ("name", "go", "goroot", "cxx"),
    [
        (BREW_GO, "go1.24.0", "/opt/homebrew/Cellar/go/1.24.0/libexec", "c++"),
        (SETUP_GO, "go1.24.0", "/Users/runner/hostedtoolcache/go/1.24.0/arm64", "clang++"),
        (CLT_16_4, "go1.22.3", "/opt/homebrew/Cellar/go/1.22.3/libexec", "c++"),
        (CLT_26_6, "go1.22.3", "/opt/homebrew/Cellar/go/1.22.3/libexec", "c++"),
    ],
)
def test_go_build(name: str, go: str, goroot: str, cxx: str) -> None:
    found = entry(name)["go"]
    home = ReplayHost(RECORDINGS / name).getenv("HOME") or ""
    # a path under HOME is stored as ~/... so that a lock does not carry the user's name
    stored = found["goroot"].replace("~", home, 1)
    assert (found["version"], stored, found["env"]["CXX"]) == (go, goroot, cxx)


@pytest.mark.parametrize("name", NEW)
def test_the_zlib_module_links_libz_from_the_selected_sdk(name: str) -> None:
    (zlib,) = entry(name)["libraries"]
    sdk_real = entry(name)["apple"]["sdk_realpath"]
    assert zlib["files"] == [{"path": f"{sdk_real}/usr/lib/libz.tbd"}]


def test_the_old_sdk_is_gone_after_the_upgrade_and_kept_in_the_companion() -> None:
    old = f"{CLT}/SDKs/MacOSX15.0.sdk"
    gone, kept = ReplayHost(RECORDINGS / CLT_26_6), ReplayHost(RECORDINGS / SDK15_KEPT)
    assert gone.stat(old) is None and not gone.exists(f"{old}/usr/lib/libz.tbd")
    kept_dir = kept.stat(old)
    assert kept_dir is not None and kept_dir.kind == "dir"
    assert kept.exists(f"{old}/usr/lib/libz.tbd")
    assert b'"Version":"15.0"' in (kept.read_bytes(f"{old}/SDKSettings.json") or b"")


def test_the_beta_xcode_is_not_on_the_older_mac() -> None:
    host = ReplayHost(RECORDINGS / CLT_16_4)
    assert not host.exists(BETA) and not host.exists(XCODE_APP)


@pytest.mark.parametrize("name", NEW)
def test_recording_answers_all_but_the_unsampled_questions(name: str) -> None:
    _, misses = replay(name)
    unsampled = {"go env -json", "go list -e -test", "/go/env", "/go.env", "xcode_select_link"}
    unsampled.add("SystemVersion.plist")  # the derived SDKs have no SDK SystemVersion.plist
    assert [m for m in misses if not any(part in m for part in unsampled)] == []


@pytest.mark.parametrize(
    ("lock_host", "verify_host"),
    [(CLT_16_4, CLT_26_6), (CLT_16_4, SDK15_KEPT), (XCODE_27_BETA, CLT_16_4)],
)
def test_a_lock_of_one_host_drifts_on_the_other(
    tmp_path: Path, lock_host: str, verify_host: str
) -> None:
    module = locked_with(RECORDINGS / lock_host, tmp_path)
    document, _ = verify_on(RECORDINGS / verify_host, module)
    assert document["exit_code"] == 1
    assert any(f["severity"] == "error" for f in document["findings"])


def test_the_xcode_release_table_names_the_recorded_xcodes() -> None:
    """Each row has a source; the beta and the Xcode 16.4 of the recordings are in it."""
    table = Path(__file__).parents[1] / "envsnap" / "_data" / "apple" / "xcode-releases.toml"
    rows = tomllib.loads(table.read_text())["xcode"]
    assert all(
        row["source"].startswith("https://github.com/actions/runner-images/") for row in rows
    )
    by_build = {row["build"]: row for row in rows}
    assert by_build["27A5228h"]["macos_sdk"] == entry(XCODE_27_BETA)["apple"]["sdk_version"]
    assert by_build["16F6"]["macos_sdk"] == entry(BREW_GO)["apple"]["sdk_version"]
    assert by_build["16F6"]["clt"] == entry(BREW_GO)["apple"]["clt_version"]
