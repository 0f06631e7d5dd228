"""envsnap sbom on the zlib example, locked and built for real.

Every document is held to its format's own validator (cyclonedx-python-lib's strict JSON
validator, spdx-tools' parser and validator), and its contents to the tools that know them:
tomllib for what the lock records, dpkg-query for the Debian package that owns zlib,
`go version -m -json` for the Go modules of a binary, readelf and ldd for what it loads.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL
from spdx_tools.spdx.parser.json.json_parser import parse_from_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from tests.conftest import REPO, Result, envsnap, require_tool, unavailable, write_module

EXAMPLE = REPO / "examples" / "zlib"
# A dependency module of the build, replaced by a folder, so that the binary has modules.
DEP_GO = 'package dep\n\nfunc Name() string { return "dep" }\n'
MAIN_GO = """//go:build ignore

package main

import (
\t"fmt"

\t"example.com/dep"
\t"example.com/envsnap/zlib"
)

func main() { fmt.Println(dep.Name(), zlib.Version()) }
"""


@pytest.fixture(scope="module")
def locked_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The zlib example with a local dependency module, locked once with the toolchain on PATH
    (in a home and caches of its own, as every test has)."""
    for tool in ("go", "gcc", "pkg-config"):
        require_tool(tool)
    root = tmp_path_factory.mktemp("sbom")
    module = root / "zlib"
    shutil.copytree(EXAMPLE, module, ignore=shutil.ignore_patterns("envsnap.lock", ".envrc"))
    (module / "dep").mkdir()
    (module / "dep" / "go.mod").write_text("module example.com/dep\n\ngo 1.21\n")
    (module / "dep" / "dep.go").write_text(DEP_GO)
    with (module / "go.mod").open("a") as gomod:
        gomod.write("\nrequire example.com/dep v0.0.0\n\nreplace example.com/dep => ./dep\n")
    (module / "app.go").write_text(MAIN_GO)
    result = envsnap("lock", "-C", str(module), env=go_environment(root))
    assert result.returncode == 0, result.stderr
    return module


def go_environment(root: Path) -> dict[str, str]:
    unset = ("CC", "CGO_CFLAGS", "CGO_LDFLAGS", "PKG_CONFIG_PATH", "GOTOOLCHAIN", "GOENV")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    home = root / "home"
    return {
        **env,
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GOCACHE": str(root / "gocache"),
        "GOFLAGS": "-mod=mod",
        "GOPROXY": "off",
        "GOTELEMETRY": "off",
    }


@pytest.fixture
def app(locked_app: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the locked module for one test, built with the module's build cache."""
    module = tmp_path / "zlib"
    shutil.copytree(locked_app, module, symlinks=True)
    monkeypatch.setenv("GOCACHE", str(locked_app.parent / "gocache"))
    monkeypatch.setenv("GOFLAGS", "-mod=mod")
    return module


def build(module: Path, env: Mapping[str, str] | None = None, *flags: str) -> Path:
    out = module / "app"
    subprocess.run(
        ["go", "build", *flags, "-o", str(out), "app.go"],
        cwd=module,
        env={**os.environ, **(env or {})},
        check=True,
        capture_output=True,
    )
    return out


def sbom(module: Path, *args: str) -> tuple[Result, Any]:
    result = envsnap("sbom", "-C", str(module), *args)
    return result, json.loads(result.stdout) if result.stdout else None


def locked(module: Path) -> dict[str, Any]:
    entry: dict[str, Any] = tomllib.loads((module / "envsnap.lock").read_text())["platforms"][
        "linux-amd64"
    ]
    return entry


def locked_files(entry: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """(library name, path) → sha256 hex of every file the lock records for a library."""
    found = {}
    for lib in entry["libraries"]:
        for file in [*lib.get("files", []), *([lib["pc_file"]] if "pc_file" in lib else [])]:
            found[(lib["name"], file["path"])] = file["sha256"].removeprefix("sha256:")
    return found


def cyclonedx_libraries(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in document["components"] if c["bom-ref"].count("/") >= 2}


def cyclonedx_files(document: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """(library name, path) → the SHA-256 a file component of that library carries."""
    found = {}
    for library in document["components"]:
        for file in library.get("components", []):
            (digest,) = [h["content"] for h in file["hashes"] if h["alg"] == "SHA-256"]
            found[(library["name"], file["name"])] = digest
    return found


def dpkg_owner(package: str) -> tuple[str, str]:
    asked = ["dpkg-query", "-W", "-f", "${Version} ${Architecture}", package]
    version, arch = subprocess.run(asked, capture_output=True, text=True, check=True).stdout.split()
    return version, arch


def os_release_id() -> str:
    text = Path("/etc/os-release").read_text()
    return re.search(r"^ID=\"?([^\"\n]+)", text, re.MULTILINE)[1]  # type: ignore[index]


# --- acceptance 1: the lock's documents pass the validators and hold every locked hash ----------


def test_the_cyclonedx_document_passes_the_strict_validator_and_holds_every_hash(
    app: Path,
) -> None:
    result, document = sbom(app)
    assert result.returncode == 0, result.stderr
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(result.stdout) is None
    assert document["specVersion"] == "1.6" and document["bomFormat"] == "CycloneDX"
    assert cyclonedx_files(document) == locked_files(locked(app))
    assert document["metadata"]["component"]["name"] == "example.com/envsnap/zlib"


def test_the_spdx_document_passes_spdx_tools_and_holds_every_hash(
    app: Path, tmp_path: Path
) -> None:
    out = tmp_path / "app.spdx.json"
    result = envsnap("sbom", "-C", str(app), "--format", "spdx-json", "-o", str(out))
    assert result.returncode == 0, result.stderr
    parsed = parse_from_file(str(out))
    assert validate_full_spdx_document(parsed) == []
    assert parsed.creation_info.spdx_version == "SPDX-2.3"
    names = {p.spdx_id: p.name for p in parsed.packages}
    held = {}
    for relation in parsed.relationships:
        if relation.relationship_type.name == "CONTAINS":
            (file,) = [p for p in parsed.packages if p.spdx_id == relation.related_spdx_element_id]
            (checksum,) = file.checksums
            assert checksum.algorithm.name == "SHA256"
            held[(names[relation.spdx_element_id], file.name)] = checksum.value
    assert held == locked_files(locked(app))


def test_purls_parse_and_name_the_debian_packages_dpkg_reports(app: Path) -> None:
    _, document = sbom(app)
    purls = [c["purl"] for c in cyclonedx_libraries(document).values() if "purl" in c]
    purls += [c["purl"] for c in document["formulation"][0]["components"] if "purl" in c]
    assert purls and all(PackageURL.from_string(p).to_string() == p for p in purls)
    zlib = PackageURL.from_string(cyclonedx_libraries(document)["zlib"]["purl"])
    version, arch = dpkg_owner("zlib1g-dev")
    assert (zlib.type, zlib.namespace, zlib.name) == ("deb", os_release_id(), "zlib1g-dev")
    assert (zlib.version, zlib.qualifiers) == (version, {"arch": arch})


def test_each_library_says_how_it_is_linked_and_which_cgo_package_uses_it(app: Path) -> None:
    _, document = sbom(app)
    libraries = cyclonedx_libraries(document)
    for name in ("zlib", "m"):
        properties = {p["name"]: p["value"] for p in libraries[name]["properties"]}
        assert properties["envsnap:linkage"] == "dynamic"
    users = {d["ref"]: set(d.get("dependsOn", [])) for d in document["dependencies"]}
    entry = locked(app)
    for package in entry["cgo"]["packages"]:
        (ref,) = [c["bom-ref"] for c in document["components"] if c["name"] == package["path"]]
        wanted = {lib["name"] for lib in entry["libraries"] if package["path"] in lib["used_by"]}
        assert {libraries[name]["bom-ref"] for name in wanted} == users[ref]


def test_the_tools_are_the_documents_formulation(app: Path) -> None:
    _, document = sbom(app)
    tools = {c["bom-ref"].rsplit("/", 1)[1]: c for c in document["formulation"][0]["components"]}
    assert set(tools) == {"go", "compiler", "linker", "os"}
    entry = locked(app)
    assert tools["go"]["version"] == entry["go"]["version"].removeprefix("go")
    gcc = subprocess.run(["gcc", "-dumpfullversion"], capture_output=True, text=True, check=True)
    assert tools["compiler"]["version"] == gcc.stdout.strip()
    digest = entry["cc"]["compiler"]["sha256"].removeprefix("sha256:")
    assert tools["compiler"]["hashes"] == [{"alg": "SHA-256", "content": digest}]


# --- acceptance 2: a built binary ---------------------------------------------------------------


def needed(binary: Path) -> list[str]:
    readelf = subprocess.run(
        [require_tool("readelf"), "-d", str(binary)], capture_output=True, text=True, check=True
    )
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(.+)\]", readelf.stdout)


def loaded_by_the_loader(binary: Path) -> dict[str, str]:
    ldd = subprocess.run([require_tool("ldd"), str(binary)], capture_output=True, text=True)
    return dict(re.findall(r"^\s*(\S+) => (/\S+)", ldd.stdout, re.MULTILINE))


def test_a_binary_lists_the_go_modules_go_version_m_reports(app: Path) -> None:
    binary = build(app)
    result, document = sbom(app, str(binary))
    assert result.returncode == 0, result.stderr
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(result.stdout) is None
    info = json.loads(
        subprocess.run(["go", "version", "-m", "-json", str(binary)], capture_output=True).stdout
    )
    modules = [info.get("Main") or {}, *info.get("Deps", [])]  # Main is {} for `go build app.go`
    reported = {(m["Path"], m["Version"]) for m in modules if m}
    assert ("example.com/dep", "v0.0.0") in reported
    listed = {
        (c["name"], c.get("version", "(devel)"))
        for c in document["components"]
        if c["bom-ref"].startswith("go-module/")
    }
    assert listed == reported
    packages = {c["name"] for c in document["components"] if "/go-package/" in c["bom-ref"]}
    assert packages == {p["path"] for p in locked(app)["cgo"]["packages"]}  # its modules hold them
    (dep,) = [c for c in document["components"] if c["name"] == "example.com/dep"]
    assert "purl" not in dep  # built from a folder, not from the module version
    subject = document["metadata"]["component"]
    assert subject["hashes"][0]["content"] == hashlib.sha256(binary.read_bytes()).hexdigest()


def test_a_binary_lists_the_libraries_it_loads_with_the_files_the_loader_maps(app: Path) -> None:
    binary = build(app)
    _, document = sbom(app, str(binary))
    loads: dict[str, dict[str, Any]] = {}
    for component in document["components"]:
        for prop in component.get("properties", []):
            if prop["name"] == "envsnap:loads":
                loads[prop["value"]] = component
    assert sorted(loads) == sorted(needed(binary))
    zlib = loads["libz.so.1"]
    (locked_zlib,) = [lib for lib in locked(app)["libraries"] if lib["name"] == "zlib"]
    assert zlib["name"] == "zlib" and zlib["version"] == locked_zlib["version"]
    loaded = Path(loaded_by_the_loader(binary)["libz.so.1"]).resolve()
    digest = hashlib.sha256(loaded.read_bytes()).hexdigest()
    assert {"alg": "SHA-256", "content": digest} in [
        h for f in zlib["components"] for h in f["hashes"]
    ]


def test_a_binary_built_with_clang_exits_1_and_names_clang(app: Path, tmp_path: Path) -> None:
    require_tool("clang")
    binary = build(app, {"CC": "clang"})
    out = tmp_path / "app.cdx.json"
    result = envsnap("sbom", "-C", str(app), str(binary), "-o", str(out))
    assert result.returncode == 1
    assert "C compiler" in result.stderr and "differs from envsnap.lock" in result.stderr
    document = json.loads(out.read_text())  # the document is written all the same
    properties = document["metadata"]["component"]["properties"]
    assert {"name": "envsnap:inspect", "value": "differs"} in properties
    (compiler,) = [
        c for c in document["formulation"][0]["components"] if c["bom-ref"].endswith("/compiler")
    ]
    clang = subprocess.run(["clang", "-dumpversion"], capture_output=True, text=True, check=True)
    assert compiler["version"] == clang.stdout.strip() and "hashes" not in compiler
    assert envsnap("sbom", "-C", str(app), str(build(app))).returncode == 0


# --- acceptance 3: the same bytes every time, no secret ----------------------------------------


@pytest.mark.parametrize("fmt", ["cyclonedx-json", "spdx-json"])
def test_two_runs_give_the_same_bytes(app: Path, fmt: str) -> None:
    binary = build(app)
    for extra in ([], [str(binary)]):
        argv = ["sbom", "-C", str(app), "--format", fmt, *extra]
        runs = [envsnap(*argv, env={**os.environ, "PYTHONHASHSEED": s}) for s in ("1", "2")]
        assert runs[0].returncode == 0, runs[0].stderr
        assert runs[0].stdout == runs[1].stdout
    assert "timestamp" not in json.loads(runs[0].stdout).get("metadata", {})


def test_a_timestamp_only_when_asked_and_source_date_epoch_is_honoured(app: Path) -> None:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    asked = json.loads(envsnap("sbom", "-C", str(app), "--timestamp", env=env).stdout)
    assert asked["metadata"]["timestamp"] == "2023-11-14T22:13:20+00:00"
    spdx = envsnap("sbom", "-C", str(app), "--format", "spdx-json", "--timestamp", env=env)
    assert json.loads(spdx.stdout)["creationInfo"]["created"] == "2023-11-14T22:13:20Z"
    bad = envsnap("sbom", "-C", str(app), "--timestamp", env={**env, "SOURCE_DATE_EPOCH": "x"})
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1


SECRET = "ghp_" + "R4nd0mT0k3nV4lu3Xy9Zq8Wp7Lm6Kj5Hg4F"


@pytest.mark.parametrize("fmt", ["cyclonedx-json", "spdx-json"])
def test_a_secret_in_a_tracked_variable_never_appears(app: Path, fmt: str) -> None:
    """CGO_CFLAGS is tracked: a build that set a token in it records it in the binary, and the
    binary's document and report must not repeat it."""
    binary = build(app, {"CGO_CFLAGS": f"-O2 -g -DDEPLOY_KEY={SECRET}"})
    result = envsnap("sbom", "-C", str(app), "--format", fmt, str(binary))
    assert result.returncode == 1 and "CGO_CFLAGS" in result.stderr
    assert SECRET[4:20] not in result.stdout + result.stderr
    assert "<redacted>" in result.stdout


def test_free_form_link_flags_are_left_out(app: Path) -> None:
    binary = build(app, None, "-ldflags", f"-X main.deployKey={SECRET}")
    result, document = sbom(app, str(binary))
    assert SECRET[4:20] not in result.stdout + result.stderr
    (go,) = [c for c in document["formulation"][0]["components"] if c["name"] == "go"]
    settings = {p["name"] for p in go["properties"]}
    assert "envsnap:go-build:CGO_ENABLED" in settings
    assert "envsnap:go-build:-ldflags" not in settings


# --- choosing the entry ---------------------------------------------------------------------


def test_a_platform_the_lock_lacks_is_one_line_naming_the_entries(app: Path) -> None:
    result, _ = sbom(app, "--platform", "linux-arm64")
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "linux-amd64" in result.stderr


def test_a_hand_edited_entry_is_refused(app: Path) -> None:
    lock = app / "envsnap.lock"
    lock.write_text(lock.read_text().replace('version = "1.2.13"', 'version = "1.2.14"'))
    result, _ = sbom(app)
    assert result.returncode == 2 and "edited by hand" in result.stderr


# --- docs/recipes/release-sbom.yml ---------------------------------------------------------------

RECIPE = REPO / "docs" / "recipes" / "release-sbom.yml"
COMMIT_TIME = "1700000000"


def recipe_step(name: str) -> dict[str, Any]:
    from ruamel.yaml import YAML

    (job,) = YAML(typ="safe").load(RECIPE.read_text())["jobs"].values()
    (step,) = [s for s in job["steps"] if s.get("name") == name]
    assert isinstance(step, dict)
    return step


def committed(module: Path) -> None:
    """*module* as a git repository with one commit made at COMMIT_TIME."""
    require_tool("git")
    stamp = f"@{COMMIT_TIME} +0000"
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    for argv in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "v1"],
    ):
        subprocess.run(argv, cwd=module, env=env, check=True, capture_output=True)


def run_recipe_step(module: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The recipe's `envsnap sbom` step, run as written by bash, with envsnap on PATH."""
    shim = tmp_path / "bin"
    shim.mkdir(exist_ok=True)
    (shim / "envsnap").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m envsnap "$@"\n')
    (shim / "envsnap").chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(REPO),
        "BINARY": "dist/app",
    }
    return subprocess.run(
        ["bash", "-e", "-c", recipe_step("envsnap sbom")["run"]],
        cwd=module,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_release_recipe_is_a_valid_workflow() -> None:
    schema = "vendor.github-workflows"
    check = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(RECIPE)]
    assert subprocess.run(check, capture_output=True, check=False).returncode == 0
    assert "envsnap-cgo[sbom]" in recipe_step("Install envsnap with its sbom extra")["run"]
    assert '"$BINARY.cdx.json" "$BINARY.spdx.json"' in recipe_step("Publish the release")["run"]


def test_the_release_recipe_writes_both_documents_and_stops_another_build(
    app: Path, tmp_path: Path
) -> None:
    require_tool("bash")
    committed(app)
    (app / "dist").mkdir()
    shutil.copy(build(app), app / "dist" / "app")
    done = run_recipe_step(app, tmp_path)
    assert done.returncode == 0, done.stderr
    cyclonedx = (app / "dist" / "app.cdx.json").read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(cyclonedx) is None
    assert json.loads(cyclonedx)["metadata"]["timestamp"] == "2023-11-14T22:13:20+00:00"
    assert validate_full_spdx_document(parse_from_file(str(app / "dist" / "app.spdx.json"))) == []
    (app / "dist" / "app.spdx.json").unlink()
    shutil.copy(build(app, {"CGO_CFLAGS": "-O2 -g -DRELEASE=1"}), app / "dist" / "app")
    stopped = run_recipe_step(app, tmp_path)
    assert stopped.returncode == 1 and "added -DRELEASE=1" in stopped.stderr
    assert not (app / "dist" / "app.spdx.json").exists()  # the job stops at the first document


# --- a static library ---------------------------------------------------------------------------

STATIC_ZLIB = """package zs

// #cgo LDFLAGS: -l:libz.a
// #include <zlib.h>
import "C"

func Version() string { return C.GoString(C.zlibVersion()) }
"""
STATIC_MAIN = 'package main\n\nimport "example.com/s/zs"\n\nfunc main() { println(zs.Version()) }\n'


def test_a_static_library_is_linked_statically_in_both_formats(tmp_path: Path) -> None:
    for tool in ("go", "gcc", "readelf"):
        require_tool(tool)
    if not Path("/usr/lib/x86_64-linux-gnu/libz.a").exists():
        unavailable("zlib1g-dev's libz.a is not installed")  # amd64 Debian path
    module = write_module(
        tmp_path / "s", {"zs/zs.go": STATIC_ZLIB, "main.go": STATIC_MAIN}, "example.com/s"
    )
    assert envsnap("lock", "-C", str(module)).returncode == 0
    (library,) = [lib for lib in locked(module)["libraries"] if lib["name"] == ":libz.a"]
    assert [Path(f["path"]).name for f in library["files"]] == ["libz.a"]
    _, document = sbom(module)
    (component,) = [c for c in document["components"] if c["name"] == ":libz.a"]
    assert {"name": "envsnap:linkage", "value": "static"} in component["properties"]
    spdx = tmp_path / "s.spdx.json"
    assert (
        envsnap("sbom", "-C", str(module), "--format", "spdx-json", "-o", str(spdx)).returncode == 0
    )
    parsed = parse_from_file(str(spdx))
    (static,) = [p.spdx_id for p in parsed.packages if p.name == ":libz.a"]
    links = {
        r.relationship_type.name
        for r in parsed.relationships
        if r.related_spdx_element_id == static
    }
    assert "STATIC_LINK" in links
    binary = module / "app"
    subprocess.run(["go", "build", "-o", str(binary), "."], cwd=module, check=True)
    assert not [name for name in needed(binary) if name.startswith("libz")]
    _, of_binary = sbom(module, str(binary))  # left no trace in the binary: listed from the lock
    (kept,) = [c for c in of_binary["components"] if c["name"] == ":libz.a"]
    assert {"name": "envsnap:linkage", "value": "static"} in kept["properties"]
