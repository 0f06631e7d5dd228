"""``envsnap inspect --show``: a binary's build facts as text, one labelled line per fact."""

from __future__ import annotations

from envsnap import termsafe
from envsnap.binfacts.facts import Binary, DylibId, ElfFacts, MachoFacts, Slice
from envsnap.vocabulary import BUILD_INFO_VARIABLES

INDENT = "  "
SHOWN_SETTINGS = (
    "-tags",
    "-trimpath",
    "-ldflags",
    "-buildmode",
    *BUILD_INFO_VARIABLES,
    "vcs.revision",
    "vcs.modified",
)
_FORMATS = {"elf": "ELF", "macho": "Mach-O", "macho-fat": "universal Mach-O"}


def render_facts(binary: Binary) -> str:
    count = len(binary.slices)
    slices = f", {count} architectures" if count > 1 else ""
    lines = [f"{binary.path}: {_FORMATS.get(binary.format, binary.format)}{slices}"]
    for piece in binary.slices:
        lines += _slice(piece, count > 1)
    return "\n".join(termsafe.escape(line, lines=False) for line in lines) + "\n"


def _row(label: str, value: str) -> str:
    return f"{INDENT}{label + ':':<14}{value}"


def _slice(piece: Slice, several: bool) -> list[str]:
    lines = [f"[{piece.platform}] {piece.cpu}"] if several else []
    lines.append(_row("platform", piece.platform))
    if piece.go:
        module = f" ({piece.go.path})" if piece.go.path else ""
        lines.append(_row("go", piece.go.version + module))
        for key in SHOWN_SETTINGS:
            value = piece.go.setting(key)
            if value is not None:
                lines.append(_row("build", f"{key}={value}"))
        if piece.go.main and piece.go.main.version:
            lines.append(_row("module", f"{piece.go.main.path} {piece.go.main.version}"))
        lines.append(_row("deps", f"{len(piece.go.deps)} modules"))
    else:
        lines.append(_row("go", piece.go_error or "no Go build information"))
    if piece.elf:
        lines += _elf(piece.elf)
    if piece.macho:
        lines += _macho(piece.macho)
    return lines


def _elf(elf: ElfFacts) -> list[str]:
    lines = [_row("interpreter", elf.interpreter or "(none: static)")]
    if elf.soname:
        lines.append(_row("soname", elf.soname))
    lines += [_row("needed", name) for name in elf.needed]
    lines += [_row("rpath", path) for path in elf.rpath]
    lines += [_row("runpath", path) for path in elf.runpath]
    lines += [_row("compiler", entry) for entry in elf.comment]
    for library, names in elf.version_needs:
        lines.append(_row("versions", f"{library}: {' '.join(names)}"))
    lines.append(_row("symbols", "stripped" if elf.stripped else "present"))
    return lines


def _macho(macho: MachoFacts) -> list[str]:
    lines = [_row("filetype", macho.filetype)]
    if macho.build_version:
        build = macho.build_version
        lines.append(
            _row("build", f"platform {build.platform} minos {build.minos} sdk {build.sdk}")
        )
        tools = ", ".join(f"{tool} {version}" for tool, version in build.tools)
        lines.append(_row("tools", tools or "(none: linked by Go's own linker)"))
    if macho.version_min:
        old = macho.version_min
        lines.append(_row("version min", f"{old.platform} {old.version} sdk {old.sdk}"))
    if macho.id:
        lines.append(_row("id", _dylib_text(macho.id)))
    for dylib in macho.dylibs:
        kind = "" if dylib.kind == "load" else f" [{dylib.kind}]"
        lines.append(_row("dylib", _dylib_text(dylib) + kind))
    lines += [_row("rpath", path) for path in macho.rpaths]
    return lines


def _dylib_text(dylib: DylibId) -> str:
    """As ``otool -L`` prints a dylib."""
    return (
        f"{dylib.name} (compatibility version {dylib.compatibility_version}, "
        f"current version {dylib.current_version})"
    )
