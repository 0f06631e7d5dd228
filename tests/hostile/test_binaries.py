"""Hostile files given to ``envsnap inspect``: exit 2 with one line naming the file, no traceback,
no hang, at most 1 GiB of memory (docs/security.md, "Hostile files").

Every hostile binary is made from a real one: a Go ELF and a cgo ELF built here, a Go
darwin/arm64 binary cross-built here, a thin and a universal Mach-O from PyPI wheels
(tests/fixtures/macho). Each is cut at every offset of its headers and load commands and at 40
offsets spread through it, and has single fields of its headers set to impossible values. The
commands run in one child process (tests/hostile/inspect_batch.py) under an address-space limit:
``inspect --show FILE``, ``inspect --show --json FILE`` and ``inspect -C MODULE FILE`` against a
module locked on a replayed Mac.

Which variants must be refused is decided by how they are made, not by what envsnap does: every
source's last segment or section ends exactly at the end of the file (checked below), so every
truncation cuts something the reader checks, and must be refused. A few crafted variants break
only what a reader may ignore (the bytes of ``.comment``, a ``DT_STRTAB`` that section headers
make unneeded, a version list whose first entry says it is the last); those must still read,
with the facts of the original file.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from elftools.elf.elffile import ELFFile

from tests.conftest import FIXTURES, REPO, require_tool, write_module
from tests.hostile.files_common import MEMORY_CAP, assert_one_line_refusal, replay_module

MACHO = FIXTURES / "macho"
SCHEMA = json.loads((REPO / "docs" / "inspect.schema.json").read_text())
EMPTY_SHOW_JSON = {"schema": "envsnap-inspect/1", "binaries": []}
SPREAD = 40  # truncations spread through the whole file, besides every offset of its headers
BATCH_SECONDS = 120  # the whole child; one command is stopped after inspect_batch.HANG_SECONDS
HELLO = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello") }\n'
HUGE32, HUGE64 = 0xFFFFFFFF, 1 << 40


# ---- the real binaries ---------------------------------------------------------------------


@dataclass(frozen=True)
class Sources:
    go_elf: Path
    cgo_elf: Path
    go_macho: Path
    thin: Path
    fat: Path
    module: Path  # locked on the recorded Mac
    work: Path


def _go_build(go: str, out: Path, cwd: Path, *args: str, **env: str) -> Path:
    subprocess.run(
        [go, "build", "-o", str(out), *args], cwd=cwd, env={**os.environ, **env}, check=True
    )
    return out


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Sources:
    go = require_tool("go")
    require_tool("gcc")
    require_tool("pkg-config")
    root = tmp_path_factory.mktemp("binaries")
    hello = write_module(root / "hello", {"main.go": HELLO}, module="example.com/hello")
    zlib = root / "zlib"
    shutil.copytree(REPO / "examples" / "zlib", zlib)
    return Sources(
        go_elf=_go_build(go, root / "go-elf", hello, ".", GOOS="linux", CGO_ENABLED="0"),
        cgo_elf=_go_build(go, root / "cgo-elf", zlib, "main.go", CGO_ENABLED="1"),
        go_macho=_go_build(
            go, root / "go-macho", hello, ".", GOOS="darwin", GOARCH="arm64", CGO_ENABLED="0"
        ),
        thin=MACHO / "markupsafe-3.0.4-arm64-_speedups.so",
        fat=MACHO / "markupsafe-3.0.2-universal2-_speedups.so",
        module=replay_module(root / "m"),
        work=root,
    )


# ---- running envsnap inspect in a child with a memory limit --------------------------------


def _cap_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def commands(module: Path) -> list[list[str]]:
    return [
        ["inspect", "--show", "{}"],
        ["inspect", "--show", "--json", "{}"],
        ["inspect", "-C", str(module), "{}"],
    ]


def run_batch(jobs: list[dict[str, Any]], work: Path) -> list[dict[str, Any]]:
    """Run the jobs in one child (tests/hostile/inspect_batch.py) with at most 1 GiB."""
    folder = Path(tempfile.mkdtemp(dir=work))
    (folder / "jobs.json").write_text(json.dumps(jobs))
    env = {**os.environ, "ENVSNAP_NO_CACHE": "1", "TMPDIR": str(folder), "NO_COLOR": "1"}
    argv = [sys.executable, "-m", "tests.hostile.inspect_batch"]
    try:
        done = subprocess.run(
            [*argv, str(folder / "jobs.json"), str(folder / "results.json")],
            capture_output=True,
            text=True,
            timeout=BATCH_SECONDS,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            preexec_fn=_cap_memory,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the batch of {len(jobs)} hostile files ran past {BATCH_SECONDS}s")
    assert done.returncode == 0, done.stderr[-3000:]
    results: list[dict[str, Any]] = json.loads((folder / "results.json").read_text())
    hung = [r for r in results if r["code"] == "hung"]
    assert not hung, f"envsnap {' '.join(hung[0]['argv'])} hung ({hung[0]['label']})"
    return results


def assert_refused(result: dict[str, Any]) -> None:
    """Exit 2, one line ``envsnap: PATH: ... (hint)``; nothing on stdout but an empty list."""
    argv, path = result["argv"], result["argv"][-1]
    try:
        assert_one_line_refusal(result["code"], result["err"], f"envsnap: {path}: ")
        if "--json" in argv:
            assert json.loads(result["out"]) == EMPTY_SHOW_JSON
        else:
            assert result["out"] == ""
    except AssertionError as exc:
        raise AssertionError(f"{result['label']}: envsnap {' '.join(argv)}\n{exc}") from None


def shown(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``--show --json`` slice of a file that must still read, every command checked."""
    by_kind = {tuple(r["argv"][1:-1]): r for r in results}
    for result in results:
        assert "Traceback" not in result["err"] and "internal error" not in result["err"]
    show, document_run = by_kind[("--show",)], by_kind[("--show", "--json")]
    assert (show["code"], document_run["code"]) == (0, 0), (show["err"], document_run["err"])
    compare = next(r for r in results if "-C" in r["argv"])
    assert compare["code"] in (0, 1), compare["err"]  # compared with the Mac's lock: a verdict
    document = json.loads(document_run["out"])
    jsonschema.validate(document, SCHEMA)
    (binary,) = document["binaries"]
    piece: dict[str, Any] = binary["slices"][0]
    return piece


# ---- truncations -----------------------------------------------------------------------------


def _elf_extents(path: Path) -> tuple[list[range], int]:
    """The header ranges of an ELF file (file header, program headers, section headers) and the
    end of its last section or segment."""
    with path.open("rb") as handle:
        elf = ELFFile(handle)
        h = elf.header
        ranges = [
            range(0, h.e_ehsize),
            range(h.e_phoff, h.e_phoff + h.e_phnum * h.e_phentsize),
            range(h.e_shoff, h.e_shoff + h.e_shnum * h.e_shentsize),
        ]
        ends = [r.stop for r in ranges]
        ends += [s["sh_offset"] + s["sh_size"] for s in elf.iter_sections()]
        ends += [s["p_offset"] + s["p_filesz"] for s in elf.iter_segments()]
    return ranges, max(ends)


def _macho_extents(data: bytes, base: int = 0) -> tuple[list[range], int]:
    """The header and load commands of a 64-bit little-endian Mach-O image at *base*, and the
    end of its last segment (relative to *base*)."""
    assert data[base : base + 4] == b"\xcf\xfa\xed\xfe"
    sizeofcmds = struct.unpack_from("<I", data, base + 20)[0]
    ends = [0]
    for offset, cmd, _ in load_commands(data, base):
        if cmd == 0x19:  # LC_SEGMENT_64
            fileoff, filesize = struct.unpack_from("<QQ", data, offset + 40)
            ends.append(fileoff + filesize)
    return [range(base, base + 32 + sizeofcmds)], max(ends)


def load_commands(data: bytes, base: int = 0) -> Iterator[tuple[int, int, int]]:
    """(file offset, cmd, cmdsize) of each load command of the Mach-O image at *base*."""
    ncmds = struct.unpack_from("<I", data, base + 16)[0]
    offset = base + 32
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, offset)
        yield offset, cmd, size
        offset += size


def truncation_offsets(path: Path) -> list[int]:
    """Every offset inside the headers, and SPREAD offsets through the file; asserts first that
    what the headers describe reaches the very end of the file, so every cut breaks it."""
    data = path.read_bytes()
    size = len(data)
    if data.startswith(b"\x7fELF"):
        ranges, end = _elf_extents(path)
        assert end == size, (path, end, size)
    elif data.startswith(b"\xca\xfe\xba\xbe"):
        count = struct.unpack_from(">I", data, 4)[0]
        ranges = [range(0, 8 + 20 * count)]
        for index in range(count):
            offset, length = struct.unpack_from(">II", data, 8 + 20 * index + 8)
            slice_ranges, end = _macho_extents(data, offset)
            assert end == length, (path, index, end, length)
            ranges += slice_ranges
        ranges.append(range(ranges[0].stop, ranges[1].start, 61))  # the padding before slice 1
        assert offset + length == size
    else:
        ranges, end = _macho_extents(data)
        assert end == size, (path, end, size)
    offsets = {offset for r in ranges for offset in r if offset < size}
    offsets |= {size * k // (SPREAD + 1) for k in range(1, SPREAD + 1)}
    offsets |= {size - 1}
    return sorted(offsets)


SOURCE_NAMES = ("go_elf", "cgo_elf", "go_macho", "thin", "fat")


@pytest.mark.parametrize("name", SOURCE_NAMES)
def test_every_truncation_is_refused(sources: Sources, name: str) -> None:
    source: Path = getattr(sources, name)
    offsets = truncation_offsets(source)
    assert len(offsets) > SPREAD + 100
    job = {
        "label": name,
        "source": str(source),
        "path": str(sources.work / f"cut-{name}"),
        "offsets": offsets,
        "argvs": commands(sources.module),
    }
    results = run_batch([job], sources.work)
    assert len(results) == 3 * len(offsets)
    for result in results:
        assert_refused(result)


def test_the_untruncated_sources_read(sources: Sources) -> None:
    """The control: every source reads in full, so a refusal above is the cut's doing."""
    jobs = [
        {"label": name, "path": str(getattr(sources, name)), "argvs": commands(sources.module)}
        for name in SOURCE_NAMES
    ]
    results = run_batch(jobs, sources.work)
    for name in SOURCE_NAMES:
        shown([r for r in results if r["label"] == name])
