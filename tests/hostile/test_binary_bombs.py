"""Small files that ask ``envsnap inspect`` for much: a compressed ``.comment`` that inflates to
half a gigabyte or is no zlib stream, thousands of ``DT_NEEDED`` entries or version names that
all name one 60 KB string. Each is refused in one line (exit 2) or read with the facts it holds,
in a child with at most 1 GiB, within seconds, with bounded output (docs/security.md,
"Binaries `envsnap inspect` reads").

Every bomb is a real cgo binary (examples/zlib, built here) with a table appended at its end and
one section header pointed at it, as tests/hostile/test_binaries.py makes its variants; each runs
through ``inspect --show``, ``inspect --show --json`` and ``inspect -C MODULE`` (a lock for
linux-amd64).
"""

from __future__ import annotations

import shutil
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, require_tool
from tests.hostile.test_binaries import (
    Elf,
    assert_refused,
    commands,
    go_build,
    put,
    run_batch,
    shown,
)

SHF_COMPRESSED = 0x800
ELFCOMPRESS_ZLIB, ELFCOMPRESS_ZSTD = 1, 2
INFLATED = 512 * 1024 * 1024  # what the zip bomb inflates to: half a gigabyte of zeros
LONG_NAME = 60_000  # the one string every bombing entry names
ENTRIES = 4000  # entries naming it: with the binary's own, under envsnap's count of 4096
SECONDS = 10  # for one command on one bomb
OUTPUT = 64 * 1024  # the most a refusal or a read bomb may print


@dataclass(frozen=True)
class Cgo:
    binary: Path
    module: Path  # examples/zlib, locked for linux-amd64
    work: Path


@pytest.fixture(scope="module")
def cgo(tmp_path_factory: pytest.TempPathFactory) -> Cgo:
    go = require_tool("go")
    require_tool("gcc")
    require_tool("pkg-config")
    root = tmp_path_factory.mktemp("bombs")
    zlib_module = root / "zlib"
    shutil.copytree(REPO / "examples" / "zlib", zlib_module)
    binary = go_build(go, root / "cgo-elf", zlib_module, "main.go", CGO_ENABLED="1")
    return Cgo(binary, zlib_module, root)


def run(cgo: Cgo, name: str, data: bytes) -> list[dict[str, Any]]:
    path = cgo.work / name
    path.write_bytes(data)
    job = {"label": name, "path": str(path), "argvs": commands(cgo.module)}
    results = run_batch([job], cgo.work)
    for result in results:
        assert result["s"] < SECONDS, (name, result["argv"], result["s"])
    return results


def assert_all_refused(results: list[dict[str, Any]], *words: str) -> None:
    """Each command refuses in one line naming the file and *words*, and prints nothing more."""
    assert len(results) == 3
    for result in results:
        assert_refused(result)
        assert len(result["out"]) + len(result["err"]) < OUTPUT
        for word in words:
            assert word in result["err"], result["err"]


def original(cgo: Cgo) -> dict[str, Any]:
    return shown(run(cgo, "original", cgo.binary.read_bytes()))


# ---- a compressed .comment ---------------------------------------------------------------------


def comment_bytes(cgo: Cgo) -> bytes:
    data = cgo.binary.read_bytes()
    _, offset, size = Elf.of(cgo.binary).sections[".comment"]
    return data[offset : offset + size]


def compress(*parts: bytes | tuple[bytes, int]) -> bytes:
    """zlib data of *parts*, a (block, times) part repeated without being held whole."""
    packer = zlib.compressobj(9)
    out = []
    for part in parts:
        block, times = part if isinstance(part, tuple) else (part, 1)
        out += [packer.compress(block) for _ in range(times)]
    return b"".join([*out, packer.flush()])


def with_compressed_comment(cgo: Cgo, payload: bytes, declared: int, kind: int = 1) -> bytes:
    """The binary with .comment moved to its end: an Elf64_Chdr (type *kind*, size *declared*)
    then *payload*, and SHF_COMPRESSED set."""
    data = bytearray(cgo.binary.read_bytes())
    layout = Elf.of(cgo.binary)
    at = len(data)
    data += struct.pack("<IIQQ", kind, 0, declared, 1) + payload
    flags = struct.unpack_from("<Q", data, layout.shdr(".comment", 8))[0]
    put(data, layout.shdr(".comment", 8), "Q", flags | SHF_COMPRESSED)
    put(data, layout.shdr(".comment", 24), "QQ", at, len(data) - at)
    return bytes(data)


def test_a_compressed_comment_reads_as_the_plain_one(cgo: Cgo) -> None:
    """The control: an honest compressed .comment gives the compilers of the original."""
    comment = comment_bytes(cgo)
    bomb = with_compressed_comment(cgo, compress(comment), len(comment))
    piece = shown(run(cgo, "compressed", bomb))
    assert piece["elf"] == original(cgo)["elf"]


def test_a_zip_bomb_in_comment_is_refused_without_inflating_it(cgo: Cgo) -> None:
    """Half a megabyte that inflates to 512 MiB, its header saying so."""
    payload = compress(comment_bytes(cgo), (bytes(1 << 20), INFLATED >> 20))
    assert len(payload) < 1 << 20
    results = run(cgo, "zip-bomb", with_compressed_comment(cgo, payload, INFLATED))
    assert_all_refused(results, ".comment", "inflates")


def test_a_zip_bomb_whose_header_says_little_reads_what_it_says(cgo: Cgo) -> None:
    """ch_size is the real comment's size: as Go's debug/elf, only that much is inflated."""
    comment = comment_bytes(cgo)
    payload = compress(comment, (bytes(1 << 20), INFLATED >> 20))
    piece = shown(run(cgo, "zip-bomb-small", with_compressed_comment(cgo, payload, len(comment))))
    assert piece["elf"] == original(cgo)["elf"]


def test_a_compressed_comment_of_bad_zlib_data_is_refused(cgo: Cgo) -> None:
    comment = comment_bytes(cgo)
    payload = bytearray(compress(comment))
    payload[2:6] = b"\xff\xff\xff\xff"  # the first deflate block's header: an invalid block type
    bomb = with_compressed_comment(cgo, bytes(payload), len(comment))
    assert_all_refused(run(cgo, "bad-zlib", bomb), ".comment", "zlib")


def test_a_compressed_comment_shorter_than_its_header_says_is_refused(cgo: Cgo) -> None:
    comment = comment_bytes(cgo)
    bomb = with_compressed_comment(cgo, compress(comment), len(comment) + 1)
    assert_all_refused(run(cgo, "short-zlib", bomb), ".comment")


def test_a_zstd_compressed_comment_is_refused_by_name(cgo: Cgo) -> None:
    comment = comment_bytes(cgo)
    bomb = with_compressed_comment(cgo, compress(comment), len(comment), ELFCOMPRESS_ZSTD)
    assert_all_refused(run(cgo, "zstd", bomb), ".comment", "zstd")


# ---- names: DT_NEEDED and version names ----------------------------------------------------------


def with_long_string(data: bytearray, layout: Elf, text: bytes) -> int:
    """.dynstr copied to the end of *data* with *text* after it; the offset of *text* in it."""
    _, offset, size = layout.sections[".dynstr"]
    at = len(data)
    data += data[offset : offset + size] + text + b"\0"
    put(data, layout.shdr(".dynstr", 24), "QQ", at, len(data) - at)
    return size


def dynamic_with_needed(data: bytearray, layout: Elf, names: list[int]) -> None:
    """.dynamic copied to the end of *data*, a DT_NEEDED for each string offset in *names*
    before its own entries."""
    _, offset, size = layout.sections[".dynamic"]
    at = len(data)
    data += b"".join(struct.pack("<qQ", 1, name) for name in names) + data[offset : offset + size]
    put(data, layout.shdr(".dynamic", 24), "QQ", at, len(data) - at)


def needed_bomb(cgo: Cgo, offsets: Callable[[int], list[int]], text: bytes) -> bytes:
    data = bytearray(cgo.binary.read_bytes())
    layout = Elf.of(cgo.binary)
    start = with_long_string(data, layout, text)
    dynamic_with_needed(data, layout, offsets(start))
    return bytes(data)


def test_thousands_of_needed_entries_naming_one_long_string_are_refused(cgo: Cgo) -> None:
    """4,000 DT_NEEDED entries, each naming the same 60 KB string: 240 MB of names."""
    bomb = needed_bomb(cgo, lambda start: [start] * ENTRIES, b"x" * LONG_NAME)
    assert_all_refused(run(cgo, "needed-bomb", bomb), "dynamic section")


def test_needed_entries_naming_each_suffix_of_a_long_string_are_refused(cgo: Cgo) -> None:
    """Distinct names, each a suffix of the one 60 KB string: no two entries alike."""
    bomb = needed_bomb(
        cgo, lambda start: [start + 10 * i for i in range(ENTRIES)], b"x" * LONG_NAME
    )
    assert_all_refused(run(cgo, "needed-suffixes", bomb), "dynamic section")


def test_one_needed_name_of_a_megabyte_is_refused(cgo: Cgo) -> None:
    bomb = needed_bomb(cgo, lambda start: [start], b"x" * (1 << 20))
    assert_all_refused(run(cgo, "needed-long", bomb), "dynamic section")


def test_a_needed_name_left_unterminated_at_the_end_of_its_table_is_refused(cgo: Cgo) -> None:
    """pyelftools would read on past .dynstr into whatever follows it."""
    data = bytearray(cgo.binary.read_bytes())
    layout = Elf.of(cgo.binary)
    start = with_long_string(data, layout, b"libz.so.1")
    put(data, layout.shdr(".dynstr", 32), "Q", start + len(b"libz.so.1"))  # the NUL left out
    data += b"x" * 1000
    dynamic_with_needed(data, layout, [start])
    assert_all_refused(run(cgo, "needed-unterminated", bytes(data)), "dynamic section")


def test_a_few_needed_entries_naming_long_strings_still_read(cgo: Cgo) -> None:
    """Below the caps, the names are read as they are: the caps refuse only what no linker
    writes."""
    bomb = needed_bomb(cgo, lambda start: [start, start + 1], b"y" * 4000)
    piece = shown(run(cgo, "needed-few", bomb))
    assert piece["elf"]["needed"][:2] == ["y" * 4000, "y" * 3999]
    assert piece["elf"]["needed"][2:] == original(cgo)["elf"]["needed"]


def version_needs_bomb(cgo: Cgo) -> bytes:
    """.gnu.version_r replaced by one entry for libc.so.6 with 4,000 version names, each the
    same 60 KB string."""
    data = bytearray(cgo.binary.read_bytes())
    layout = Elf.of(cgo.binary)
    start = with_long_string(data, layout, b"v" * LONG_NAME + b"\0libc.so.6")
    libc = start + LONG_NAME + 1
    at = len(data)
    data += struct.pack("<HHIII", 1, ENTRIES, libc, 16, 0)  # Elf64_Verneed
    for index in range(ENTRIES):
        last = index == ENTRIES - 1
        data += struct.pack("<IHHII", index, 0, index + 2, start, 0 if last else 16)
    put(data, layout.shdr(".gnu.version_r", 24), "QQ", at, len(data) - at)
    put(data, layout.shdr(".gnu.version_r", 44), "I", 1)
    return bytes(data)


def test_thousands_of_version_names_naming_one_long_string_are_refused(cgo: Cgo) -> None:
    assert_all_refused(run(cgo, "versions-bomb", version_needs_bomb(cgo)), "version needs")
