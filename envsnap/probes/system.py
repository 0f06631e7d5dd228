"""The operating system: os-release and glibc on Linux, SystemVersion.plist on macOS."""

from __future__ import annotations

import re
from typing import TypedDict

from envsnap.host import VERSION_OUTPUT_LIMIT, Host, ToolNotFound
from envsnap.platforms import platform_for

SYSTEM_VERSION_PLIST = "/System/Library/CoreServices/SystemVersion.plist"


class OsFacts(TypedDict, total=False):
    """What the system says of itself: the entry's os section but GOOS and GOARCH (go's)."""

    name: str
    version: str
    build: str
    id: str
    version_id: str
    glibc: str
    error: str


def parse_os_release(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            values[key.strip()] = value.strip().strip("'\"")
    return values


def parse_plist(data: bytes) -> dict[str, object]:
    import plistlib  # macOS's answers only: not on the path of every Linux lock
    from xml.parsers.expat import ExpatError

    try:
        loaded = plistlib.loads(data)
    except (plistlib.InvalidFileException, ExpatError, ValueError, KeyError, TypeError):
        return {}  # a damaged plist (not XML, not UTF-8) is no answer
    return loaded if isinstance(loaded, dict) else {}


def probe_linux(host: Host) -> OsFacts:
    section: OsFacts = {"name": "linux"}
    text = host.read_text("/etc/os-release") or host.read_text("/usr/lib/os-release")
    if text:
        release = parse_os_release(text)
        if "ID" in release:
            section["id"] = release["ID"]
        if "VERSION_ID" in release:
            section["version_id"] = release["VERSION_ID"]
    try:
        libc = host.run(["getconf", "GNU_LIBC_VERSION"], limit=VERSION_OUTPUT_LIMIT)
    except ToolNotFound:
        return section
    match = re.fullmatch(r"glibc (\S+)", libc.out.strip())
    if libc.ok and match:
        section["glibc"] = match.group(1)
    return section


def probe_macos(host: Host) -> OsFacts:
    data = host.read_bytes(SYSTEM_VERSION_PLIST)
    plist = parse_plist(data) if data else {}
    if not plist:
        return {"name": "macos", "error": f"cannot read {SYSTEM_VERSION_PLIST}"}
    return {
        "name": "macos",
        "version": str(plist.get("ProductVersion", "")),
        "build": str(plist.get("ProductBuildVersion", "")),
    }


def probe_os(host: Host) -> OsFacts:
    return probe_linux(host) if platform_for(host.system).reads_os_release else probe_macos(host)
