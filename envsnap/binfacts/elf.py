"""The build facts of an ELF file, read with pyelftools through a bounded stream.

pyelftools reads lazily, so only the headers, the dynamic section, ``.comment``, the version
needs and the Go build information are read, whatever the size of the binary. Before pyelftools
walks a table, its extent is checked against the file, and every walk over a count the file
declares is capped (:data:`MAX_ENTRIES`). Names (libraries, run paths, versions) are read through
:class:`~envsnap.binfacts.strtab.StringTable`, within their table and a budget for the file; a
compressed ``.comment`` is inflated to the size its header declares, at most :data:`MAX_SECTION`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

from elftools.elf.dynamic import Dynamic
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection
from elftools.elf.sections import Section
from elftools.elf.segments import InterpSegment

from envsnap.binfacts import buildinfo
from envsnap.binfacts.facts import ElfFacts, Slice
from envsnap.binfacts.stream import Bounded, FormatError
from envsnap.binfacts.strtab import NameBudget, StringTable

MAX_ENTRIES = 4096  # dynamic tags, version needs and their names, segments, sections
MAX_SECTION = (
    8 * 1024 * 1024
)  # .comment and .go.buildinfo beyond this are not what a compiler wrote
DATA_SCAN = 1024 * 1024  # how far into the data segment a build-info header is looked for
PF_W = 0x2

# e_machine → GOARCH; RISC-V, POWER and MIPS also need the class and the byte order
_MACHINES = {
    "EM_X86_64": "amd64",
    "EM_386": "386",
    "EM_AARCH64": "arm64",
    "EM_ARM": "arm",
    "EM_S390": "s390x",
    "EM_LOONGARCH": "loong64",
}
_OSABI = {
    "ELFOSABI_FREEBSD": "freebsd",
    "ELFOSABI_NETBSD": "netbsd",
    "ELFOSABI_OPENBSD": "openbsd",
    "ELFOSABI_SOLARIS": "solaris",
}


def read(stream: Bounded) -> Slice:
    elf = ELFFile(stream)  # type: ignore[arg-type]  # a file-like object is all it reads
    _check_tables(elf, stream.size)
    go, go_error = _go_build(elf, stream)
    goos = go.setting("GOOS") if go else None
    goarch = go.setting("GOARCH") if go else None
    return Slice(
        "elf",
        goos or _goos(elf),
        goarch or _goarch(elf),
        str(elf["e_machine"]).removeprefix("EM_").lower(),
        go=go,
        go_error=go_error,
        elf=_facts(elf, stream),
    )


def _check_tables(elf: ELFFile, size: int) -> None:
    header = elf.header
    # e_shnum, or section 0's sh_size when e_shnum is 0 (extended numbering, ≥ 0xff00 sections);
    # e_phnum, or section 0's sh_info when e_phnum is 0xffff
    sections, segments = elf.num_sections(), elf.num_segments()
    if sections > MAX_ENTRIES or segments > MAX_ENTRIES:
        raise FormatError("it declares more sections or segments than envsnap reads")
    tables = (
        ("section header table", header["e_shoff"], sections * header["e_shentsize"]),
        ("program header table", header["e_phoff"], segments * header["e_phentsize"]),
    )
    for name, offset, length in tables:
        if length and offset + length > size:
            raise FormatError(f"its {name} points past the end of the file")
    for section in _sections(elf):
        if section["sh_type"] != "SHT_NOBITS" and section["sh_offset"] + section["sh_size"] > size:
            name = section.name or f"#{section['sh_name']}"
            raise FormatError(f"its section {name} points past the end of the file")
    for segment in elf.iter_segments():
        if segment["p_offset"] + segment["p_filesz"] > size:
            raise FormatError("a segment points past the end of the file")


def _sections(elf: ELFFile) -> Iterator[Section]:
    return iter(elf.iter_sections()) if elf.num_sections() else iter(())


def _goarch(elf: ELFFile) -> str:
    machine, bits, little = elf["e_machine"], elf.elfclass, elf.little_endian
    if machine == "EM_RISCV":
        return "riscv64" if bits == 64 else "riscv"
    if machine == "EM_PPC64":
        return "ppc64le" if little else "ppc64"
    if machine == "EM_MIPS":
        return ("mips64" if bits == 64 else "mips") + ("le" if little else "")
    return _MACHINES.get(machine) or str(machine).removeprefix("EM_").lower()


def _goos(elf: ELFFile) -> str:
    return _OSABI.get(elf["e_ident"]["EI_OSABI"], "linux")


def _facts(elf: ELFFile, stream: Bounded) -> ElfFacts:
    budget = NameBudget()
    names = _dynamic_names(elf, stream, budget)
    return ElfFacts(
        interpreter=_interpreter(elf),
        needed=tuple(names.get("DT_NEEDED", ())),
        rpath=_paths(names.get("DT_RPATH", ())),
        runpath=_paths(names.get("DT_RUNPATH", ())),
        soname=next(iter(names.get("DT_SONAME", ())), None),
        comment=_comment(elf, stream),
        version_needs=_version_needs(elf, stream, budget),
        stripped=not any(s["sh_type"] == "SHT_SYMTAB" for s in _sections(elf)),
    )


def _paths(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(path for value in values for path in value.split(":") if path)


def _interpreter(elf: ELFFile) -> str | None:
    for segment in elf.iter_segments():
        if segment["p_type"] == "PT_INTERP":
            if segment["p_filesz"] > 4096:
                raise FormatError("its interpreter path is longer than any real one")
            if isinstance(segment, InterpSegment):  # pyelftools makes one of each PT_INTERP
                return str(segment.get_interp_name())
    return None


_NAME_TAGS = ("DT_NEEDED", "DT_RPATH", "DT_RUNPATH", "DT_SONAME")
DYNAMIC = "its dynamic section"


def _dynamic_names(elf: ELFFile, stream: Bounded, budget: NameBudget) -> dict[str, list[str]]:
    """The strings the dynamic entries of :data:`_NAME_TAGS` name, by tag, in order."""
    dynamic = _dynamic(elf)
    if dynamic is None:
        return {}
    entries = _dynamic_entries(dynamic)
    named = [(tag, value) for tag, value in entries if tag in _NAME_TAGS]
    if not named:
        return {}
    strings = _dynamic_strings(elf, dynamic, entries, stream, budget)
    names: dict[str, list[str]] = {}
    for tag, value in named:
        names.setdefault(tag, []).append(strings.get_string(value))
    return names


def _dynamic(elf: ELFFile) -> Dynamic | None:
    """The dynamic section, else the dynamic segment (pyelftools makes each a Dynamic)."""
    section = next((s for s in _sections(elf) if s["sh_type"] == "SHT_DYNAMIC"), None)
    if isinstance(section, Dynamic):
        return section
    segment = next((s for s in elf.iter_segments() if s["p_type"] == "PT_DYNAMIC"), None)
    return segment if isinstance(segment, Dynamic) else None


def _dynamic_entries(dynamic: Dynamic) -> list[tuple[str, int]]:
    """(d_tag, d_val) of each entry up to DT_NULL. The raw entries: pyelftools' own read the
    name of each as it is made, unbounded."""
    entries = []
    for raw in dynamic._iter_tags():
        if raw["d_tag"] == "DT_NULL":
            break
        entries.append((str(raw["d_tag"]), int(raw["d_val"])))
        if len(entries) > MAX_ENTRIES:
            raise FormatError(f"{DYNAMIC} has more entries than envsnap reads")
    return entries


def _dynamic_strings(
    elf: ELFFile,
    dynamic: Dynamic,
    entries: list[tuple[str, int]],
    stream: Bounded,
    budget: NameBudget,
) -> StringTable:
    """The string table the dynamic entries name their strings in: the section .dynamic links
    to, or DT_STRTAB and DT_STRSZ when there are no section headers."""
    if isinstance(dynamic, Section):
        table = _linked_section(elf, dynamic)
        return StringTable(stream, table["sh_offset"], table["sh_size"], budget, DYNAMIC)
    values = {tag: value for tag, value in reversed(entries)}  # the first of each tag
    offset = next(elf.address_offsets(values["DT_STRTAB"]), None) if "DT_STRTAB" in values else None
    if offset is None:
        raise FormatError(f"{DYNAMIC} puts its string table (DT_STRTAB) outside the file")
    return StringTable(stream, offset, values.get("DT_STRSZ", 0), budget, DYNAMIC)


def _linked_section(elf: ELFFile, section: Section) -> Section:
    if section["sh_link"] >= elf.num_sections():
        raise FormatError(f"its section {section.name} links to a section it does not have")
    return elf.get_section(section["sh_link"])


def _comment(elf: ELFFile, stream: Bounded) -> tuple[str, ...]:
    section = elf.get_section_by_name(".comment")
    if section is None or section["sh_type"] == "SHT_NOBITS":
        return ()
    if section["sh_size"] > MAX_SECTION:
        raise FormatError("its .comment section is larger than any compiler writes")
    data = _inflated(elf, section, stream) if section.compressed else section.data()
    entries = (raw.decode("utf-8", "replace").strip() for raw in data.split(b"\0"))
    return tuple(dict.fromkeys(text for text in entries if text))  # in order, each once


_COMPRESSIONS = {1: "zlib", 2: "zstd"}  # ELFCOMPRESS_*


def _inflated(elf: ELFFile, section: Section, stream: Bounded) -> bytes:
    """A compressed section's data as Go's debug/elf reads it: as many bytes as its header says
    (at most :data:`MAX_SECTION`), inflated no further, whatever the zlib stream holds after."""
    name, offset, size = section.name, section["sh_offset"], section["sh_size"]
    header = elf.structs.Elf_Chdr
    if size < header.sizeof():
        raise FormatError(f"its compressed {name} section is shorter than its header")
    chdr = header.parse(stream.at(offset, header.sizeof(), f"the {name} section"))
    kind, declared = chdr["ch_type"], int(chdr["ch_size"])
    if kind != "ELFCOMPRESS_ZLIB":
        method = _COMPRESSIONS.get(kind, f"method {kind}") if isinstance(kind, int) else kind
        raise FormatError(f"its {name} section is compressed with {method}, not zlib")
    if declared > MAX_SECTION:
        raise FormatError(
            f"its {name} section inflates to {declared} bytes, more than envsnap reads"
        )
    packed = stream.at(offset + header.sizeof(), size - header.sizeof(), f"the {name} section")
    try:
        data = zlib.decompressobj().decompress(packed, declared) if declared else b""
    except zlib.error:
        raise FormatError(f"its compressed {name} section is not valid zlib data") from None
    if len(data) < declared:
        raise FormatError(f"its compressed {name} section holds less than its header says")
    return data


def _version_needs(
    elf: ELFFile, stream: Bounded, budget: NameBudget
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    section = next((s for s in _sections(elf) if s["sh_type"] == "SHT_GNU_verneed"), None)
    if not isinstance(section, GNUVerNeedSection):  # pyelftools makes one of each
        return ()
    table = _linked_section(elf, section)
    what = "its version needs table"
    _bounded_names(section, StringTable(stream, table["sh_offset"], table["sh_size"], budget, what))
    needs, count = [], 0
    for version, auxiliaries in section.iter_versions():
        names = []
        for aux in auxiliaries:
            count += 1
            if count > MAX_ENTRIES:
                raise FormatError(f"{what} has more entries than envsnap reads")
            names.append(str(aux.name))
            if not aux.entry["vna_next"]:
                break
        needs.append((str(version.name), tuple(names)))
        if not version.entry["vn_next"]:
            break
    return tuple(needs)


def _bounded_names(section: GNUVerNeedSection, table: StringTable) -> None:
    """pyelftools reads the version names through ``section.stringtable`` (annotated as a
    StringTableSection, used for its get_string alone): it reads them through *table*."""
    setattr(section, "stringtable", table)  # noqa: B010


def _go_build(elf: ELFFile, stream: Bounded) -> tuple[buildinfo.GoBuild | None, str]:
    blob = _buildinfo_blob(elf, stream)
    if blob is None:
        return None, ""
    try:
        return buildinfo.parse(blob, lambda address, n: _at_address(elf, stream, address, n)), ""
    except FormatError as exc:
        return None, str(exc)


def _buildinfo_blob(elf: ELFFile, stream: Bounded) -> bytes | None:
    section = elf.get_section_by_name(".go.buildinfo")
    if section is not None and section["sh_type"] != "SHT_NOBITS":
        size = min(section["sh_size"], MAX_SECTION)
        blob = stream.at(section["sh_offset"], size, "the .go.buildinfo section")
        return blob if blob.startswith(buildinfo.MAGIC) else None
    # No section headers (a stripped-to-the-bone binary): look where the linker puts it, at the
    # start of the first writable segment, as debug/buildinfo does.
    for segment in elf.iter_segments():
        if segment["p_type"] == "PT_LOAD" and segment["p_flags"] & PF_W:
            data = stream.at(segment["p_offset"], min(segment["p_filesz"], DATA_SCAN), "data")
            index = buildinfo.find(data)
            return data[index:] if index >= 0 else None
    return None


def _at_address(elf: ELFFile, stream: Bounded, address: int, n: int) -> bytes:
    for segment in elf.iter_segments():
        start, size = segment["p_vaddr"], segment["p_filesz"]
        if segment["p_type"] == "PT_LOAD" and start <= address and address + n <= start + size:
            return stream.at(segment["p_offset"] + address - start, n, "Go build information")
    raise FormatError("its Go build information points outside the file")
