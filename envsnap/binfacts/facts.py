"""What a binary says about the build that made it, per slice (a universal Mach-O has several)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Annotated, Literal, NotRequired

from envsnap.binfacts.buildinfo import GoBuild, GoBuildDocument
from envsnap.entry import Doc, Examples

if sys.version_info >= (3, 12):
    from typing import TypedDict
else:  # as envsnap.entry: pydantic reads only typing_extensions' TypedDict before 3.12
    from typing_extensions import TypedDict

LoadKind = Literal["load", "weak", "reexport", "lazy", "upward"]
SliceFormat = Literal["elf", "macho"]
BinaryFormat = Literal["elf", "macho", "macho-fat"]

# --- the facts in inspect's JSON document (docs/inspect.schema.json is generated from these) ---


class ElfDocument(TypedDict):
    interpreter: Annotated[str | None, Doc("PT_INTERP; null for a static binary")]
    needed: Annotated[list[str], Doc("DT_NEEDED sonames, in order")]
    rpath: list[str]
    runpath: list[str]
    soname: str | None
    comment: Annotated[
        list[str],
        Doc(
            "the .comment section: the compilers that compiled its objects, e.g. "
            "GCC: (Debian 12.2.0-14+deb12u1) 12.2.0"
        ),
    ]
    version_needs: Annotated[
        dict[str, list[str]],
        Doc(".gnu.version_r: per needed library, the symbol versions it must provide"),
    ]
    stripped: Annotated[bool, Doc("true when it has no symbol table (.symtab)")]


class BuildVersionDocument(TypedDict):
    """LC_BUILD_VERSION; versions as otool prints them (X.Y, or X.Y.Z; n/a for 0)."""

    platform: Annotated[str, Examples(("macos", "ios", "maccatalyst"))]
    minos: Annotated[str, Doc("the minimum OS version it runs on")]
    sdk: Annotated[str, Doc("the SDK version it was linked against")]
    tools: Annotated[
        list[dict[str, str]],
        Doc("{tool, version}: ld is Apple's linker; empty when Go's own linker linked it"),
    ]


class VersionMinDocument(TypedDict):
    """LC_VERSION_MIN_MACOSX (or _IPHONEOS, _TVOS, _WATCHOS): older binaries."""

    platform: str
    version: str
    sdk: str


class DylibIdDocument(TypedDict):
    name: str
    current_version: str
    compatibility_version: str


class DylibDocument(DylibIdDocument):
    kind: LoadKind


class MachoDocument(TypedDict):
    filetype: Annotated[str, Examples(("execute", "dylib", "bundle"))]
    build_version: BuildVersionDocument | None
    version_min: VersionMinDocument | None
    id: Annotated[DylibIdDocument | None, Doc("LC_ID_DYLIB, for a dylib")]
    dylibs: Annotated[list[DylibDocument], Doc("LC_LOAD_DYLIB and its kin, in order")]
    rpaths: list[str]


class SliceDocument(TypedDict):
    """One architecture of the file (an ELF file and a thin Mach-O have one)."""

    format: SliceFormat
    goos: str
    goarch: str
    platform: Annotated[str, Doc("GOOS-GOARCH: the lock entry this slice is compared with")]
    cpu: Annotated[str, Doc("the architecture as the format names it: x86_64, arm64…")]
    go: Annotated[GoBuildDocument | None, Doc("null when it has no Go build information")]
    go_error: NotRequired[
        Annotated[str, Doc("why the Go build information could not be read; absent when fine")]
    ]
    elf: ElfDocument | None
    macho: MachoDocument | None


class BinaryDocument(TypedDict):
    path: Annotated[str, Doc("the path as given")]
    format: BinaryFormat
    slices: list[SliceDocument]
    entries: NotRequired[
        Annotated[
            list[str],
            Doc("compared only: the lock entry each slice was compared with, in slice order"),
        ]
    ]


# --- the facts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ElfFacts:
    interpreter: str | None = None
    needed: tuple[str, ...] = ()  # DT_NEEDED sonames, in order
    rpath: tuple[str, ...] = ()
    runpath: tuple[str, ...] = ()
    soname: str | None = None
    comment: tuple[str, ...] = ()  # the .comment section: one compiler identification per entry
    # .gnu.version_r: the symbol versions each needed library must provide (GLIBC_2.34, …)
    version_needs: tuple[tuple[str, tuple[str, ...]], ...] = ()
    stripped: bool = False

    def to_json(self) -> ElfDocument:
        return {
            "interpreter": self.interpreter,
            "needed": list(self.needed),
            "rpath": list(self.rpath),
            "runpath": list(self.runpath),
            "soname": self.soname,
            "comment": list(self.comment),
            "version_needs": {library: list(names) for library, names in self.version_needs},
            "stripped": self.stripped,
        }


@dataclass(frozen=True)
class DylibId:
    """A dylib's install name and versions: its own (LC_ID_DYLIB), or one it loads."""

    name: str
    current_version: str
    compatibility_version: str

    def to_json(self) -> DylibIdDocument:
        return {
            "name": self.name,
            "current_version": self.current_version,
            "compatibility_version": self.compatibility_version,
        }


@dataclass(frozen=True)
class Dylib(DylibId):
    """A dylib it loads, and how (LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB, …)."""

    kind: LoadKind

    def to_json(self) -> DylibDocument:
        return {**super().to_json(), "kind": self.kind}


@dataclass(frozen=True)
class BuildVersion:
    """LC_BUILD_VERSION: the platform, the minimum OS, the SDK linked against, the tools."""

    platform: str
    minos: str
    sdk: str
    tools: tuple[tuple[str, str], ...] = ()  # (tool, version): ("ld", "1053.12")

    def tool(self, name: str) -> str | None:
        return next((version for tool, version in self.tools if tool == name), None)

    def to_json(self) -> BuildVersionDocument:
        return {
            "platform": self.platform,
            "minos": self.minos,
            "sdk": self.sdk,
            "tools": [{"tool": tool, "version": version} for tool, version in self.tools],
        }


@dataclass(frozen=True)
class VersionMin:
    """LC_VERSION_MIN_MACOSX (and its iOS, tvOS, watchOS kin), before LC_BUILD_VERSION."""

    platform: str
    version: str
    sdk: str

    def to_json(self) -> VersionMinDocument:
        return {"platform": self.platform, "version": self.version, "sdk": self.sdk}


@dataclass(frozen=True)
class MachoFacts:
    filetype: str
    build_version: BuildVersion | None = None
    version_min: VersionMin | None = None
    id: DylibId | None = None
    dylibs: tuple[Dylib, ...] = ()
    rpaths: tuple[str, ...] = ()

    @property
    def sdk(self) -> str | None:
        if self.build_version:
            return self.build_version.sdk
        return self.version_min.sdk if self.version_min else None

    @property
    def minos(self) -> str | None:
        if self.build_version:
            return self.build_version.minos
        return self.version_min.version if self.version_min else None

    @property
    def linker(self) -> str | None:
        """The version of Apple's ld that linked it; None for Go's own linker (no tools)."""
        return self.build_version.tool("ld") if self.build_version else None

    def to_json(self) -> MachoDocument:
        return {
            "filetype": self.filetype,
            "build_version": self.build_version.to_json() if self.build_version else None,
            "version_min": self.version_min.to_json() if self.version_min else None,
            "id": self.id.to_json() if self.id else None,
            "dylibs": [dylib.to_json() for dylib in self.dylibs],
            "rpaths": list(self.rpaths),
        }


@dataclass(frozen=True)
class Slice:
    """One architecture's image: the whole file for ELF and a thin Mach-O."""

    format: SliceFormat
    goos: str
    goarch: str
    cpu: str  # as the format names it: x86_64, arm64 (Mach-O); x86_64, aarch64 (ELF)
    go: GoBuild | None = None
    go_error: str = ""  # why the Go build information could not be read, when it is there
    elf: ElfFacts | None = None
    macho: MachoFacts | None = None

    @property
    def platform(self) -> str:
        return f"{self.goos}-{self.goarch}"

    def to_json(self) -> SliceDocument:
        document: SliceDocument = {
            "format": self.format,
            "goos": self.goos,
            "goarch": self.goarch,
            "platform": self.platform,
            "cpu": self.cpu,
            "go": self.go.to_json() if self.go else None,
            "elf": self.elf.to_json() if self.elf else None,
            "macho": self.macho.to_json() if self.macho else None,
        }
        if self.go_error:
            document["go_error"] = self.go_error
        return document


@dataclass(frozen=True)
class Binary:
    path: str
    format: BinaryFormat
    slices: tuple[Slice, ...] = field(default_factory=tuple)

    def to_json(self) -> BinaryDocument:
        return {
            "path": self.path,
            "format": self.format,
            "slices": [piece.to_json() for piece in self.slices],
        }
