"""The operating system: os-release and glibc on Linux, SystemVersion.plist on macOS."""

from __future__ import annotations

import plistlib
import re
from xml.parsers.expat import ExpatError

from envsnap.host import VERSION_OUTPUT_LIMIT, Host, ToolNotFound
from envsnap.platforms import platform_for
from envsnap.probes import Section

SYSTEM_VERSION_PLIST = "/System/Library/CoreServices/SystemVersion.plist"


def parse_os_release(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            values[key.strip()] = value.strip().strip("'\"")
    return values


def parse_plist(data: bytes) -> dict[str, object]:
    try:
        loaded = plistlib.loads(data)
    except (plistlib.InvalidFileException, ExpatError, ValueError, KeyError, TypeError):
        return {}  # a damaged plist (not XML, not UTF-8) is no answer
    return loaded if isinstance(loaded, dict) else {}


def probe_linux(host: Host) -> Section:
    section: Section = {"name": "linux"}
    text = host.read_text("/etc/os-release") or host.read_text("/usr/lib/os-release")
    if text:
        release = parse_os_release(text)
        for key, field in (("ID", "id"), ("VERSION_ID", "version_id")):
            if key in release:
                section[field] = release[key]
    try:
        libc = host.run(["getconf", "GNU_LIBC_VERSION"], limit=VERSION_OUTPUT_LIMIT)
    except ToolNotFound:
        return section
    match = re.fullmatch(r"glibc (\S+)", libc.out.strip())
    if libc.ok and match:
        section["glibc"] = match.group(1)
    return section


def probe_macos(host: Host) -> Section:
    data = host.read_bytes(SYSTEM_VERSION_PLIST)
    plist = parse_plist(data) if data else {}
    if not plist:
        return {"name": "macos", "error": f"cannot read {SYSTEM_VERSION_PLIST}"}
    return {
        "name": "macos",
        "version": str(plist.get("ProductVersion", "")),
        "build": str(plist.get("ProductBuildVersion", "")),
    }


def probe_os(host: Host) -> Section:
    return probe_linux(host) if platform_for(host.system).reads_os_release else probe_macos(host)
