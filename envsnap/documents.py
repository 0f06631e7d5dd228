"""The documents envsnap writes for other programs, as models: the JSON schemas come from here.

``docs/lock.schema.json`` is generated from the lock's own models (:mod:`envsnap.snapshot`);
``docs/verify.schema.json``, ``docs/doctor.schema.json`` and ``docs/inspect.schema.json`` from
the models below, which describe what ``report.render_json``, ``doctor.render.render_json`` and
``envsnap inspect --json`` print. ``scripts/gen-schemas`` (:func:`main`) rewrites the files;
``tests/test_schemas.py`` fails while one differs from what these models generate. Nothing on
the command line imports this module: it is for the schemas and their tests.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, TypeAdapter, with_config
from pydantic.config import JsonDict
from pydantic.json_schema import GenerateJsonSchema

from envsnap import report
from envsnap.inspection import InspectFindingDocument
from envsnap.names import LOCK_NAME
from envsnap.report import FindingDocument, SeveritySummary
from envsnap.snapshot import PlatformEntry

DRAFT = "https://json-schema.org/draft/2020-12/schema"
DOCS = Path(__file__).resolve().parent.parent / "docs"

Count = Annotated[int, Field(ge=0)]


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)


# How the documents' TypedDict shapes are read: by the same rules as the models.
SHAPES = ConfigDict(extra="forbid", strict=True)


# --- envsnap verify --json / envsnap diff --json ----------------------------------------------


# The verify document's shape is declared once, where it is rendered (envsnap.report); pydantic
# reads it with the documents' rules.
for shape in (FindingDocument, SeveritySummary, report.VerifyDocument, InspectFindingDocument):
    with_config(SHAPES)(shape)


class VerifyDocument(RootModel[report.VerifyDocument]):
    """The document `envsnap verify --json` and `envsnap diff --json` print (to validate one)."""


# --- envsnap inspect --json --------------------------------------------------------------------


class GoModuleFacts(Document):
    path: str
    version: str
    sum: str = ""
    replace: GoModuleFacts | None = None


class GoBuildFacts(Document):
    """The binary's Go build information, as `go version -m -json` reads it."""

    version: str = Field(description="the Go release that built it, e.g. go1.26.6")
    path: str = Field(description="the main package's import path")
    main: GoModuleFacts | None
    deps: list[GoModuleFacts]
    settings: dict[str, str] = Field(
        description="the build settings: -tags, -ldflags, -trimpath, CGO_ENABLED, CGO_CFLAGS, "
        "CGO_CPPFLAGS, CGO_CXXFLAGS, CGO_LDFLAGS (recorded only when set, and not with "
        "-trimpath), GOOS, GOARCH, GOAMD64…, vcs.revision…"
    )


class ElfFacts(Document):
    interpreter: str | None = Field(description="PT_INTERP; null for a static binary")
    needed: list[str] = Field(description="DT_NEEDED sonames, in order")
    rpath: list[str]
    runpath: list[str]
    soname: str | None
    comment: list[str] = Field(
        description="the .comment section: the compilers that compiled its objects, e.g. "
        "GCC: (Debian 12.2.0-14+deb12u1) 12.2.0"
    )
    version_needs: dict[str, list[str]] = Field(
        description=".gnu.version_r: per needed library, the symbol versions it must provide"
    )
    stripped: bool = Field(description="true when it has no symbol table (.symtab)")


class BuildVersionFacts(Document):
    """LC_BUILD_VERSION; versions as otool prints them (X.Y, or X.Y.Z; n/a for 0)."""

    platform: str = Field(examples=["macos", "ios", "maccatalyst"])
    minos: str = Field(description="the minimum OS version it runs on")
    sdk: str = Field(description="the SDK version it was linked against")
    tools: list[dict[str, str]] = Field(
        description="{tool, version}: ld is Apple's linker; empty when Go's own linker linked it"
    )


class VersionMinFacts(Document):
    """LC_VERSION_MIN_MACOSX (or _IPHONEOS, _TVOS, _WATCHOS): older binaries."""

    platform: str
    version: str
    sdk: str


class DylibId(Document):
    name: str
    current_version: str
    compatibility_version: str


class DylibFacts(DylibId):
    kind: Literal["load", "weak", "reexport", "lazy", "upward"]


class MachoFacts(Document):
    filetype: str = Field(examples=["execute", "dylib", "bundle"])
    build_version: BuildVersionFacts | None
    version_min: VersionMinFacts | None
    id: DylibId | None = Field(description="LC_ID_DYLIB, for a dylib")
    dylibs: list[DylibFacts] = Field(description="LC_LOAD_DYLIB and its kin, in order")
    rpaths: list[str]


class SliceFacts(Document):
    """One architecture of the file (an ELF file and a thin Mach-O have one)."""

    format: Literal["elf", "macho"]
    goos: str
    goarch: str
    platform: str = Field(description="GOOS-GOARCH: the lock entry this slice is compared with")
    cpu: str = Field(description="the architecture as the format names it: x86_64, arm64…")
    go: GoBuildFacts | None = Field(description="null when it has no Go build information")
    go_error: str = Field(
        default="", description="why the Go build information could not be read; absent when fine"
    )
    elf: ElfFacts | None
    macho: MachoFacts | None


class BinaryFacts(Document):
    path: str = Field(description="the path as given")
    format: Literal["elf", "macho", "macho-fat"]
    slices: list[SliceFacts]
    entries: list[str] = Field(
        default=[],
        description="compared only: the lock entry each slice was compared with, in slice order",
    )


class InspectDocument(Document):
    """The document `envsnap inspect --json` prints; with --show, only schema and binaries."""

    schema_id: Literal["envsnap-inspect/1"] = Field(alias="schema")
    binaries: list[BinaryFacts]
    against: str = Field(default="", description="compared only: the lock, e.g. envsnap.lock")
    strict: bool = False
    ok: bool = True
    exit_code: Literal[0, 1] = 0
    summary: SeveritySummary | None = None
    findings: list[InspectFindingDocument] = []


# --- envsnap doctor --json ----------------------------------------------------------------------

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

# A problem or a warning always shows its evidence and says what to do.
_LOUD_CHECK: JsonDict = {
    "allOf": [
        {
            "if": {"properties": {"status": {"enum": ["warning", "problem"]}}},
            "then": {"properties": {"fix": {"minLength": 1}, "evidence": {"minItems": 1}}},
        }
    ]
}


class Evidence(Document):
    kind: Literal["command", "file", "environment", "derived"]
    source: str = Field(
        min_length=1,
        description="The command line (kind command), the file (file), the variable or PATH "
        "(environment), or what was derived (derived).",
    )
    exit_code: int | None = Field(
        default=None,
        description="The command's exit status; null or absent when it could not run.",
    )
    lines: list[str]


class Check(Document):
    model_config = ConfigDict(json_schema_extra=_LOUD_CHECK)

    id: str = Field(
        pattern=r"^[a-z]+\.[a-z0-9-]+$",
        description="The check, `<layer>.<name>`. New checks may appear within "
        "envsnap-doctor/1: ignore ids you do not know. docs/doctor.md describes each.",
        examples=list(CHECK_IDS),
    )
    title: str = Field(min_length=1)
    status: Literal["ok", "warning", "problem", "skipped"]
    summary: str = Field(min_length=1)
    evidence: list[Evidence]
    fix: str


class StatusSummary(Document):
    problem: Count
    warning: Count
    ok: Count
    skipped: Count


class DoctorDocument(Document):
    """The document `envsnap doctor --json` prints. See docs/doctor.md."""

    schema_id: Literal["envsnap-doctor/1"] = Field(alias="schema")
    directory: str = Field(
        description="The directory doctor was pointed at, as the probed host sees it (a replay "
        "shows the recorded one)."
    )
    module_root: str | None = Field(
        description="The nearest directory at or above `directory` with a go.mod; null when "
        "there is none."
    )
    module_path: str | None = Field(
        description="The `module` line of that go.mod; null without one."
    )
    platform: Annotated[str, Field(pattern=r"^[a-z0-9]+-[a-z0-9]+$")] | None = Field(
        description="GOOS-GOARCH from go env; null when go env cannot be read."
    )
    ok: bool = Field(description="True when no check is a problem.")
    exit_code: Literal[0, 1]
    summary: StatusSummary
    checks: list[Check]


# --- envsnap.lock ---------------------------------------------------------------------------


class LockDocument(Document):
    """envsnap.lock, read as TOML: the schema version and one entry per platform key
    (GOOS-GOARCH, or GOOS-GOARCH+variant for a build variant). See docs/lock-format.md."""

    schema_id: Literal[1] = Field(alias="schema")
    envsnap_min: str | None = Field(
        default=None,
        pattern=r"^\d+\.\d+(\.\d+)?$",
        description="the oldest envsnap that can read this lock (absent: 0.1.0)",
    )
    platforms: dict[str, PlatformEntry] = {}


# --- generation ---------------------------------------------------------------------------------


class _Schema(GenerateJsonSchema):
    """pydantic's generator without a title on every property (the names say it)."""

    def field_title_should_be_set(self, schema: object) -> bool:
        return False


SCHEMAS: dict[str, tuple[type, str, str]] = {
    "lock.schema.json": (LockDocument, "envsnap-lock/1", LOCK_NAME),
    "verify.schema.json": (
        report.VerifyDocument,
        "envsnap-verify/1",
        "envsnap verify --json / envsnap diff --json",
    ),
    "doctor.schema.json": (DoctorDocument, "envsnap-doctor/1", "envsnap doctor --json"),
    "inspect.schema.json": (InspectDocument, "envsnap-inspect/1", "envsnap inspect --json"),
}


def json_schema(shape: type, schema_id: str, title: str) -> dict[str, object]:
    """The schema of a document *shape* (a model, or a TypedDict read with :data:`SHAPES`)."""
    generated = TypeAdapter(shape).json_schema(by_alias=True, schema_generator=_Schema)
    generated["title"] = title
    return {"$schema": DRAFT, "$id": schema_id, **generated}


def generated() -> dict[str, str]:
    """Each schema file's name and the text it must have."""
    return {
        name: json.dumps(json_schema(*spec), indent=2, ensure_ascii=False) + "\n"
        for name, spec in SCHEMAS.items()
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Write the schemas into docs/ (or the directory given); ``--check`` writes nothing and
    exits 1 when a file differs."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    folder = Path(next((a for a in args if a != "--check"), DOCS))
    stale = []
    for name, text in generated().items():
        path = folder / name
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(name)
        if not check:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    verb = "differs" if check else "written"
    for name in stale:
        sys.stderr.write(f"{folder / name}: {verb}\n")
    return 1 if check and stale else 0
