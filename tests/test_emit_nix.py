"""The Nix files select the locked toolchain: SDK in buildInputs, pinned nixpkgs, real libraries."""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path

from envsnap.lockfile import LockFile, make_entry, render
from tests.conftest import REPO, envsnap, require_tool, write_module
from tests.test_emit import MAC14, emit, eval_shell, nix_eval, replay_locked, stub_pkgs

REV = "0123456789abcdef0123456789abcdef01234567"
SHA = "1" * 52
PINNED = (
    f'[nix]\nnixpkgs = "github:NixOS/nixpkgs/{REV}"\nnixpkgs_sha256 = "{SHA}"\n'
    '[nix.attributes.go]\n"1.22" = "go_1_22"\n'
)


def with_deployment_target(module: Path, target: str) -> None:
    """The lock as if MACOSX_DEPLOYMENT_TARGET had been set when it was written."""
    lock = tomllib.loads((module / "envsnap.lock").read_text())
    platforms = {}
    for key, entry in lock["platforms"].items():
        entry.setdefault("env", {})["MACOSX_DEPLOYMENT_TARGET"] = target
        platforms[key] = make_entry(entry)
    (module / "envsnap.lock").write_bytes(render(LockFile(module / "envsnap.lock", 1, platforms)))


def test_replayed_mac_shell_selects_sdk_and_target_in_build_inputs_from_pinned_nixpkgs(
    tmp_path: Path,
) -> None:
    mac14 = replay_locked(tmp_path, MAC14, PINNED)
    with_deployment_target(mac14, "13.0")
    emit(mac14, "--nix")
    shell = mac14 / "shell.nix"
    evaluated = eval_shell(shell, "aarch64-darwin")
    assert evaluated["buildInputs"] == ["apple-sdk_14", "darwinMinVersionHook 13.0"]
    assert not any(p.startswith("apple-sdk") for p in evaluated["packages"])
    # the default pkgs: fetchTarball and import stand in for the download, recording the pin
    stub = stub_pkgs("aarch64-darwin")
    scope = (
        "{ fetchTarball = args: args; "
        f"import = args: _: {stub} // {{ mkShell = a: a // {{ pinned = args; }}; }}; }}"
    )
    pinned = nix_eval(f"(scopedImport {scope} {shell}) {{ }}")["pinned"]
    assert pinned == {
        "url": f"https://github.com/NixOS/nixpkgs/archive/{REV}.tar.gz",
        "sha256": SHA,
    }

    emit(mac14, "--flake")
    flake = mac14 / "flake.nix"
    assert nix_eval(f"(import {flake}).inputs.nixpkgs.url") == f"github:NixOS/nixpkgs/{REV}"
    inputs = f'{{ self = {{ }}; nixpkgs.legacyPackages."aarch64-darwin" = {stub}; }}'
    shells = nix_eval(f"((import {flake}).outputs {inputs}).devShells")
    darwin = shells["aarch64-darwin"]["default"]
    assert darwin["buildInputs"] == ["apple-sdk_14", "darwinMinVersionHook 13.0"]
    assert darwin["env"]["GOTOOLCHAIN"] == "local"  # the Go is Nix's: never switch away from it


def test_an_unpinned_shell_says_so(tmp_path: Path) -> None:
    mac14 = replay_locked(tmp_path, MAC14, '[nix.attributes.go]\n"1.22" = "go_1_22"\n')
    emit(mac14, "--nix")
    text = (mac14 / "shell.nix").read_text()
    assert "import <nixpkgs>" in text and "nixpkgs is not pinned" in text
    assert "darwinMinVersionHook" not in text  # no deployment target in this lock


def test_every_attribute_carries_its_nixpkgs_source() -> None:
    tables = tomllib.loads((REPO / "nix" / "attributes.toml").read_text())
    for row in tables["library"]:
        assert row["source"].strip(), row
        assert row["pkg_config"] or row["link"] or row["brew"], row
        if row["attribute"]:
            assert "pkgs/" in row["source"], row
    used = {v for t in ("go", "apple_sdk", "compilers") for v in tables[t].values()}
    assert used <= set(tables["sources"]), used - set(tables["sources"])
    assert all("pkgs/" in source for source in tables["sources"].values())


GUI_PACKAGES = {
    "gtk/gtk.go": (
        'package gtk\n\n// #cgo pkg-config: gtk+-3.0\n// #include <gtk/gtk.h>\nimport "C"\n'
    ),
    "sdl/sdl.go": 'package sdl\n\n// #cgo pkg-config: sdl2\n// #include <SDL.h>\nimport "C"\n',
    "glfw/glfw.go": (
        'package glfw\n\n// #cgo pkg-config: glfw3\n// #include <GLFW/glfw3.h>\nimport "C"\n'
    ),
    "zmq/zmq.go": 'package zmq\n\n// #cgo pkg-config: libzmq\n// #include <zmq.h>\nimport "C"\n',
    "vend/vend.go": (
        'package vend\n\n// #cgo LDFLAGS: ${SRCDIR}/lib/libvend.a -lstdc++\nimport "C"\n'
    ),
}


def test_real_gtk_sdl_glfw_zmq_module_maps_every_library(tmp_path: Path) -> None:
    for tool in ("go", "gcc", "ar", "pkg-config"):
        require_tool(tool)
    module = write_module(tmp_path / "gui", GUI_PACKAGES)
    lib = module / "vend" / "lib"
    lib.mkdir()
    (lib / "v.c").write_text("int vend(void) { return 1; }\n")
    subprocess.run(["gcc", "-c", "-o", str(lib / "v.o"), str(lib / "v.c")], check=True)
    subprocess.run(["ar", "rcs", str(lib / "libvend.a"), str(lib / "v.o")], check=True)
    locked = envsnap("lock", "-C", str(module))
    assert locked.returncode == 0, locked.stderr
    names = {
        lib["name"]
        for entry in tomllib.loads((module / "envsnap.lock").read_text())["platforms"].values()
        for lib in entry["libraries"]
    }
    assert {"gtk+-3.0", "sdl2", "glfw3", "libzmq", "stdc++"} <= names, names

    warnings = emit(module, "--nix")
    # (this machine's Nix has no channel: that the unpinned file cannot load here is said apart)
    mapped = [w for w in warnings.splitlines() if "no nixpkgs on its search path" not in w]
    assert "warning" not in "\n".join(mapped), warnings
    evaluated = eval_shell(module / "shell.nix", "x86_64-linux")
    assert {"gtk3", "SDL2", "glfw3", "zeromq", "pkg-config"} <= set(evaluated["packages"])
    assert "no nixpkgs attribute" not in (module / "shell.nix").read_text()
    assert json.dumps(evaluated).count("vend") == 0  # the vendored archive needs no package


def test_a_revision_alone_pins_the_flake_and_an_unchecked_tarball(tmp_path: Path) -> None:
    config = f'[nix]\nnixpkgs = "{REV}"\n[nix.attributes.go]\n"1.22" = "go_1_22"\n'
    mac14 = replay_locked(tmp_path, MAC14, config)
    emit(mac14, "--flake")
    url = nix_eval(f"(import {mac14 / 'flake.nix'}).inputs.nixpkgs.url")
    assert url == f"github:NixOS/nixpkgs/{REV}"
    emit(mac14, "--nix")
    text = (mac14 / "shell.nix").read_text()
    assert f"archive/{REV}.tar.gz" in text and "sha256 =" not in text
    assert "this download is unchecked" in text


def test_a_tarball_url_points_the_pinned_download_at_a_mirror(tmp_path: Path) -> None:
    mirror = "https://nix-mirror.example.com/nixpkgs/{rev}/source.tar.gz"
    config = PINNED.replace("[nix.attributes.go]", f'tarball_url = "{mirror}"\n[nix.attributes.go]')
    mac14 = replay_locked(tmp_path, MAC14, config)
    emit(mac14, "--nix")
    stub = stub_pkgs("aarch64-darwin")
    scope = (
        "{ fetchTarball = args: args; "
        f"import = args: _: {stub} // {{ mkShell = a: a // {{ pinned = args; }}; }}; }}"
    )
    pinned = nix_eval(f"(scopedImport {scope} {mac14 / 'shell.nix'}) {{ }}")["pinned"]
    assert pinned == {"url": mirror.replace("{rev}", REV), "sha256": SHA}


def test_a_branch_is_no_pin(tmp_path: Path) -> None:
    config = '[nix]\nnixpkgs = "github:NixOS/nixpkgs/nixos-unstable"\n'
    mac14 = replay_locked(tmp_path, MAC14, config)
    refused = envsnap("emit", "--flake", "-C", str(mac14))
    assert refused.returncode == 2
    assert (
        len(refused.stderr.strip().splitlines()) == 1 and "not a nixpkgs commit" in refused.stderr
    )


def test_a_library_warning_names_the_table_to_extend(tmp_path: Path) -> None:
    mac14 = replay_locked(tmp_path, MAC14, '[nix.attributes.go]\n"1.22" = "go_1_22"\n')
    lock = tomllib.loads((mac14 / "envsnap.lock").read_text())
    platforms = {}
    for key, entry in lock["platforms"].items():
        entry["libraries"].append(
            {"name": "frobnicate", "found_by": "ldflags", "provider": "system", "used_by": ["x"]}
        )
        platforms[key] = make_entry(entry)
    (mac14 / "envsnap.lock").write_bytes(render(LockFile(mac14 / "envsnap.lock", 1, platforms)))
    warnings = emit(mac14, "--nix")
    assert "frobnicate" in warnings and "[nix.attributes.libraries]" in warnings
    assert (
        "# no nixpkgs attribute known for the library frobnicate"
        in (mac14 / "shell.nix").read_text()
    )
