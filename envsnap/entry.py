"""The one shape of a platform entry, from the probes that fill it to the emitters that read it.

A lock entry is plain data (it is TOML on disk and JSON in every document), so its shape is a
set of :class:`~typing.TypedDict` classes: mypy checks every read and write of an entry, and the
clean ``verify`` path needs nothing heavier than :mod:`typing` to use them. The slow path
validates an entry against the same classes with pydantic (:mod:`envsnap.snapshot`), and the
JSON schemas in docs/ are generated from them.

What a field is for comparison is declared on the field, with :class:`Compare` in its
``Annotated`` metadata:

``identity``      what makes the thing the same thing (a real path, a hash);
``version``       the release it is (part of its identity too);
``presentation``  how this machine reached it (a path through a symlink or PATH, the command that
                  named it): a difference here alone, with the same identity, is info.

A field without a kind is a value: any difference is a drift, as its rule says. The entry holds
no ``None``: a field that was not found is absent (TOML has no null; :func:`envsnap.normalize.
prune` drops them before an entry is written).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import (
    Annotated,
    Literal,
    NotRequired,
    Protocol,
    Required,
    TypeAlias,
    get_args,
    get_origin,
    get_type_hints,
)

if sys.version_info >= (3, 12):
    from typing import TypedDict
else:  # pydantic validates only typing_extensions' TypedDict before 3.12
    from typing_extensions import TypedDict

Comparison = Literal["identity", "version", "presentation"]

# Plain data as JSON and TOML hold it: what an entry, a document or a cache is made of.
Json: TypeAlias = str | int | float | bool | list["Json"] | dict[str, "Json"] | None
JsonObject: TypeAlias = dict[str, Json]


class _SchemaHandler(Protocol):
    def __call__(self, core_schema: object, /) -> dict[str, object]: ...


@dataclass(frozen=True)
class Compare:
    """``Annotated`` metadata: how a field compares (shown as ``compare`` in the lock schema)."""

    kind: Comparison

    def __get_pydantic_json_schema__(
        self, core_schema: object, handler: _SchemaHandler
    ) -> dict[str, object]:
        return {**handler(core_schema), "compare": self.kind}


@dataclass(frozen=True)
class Pattern:
    """``Annotated`` metadata: the regular expression a text field matches (checked by pydantic
    on the slow path, and shown in the lock schema)."""

    regex: str

    def __get_pydantic_core_schema__(self, source: object, handler: _SchemaHandler) -> object:
        schema = handler(source)
        schema["pattern"] = self.regex
        return schema


SHA256 = Pattern(r"^sha256:[0-9a-f]{64}$")
Digest = Annotated[str, SHA256]


# The markers below shape the JSON documents envsnap prints (verify, doctor, inspect): their
# TypedDicts carry them, and envsnap.documents generates the schemas from them.


@dataclass(frozen=True)
class Doc:
    """``Annotated`` metadata: what a document's field means (its schema's description)."""

    text: str

    def __get_pydantic_json_schema__(
        self, core_schema: object, handler: _SchemaHandler
    ) -> dict[str, object]:
        return {**handler(core_schema), "description": self.text}


@dataclass(frozen=True)
class Examples:
    """``Annotated`` metadata: values a document's field typically holds (schema examples)."""

    values: tuple[str, ...]

    def __get_pydantic_json_schema__(
        self, core_schema: object, handler: _SchemaHandler
    ) -> dict[str, object]:
        return {**handler(core_schema), "examples": list(self.values)}


class AnyJson:
    """``Annotated`` metadata: any JSON value, unchecked (pydantic cannot walk the recursive
    :data:`Json` alias, and a finding's value may be any part of an entry)."""

    def __get_pydantic_core_schema__(self, source: object, handler: object) -> dict[str, str]:
        return {"type": "any"}


class NonNegative:
    """``Annotated`` metadata: a count, never below zero."""

    def __get_pydantic_core_schema__(
        self, source: object, handler: _SchemaHandler
    ) -> dict[str, object]:
        return {**handler(source), "ge": 0}


class NotEmpty:
    """``Annotated`` metadata: a text that says something (at least one character)."""

    def __get_pydantic_core_schema__(
        self, source: object, handler: _SchemaHandler
    ) -> dict[str, object]:
        return {**handler(source), "min_length": 1}


class OsSection(TypedDict):
    goos: str
    goarch: str
    name: NotRequired[str]
    version: NotRequired[str]
    build: NotRequired[str]
    id: NotRequired[str]
    version_id: NotRequired[str]
    glibc: NotRequired[str]
    error: NotRequired[str]


class GoSection(TypedDict):
    version: Annotated[str, Compare("version")]
    path: Annotated[str, Compare("presentation")]
    goroot: Annotated[str, Compare("presentation")]
    gotoolchain: NotRequired[str]
    env: dict[str, str]
    mod_go: NotRequired[str]
    mod_toolchain: NotRequired[str]
    switched_from: NotRequired[str]  # the local go, when GOTOOLCHAIN switches the build away
    tags: NotRequired[list[str]]  # the build tags GOFLAGS sets (a variant's included)
    # the go.work the build used, relative to the module ("../go.work"); absent outside one
    workspace: NotRequired[str]


class Tool(TypedDict, total=False):
    command: Annotated[str, Compare("presentation")]
    path: Annotated[str, Compare("presentation")]
    realpath: Annotated[str, Compare("identity")]
    version: Annotated[str, Compare("version")]
    sha256: Annotated[str, Compare("identity"), SHA256]
    wrapper: str
    wrapper_version: str
    error: str
    # the package that owns the file ("gcc-12 12.2.0-14", dpkg's name and version; a Nix store
    # path's name); absent where no package manager says
    package: Annotated[str, Compare("version")]


class CcSection(TypedDict):
    compiler: Tool
    linker: Tool
    cxx: NotRequired[Tool]  # the C++ compiler, when a cgo package has C++ files


class AppleSection(TypedDict, total=False):
    developer_dir: str
    developer_dir_source: str
    developer_dir_realpath: str  # the real directory behind developer_dir
    developer_dir_kind: str
    has_xcrun: bool
    clt_version: str
    sdk_source: str
    sdk_path: str
    sdk_realpath: str
    sdk_version: str
    sdk_name: str
    sdk_build: str
    sdk_error: str
    sdk_beta: bool  # its build is a seed's (trailing lowercase letter)
    xcode_version: str
    xcode_build: str
    xcode_beta: bool  # a beta Xcode (by its app's name or its beta SDK)
    error: str


class FileRef(TypedDict):
    path: str
    sha256: NotRequired[Digest]


class Library(TypedDict):
    name: str
    found_by: Literal["pkg-config", "ldflags"]
    provider: str
    used_by: list[str]
    version: NotRequired[str]
    pc_file: NotRequired[FileRef]
    files: NotRequired[list[FileRef]]
    error: NotRequired[str]
    # the package that owns its files ("zlib1g-dev 1:1.2.13.dfsg-1", dpkg's name and version;
    # a Nix store path's name); absent where no package manager says
    package: NotRequired[str]


class CgoPackage(TypedDict):
    path: str
    pkg_config: list[str]
    cflags: list[str]
    ldflags: list[str]
    cxx: NotRequired[bool]  # the package has C++ files: the link runs through $CXX
    cxxflags: NotRequired[list[str]]  # its #cgo CXXFLAGS


class CgoSection(TypedDict, total=False):
    packages: list[CgoPackage]
    include: list[str]  # the package patterns, when not the whole module (envsnap.toml)
    exclude: list[str]  # the patterns left out (envsnap.toml); absent when none
    package_errors: list[str]
    error: str


class Content(TypedDict):
    """What the probes found: an entry without the fields that say who wrote it."""

    os: OsSection
    go: GoSection
    cc: CcSection
    env: dict[str, str]
    cgo: CgoSection
    libraries: list[Library]
    apple: NotRequired[AppleSection]
    # the probes that failed when it was written (lock --allow-incomplete); absent when none did
    incomplete: NotRequired[list[str]]
    variant: NotRequired[str]  # the build variant's name; absent for the default variant


class Entry(Content):
    """A platform's entry in envsnap.lock: its content, the envsnap that wrote it and a digest
    over the rest (:func:`envsnap.lockfile.entry_digest`)."""

    envsnap: str
    digest: Digest


SECTIONS: tuple[type, ...] = (
    OsSection,
    GoSection,
    Tool,
    CcSection,
    AppleSection,
    FileRef,
    Library,
    CgoPackage,
    CgoSection,
    Content,
    Entry,
)


def fields_of_kind(shape: type, *kinds: Comparison) -> tuple[str, ...]:
    """The names of *shape*'s fields declared with one of *kinds*, in declaration order."""
    hints = get_type_hints(shape, include_extras=True)
    return tuple(
        name
        for name, hint in hints.items()
        if any(isinstance(m, Compare) and m.kind in kinds for m in _metadata(hint))
    )


def _metadata(hint: object) -> tuple[object, ...]:
    """The ``Annotated`` metadata of *hint*, looking through ``NotRequired``/``Required``."""
    while get_origin(hint) in (NotRequired, Required):
        (hint,) = get_args(hint)
    return tuple(getattr(hint, "__metadata__", ()))
