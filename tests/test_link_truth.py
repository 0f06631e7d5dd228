"""The libraries in the lock are the files a real ``go build`` link opens, read from its trace.

Each module here is built for real with the external linker's trace on
(``-ldflags=-extldflags=-Wl,--trace``; cmd/link prints the linker's output); the files it reports,
less those a trivial cgo program of the same language opens too (crt files, libc, libgcc,
libstdc++ for C++), must be exactly the files locked, and the fast resolver ``verify`` uses first
must find the same files as the traced link ``lock`` uses.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from envsnap.host import LocalHost, ReplayHost
from envsnap.probes.collect import take_snapshot
from tests.conftest import RECORDINGS, envsnap, require_tool, unavailable, write_module

CGO_MAIN = 'package main\n\n// int envsnap_main_marker(void) { return 0; }\nimport "C"\n\n'
CGO_MAIN += "func main() { C.envsnap_main_marker() }\n"


@dataclass(frozen=True)
class Case:
    module: Path
    env: dict[str, str]
    build: tuple[str, ...] = ("build",)  # or ("test", "-c") for test-only dependencies
    target: str = "."
    cxx: bool = False
    static: bool = False  # the whole link is static (the trivial program's too)


def tools() -> None:
    for tool in ("go", "gcc", "g++", "ar", "pkg-config"):
        require_tool(tool)


def build_library(directory: Path, name: str, shared: bool = True, static: bool = True) -> None:
    """``lib<name>.so`` and/or ``lib<name>.a`` exporting ``<name>_answer``."""
    directory.mkdir(parents=True, exist_ok=True)
    source = directory / f"{name}.c"
    source.write_text(f"int {name}_answer(void) {{ return 42; }}\n")
    obj = directory / f"{name}.o"
    run(["gcc", "-fPIC", "-c", str(source), "-o", str(obj)])
    if shared:
        run(["gcc", "-shared", "-o", str(directory / f"lib{name}.so"), str(obj)])
    if static:
        run(["ar", "rcs", str(directory / f"lib{name}.a"), str(obj)])


def run(argv: list[str], env: Mapping[str, str] | None = None, cwd: Path | None = None) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    assert proc.returncode == 0, f"{argv} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def package(name: str, ldflags: str = "", calls: str = "", pkg_config: str = "") -> str:
    """A cgo package; *calls* names the ``<lib>_answer`` functions it uses."""
    lines = [f"package {name}", ""]
    if ldflags:
        lines.append(f"// #cgo LDFLAGS: {ldflags}")
    if pkg_config:
        lines.append(f"// #cgo pkg-config: {pkg_config}")
    for lib in calls.split():
        lines.append(f"// int {lib}_answer(void);")
    lines += ['import "C"', "", "func Answer() int {", "\ttotal := 0"]
    lines += [f"\ttotal += int(C.{lib}_answer())" for lib in calls.split()]
    lines += ["\treturn total", "}", ""]
    return "\n".join(lines)


def main_importing(*packages: str) -> str:
    imports = "".join(f'\t"example.com/m/{p}"\n' for p in packages)
    calls = "".join(f"\t_ = {p}.Answer()\n" for p in packages)
    return f"package main\n\nimport (\n{imports})\n\nfunc main() {{\n{calls}}}\n"


def traced_build(case: Case, out: Path) -> set[str]:
    """The real files the external linker opened when go built *case*, from its trace."""
    argv = ["go", *case.build, "-o", str(out), "-ldflags=-extldflags=-Wl,--trace", case.target]
    text = run(argv, env=case.env, cwd=case.module)
    assert "/go.o" in text, f"go did not link (cached?):\n{text}"
    files = set()
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("/") and " " not in line and "/go-link-" not in line:
            files.add(os.path.realpath(line))
    return files


def baseline(tmp_path: Path, case: Case) -> set[str]:
    """What a trivial cgo program of the same language and linkage makes the linker open."""
    cxx, env = case.cxx, case.env
    static = "// #cgo LDFLAGS: -static\n// int"
    files = {"main.go": CGO_MAIN.replace("// int", static) if case.static else CGO_MAIN}
    if cxx:
        files["extra.cpp"] = 'extern "C" int envsnap_cxx_marker(void) { return 0; }\n'
    module = write_module(tmp_path / f"baseline-{cxx}", files, "example.com/baseline")
    return traced_build(Case(module, env), tmp_path / f"baseline-{cxx}.bin")


def locked_files(case: Case) -> tuple[set[str], dict[str, Any]]:
    result = envsnap("lock", "-C", str(case.module), env=case.env)
    assert result.returncode == 0, result.stderr
    lock = tomllib.loads((case.module / "envsnap.lock").read_text())
    (entry,) = lock["platforms"].values()
    return {f["path"] for lib in entry["libraries"] for f in lib.get("files", [])}, entry


def snapshot_files(case: Case, trace: bool) -> set[str]:
    snapshot = take_snapshot(LocalHost(case.env), str(case.module), trace=trace)
    libraries = snapshot.entry["libraries"]
    assert not [lib for lib in libraries if "error" in lib], libraries
    return {f["path"] for lib in libraries for f in lib.get("files", [])}


def assert_lock_is_the_link(case: Case, tmp_path: Path, expected: set[str]) -> dict[str, Any]:
    """Lock == the link's own files; the fast resolver == the traced link; *expected* is in."""
    opened = traced_build(case, tmp_path / "module.bin")
    common = baseline(tmp_path, case)
    locked, entry = locked_files(case)
    assert locked <= opened, f"locked but not opened: {locked - opened}"
    assert opened - common <= locked, f"opened but not locked: {opened - common - locked}"
    assert expected <= locked
    assert snapshot_files(case, trace=False) == snapshot_files(case, trace=True) == locked
    return entry


def environment(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}


def test_cgo_ldflags_dir_with_a_second_copy_of_zlib(tmp_path: Path) -> None:
    tools()
    system_zlib = run(["gcc", "-print-file-name=libz.so"]).strip()
    copies = tmp_path / "copies"
    copies.mkdir()
    copy = copies / "libz.so"
    shutil.copyfile(os.path.realpath(system_zlib), copy)
    case = Case(
        write_module(
            tmp_path / "mod",
            {"zz/zz.go": package("zz", "-lz", ""), "main.go": main_importing("zz")},
        ),
        environment(CGO_LDFLAGS=f"-O2 -g -L{copies}"),
    )
    assert_lock_is_the_link(case, tmp_path, {str(copy)})

    with copy.open("ab") as handle:  # another build of "the same" library
        handle.write(b"\0changed")
    for extra in ({}, {"ENVSNAP_NO_CACHE": "1"}):
        result = envsnap("verify", "-C", str(case.module), env={**case.env, **extra})
        assert result.returncode == 1, result.stdout + result.stderr
        assert f"-lz: {copy}: sha256:" in result.stdout, result.stdout


def test_library_only_in_lds_own_search_dir(tmp_path: Path) -> None:
    """``/usr/local/lib`` is searched by ld's default script, not named by gcc."""
    tools()
    gcc_dirs = run(["gcc", "-print-search-dirs"])
    ld_dirs = [
        line.split('"=', 1)[1].split('"', 1)[0]
        for line in run(["ld", "--verbose"]).split(";")
        if 'SEARCH_DIR("=' in line
    ]
    only_ld = [d for d in ld_dirs if d.rstrip("/") + "/" not in gcc_dirs and Path(d).is_dir()]
    writable = sorted(
        (d for d in only_ld if os.access(d, os.W_OK)), key=lambda d: d != "/usr/local/lib"
    )
    if not writable:
        message = f"no writable directory among ld's own search dirs {only_ld}"
        unavailable(message)  # CI runs as root: it must run
    name = f"envsnaptest{uuid.uuid4().hex[:8]}"
    work = tmp_path / "lib"
    build_library(work, name, static=False)
    installed = Path(writable[0]) / f"lib{name}.so"
    shutil.copyfile(work / f"lib{name}.so", installed)
    try:
        case = Case(
            write_module(
                tmp_path / "mod",
                {"ll/ll.go": package("ll", f"-l{name}", name), "main.go": main_importing("ll")},
            ),
            environment(),
        )
        assert_lock_is_the_link(case, tmp_path, {os.path.realpath(installed)})
    finally:
        installed.unlink()


@pytest.mark.parametrize(
    ("flags", "env_flags"),
    [
        ("-L{libs} -Wl,-Bstatic -lboth -Wl,-Bdynamic", "-O2 -g"),
        ("-L{libs} -lboth -static", "-O2 -g"),  # the driver's -static: every input is static
    ],
)
def test_static_picks_the_archive_over_the_shared_library(
    tmp_path: Path, flags: str, env_flags: str
) -> None:
    tools()
    libs = tmp_path / "libs"
    build_library(libs, "both")
    case = Case(
        write_module(
            tmp_path / "mod",
            {
                "st/st.go": package("st", flags.format(libs=libs), "both"),
                "main.go": main_importing("st"),
            },
        ),
        environment(CGO_LDFLAGS=env_flags),
        static="-static" in flags,
    )
    entry = assert_lock_is_the_link(case, tmp_path, {str(libs / "libboth.a")})
    assert str(libs / "libboth.so") not in str(entry["libraries"])


def test_pkg_config_static_brings_libs_private(tmp_path: Path) -> None:
    tools()
    libs = tmp_path / "libs"
    build_library(libs, "pub", static=False)
    build_library(libs, "priv", static=False)
    pc = tmp_path / "pc"
    pc.mkdir()
    (pc / "pub.pc").write_text(
        f"libdir={libs}\nName: pub\nDescription: test\nVersion: 1.2.3\n"
        "Libs: -L${libdir} -lpub\nLibs.private: -lpriv\n"
    )
    case = Case(
        write_module(
            tmp_path / "mod",
            {
                "pp/pp.go": package("pp", "", "pub priv", pkg_config="--static pub"),
                "main.go": main_importing("pp"),
            },
        ),
        environment(PKG_CONFIG_PATH=str(pc)),
    )
    entry = assert_lock_is_the_link(
        case, tmp_path, {str(libs / "libpub.so"), str(libs / "libpriv.so")}
    )
    (library,) = entry["libraries"]
    assert (library["name"], library["version"]) == ("pub", "1.2.3")


def test_cxx_package_links_libstdcxx_through_cxx(tmp_path: Path) -> None:
    tools()
    libstdcxx = os.path.realpath(run(["g++", "-print-file-name=libstdc++.so"]).strip())
    files = {
        "cx/cx.go": package("cx", "-lstdc++", "cx"),
        "cx/cx.cpp": '#include <string>\nextern "C" int cx_answer(void) '
        '{ return (int)std::string("42").size(); }\n',
        "main.go": main_importing("cx"),
    }
    case = Case(write_module(tmp_path / "mod", files), environment(), cxx=True)
    entry = assert_lock_is_the_link(case, tmp_path, {libstdcxx})
    (pkg,) = entry["cgo"]["packages"]
    assert pkg["cxx"] is True


def test_test_only_cgo_dependency_is_locked(tmp_path: Path) -> None:
    tools()
    libs = tmp_path / "libs"
    build_library(libs, "helper", static=False)
    helper = write_module(
        tmp_path / "mod" / "helper",
        {"h.go": package("helper", f"-L{libs} -lhelper", "helper")},
        "example.com/helper",
    )
    module = write_module(
        tmp_path / "mod",
        {
            "m.go": "package m\n\nfunc Plain() int { return 1 }\n",
            "m_test.go": 'package m\n\nimport (\n\t"testing"\n\n\t"example.com/helper"\n)\n\n'
            "func TestHelper(t *testing.T) { _ = helper.Answer() }\n",
        },
    )
    with (module / "go.mod").open("a") as go_mod:
        go_mod.write(
            f"\nrequire example.com/helper v0.0.0\n\nreplace example.com/helper => {helper}\n"
        )
    case = Case(module, environment(), build=("test", "-c"))
    entry = assert_lock_is_the_link(case, tmp_path, {str(libs / "libhelper.so")})
    paths = [p["path"] for p in entry["cgo"]["packages"]]
    assert paths == ["example.com/helper"]


def test_one_packages_dir_serves_anothers_library(tmp_path: Path) -> None:
    tools()
    libs = tmp_path / "libs"
    build_library(libs, "served", static=False)
    case = Case(
        write_module(
            tmp_path / "mod",
            {
                "dirs/dirs.go": package("dirs", f"-L{libs}"),
                "uses/uses.go": package("uses", "-lserved", "served"),
                "main.go": main_importing("dirs", "uses"),
            },
        ),
        environment(),
    )
    assert_lock_is_the_link(case, tmp_path, {str(libs / "libserved.so")})
    assert doctor_libraries(case) == "ok"  # doctor resolves through the same link model


def doctor_libraries(case: Case) -> str:
    result = envsnap("doctor", "--json", "-C", str(case.module), env=case.env)
    (check,) = [c for c in json.loads(result.stdout)["checks"] if c["id"] == "cgo.libraries"]
    return f"{check['status']}: {check['summary']}" if check["status"] != "ok" else "ok"


def test_missing_bare_archive_is_the_links_error(tmp_path: Path) -> None:
    tools()
    pc = tmp_path / "pc"
    pc.mkdir()
    (pc / "bare.pc").write_text(
        "Name: bare\nDescription: test\nVersion: 1.0\nLibs: libenvsnapnothere.a\n"
    )
    module = write_module(tmp_path / "mod", {"bb/bb.go": package("bb", pkg_config="bare")})
    env = environment(PKG_CONFIG_PATH=str(pc))
    result = envsnap("lock", "-C", str(module), env=env)
    assert result.returncode == 1, result.stderr  # a failed link is not locked silently
    assert "cannot find libenvsnapnothere.a" in result.stderr, result.stderr
    assert not (module / "envsnap.lock").exists()
    result = envsnap("lock", "--allow-incomplete", "-C", str(module), env=env)
    assert result.returncode == 0, result.stderr
    lock = tomllib.loads((module / "envsnap.lock").read_text())
    (entry,) = lock["platforms"].values()
    (library,) = entry["libraries"]
    assert "cannot find libenvsnapnothere.a" in library["error"]
    assert library.get("files", []) == []


def test_ld_script_members_and_its_l_names_as_the_link_opens_them(tmp_path: Path) -> None:
    """An ld script (like glibc's libm.so) naming a file and an ``-l``: both are opened."""
    tools()
    libs = tmp_path / "libs"
    build_library(libs, "real", static=False)
    build_library(libs, "other", static=False)
    (libs / "libscripted.so").write_text(
        f"/* GNU ld script */\nGROUP ( {libs}/libreal.so AS_NEEDED ( -lother ) )\n"
    )
    case = Case(
        write_module(
            tmp_path / "mod",
            {
                "sc/sc.go": package("sc", f"-L{libs} -lscripted", "real other"),
                "main.go": main_importing("sc"),
            },
        ),
        environment(),
    )
    expected = {str(libs / n) for n in ("libscripted.so", "libreal.so", "libother.so")}
    assert_lock_is_the_link(case, tmp_path, expected)


def test_replayed_mac_keeps_the_model_when_asked_to_trace() -> None:
    """A recording holds no scratch-directory link, so a trace falls back to the model."""
    recording = RECORDINGS / "macos14-arm64-clt-brew-openssl"
    modelled = take_snapshot(ReplayHost(recording), "/unused", trace=False)
    traced = take_snapshot(ReplayHost(recording), "/unused", trace=True)
    assert traced.entry["libraries"] == modelled.entry["libraries"]
    (library,) = traced.entry["libraries"]
    assert [f["path"] for f in library["files"]] == [
        "/opt/homebrew/Cellar/openssl@3/3.3.0/lib/libcrypto.3.dylib"
    ]
