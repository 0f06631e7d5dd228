"""A bill as an SPDX 2.3 JSON document, made, checked and written by spdx-tools.

Every part is a package: the subject (which the document DESCRIBES), each library (the subject
DYNAMIC_LINKs or STATIC_LINKs it, where the linkage is known, else DEPENDS_ON it; the cgo
packages that use it DEPEND_ON it), each of its files (a package of purpose FILE that the
library CONTAINS: SPDX's file elements must carry a SHA-1, and a lock records SHA-256), each cgo
package and Go module, and each tool (BUILD_TOOL_OF the subject). envsnap's properties are the
package's comment, one ``name: value`` per line. The document is held to spdx-tools' own
validator before it is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from envsnap.sbom.model import Bill, Part

if TYPE_CHECKING:
    from spdx_tools.spdx.model.document import Document
    from spdx_tools.spdx.model.package import Package, PackagePurpose
    from spdx_tools.spdx.model.relationship import Relationship

SPDX_VERSION = "SPDX-2.3"
DOCUMENT_ID = "SPDXRef-DOCUMENT"
NO_TIME = datetime(1970, 1, 1)  # SPDX needs a time; this one says "not recorded"
LINKS = {"dynamic": "DYNAMIC_LINK", "static": "STATIC_LINK"}


class InvalidDocument(AssertionError):
    """The document envsnap made does not pass the format's own validator: a bug of envsnap."""


def spdx_ids(parts: list[Part]) -> dict[str, str]:
    """An SPDX id for each part's ref (``SPDXRef-`` then letters, digits, ``.`` and ``-``),
    made unique in order."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for part in parts:
        base = "SPDXRef-" + (re.sub(r"[^A-Za-z0-9.]+", "-", part.ref).strip("-") or "part")
        spdx_id, number = base, 1
        while spdx_id in taken:
            number += 1
            spdx_id = f"{base}-{number}"
        taken.add(spdx_id)
        ids.setdefault(part.ref, spdx_id)
    return ids


def _purpose(part: Part) -> PackagePurpose:
    from spdx_tools.spdx.model.package import PackagePurpose

    return PackagePurpose[part.type.upper().replace("-", "_")]


def package(part: Part, spdx_id: str) -> Package:
    from spdx_tools.spdx.model.checksum import Checksum, ChecksumAlgorithm
    from spdx_tools.spdx.model.package import (
        ExternalPackageRef,
        ExternalPackageRefCategory,
        Package,
    )
    from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion

    purl = ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", part.purl or "")
    return Package(
        spdx_id,
        part.name,
        SpdxNoAssertion(),
        version=part.version,
        file_name=part.name if part.type == "file" else None,
        files_analyzed=False,
        checksums=[Checksum(ChecksumAlgorithm.SHA256, part.sha256)] if part.sha256 else [],
        description=part.description,
        comment="\n".join(f"{name}: {value}" for name, value in part.properties) or None,
        external_references=[purl] if part.purl else [],
        primary_package_purpose=_purpose(part),
    )


def _edges(bill: Bill) -> Iterator[tuple[str, str, str]]:
    """(ref, relationship, ref) of the document, DESCRIBES aside."""
    linkage = {part.ref: part.linkage for part in bill.components}
    for part in bill.components:
        yield from ((part.ref, "CONTAINS", file.ref) for file in part.files)
    for ref, targets in bill.depends:
        for target in targets:
            how = LINKS.get(str(linkage.get(target))) if ref == bill.subject.ref else None
            yield ref, how or "DEPENDS_ON", target
    yield from ((tool.ref, "BUILD_TOOL_OF", bill.subject.ref) for tool in bill.tools)


def relationships(bill: Bill, ids: dict[str, str]) -> list[Relationship]:
    from spdx_tools.spdx.model.relationship import Relationship, RelationshipType

    found = [Relationship(DOCUMENT_ID, RelationshipType.DESCRIBES, ids[bill.subject.ref])]
    for source, how, target in _edges(bill):
        if source in ids and target in ids:
            found.append(Relationship(ids[source], RelationshipType[how], ids[target]))
    return found


def document(bill: Bill) -> Document:
    from spdx_tools.spdx.model.actor import Actor, ActorType
    from spdx_tools.spdx.model.document import CreationInfo, Document

    parts = bill.every_part()
    ids = spdx_ids(parts)
    info = CreationInfo(
        SPDX_VERSION,
        DOCUMENT_ID,
        bill.subject.name,
        f"urn:uuid:{bill.serial}",
        [Actor(ActorType.TOOL, f"envsnap-{bill.producer}")],
        bill.created or NO_TIME,
    )
    packages = [package(part, ids[part.ref]) for part in parts]
    return Document(info, packages=packages, relationships=relationships(bill, ids))


def render(bill: Bill) -> str:
    """The SPDX 2.3 JSON text of *bill*, validated."""
    from spdx_tools.spdx.jsonschema.document_converter import DocumentConverter
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    made = document(bill)
    problems = validate_full_spdx_document(made)
    if problems:
        shown = "; ".join(p.validation_message[:200] for p in problems[:3])
        raise InvalidDocument(f"the SPDX document is invalid: {shown}")
    converted = DocumentConverter().convert(made)  # type: ignore[no-untyped-call]
    return json.dumps(converted, indent=2, ensure_ascii=False) + "\n"
