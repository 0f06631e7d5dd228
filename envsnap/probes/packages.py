"""The Debian package that owns a file: ``dpkg -S`` for the name, ``dpkg-query`` for its version.

Both are asked once per lock, for every file at once. On a merged-/usr system dpkg may know a
file only under its other name (``/lib/x86_64-linux-gnu/libz.so.1`` for ``/usr/lib/...``), so
each path is asked with its twin. No dpkg (macOS, Fedora, a replayed host) means no owners.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Sequence

from envsnap.errors import EnvsnapError
from envsnap.host import Host
from envsnap.platforms import platform_for

DPKG_STATUS = "/var/lib/dpkg/status"
_NIX = re.compile(r"^/nix/store/[0-9a-z]{32}-(?P<name>[^/]+)")
_OWNER_LIMIT = 1 << 20


def usr_twin(path: str) -> str | None:
    """The same file under merged /usr's other name: ``/lib/x`` <-> ``/usr/lib/x``."""
    for short in ("/lib", "/lib64", "/bin", "/sbin", "/lib32", "/libx32"):
        if path.startswith(short + "/"):
            return "/usr" + path
        if path.startswith("/usr" + short + "/"):
            return path.removeprefix("/usr")
    return None


def _names(path: str) -> list[str]:
    clean = posixpath.normpath(path)
    twin = usr_twin(clean)
    return [clean, twin] if twin else [clean]


def parse_search(text: str) -> dict[str, str]:
    """``dpkg -S`` lines (``zlib1g:amd64: /lib/...``) as path -> first owning package."""
    owners: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("diversion ") or ": " not in line:
            continue
        names, path = line.split(": ", 1)
        package = names.split(",")[0].strip().split(":")[0]
        if package:
            owners.setdefault(path.strip(), package)
    return owners


def parse_versions(text: str) -> dict[str, str]:
    """``dpkg-query -W -f '${Package} ${Version}\\n'`` lines as package -> "package version"."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) == 2:
            found[words[0]] = f"{words[0]} {words[1]}"
    return found


def _run(host: Host, argv: list[str]) -> str:
    try:
        result = host.run(argv, limit=_OWNER_LIMIT)
    except EnvsnapError:  # no dpkg, a hang, a flood: no owners, never a failed lock
        return ""
    return result.out  # dpkg -S exits 1 when any path is unknown, yet names the others


def dpkg_owners(host: Host, paths: Iterable[str]) -> dict[str, str]:
    """*paths* (as given) -> "package version" of the Debian package that owns each."""
    wanted = {p: _names(p) for p in dict.fromkeys(paths) if p.startswith("/")}
    if not wanted or platform_for(host.system).package_manager != "apt":
        return {}
    if host.which("dpkg-query") is None:
        return {}
    asked = sorted({name for names in wanted.values() for name in names})
    owner_of = parse_search(_run(host, ["dpkg-query", "-S", *asked]))
    packages = sorted(set(owner_of.values()))
    if not packages:
        return {}
    versions = parse_versions(
        _run(host, ["dpkg-query", "-W", "-f", "${Package} ${Version}\n", *packages])
    )
    found = {}
    for path, names in wanted.items():
        for name in names:
            if owner_of.get(name) in versions:
                found[path] = versions[owner_of[name]]
                break
    return found


def nix_owner(path: str) -> str | None:
    """The Nix store path's name (``gcc-wrapper-13.2.0``) of a file in the store."""
    match = _NIX.match(path)
    return match["name"] if match else None


def first_owner(owners: dict[str, str], candidates: Sequence[str]) -> str | None:
    for candidate in candidates:
        owner = owners.get(candidate) or nix_owner(candidate)
        if owner:
            return owner
    return None
