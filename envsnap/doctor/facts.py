"""What doctor's checks read (:class:`Facts`) and write (:class:`Check`), and helpers they share."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Literal, NotRequired, TypeAlias

from envsnap import gomod
from envsnap.entry import AppleSection, Doc, Examples, JsonObject, NotEmpty, Pattern

if sys.version_info >= (3, 12):
    from typing import TypedDict
else:  # as envsnap.entry: pydantic validates only typing_extensions' TypedDict before 3.12
    from typing_extensions import TypedDict

Status = Literal["ok", "warning", "problem", "skipped"]
STATUS_ORDER: tuple[Status, ...] = ("problem", "warning", "ok", "skipped")
EvidenceKind = Literal["command", "file", "environment", "derived"]
# One package as `go list -json` prints it: free-form JSON, read through the helpers below
GoPackage: TypeAlias = JsonObject


# The check ids doctor knows today (the schema's examples; docs/doctor.md describes each).
CHECK_IDS = (
    "module.gomod",
    "module.gopath-mode",
    "module.gopath-path",
    "module.import-path",
    "module.requirements",
    "module.replace",
    "module.test-cycle",
    "module.packages",
    "go.toolchain",
    "cgo.enabled",
    "cgo.cc",
    "cgo.pkg-config",
    "cgo.libraries",
    "cgo.library-prefix",
    "cgo.env-flags-vendor",
    "macos.developer-dir",
    "macos.sdk",
    "macos.clt-xcode",
    "macos.nix-paths",
    "lock.verify",
)


class EvidenceDocument(TypedDict):
    # an Evidence in doctor's JSON document
    kind: EvidenceKind
    source: Annotated[
        str,
        NotEmpty(),
        Doc(
            "The command line (kind command), the file (file), the variable or PATH "
            "(environment), or what was derived (derived)."
        ),
    ]
    exit_code: NotRequired[
        Annotated[
            int | None, Doc("The command's exit status; null or absent when it could not run.")
        ]
    ]
    lines: list[str]


class CheckDocument(TypedDict):
    # a Check in doctor's JSON document; a problem or a warning also obeys LOUD_CHECK
    id: Annotated[
        str,
        Pattern(r"^[a-z]+\.[a-z0-9-]+$"),
        Doc(
            "The check, `<layer>.<name>`. New checks may appear within envsnap-doctor/1: ignore "
            "ids you do not know. docs/doctor.md describes each."
        ),
        Examples(CHECK_IDS),
    ]
    title: Annotated[str, NotEmpty()]
    status: Status
    summary: Annotated[str, NotEmpty()]
    evidence: list[EvidenceDocument]
    fix: str


# A problem or a warning always shows its evidence and says what to do (in JSON schema terms,
# added to CheckDocument's schema).
LOUD_CHECK: JsonObject = {
    "allOf": [
        {
            "if": {"properties": {"status": {"enum": ["warning", "problem"]}}},
            "then": {"properties": {"fix": {"minLength": 1}, "evidence": {"minItems": 1}}},
        }
    ]
}


@dataclass(frozen=True)
class Check:
    """One diagnosis: its id, status, a one-line summary, the evidence and the fix."""

    id: str
    title: str
    status: Status
    summary: str
    evidence: tuple[Evidence, ...] = ()
    fix: str = ""

    def to_json(self) -> CheckDocument:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "summary": self.summary,
            "evidence": [e.to_json() for e in self.evidence],
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Evidence:
    """Where a conclusion comes from: a command and the lines of its output that show it."""

    kind: EvidenceKind
    source: str  # the command line, the file (with line number), or the variable
    lines: tuple[str, ...] = ()
    exit_code: int | None = None

    def to_json(self) -> EvidenceDocument:
        lines = list(self.lines)
        if self.exit_code is None:
            return {"kind": self.kind, "source": self.source, "lines": lines}
        return {
            "kind": self.kind,
            "source": self.source,
            "exit_code": self.exit_code,
            "lines": lines,
        }


@dataclass(frozen=True)
class Facts:
    """Everything the checks look at, gathered once through the Host."""

    system: str
    directory: str
    module_root: str | None
    go_path: str | None  # the go executable, None when go is not on PATH
    go_env: dict[str, str]
    go_env_run: Ran | None
    gotoolchain: str | None
    gotoolchain_source: str
    go_mod: str | None  # go.mod's text
    list_module: Ran | None  # go list -m
    listing: Ran | None  # CGO_ENABLED=1 go list -e -deps -json ./...
    packages: tuple[GoPackage, ...] = ()
    test_listing: Ran | None = None  # go list -e -test -deps -json ./...
    test_packages: tuple[GoPackage, ...] = ()
    environ: dict[str, str | None] = field(default_factory=dict)
    cc_command: str = ""
    cc_path: str | None = None
    unsplittable: str = ""  # why go cannot split CC or a CGO_*FLAGS variable into words
    replacements: tuple[Replacement, ...] = ()
    vendored: bool = False
    linked: tuple[LinkedLibrary, ...] = ()
    pkg_config: str = "pkg-config"
    pkg_config_modules: tuple[PkgConfigModule, ...] = ()
    linker_search_known: bool = True  # False: the compiler could not say where the linker looks
    apple: AppleFacts | None = None
    lock: tuple[LockSummary, ...] = ()  # verify's conclusion per variant; none: no lock
    # why the toolchain go.mod switches to is not on this machine ("" when it is, or none)
    switch_missing: str = ""

    @property
    def module_path(self) -> str | None:
        return gomod.parse(self.go_mod).module if self.go_mod is not None else None

    @property
    def cgo_packages(self) -> list[GoPackage]:
        return [p for p in self.packages if not p.get("Standard") and p.get("CgoFiles")]

    @property
    def listed(self) -> bool:
        return self.listing is not None and self.listing.ok and bool(self.packages)


@dataclass(frozen=True)
class Ran:
    """A command doctor ran through the Host, or why it could not run (``failure``)."""

    shown: str  # the command line as a user would type it
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    failure: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def ran(self) -> bool:
        return self.returncode is not None

    def evidence(self, lines: Iterable[str] | None = None, limit: int = 6) -> Evidence:
        """This command with the chosen lines (default: the last lines of stderr, else stdout)."""
        if lines is None:
            lines = (
                tail(self.stderr) or tail(self.stdout) or ([self.failure] if self.failure else [])
            )
        return Evidence("command", self.shown, tuple(list(lines)[:limit]), self.returncode)


def tail(text: str, count: int = 4) -> list[str]:
    return [line for line in text.strip().splitlines() if line.strip()][-count:]


@dataclass(frozen=True)
class Replacement:
    """A ``replace`` directive of go.mod whose target is a local directory."""

    line_number: int
    line: str
    target: str  # as written
    directory: str  # resolved against the module root
    has_go_mod: bool
    exists: bool


@dataclass(frozen=True)
class LinkedLibrary:
    """Where one ``-l`` library of a cgo package resolves, with the flags that chose it."""

    package: str
    name: str
    flags: tuple[str, ...]  # the package's #cgo CFLAGS/CPPFLAGS/LDFLAGS as go list gives them
    searched: tuple[str, ...]  # -L dirs (CGO_LDFLAGS first), then the linker's default dirs
    resolved: str | None
    header_prefixes: tuple[str, ...] = ()  # realpaths of the prefixes the -I flags name
    copies_in_prefixes: tuple[str, ...] = ()  # the library as found inside those prefixes
    resolved_real: str | None = None

    @property
    def shown(self) -> str:
        """``-lfoo``, or the file itself when the flags name one (``:…``, FIELD-GUIDE §5.4)."""
        return self.name[1:] if self.name.startswith(":") else f"-l{self.name}"


@dataclass(frozen=True)
class PkgConfigModule:
    """A ``#cgo pkg-config:`` module and how pkg-config answered for it."""

    name: str
    used_by: tuple[str, ...]
    modversion: Ran
    missing_libraries: tuple[str, ...] = ()  # what `pkg-config --libs` names, found nowhere
    libs: Ran | None = None


@dataclass(frozen=True)
class AppleFacts:
    """The macOS developer tools as the apple probe and a few extra reads see them."""

    section: AppleSection  # probe_apple's section
    os_version: str | None
    xcode_select: Ran | None
    compiler_run: Ran | None
    clt_sdk: Sdk | None
    xcode_sdk: Sdk | None
    clt_receipt: Ran | None
    environ: dict[str, str | None]  # DEVELOPER_DIR, SDKROOT, IN_NIX_SHELL, MACOSX_DEPLOYMENT_TARGET
    store_paths_exist: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Sdk:
    """An SDK directory and the version its SDKSettings.json states."""

    path: str
    version: str | None


@dataclass(frozen=True)
class LockSummary:
    """What ``envsnap verify`` concludes, in one line."""

    line: str
    errors: int = 0
    warnings: int = 0
    unusable: bool = False
    subjects: tuple[str, ...] = ()
    variant: str | None = None  # the build variant, when envsnap.toml declares variants


# --- helpers the checks share ---------------------------------------------------------------


def strings(data: JsonObject, key: str) -> list[str]:
    """The list of strings *data* holds at *key* (go list's CgoFiles, ImportStack…): each item
    as text; none when it is absent or not a list."""
    value = data.get(key)
    return [str(item) for item in value] if isinstance(value, list) else []


def package_error(pkg: GoPackage) -> JsonObject | None:
    """The package's own ``Error`` object, or None."""
    error = pkg.get("Error")
    return error if isinstance(error, dict) else None


def package_errors(pkg: GoPackage) -> list[JsonObject]:
    """The package's ``Error``, then its ``DepsErrors`` (the objects among them)."""
    own = package_error(pkg)
    deps = pkg.get("DepsErrors")
    found = [e for e in deps if isinstance(e, dict)] if isinstance(deps, list) else []
    return ([own] if own is not None else []) + found


def skipped(check_id: str, title: str, why: str, *evidence: Evidence) -> Check:
    return Check(check_id, title, "skipped", why, tuple(evidence))


def listing_unavailable(facts: Facts, check_id: str, title: str) -> Check | None:
    """A skipped check when the package listing could not be read, else None."""
    if facts.listing is None:
        return skipped(check_id, title, "go is not available, so the packages cannot be listed")
    if not facts.listing.ok:
        return skipped(
            check_id,
            title,
            "`go list` failed, so the packages are unknown",
            facts.listing.evidence(),
        )
    return None


def go_env_evidence(facts: Facts, *keys: str) -> Evidence:
    lines = tuple(f"{key}={facts.go_env.get(key, '')}" for key in keys)
    source = facts.go_env_run.shown if facts.go_env_run else "go env"
    return Evidence(
        "command", source, lines, facts.go_env_run.returncode if facts.go_env_run else None
    )


def go_mod_evidence(facts: Facts, pattern: str) -> Evidence:
    text = facts.go_mod or ""
    lines = [
        f"{n}: {line}"
        for n, line in enumerate(text.splitlines(), start=1)
        if re.match(pattern, line.strip())
    ]
    return Evidence("file", f"{facts.module_root}/go.mod", tuple(lines))


def is_under(path: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/") or "/"
    return path == prefix or path.startswith(prefix + "/") or prefix == "/"


def plural(count: int, noun: str, nouns: str = "") -> str:
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def names(items: Sequence[str]) -> str:
    return ", ".join(f"`{i}`" for i in items)
