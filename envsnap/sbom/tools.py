"""The tools of a lock entry as parts of a bill: the Go toolchain, the C compiler and linker, the
operating system, and on macOS the SDK, the Command Line Tools and Xcode."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from typing import Literal

from envsnap.entry import AppleSection, Entry, GoSection, OsSection, Tool
from envsnap.sbom import purls
from envsnap.sbom.model import Part, properties, sha256_hex

_PROJECT = re.compile(r"PROJECT:([\w.-]+?)-(\d[\d.]*)")  # Apple's ld: PROJECT:ld64-1053.12
_VERSION_WORD = re.compile(r"(.*?)\s*\bversion\s+(\d[\w.]*)")  # Apple clang version 15.0.0
_AFTER_PACKAGE = re.compile(r"\)\s+(\d+(?:\.\d+)+)")  # gcc (Debian 12.2.0-14) 12.2.0
_DOTTED = re.compile(r"\d+(?:\.\d+)+")
_PROGRAM = re.compile(r"(.+?)\s+(?:\(|\d)")  # GNU ld (GNU Binutils) 2.40 -> GNU ld
COMPILERS: tuple[tuple[Literal["compiler", "cxx", "linker"], str], ...] = (
    ("compiler", "C compiler"),
    ("cxx", "C++ compiler"),
    ("linker", "linker"),
)


def program_and_release(line: str) -> tuple[str, str | None]:
    """The program a ``--version`` line (or an ELF ``.comment`` entry) names, and its release:
    ``gcc (Debian 12.2.0-14) 12.2.0`` → (gcc, 12.2.0), ``Apple clang version 15.0.0
    (clang-1500.0.40.1)`` → (Apple clang, 15.0.0), ``GCC: (GNU) 13.2.1`` → (gcc, 13.2.1)."""
    line = line.strip().splitlines()[0] if line.strip() else ""
    if line.startswith("GCC: "):
        return "gcc", _release(line)
    if match := _PROJECT.search(line):
        return match[1], match[2]
    if match := _VERSION_WORD.match(line):
        return match[1] or "unknown", match[2]
    program = _PROGRAM.match(line)
    return (program[1] if program else line or "unknown"), _release(line)


def _release(line: str) -> str | None:
    if match := _AFTER_PACKAGE.search(line):
        return match[1]
    match = _DOTTED.search(line)
    return match[0] if match else None


def go_part(key: str, go: GoSection) -> Part:
    version = go["version"]
    return Part(
        f"{key}/tool/go",
        "application",
        "go",
        version.removeprefix("go") or None,
        description=f"the Go toolchain ({version})" if version else "the Go toolchain",
        properties=properties(
            path=go.get("path"),
            goroot=go.get("goroot"),
            gotoolchain=go.get("gotoolchain"),
            switched_from=go.get("switched_from"),
        ),
    )


def compiler_part(key: str, role: str, what: str, tool: Tool, entry: Entry) -> Part:
    line = tool.get("version", "")
    named = tool.get("command") or tool.get("path") or tool.get("realpath") or role
    program, release = program_and_release(line) if line else (os.path.basename(named), None)
    return Part(
        f"{key}/tool/{role}",
        "application",
        program,
        release,
        purls.debian(tool.get("package"), entry),
        sha256_hex(tool.get("sha256")),
        f"the {what}: {line}" if line else f"the {what}",
        properties(
            role=what,
            command=tool.get("command"),
            path=tool.get("path"),
            realpath=tool.get("realpath"),
            package=tool.get("package"),
            wrapper=tool.get("wrapper"),
            error=tool.get("error"),
        ),
    )


def os_part(key: str, section: OsSection) -> Part:
    name = section.get("id") or section.get("name") or section["goos"] or "unknown"
    version = section.get("version_id") or section.get("version")
    return Part(
        f"{key}/tool/os",
        "operating-system",
        name,
        version or None,
        description=f"the build platform ({section['goos']}/{section['goarch']})",
        properties=properties(build=section.get("build"), glibc=section.get("glibc")),
    )


def apple_parts(key: str, apple: AppleSection) -> list[Part]:
    """The macOS SDK, and the Command Line Tools and Xcode where the lock names them."""
    developer = properties(developer_dir=apple.get("developer_dir"))
    parts = []
    if apple.get("sdk_version") or apple.get("sdk_path"):
        sdk = properties(
            sdk_name=apple.get("sdk_name"),
            sdk_build=apple.get("sdk_build"),
            sdk_path=apple.get("sdk_path"),
            sdk_realpath=apple.get("sdk_realpath"),
        )
        version = apple.get("sdk_version") or None
        parts.append(Part(f"{key}/tool/sdk", "framework", "macOS SDK", version, properties=sdk))
    if apple.get("clt_version"):
        version = apple.get("clt_version") or None
        clt = Part(f"{key}/tool/clt", "application", "Command Line Tools", version)
        parts.append(replace(clt, properties=developer))
    if apple.get("xcode_version"):
        build = properties(xcode_build=apple.get("xcode_build"))
        version = apple.get("xcode_version") or None
        xcode = Part(f"{key}/tool/xcode", "application", "Xcode", version)
        parts.append(replace(xcode, properties=build + developer))
    return parts


def entry_tools(key: str, entry: Entry) -> list[Part]:
    """Every tool *entry* locks, in a fixed order."""
    tools = [go_part(key, entry["go"])]
    cc = entry["cc"]
    for role, what in COMPILERS:
        if (tool := cc.get(role)) is not None:
            tools.append(compiler_part(key, role, what, tool, entry))
    tools.append(os_part(key, entry["os"]))
    if (apple := entry.get("apple")) is not None:
        tools += apple_parts(key, apple)
    return tools
