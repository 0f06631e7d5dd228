"""A bill of materials from a lock entry: the module, the C libraries its cgo packages link
(each with its files), the cgo packages, the tools, and which uses which.

The entry is read as ``envsnap lock`` wrote it, already checked by the command (its digest, the
schema), and every value in it passed the lock's secret rules: nothing here needs scrubbing.
:mod:`envsnap.sbom.binary` reuses these parts for what a built binary links.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from envsnap import __version__
from envsnap.sbom import purls
from envsnap.sbom.model import Bill, Linkage, Part, Property, properties, sha256_hex
from envsnap.sbom.tools import entry_tools

SERIAL_NAMESPACE = uuid.UUID("7b0e8d3c-52a1-5b6f-9a3e-0c9f6d2e4a11")  # envsnap's own
_SHARED = re.compile(r"\.so(\.\d+)*$|\.dylib$|\.tbd$")  # a file the loader maps at run time


def serial(*seeds: str) -> uuid.UUID:
    """A UUID derived from what the document describes (entry digests, the binary's hash) and
    the envsnap that writes it: the same inputs give the same serial number."""
    return uuid.uuid5(SERIAL_NAMESPACE, "\n".join((__version__, *seeds)))


# --- libraries and cgo packages of a lock entry ------------------------------------------------


def library_ref(key: str, lib: Mapping[str, Any]) -> str:
    return f"{key}/{lib.get('found_by', 'library')}/{lib.get('name', '')}"


def linkage_of(lib: Mapping[str, Any]) -> Linkage | None:
    """dynamic when a file of the library is a shared one (``.so``, ``.dylib``, an SDK stub),
    static when its files are archives only."""
    paths = [str(f.get("path", "")) for f in lib.get("files", []) if isinstance(f, Mapping)]
    if any(_SHARED.search(path) for path in paths):
        return "dynamic"
    return "static" if paths and all(path.endswith(".a") for path in paths) else None


def _file(ref: str, section: Mapping[str, Any], role: str) -> Part:
    path = str(section.get("path", ""))
    return Part(
        f"{ref}/file:{path}",
        "file",
        path,
        sha256=sha256_hex(section.get("sha256")),
        properties=properties(file_role=role),
    )


def library_part(
    key: str, lib: Mapping[str, Any], entry: Mapping[str, Any], nix: Mapping[str, str]
) -> Part:
    ref = library_ref(key, lib)
    files = [_file(ref, f, "linked") for f in lib.get("files", []) if isinstance(f, Mapping)]
    if isinstance(lib.get("pc_file"), Mapping):
        files.append(_file(ref, lib["pc_file"], "pkg-config"))
    provider = lib.get("provider")
    purl = (
        purls.homebrew(provider)
        or purls.nix(provider, [str(lib.get("name"))], nix)
        or purls.debian(lib.get("package"), entry)
    )
    linkage = linkage_of(lib)
    return Part(
        ref,
        "library",
        str(lib.get("name", "")),
        lib.get("version"),
        purl,
        description=f"a C library the build links ({lib.get('found_by')})",
        properties=properties(
            found_by=lib.get("found_by"),
            provider=provider,
            package=lib.get("package"),
            linkage=linkage,
            error=lib.get("error"),
        ),
        files=tuple(files),
        linkage=linkage,
    )


def package_ref(key: str, path: str) -> str:
    return f"{key}/go-package/{path}"


def package_part(key: str, package: Mapping[str, Any]) -> Part:
    def words(field: str) -> str:
        return " ".join(str(word) for word in package.get(field) or [])

    return Part(
        package_ref(key, str(package.get("path", ""))),
        "library",
        str(package.get("path", "")),
        description="a Go package with cgo files",
        properties=properties(
            cgo_pkg_config=words("pkg_config"),
            cgo_cflags=words("cflags"),
            cgo_ldflags=words("ldflags"),
            cgo_cxx="true" if package.get("cxx") else None,
        ),
    )


def _package_edges(
    key: str, packages: Sequence[Part], libraries: Mapping[str, Mapping[str, Any]]
) -> list[tuple[str, tuple[str, ...]]]:
    """Each cgo package and the libraries (of *libraries*, ref → lock section) it uses."""
    edges = []
    for package in packages:
        used = sorted(
            ref for ref, lib in libraries.items() if package.name in lib.get("used_by", [])
        )
        edges.append((package.ref, tuple(used)))
    return edges


def environment(entry: Mapping[str, Any]) -> tuple[Property, ...]:
    """The locked build environment: go env's cgo settings, the build tags, the allowlisted
    variables (every one passed the lock's secret rules)."""
    go = entry.get("go") or {}
    pairs = [(f"go-env:{k}", v) for k, v in sorted((go.get("env") or {}).items())]
    pairs += [("go-tags", ",".join(go["tags"]))] if go.get("tags") else []
    pairs += [(f"env:{k}", v) for k, v in sorted((entry.get("env") or {}).items())]
    return tuple((f"envsnap:{name}", str(value)) for name, value in pairs)


# --- a lock entry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryParts:
    """What one lock entry contributes: its libraries, cgo packages, tools and edges."""

    libraries: tuple[Part, ...]
    packages: tuple[Part, ...]
    tools: tuple[Part, ...]
    depends: tuple[tuple[str, tuple[str, ...]], ...]


def entry_parts(
    key: str,
    entry: Mapping[str, Any],
    nix: Mapping[str, str],
    keep: Iterable[str] | None = None,
) -> EntryParts:
    """The parts of *entry*; with *keep*, only the libraries whose refs it names."""
    sections = {library_ref(key, lib): lib for lib in entry.get("libraries", [])}
    if keep is not None:
        wanted = set(keep)
        sections = {ref: lib for ref, lib in sections.items() if ref in wanted}
    libraries = tuple(library_part(key, lib, entry, nix) for lib in sections.values())
    cgo = (entry.get("cgo") or {}).get("packages", [])
    packages = tuple(package_part(key, p) for p in cgo if isinstance(p, Mapping))
    edges = _package_edges(key, packages, sections)
    return EntryParts(libraries, packages, tuple(entry_tools(key, entry)), tuple(edges))


def from_entry(
    key: str,
    entry: Mapping[str, Any],
    module: str,
    nix: Mapping[str, str],
    created: datetime | None = None,
) -> Bill:
    """The bill of one lock entry: the module, the libraries its cgo packages link, the tools."""
    parts = entry_parts(key, entry, nix)
    subject = Part(
        "module",
        "application",
        module,
        description=f"the Go module {module}, as envsnap.lock's {key} entry builds it",
        properties=properties(
            lock_entry=key, lock_digest=entry.get("digest"), lock_written_by=entry.get("envsnap")
        )
        + tuple(("envsnap:incomplete", str(line)) for line in entry.get("incomplete") or []),
    )
    direct = tuple(p.ref for p in (*parts.packages, *parts.libraries))
    return Bill(
        serial(str(entry.get("digest"))),
        __version__,
        subject,
        (*parts.libraries, *parts.packages),
        parts.tools,
        ((subject.ref, direct), *parts.depends),
        environment(entry),
        created,
    )
