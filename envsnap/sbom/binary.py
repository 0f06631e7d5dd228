"""A bill of materials of a built binary: the libraries it loads, the Go modules it holds, the
tools that built it, each slice described by the lock entry ``envsnap inspect`` compared it with.

Which locked library provides each library a slice loads is inspect's own answer
(:func:`envsnap.inspection.loaded_libraries`); a library no locked one provides (the C runtime, a
system dylib, another version) is listed by the name the binary gives, without hashes. A tool
inspect found to differ from the lock (another Go, another compiler, another SDK) is described
as the binary names it, not as the lock does. What the binary says is free text a build may
have filled with anything: its build settings are scrubbed (:func:`envsnap.redact.scrub`), paths
under ``$HOME`` become ``~/…``, and the free-form flag settings are left out.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from envsnap import __version__
from envsnap.binfacts.buildinfo import GoBuild, Module
from envsnap.binfacts.facts import Slice
from envsnap.drift import Finding, library_key
from envsnap.entry import Entry, GoSection
from envsnap.inspection import loaded_libraries
from envsnap.redact import scrub_message
from envsnap.sbom import purls
from envsnap.sbom.build import EntryParts, entry_parts, library_ref, linkage_of, serial
from envsnap.sbom.model import Bill, Part, Property
from envsnap.sbom.tools import go_part, program_and_release

# (finding id, or the prefix of its ids; the tool it names)
TOOL_FINDINGS = (
    ("go.version", "go"),
    ("cc.compiler", "compiler"),
    ("cc.linker", "linker"),
    ("apple.sdk_version", "sdk"),
)
# Free-form flags a build may pass anything in (-ldflags "-X main.key=…"): not listed.
UNLISTED_SETTINGS = frozenset({"-ldflags", "-gcflags", "-asmflags"})
FAILING = ("error", "warning")


@dataclass(frozen=True)
class CheckedSlice:
    """One slice of a binary and what inspect concluded against its lock entry."""

    piece: Slice
    key: str  # the entry it was compared with (or its platform, when the lock has none)
    entry: Entry | None
    findings: tuple[Finding, ...]


def private(text: str) -> str:
    """*text* as envsnap may print it: secrets scrubbed, the home folder spelled ``~``."""
    home = os.path.expanduser("~")
    if home not in ("", "/", "~"):
        text = text.replace(home + "/", "~/")
    return scrub_message(text)


# --- libraries -------------------------------------------------------------------------------


def _loads(checked: CheckedSlice) -> tuple[dict[str, list[str]], list[str]]:
    """Library ref → the names the slice loads it by; and the names no locked library gives."""
    entry = checked.entry
    libraries = entry["libraries"] if entry is not None else []
    refs = {library_key(lib): library_ref(checked.key, lib) for lib in libraries}
    locked: dict[str, list[str]] = {}
    unlocked = []
    for name, owner in loaded_libraries(checked.piece, entry):
        if owner is None or owner not in refs:
            unlocked.append(name)
        else:
            locked.setdefault(refs[owner], []).append(name)
    return locked, unlocked


def _static(key: str, entry: Entry) -> set[str]:
    return {library_ref(key, lib) for lib in entry["libraries"] if linkage_of(lib) == "static"}


def _loaded(part: Part, names: Sequence[str]) -> Part:
    loads: tuple[Property, ...] = tuple(("envsnap:loads", name) for name in names)
    kept = tuple(p for p in part.properties if p[0] != "envsnap:linkage")
    dynamic = (("envsnap:linkage", "dynamic"),)
    return replace(part, linkage="dynamic", properties=kept + dynamic + loads)


def _unlocked(key: str, piece: Slice, name: str) -> Part:
    version = None
    if piece.macho:
        dylib = next((d for d in piece.macho.dylibs if d.name == name), None)
        version = dylib.current_version if dylib else None
    return Part(
        f"{key}/loaded:{name}",
        "library",
        os.path.basename(name) or name,
        version,
        description="a library the binary loads that no locked library provides",
        properties=(("envsnap:linkage", "dynamic"), ("envsnap:loads", name)),
        linkage="dynamic",
    )


def _libraries(parts: EntryParts, loads: Mapping[str, list[str]]) -> list[Part]:
    return [_loaded(p, loads[p.ref]) if p.ref in loads else p for p in parts.libraries]


# --- tools -----------------------------------------------------------------------------------


def _as_the_binary_says(part: Part, role: str, finding: Finding) -> Part:
    text = str(finding.live).split(", ")[0]
    program, release = program_and_release(text)
    if role == "go":
        program, release = "go", text.removeprefix("go")
    elif role == "sdk":
        program, release = part.name, text
    return replace(
        part,
        name=program,
        version=release,
        purl=None,
        sha256=None,
        description=f"{text}, as the binary says (the lock has {finding.locked})",
        properties=(("envsnap:differs-from-lock", str(finding.locked)),),
    )


def _settings(go: GoBuild) -> tuple[Property, ...]:
    return tuple(
        (f"envsnap:go-build:{private(name)}", private(value))
        for name, value in go.settings
        if name not in UNLISTED_SETTINGS
    )


def _tools(checked: CheckedSlice, tools: Iterable[Part]) -> list[Part]:
    """The entry's tools, each that a finding names replaced by what the binary says."""
    found: dict[str, tuple[str, Finding]] = {}
    for finding in checked.findings:
        for prefix, role in TOOL_FINDINGS:
            if finding.id == prefix or finding.id.startswith(prefix + "."):
                found.setdefault(f"{checked.key}/tool/{role}", (role, finding))
    kept = []
    for part in tools:
        if part.ref in found:
            part = _as_the_binary_says(part, *found[part.ref])
        if part.ref.endswith("/tool/go") and checked.piece.go:
            part = replace(part, properties=part.properties + _settings(checked.piece.go))
        kept.append(part)
    return kept


# --- Go modules ------------------------------------------------------------------------------


def module_part(module: Module) -> Part:
    """A module of the build information; what was built is its replacement, when it has one."""
    built = module.replace or module
    directory = module.replace is not None and module.replace.version in ("", "(devel)")
    replaced = f"{built.path} {built.version}".strip() if module.replace else None
    return Part(
        f"go-module/{module.path}@{module.version}",
        "library",
        module.path,
        None if module.version in ("", "(devel)") else module.version,
        None if directory else purls.go_module(built.path, built.version),
        description="a Go module the binary holds",
        properties=(("envsnap:go-replaced-by", private(replaced)),) if replaced else (),
    )


def _built_modules(go: GoBuild | None) -> list[Module]:
    if go is None:
        return []
    return ([go.main] if go.main else []) + list(go.deps)


def _modules(go: GoBuild | None) -> list[Part]:
    return [module_part(m) for m in _built_modules(go)]


# --- the bill --------------------------------------------------------------------------------


@dataclass
class _Collected:
    components: dict[str, Part]
    tools: list[Part]
    edges: list[tuple[str, tuple[str, ...]]]


def _held(parts: EntryParts, go: GoBuild | None) -> EntryParts:
    """*parts* with the cgo packages of the modules the binary holds (by its build
    information) and their edges; none for a binary without build information."""
    paths = [m.path for m in _built_modules(go)]

    def held(package: Part) -> bool:
        return any(package.name == m or package.name.startswith(m + "/") for m in paths)

    packages = tuple(filter(held, parts.packages))
    refs = {p.ref for p in packages}
    edges = tuple(edge for edge in parts.depends if edge[0] in refs)
    return replace(parts, packages=packages, depends=edges)


def _collect(checked: CheckedSlice, nix: Mapping[str, str], into: _Collected) -> None:
    loads, unlocked = _loads(checked)
    if checked.entry is None:
        parts = EntryParts((), (), tuple(_no_entry_tools(checked)), ())
    else:
        keep = set(loads) | _static(checked.key, checked.entry)
        parts = _held(entry_parts(checked.key, checked.entry, nix, keep), checked.piece.go)
    tools = parts.tools
    found = [
        *_modules(checked.piece.go),
        *parts.packages,
        *_libraries(parts, loads),
        *(_unlocked(checked.key, checked.piece, name) for name in unlocked),
    ]
    for part in found:
        into.components.setdefault(part.ref, part)
    into.tools += _tools(checked, tools)
    into.edges += parts.depends


def _no_entry_tools(checked: CheckedSlice) -> list[Part]:
    go = checked.piece.go
    if go is None:
        return []
    return [go_part(checked.key, GoSection(version=go.version, path="", goroot="", env={}))]


def _verdict(slices: Sequence[CheckedSlice]) -> tuple[Property, ...]:
    failing = [(c.key, f.id) for c in slices for f in c.findings if f.severity in FAILING]
    verdict = ("envsnap:inspect", "differs" if failing else "matches")
    return (verdict, *(("envsnap:inspect-finding", f"{key}: {id_}") for key, id_ in failing))


def from_binary(
    name: str,
    sha256: str,
    slices: Sequence[CheckedSlice],
    nix: Mapping[str, str],
    created: datetime | None = None,
) -> Bill:
    """The bill of a built binary: one document for its Go modules and its native half."""
    collected = _Collected({}, [], [])
    for checked in slices:
        _collect(checked, nix, collected)
    entries = tuple(("envsnap:lock-entry", c.key) for c in slices)
    subject = Part(
        "binary",
        "application",
        name,
        sha256=sha256,
        description="a binary built by go build, as it was built",
        properties=entries + _verdict(slices),
    )
    direct = tuple(collected.components)
    # a slice without an entry seeds the serial with "None", as it always has
    digests = [c.entry["digest"] if c.entry is not None else "None" for c in slices]
    return Bill(
        serial(sha256, *digests),
        __version__,
        subject,
        tuple(collected.components.values()),
        tuple(collected.tools),
        ((subject.ref, direct), *collected.edges),
        (),
        created,
    )
