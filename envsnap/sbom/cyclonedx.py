"""A bill as a CycloneDX 1.6 JSON document, made and checked by cyclonedx-python-lib.

The subject is ``metadata.component``, envsnap is ``metadata.tools``, the libraries (each with
its files as nested ``file`` components), cgo packages and Go modules are ``components``, and the
tools that built the subject are the components of the document's ``formulation``, which
cyclonedx-python-lib does not model: they are made with its ``Component`` and serialised by it,
then set in place. The whole document is then held to the CycloneDX 1.6 schema by the library's
own strict validator before it is returned.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from envsnap.entry import JsonObject
from envsnap.sbom.model import Bill, Part

if TYPE_CHECKING:
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component

FORMULATION_REF = "formulation"
VERSION_MAX = 1024  # the schema's limit; a longer one is kept whole in a property
# The document's keys in the order the specification lists them (the library sorts them).
ORDER = (
    "$schema",
    "bomFormat",
    "specVersion",
    "serialNumber",
    "version",
    "metadata",
    "components",
    "formulation",
    "dependencies",
)


class InvalidDocument(AssertionError):
    """The document envsnap made does not pass the format's own validator: a bug of envsnap."""


def component(part: Part) -> Component:
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.component import Component, ComponentType
    from packageurl import PackageURL

    properties = list(part.properties)
    version = part.version
    if version is not None and len(version) > VERSION_MAX:
        properties.append(("envsnap:version", version))
        version = None
    return Component(
        name=part.name,
        type=ComponentType(part.type),
        bom_ref=part.ref,
        version=version,
        description=part.description,
        purl=PackageURL.from_string(part.purl) if part.purl else None,
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=part.sha256)] if part.sha256 else [],
        properties=[Property(name=name, value=value) for name, value in properties],
        components=[component(file) for file in part.files],
    )


def _producer(version: str) -> Component:
    from cyclonedx.model.component import Component, ComponentType

    return Component(
        name="envsnap",
        version=version,
        type=ComponentType.APPLICATION,
        bom_ref=f"envsnap@{version}",
        description="locks, verifies and describes the cgo toolchain a Go module builds with",
    )


def _bom(bill: Bill) -> Bom:
    from datetime import UTC, datetime

    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.tool import ToolRepository

    subject = component(bill.subject)
    metadata = BomMetaData(
        component=subject,
        tools=ToolRepository(components=[_producer(bill.producer)]),
        timestamp=bill.created or datetime(1970, 1, 1, tzinfo=UTC),  # dropped when None
    )
    bom = Bom(serial_number=bill.serial, metadata=metadata)
    made = {bill.subject.ref: subject}
    for part in bill.components:
        made[part.ref] = component(part)
        bom.components.add(made[part.ref])
    for ref, targets in bill.depends:
        bom.register_dependency(made[ref], [made[t] for t in targets if t in made])
    return bom


def _formulation(bill: Bill) -> list[JsonObject]:
    from cyclonedx.schema.schema import SchemaVersion1Dot6

    formula: JsonObject = {"bom-ref": FORMULATION_REF}
    formula["components"] = [
        json.loads(component(tool).as_json(view_=SchemaVersion1Dot6))  # type: ignore[attr-defined]
        for tool in bill.tools
    ]
    if bill.properties:
        formula["properties"] = [{"name": n, "value": v} for n, v in bill.properties]
    return [formula]


def render(bill: Bill) -> str:
    """The CycloneDX 1.6 JSON text of *bill*, validated."""
    import warnings

    from cyclonedx.output.json import JsonV1Dot6

    with warnings.catch_warnings():  # its remarks on odd values: the validator below judges
        warnings.simplefilter("ignore")
        document = json.loads(JsonV1Dot6(_bom(bill)).output_as_string())
    if bill.created is None:
        del document["metadata"]["timestamp"]
    document["formulation"] = _formulation(bill)
    ordered = {key: document[key] for key in ORDER if key in document}
    text = json.dumps({**ordered, **document}, indent=2, ensure_ascii=False) + "\n"
    validate(text)
    return text


def validate(text: str) -> None:
    """Hold *text* to the CycloneDX 1.6 JSON schema (cyclonedx-python-lib's strict validator)."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        raise InvalidDocument(f"the CycloneDX document is invalid: {str(error)[:300]}")
