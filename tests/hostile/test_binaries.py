"""Hostile files given to ``envsnap inspect``: exit 2 with one line naming the file, no traceback,
no hang, at most 1 GiB of memory (docs/security.md, "Binaries `envsnap inspect` reads").

Every hostile binary is made from a real one: a Go ELF and a cgo ELF built here, a Go
darwin/arm64 binary cross-built here, a thin and a universal Mach-O from PyPI wheels
(tests/fixtures/macho). Each is cut at every offset of its headers and load commands and at 40
offsets spread through it, has single fields of its headers set to impossible values, and 300
random fields set (derandomised); files that are no binary at all (a FIFO, /dev/zero, a script,
...) come last. The commands run in one child process (tests/hostile/inspect_batch.py) under
an address-space limit: ``inspect --show FILE``, ``inspect --show --json FILE`` and
``inspect -C MODULE FILE`` against a module locked for the binary's platform (examples/zlib's
lock for ELF, a lock made on a replayed Mac for Mach-O).

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
import random
import shutil
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from elftools.elf.elffile import ELFFile

from tests.conftest import FIXTURES, REPO, require_tool, write_module
from tests.hostile.files_common import (
    SPECIAL_KINDS,
    assert_one_line_refusal,
    cap_memory,
    plant,
    replay_module,
)

MACHO = FIXTURES / "macho"
SCHEMA = json.loads((REPO / "docs" / "inspect.schema.json").read_text())
VALIDATOR = jsonschema.validators.validator_for(SCHEMA)(SCHEMA)  # built once: hundreds of uses
EMPTY_SHOW_JSON = {"schema": "envsnap-inspect/1", "binaries": []}
SPREAD = 40  # truncations spread through the whole file, besides every offset of its headers
BATCH_SECONDS = 120  # the whole child; one command is stopped after inspect_batch.HANG_SECONDS
HELLO = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello") }\n'
HUGE32, HUGE64 = 0xFFFFFFFF, 1 << 40
Bytes = bytes | bytearray


# ---- the real binaries ---------------------------------------------------------------------


@dataclass(frozen=True)
class Sources:
    go_elf: Path
    cgo_elf: Path
    go_macho: Path
    thin: Path
    fat: Path
    mac_module: Path  # locked on the recorded Mac
    linux_module: Path  # examples/zlib, locked for linux-amd64
    work: Path

    def module(self, name: str) -> Path:
        """The module a source's variants are compared with: one locked for its platform."""
        return self.linux_module if name.endswith("elf") else self.mac_module


def go_build(go: str, out: Path, cwd: Path, *args: str, **env: str) -> Path:
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
        go_elf=go_build(go, root / "go-elf", hello, ".", GOOS="linux", CGO_ENABLED="0"),
        cgo_elf=go_build(go, root / "cgo-elf", zlib, "main.go", CGO_ENABLED="1"),
        go_macho=go_build(
            go, root / "go-macho", hello, ".", GOOS="darwin", GOARCH="arm64", CGO_ENABLED="0"
        ),
        thin=MACHO / "markupsafe-3.0.4-arm64-_speedups.so",
        fat=MACHO / "markupsafe-3.0.2-universal2-_speedups.so",
        mac_module=replay_module(root / "m"),
        linux_module=zlib,
        work=root,
    )


# ---- running envsnap inspect in a child with a memory limit --------------------------------


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
            preexec_fn=cap_memory,
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
        assert "[Errno" not in result["err"]  # an OS error's text for a file's defect misleads
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
    assert compare["code"] in (0, 1), compare["err"]  # a verdict: matches, or drifts
    document = json.loads(document_run["out"])
    VALIDATOR.validate(document)
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


def _macho_extents(data: Bytes, base: int = 0) -> tuple[list[range], int]:
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


def load_commands(data: Bytes, base: int = 0) -> Iterator[tuple[int, int, int]]:
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
        "argvs": commands(sources.module(name)),
    }
    results = run_batch([job], sources.work)
    assert len(results) == 3 * len(offsets)
    for result in results:
        assert_refused(result)


def test_the_untruncated_sources_read(sources: Sources) -> None:
    """The control: every source reads in full, so a refusal above is the cut's doing."""
    jobs = [
        {"label": n, "path": str(getattr(sources, n)), "argvs": commands(sources.module(n))}
        for n in SOURCE_NAMES
    ]
    results = run_batch(jobs, sources.work)
    for name in SOURCE_NAMES:
        shown([r for r in results if r["label"] == name])


# ---- single fields set to impossible values --------------------------------------------------


def put(data: bytearray, offset: int, fmt: str, *values: int) -> None:
    struct.pack_into("<" + fmt, data, offset, *values)


@dataclass(frozen=True)
class Elf:
    """Where things are in a 64-bit little-endian ELF file, read with pyelftools."""

    shoff: int
    shentsize: int
    sections: dict[str, tuple[int, int, int]]  # name -> (index, sh_offset, sh_size)
    segments: dict[str, tuple[int, int]]  # p_type -> (index, p_offset), the first of each
    phoff: int
    phentsize: int

    @classmethod
    def of(cls, path: Path) -> Elf:
        with path.open("rb") as handle:
            elf = ELFFile(handle)
            h = elf.header
            sections = {
                s.name: (i, s["sh_offset"], s["sh_size"]) for i, s in enumerate(elf.iter_sections())
            }
            segments: dict[str, tuple[int, int]] = {}
            for i, segment in enumerate(elf.iter_segments()):
                segments.setdefault(segment["p_type"], (i, segment["p_offset"]))
            return cls(h.e_shoff, h.e_shentsize, sections, segments, h.e_phoff, h.e_phentsize)

    def shdr(self, name: str, field_offset: int) -> int:
        """The file offset of a field of section *name*'s header (sh_offset 24, sh_size 32,
        sh_link 40, sh_info 44)."""
        return self.shoff + self.sections[name][0] * self.shentsize + field_offset

    def phdr(self, p_type: str, field_offset: int) -> int:
        """The file offset of a field of the first *p_type* program header (p_offset 8,
        p_filesz 32)."""
        return self.phoff + self.segments[p_type][0] * self.phentsize + field_offset

    def dynamic_entry(self, data: Bytes, tag: int) -> int:
        """The file offset of the first dynamic entry with *tag* (DT_NEEDED 1, DT_STRTAB 5)."""
        _, start, size = self.sections[".dynamic"]
        for offset in range(start, start + size, 16):
            if struct.unpack_from("<q", data, offset)[0] == tag:
                return offset
        raise AssertionError(f"no dynamic tag {tag}")


# ELF header fields (64-bit): e_phoff 32, e_shoff 40, e_phentsize 54, e_phnum 56, e_shentsize 58,
# e_shnum 60, e_shstrndx 62.
def e_shoff_past_end(d: bytearray, e: Elf) -> None:
    put(d, 40, "Q", HUGE64)


def e_shnum_huge(d: bytearray, e: Elf) -> None:
    put(d, 60, "H", 0xFFFF)


def e_shentsize_huge(d: bytearray, e: Elf) -> None:
    put(d, 58, "H", 0xFFFF)


def e_shentsize_zero(d: bytearray, e: Elf) -> None:
    put(d, 58, "H", 0)


def e_shstrndx_out_of_range(d: bytearray, e: Elf) -> None:
    put(d, 62, "H", 0xFFFE)


def e_phoff_past_end(d: bytearray, e: Elf) -> None:
    put(d, 32, "Q", HUGE64)


def e_phnum_huge(d: bytearray, e: Elf) -> None:
    put(d, 56, "H", 0xFFFE)


def e_phnum_extended_huge(d: bytearray, e: Elf) -> None:
    """e_phnum 0xffff (PN_XNUM): the count is section 0's sh_info, here 2³²-1."""
    put(d, 56, "H", 0xFFFF)
    put(d, e.shoff + 44, "I", HUGE32)


def ei_class_invalid(d: bytearray, e: Elf) -> None:
    d[4] = 7


def comment_size_huge(d: bytearray, e: Elf) -> None:
    put(d, e.shdr(".comment", 32), "Q", HUGE64)


def comment_offset_past_end(d: bytearray, e: Elf) -> None:
    put(d, e.shdr(".comment", 24), "Q", HUGE64)


def buildinfo_size_huge(d: bytearray, e: Elf) -> None:
    put(d, e.shdr(".go.buildinfo", 32), "Q", HUGE64)


def interp_size_huge(d: bytearray, e: Elf) -> None:
    put(d, e.phdr("PT_INTERP", 32), "Q", HUGE64)


def interp_offset_past_end(d: bytearray, e: Elf) -> None:
    put(d, e.phdr("PT_INTERP", 8), "Q", HUGE64)


def dynamic_link_out_of_range(d: bytearray, e: Elf) -> None:
    put(d, e.shdr(".dynamic", 40), "I", 0xFFFF)


def needed_name_past_end(d: bytearray, e: Elf) -> None:
    put(d, e.dynamic_entry(d, 1) + 8, "Q", HUGE32)


def needed_name_past_dynstr(d: bytearray, e: Elf) -> None:
    """Inside the file, past .dynstr: pyelftools would read the next section's bytes."""
    put(d, e.dynamic_entry(d, 1) + 8, "Q", e.sections[".dynstr"][2] + 8)


def needed_name_past_end_without_sections(d: bytearray, e: Elf) -> None:
    needed_name_past_end(d, e)
    no_section_headers(d, e)


def no_section_headers(d: bytearray, e: Elf) -> None:
    put(d, 40, "Q", 0)
    put(d, 58, "HHH", 0, 0, 0)


def strtab_nowhere(d: bytearray, e: Elf) -> None:
    put(d, e.dynamic_entry(d, 5) + 8, "Q", 0xDEAD0000)


def strtab_nowhere_without_sections(d: bytearray, e: Elf) -> None:
    strtab_nowhere(d, e)
    no_section_headers(d, e)


# Verneed: vn_cnt 2, vn_aux 8, vn_next 12; Vernaux: vna_name 8, vna_next 12.
def verneed_loops_on_itself(d: bytearray, e: Elf) -> None:
    """The first entry's vn_next is 0 (itself, read as an offset), sh_info claims 2³²-1."""
    put(d, e.sections[".gnu.version_r"][1] + 12, "I", 0)
    put(d, e.shdr(".gnu.version_r", 44), "I", HUGE32)


def _second_verneed(d: bytearray, e: Elf) -> int:
    first = e.sections[".gnu.version_r"][1]
    return first + int(struct.unpack_from("<I", d, first + 12)[0])


def vernaux_loops_on_itself(d: bytearray, e: Elf) -> None:
    """libc's entry claims 65535 auxiliaries; its first one's vna_next is 0 (itself)."""
    entry = _second_verneed(d, e)
    put(d, entry + 2, "H", 0xFFFF)
    put(d, entry + int(struct.unpack_from("<I", d, entry + 8)[0]) + 12, "I", 0)


def vernaux_past_end(d: bytearray, e: Elf) -> None:
    put(d, e.sections[".gnu.version_r"][1] + 8, "I", 0xFFFFFFF0)


def vernaux_name_past_end(d: bytearray, e: Elf) -> None:
    first = e.sections[".gnu.version_r"][1]
    put(d, first + int(struct.unpack_from("<I", d, first + 8)[0]) + 8, "I", 0xFFFFFFF0)


def _compressed_at(d: bytearray, e: Elf, offset: int) -> None:
    """.debug_abbrev flagged SHF_COMPRESSED at *offset*: its header is read to list sections."""
    at = e.shdr(".debug_abbrev", 8)
    flags = struct.unpack_from("<Q", d, at)[0]
    put(d, at, "QQQ", flags | 0x800, 0, offset)


def compressed_section_at_2_62(d: bytearray, e: Elf) -> None:
    _compressed_at(d, e, 1 << 62)  # past what lseek accepts on most filesystems


def compressed_section_at_2_64(d: bytearray, e: Elf) -> None:
    _compressed_at(d, e, (1 << 64) - 16)  # past what an off_t holds


def comment_garbage(d: bytearray, e: Elf) -> None:
    _, start, size = e.sections[".comment"]
    d[start : start + size] = b"\xff" * size


COMMENT_FLOOD = 100_000


def comment_flood(d: bytearray, e: Elf) -> None:
    """.comment moved to 100000 distinct strings appended to the file (0.8 MB)."""
    at = len(d)
    d += b"".join(b"%07d\0" % i for i in range(COMMENT_FLOOD))
    put(d, e.shdr(".comment", 24), "QQ", at, len(d) - at)


def _comment_flooded(piece: dict[str, Any], original: dict[str, Any]) -> None:
    comment = piece["elf"]["comment"]
    assert (len(comment), comment[0], comment[-1]) == (COMMENT_FLOOD, "0000000", "0099999")


def varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes([*out, value])


def buildinfo_length_2_60(d: bytearray, at: int) -> None:
    """The version's varint length in the build information at *at* says 2⁶⁰ bytes."""
    assert d[at : at + 14] == b"\xff Go buildinf:"
    d[at + 32 : at + 32 + 9] = varint(1 << 60)


def elf_buildinfo_length_2_60(d: bytearray, e: Elf) -> None:
    buildinfo_length_2_60(d, e.sections[".go.buildinfo"][1])


def build_line_bad_quote(d: bytearray, at: int) -> None:
    """``build\\t-compiler=gc`` in the build information at *at* becomes
    ``build\\t"compiler=gc``: a quote never closed. (The runtime's copy of the same text,
    elsewhere in the binary, is left alone.)"""
    line = d.index(b"build\t-compiler=gc\n", at)
    assert line < at + 4096
    d[line + 6] = ord('"')


def elf_build_line_bad_quote(d: bytearray, e: Elf) -> None:
    build_line_bad_quote(d, e.sections[".go.buildinfo"][1])


# Mach-O (64-bit little-endian): ncmds at 16, sizeofcmds at 20, load commands from 32.
def _command(d: Bytes, cmd: int, nth: int = 0) -> int:
    return [offset for offset, c, _ in load_commands(d) if c == cmd][nth]


def _segment(d: Bytes, name: bytes) -> int:
    for offset, cmd, _ in load_commands(d):
        if cmd == 0x19 and d[offset + 8 : offset + 24].rstrip(b"\0") == name:
            return offset
    raise AssertionError(name)


def _section(d: Bytes, name: bytes) -> int:
    """The file offset of section_64 *name* (fields: size 40, offset 48)."""
    for offset, cmd, _ in load_commands(d):
        if cmd == 0x19:
            for index in range(struct.unpack_from("<I", d, offset + 64)[0]):
                at = offset + 72 + 80 * index
                if d[at : at + 16].rstrip(b"\0") == name:
                    return at
    raise AssertionError(name)


def ncmds_2_32(d: bytearray) -> None:
    put(d, 16, "I", HUGE32)


def ncmds_one_more(d: bytearray) -> None:
    put(d, 16, "I", struct.unpack_from("<I", d, 16)[0] + 1)


def sizeofcmds_huge(d: bytearray) -> None:
    put(d, 20, "I", HUGE32)


def sizeofcmds_whole_file(d: bytearray) -> None:
    put(d, 20, "I", len(d))


def cmdsize_zero(d: bytearray) -> None:
    put(d, 32 + 4, "I", 0)


def last_cmdsize_past_end(d: bytearray) -> None:
    last = list(load_commands(d))[-1][0]
    put(d, last + 4, "I", 0x7FFFFFF8)


def ntools_huge(d: bytearray) -> None:
    put(d, _command(d, 0x32) + 20, "I", HUGE32)  # LC_BUILD_VERSION: ntools at 20


def dylib_name_outside(d: bytearray) -> None:
    put(d, _command(d, 0xC) + 8, "I", 0xFFFFFF00)  # LC_LOAD_DYLIB: name offset at 8


def dylib_name_in_header(d: bytearray) -> None:
    put(d, _command(d, 0xC) + 8, "I", 4)


def nsects_huge(d: bytearray) -> None:
    put(d, _segment(d, b"__TEXT") + 64, "I", HUGE32)


def linkedit_past_end(d: bytearray) -> None:
    put(d, _segment(d, b"__LINKEDIT") + 40, "Q", HUGE64)


def go_buildinfo_offset_past_end(d: bytearray) -> None:
    put(d, _section(d, b"__go_buildinfo") + 48, "I", HUGE32)


def go_buildinfo_size_huge(d: bytearray) -> None:
    put(d, _section(d, b"__go_buildinfo") + 40, "Q", HUGE64)


def _go_buildinfo(d: Bytes) -> int:
    return int(struct.unpack_from("<I", d, _section(d, b"__go_buildinfo") + 48)[0])


def macho_buildinfo_length_2_60(d: bytearray) -> None:
    buildinfo_length_2_60(d, _go_buildinfo(d))


def macho_build_line_bad_quote(d: bytearray) -> None:
    build_line_bad_quote(d, _go_buildinfo(d))


# Universal: big-endian nfat_arch at 4, fat_arch entries of 20 bytes from 8 (offset 8, size 12).
def nfat_arch_huge(d: bytearray) -> None:
    struct.pack_into(">I", d, 4, HUGE32)


def nfat_arch_zero(d: bytearray) -> None:
    struct.pack_into(">I", d, 4, 0)


def fat_offset_past_end(d: bytearray) -> None:
    struct.pack_into(">I", d, 8 + 20 + 8, 0x7FFFFFFF)


def fat_size_past_end(d: bytearray) -> None:
    struct.pack_into(">I", d, 8 + 20 + 12, 0x7FFFFFFF)


def fat_slice_is_the_fat_header(d: bytearray) -> None:
    struct.pack_into(">II", d, 8 + 8, 0, len(d))


def fat_magic_64_bit(d: bytearray) -> None:
    struct.pack_into(">I", d, 0, 0xCAFEBABF)


ELF_REFUSED = [
    (source, change)
    for change, sources_ in (
        (e_shoff_past_end, ("go_elf", "cgo_elf")),
        (e_shnum_huge, ("go_elf", "cgo_elf")),
        (e_shentsize_huge, ("go_elf", "cgo_elf")),
        (e_phoff_past_end, ("go_elf", "cgo_elf")),
        (e_phnum_huge, ("go_elf", "cgo_elf")),
        (e_phnum_extended_huge, ("go_elf", "cgo_elf")),
        (ei_class_invalid, ("go_elf",)),
        (comment_size_huge, ("cgo_elf",)),
        (comment_offset_past_end, ("cgo_elf",)),
        (buildinfo_size_huge, ("go_elf", "cgo_elf")),
        (interp_size_huge, ("cgo_elf",)),
        (interp_offset_past_end, ("cgo_elf",)),
        (dynamic_link_out_of_range, ("cgo_elf",)),
        (strtab_nowhere_without_sections, ("cgo_elf",)),
        (vernaux_past_end, ("cgo_elf",)),
        (compressed_section_at_2_62, ("go_elf",)),
        (compressed_section_at_2_64, ("go_elf",)),
        (e_shentsize_zero, ("go_elf", "cgo_elf")),
        (e_shstrndx_out_of_range, ("go_elf", "cgo_elf")),
        (needed_name_past_end, ("cgo_elf",)),
        (needed_name_past_dynstr, ("cgo_elf",)),
        (needed_name_past_end_without_sections, ("cgo_elf",)),
        (vernaux_name_past_end, ("cgo_elf",)),
    )
    for source in sources_
]
MACHO_REFUSED = [
    (source, change)
    for change, sources_ in (
        (ncmds_2_32, ("thin", "go_macho")),
        (ncmds_one_more, ("thin", "go_macho")),
        (sizeofcmds_huge, ("thin", "go_macho")),
        (sizeofcmds_whole_file, ("go_macho",)),
        (cmdsize_zero, ("thin", "go_macho")),
        (last_cmdsize_past_end, ("thin", "go_macho")),
        (ntools_huge, ("thin", "go_macho")),
        (dylib_name_outside, ("thin", "go_macho")),
        (dylib_name_in_header, ("thin",)),
        (nsects_huge, ("thin", "go_macho")),
        (linkedit_past_end, ("thin", "go_macho")),
        (go_buildinfo_offset_past_end, ("go_macho",)),
        (go_buildinfo_size_huge, ("go_macho",)),
        (nfat_arch_huge, ("fat",)),
        (nfat_arch_zero, ("fat",)),
        (fat_offset_past_end, ("fat",)),
        (fat_size_past_end, ("fat",)),
        (fat_slice_is_the_fat_header, ("fat",)),
        (fat_magic_64_bit, ("fat",)),
    )
    for source in sources_
]

Check = Callable[[dict[str, Any], dict[str, Any]], None]  # (the variant's slice, the original's)


def _same_elf(piece: dict[str, Any], original: dict[str, Any]) -> None:
    assert piece["elf"] == original["elf"]


def _comment_changed(piece: dict[str, Any], original: dict[str, Any]) -> None:
    assert piece["elf"]["comment"] != original["elf"]["comment"]
    assert {**piece["elf"], "comment": None} == {**original["elf"], "comment": None}


def _sectionless(piece: dict[str, Any], original: dict[str, Any]) -> None:
    """Without section headers, the segments alone give the same libraries and Go facts."""
    assert piece["go"] == original["go"]
    for key in ("interpreter", "needed", "rpath", "runpath", "soname"):
        assert piece["elf"][key] == original["elf"][key]


def _first_verneed_only(piece: dict[str, Any], original: dict[str, Any]) -> None:
    first = next(iter(original["elf"]["version_needs"].items()))
    assert piece["elf"]["version_needs"] == dict([first])


def _second_verneed_one_aux(piece: dict[str, Any], original: dict[str, Any]) -> None:
    needs = dict(original["elf"]["version_needs"])
    library = list(needs)[1]
    needs[library] = needs[library][:1]
    assert piece["elf"]["version_needs"] == needs


def _no_go_facts(piece: dict[str, Any], original: dict[str, Any]) -> None:
    """The Go build information is unreadable; the rest of the binary reads as before."""
    assert original["go"] is not None and piece["go"] is None
    assert piece["go_error"].startswith("its Go build information")
    assert (piece["elf"], piece["macho"]) == (original["elf"], original["macho"])


ELF_READ: list[tuple[str, Callable[[bytearray, Elf], None], Check]] = [
    ("cgo_elf", comment_garbage, _comment_changed),
    ("cgo_elf", comment_flood, _comment_flooded),
    ("cgo_elf", strtab_nowhere, _same_elf),  # .dynamic's sh_link still names .dynstr
    ("cgo_elf", no_section_headers, _sectionless),
    ("cgo_elf", verneed_loops_on_itself, _first_verneed_only),  # vn_next 0: the last entry
    ("cgo_elf", vernaux_loops_on_itself, _second_verneed_one_aux),  # vna_next 0: the last aux
    ("go_elf", elf_buildinfo_length_2_60, _no_go_facts),
    ("cgo_elf", elf_buildinfo_length_2_60, _no_go_facts),
    ("go_elf", elf_build_line_bad_quote, _no_go_facts),
]
MACHO_READ: list[tuple[str, Callable[[bytearray], None], Check]] = [
    ("go_macho", macho_buildinfo_length_2_60, _no_go_facts),
    ("go_macho", macho_build_line_bad_quote, _no_go_facts),
]


@dataclass(frozen=True)
class Variant:
    id: str
    source: str
    change: Callable[[bytearray, Path], None]
    check: Check | None  # None: must be refused


def _elf_change(change: Callable[[bytearray, Elf], None]) -> Callable[[bytearray, Path], None]:
    return lambda data, path: change(data, Elf.of(path))


def _macho_change(change: Callable[[bytearray], None]) -> Callable[[bytearray, Path], None]:
    return lambda data, path: change(data)


VARIANTS = [
    *(Variant(f"{s}-{c.__name__}", s, _elf_change(c), None) for s, c in ELF_REFUSED),
    *(Variant(f"{s}-{c.__name__}", s, _macho_change(c), None) for s, c in MACHO_REFUSED),
    *(Variant(f"{s}-{c.__name__}", s, _elf_change(c), k) for s, c, k in ELF_READ),
    *(Variant(f"{s}-{c.__name__}", s, _macho_change(c), k) for s, c, k in MACHO_READ),
]


def _special(folder: Path, kind: str, sources: Sources) -> Path:
    path = folder / kind
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("module example.com/app\n\ngo 1.22\n")
    elif kind == "script":
        path.write_text("#!/bin/sh\necho hello\n")
        path.chmod(0o755)
    elif kind == "elf-magic-only":
        path.write_bytes(b"\x7fELF")
    elif kind == "macho-magic-only":
        path.write_bytes(b"\xcf\xfa\xed\xfe")
    elif kind == "java-class":  # the universal binary's magic, then a class file's versions
        path.write_bytes(b"\xca\xfe\xba\xbe\x00\x00\x00\x41" + b"\x00" * 64)
    elif kind == "macho-command-flood":  # a real header, then a million LC_RPATHs of "x"
        header = bytearray(sources.thin.read_bytes()[:32])
        count = 1 << 20
        put(header, 16, "II", count, count * 16)
        path.write_bytes(header + struct.pack("<III4s", 0x8000001C, 16, 12, b"x") * count)
    elif kind == "elf-extended-section-count":
        # e_shnum 0: the count is section 0's sh_size (ELF's extended numbering), here 8192
        # empty sections appended to a real binary
        data = bytearray(sources.go_elf.read_bytes())
        table, count = len(data), 8192
        data += bytes(64 * count)
        put(data, 40, "Q", table)
        put(data, 60, "H", 0)
        put(data, table + 32, "Q", count)
        path.write_bytes(data)
    elif kind == "dev-zero":
        return Path("/dev/zero")
    elif kind == "missing":
        return path
    else:
        plant(path, kind)
    return path


SPECIAL = (
    "empty",
    "text",
    "script",
    "elf-magic-only",
    "macho-magic-only",
    "java-class",
    "macho-command-flood",
    "elf-extended-section-count",
    "dev-zero",
    "missing",
    *SPECIAL_KINDS,  # fifo, dir, a symlink to /dev/zero, a symlink loop
)


@pytest.fixture(scope="module")
def crafted(sources: Sources) -> dict[str, list[dict[str, Any]]]:
    """Every variant and special file, and the sources themselves, run in one batch: the
    results of each, by id."""
    folder = sources.work / "crafted"
    folder.mkdir()
    jobs = []

    def module(variant: Variant) -> Path:
        return sources.module(variant.source)

    for variant in VARIANTS:
        source = getattr(sources, variant.source)
        data = bytearray(source.read_bytes())
        variant.change(data, source)
        path = folder / variant.id
        path.write_bytes(data)
        jobs.append({"label": variant.id, "path": str(path), "argvs": commands(module(variant))})
    for kind in SPECIAL:
        path = _special(folder, kind, sources)
        jobs.append({"label": kind, "path": str(path), "argvs": commands(sources.mac_module)})
    for name in SOURCE_NAMES:
        path = getattr(sources, name)
        jobs.append({"label": name, "path": str(path), "argvs": commands(sources.module(name))})
    results = run_batch(jobs, sources.work)
    by_label: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        by_label.setdefault(result["label"], []).append(result)
    assert len(by_label) == len(jobs)
    return by_label


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.id for v in VARIANTS])
def test_a_crafted_header(crafted: dict[str, list[dict[str, Any]]], variant: Variant) -> None:
    results = crafted[variant.id]
    assert len(results) == 3
    if variant.check is None:
        for result in results:
            assert_refused(result)
    else:
        variant.check(shown(results), shown(crafted[variant.source]))


@pytest.mark.parametrize("kind", SPECIAL)
def test_a_file_that_is_no_binary(crafted: dict[str, list[dict[str, Any]]], kind: str) -> None:
    for result in crafted[kind]:
        assert_refused(result)


# ---- the command line itself, one process per file ------------------------------------------


def run_cli(*argv: str, prefix: tuple[str, ...] = ()) -> dict[str, Any]:
    """``python -m envsnap ARGV`` (after *prefix*) with at most 1 GiB, stopped after 20 s."""
    env = {**os.environ, "ENVSNAP_NO_CACHE": "1"}
    try:
        done = subprocess.run(
            [*prefix, sys.executable, "-m", "envsnap", *argv],
            capture_output=True,
            text=True,
            timeout=20,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            preexec_fn=cap_memory,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"envsnap {' '.join(argv)} hung")
    return {"label": "cli", "argv": list(argv), "code": done.returncode, **_streams(done)}


def _streams(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    return {"out": done.stdout, "err": done.stderr}


@pytest.mark.parametrize("kind", ["fifo", "zero", "ncmds", "cut"])
def test_the_command_line_refuses_in_its_own_process(
    sources: Sources, tmp_path: Path, kind: str
) -> None:
    """The batch runs ``main`` in a warm interpreter; here the real entry point, cold."""
    path = tmp_path / kind
    if kind in ("fifo", "zero"):
        plant(path, kind)
    elif kind == "ncmds":
        data = bytearray(sources.go_macho.read_bytes())
        ncmds_2_32(data)
        path.write_bytes(data)
    else:
        path.write_bytes(sources.cgo_elf.read_bytes()[:1000])
    for argv in commands(sources.mac_module):
        assert_refused(run_cli(*[str(path) if a == "{}" else a for a in argv]))


def test_an_unreadable_file(sources: Sources) -> None:
    """Mode 000: refused. Root reads any file; as root the command runs without the
    capabilities that let it (setpriv drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH)."""
    path = sources.work / "unreadable"
    shutil.copyfile(sources.go_elf, path)
    path.chmod(0)
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:
        setpriv = require_tool("setpriv")
        prefix = (setpriv, "--bounding-set=-dac_override,-dac_read_search")
    for argv in commands(sources.linux_module):
        result = run_cli(*[str(path) if a == "{}" else a for a in argv], prefix=prefix)
        assert_refused(result)
        assert "permission denied" in result["err"].lower(), result["err"]


# ---- random fields, derandomised ---------------------------------------------------------------

MUTATIONS = 300  # per source
COMPARED = 40
EXTREMES = (0, 1, 0xFF, 0xFFFF, HUGE32, HUGE64, (1 << 64) - 1)


def mutations(path: Path, seed: int) -> list[list[tuple[int, str]]]:
    """MUTATIONS patches of one to three fields (1, 2, 4 or 8 bytes) of the headers, each set to
    an extreme or a random value."""
    rng = random.Random(seed)
    size = path.stat().st_size
    offsets = [o for o in truncation_offsets(path) if o < size - 8]
    patches = []
    for _ in range(MUTATIONS):
        patch = []
        for _ in range(rng.choice((1, 1, 2, 3))):
            width = rng.choice((1, 2, 4, 8))
            value = rng.choice((*EXTREMES, rng.getrandbits(8 * width)))
            field = (value & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
            patch.append((rng.choice(offsets), field.hex()))
        patches.append(patch)
    return patches


@pytest.mark.parametrize("name", SOURCE_NAMES)
def test_random_header_fields(sources: Sources, name: str) -> None:
    """Whatever a field says, the file reads (valid JSON, the slice's facts) or is refused in one
    line: never exit 3, a traceback, a hang or more than 1 GiB. (``--show --json`` on each;
    the comparison with the lock, slower, on the first COMPARED.)"""
    source: Path = getattr(sources, name)
    patches = mutations(source, seed=SOURCE_NAMES.index(name))
    job = {"label": name, "source": str(source), "path": str(sources.work / f"mutated-{name}")}
    compare = ["inspect", "-C", str(sources.module(name)), "{}"]
    results = run_batch(
        [
            {**job, "patches": patches, "argvs": [["inspect", "--show", "--json", "{}"]]},
            {**job, "patches": patches[:COMPARED], "argvs": [compare]},
        ],
        sources.work,
    )
    assert len(results) == MUTATIONS + COMPARED
    refused = 0
    for result in results:
        if result["code"] == 2:
            assert_refused(result)
            refused += 1
        elif "--show" in result["argv"]:
            assert result["code"] == 0, result
            VALIDATOR.validate(json.loads(result["out"]))
        else:
            assert result["code"] in (0, 1), result
    assert 0 < refused < len(results)  # both happen: the fields changed are ones read
