"""One finding per cause, in words a person uses, on real tools and real libraries.

A library file listed by several pkg-config packages (GLib's), a compiler reached by another
path, a flag added to a long list, a policy that ignores one part of a grouped change: each is
checked against the real `envsnap verify` on a real module.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RECORDINGS, envsnap, require_tool, unavailable, write_module

GLIB_PACKAGES = ("gio-2.0", "gobject-2.0", "glib-2.0")
GLIB_MAIN = """package main

// #cgo pkg-config: gio-2.0 gobject-2.0 glib-2.0
// #include <gio/gio.h>
import "C"

func main() { C.g_object_unref(nil) }
"""


ZZ_LINKS_TWO = 'package zz\n\n// #cgo LDFLAGS: -lz -lm\n// #include <zlib.h>\nimport "C"\n'


def verify_json(module: Path, *extra: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = envsnap("verify", "--json", "-C", str(module), *extra, env=env)
    document: dict[str, Any] = json.loads(result.stdout)
    assert document["exit_code"] == result.returncode, result.stderr
    return document


def lock(module: Path, env: dict[str, str] | None = None) -> None:
    result = envsnap("lock", "-C", str(module), env=env)
    assert result.returncode == 0, result.stderr


def system_libdir(package: str) -> Path:
    import subprocess

    out = subprocess.run(
        ["pkg-config", "--variable=libdir", package], capture_output=True, text=True, check=True
    )
    return Path(out.stdout.strip())


@pytest.fixture
def private_glib(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the system's GLib (libraries and .pc files) under a private prefix, so that
    one of its files can be replaced as an upgrade would; and the environment that uses it."""
    for tool in ("go", "gcc", "pkg-config"):
        require_tool(tool)
    if not all(
        (system_libdir("glib-2.0") / "pkgconfig" / f"{p}.pc").exists() for p in GLIB_PACKAGES
    ):
        unavailable("libglib2.0-dev is not installed")
    system = system_libdir("glib-2.0")
    libdir = tmp_path / "glib" / "lib"
    (libdir / "pkgconfig").mkdir(parents=True)
    shutil.copytree(system / "glib-2.0", libdir / "glib-2.0")  # glibconfig.h
    for pattern in ("libglib-2.0.so*", "libgobject-2.0.so*", "libgio-2.0.so*"):
        for path in system.glob(pattern):
            target = libdir / path.name
            if path.is_symlink():
                target.symlink_to(os.readlink(path))
            else:
                shutil.copy2(path, target)
    for package in GLIB_PACKAGES:
        text = (system / "pkgconfig" / f"{package}.pc").read_text()
        lines = [
            f"libdir={libdir}" if line.startswith("libdir=") else line for line in text.splitlines()
        ]
        (libdir / "pkgconfig" / f"{package}.pc").write_text("\n".join(lines) + "\n")
    env = {**os.environ, "PKG_CONFIG_PATH": str(libdir / "pkgconfig")}
    return libdir, env


def test_one_replaced_glib_file_is_one_finding(
    tmp_path: Path, private_glib: tuple[Path, dict[str, str]]
) -> None:
    libdir, env = private_glib
    module = write_module(tmp_path / "mod", {"main.go": GLIB_MAIN})
    lock(module, env)
    shown = envsnap("show", "--json", "-C", str(module), env=env)
    assert shown.returncode == 0, shown.stderr
    glib_file = (libdir / "libglib-2.0.so").resolve()
    with glib_file.open("ab") as handle:  # a rebuilt library: same name, other bytes
        handle.write(b"\0rebuilt")
    for extra_env in ({}, {"ENVSNAP_NO_CACHE": "1"}):
        document = verify_json(module, env={**env, **extra_env})
        (finding,) = document["findings"]
        assert finding["severity"] == "error" and document["exit_code"] == 1
        assert finding["subject"] == "glib-2.0"
        assert finding["detail"].endswith(glib_file.name)
        # the same file, as gio-2.0 and gobject-2.0 list it, is part of this finding
        assert {a.split(".files.")[0] for a in finding["also"]} == {
            "libraries.gio-2.0",
            "libraries.gobject-2.0",
        }
        assert "unknown" not in json.dumps(finding)


def test_a_go_mod_go_cannot_read_is_one_line_not_a_finding_per_package(
    tmp_path: Path, private_glib: tuple[Path, dict[str, str]]
) -> None:
    """One cause, one message: go's refusal of go.mod stops verify (exit 2, go's words), cached
    or not, instead of a finding for each package and library the listing would have named."""
    _, env = private_glib
    module = write_module(
        tmp_path / "mod",
        {
            "main.go": GLIB_MAIN,
            "zz/zz.go": ZZ_LINKS_TWO,
        },
    )
    lock(module, env)
    go_mod = module / "go.mod"
    go_mod.write_text(go_mod.read_text() + "require (\n")  # an unterminated block
    for extra_env in ({}, {"ENVSNAP_NO_CACHE": "1"}):
        result = envsnap("verify", "--json", "-C", str(module), env={**env, **extra_env})
        assert result.returncode == 2 and result.stdout == ""
        (line,) = result.stderr.splitlines()
        assert line.startswith("envsnap: go cannot read go.mod: go.mod:"), line


def test_the_same_compiler_through_another_path_is_not_a_warning(cgo_module: Path) -> None:
    real_gcc = shutil.which("gcc")
    assert real_gcc is not None
    aliases = [p for p in ("/bin/gcc", "/usr/bin/gcc") if Path(p).exists()]
    if len(aliases) < 2 or Path(aliases[0]).resolve() != Path(aliases[1]).resolve():
        unavailable("no merged /usr here: /bin/gcc and /usr/bin/gcc are not the same file")
    lock(cgo_module, {**os.environ, "CC": "/bin/gcc"})
    document = verify_json(cgo_module, "--strict", env={**os.environ, "CC": "/usr/bin/gcc"})
    assert document["exit_code"] == 0
    assert [f["severity"] for f in document["findings"]] == ["info"]
    (note,) = document["findings"]
    assert note["subject"] == "C compiler" and "go.env.CC" in (note["id"], *note["also"])
    # The same check still fails for a compiler that really is another one.
    require_tool("clang")
    other = verify_json(cgo_module, env={**os.environ, "CC": "clang"})
    assert other["exit_code"] == 1
    assert [f["subject"] for f in other["findings"] if f["severity"] == "error"] == ["C compiler"]


def test_a_flag_added_to_a_long_list_prints_that_flag(cgo_module: Path) -> None:
    flags = " ".join(f"-DFLAG_{n}={n}" for n in range(40))
    lock(cgo_module, {**os.environ, "CGO_CFLAGS": flags})
    env = {**os.environ, "CGO_CFLAGS": flags.replace("-DFLAG_17=17", "-DFLAG_17=17 -DEXTRA=1")}
    document = verify_json(cgo_module, env=env)
    (finding,) = document["findings"]
    assert (finding["id"], finding["added"]) == ("go.env.CGO_CFLAGS", ["-DEXTRA=1"])
    assert "removed" not in finding
    text = envsnap("verify", "-C", str(cgo_module), env=env).stdout
    assert "CGO_CFLAGS (go env): added -DEXTRA=1\n" in text
    assert "-DFLAG_3=3" not in text


def test_a_flag_added_to_a_packages_directives_prints_that_flag(cgo_module: Path) -> None:
    source = cgo_module / "mm" / "mm.go"
    defines = " ".join(f"-DD{n}" for n in range(40))
    source.write_text(
        source.read_text().replace("// #cgo LDFLAGS", f"// #cgo CFLAGS: {defines}\n// #cgo LDFLAGS")
    )
    lock(cgo_module)
    source.write_text(source.read_text().replace("-DD39", "-DD39 -DNEW"))
    text = envsnap("verify", "-C", str(cgo_module)).stdout
    assert "added -DNEW" in text and "-DD12" not in text


def test_a_new_library_is_described_in_words(cgo_module: Path) -> None:
    lock(cgo_module)
    (cgo_module / "pp").mkdir()
    (cgo_module / "pp" / "pp.go").write_text(
        'package pp\n\n// #cgo pkg-config: libpng\n// #include <png.h>\nimport "C"\n'
    )
    text = envsnap("verify", "-C", str(cgo_module)).stdout
    (line,) = [line for line in text.splitlines() if line.startswith("error   libpng")]
    assert "{" not in line and '"' not in line
    assert "not in the lock, now" in line and "version " in line


MAC14 = RECORDINGS / "macos14-arm64-clt-brew-openssl"
MAC14_OPENSSL_340 = RECORDINGS / "macos14-arm64-clt-brew-openssl-3.4.0"


def mac_module(tmp_path: Path, config: str = "") -> Path:
    module = tmp_path / "m"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    if config:
        (module / "envsnap.toml").write_text(config)
    result = envsnap("--replay", str(MAC14), "lock", "-C", str(module))
    assert result.returncode == 0, result.stderr
    return module


def test_ignoring_a_provider_change_keeps_the_version_change(tmp_path: Path) -> None:
    module = mac_module(tmp_path, '[ignore]\npaths = ["libraries.*.provider"]\n')
    result = envsnap("--replay", str(MAC14_OPENSSL_340), "verify", "--json", "-C", str(module))
    document = json.loads(result.stdout)
    ids = [(f["id"], *f["also"]) for f in document["findings"] if f["subject"] == "libcrypto"]
    assert ids, document["findings"]
    flat = {i for group in ids for i in group}
    assert "libraries.libcrypto.version" in flat
    assert not any(i.endswith(".provider") for i in flat)
    assert result.returncode == 1


@pytest.mark.parametrize(
    "live", ["macos14-arm64-clt-brew-openssl-3.4.0", "macos15-arm64-clt-brew-openssl"]
)
def test_ids_in_text_output_are_whole(tmp_path: Path, live: str) -> None:
    module = mac_module(tmp_path)
    host = str(RECORDINGS / live)
    document = json.loads(envsnap("--replay", host, "verify", "--json", "-C", str(module)).stdout)
    text = envsnap("--replay", host, "verify", "-C", str(module)).stdout
    ids = {i for f in document["findings"] for i in (f["id"], *f["also"])}
    assert ids
    words = set(text.replace(",", " ").split())
    assert ids <= words, sorted(ids - words)


def test_the_same_go_at_another_path_is_not_a_warning(cgo_module: Path, tmp_path: Path) -> None:
    import subprocess

    goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True)
    native = Path(goroot.stdout.strip(), "bin", "go")
    elsewhere = tmp_path / "elsewhere" / "bin"
    elsewhere.mkdir(parents=True)
    (elsewhere / "go").symlink_to(native)
    lock(cgo_module)
    env = {**os.environ, "PATH": f"{elsewhere}{os.pathsep}{os.environ['PATH']}"}
    document = verify_json(cgo_module, "--strict", env=env)
    assert document["exit_code"] == 0
    (note,) = document["findings"]
    assert (note["id"], note["severity"]) == ("go.path", "info")
    assert note["locked"] != note["live"]
    assert "envsnap lock" not in note["fix"]
