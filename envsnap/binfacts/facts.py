"""What a binary says about the build that made it, per slice (a universal Mach-O has several)."""

from __future__ import annotations

from dataclasses import dataclass, field

from envsnap.binfacts.buildinfo import GoBuild


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

    def to_json(self) -> dict[str, object]:
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
class Dylib:
    name: str
    kind: str  # load, weak, reexport, lazy, upward, id
    current_version: str
    compatibility_version: str

    def to_json(self, with_kind: bool = True) -> dict[str, object]:
        document: dict[str, object] = {"name": self.name}
        if with_kind:
            document["kind"] = self.kind
        document["current_version"] = self.current_version
        document["compatibility_version"] = self.compatibility_version
        return document


@dataclass(frozen=True)
class BuildVersion:
    """LC_BUILD_VERSION: the platform, the minimum OS, the SDK linked against, the tools."""

    platform: str
    minos: str
    sdk: str
    tools: tuple[tuple[str, str], ...] = ()  # (tool, version): ("ld", "1053.12")

    def tool(self, name: str) -> str | None:
        return next((version for tool, version in self.tools if tool == name), None)

    def to_json(self) -> dict[str, object]:
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

    def to_json(self) -> dict[str, object]:
        return {"platform": self.platform, "version": self.version, "sdk": self.sdk}


@dataclass(frozen=True)
class MachoFacts:
    filetype: str
    build_version: BuildVersion | None = None
    version_min: VersionMin | None = None
    id: Dylib | None = None
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

    def to_json(self) -> dict[str, object]:
        return {
            "filetype": self.filetype,
            "build_version": self.build_version.to_json() if self.build_version else None,
            "version_min": self.version_min.to_json() if self.version_min else None,
            "id": self.id.to_json(with_kind=False) if self.id else None,
            "dylibs": [dylib.to_json() for dylib in self.dylibs],
            "rpaths": list(self.rpaths),
        }


@dataclass(frozen=True)
class Slice:
    """One architecture's image: the whole file for ELF and a thin Mach-O."""

    format: str  # "elf" or "macho"
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

    def to_json(self) -> dict[str, object]:
        return {
            "format": self.format,
            "goos": self.goos,
            "goarch": self.goarch,
            "platform": self.platform,
            "cpu": self.cpu,
            "go": self.go.to_json() if self.go else None,
            **({"go_error": self.go_error} if self.go_error else {}),
            "elf": self.elf.to_json() if self.elf else None,
            "macho": self.macho.to_json() if self.macho else None,
        }


@dataclass(frozen=True)
class Binary:
    path: str
    format: str  # "elf", "macho" or "macho-fat"
    slices: tuple[Slice, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "format": self.format,
            "slices": [piece.to_json() for piece in self.slices],
        }
