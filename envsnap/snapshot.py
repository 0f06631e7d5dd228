"""The stored shape of a platform entry, as strict, frozen pydantic models.

Probes build plain data (so the clean ``verify`` path needs no pydantic); these models validate
an entry before ``lock`` writes it (strictly: a field the models lack is a bug of envsnap) and
whenever a lock is read for more than its digest. A lock may hold fields that a newer envsnap
added under the same schema: reading keeps them in the file but leaves them out of every
comparison (:func:`known_part`).
"""

from __future__ import annotations

import types
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from envsnap.errors import LockError

Sha256 = Field(default=None, pattern=r"^sha256:[0-9a-f]{64}$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# What a field is for comparison (drift reads it; the lock schema shows it as "compare"):
# identity   what makes the thing the same thing (a real path, a hash);
# version    the release it is (part of its identity too);
# presentation  how this machine reached it (a path through a symlink or PATH, the command
#               that named it): a difference here alone, with the same identity, is info.
# Fields without a kind are values: any difference is a drift, as its rule says.
Comparison = Literal["identity", "version", "presentation"]


def compared_as(kind: Comparison, **field: Any) -> Any:
    """A field declared with its comparison kind (default None, as optional fields are)."""
    field.setdefault("default", None)
    return Field(json_schema_extra={"compare": kind}, **field)


def fields_of_kind(model: type[BaseModel], *kinds: Comparison) -> tuple[str, ...]:
    """The names of *model*'s fields declared with one of *kinds*, in declaration order."""
    found = []
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and extra.get("compare") in kinds:
            found.append(name)
    return tuple(found)


class OsSection(Strict):
    goos: str
    goarch: str
    name: str | None = None
    version: str | None = None
    build: str | None = None
    id: str | None = None
    version_id: str | None = None
    glibc: str | None = None
    error: str | None = None


class GoSection(Strict):
    version: str = compared_as("version", default=...)
    path: str = compared_as("presentation", default=...)
    goroot: str = compared_as("presentation", default=...)
    gotoolchain: str | None = None
    env: dict[str, str]
    mod_go: str | None = None
    mod_toolchain: str | None = None
    switched_from: str | None = None  # the local go, when GOTOOLCHAIN switches the build away
    tags: list[str] | None = None  # the build tags GOFLAGS sets (a variant's included)
    # the go.work the build used, relative to the module ("../go.work"); absent outside a workspace
    workspace: str | None = None


class Tool(Strict):
    command: str | None = compared_as("presentation")
    path: str | None = compared_as("presentation")
    realpath: str | None = compared_as("identity")
    version: str | None = compared_as("version")
    sha256: str | None = compared_as("identity", pattern=r"^sha256:[0-9a-f]{64}$")
    wrapper: str | None = None
    wrapper_version: str | None = None
    error: str | None = None
    # the package that owns the file ("gcc-12 12.2.0-14", dpkg's name and version; a Nix store
    # path's name); absent where no package manager says
    package: str | None = compared_as("version")


class CcSection(Strict):
    compiler: Tool
    linker: Tool
    cxx: Tool | None = None  # the C++ compiler, when a cgo package has C++ files


class AppleSection(Strict):
    developer_dir: str | None = None
    developer_dir_source: str | None = None
    developer_dir_realpath: str | None = None  # the real directory behind developer_dir
    developer_dir_kind: str | None = None
    has_xcrun: bool | None = None
    clt_version: str | None = None
    sdk_source: str | None = None
    sdk_path: str | None = None
    sdk_realpath: str | None = None
    sdk_version: str | None = None
    sdk_name: str | None = None
    sdk_build: str | None = None
    sdk_error: str | None = None
    sdk_beta: bool | None = None  # its build is a seed's (trailing lowercase letter)
    xcode_version: str | None = None
    xcode_build: str | None = None
    xcode_beta: bool | None = None  # a beta Xcode (by its app's name or its beta SDK)
    error: str | None = None


class FileRef(Strict):
    path: str
    sha256: str | None = Sha256


class Library(Strict):
    name: str
    found_by: Literal["pkg-config", "ldflags"]
    provider: str
    used_by: list[str]
    version: str | None = None
    pc_file: FileRef | None = None
    files: list[FileRef] = []
    error: str | None = None
    # the package that owns its files ("zlib1g-dev 1:1.2.13.dfsg-1", dpkg's name and version;
    # a Nix store path's name); absent where no package manager says
    package: str | None = None


class CgoPackage(Strict):
    path: str
    pkg_config: list[str]
    cflags: list[str]
    ldflags: list[str]
    cxx: bool | None = None  # the package has C++ files: the link runs through $CXX
    cxxflags: list[str] | None = None  # its #cgo CXXFLAGS


class CgoSection(Strict):
    packages: list[CgoPackage] = []
    # what go list could not load, one line per cause (lock --allow-incomplete)
    package_errors: list[str] = []
    error: str | None = None
    # envsnap.toml's package patterns; absent: the whole module (./...), nothing excluded
    include: list[str] | None = None
    exclude: list[str] | None = None


class PlatformEntry(Strict):
    envsnap: str
    digest: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    os: OsSection
    go: GoSection
    cc: CcSection
    env: dict[str, str]
    cgo: CgoSection
    libraries: list[Library]
    apple: AppleSection | None = None
    # the probes that failed when it was written (lock --allow-incomplete); absent when none did
    incomplete: list[str] | None = None
    variant: str | None = None  # the build variant's name; absent for the default variant


def _model_in(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model a field holds (itself, optional, or as list items), and whether in a list."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = get_origin(annotation)
    if origin is list:
        return _model_in(get_args(annotation)[0])[0], True
    if origin in (Union, types.UnionType):
        for arg in get_args(annotation):
            model, many = _model_in(arg)
            if model is not None:
                return model, many
    return None, False


def _known(model: type[BaseModel], data: Any, where: str, unknown: list[str]) -> Any:
    if not isinstance(data, dict):
        return data  # a wrong type: validation names it
    kept: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else key
        field = model.model_fields.get(key)
        if field is None:
            unknown.append(path)
            continue
        inner, many = _model_in(field.annotation)
        if inner is not None and many and isinstance(value, list):
            kept[key] = [_known(inner, item, path, unknown) for item in value]
        elif inner is not None and not many:
            kept[key] = _known(inner, value, path, unknown)
        else:
            kept[key] = value
    return kept


def known_part(entry: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """*entry* without the fields this envsnap's models lack, and the dotted paths of those
    (a field of a library or package is named once, without the item: ``libraries.foo``)."""
    unknown: list[str] = []
    known = _known(PlatformEntry, entry, "", unknown)
    return known, list(dict.fromkeys(unknown))


def validate_entry(platform: str, entry: dict[str, Any], *, strict: bool = False) -> PlatformEntry:
    """Check *entry* against the schema; a mismatch names the first bad field. Unknown fields
    are left out unless *strict* (an entry this envsnap is about to write)."""
    try:
        return PlatformEntry.model_validate(entry if strict else known_part(entry)[0])
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise LockError(
            f"the entry for {platform} does not match the lock schema at {where}: {first['msg']}",
            "run `envsnap lock` to rewrite it, or restore the file from git",
        ) from None
