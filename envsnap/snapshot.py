"""The stored shape of a platform entry, as strict, frozen pydantic models.

Probes build plain data (so the clean ``verify`` path needs no pydantic); these models validate
an entry before ``lock`` writes it and whenever a lock is read for more than its digest.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from envsnap.errors import LockError

Sha256 = Field(default=None, pattern=r"^sha256:[0-9a-f]{64}$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


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
    version: str
    path: str
    goroot: str
    gotoolchain: str | None = None
    env: dict[str, str]
    mod_go: str | None = None
    mod_toolchain: str | None = None
    switched_from: str | None = None  # the local go, when GOTOOLCHAIN switches the build away
    tags: list[str] | None = None  # the build tags GOFLAGS sets (a variant's included)


class Tool(Strict):
    command: str | None = None
    path: str | None = None
    realpath: str | None = None
    version: str | None = None
    sha256: str | None = Sha256
    wrapper: str | None = None
    wrapper_version: str | None = None
    error: str | None = None


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


class CgoPackage(Strict):
    path: str
    pkg_config: list[str]
    cflags: list[str]
    ldflags: list[str]
    cxx: bool | None = None  # the package has C++ files: the link runs through $CXX
    cxxflags: list[str] | None = None  # its #cgo CXXFLAGS


class CgoSection(Strict):
    packages: list[CgoPackage] = []
    package_errors: list[str] = []
    error: str | None = None


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


def validate_entry(platform: str, entry: dict[str, object]) -> PlatformEntry:
    """Check *entry* against the schema; a mismatch names the first bad field."""
    try:
        return PlatformEntry.model_validate(entry)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise LockError(
            f"the entry for {platform} does not match the lock schema at {where}: {first['msg']}",
            "run `envsnap lock` to rewrite it, or restore the file from git",
        ) from None
