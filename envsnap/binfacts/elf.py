"""The build facts of an ELF file, read with pyelftools through a bounded stream.

pyelftools reads lazily, so only the headers, the dynamic section, ``.comment``, the version
needs and the Go build information are read, whatever the size of the binary. Before pyelftools
walks a table, its extent is checked against the file, and every walk over a count the file
declares is capped (:data:`MAX_ENTRIES`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from elftools.elf.elffile import ELFFile
from elftools.elf.sections import Section

from envsnap.binfacts import buildinfo
from envsnap.binfacts.facts import ElfFacts, Slice
from envsnap.binfacts.stream import Bounded, FormatError

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
        elf=_facts(elf),
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


def _sections(elf: ELFFile) -> Iterator[Any]:
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


def _facts(elf: ELFFile) -> ElfFacts:
    tags = _dynamic_tags(elf)
    return ElfFacts(
        interpreter=_interpreter(elf),
        needed=tuple(tag.needed for tag in tags if tag.entry.d_tag == "DT_NEEDED"),
        rpath=_paths(tag.rpath for tag in tags if tag.entry.d_tag == "DT_RPATH"),
        runpath=_paths(tag.runpath for tag in tags if tag.entry.d_tag == "DT_RUNPATH"),
        soname=next((tag.soname for tag in tags if tag.entry.d_tag == "DT_SONAME"), None),
        comment=_comment(elf),
        version_needs=_version_needs(elf),
        stripped=not any(s["sh_type"] == "SHT_SYMTAB" for s in _sections(elf)),
    )


def _paths(values: Iterator[str]) -> tuple[str, ...]:
    return tuple(path for value in values for path in value.split(":") if path)


def _interpreter(elf: ELFFile) -> str | None:
    for segment in elf.iter_segments():
        if segment["p_type"] == "PT_INTERP":
            if segment["p_filesz"] > 4096:
                raise FormatError("its interpreter path is longer than any real one")
            interp: Any = segment  # an InterpSegment
            return str(interp.get_interp_name())
    return None


def _dynamic_tags(elf: ELFFile) -> list[Any]:
    dynamic: Any = next((s for s in _sections(elf) if s["sh_type"] == "SHT_DYNAMIC"), None)
    if dynamic is None:
        dynamic = next((s for s in elf.iter_segments() if s["p_type"] == "PT_DYNAMIC"), None)
    if dynamic is None:
        return []
    tags = []
    for tag in dynamic.iter_tags():
        if tag.entry.d_tag == "DT_NULL":
            break
        tags.append(tag)
        if len(tags) > MAX_ENTRIES:
            raise FormatError("its dynamic section has more entries than envsnap reads")
    strings = _dynamic_strings_size(elf, dynamic, tags)
    for tag in tags:
        if tag.entry.d_tag in _NAME_TAGS:
            _check_string(tag.entry.d_val, strings, "its dynamic section")
    return tags


_NAME_TAGS = ("DT_NEEDED", "DT_RPATH", "DT_RUNPATH", "DT_SONAME")


def _dynamic_strings_size(elf: ELFFile, dynamic: Any, tags: list[Any]) -> int:
    """The size of the string table the dynamic entries name their strings in: the section
    .dynamic links to, or DT_STRSZ when there are no section headers."""
    if isinstance(dynamic, Section):
        return int(_linked_section(elf, dynamic)["sh_size"])
    return next((int(t.entry.d_val) for t in tags if t.entry.d_tag == "DT_STRSZ"), 0)


def _linked_section(elf: ELFFile, section: Any) -> Any:
    if section["sh_link"] >= elf.num_sections():
        raise FormatError(f"its section {section.name} links to a section it does not have")
    return elf.get_section(section["sh_link"])


def _check_string(offset: int, table_size: int, what: str) -> None:
    """pyelftools reads a name at any offset of the file: one past the end of its string table
    would be another section's bytes, or nothing."""
    if offset >= table_size:
        raise FormatError(f"{what} names a string past the end of its string table")


def _comment(elf: ELFFile) -> tuple[str, ...]:
    section = elf.get_section_by_name(".comment")
    if section is None or section["sh_type"] == "SHT_NOBITS":
        return ()
    if section["sh_size"] > MAX_SECTION:
        raise FormatError("its .comment section is larger than any compiler writes")
    entries = (raw.decode("utf-8", "replace").strip() for raw in section.data().split(b"\0"))
    return tuple(dict.fromkeys(text for text in entries if text))  # in order, each once


def _version_needs(elf: ELFFile) -> tuple[tuple[str, tuple[str, ...]], ...]:
    section = next((s for s in _sections(elf) if s["sh_type"] == "SHT_GNU_verneed"), None)
    if section is None:
        return ()
    needs, count = [], 0
    strings = int(_linked_section(elf, section)["sh_size"])
    for version, auxiliaries in section.iter_versions():
        _check_string(version.entry["vn_file"], strings, "its version needs")
        names = []
        for aux in auxiliaries:
            count += 1
            if count > MAX_ENTRIES:
                raise FormatError("its version needs have more entries than envsnap reads")
            _check_string(aux.entry["vna_name"], strings, "its version needs")
            names.append(str(aux.name))
            if not aux.entry["vna_next"]:
                break
        needs.append((str(version.name), tuple(names)))
        if not version.entry["vn_next"]:
            break
    return tuple(needs)


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
