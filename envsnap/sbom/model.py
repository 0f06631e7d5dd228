"""What a bill of materials holds before it is a CycloneDX or an SPDX document.

Plain frozen data, built from a lock entry (:mod:`envsnap.sbom.build`) and rendered by
:mod:`envsnap.sbom.cyclonedx` and :mod:`envsnap.sbom.spdx`: the subject (a module, or a built
binary), its components (the C libraries with their files, the cgo packages, a binary's Go
modules), the tools that built it, and which part depends on which. Every part has a reference
made of what it is (``linux-amd64/pkg-config/zlib``), the same from run to run: CycloneDX uses it
as the ``bom-ref``, SPDX derives its ids from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from uuid import UUID

Property = tuple[str, str]  # ("envsnap:linkage", "dynamic")
# CycloneDX's component types, which SPDX's primary package purposes mirror
PartType = Literal["application", "framework", "library", "operating-system", "file"]
Linkage = Literal["dynamic", "static"]


def properties(**values: object) -> tuple[Property, ...]:
    """``envsnap:<name>`` properties of the values that are set (``found_by`` is spelled
    ``envsnap:found-by``), in the order given."""
    return tuple(
        (f"envsnap:{name.replace('_', '-')}", str(value))
        for name, value in values.items()
        if value not in (None, "")
    )


def sha256_hex(value: object) -> str | None:
    """The hex digits of a lock's ``sha256:<hex>`` hash, as both formats write a hash."""
    text = str(value or "")
    return text.removeprefix("sha256:") if text.startswith("sha256:") else None


@dataclass(frozen=True)
class Part:
    """One component: a library, one of its files, a cgo package, a Go module or a tool."""

    ref: str
    type: PartType
    name: str
    version: str | None = None
    purl: str | None = None
    sha256: str | None = None  # hex digits, as both formats write them
    description: str | None = None
    properties: tuple[Property, ...] = ()
    files: tuple[Part, ...] = ()  # a library's files, each a part of type "file"
    linkage: Linkage | None = None  # how the subject links this library, where it is known


@dataclass(frozen=True)
class Bill:
    """The subject, what it is made of, and what made it."""

    serial: UUID  # derived from the lock entry (and the binary): the same input, the same id
    producer: str  # the envsnap version that wrote the document
    subject: Part
    components: tuple[Part, ...]
    tools: tuple[Part, ...]  # CycloneDX's formulation; SPDX's BUILD_TOOL_OF
    depends: tuple[tuple[str, tuple[str, ...]], ...]  # (ref, the refs it depends on)
    properties: tuple[Property, ...] = field(default=())  # the locked build environment
    created: datetime | None = None  # None: the document says no time (two runs, same bytes)

    def every_part(self) -> list[Part]:
        """The subject, the components with their files, and the tools."""
        parts = [self.subject]
        for part in (*self.components, *self.tools):
            parts += [part, *part.files]
        return parts
