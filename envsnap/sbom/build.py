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

from envsnap import __version__
from envsnap.entry import CgoPackage, Entry, FileRef, Library
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


def library_ref(key: str, lib: Library) -> str:
    return f"{key}/{lib['found_by']}/{lib['name']}"


def linkage_of(lib: Library) -> Linkage | None:
    """dynamic when a file of the library is a shared one (``.so``, ``.dylib``, an SDK stub),
    static when its files are archives only."""
    paths = [f["path"] for f in lib.get("files", [])]
    if any(_SHARED.search(path) for path in paths):
        return "dynamic"
    return "static" if paths and all(path.endswith(".a") for path in paths) else None


def _file(ref: str, section: FileRef, role: str) -> Part:
    path = section["path"]
    return Part(
        f"{ref}/file:{path}",
        "file",
        path,
        sha256=sha256_hex(section.get("sha256")),
        properties=properties(file_role=role),
    )


def library_part(key: str, lib: Library, entry: Entry, nix: Mapping[str, str]) -> Part:
    ref = library_ref(key, lib)
    files = [_file(ref, f, "linked") for f in lib.get("files", [])]
    if (pc_file := lib.get("pc_file")) is not None:
        files.append(_file(ref, pc_file, "pkg-config"))
    provider = lib["provider"]
    purl = (
        purls.homebrew(provider)
        or purls.nix(provider, [lib["name"]], nix)
        or purls.debian(lib.get("package"), entry)
    )
    linkage = linkage_of(lib)
    return Part(
        ref,
        "library",
        lib["name"],
        lib.get("version"),
        purl,
        description=f"a C library the build links ({lib['found_by']})",
        properties=properties(
            found_by=lib["found_by"],
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


def package_part(key: str, package: CgoPackage) -> Part:
    return Part(
        package_ref(key, package["path"]),
        "library",
        package["path"],
        description="a Go package with cgo files",
        properties=properties(
            cgo_pkg_config=" ".join(package["pkg_config"]),
            cgo_cflags=" ".join(package["cflags"]),
            cgo_ldflags=" ".join(package["ldflags"]),
            cgo_cxx="true" if package.get("cxx") else None,
        ),
    )


def _package_edges(
    key: str, packages: Sequence[Part], libraries: Mapping[str, Library]
) -> list[tuple[str, tuple[str, ...]]]:
    """Each cgo package and the libraries (of *libraries*, ref → lock section) it uses."""
    edges = []
    for package in packages:
        used = sorted(ref for ref, lib in libraries.items() if package.name in lib["used_by"])
        edges.append((package.ref, tuple(used)))
    return edges


def environment(entry: Entry) -> tuple[Property, ...]:
    """The locked build environment: go env's cgo settings, the build tags, the allowlisted
    variables (every one passed the lock's secret rules)."""
    go = entry["go"]
    pairs = [(f"go-env:{k}", v) for k, v in sorted(go["env"].items())]
    pairs += [("go-tags", ",".join(tags))] if (tags := go.get("tags")) else []
    pairs += [(f"env:{k}", v) for k, v in sorted(entry["env"].items())]
    return tuple((f"envsnap:{name}", value) for name, value in pairs)


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
    entry: Entry,
    nix: Mapping[str, str],
    keep: Iterable[str] | None = None,
) -> EntryParts:
    """The parts of *entry*; with *keep*, only the libraries whose refs it names."""
    sections = {library_ref(key, lib): lib for lib in entry["libraries"]}
    if keep is not None:
        wanted = set(keep)
        sections = {ref: lib for ref, lib in sections.items() if ref in wanted}
    libraries = tuple(library_part(key, lib, entry, nix) for lib in sections.values())
    packages = tuple(package_part(key, p) for p in entry["cgo"].get("packages", []))
    edges = _package_edges(key, packages, sections)
    return EntryParts(libraries, packages, tuple(entry_tools(key, entry)), tuple(edges))


def from_entry(
    key: str,
    entry: Entry,
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
            lock_entry=key, lock_digest=entry["digest"], lock_written_by=entry["envsnap"]
        )
        + tuple(("envsnap:incomplete", line) for line in entry.get("incomplete", [])),
    )
    direct = tuple(p.ref for p in (*parts.packages, *parts.libraries))
    return Bill(
        serial(entry["digest"]),
        __version__,
        subject,
        (*parts.libraries, *parts.packages),
        parts.tools,
        ((subject.ref, direct), *parts.depends),
        environment(entry),
        created,
    )
