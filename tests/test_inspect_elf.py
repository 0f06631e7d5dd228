"""envsnap inspect on real ELF builds: the zlib example built with the locked toolchain is clean,
and each way of building it otherwise is named by the finding verify would give.

The facts are held against the tools that know them: `go version -m -json` for the Go build
information, `readelf` for the dynamic section, interpreter, .comment and version needs, and the
compilers themselves for what they write into .comment.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from envsnap import binfacts
from envsnap.inspection import compiler_ident
from tests.conftest import REPO, envsnap, other_go, require_tool
from tests.entries import inspect_slice

SCHEMA = json.loads((REPO / "docs" / "inspect.schema.json").read_text())
EXAMPLE = REPO / "examples" / "zlib"


@pytest.fixture(scope="session")
def go_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build cache for every build here: each test's HOME is fresh, its builds need not be."""
    return tmp_path_factory.mktemp("gocache")


@pytest.fixture
def app(tmp_path: Path, go_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The zlib example, locked here with the toolchain on PATH."""
    for tool in ("go", "gcc", "clang", "pkg-config"):
        require_tool(tool)
    module = tmp_path / "zlib"
    shutil.copytree(EXAMPLE, module, ignore=shutil.ignore_patterns("envsnap.lock", ".envrc"))
    monkeypatch.setenv("GOCACHE", str(go_cache))
    monkeypatch.setenv("GOFLAGS", "")
    for name in ("CC", "CGO_CFLAGS", "CGO_LDFLAGS", "PKG_CONFIG_PATH", "GOTOOLCHAIN"):
        monkeypatch.delenv(name, raising=False)
    result = envsnap("lock", "-C", str(module))
    assert result.returncode == 0, result.stderr
    yield module


def build(module: Path, *flags: str, env: Mapping[str, str] | None = None, go: str = "go") -> Path:
    out = module / "app"
    subprocess.run(
        [go, "build", *flags, "-o", str(out), "main.go"],
        cwd=module,
        env={**os.environ, **(env or {})},
        check=True,
        capture_output=True,
    )
    return out


def inspected(module: Path, binary: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    document = envsnap("inspect", "--json", "-C", str(module), *extra, str(binary))
    parsed: dict[str, Any] = json.loads(document.stdout)
    jsonschema.validate(parsed, SCHEMA)
    assert parsed["exit_code"] == document.returncode, document.stderr
    text = envsnap("inspect", "-C", str(module), *extra, str(binary))
    assert text.returncode == document.returncode
    return document.returncode, parsed, text.stdout


def locked_entry(module: Path) -> dict[str, Any]:
    entry: dict[str, Any] = tomllib.loads((module / "envsnap.lock").read_text())["platforms"][
        "linux-amd64"
    ]
    return entry


def ids(document: dict[str, Any]) -> list[str]:
    return [f["id"] for f in document["findings"]]


def by_id(document: dict[str, Any], finding_id: str) -> dict[str, Any]:
    (found,) = [f for f in document["findings"] if f["id"] == finding_id]
    assert isinstance(found, dict)
    return found


# --- acceptance: the locked build is clean, each other build is named -------------------------


def test_the_locked_build_inspects_clean(app: Path) -> None:
    code, document, text = inspected(app, build(app))
    assert code == 0 and document["findings"] == [], text
    assert text == f"envsnap: {app / 'app'} (linux-amd64) matches envsnap.lock\n"
    assert envsnap("inspect", "--strict", "-C", str(app), str(app / "app")).returncode == 0


def test_a_build_with_clang_names_the_c_compiler(app: Path) -> None:
    code, document, text = inspected(app, build(app, env={"CC": "clang"}))
    assert code == 1
    assert ids(document) == ["cc.compiler.version"]
    compiler = by_id(document, "cc.compiler.version")
    assert compiler["severity"] == "error" and compiler["subject"] == "C compiler"
    clang = subprocess.run(["clang", "--version"], capture_output=True, text=True).stdout
    assert clang.splitlines()[0] in compiler["live"]
    assert compiler["locked"].startswith("gcc ")
    assert "C compiler" in text


def test_other_cgo_cflags_are_named_by_the_flag_added(app: Path) -> None:
    binary = build(app, env={"CGO_CFLAGS": "-O2 -g -DOTHER=1"})
    code, document, text = inspected(app, binary)
    assert code == 1 and ids(document) == ["go.env.CGO_CFLAGS"]
    flags = by_id(document, "go.env.CGO_CFLAGS")
    assert flags["added"] == ["-DOTHER=1"] and flags["severity"] == "error"
    assert "added -DOTHER=1" in text


def test_another_build_tag_is_named(app: Path) -> None:
    code, document, _ = inspected(app, build(app, "-tags", "extra"))
    assert code == 1
    (finding,) = document["findings"]
    assert finding["subject"] == "build tags" and finding["live"] == ["extra"]


def test_the_other_go_toolchain_is_named(app: Path) -> None:
    other = other_go("ENVSNAP_TEST_GO_OTHER_MINOR")
    binary = build(app, env={"GOTOOLCHAIN": "local"}, go=str(Path(other, "go")))
    code, document, _ = inspected(app, binary)
    assert code == 1 and ids(document) == ["go.version"]
    version = by_id(document, "go.version")
    locked = locked_entry(app)["go"]["version"]
    live = subprocess.run([Path(other, "go"), "env", "GOVERSION"], capture_output=True, text=True)
    assert (version["locked"], version["live"]) == (locked, live.stdout.strip())
    assert version["severity"] == "error"


def test_the_other_go_patch_release_is_a_warning(app: Path) -> None:
    other = other_go("ENVSNAP_TEST_GO_OTHER_PATCH")
    binary = build(app, env={"GOTOOLCHAIN": "local"}, go=str(Path(other, "go")))
    code, document, _ = inspected(app, binary)
    assert code == 0 and ids(document) == ["go.version"]
    assert by_id(document, "go.version")["severity"] == "warning"
    assert envsnap("inspect", "--strict", "-C", str(app), str(binary)).returncode == 1


# A libz of its own: one function, enough for the example, built here as a shared library.
FAKE_ZLIB = 'const char *zlibVersion(void) { return "9.9.9"; }\n'


def second_zlib(root: Path, soname: str, rpath: bool) -> Path:
    """A second copy of libz with *soname*, and the pkg-config folder that points at it."""
    lib = root / "lib"
    lib.mkdir(parents=True)
    (root / "z.c").write_text(FAKE_ZLIB)
    subprocess.run(
        ["gcc", "-shared", "-fPIC", f"-Wl,-soname,{soname}", "-o", lib / soname, root / "z.c"],
        check=True,
    )
    (lib / "libz.so").symlink_to(soname)
    include = root / "include"
    include.mkdir()
    shutil.copy("/usr/include/zlib.h", include)
    shutil.copy("/usr/include/zconf.h", include) if Path("/usr/include/zconf.h").exists() else None
    libs = f"-L{lib} -lz" + (f" -Wl,-rpath,{lib}" if rpath else "")
    (root / "zlib.pc").write_text(
        f"Name: zlib\nDescription: a second zlib\nVersion: 9.9.9\nCflags: -I{include}\n"
        f"Libs: {libs}\n"
    )
    return root


def test_a_second_libz_with_another_soname_is_named(app: Path, tmp_path: Path) -> None:
    other = second_zlib(tmp_path / "z9", "libz.so.9", rpath=False)
    binary = build(app, env={"PKG_CONFIG_PATH": str(other)})
    code, document, text = inspected(app, binary)
    assert code == 1
    finding = by_id(document, "libraries.zlib.files")
    assert finding["severity"] == "error" and finding["live"] == "libz.so.9"
    assert finding["locked"].startswith("libz.so.1")
    assert "libz.so.9" in text


def test_a_second_libz_with_the_same_soname_found_by_run_path_is_named(
    app: Path, tmp_path: Path
) -> None:
    other = second_zlib(tmp_path / "z1", "libz.so.1", rpath=True)
    binary = build(app, env={"PKG_CONFIG_PATH": str(other)})
    code, document, _ = inspected(app, binary)
    assert code == 1
    finding = by_id(document, "libraries.zlib.files")
    assert finding["live"] == str(other / "lib" / "libz.so.1")
    # the dynamic loader's own answer: it loads exactly the copy the finding names
    assert loaded_by_the_loader(binary)["libz.so.1"] == finding["live"]
    assert finding["locked"].startswith("/usr/lib/") and finding["detail"] == "libz.so.1"


def loaded_by_the_loader(binary: Path) -> dict[str, str]:
    """soname → the file the dynamic loader resolves it to (`ldd`, which asks ld.so)."""
    ldd = subprocess.run([require_tool("ldd"), str(binary)], capture_output=True, text=True)
    return dict(re.findall(r"^\s*(\S+) => (/\S+)", ldd.stdout, re.MULTILINE))


def test_a_binary_needing_a_newer_glibc_than_locked_is_named(app: Path) -> None:
    binary = build(app)
    (piece,) = binfacts.read(str(binary)).slices
    entry = locked_entry(app)
    assert entry["os"]["glibc"] and inspect_slice(piece, entry, str(binary)) == []
    older = {**entry, "os": {**entry["os"], "glibc": "2.1"}}
    (finding,) = inspect_slice(piece, older, str(binary))
    assert finding.id == "os.glibc" and finding.severity == "error"


def test_a_platform_the_lock_lacks_is_an_error_naming_the_entries(app: Path) -> None:
    code, document, _ = inspected(app, build(app), "--platform", "linux-arm64")
    assert code == 1 and ids(document) == ["platforms.linux-arm64"]
    assert "linux-amd64" in by_id(document, "platforms.linux-arm64")["why"]


def test_show_needs_no_lock_and_prints_what_readelf_prints(app: Path, tmp_path: Path) -> None:
    binary = shutil.copy(build(app), tmp_path / "app")
    result = envsnap("inspect", "--show", str(binary), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for soname in readelf_dynamic(Path(binary))["NEEDED"]:
        assert soname in result.stdout


# --- the facts, held against the tools ------------------------------------------------------


def readelf(*args: str) -> str:
    require_tool("readelf")
    env = {**os.environ, "LC_ALL": "C"}
    return subprocess.run(
        ["readelf", "-W", *args], capture_output=True, text=True, env=env, check=True
    ).stdout


def readelf_dynamic(binary: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {"NEEDED": [], "RUNPATH": [], "RPATH": [], "SONAME": []}
    for line in readelf("-d", str(binary)).splitlines():
        match = re.search(r"\((NEEDED|RUNPATH|RPATH|SONAME)\)\s+.*?\[(.*)\]", line)
        if match:
            found[match[1]] += match[2].split(":")
    return found


def readelf_comment(binary: Path) -> list[str]:
    entries = []
    for line in readelf("-p", ".comment", str(binary)).splitlines():
        match = re.match(r"\s*\[\s*[0-9a-f]+\]\s+(.*)$", line)
        if match and match[1].strip() not in entries:
            entries.append(match[1].strip())
    return entries


def readelf_version_needs(binary: Path) -> dict[str, list[str]]:
    needs: dict[str, list[str]] = {}
    current = ""
    for line in readelf("-V", str(binary)).splitlines():
        if match := re.search(r"File: (\S+)\s+Cnt:", line):
            current = match[1]
            needs[current] = []
        elif (match := re.search(r"Name: (\S+)\s+Flags:", line)) and current:
            needs[current].append(match[1])
    return needs


def elf_binaries(app: Path, tmp_path: Path) -> list[Path]:
    other = second_zlib(tmp_path / "z1", "libz.so.1", rpath=True)
    made = []
    for name, env in (
        ("gcc", {}),
        ("clang", {"CC": "clang"}),
        ("rpath", {"PKG_CONFIG_PATH": str(other)}),
    ):
        made.append(Path(shutil.copy(build(app, env=env), tmp_path / name)))
    goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True)
    return [*made, Path(goroot.stdout.strip(), "bin", "go")]  # the go command itself


def test_elf_facts_equal_what_readelf_prints(app: Path, tmp_path: Path) -> None:
    for binary in elf_binaries(app, tmp_path):
        (piece,) = binfacts.read(str(binary)).slices
        assert piece.elf is not None
        dynamic = readelf_dynamic(binary)
        assert list(piece.elf.needed) == dynamic["NEEDED"], binary
        assert list(piece.elf.runpath) == dynamic["RUNPATH"], binary
        assert list(piece.elf.rpath) == dynamic["RPATH"], binary
        assert list(piece.elf.comment) == readelf_comment(binary), binary
        assert dict(piece.elf.version_needs) == {
            k: tuple(v) for k, v in readelf_version_needs(binary).items()
        }, binary
        interp = re.search(r"Requesting program interpreter: (.*)\]", readelf("-l", str(binary)))
        assert piece.elf.interpreter == (interp[1] if interp else None), binary


def go_version_json(binary: Path) -> dict[str, Any]:
    result = subprocess.run(
        ["go", "version", "-m", "-json", str(binary)], capture_output=True, text=True, check=True
    )
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_build_information_equals_go_version_m_json(app: Path, tmp_path: Path) -> None:
    builds = {
        "quoted": build(
            app,
            "-tags",
            "a,b",
            "-ldflags",
            '-X "main.v=a b" -s',
            env={"CGO_CFLAGS": '-O2 -g -DQ=x=y -DR="q"'},
        ),
    }
    builds = {name: Path(shutil.copy(path, tmp_path / name)) for name, path in builds.items()}
    builds["trimpath"] = Path(shutil.copy(build(app, "-trimpath"), tmp_path / "trimpath"))
    for binary in [*builds.values(), *elf_binaries(app, tmp_path / "more")]:
        (piece,) = binfacts.read(str(binary)).slices
        assert piece.go is not None, binary
        reference = go_version_json(binary)
        assert piece.go.version == reference["GoVersion"]
        assert piece.go.path == reference["Path"]
        settings = {s["Key"]: s.get("Value", "") for s in reference["Settings"]}
        assert dict(piece.go.settings) == settings, binary
        deps = [
            (d["Path"], d.get("Version", ""), d.get("Sum", "")) for d in reference.get("Deps") or []
        ]
        assert [(d.path, d.version, d.sum) for d in piece.go.deps] == deps


def test_the_compilers_write_the_identification_the_lock_predicts(tmp_path: Path) -> None:
    source = tmp_path / "x.c"
    source.write_text("int x(void) { return 1; }\n")
    for compiler in ("gcc", "clang", "cc"):
        path = require_tool(compiler)
        first = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
        obj = tmp_path / f"{compiler}.o"
        subprocess.run([path, "-c", "-o", obj, source], check=True)
        (piece,) = binfacts.read(str(obj)).slices
        assert piece.elf is not None
        assert compiler_ident(first) in piece.elf.comment, (compiler, piece.elf.comment)


def test_a_binary_is_compared_with_the_variant_of_its_tags(app: Path) -> None:
    (app / "envsnap.toml").write_text('[variants.extra]\ntags = ["extra"]\n')
    assert envsnap("lock", "-C", str(app)).returncode == 0
    code, document, _ = inspected(app, build(app, "-tags", "extra"))
    assert code == 0 and document["binaries"][0]["entries"] == ["linux-amd64+extra"]
    plain = build(app)
    code, document, _ = inspected(app, plain)
    assert code == 0 and document["binaries"][0]["entries"] == ["linux-amd64"]
    code, document, _ = inspected(app, plain, "--variant", "extra")
    assert code == 1 and [f["subject"] for f in document["findings"]] == ["build tags"]
    missing = envsnap("inspect", "-C", str(app), "--variant", "nope", str(plain))
    assert missing.returncode == 2 and len(missing.stderr.splitlines()) == 1


# --- docs/recipes/release-inspect.yml ----------------------------------------------------------

RELEASE = REPO / "docs" / "recipes" / "release-inspect.yml"


def release_step(name: str) -> dict[str, Any]:
    from ruamel.yaml import YAML

    (job,) = YAML(typ="safe").load(RELEASE.read_text())["jobs"].values()
    (step,) = [s for s in job["steps"] if s.get("name") == name]
    assert isinstance(step, dict)
    return step


def run_release_step(module: Path, tmp_path: Path, binary: str) -> subprocess.CompletedProcess[str]:
    """The recipe's `envsnap inspect` step, run as written by bash, with envsnap on PATH."""
    shim = tmp_path / "bin"
    shim.mkdir(exist_ok=True)
    (shim / "envsnap").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m envsnap "$@"\n')
    (shim / "envsnap").chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(REPO),
        "RUNNER_TEMP": str(tmp_path),
        "BINARY": binary,
    }
    script = release_step("envsnap inspect")["run"]
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=module,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_release_recipe_is_a_valid_workflow() -> None:
    schema = "vendor.github-workflows"
    check = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(RELEASE)]
    assert subprocess.run(check, capture_output=True, check=False).returncode == 0
    assert "go build" in release_step("go build")["run"]


def test_the_release_recipe_passes_the_locked_build_and_stops_another(
    app: Path, tmp_path: Path
) -> None:
    require_tool("bash")
    build(app)
    clean = run_release_step(app, tmp_path, "app")
    assert clean.returncode == 0, clean.stderr
    assert "matches envsnap.lock" in clean.stdout
    document = json.loads((tmp_path / "envsnap-inspect.json").read_text())
    assert document["ok"] is True
    build(app, env={"CGO_CFLAGS": "-O2 -g -DRELEASE=1"})
    drifted = run_release_step(app, tmp_path, "app")
    assert drifted.returncode == 1 and "added -DRELEASE=1" in drifted.stdout
    document = json.loads((tmp_path / "envsnap-inspect.json").read_text())
    assert [f["id"] for f in document["findings"]] == ["go.env.CGO_CFLAGS"]


# --- stripped and foreign binaries ------------------------------------------------------------


def without_section_headers(binary: Path, out: Path) -> Path:
    """*binary* with its section header table dropped from the ELF header (e_shoff, e_shnum,
    e_shstrndx zeroed), as sstrip-like tools leave it: only segments remain."""
    data = bytearray(binary.read_bytes())
    assert data[4] == 2 and data[5] == 1  # ELFCLASS64, little-endian: the offsets below
    data[0x28:0x30] = bytes(8)  # e_shoff
    data[0x3C:0x40] = bytes(4)  # e_shnum, e_shstrndx
    out.write_bytes(bytes(data))
    return out


def test_a_stripped_binary_still_inspects_clean(app: Path, tmp_path: Path) -> None:
    require_tool("strip")
    binary = build(app)
    subprocess.run(["strip", "--strip-all", str(binary)], check=True)
    assert binfacts.read(str(binary)).slices[0].elf.stripped  # type: ignore[union-attr]
    code, document, _ = inspected(app, binary)
    assert code == 0 and document["findings"] == []


def test_without_section_headers_the_build_information_is_found_in_the_data_segment(
    app: Path, tmp_path: Path
) -> None:
    binary = without_section_headers(build(app), tmp_path / "bare")
    (piece,) = binfacts.read(str(binary)).slices
    assert piece.go is not None and piece.go.version == go_version_json(binary)["GoVersion"]
    code, document, _ = inspected(app, binary)
    assert code == 0
    # .comment is a section: without the table, the compiler cannot be named, and says so
    assert [(f["id"], f["severity"]) for f in document["findings"]] == [
        ("cc.compiler.version", "info")
    ]


def test_a_binary_not_built_by_go_is_a_warning_and_its_libraries_are_still_checked(
    app: Path,
) -> None:
    true = Path(require_tool("true")).resolve()
    code, document, _ = inspected(app, true)
    assert code == 0
    assert by_id(document, "go")["severity"] == "warning"
    assert envsnap("inspect", "--strict", "-C", str(app), str(true)).returncode == 1


def test_a_run_path_to_a_byte_identical_copy_of_the_locked_libz_is_no_finding(
    app: Path, tmp_path: Path
) -> None:
    (locked_libz,) = [
        f["path"]
        for lib in locked_entry(app)["libraries"]
        if lib["name"] == "zlib"
        for f in lib["files"]
    ]
    lib = tmp_path / "copy" / "lib"
    lib.mkdir(parents=True)
    shutil.copy(locked_libz, lib / "libz.so.1")
    (lib / "libz.so").symlink_to("libz.so.1")
    (tmp_path / "copy" / "zlib.pc").write_text(
        f"Name: zlib\nDescription: a copy\nVersion: 1.2.13\nCflags:\n"
        f"Libs: -L{lib} -Wl,-rpath,{lib} -lz\n"
    )
    binary = build(app, env={"PKG_CONFIG_PATH": str(tmp_path / "copy")})
    (piece,) = binfacts.read(str(binary)).slices
    assert piece.elf is not None and piece.elf.runpath == (str(lib),)
    assert loaded_by_the_loader(binary)["libz.so.1"] == str(lib / "libz.so.1")
    code, document, _ = inspected(app, binary)
    assert code == 0 and document["findings"] == []
    (lib / "libz.so.1").write_bytes((lib / "libz.so.1").read_bytes() + b"\0")  # now it differs
    code, document, _ = inspected(app, binary)
    assert code == 1 and ids(document) == ["libraries.zlib.files"]


def test_a_token_in_the_binarys_build_settings_is_never_shown(app: Path) -> None:
    """The binary carries CGO_CFLAGS and -ldflags as built; a token in them is scrubbed from the
    text, --json and --show output, and the difference is still named."""
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    binary = build(
        app, f"-ldflags=-X main.key={token}", env={"CGO_CFLAGS": f"-O2 -g -DKEY={token}"}
    )
    code, document, text = inspected(app, binary)
    assert code == 1 and "go.env.CGO_CFLAGS" in ids(document)
    shown = envsnap("inspect", "--show", "--json", str(binary))
    assert shown.returncode == 0
    for output in (json.dumps(document), text, shown.stdout, shown.stderr):
        assert token not in output
    assert "ghp_" not in text  # not even its prefix with a part of it
