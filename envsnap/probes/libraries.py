"""Resolve the module's C libraries to real files, versions and providers.

``#cgo pkg-config:`` modules are asked of pkg-config itself (go list does not run it); ``-l``
names are searched the way the linker does: ``-L`` dirs first, then the compiler's own search
path, shared before static in each dir. GNU ld scripts (glibc's ``libm.so``) are followed to the
files they name. A file inside a Homebrew keg or the Nix store names its provider.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from envsnap.host import Host, ToolNotFound
from envsnap.probes import Section

SUFFIXES = {"darwin": (".tbd", ".dylib", ".so", ".a"), "linux": (".so", ".a")}
NOT_LIBRARIES = re.compile(r"^-(pthread|Wl,.*|static.*|shared|rdynamic|framework|F.*|B.*)$")
_KEG = re.compile(r"^(?P<prefix>.*)/Cellar/(?P<formula>[^/]+)/(?P<version>[^/]+)/")
_NIX = re.compile(r"^/nix/store/[0-9a-z]{32}-(?P<name>[^/]+)")
_LD_SCRIPT_PATHS = re.compile(r"(?<![\w/.-])(/[^\s()]+)")


@dataclass
class Wanted:
    """One library the module needs, and the packages that need it."""

    name: str
    found_by: str  # "pkg-config" or "ldflags"
    options: list[str] = field(default_factory=list)
    search_dirs: list[str] = field(default_factory=list)
    used_by: set[str] = field(default_factory=set)


def split_pkg_config(args: Iterable[str]) -> tuple[list[str], list[str]]:
    """``CgoPkgConfig`` mixes options (``--static``) and module names or ``.pc`` paths."""
    options: list[str] = []
    modules: list[str] = []
    for arg in args:
        (options if arg.startswith("-") else modules).append(arg)
    return options, modules


def parse_link_flags(flags: list[str]) -> tuple[list[str], list[str]]:
    """``-L`` dirs and ``-l`` names (or direct library paths) from separate argv elements."""
    dirs: list[str] = []
    libs: list[str] = []
    i = 0
    while i < len(flags):
        flag = flags[i]
        if flag in ("-L", "-l") and i + 1 < len(flags):
            (dirs if flag == "-L" else libs).append(flags[i + 1])
            i += 2
            continue
        if flag.startswith("-L"):
            dirs.append(flag[2:])
        elif flag.startswith("-l"):
            libs.append(flag[2:])
        elif flag == "-framework":
            i += 1
        elif not flag.startswith("-") and re.search(r"\.(a|so(\.\d+)*|dylib|tbd)$", flag):
            libs.append(":" + flag)
        i += 1
    return dirs, libs


def wanted_libraries(packages: list[Section]) -> dict[tuple[str, str], Wanted]:
    wanted: dict[tuple[str, str], Wanted] = {}
    for pkg in packages:
        options, modules = split_pkg_config(pkg["pkg_config"])
        for module in modules:
            entry = wanted.setdefault(("pkg-config", module), Wanted(module, "pkg-config"))
            entry.options = sorted(set(entry.options) | set(options))
            entry.used_by.add(pkg["path"])
        dirs, libs = parse_link_flags(pkg["ldflags"])
        for lib in libs:
            entry = wanted.setdefault(("ldflags", lib), Wanted(lib, "ldflags"))
            entry.search_dirs += [d for d in dirs if d not in entry.search_dirs]
            entry.used_by.add(pkg["path"])
    return wanted


def find_library(host: Host, name: str, dirs: list[str]) -> str | None:
    """The file the linker would pick for ``-l<name>`` (``:file`` names a file exactly)."""
    if name.startswith(":/"):
        return name[1:] if host.exists(name[1:]) else None
    names = [name[1:]] if name.startswith(":") else [f"lib{name}{s}" for s in _suffixes(host)]
    for directory in dirs:
        for candidate in names:
            path = posixpath.normpath(posixpath.join(directory, candidate))
            info = host.stat(path)
            if info is not None and info.kind == "file":
                return path
    return None


def _suffixes(host: Host) -> tuple[str, ...]:
    return SUFFIXES.get(host.system, SUFFIXES["linux"])


def ld_script_members(host: Host, path: str) -> list[str]:
    """Files named by a GNU ld script such as glibc's ``libm.so``; [] for a real library."""
    if host.system == "darwin":  # ld64 has no linker scripts
        return []
    info = host.stat(path)
    if info is None or info.size > 16 * 1024:
        return []
    head = host.read_bytes(path, 16 * 1024) or b""
    if b"\0" in head[:1024]:
        return []
    text = head.decode("utf-8", errors="replace")
    if not re.search(r"\b(GROUP|INPUT)\s*\(", text):
        return []
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)
    return [m for m in _LD_SCRIPT_PATHS.findall(text) if host.exists(m)]


def file_entry(host: Host, path: str) -> Section:
    real = host.realpath(path)
    entry: Section = {"path": real}
    digest = host.file_digest(real)
    if digest is not None:
        entry["sha256"] = digest
    return entry


def resolve_files(host: Host, names: list[str], dirs: list[str]) -> tuple[list[Section], list[str]]:
    files: dict[str, Section] = {}
    missing = []
    for name in names:
        found = find_library(host, name, dirs)
        if found is None:
            missing.append(f"-l{name}" if not name.startswith(":") else name[1:])
            continue
        for path in [found, *ld_script_members(host, found)]:
            entry = file_entry(host, path)
            files.setdefault(entry["path"], entry)
    return sorted(files.values(), key=lambda f: f["path"]), missing


def provider(host: Host, real_path: str, default: str) -> Section:
    """Who installed *real_path*: a Homebrew keg, the Nix store, or the system."""
    keg = _KEG.match(real_path)
    if keg:
        formula, version = keg["formula"], keg["version"]
        receipt = host.read_bytes(
            f"{keg['prefix']}/Cellar/{formula}/{version}/INSTALL_RECEIPT.json"
        )
        stable = _receipt_version(receipt)
        if stable and version.split("_")[0] != stable:
            version = stable
        return {"provider": f"brew:{formula} {version}", "version": version}
    nix = _NIX.match(real_path)
    if nix:
        return {"provider": f"nix:{nix['name']}"}
    return {"provider": default}


def _receipt_version(receipt: bytes | None) -> str | None:
    try:
        data: Any = json.loads(receipt) if receipt else None
        stable = data["source"]["versions"]["stable"]
    except (ValueError, KeyError, TypeError):
        return None
    return str(stable) if stable else None


class LibraryResolver:
    """Everything needed to resolve the module's libraries on one host."""

    def __init__(self, host: Host, pkg_config: str, default_dirs: list[str]) -> None:
        self.host = host
        self.pkg_config = pkg_config
        self.default_dirs = default_dirs

    def _pkg_config(self, *args: str) -> str | None:
        try:
            result = self.host.run([self.pkg_config, *args])
        except ToolNotFound:
            return None
        return result.out.strip() if result.ok else None

    def resolve_pkg_config(self, want: Wanted) -> Section:
        section: Section = {"name": want.name, "found_by": "pkg-config", "provider": "pkg-config"}
        version = self._pkg_config("--modversion", want.name)
        if version is None:
            section["error"] = f"pkg-config cannot find `{want.name}`"
            return section
        section["version"] = version
        pc_dir = self._pkg_config("--variable=pcfiledir", want.name)
        module = posixpath.basename(want.name).removesuffix(".pc")
        if pc_dir:
            section["pc_file"] = file_entry(self.host, f"{pc_dir}/{module}.pc")
        libs = self._pkg_config("--libs", *want.options, want.name) or ""
        dirs, names = parse_link_flags(libs.split())
        files, missing = resolve_files(self.host, names, dirs + self.default_dirs)
        section["files"] = files
        if missing:
            section["error"] = f"not found: {', '.join(missing)}"
        where = files[0]["path"] if files else section.get("pc_file", {}).get("path", "")
        found = provider(self.host, where, "pkg-config")
        section["provider"] = found["provider"]
        return section

    def resolve_ldflags(self, want: Wanted) -> Section:
        section: Section = {"name": want.name, "found_by": "ldflags"}
        files, missing = resolve_files(self.host, [want.name], want.search_dirs + self.default_dirs)
        section["files"] = files
        if missing:
            section["error"] = f"{missing[0]} resolves nowhere in the -L dirs or the linker's path"
            section["provider"] = "unknown"
            return section
        section.update(provider(self.host, files[0]["path"], "system"))
        return section

    def resolve(self, want: Wanted) -> Section:
        if want.found_by == "pkg-config":
            section = self.resolve_pkg_config(want)
        else:
            section = self.resolve_ldflags(want)
        section["used_by"] = sorted(want.used_by)
        return section


def probe_libraries(
    host: Host, packages: list[Section], pkg_config: str, default_dirs: list[str]
) -> list[Section]:
    wanted = wanted_libraries(packages)
    resolver = LibraryResolver(host, pkg_config, default_dirs)
    with ThreadPoolExecutor(max_workers=8) as pool:
        resolved = list(pool.map(resolver.resolve, wanted.values()))
    return sorted(resolved, key=lambda lib: (lib["found_by"], lib["name"]))
