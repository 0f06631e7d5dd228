"""Resolve the module's C libraries to real files, versions and providers.

The files come from :mod:`envsnap.probes.link`: the module's external link as cmd/go would run
it, either traced for real (``lock``, and ``verify`` when it re-checks a drift) or through the
model of GNU ld's search (``verify``'s first look, ``doctor``). ``#cgo pkg-config:`` modules are
asked of pkg-config itself for their version and ``.pc`` file. A file inside a Homebrew keg or
the Nix store names its provider.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Sequence
from typing import Required, TypedDict, cast

from envsnap.entry import CgoPackage, FileRef, Json, Library
from envsnap.errors import EnvsnapError
from envsnap.host import VERSION_OUTPUT_LIMIT, Host, ToolNotFound
from envsnap.probes import capped, printed_text
from envsnap.probes.link import (
    PKG_CONFIG_BROKEN,
    Key,
    LinkPlan,
    Resolution,
    is_pkg_config_name,
    link_plan,
    resolve_fast,
    resolve_traced,
)
from envsnap.probes.packages import dpkg_owners, first_owner
from envsnap.redact import scrub_message
from envsnap.vocabulary import brew_provider

_KEG = re.compile(r"^(?P<prefix>.*)/Cellar/(?P<formula>[^/]+)/(?P<version>[^/]+)/")
_NIX = re.compile(r"^/nix/store/[0-9a-z]{32}-(?P<name>[^/]+)")


class Provider(TypedDict, total=False):
    """Who installed a library's files, and the version they say it is."""

    provider: Required[str]
    version: str


def file_entry(host: Host, path: str) -> FileRef:
    real = host.realpath(path)
    entry: FileRef = {"path": real}
    digest = host.file_digest(real)
    if digest is not None:
        entry["sha256"] = digest
    return entry


def provider(host: Host, real_path: str, default: str) -> Provider:
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
        return {"provider": brew_provider(formula, version), "version": version}
    nix = _NIX.match(real_path)
    if nix:
        return {"provider": f"nix:{nix['name']}"}
    return {"provider": default}


def _receipt_version(receipt: bytes | None) -> str | None:
    try:
        stable: Json = json.loads(receipt) if receipt else None
    except (ValueError, RecursionError):
        return None
    for key in ("source", "versions", "stable"):
        stable = stable.get(key) if isinstance(stable, dict) else None
    return str(stable) if stable else None


def resolve_link(
    host: Host, plan: LinkPlan, default_dirs: Sequence[str], trace: bool
) -> tuple[dict[Key, Resolution], bool]:
    """The traced link when asked for; the model when not, or when the link cannot be replayed.
    Also whether the model gives the same files (so the answer is the model's as well: verify's
    memo may keep it)."""
    if trace and not host.replayed:  # a replay holds no scratch-dir link
        try:
            traced = resolve_traced(host, plan)
        except ToolNotFound:
            pass  # no driver: the model says what resolves, cc.compiler says why
        except EnvsnapError as exc:
            return {key: Resolution(errors=[exc.message]) for key in plan.used_by}, False
        else:
            return traced, traced == resolve_fast(host, plan, default_dirs)
    return resolve_fast(host, plan, default_dirs), True


class LibrarySections:
    """Lock entries for the link's libraries, from their resolution."""

    def __init__(self, host: Host, pkg_config: str) -> None:
        self.host = host
        self.pkg_config = pkg_config

    def _pkg_config(self, *args: str) -> str | None:
        try:
            result = self.host.run([self.pkg_config, *args], limit=VERSION_OUTPUT_LIMIT)
        except ToolNotFound:
            return None
        return printed_text(result, PKG_CONFIG_BROKEN).strip() if result.ok else None

    def files(self, section: Library, found: Resolution) -> list[FileRef]:
        entries: dict[str, FileRef] = {}
        for path in found.files:
            entry = file_entry(self.host, path)
            entries.setdefault(entry["path"], entry)
        if found.errors:
            section["error"] = scrub_message("; ".join(dict.fromkeys(found.errors)))
        return sorted(entries.values(), key=lambda f: f["path"])

    def pkg_config_section(self, name: str, found: Resolution) -> Library:
        section: Library = {
            "name": name,
            "found_by": "pkg-config",
            "provider": "pkg-config",
            "used_by": [],
        }
        if not is_pkg_config_name(name):  # never handed to pkg-config (link.PKG_CONFIG_OPTIONS)
            section["error"] = scrub_message("; ".join(found.errors) or f"`{name}` is refused")
            return section
        try:  # a crash, a hang or a flood is reported as such, never as "cannot find"
            version = self._pkg_config("--modversion", name)
            pc_dir = self._pkg_config("--variable=pcfiledir", name) if version else None
        except EnvsnapError as exc:
            section["error"] = scrub_message(exc.message)
            return section
        if version is None:
            section["error"] = f"pkg-config cannot find `{name}`"
            return section
        section["version"] = capped(version)
        module = posixpath.basename(name).removesuffix(".pc")
        if pc_dir:
            section["pc_file"] = file_entry(self.host, f"{pc_dir}/{module}.pc")
        section["files"] = self.files(section, found)
        where = section["files"][0]["path"] if section["files"] else ""
        where = where or (section["pc_file"]["path"] if "pc_file" in section else "")
        section["provider"] = provider(self.host, where, "pkg-config")["provider"]
        return section

    def ldflags_section(self, name: str, found: Resolution) -> Library:
        section: Library = {
            "name": name,
            "found_by": "ldflags",
            "provider": "unknown",
            "used_by": [],
        }
        section["files"] = self.files(section, found)
        if section["files"]:
            who = provider(self.host, section["files"][0]["path"], "system")
            section["provider"] = who["provider"]
            if "version" in who:
                section["version"] = who["version"]
        return section

    def section(self, key: Key, found: Resolution, used_by: Sequence[str]) -> Library:
        kind, name = key
        if kind == "pkg-config":
            section = self.pkg_config_section(name, found)
        else:
            section = self.ldflags_section(name, found)
        # who uses it follows what it is (a new library is described in this order)
        rest = {k: v for k, v in section.items() if k != "used_by"}
        return cast(Library, {**rest, "used_by": list(used_by)})


def owner_candidates(section: Library, found: Resolution) -> list[str]:
    """The files whose owning package is the library's: its ``.pc`` file, the files the link
    names (``libz.so``, owned by the -dev package), then the files behind them."""
    paths = [section["pc_file"]["path"]] if "pc_file" in section else []
    return [*paths, *found.files, *(f["path"] for f in section.get("files") or [])]


def probe_libraries(
    host: Host,
    packages: Sequence[CgoPackage],
    go_env: dict[str, str],
    module_dir: str,
    default_dirs: Sequence[str],
    trace: bool = False,
    tools: Sequence[str] = (),
) -> tuple[list[Library], dict[str, str], bool]:
    """One lock entry per ``-l`` name, direct library file and pkg-config module of the link,
    with its owning package; the owning package of each of *tools* (the compiler's file); and
    whether the model of the link finds the same files (always, without *trace*)."""
    pkg_config = go_env.get("PKG_CONFIG") or "pkg-config"
    plan = link_plan(host, packages, go_env, module_dir, pkg_config)
    resolved, modelled = resolve_link(host, plan, default_dirs, trace)
    sections = LibrarySections(host, pkg_config)
    found = []
    for key, users in plan.used_by.items():
        resolution = resolved.get(key, Resolution())
        found.append((sections.section(key, resolution, users), resolution))
    candidates = [owner_candidates(section, resolution) for section, resolution in found]
    owners = dpkg_owners(host, [*tools, *(p for paths in candidates for p in paths)])
    for (section, _), paths in zip(found, candidates, strict=True):
        owner = first_owner(owners, paths)
        if owner:
            section["package"] = owner
    tool_owners = {tool: owner for tool in tools if (owner := first_owner(owners, [tool]))}
    libs = sorted((s for s, _ in found), key=lambda lib: (lib["found_by"], lib["name"]))
    return libs, tool_owners, modelled
