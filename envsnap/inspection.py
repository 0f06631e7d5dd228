"""Compare what a binary says about its build with the lock entry of its platform.

What the binary's Go build information tells (:mod:`envsnap.binfacts`) is read as the fields of
a lock entry it speaks of, where the lock has the same field: the Go version, CGO_ENABLED, the
cgo flag variables, GOAMD64 and its kin, GOEXPERIMENT and the build tags.
:func:`envsnap.drift.compare_facts` explains each that differs with verify's own rules, so a
binary built with another Go or other flags reads as a machine that drifted the same way. What
only a binary tells (the compiler named in ELF's ``.comment``, the glibc symbol versions it
needs, the libraries it loads, the SDK, minimum macOS and linker of LC_BUILD_VERSION) is checked
here, with findings of the same shape.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Annotated, Literal, NotRequired

from envsnap.binfacts.buildinfo import GoBuild
from envsnap.binfacts.facts import BinaryDocument, Dylib, ElfFacts, MachoFacts, Slice
from envsnap.drift import (
    ABSENT,
    RELOCK,
    Finding,
    Path,
    Policy,
    Side,
    apply_policy,
    compare_facts,
    library_key,
)
from envsnap.entry import AppleSection, Content, Doc, Tool
from envsnap.quoted import UnterminatedQuote
from envsnap.report import FindingDocument, SeveritySummary
from envsnap.variants import goflags_tags, tags_flag
from envsnap.vocabulary import GO_VARIABLES, SEVERITY_RANK

if sys.version_info >= (3, 12):
    from typing import TypedDict
else:  # as envsnap.entry: pydantic reads only typing_extensions' TypedDict before 3.12
    from typing_extensions import TypedDict

REBUILD = "rebuild with the locked toolchain (`envsnap verify` first)"
# Go's values of the flag variables the build information records when they are unset: it
# records a variable's value only when it is set.
GO_FLAG_DEFAULTS = {
    v.name: v.unset or "" for v in GO_VARIABLES if v.role == "flags" and v.build_info
}
# Go's own settings it records (GOOS and GOARCH choose the entry a binary is compared with).
GO_SETTINGS = tuple(
    v.name
    for v in GO_VARIABLES
    if v.role == "go" and v.build_info and v.name not in ("GOOS", "GOARCH")
)
# Libraries of the C runtime every cgo binary loads: neither a #cgo line nor pkg-config names
# them, so a lock never lists them.
C_RUNTIME = re.compile(
    r"(libc|libpthread|libdl|librt|libresolv|libutil|libgcc_s|libm)\.so\.\d+|ld-linux.*|ld-musl.*"
    r"|libc\.musl.*"
)
APPLE_SYSTEM = ("/usr/lib/", "/System/Library/")


class InspectFindingDocument(FindingDocument):
    """A finding of verify's shape, with the binary and the lock entry it concerns."""

    binary: str
    platform: Annotated[str, Doc("the slice's platform (GOOS-GOARCH)")]
    entry: Annotated[str, Doc("the lock entry compared with: GOOS-GOARCH[+variant]")]


class InspectDocument(TypedDict):
    """The document `envsnap inspect --json` prints; with --show, only schema and binaries."""

    schema: Literal["envsnap-inspect/1"]
    binaries: list[BinaryDocument]
    against: NotRequired[Annotated[str, Doc("compared only: the lock, e.g. envsnap.lock")]]
    strict: NotRequired[bool]
    ok: NotRequired[bool]
    exit_code: NotRequired[Literal[0, 1]]
    summary: NotRequired[SeveritySummary | None]
    findings: NotRequired[list[InspectFindingDocument]]


def inspect_slice(
    piece: Slice, locked: Content, binary_path: str, policy: Policy | None = None
) -> list[Finding]:
    """Every way *piece* was built otherwise than *locked* says, most severe first."""
    policy = policy or Policy()
    findings = _from_build_info(piece, locked, policy)
    own: list[Finding] = []
    if piece.elf:
        own += _compiler(piece, piece.elf, locked)
        own += _glibc(piece.elf, locked)
        own += _elf_libraries(piece.elf, locked, binary_path)
    if piece.macho:
        own += _apple(piece.macho, locked)
        own += _dylibs(piece.macho, locked)
    findings += apply_policy(own, policy)
    findings.sort(key=lambda f: (SEVERITY_RANK[f.severity], f.id))
    return findings


MISSING_ENTRY = "platforms."


def missing_entry(platform: str, available: Sequence[str]) -> Finding:
    return Finding(
        id=f"{MISSING_ENTRY}{platform}",
        subject=f"platform {platform}",
        category="unverifiable",
        severity="error",
        locked=None,
        live=platform,
        why=f"the lock has no entry for {platform} (it has: {', '.join(available) or 'none'})",
        fix=f"run `envsnap lock` on {platform} and commit the lock, or compare with another entry "
        "with --platform",
    )


# --- what the Go build information tells, through verify's rules -----------------------------


def binary_tags(piece: Slice) -> list[str] | None:
    return None if piece.go is None else _tags_of(piece.go)


def _tags_of(go: GoBuild) -> list[str]:
    try:
        return sorted(set(tags_flag(go.setting("-tags") or "")))
    except UnterminatedQuote:
        return []  # go writes -tags joined by commas: no go built this binary


def _go_env(entry: Content) -> dict[str, str]:
    go = entry.get("go")
    env = go.get("env") if go is not None else None
    return env if isinstance(env, dict) else {}


def locked_tags(entry: Content) -> list[str]:
    go = entry.get("go")
    tags = go.get("tags") if go is not None else None
    if isinstance(tags, list):
        return sorted(str(t) for t in tags)
    return goflags_tags(str(_go_env(entry).get("GOFLAGS", "")))


def build_facts(go: GoBuild, locked: Content) -> tuple[dict[Path, Side], list[str]]:
    """The fields of a lock entry the binary's Go build information tells, by path, and the
    cgo flag variables it leaves unrecorded. A variable the lock does not record is not
    compared (the binary may name it, the lock never did), save CGO_ENABLED, always recorded."""
    env = _go_env(locked)
    facts: dict[Path, Side] = {("go", "version"): go.version}
    enabled = go.setting("CGO_ENABLED")
    if enabled is not None:
        facts["go", "env", "CGO_ENABLED"] = enabled
    unrecorded = []
    if enabled == "1":
        for name, default in GO_FLAG_DEFAULTS.items():
            value = go.setting(name)
            if value is None:
                unrecorded.append(name)
            elif name in env:
                facts["go", "env", name] = value or default
    for name in GO_SETTINGS:
        value = go.setting(name)
        if value is not None and name in env:
            facts["go", "env", name] = value
    tags = _tags_of(go)
    if tags != locked_tags(locked):
        facts["go", "tags"] = list(tags) if tags else ABSENT
    return facts, unrecorded


def _from_build_info(piece: Slice, locked: Content, policy: Policy) -> list[Finding]:
    if piece.go is None:
        return [_no_build_info(piece)]
    facts, unrecorded = build_facts(piece.go, locked)
    findings = compare_facts(locked, facts, policy)
    if unrecorded and "CGO_CFLAGS" in _go_env(locked):
        findings += apply_policy([_flags_unrecorded(piece, unrecorded)], policy)
    return findings


def _no_build_info(piece: Slice) -> Finding:
    reason = piece.go_error or "it carries no Go build information"
    return Finding(
        id="go",
        subject="Go build information",
        category="unverifiable",
        severity="warning",
        locked=None,
        live=reason,
        why="without it the Go version, tags and cgo flags of the build cannot be checked (a "
        "binary not built by `go build`, or one whose build information was removed)",
        fix="inspect the binary `go build` wrote",
    )


def _flags_unrecorded(piece: Slice, names: Sequence[str]) -> Finding:
    trimpath = piece.go is not None and piece.go.setting("-trimpath") == "true"
    why = "go does not record the cgo flag variables in a binary built with -trimpath"
    return Finding(
        id="go.env.CGO_CFLAGS",
        subject="cgo flags",
        category="unverifiable",
        severity="info",
        locked=None,
        live=f"not recorded: {', '.join(names)}",
        why=why if trimpath else "the binary's build information does not record them",
        fix="nothing to do; `envsnap verify` checks them on the machine that builds",
    )


# --- ELF: the compiler, glibc, the libraries --------------------------------------------------


def compiler_ident(version_line: str) -> str:
    """How the compiler whose ``--version`` starts with *version_line* names itself in the
    ``.comment`` of each object it compiles.

    GCC writes ``GCC: `` then its package version and version, which ``gcc --version`` prints
    after the program name; an unbranded GCC says ``(GCC)`` there and ``(GNU)`` in objects.
    clang writes its first ``--version`` line as it is.
    """
    line = version_line.strip().splitlines()[0] if version_line.strip() else ""
    if "clang version" in line:
        return line
    _, _, rest = line.partition(" ")
    if rest.startswith("(GCC) "):
        rest = "(GNU) " + rest.removeprefix("(GCC) ")
    return f"GCC: {rest}"


def _family(ident: str) -> str:
    return "clang" if "clang version" in ident else "gcc" if ident.startswith("GCC: ") else ident


def _compiler(piece: Slice, elf: ElfFacts, locked: Content) -> list[Finding]:
    version = _tool(locked, "compiler").get("version")
    if not isinstance(version, str) or not version or not _cgo_on(piece):
        return []
    wanted = compiler_ident(version)
    seen = ", ".join(elf.comment) or "(none)"
    if not elf.comment:
        return [
            Finding(
                id="cc.compiler.version",
                subject="C compiler",
                category="unverifiable",
                severity="info",
                locked=wanted,
                live="no .comment section",
                why="the binary names no compiler (linked by Go's own linker, or .comment removed)",
                fix="nothing to do",
            )
        ]
    family = _family(wanted)
    # GCC-compiled objects of the C runtime (crt*.o from libgcc and libc) are in every binary
    # linked on a GNU system, whatever compiled the cgo code.
    others = [c for c in elf.comment if _family(c) not in (family, "gcc")]
    if wanted in elf.comment and not others:
        return []
    return [
        Finding(
            id="cc.compiler.version",
            subject="C compiler",
            category="changed",
            severity="error",
            locked=version.splitlines()[0],
            live=", ".join(others) or seen,
            why="the binary's C code was compiled by another compiler than the locked one "
            "(its .comment section names each compiler that compiled an object in it)",
            fix=f"{REBUILD}: put the locked compiler first on PATH or set CC, or {RELOCK}",
        )
    ]


def _tool(locked: Content, name: str) -> Tool:
    """The locked compiler or linker (empty when the lock has none)."""
    cc = locked.get("cc")
    if cc is None:
        return Tool()
    return (cc.get("compiler") if name == "compiler" else cc.get("linker")) or Tool()


def _cgo_on(piece: Slice) -> bool:
    return piece.go is None or piece.go.setting("CGO_ENABLED") != "0"


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


def _glibc(elf: ElfFacts, locked: Content) -> list[Finding]:
    system = locked.get("os")
    glibc = system.get("glibc") if system is not None else None
    needed = [
        name.removeprefix("GLIBC_")
        for library, names in elf.version_needs
        if library.startswith("libc.so")
        for name in names
        if re.fullmatch(r"GLIBC_\d+(\.\d+)*", name)
    ]
    if not isinstance(glibc, str) or not needed:
        return []
    newest = max(needed, key=_version_key)
    if _version_key(newest) <= _version_key(glibc):
        return []
    return [
        Finding(
            id="os.glibc",
            subject="glibc",
            category="changed",
            severity="error",
            locked=glibc,
            live=f"needs {newest}",
            why=f"the binary was linked against a newer glibc than the locked {glibc}: on a "
            f"machine like the locked one it fails to start (version `GLIBC_{newest}' not found)",
            fix=f"{REBUILD} on a machine with glibc {glibc}, or {RELOCK}",
        )
    ]


def _library_files(locked: Content) -> list[tuple[str, str]]:
    """(library key, file path) of every locked library file."""
    return [
        (library_key(lib), str(f.get("path", "")))
        for lib in locked.get("libraries", [])
        if isinstance(lib, Mapping) and "name" in lib
        for f in lib.get("files", [])
        if isinstance(f, Mapping)
    ]


def _provides(path: str, own_soname: str | None, soname: str) -> bool:
    """Whether the locked file at *path* is what the loader finds for *soname*: by the file's
    own DT_SONAME when it is known (Debian's ``libpcap.so.1.10.3`` is ``libpcap.so.0.8``), else
    by its name (``libz.so.1.2.13`` for ``libz.so.1``)."""
    if own_soname is not None:
        return own_soname == soname
    name = os.path.basename(path)
    return name == soname or name.startswith(soname + ".")


def _locked_sonames(paths: Sequence[str], hashes: Mapping[str, str]) -> dict[str, str | None]:
    """The DT_SONAME of each locked file this machine has with the locked bytes; None for the
    others (absent, changed, a linker script, a static archive)."""
    from envsnap import binfacts
    from envsnap.errors import EnvsnapError

    sonames: dict[str, str | None] = {}
    for path in dict.fromkeys(paths):
        sonames[path] = None
        if not path or (path in hashes and _sha256(path) != hashes[path]):
            continue
        try:
            slices = binfacts.read(path).slices
        except EnvsnapError:
            continue
        sonames[path] = next((p.elf.soname for p in slices if p.elf and p.elf.soname), None)
    return sonames


def _stem(name: str) -> str:
    """``libz.so.1`` → ``libz``; ``libz.1.dylib``, ``libz.tbd`` → ``libz``."""
    return name.split(".", 1)[0]


def _same_stem(files: Sequence[tuple[str, str]], name: str) -> list[tuple[str, str]]:
    return [(key, path) for key, path in files if _stem(os.path.basename(path)) == _stem(name)]


def _elf_libraries(elf: ElfFacts, locked: Content, binary_path: str) -> list[Finding]:
    files = _library_files(locked)
    findings: list[Finding] = []
    if not elf.needed:
        return findings
    search = [*elf.rpath, *elf.runpath]
    hashes = _locked_hashes(locked)
    sonames = _locked_sonames([path for _, path in files], hashes)
    for soname in elf.needed:
        owners = [(key, path) for key, path in files if _provides(path, sonames[path], soname)]
        if owners:
            findings += _loaded_elsewhere(soname, owners[0], search, binary_path, hashes)
            continue
        if C_RUNTIME.fullmatch(soname):
            continue
        findings.append(_other_library(soname, _same_stem(files, soname)))
    return findings


def _locked_hashes(locked: Content) -> dict[str, str]:
    return {
        str(f["path"]): str(f["sha256"])
        for lib in locked.get("libraries", [])
        if isinstance(lib, Mapping)
        for f in lib.get("files", [])
        if isinstance(f, Mapping) and f.get("path") and f.get("sha256")
    }


def _sha256(path: str) -> str | None:
    import hashlib

    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return f"sha256:{digest.hexdigest()}"


def _loaded_elsewhere(
    soname: str,
    owner: tuple[str, str],
    search: Sequence[str],
    binary_path: str,
    hashes: Mapping[str, str],
) -> list[Finding]:
    """A run path that puts another copy of a locked library ahead of the locked one (a copy
    with the locked file's bytes is the same library)."""
    key, locked_path = owner
    origin = os.path.dirname(os.path.abspath(binary_path))
    for folder in search:
        where = folder.replace("$ORIGIN", origin).replace("${ORIGIN}", origin)
        if os.path.normpath(where) == os.path.dirname(locked_path):
            return []
        candidate = os.path.join(where, soname)
        if not os.path.isfile(candidate):
            continue
        if os.path.realpath(candidate) == os.path.realpath(locked_path):
            return []
        if hashes.get(locked_path) and _sha256(candidate) == hashes[locked_path]:
            return []
        return [_second_copy(key, soname, locked_path, candidate, folder)]
    return []


def _second_copy(key: str, soname: str, locked_path: str, found: str, folder: str) -> Finding:
    return Finding(
        id=f"libraries.{key}.files",
        subject=key,
        category="changed",
        severity="error",
        locked=locked_path,
        live=found,
        why=f"the binary's run path ({folder}) makes it load {soname} from another copy than the "
        "locked one",
        fix=f"{REBUILD}: drop the -L/-rpath that points at the other copy (PKG_CONFIG_PATH, "
        f"CGO_LDFLAGS), or {RELOCK}",
        detail=soname,
    )


def _other_library(soname: str, same: Sequence[tuple[str, str]]) -> Finding:
    if same:
        key, path = same[0]
        return Finding(
            id=f"libraries.{key}.files",
            subject=key,
            category="changed",
            severity="error",
            locked=os.path.basename(path),
            live=soname,
            why=f"the binary links {soname}, another version of {key} than the locked "
            f"{os.path.basename(path)}",
            fix=f"{REBUILD}: check PKG_CONFIG_PATH and -L flags, or {RELOCK}",
            detail=soname,
        )
    return Finding(
        id=f"libraries.{soname}",
        subject=soname,
        category="extra",
        severity="warning",
        locked=None,
        live=soname,
        why="the binary links a library that no locked library provides",
        fix=f"{REBUILD}, or `envsnap lock` if the module now links it",
    )


# --- Mach-O: SDK, deployment target, linker, dylibs -------------------------------------------


def _apple(macho: MachoFacts, locked: Content) -> list[Finding]:
    if macho.linker is None:  # Go's own linker: no SDK, no Apple ld took part
        return []
    findings = []
    sdk = (locked.get("apple") or AppleSection()).get("sdk_version")
    if isinstance(sdk, str) and macho.sdk and _version_key(macho.sdk) != _version_key(sdk):
        findings.append(
            Finding(
                id="apple.sdk_version",
                subject="macOS SDK",
                category="changed",
                severity="error",
                locked=sdk,
                live=macho.sdk,
                why="the binary was linked against another macOS SDK than the locked one: "
                "availability checks, weak links and headers differ",
                fix=f"{REBUILD}: select the locked Xcode or Command Line Tools (xcode-select -s, "
                f"DEVELOPER_DIR) or set SDKROOT, or {RELOCK}",
            )
        )
    env = locked.get("env")
    target = env.get("MACOSX_DEPLOYMENT_TARGET") if env is not None else None
    if (
        isinstance(target, str)
        and macho.minos
        and _version_key(macho.minos) != _version_key(target)
    ):
        findings.append(
            Finding(
                id="env.MACOSX_DEPLOYMENT_TARGET",
                subject="MACOSX_DEPLOYMENT_TARGET",
                category="changed",
                severity="error",
                locked=target,
                live=macho.minos,
                why="the binary's minimum macOS differs from the locked deployment target: it "
                "either refuses to start on the oldest macOS you support, or uses less of it",
                fix=f"{REBUILD} with MACOSX_DEPLOYMENT_TARGET={target}",
            )
        )
    findings += _linker(macho.linker, locked)
    return findings


def _linker(version: str, locked: Content) -> list[Finding]:
    text = _tool(locked, "linker").get("version")
    match = re.search(r"PROJECT:(?:ld64|ld|dyld)-([\d.]+)", str(text or ""))
    if not match or _version_key(match[1]) == _version_key(version):
        return []
    return [
        Finding(
            id="cc.linker.version",
            subject="linker",
            category="changed",
            severity="warning",
            locked=f"ld {match[1]}",
            live=f"ld {version}",
            why="another Apple linker linked the binary (it comes with the Xcode or Command Line "
            "Tools that were selected)",
            fix=f"{REBUILD}, or {RELOCK}",
        )
    ]


def _dylibs(macho: MachoFacts, locked: Content) -> list[Finding]:
    files = _library_files(locked)
    findings = []
    for dylib in macho.dylibs:
        name = os.path.basename(dylib.name)
        if any(os.path.basename(path) == name for _, path in files):
            continue
        same = _same_stem(files, name)
        system = dylib.name.startswith(APPLE_SYSTEM)
        # the SDK's stub (libz.tbd) is what links /usr/lib/libz.1.dylib
        if system and (not same or any(path.endswith(".tbd") for _, path in same)):
            continue
        findings.append(_other_dylib(dylib, same))
    return findings


def _other_dylib(dylib: Dylib, same: Sequence[tuple[str, str]]) -> Finding:
    name = os.path.basename(dylib.name)
    found = _other_library(name, same)
    return replace(found, live=f"{dylib.name} (current version {dylib.current_version})")


# --- what a slice loads, each with the locked library that provides it ------------------------


def loaded_libraries(piece: Slice, locked: Content | None) -> list[tuple[str, str | None]]:
    """Each library *piece* loads (an ELF ``DT_NEEDED`` soname, a Mach-O dylib's install name),
    with the key of the locked library that provides it, by the rules the findings above use;
    None for one no locked library provides (the C runtime, a system dylib, another version,
    or any library when no entry is *locked*)."""
    files = _library_files(locked) if locked is not None else []
    if piece.elf:
        hashes = _locked_hashes(locked) if locked is not None else {}
        sonames = _locked_sonames([path for _, path in files], hashes)
        return [(soname, _elf_owner(files, sonames, soname)) for soname in piece.elf.needed]
    if piece.macho:
        return [(dylib.name, _dylib_owner(files, dylib)) for dylib in piece.macho.dylibs]
    return []


def _elf_owner(
    files: Sequence[tuple[str, str]], sonames: Mapping[str, str | None], soname: str
) -> str | None:
    return next((key for key, path in files if _provides(path, sonames[path], soname)), None)


def _dylib_owner(files: Sequence[tuple[str, str]], dylib: Dylib) -> str | None:
    name = os.path.basename(dylib.name)
    exact = next((key for key, path in files if os.path.basename(path) == name), None)
    if exact is not None or not dylib.name.startswith(APPLE_SYSTEM):
        return exact
    # the SDK's stub (libz.tbd) is what links /usr/lib/libz.1.dylib
    return next((key for key, path in _same_stem(files, name) if path.endswith(".tbd")), None)
