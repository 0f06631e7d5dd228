"""The build facts of a Mach-O file, thin or universal, read with macholib's structures.

macholib's own loader reads the bytes of every section into memory; envsnap walks the load
commands itself, with macholib's structure definitions (``macholib.mach_o``), and reads only the
load commands and the ``__go_buildinfo`` section. Every count and size the file declares is
checked against the bytes it has before it is used.

Versions are printed as ``otool`` prints them: a build version or SDK ``X.Y`` (``X.Y.Z`` when Z
is not 0, ``n/a`` when 0), a dylib's current and compatibility versions always ``X.Y.Z``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Protocol

from macholib import mach_o

from envsnap.binfacts import buildinfo
from envsnap.binfacts.facts import (
    BuildVersion,
    Dylib,
    DylibId,
    LoadKind,
    MachoFacts,
    Slice,
    VersionMin,
)
from envsnap.binfacts.stream import Bounded, FormatError

FAT_MAGICS = {0xCAFEBABE: 20, 0xCAFEBABF: 32}  # big-endian on disk; the size of one fat_arch
THIN_MAGICS = {
    b"\xfe\xed\xfa\xce": (">", False),
    b"\xce\xfa\xed\xfe": ("<", False),
    b"\xfe\xed\xfa\xcf": (">", True),
    b"\xcf\xfa\xed\xfe": ("<", True),
}
MAX_SLICES = 16  # more than this is a Java class file (same magic), not a universal binary
MAX_COMMANDS_BYTES = 16 * 1024 * 1024
MAX_COMMANDS = 65536  # real binaries have tens, a few hundred at most
MAX_SECTION = 8 * 1024 * 1024

# cputype → (GOARCH, the name Apple's tools print)
_CPU = {
    7: ("386", "i386"),
    0x01000007: ("amd64", "x86_64"),
    12: ("arm", "arm"),
    0x0100000C: ("arm64", "arm64"),
    0x0200000C: ("arm64_32", "arm64_32"),
    18: ("ppc", "ppc"),
    0x01000012: ("ppc64", "ppc64"),
}
# LC_BUILD_VERSION platforms and tools (mach-o/loader.h)
_PLATFORMS = {
    1: "macos",
    2: "ios",
    3: "tvos",
    4: "watchos",
    5: "bridgeos",
    6: "maccatalyst",
    7: "iossimulator",
    8: "tvossimulator",
    9: "watchossimulator",
    10: "driverkit",
    11: "visionos",
    12: "visionossimulator",
}
_TOOLS = {1: "clang", 2: "swift", 3: "ld", 4: "lld"}
_VERSION_MIN = {0x24: "macos", 0x25: "ios", 0x2F: "tvos", 0x30: "watchos"}
_DYLIB_KINDS: dict[int, LoadKind] = {
    mach_o.LC_LOAD_DYLIB: "load",
    mach_o.LC_LOAD_WEAK_DYLIB: "weak",
    mach_o.LC_REEXPORT_DYLIB: "reexport",
    mach_o.LC_LAZY_LOAD_DYLIB: "lazy",
    mach_o.LC_LOAD_UPWARD_DYLIB: "upward",
}
_FILETYPES = {1: "object", 2: "execute", 6: "dylib", 7: "dylinker", 8: "bundle", 10: "dsym"}


def is_fat(head: bytes) -> bool:
    return len(head) >= 8 and int.from_bytes(head[:4], "big") in FAT_MAGICS


def is_thin(head: bytes) -> bool:
    return head[:4] in THIN_MAGICS


def read(stream: Bounded) -> tuple[Slice, ...]:
    head = stream.at(0, min(stream.size, 8), "the header")
    if is_fat(head):
        return tuple(read_thin(part) for part in _fat_slices(stream, head))
    return (read_thin(stream),)


def _fat_slices(stream: Bounded, head: bytes) -> Iterator[Bounded]:
    magic, count = struct.unpack(">II", head)
    entry = FAT_MAGICS[magic]
    if count == 0 or count > MAX_SLICES:
        raise FormatError(f"it declares {count} architectures: not a universal binary")
    table = stream.at(8, count * entry, "the universal header")
    for index in range(count):
        raw = table[index * entry : (index + 1) * entry]
        cls = mach_o.fat_arch if entry == 20 else mach_o.fat_arch64
        arch = cls.from_str(raw, _endian_=">")
        yield stream.view(int(arch.offset), int(arch.size), f"architecture {index + 1}")


def read_thin(stream: Bounded) -> Slice:
    magic = stream.at(0, 4, "the Mach-O header")
    if magic not in THIN_MAGICS:
        raise FormatError("a slice of it is not a Mach-O image")
    endian, is_64 = THIN_MAGICS[magic]
    cls = mach_o.mach_header_64 if is_64 else mach_o.mach_header
    header = cls.from_str(stream.at(0, cls._size_, "the Mach-O header"), _endian_=endian)
    ncmds, sizeofcmds = int(header.ncmds), int(header.sizeofcmds)
    if sizeofcmds > MAX_COMMANDS_BYTES or ncmds > min(sizeofcmds // 8, MAX_COMMANDS):
        raise FormatError(
            f"its header declares {ncmds} load commands in {sizeofcmds} bytes: not a real binary"
        )
    commands = stream.at(cls._size_, sizeofcmds, "the load commands")
    walk = _Walk(endian, is_64)
    for cmd, data in _commands(commands, ncmds, endian):
        walk.take(cmd, data)
    _check_segments(walk.segments, stream.size)
    go, go_error = walk.go_build(stream)
    unknown = f"cpu{int(header.cputype):#x}"
    goarch, cpu = _CPU.get(int(header.cputype), (unknown, unknown))
    facts = MachoFacts(
        _FILETYPES.get(int(header.filetype), str(int(header.filetype))),
        walk.build_version,
        walk.version_min,
        walk.id,
        tuple(walk.dylibs),
        tuple(walk.rpaths),
    )
    goos = (go.setting("GOOS") if go else None) or _goos(facts)
    goarch = (go.setting("GOARCH") if go else None) or goarch
    return Slice("macho", goos, goarch, cpu, go, go_error, macho=facts)


def _check_segments(segments: list[tuple[int, int, int, int]], size: int) -> None:
    """A segment whose bytes lie past the end: the file was cut short (as ELF's check)."""
    for _, _, fileoff, filesize in segments:
        if fileoff + filesize > size:
            raise FormatError("a segment points past the end of the file")


def _goos(facts: MachoFacts) -> str:
    platform = facts.build_version.platform if facts.build_version else None
    platform = platform or (facts.version_min.platform if facts.version_min else "macos")
    return {"macos": "darwin", "ios": "ios", "iossimulator": "ios"}.get(platform, platform)


def _commands(data: bytes, ncmds: int, endian: str) -> Iterator[tuple[int, bytes]]:
    offset = 0
    for index in range(ncmds):
        if offset + 8 > len(data):
            raise FormatError(f"load command {index + 1} of {ncmds} lies past the commands' end")
        cmd, size = struct.unpack(endian + "II", data[offset : offset + 8])
        if size < 8 or offset + size > len(data):
            raise FormatError(f"load command {index + 1} has an impossible size ({size})")
        yield cmd, data[offset : offset + size]
        offset += size


def _version(value: int) -> str:
    """An LC_BUILD_VERSION / LC_VERSION_MIN version as otool prints it."""
    if value == 0:
        return "n/a"
    major, minor, patch = value >> 16, (value >> 8) & 0xFF, value & 0xFF
    return f"{major}.{minor}.{patch}" if patch else f"{major}.{minor}"


def _dylib_version(value: int) -> str:
    return f"{value >> 16}.{(value >> 8) & 0xFF}.{value & 0xFF}"


def _name(raw: bytes) -> str:
    return bytes(raw).rstrip(b"\0").decode("latin-1")


def _c_string(data: bytes, offset: int) -> str:
    if offset < 8 or offset >= len(data):
        raise FormatError("a load command's string lies outside it")
    return data[offset:].split(b"\0", 1)[0].decode("utf-8", "replace")


class _Structure(Protocol):
    """A macholib structure class (macholib is untyped): its size and its reader."""

    _size_: int

    def from_str(self, data: bytes, *, _endian_: str) -> object: ...


class _Fields:
    """The fields of one structure read from a load command, as the numbers and names they are."""

    def __init__(self, struct: object) -> None:
        self._struct = struct

    def number(self, field: str) -> int:
        return int(getattr(self._struct, field))

    def name(self, field: str) -> str:
        """A fixed-size name field (segname, sectname), without its NUL padding."""
        return _name(getattr(self._struct, field))

    def dylib_version(self, field: str) -> int:
        """A dylib's packed version (macholib wraps it in a helper that holds the number)."""
        return int(getattr(self._struct, field)._version)


class _Walk:
    """What the load commands say, gathered command by command."""

    def __init__(self, endian: str, is_64: bool) -> None:
        self.endian, self.is_64 = endian, is_64
        self.build_version: BuildVersion | None = None
        self.version_min: VersionMin | None = None
        self.id: DylibId | None = None
        self.dylibs: list[Dylib] = []
        self.rpaths: list[str] = []
        self.segments: list[tuple[int, int, int, int]] = []  # vmaddr, vmsize, fileoff, filesize
        self.buildinfo_section: tuple[int, int] | None = None  # file offset, size
        self.data_segment: tuple[int, int] | None = None

    def _struct(self, cls: _Structure, data: bytes, offset: int = 8) -> _Fields:
        size = cls._size_
        if offset + size > len(data):
            raise FormatError("a load command is shorter than its kind")
        return _Fields(cls.from_str(data[offset : offset + size], _endian_=self.endian))

    def take(self, cmd: int, data: bytes) -> None:
        if cmd == mach_o.LC_BUILD_VERSION:
            self._build_version(data)
        elif cmd in _VERSION_MIN:
            command = self._struct(mach_o.version_min_command, data)
            self.version_min = VersionMin(
                _VERSION_MIN[cmd],
                _version(command.number("version")),
                _version(command.number("sdk")),
            )
        elif cmd in _DYLIB_KINDS or cmd == mach_o.LC_ID_DYLIB:
            self._dylib(cmd, data)
        elif cmd == mach_o.LC_RPATH:
            self.rpaths.append(
                _c_string(data, self._struct(mach_o.rpath_command, data).number("path"))
            )
        elif cmd in (mach_o.LC_SEGMENT, mach_o.LC_SEGMENT_64):
            self._segment(cmd, data)

    def _build_version(self, data: bytes) -> None:
        command = self._struct(mach_o.build_version_command, data)
        count = command.number("ntools")
        tool_size = mach_o.build_tool_version._size_
        if 24 + count * tool_size > len(data):
            raise FormatError(f"LC_BUILD_VERSION declares {count} tools it has no room for")
        tools = []
        for index in range(count):
            tool = self._struct(mach_o.build_tool_version, data, 24 + index * tool_size)
            name = _TOOLS.get(tool.number("tool"), str(tool.number("tool")))
            tools.append((name, _version(tool.number("version"))))
        platform = command.number("platform")
        self.build_version = BuildVersion(
            _PLATFORMS.get(platform, str(platform)),
            _version(command.number("minos")),
            _version(command.number("sdk")),
            tuple(tools),
        )

    def _dylib(self, cmd: int, data: bytes) -> None:
        command = self._struct(mach_o.dylib_command, data)
        named = DylibId(
            _c_string(data, command.number("name")),
            _dylib_version(command.dylib_version("current_version")),
            _dylib_version(command.dylib_version("compatibility_version")),
        )
        if cmd == mach_o.LC_ID_DYLIB:
            self.id = named
        else:
            versions = (named.current_version, named.compatibility_version)
            self.dylibs.append(Dylib(named.name, *versions, _DYLIB_KINDS[cmd]))

    def _segment(self, cmd: int, data: bytes) -> None:
        is_64 = cmd == mach_o.LC_SEGMENT_64
        seg_cls = mach_o.segment_command_64 if is_64 else mach_o.segment_command
        sect_cls = mach_o.section_64 if is_64 else mach_o.section
        segment = self._struct(seg_cls, data)
        name = segment.name("segname")
        self.segments.append(
            (
                segment.number("vmaddr"),
                segment.number("vmsize"),
                segment.number("fileoff"),
                segment.number("filesize"),
            )
        )
        if name == "__DATA" and self.data_segment is None:
            self.data_segment = (segment.number("fileoff"), segment.number("filesize"))
        count = segment.number("nsects")
        first = 8 + seg_cls._size_
        if first + count * sect_cls._size_ > len(data):
            raise FormatError(f"segment {name} declares {count} sections it has no room for")
        for index in range(count):
            section = self._struct(sect_cls, data, first + index * sect_cls._size_)
            if section.name("sectname") == "__go_buildinfo":
                self.buildinfo_section = (section.number("offset"), section.number("size"))

    def go_build(self, stream: Bounded) -> tuple[buildinfo.GoBuild | None, str]:
        blob = None
        if self.buildinfo_section:
            offset, size = self.buildinfo_section
            blob = stream.at(offset, min(size, MAX_SECTION), "the __go_buildinfo section")
        elif self.data_segment:
            offset, size = self.data_segment
            data = stream.at(offset, min(size, 1024 * 1024), "the __DATA segment")
            index = buildinfo.find(data)
            blob = data[index:] if index >= 0 else None
        if blob is None or not blob.startswith(buildinfo.MAGIC):
            return None, ""
        try:
            return buildinfo.parse(blob, lambda address, n: self._at(stream, address, n)), ""
        except FormatError as exc:
            return None, str(exc)

    def _at(self, stream: Bounded, address: int, n: int) -> bytes:
        for vmaddr, _, fileoff, filesize in self.segments:
            if vmaddr <= address and address + n <= vmaddr + filesize:
                return stream.at(fileoff + address - vmaddr, n, "Go build information")
        raise FormatError("its Go build information points outside the file")
