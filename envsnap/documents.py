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
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, TypeAdapter, with_config
from pydantic.json_schema import GenerateJsonSchema

from envsnap import inspection, report
from envsnap.binfacts import buildinfo, facts
from envsnap.doctor import facts as doctor_facts
from envsnap.doctor import render as doctor_render
from envsnap.names import LOCK_NAME
from envsnap.snapshot import PlatformEntry

DRAFT = "https://json-schema.org/draft/2020-12/schema"
DOCS = Path(__file__).resolve().parent.parent / "docs"


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)


# How the documents' TypedDict shapes are read: by the same rules as the models.
SHAPES = ConfigDict(extra="forbid", strict=True)


# The documents' shapes are declared once, where they are rendered: verify's in envsnap.report,
# inspect's in envsnap.inspection and envsnap.binfacts, doctor's in envsnap.doctor. pydantic
# reads each with the documents' rules; a doctor check also carries its rule for a loud status.
SHAPED: tuple[type, ...] = (
    report.FindingDocument,
    report.ActionDocument,
    report.SeveritySummary,
    report.VerifyDocument,
    inspection.InspectFindingDocument,
    inspection.InspectDocument,
    facts.BinaryDocument,
    facts.SliceDocument,
    facts.ElfDocument,
    facts.MachoDocument,
    facts.BuildVersionDocument,
    facts.VersionMinDocument,
    facts.DylibIdDocument,
    facts.DylibDocument,
    buildinfo.GoBuildDocument,
    buildinfo.ModuleDocument,
    doctor_facts.EvidenceDocument,
    doctor_render.StatusSummary,
    doctor_render.DoctorDocument,
)
for shape in SHAPED:
    with_config(SHAPES)(shape)
with_config({**SHAPES, "json_schema_extra": doctor_facts.LOUD_CHECK})(doctor_facts.CheckDocument)


class VerifyDocument(RootModel[report.VerifyDocument]):
    """The document `envsnap verify --json` and `envsnap diff --json` print (to validate one)."""


class InspectDocument(RootModel[inspection.InspectDocument]):
    """The document `envsnap inspect --json` prints (to validate one)."""


class DoctorDocument(RootModel[doctor_render.DoctorDocument]):
    """The document `envsnap doctor --json` prints (to validate one)."""


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
    "doctor.schema.json": (
        doctor_render.DoctorDocument,
        "envsnap-doctor/1",
        "envsnap doctor --json",
    ),
    "inspect.schema.json": (
        inspection.InspectDocument,
        "envsnap-inspect/1",
        "envsnap inspect --json",
    ),
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
