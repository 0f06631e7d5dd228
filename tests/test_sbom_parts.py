"""The pieces of envsnap sbom held to the tools that know the answer: Nix's own parseDrvName,
the compilers' and linkers' own version options, packageurl-python's parser; and the command's
promises: the format libraries load with `envsnap sbom` alone, and their absence is one line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packageurl import PackageURL

from envsnap.sbom import is_own_document, purls
from envsnap.sbom.tools import program_and_release
from tests.conftest import RECORDINGS, REPO, envsnap, require_tool

SBOM_LIBRARIES = {"cyclonedx", "spdx_tools", "packageurl", "serializable", "beartype", "rdflib"}


# --- Nix store names, as Nix itself splits them ---------------------------------------------

STORE_NAMES = [
    "zlib-1.3.1-dev",
    "openssl-3.0.13",
    "libpng-apng-1.6.43",
    "gcc-wrapper-13.2.0",
    "foo",
    "a-b-c",
    "glib-2.80.0-dev",
    "sqlite-3.45.3-bin",
    "x-",
    "perl5.38.2-DBI-1.643",
    "hello-unstable-2024-01-01",
]


def test_store_names_split_as_nix_parse_drv_name_splits_them() -> None:
    nix = require_tool("nix-instantiate")
    quoted = " ".join(json.dumps(name) for name in STORE_NAMES)
    said = subprocess.run(
        [nix, "--eval", "--strict", "--json", "-E", f"map builtins.parseDrvName [ {quoted} ]"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert said.returncode == 0, said.stderr
    expected = [(d["name"], d["version"]) for d in json.loads(said.stdout)]
    assert [purls.parse_drv_name(name) for name in STORE_NAMES] == expected


def nixpkgs_attribute(pkg_config: str) -> str:
    """The attribute nix/attributes.toml gives a pkg-config module (envsnap emit's table)."""
    table = tomllib.loads((REPO / "nix" / "attributes.toml").read_text())
    (row,) = [r for r in table["library"] if pkg_config in r["pkg_config"]]
    return str(row["attribute"])


def test_a_nix_provided_library_gets_a_nix_purl_with_the_nixpkgs_attribute() -> None:
    from envsnap.config import Config
    from envsnap.emit.plan import load_tables

    attributes = load_tables(Config()).libraries
    made = purls.nix("nix:zlib-1.3.1-dev", ["zlib"], attributes)
    assert made is not None
    purl = PackageURL.from_string(made)
    assert (purl.type, purl.namespace) == ("nix", "nixpkgs")
    assert (purl.name, purl.version) == (nixpkgs_attribute("zlib"), "1.3.1")
    assert purls.nix("nix:libfoo-1.0", ["foo"], attributes) is None  # no attribute known
    assert purls.nix("system", ["zlib"], attributes) is None


# --- purls of the other providers -----------------------------------------------------------

DEBIAN = {"os": {"goos": "linux", "goarch": "amd64", "id": "debian"}}


@pytest.mark.parametrize(
    ("made", "fields"),
    [
        (
            purls.debian("zlib1g-dev 1:1.2.13.dfsg-1", DEBIAN),
            ("deb", "debian", "zlib1g-dev", "1:1.2.13.dfsg-1", {"arch": "amd64"}),
        ),
        (
            purls.debian("gcc-12 12.2.0-14+deb12u1", {"os": {**DEBIAN["os"], "id": "Ubuntu"}}),
            ("deb", "ubuntu", "gcc-12", "12.2.0-14+deb12u1", {"arch": "amd64"}),
        ),
        (purls.homebrew("brew:openssl@3 3.4.0"), ("brew", None, "openssl@3", "3.4.0", None)),
        (
            purls.homebrew("brew:org/tap/libfoo 1.2"),
            ("brew", "org/tap", "libfoo", "1.2", None),
        ),
        (
            purls.go_module("golang.org/x/sys", "v0.20.0"),
            ("golang", "golang.org/x", "sys", "v0.20.0", None),
        ),
        (
            purls.go_module("example.com/m", "(devel)"),
            ("golang", "example.com", "m", None, None),
        ),
    ],
)
def test_purls_parse_back_to_their_fields(made: str | None, fields: tuple[object, ...]) -> None:
    assert made is not None
    purl = PackageURL.from_string(made)
    assert (purl.type, purl.namespace, purl.name, purl.version, purl.qualifiers or None) == fields


@pytest.mark.parametrize(
    "made",
    [
        purls.debian("zlib-1.3.1-dev", DEBIAN),  # a Nix store name, not dpkg's answer
        purls.debian("zlib1g-dev 1.2", {"os": {"goos": "darwin", "id": "debian"}}),
        purls.debian("zlib1g-dev 1.2", {"os": {"goos": "linux"}}),  # no vendor
        purls.debian(None, DEBIAN),
        purls.homebrew("pkg-config"),
        purls.homebrew("brew:bad formula name 1.0"),
        purls.go_module("command-line-arguments", "(devel)"),  # no namespace
    ],
)
def test_no_purl_where_the_spec_has_no_type_or_the_value_is_not_the_package_managers(
    made: str | None,
) -> None:
    assert made is None


def test_the_deb_purl_of_a_dpkg_package_is_dpkgs_own_answer() -> None:
    require_tool("dpkg-query")
    asked = ["dpkg-query", "-W", "-f", "${Package} ${Version} ${Architecture}", "libc6"]
    name, version, arch = subprocess.run(asked, capture_output=True, text=True).stdout.split()
    made = purls.debian(f"{name} {version}", DEBIAN)
    assert made is not None
    assert PackageURL.from_string(made).version == version
    assert PackageURL.from_string(made).qualifiers == {"arch": arch}


# --- tool names and releases, as the tools themselves say --------------------------------------


def first_line(argv: list[str]) -> str:
    said = subprocess.run(argv, capture_output=True, text=True, check=True)
    return (said.stdout or said.stderr).splitlines()[0]


def test_gcc_clang_and_ld_read_as_their_own_version_options_say() -> None:
    for tool in ("gcc", "clang", "ld", "dpkg-query"):
        require_tool(tool)
    gcc = first_line(["gcc", "-dumpfullversion"])
    assert program_and_release(first_line(["gcc", "--version"])) == ("gcc", gcc)
    clang = first_line(["clang", "-dumpversion"])
    program, release = program_and_release(first_line(["clang", "--version"]))
    assert program.endswith("clang") and release == clang
    binutils = first_line(["dpkg-query", "-W", "-f", "${Version}", "binutils"])
    assert program_and_release(first_line(["ld", "--version"])) == (
        "GNU ld",
        binutils.split("-")[0],  # the upstream part of the Debian version: 2.40-2 → 2.40
    )


def test_the_compiler_a_binarys_comment_names_reads_as_gcc_says(tmp_path: Path) -> None:
    for tool in ("gcc", "readelf"):
        require_tool(tool)
    (tmp_path / "a.c").write_text("int main(void) { return 0; }\n")
    subprocess.run(["gcc", "-o", str(tmp_path / "a"), str(tmp_path / "a.c")], check=True)
    shown = subprocess.run(
        ["readelf", "-p", ".comment", str(tmp_path / "a")], text=True, capture_output=True
    ).stdout
    line = re.search(r"\]\s+(GCC: .*)", shown)
    assert line is not None, shown
    assert program_and_release(line[1]) == ("gcc", first_line(["gcc", "-dumpfullversion"]))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # the first line of each recorded `cc --version` and `ld -v`, read by hand
        ("macos14-arm64-clt-brew-openssl/commands/cc-version.txt", ("Apple clang", "15.0.0")),
        ("macos15-arm64-xcode16/commands/cc-version.txt", ("Apple clang", "16.0.0")),
        ("macos15-arm64-clt-ld/commands/cc-version.txt", ("Apple clang", "17.0.0")),
        ("macos15-arm64-clt-ld/commands/ld-v.stderr.txt", ("ld", "1167.5")),
    ],
)
def test_apples_tools_read_as_their_recorded_version_lines_say(
    path: str, expected: tuple[str, str]
) -> None:
    line = (RECORDINGS / path).read_text().splitlines()[0]
    assert program_and_release(line) == expected


# --- the command's promises --------------------------------------------------------------------


def imported_by(argv: list[str], blocked: tuple[str, ...] = ()) -> tuple[int, str, set[str]]:
    """Run envsnap's main(*argv*) in a fresh interpreter, with *blocked* modules made
    unimportable: its exit code, its stderr and the top-level modules it imported."""
    code = (
        "import json, sys\n"
        f"for name in {list(blocked)!r}:\n    sys.modules[name] = None\n"
        "from envsnap.cli import main\n"
        "try:\n    rc = main(json.loads(sys.argv[1]))\n"
        "except SystemExit as exit:\n    rc = exit.code\n"
        "print(json.dumps([rc, sorted({m.split('.')[0] for m in sys.modules})]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(argv)], capture_output=True, text=True
    )
    rc, modules = json.loads(out.stdout.strip().splitlines()[-1])
    return rc, out.stderr, set(modules)


def test_the_format_libraries_are_loaded_by_envsnap_sbom_alone(tmp_path: Path) -> None:
    rc, _, modules = imported_by(["--version"])
    assert rc == 0 and not modules & SBOM_LIBRARIES
    (tmp_path / "go.mod").write_text("module example.com/m\n\ngo 1.21\n")
    rc, _, modules = imported_by(["verify", "-C", str(tmp_path)])
    assert not modules & SBOM_LIBRARIES
    rc, _, modules = imported_by(["sbom", "--help"])  # its parser needs none of them either
    assert not modules & SBOM_LIBRARIES


@pytest.mark.parametrize(
    ("fmt", "blocked", "named"),
    [
        ("cyclonedx-json", ("cyclonedx",), "cyclonedx-python-lib"),
        ("spdx-json", ("spdx_tools",), "spdx-tools"),
        ("spdx-json", ("packageurl",), "packageurl-python"),
    ],
)
def test_a_missing_library_is_one_line_with_the_install_hint(
    tmp_path: Path, fmt: str, blocked: tuple[str, ...], named: str
) -> None:
    (tmp_path / "go.mod").write_text("module example.com/m\n\ngo 1.21\n")
    rc, stderr, _ = imported_by(["sbom", "-C", str(tmp_path), "--format", fmt], blocked)
    assert rc == 2
    assert stderr == (
        f"envsnap: envsnap sbom --format {fmt} needs {named} "
        "(install the sbom extra: pip install 'envsnap-cgo[sbom]')\n"
    )


def test_only_its_own_documents_are_replaced_without_force(tmp_path: Path) -> None:
    module = tmp_path / "m"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    host = str(RECORDINGS / "macos14-arm64-clt-brew-openssl")
    assert envsnap("--replay", host, "lock", "-C", str(module)).returncode == 0
    for fmt in ("cyclonedx-json", "spdx-json"):
        out = tmp_path / f"doc-{fmt}"
        made = envsnap("--replay", host, "sbom", "-C", str(module), "--format", fmt, "-o", str(out))
        assert made.returncode == 0, made.stderr
        assert is_own_document(out.read_bytes())
    for foreign in (b"{}", b"[]", b'{"metadata": []}', b"\xff\xfe", b'{"bomFormat": "CycloneDX"}'):
        assert not is_own_document(foreign)


# --- docs/sbom.md shows real output -------------------------------------------------------------


def contains(tree: object, part: object) -> bool:
    """*part* is *tree* or one of the values inside it."""
    if tree == part:
        return True
    if isinstance(tree, dict):
        return any(contains(value, part) for value in tree.values())
    if isinstance(tree, list):
        return any(contains(item, part) for item in tree)
    return False


def test_each_json_block_of_the_sbom_page_is_what_envsnap_sbom_prints() -> None:
    blocks = re.findall(
        r"^```json\n(.*?)^```", (REPO / "docs" / "sbom.md").read_text(), re.M | re.S
    )
    assert len(blocks) == 3
    printed = envsnap("sbom", "-C", str(REPO / "examples" / "zlib"), "--platform", "linux-amd64")
    assert printed.returncode == 0, printed.stderr
    document = json.loads(printed.stdout)
    for block in blocks:
        assert contains(document, json.loads(block)), block[:200]
