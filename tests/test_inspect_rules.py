"""inspect's Mach-O rules on real files built by Apple's toolchain (tests/fixtures/macho, see its
SOURCES.md) against entries locked on replayed Macs: the SDK, the linker, the deployment target
and the dylibs. The expected values are the ones SOURCES.md reads from the bytes."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

from envsnap import binfacts
from envsnap.binfacts.facts import Slice
from tests.conftest import FIXTURES, RECORDINGS, envsnap
from tests.entries import content, inspect_slice

MACHO = FIXTURES / "macho"
GMPY2 = MACHO / "gmpy2-2.3.2-arm64-gmpy2.so"  # sdk 15.5, ld 1167.5, three vendored dylibs
UNIVERSAL = MACHO / "markupsafe-3.0.2-universal2-_speedups.so"  # arm64 slice: sdk 14.5, ld 1053.12
CLT_LD = RECORDINGS / "macos15-arm64-clt-ld"  # SDK 15.0, ld-1167.5


def locked_on(host: Path, tmp_path: Path) -> dict[str, Any]:
    module = tmp_path / "m"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    assert envsnap("--replay", str(host), "lock", "-C", str(module)).returncode == 0
    lock = tomllib.loads((module / "envsnap.lock").read_text())
    entry: dict[str, Any] = lock["platforms"]["darwin-arm64"]
    return entry


def arm64(path: Path) -> Slice:
    (piece,) = [s for s in binfacts.read(str(path)).slices if s.goarch == "arm64"]
    return piece


def by_id(piece: Slice, entry: dict[str, Any]) -> dict[str, Any]:
    return {f.id: f for f in inspect_slice(piece, entry, "binary")}


def test_the_sdk_it_was_linked_against_is_compared(tmp_path: Path) -> None:
    entry = locked_on(CLT_LD, tmp_path)
    assert entry["apple"]["sdk_version"] == "15.0"
    found = by_id(arm64(GMPY2), entry)
    sdk = found["apple.sdk_version"]
    assert (sdk.severity, sdk.locked, sdk.live) == ("error", "15.0", "15.5")
    # the same ld (1167.5) linked it: no linker finding; libSystem comes with the SDK
    assert "cc.linker.version" not in found
    assert not [i for i in found if "libSystem" in i]


def test_another_apple_linker_is_named_by_its_version(tmp_path: Path) -> None:
    entry = locked_on(CLT_LD, tmp_path)
    found = by_id(arm64(UNIVERSAL), entry)
    linker = found["cc.linker.version"]
    assert (linker.locked, linker.live, linker.severity) == ("ld 1167.5", "ld 1053.12", "warning")
    assert found["apple.sdk_version"].live == "14.5"


def test_the_minimum_macos_is_held_to_a_locked_deployment_target(tmp_path: Path) -> None:
    entry = locked_on(CLT_LD, tmp_path)
    entry["env"] = {**entry.get("env", {}), "MACOSX_DEPLOYMENT_TARGET": "12.0"}
    target = by_id(arm64(GMPY2), entry)["env.MACOSX_DEPLOYMENT_TARGET"]
    assert (target.locked, target.live) == ("12.0", "11.0")
    entry["env"]["MACOSX_DEPLOYMENT_TARGET"] = "11.0"
    assert "env.MACOSX_DEPLOYMENT_TARGET" not in by_id(arm64(GMPY2), entry)


def with_library(entry: dict[str, Any], name: str, *files: str) -> dict[str, Any]:
    entry = copy.deepcopy(entry)
    library = {"name": name, "found_by": "pkg-config", "files": [{"path": f} for f in files]}
    entry.setdefault("libraries", []).append(library)
    return entry


def test_dylibs_are_matched_to_locked_libraries_by_install_name(tmp_path: Path) -> None:
    entry = locked_on(CLT_LD, tmp_path)
    bare = by_id(arm64(GMPY2), entry)
    assert {i for i in bare if i.startswith("libraries.")} == {
        "libraries.libmpc.3.dylib",
        "libraries.libmpfr.6.dylib",
        "libraries.libgmp.10.dylib",
    }
    assert bare["libraries.libgmp.10.dylib"].severity == "warning"
    cellar = "/opt/homebrew/Cellar/{0}/lib/{1}"
    locked = with_library(
        entry,
        "mpc",
        cellar.format("libmpc/1.3.1", "libmpc.3.dylib"),
        cellar.format("mpfr/4.2.1", "libmpfr.6.dylib"),
        cellar.format("gmp/6.3.0", "libgmp.10.dylib"),
    )
    assert not [i for i in by_id(arm64(GMPY2), locked) if i.startswith("libraries.")]
    older = with_library(entry, "mpc", cellar.format("libmpc/1.2.1", "libmpc.2.dylib"))
    other = by_id(arm64(GMPY2), older)["libraries.mpc.files"]
    assert (other.severity, other.locked) == ("error", "libmpc.2.dylib")
    assert str(other.live).startswith("@loader_path/../gmpy2.libs/libmpc.3.dylib")


def test_the_sdk_stub_links_the_system_library(tmp_path: Path) -> None:
    entry = with_library(
        locked_on(CLT_LD, tmp_path),
        "System",
        "/Library/Developer/CommandLineTools/SDKs/MacOSX15.0.sdk/usr/lib/libSystem.tbd",
    )
    assert not [i for i in by_id(arm64(GMPY2), entry) if "System" in i]


def test_a_binary_is_read_as_the_fields_it_tells_where_the_lock_records_them() -> None:
    from envsnap.binfacts.buildinfo import GoBuild
    from envsnap.drift import compare_facts
    from envsnap.inspection import build_facts

    go_section = {"version": "go1.22.3", "env": {"CGO_CFLAGS": "-O2 -g"}, "tags": ["netgo"]}
    locked = content({"go": go_section, "cgo": {"packages": []}, "libraries": []})
    settings = (("CGO_ENABLED", "1"), ("CGO_CFLAGS", "-O2"), ("GOAMD64", "v3"), ("-tags", "netgo"))
    facts, unrecorded = build_facts(GoBuild("go1.23.0", settings=settings), locked)
    # GOAMD64: the lock does not record it; the tags are the locked ones
    assert facts == {
        ("go", "version"): "go1.23.0",
        ("go", "env", "CGO_ENABLED"): "1",
        ("go", "env", "CGO_CFLAGS"): "-O2",
    }
    assert unrecorded == ["CGO_CPPFLAGS", "CGO_CXXFLAGS", "CGO_LDFLAGS"]
    found = {f.id: f for f in compare_facts(locked, facts)}
    assert sorted(found) == ["go.env.CGO_CFLAGS", "go.env.CGO_ENABLED", "go.version"]
    assert (found["go.version"].severity, found["go.env.CGO_CFLAGS"].removed) == ("error", ("-g",))
