"""Go's build information, read from a binary's bytes as ``debug/buildinfo`` reads it.

The Go linker writes a 32-byte header, ``\\xff Go buildinf:`` then the pointer size and flags, in
a section of its own (``.go.buildinfo`` in ELF, ``__go_buildinfo`` in Mach-O), 16-byte aligned at
the start of the writable data. Since Go 1.18 the version and the module information follow the
header inline, each as a varint length and bytes; before, the header held two pointers to Go
string headers, which :func:`parse` follows through *read_at* (virtual address, length).

The module information is the text ``runtime/debug.BuildInfo.String`` prints: ``path``, ``mod``,
``dep``, ``=>`` (a replacement of the line before) and ``build key=value`` lines, where a key or a
value holding a space, a quote, a tab, a newline or ``=`` is Go-quoted. The tests hold
:func:`parse` to ``go version -m -json`` on real binaries.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal, NotRequired

from envsnap.binfacts.stream import FormatError
from envsnap.entry import Doc
from envsnap.redact import scrub

if sys.version_info >= (3, 12):
    from typing import TypedDict
else:  # as envsnap.entry: pydantic reads only typing_extensions' TypedDict before 3.12
    from typing_extensions import TypedDict

MAGIC = b"\xff Go buildinf:"
ALIGN = 16
HEADER_SIZE = 32
FLAG_BIG_ENDIAN = 0x1
FLAG_INLINE = 0x2
MAX_STRING = 4 * 1024 * 1024  # a module list longer than this is not one Go wrote


class ModuleDocument(TypedDict):
    # a module of a binary's Go build information in inspect's JSON document
    path: str
    version: str
    sum: NotRequired[str]
    replace: NotRequired[ModuleDocument | None]


class GoBuildDocument(TypedDict):
    """The binary's Go build information, as `go version -m -json` reads it."""

    version: Annotated[str, Doc("the Go release that built it, e.g. go1.26.6")]
    path: Annotated[str, Doc("the main package's import path")]
    main: ModuleDocument | None
    deps: list[ModuleDocument]
    settings: Annotated[
        dict[str, str],
        Doc(
            "the build settings: -tags, -ldflags, -trimpath, CGO_ENABLED, CGO_CFLAGS, "
            "CGO_CPPFLAGS, CGO_CXXFLAGS, CGO_LDFLAGS (recorded only when set, and not with "
            "-trimpath), GOOS, GOARCH, GOAMD64…, vcs.revision…"
        ),
    ]


@dataclass(frozen=True)
class Module:
    path: str
    version: str
    sum: str = ""
    replace: Module | None = None

    def to_json(self) -> ModuleDocument:
        document: ModuleDocument = {"path": self.path, "version": self.version}
        if self.sum:
            document["sum"] = self.sum
        if self.replace:
            document["replace"] = self.replace.to_json()
        return document


@dataclass(frozen=True)
class GoBuild:
    """What ``go version -m`` prints: the Go version, the main package and module, the
    dependencies and the build settings (``-tags``, ``CGO_ENABLED``, ``CGO_CFLAGS``, …)."""

    version: str
    path: str = ""
    main: Module | None = None
    deps: tuple[Module, ...] = ()
    settings: tuple[tuple[str, str], ...] = ()

    def setting(self, key: str) -> str | None:
        return next((value for name, value in self.settings if name == key), None)

    def to_json(self) -> GoBuildDocument:
        return {
            "version": self.version,
            "path": self.path,
            "main": self.main.to_json() if self.main else None,
            "deps": [dep.to_json() for dep in self.deps],
            "settings": dict(self.settings),
        }


ReadAt = Callable[[int, int], bytes]  # (virtual address, length) -> bytes


def find(data: bytes) -> int:
    """The offset of the first 16-byte aligned header in *data*, or -1."""
    start = 0
    while (index := data.find(MAGIC, start)) >= 0:
        if index % ALIGN == 0 and len(data) - index >= HEADER_SIZE:
            return index
        start = index + 1
    return -1


def parse(blob: bytes, read_at: ReadAt | None = None) -> GoBuild:
    """The build information whose header starts *blob*."""
    if len(blob) < HEADER_SIZE or not blob.startswith(MAGIC):
        raise FormatError("its Go build information has no valid header")
    pointer_size, flags = blob[14], blob[15]
    if flags & FLAG_INLINE:
        version, rest = _varint_string(blob[HEADER_SIZE:])
        modinfo, _ = _varint_string(rest)
    else:
        version, modinfo = _by_pointer(blob, pointer_size, flags, read_at)
    return _build(version, _strip_sentinels(modinfo))


def _varint_string(data: bytes) -> tuple[bytes, bytes]:
    length, shift, index = 0, 0, 0
    while True:
        if index >= len(data) or shift > 63:
            raise FormatError("its Go build information is cut short")
        byte = data[index]
        length |= (byte & 0x7F) << shift
        index += 1
        shift += 7
        if byte < 0x80:
            break
    if length > MAX_STRING or index + length > len(data):
        raise FormatError("its Go build information is cut short")
    return data[index : index + length], data[index + length :]


def _by_pointer(
    blob: bytes, pointer_size: int, flags: int, read_at: ReadAt | None
) -> tuple[bytes, bytes]:
    """Go 1.17 and older: two pointers to string headers (data pointer, length)."""
    if pointer_size not in (4, 8) or read_at is None:
        raise FormatError("its Go build information is in a form envsnap cannot follow")
    order: Literal["big", "little"] = "big" if flags & FLAG_BIG_ENDIAN else "little"

    def pointer(data: bytes, at: int) -> int:
        return int.from_bytes(data[at : at + pointer_size], order)

    def string(address: int) -> bytes:
        header = read_at(address, 2 * pointer_size)
        length = pointer(header, pointer_size)
        if length > MAX_STRING:
            raise FormatError("its Go build information is cut short")
        return read_at(pointer(header, 0), length)

    return string(pointer(blob, 16)), string(pointer(blob, 16 + pointer_size))


def _strip_sentinels(modinfo: bytes) -> bytes:
    # The module text sits between two 16-byte sentinels, the second after its final newline.
    if len(modinfo) >= 33 and modinfo[-17] == ord("\n"):
        return modinfo[16:-16]
    return b""


def _build(version: bytes, modinfo: bytes) -> GoBuild:
    text = modinfo.decode("utf-8", "replace")
    path, main, deps, settings = "", None, [], []
    for line in text.split("\n"):
        kind, _, rest = line.partition("\t")
        if kind == "path":
            path = rest
        elif kind == "mod":
            main = _module(rest)
        elif kind == "dep":
            deps.append(_module(rest))
        elif kind == "=>" and deps:
            deps[-1] = Module(deps[-1].path, deps[-1].version, deps[-1].sum, _module(rest))
        elif kind == "=>" and main:
            main = Module(main.path, main.version, main.sum, _module(rest))
        elif kind == "build":
            settings.append(_setting(rest))
    return GoBuild(version.decode("utf-8", "replace"), path, main, tuple(deps), tuple(settings))


def _module(text: str) -> Module:
    parts = text.split("\t")
    path, version, checksum = [*parts, "", "", ""][:3]
    return Module(path, version, checksum)


def _setting(text: str) -> tuple[str, str]:
    if text[:1] in ('"', "`"):
        raw_key = _quoted_prefix(text)
        key, rest = unquote(raw_key), text[len(raw_key) :]
        if not rest.startswith("="):
            raise FormatError("its Go build information has a malformed build setting")
        raw_value = rest[1:]
    else:
        key, equals, raw_value = text.partition("=")
        if not equals or not key:
            raise FormatError("its Go build information has a malformed build setting")
    value = unquote(raw_value) if raw_value[:1] in ('"', "`") else raw_value
    return key, scrub(value)  # a token in -ldflags or CGO_CFLAGS is never shown or compared


def _quoted_prefix(text: str) -> str:
    quote = text[0]
    index = 1
    while index < len(text):
        char = text[index]
        if char == "\\" and quote == '"':
            index += 2
            continue
        if char == quote:
            return text[: index + 1]
        index += 1
    raise FormatError("its Go build information has an unterminated quoted string")


_SIMPLE_ESCAPES = {
    "a": b"\a",
    "b": b"\b",
    "f": b"\f",
    "n": b"\n",
    "r": b"\r",
    "t": b"\t",
    "v": b"\v",
    "\\": b"\\",
    "'": b"'",
    '"': b'"',
}
_CODE_POINT_ESCAPES = {"x": 2, "u": 4, "U": 8}


def unquote(text: str) -> str:
    """A string as Go's ``strconv.Unquote`` reads a back-quoted or double-quoted literal."""
    if len(text) >= 2 and text[0] == text[-1] == "`":
        return text[1:-1]
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise FormatError("its Go build information has a malformed quoted string")
    body, out, index = text[1:-1], bytearray(), 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            out += char.encode("utf-8", "surrogatepass")
            index += 1
            continue
        kind = body[index + 1 : index + 2]
        if kind in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[kind]
            index += 2
        elif kind in _CODE_POINT_ESCAPES:
            digits = body[index + 2 : index + 2 + _CODE_POINT_ESCAPES[kind]]
            value = _number(digits, 16, _CODE_POINT_ESCAPES[kind])
            out += bytes([value]) if kind == "x" else chr(value).encode("utf-8", "replace")
            index += 2 + len(digits)
        elif kind.isdigit():
            out.append(_number(body[index + 1 : index + 4], 8, 3) & 0xFF)
            index += 4
        else:
            raise FormatError("its Go build information has a malformed quoted string")
    return out.decode("utf-8", "replace")


def _number(digits: str, base: int, width: int) -> int:
    try:
        value = int(digits, base)
    except ValueError:
        value = -1
    if len(digits) != width or value < 0 or value > 0x10FFFF:
        raise FormatError("its Go build information has a malformed quoted string")
    return value
