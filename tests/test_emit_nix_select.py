"""The Nix shell selects what the lock says: the SDK's own libraries stay with the SDK, every
library of the 18 public cgo modules has its attribute, and nothing is silently replaced."""

from __future__ import annotations

import copy
import json
import re
import shutil
import sys
import tomllib
from importlib.resources import files
from pathlib import Path
from typing import Any, cast

import pytest

from envsnap.config import Config
from envsnap.emit.plan import load_tables, plan_shell
from envsnap.entry import Entry
from tests.conftest import RECORDINGS, REPO, envsnap, require_tool
from tests.test_emit import eval_shell, replay_locked
from tests.test_emit_envrc import DUMP_ENV, base_env, direnv_exec, run, shim

GO = '[nix.attributes.go]\n"1.22" = "go_1_25"\n"1.24" = "go_1_25"\n"1.16" = "go_1_25"\n'


def library(name: str, found_by: str = "pkg-config", *paths: str) -> dict[str, Any]:
    lib: dict[str, Any] = {"name": name, "found_by": found_by, "provider": "system"}
    if paths:
        lib["files"] = [{"path": p} for p in paths]
    return lib


def linux_entry(*libraries: dict[str, Any]) -> Entry:
    """The parts of a Linux entry the Nix plan reads."""
    return cast(
        Entry,
        {
            "go": {"version": "go1.26.6", "env": {}},
            "cc": {"compiler": {"version": "gcc (Debian 12.2.0-14) 12.2.0"}},
            "libraries": list(libraries),
        },
    )


def test_the_sdks_libz_tbd_adds_no_zlib(tmp_path: Path) -> None:
    """-lz on a Mac is the SDK's libz.tbd: apple-sdk provides it, pkgs.zlib would shadow it."""
    module = replay_locked(tmp_path, RECORDINGS / "macos14-arm64-clt-zlib", GO)
    (entry,) = tomllib.loads((module / "envsnap.lock").read_text())["platforms"].values()
    (z,) = [lib for lib in entry["libraries"] if lib["name"] == "z"]
    assert z["files"][0]["path"].endswith("/MacOSX14.0.sdk/usr/lib/libz.tbd")
    result = envsnap("emit", "--nix", "-C", str(module))
    assert result.returncode == 0, result.stderr
    shell = eval_shell(module / "shell.nix", "aarch64-darwin")
    assert "zlib" not in shell["packages"]
    assert shell["buildInputs"] == ["apple-sdk_14"]


# The libraries the public cgo modules named in the issue link, as their lock names them, and
# the nixpkgs attribute that provides each (the file defining it is the row's `source`).
COVERAGE = [
    (library("MagickWand-6.Q16"), "imagemagick6"),  # gographics/imagick v2 (ImageMagick 6)
    (library("MagickWand"), "imagemagick"),  # gographics/imagick v3 (ImageMagick 7)
    (library("Xxf86vm", "ldflags"), "libxxf86vm"),  # go-gl/glfw's #cgo linux LDFLAGS
    (library("xxf86vm"), "libxxf86vm"),
    (library("Xext", "ldflags"), "libxext"),
    (library("Xss", "ldflags"), "libxscrnsaver"),  # XScrnSaver's library is libXss
    (library("xscrnsaver"), "libxscrnsaver"),
    (library("alsa"), "alsa-lib"),  # hajimehoshi/oto
    (library("asound", "ldflags"), "alsa-lib"),
    (library("fontconfig"), "fontconfig"),
    (library("libvirt"), "libvirt"),  # libvirt/libvirt-go-module
    (library("gstreamer-1.0"), "gst_all_1.gstreamer"),  # go-gst
    (library("gstreamer-app-1.0"), "gst_all_1.gst-plugins-base"),
    (library(":librocksdb.a", "ldflags"), "rocksdb"),  # linxGnu/grocksdb static builds
]


@pytest.mark.parametrize(("lib", "attribute"), COVERAGE)
def test_each_library_has_its_attribute(lib: dict[str, Any], attribute: str) -> None:
    plan = plan_shell("linux-amd64", linux_entry(lib), load_tables(Config()))
    assert plan is not None
    assert attribute in plan.packages, (plan.packages, plan.warnings)
    assert not [w for w in plan.warnings if "no nixpkgs attribute" in w]


def test_every_library_row_names_the_nixpkgs_file_that_defines_it() -> None:
    table = tomllib.loads((files("envsnap") / "_data" / "nix" / "attributes.toml").read_text())
    for row in table["library"]:
        if row["attribute"]:
            assert re.search(r"pkgs/[\w./+-]+\.nix|pkgs/[\w/.-]+", row["source"]), row


def test_imagemagick6_says_nixpkgs_marks_it_insecure() -> None:
    plan = plan_shell(
        "linux-amd64", linux_entry(library("MagickWand-6.Q16")), load_tables(Config())
    )
    assert plan is not None and "imagemagick" not in plan.packages
    assert any("knownVulnerabilities" in w for w in plan.warnings)


def test_the_static_cxx_runtime_and_bundled_archives_need_no_attribute() -> None:
    bundled = library(
        "${GOMODCACHE}/github.com/x/y@v1.0.0/lib/libfoo.a", "ldflags",
        "${GOMODCACHE}/github.com/x/y@v1.0.0/lib/libfoo.a",
    )  # fmt: skip
    in_module = library("${MODULE}/lib/libbar.a", "ldflags", "${MODULE}/lib/libbar.a")
    runtime = library(":libstdc++.a", "ldflags")
    entry = linux_entry(bundled, in_module, runtime)
    plan = plan_shell("linux-amd64", entry, load_tables(Config()))
    assert plan is not None
    assert plan.warnings == []


def test_a_library_without_attribute_is_named_without_placeholder() -> None:
    plan = plan_shell("linux-amd64", linux_entry(library("nosuchlib")), load_tables(Config()))
    assert plan is not None
    (note,) = [n for n in plan.notes if "nosuchlib" in n]
    assert "?" not in note and "[nix.attributes.libraries]" in note


def mac_entry(module: Path) -> dict[str, Any]:
    (entry,) = tomllib.loads((module / "envsnap.lock").read_text())["platforms"].values()
    return copy.deepcopy(entry)


def test_an_sdk_without_attribute_is_an_error_naming_the_nearest(tmp_path: Path) -> None:
    """SDK 12.3 (macos12 recording): apple-sdk_12 was removed; a shell without it would build
    against nixpkgs' default SDK while claiming the lock's."""
    module = replay_locked(tmp_path, RECORDINGS / "macos12-x86_64-clt", GO)
    refused = envsnap("emit", "--nix", "-C", str(module))
    assert refused.returncode == 1, refused.stderr
    assert "macOS SDK 12" in refused.stderr and "apple-sdk_14" in refused.stderr
    assert "Traceback" not in refused.stderr and not (module / "shell.nix").exists()
    (module / "envsnap.toml").write_text(GO + '[nix.attributes.apple_sdk]\n"12" = "apple-sdk_14"\n')
    fallback = envsnap("emit", "--nix", "-C", str(module))
    assert fallback.returncode == 0, fallback.stderr
    assert "SDK 12 is locked, but apple-sdk_14 (SDK 14) is the shell's SDK" in fallback.stderr
    assert "x86_64-darwin" in fallback.stderr  # an Intel Mac: nixpkgs is dropping it


def test_a_failing_use_nix_falls_back_to_the_locked_values(tmp_path: Path) -> None:
    """Debian's nix-bin has no channel: nix-shell fails with "file 'nixpkgs' was not found in the
    Nix search path". emit --nix says so; the .envrc still exports the locked values, says why,
    and verify inside it has nothing to report."""
    for tool in ("go", "gcc", "pkg-config", "direnv", "nix-shell", "nix-instantiate"):
        require_tool(tool)
    module = tmp_path / "zlib"
    shutil.copytree(REPO / "examples" / "zlib", module)
    bin_dir = tmp_path / "bin"
    shim(bin_dir, "envsnap", f'exec {sys.executable} -m envsnap "$@"\n')
    env = {k: v for k, v in base_env(bin_dir).items() if k != "NIX_PATH"}
    assert envsnap("lock", "-C", str(module), env=env).returncode == 0
    emitted = envsnap("emit", "--nix", "-C", str(module), env=env)
    assert emitted.returncode == 0, emitted.stderr
    assert "no nixpkgs on its search path" in emitted.stderr
    assert envsnap("emit", "--direnv", "-C", str(module), env=env).returncode == 0
    assert run(["direnv", "allow"], module, env).returncode == 0
    loaded = direnv_exec(module, env, *DUMP_ENV)
    assert loaded.returncode == 0, loaded.stderr
    assert "file 'nixpkgs' was not found" in loaded.stderr  # nix-shell's own words, above ours
    assert "use nix failed" in loaded.stderr and "exporting the values locked" in loaded.stderr
    exported = json.loads(loaded.stdout)
    (entry,) = tomllib.loads((module / "envsnap.lock").read_text())["platforms"].values()
    assert exported["CC"] == entry["go"]["env"]["CC"]
    assert exported["GOTOOLCHAIN"] == f"{entry['go']['version']}+auto"
    verified = direnv_exec(module, env, "envsnap", "verify", "--strict", "--json")
    assert json.loads(verified.stdout)["findings"] == [], verified.stdout
