"""envsnap inspect finds the locked file of a library a binary needs by the soname the file
carries, not by its name: Debian's ``libpcap.so.1.10.3`` is ``libpcap.so.0.8`` to the loader
(and to the linker, which writes that into the binary), so a module linking ``-lpcap``, locked
and built here with the real libpcap, inspects clean. A libpcap with another soname still is
another version of it.

The facts are held against the tools that know them: ``readelf`` for the sonames, ``ldd`` (the
dynamic loader) for the file the binary loads.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import envsnap, require_tool, unavailable, write_module

PCAP_HEADER = Path("/usr/include/pcap/pcap.h")
MAIN = """package main

// #cgo LDFLAGS: -lpcap
// #include <pcap/pcap.h>
import "C"

import "fmt"

func main() { fmt.Println(C.GoString(C.pcap_lib_version())) }
"""
OTHER_PCAP = 'const char *pcap_lib_version(void) { return "another libpcap"; }\n'


@pytest.fixture(scope="module")
def go_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gocache")


@pytest.fixture
def pcap(tmp_path: Path, go_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A module calling libpcap, locked here."""
    for tool in ("go", "gcc", "readelf", "ldd"):
        require_tool(tool)
    if not PCAP_HEADER.exists():
        unavailable("libpcap-dev is not installed")
    module = write_module(tmp_path / "pcap", {"main.go": MAIN}, module="example.com/pcap")
    monkeypatch.setenv("GOCACHE", str(go_cache))
    monkeypatch.setenv("GOFLAGS", "")
    for name in ("CC", "CGO_CFLAGS", "CGO_LDFLAGS", "PKG_CONFIG_PATH", "GOTOOLCHAIN"):
        monkeypatch.delenv(name, raising=False)
    locked = envsnap("lock", "-C", str(module))
    assert locked.returncode == 0, locked.stderr
    yield module


def build(module: Path, **env: str) -> Path:
    out = module / "app"
    subprocess.run(
        ["go", "build", "-o", str(out), "."],
        cwd=module,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    return out


def locked_pcap_files(module: Path) -> list[str]:
    entry = tomllib.loads((module / "envsnap.lock").read_text())["platforms"]["linux-amd64"]
    return [f["path"] for lib in entry["libraries"] if lib["name"] == "pcap" for f in lib["files"]]


def readelf_soname(path: str) -> str | None:
    out = subprocess.run(["readelf", "-dW", path], capture_output=True, text=True, check=True)
    found = re.search(r"\(SONAME\)\s+Library soname: \[(.*)\]", out.stdout)
    return found[1] if found else None


def readelf_needed(path: Path) -> list[str]:
    out = subprocess.run(["readelf", "-dW", str(path)], capture_output=True, text=True, check=True)
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(.*)\]", out.stdout)


def loaded_by_the_loader(binary: Path) -> dict[str, str]:
    ldd = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True)
    return dict(re.findall(r"^\s*(\S+) => (/\S+)", ldd.stdout, re.MULTILINE))


def inspected(module: Path, binary: Path) -> tuple[int, dict[str, Any], str]:
    document = envsnap("inspect", "--json", "-C", str(module), str(binary))
    text = envsnap("inspect", "-C", str(module), str(binary))
    assert text.returncode == document.returncode, (text.stderr, document.stderr)
    parsed: dict[str, Any] = json.loads(document.stdout)
    return document.returncode, parsed, text.stdout


def test_libpcap_whose_soname_is_not_its_file_name_inspects_clean(pcap: Path) -> None:
    binary = build(pcap)
    ran = subprocess.run([str(binary)], capture_output=True, text=True, check=True)
    assert ran.stdout.startswith("libpcap version")
    (locked,) = locked_pcap_files(pcap)
    soname = readelf_soname(locked)
    # what makes the case: the locked file's name does not start with its soname
    assert soname and not os.path.basename(locked).startswith(soname), (locked, soname)
    assert soname in readelf_needed(binary)
    # the loader loads the locked file for that soname
    assert os.path.realpath(loaded_by_the_loader(binary)[soname]) == os.path.realpath(locked)
    code, document, text = inspected(pcap, binary)
    assert (code, document["findings"]) == (0, []), text
    assert text == f"envsnap: {binary} (linux-amd64) matches envsnap.lock\n"


def test_a_libpcap_with_another_soname_is_another_version(pcap: Path, tmp_path: Path) -> None:
    lib = tmp_path / "other"
    lib.mkdir()
    out, source = lib / "libpcap.so.1", tmp_path / "pcap.c"
    source.write_text(OTHER_PCAP)
    gcc = ["gcc", "-shared", "-fPIC", "-Wl,-soname,libpcap.so.1", "-o", str(out), str(source)]
    subprocess.run(gcc, check=True)
    (lib / "libpcap.so").symlink_to("libpcap.so.1")
    binary = build(pcap, CGO_LDFLAGS=f"-L{lib}")
    assert "libpcap.so.1" in readelf_needed(binary)
    code, document, _ = inspected(pcap, binary)
    assert code == 1
    (finding,) = [f for f in document["findings"] if f["id"] == "libraries.-lpcap.files"]
    (locked,) = locked_pcap_files(pcap)
    assert (finding["live"], finding["locked"]) == ("libpcap.so.1", os.path.basename(locked))
    assert finding["severity"] == "error" and "another version" in finding["why"]
