"""What a locked platform needs in a Nix shell: attributes, environment, notes and warnings.

The attribute names come from the tables in ``nix/attributes.toml`` (overridable from
envsnap.toml's ``[nix.attributes.<table>]``); a Go version, SDK or library without an attribute
is never emitted as one that fails to evaluate: it becomes a note in the file and a warning —
except the Go toolchain itself, without which the shell is pointless: a Go minor that has no
attribute is an error (exit 1) until ``[nix.attributes.go]`` maps it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Required, TypedDict, cast

from envsnap.config import Config
from envsnap.emit import safe_comment, variant_exports
from envsnap.entry import AppleSection, Entry, JsonObject, Library
from envsnap.errors import EXIT_DRIFT, ConfigError, EnvsnapError
from envsnap.normalize import GOMODCACHE_MARK, MODULE_MARK
from envsnap.platforms import for_key
from envsnap.vocabulary import CGO_FLAG_VARIABLES, brew_formula

# An attribute path of nixpkgs: ``zlib``, ``apple-sdk_15``, ``gst_all_1.gstreamer``.
NIX_ATTRIBUTE = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*(\.[A-Za-z_][A-Za-z0-9_'-]*)*")
HOMEBREW_PATHS = ("/opt/homebrew", "/usr/local/Cellar", "/usr/local/opt", "/home/linuxbrew")
# ENVSNAP_SHELL tells the emitted .envrc that the Nix shell did load (direnv's `use nix` returns
# success even when nix-shell fails).
LIBC_EXPORTS = {"CGO_ENABLED": "1", "GOTOOLCHAIN": "local", "ENVSNAP_SHELL": "nix"}
PIN_HINT = "pin a nixpkgs revision that has it (--nixpkgs REV --nixpkgs-sha256 HASH)"
# Linked with every C or C++ program (the C library, the compiler's C++ runtime): never a package.
RUNTIME_LIBRARIES = frozenset({"c", "m", "dl", "pthread", "rt", "resolv", "util", "stdc++", "c++"})


# The systems nixpkgs has been reported to drop (NIXPKGS.md: reports, not nixpkgs source).
FADING_SYSTEMS = {
    "x86_64-darwin": "nixpkgs has been reported to drop x86_64-darwin after its 26.05 release; a "
    "newer nixpkgs may build nothing for an Intel Mac, so pin a revision that still does"
}


class MissingSdk(EnvsnapError):
    """The locked macOS SDK has no nixpkgs attribute: the shell would use nixpkgs' default SDK."""

    exit_code = EXIT_DRIFT


class MissingGo(EnvsnapError):
    """The locked Go minor has no nixpkgs attribute: a shell without Go would build nothing."""

    exit_code = EXIT_DRIFT


class LibraryRow(TypedDict, total=False):
    """A ``[[library]]`` row of ``nix/attributes.toml``: the attribute and the names it covers."""

    attribute: Required[str]
    pkg_config: list[str]
    link: list[str]
    brew: list[str]
    note: str
    source: str


def _rows(builtin: JsonObject) -> list[LibraryRow]:
    """The ``[[library]]`` rows of the built-in table (envsnap's own file, held by its tests)."""
    return cast(list[LibraryRow], builtin.get("library", []))


def library_rows(builtin: JsonObject) -> dict[str, str]:
    """``[[library]]`` rows flattened: each pkg-config module, ``-l`` name and formula covered."""
    table: dict[str, str] = {}
    for row in _rows(builtin):
        for key in (*row.get("pkg_config", []), *row.get("link", []), *row.get("brew", [])):
            table[key] = row["attribute"]
    return table


def library_notes(builtin: JsonObject) -> dict[str, str]:
    """What a ``[[library]]`` row says about its attribute (``note``), by attribute."""
    return {
        row["attribute"]: note for row in _rows(builtin) if isinstance(note := row.get("note"), str)
    }


@dataclass(frozen=True)
class Tables:
    go: dict[str, str]
    go_missing: dict[str, str]
    apple_sdk: dict[str, str]
    apple_sdk_missing: dict[str, str]
    compilers: dict[str, str]
    libraries: dict[str, str]
    systems: dict[str, str]
    library_notes: dict[str, str] = field(default_factory=dict)


def load_tables(config: Config) -> Tables:
    """The built-in attribute tables with envsnap.toml's ``[nix.attributes]`` laid over them."""
    text = (files("envsnap") / "_data" / "nix" / "attributes.toml").read_text(encoding="utf-8")
    builtin: JsonObject = tomllib.loads(text)
    derived = {"libraries": library_rows(builtin), "library_notes": library_notes(builtin)}
    overrides = config.nix.get("attributes", {})
    if not isinstance(overrides, dict):
        raise ConfigError("envsnap.toml: [nix.attributes] must be a table", "see docs/emit.md")
    merged: dict[str, dict[str, str]] = {}
    for name in Tables.__dataclass_fields__:
        base = derived[name] if name in derived else _table(builtin, name)
        merged[name] = _checked(name, {**base, **_table(overrides, name)})
    return Tables(**merged)


def _table(source: Mapping[str, object], name: str) -> Mapping[str, object]:
    table = source.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(
            f"envsnap.toml: [nix.attributes.{name}] must be a table", "see docs/emit.md"
        )
    return table


def _checked(name: str, table: Mapping[str, object]) -> dict[str, str]:
    """*table* with each value held to be a Nix attribute name (or "", "none known")."""
    attribute = name in ("go", "apple_sdk", "compilers", "libraries")
    checked: dict[str, str] = {}
    for key, value in table.items():
        if not isinstance(value, str) or (
            attribute and value and not NIX_ATTRIBUTE.fullmatch(value)
        ):
            raise ConfigError(
                f"envsnap.toml: [nix.attributes.{name}] {key!r} is not a Nix attribute name",
                "use a plain nixpkgs attribute such as go_1_22 or openssl_3",
            )
        checked[key] = value
    return checked


@dataclass
class ShellPlan:
    """One platform's Nix shell: nixpkgs attributes, exported variables, and why not more."""

    platform: str
    system: str
    packages: list[str] = field(default_factory=list)
    sdk: str = ""  # the apple-sdk_N attribute, for buildInputs (how nixpkgs selects an SDK)
    deployment_target: str = ""  # the locked MACOSX_DEPLOYMENT_TARGET, for darwinMinVersionHook
    env: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, attribute: str) -> None:
        if attribute and attribute not in self.packages:
            self.packages.append(attribute)

    def missing(self, what: str, hint: str) -> None:
        self.notes.append(safe_comment(f"{what}: {hint}"))
        self.warnings.append(printable(f"{what}: {hint}"))


def printable(text: str) -> str:
    """*text* for a terminal line: control characters (and newlines) become ``?``."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", "?", text)[:300]


def _go(plan: ShellPlan, entry: Entry, tables: Tables) -> None:
    version = entry["go"]["version"]
    match = re.match(r"go(\d+)\.(\d+)", version)
    if match is None:
        plan.missing("the Go version in the lock is unreadable", "add Go to the shell by hand")
        return
    minor = f"{match[1]}.{match[2]}"
    if minor in tables.go:
        plan.add(tables.go[minor])
        plan.notes.append(f"Go {minor}: nixpkgs pins the patch only through its revision")
        return
    why = tables.go_missing.get(minor, "no attribute known in the target nixpkgs")
    raise MissingGo(
        f"{plan.platform}: nixpkgs has no attribute for the locked Go {minor} ({why})",
        f"pin a nixpkgs that has it ([nix] nixpkgs) and map it in envsnap.toml: "
        f'[nix.attributes.go] "{minor}" = "go_{minor.replace(".", "_")}"',
    )


def _compiler(plan: ShellPlan, entry: Entry, tables: Tables) -> None:
    version = entry["cc"]["compiler"].get("version", "").lower()
    family = "clang" if "clang" in version else "gcc" if "gcc" in version else ""
    if family and tables.compilers.get(family):
        plan.add(tables.compilers[family])
    else:
        plan.notes.append("the C compiler is stdenv's (the lock names no gcc or clang)")


def _library_keys(lib: Library) -> list[str]:
    """The names a library is looked up by: its formula, its name (``-l:librocksdb.a`` also by
    the library it names, ``rocksdb``)."""
    keys = []
    formula = brew_formula(lib["provider"])
    if formula:
        keys.append(formula)
    name = lib["name"]
    keys.append(name)
    exact = re.fullmatch(r":lib(.+?)\.(a|so|dylib|tbd)(\.[0-9.]+)?", name)
    if exact:
        keys.append(exact[1])
    return keys


def _sdk_roots(entry: Entry) -> tuple[str, ...]:
    apple = entry.get("apple")
    if apple is None:
        return ()
    roots = (apple.get("sdk_path"), apple.get("sdk_realpath"))
    return tuple(r.rstrip("/") + "/" for r in roots if r)


def _needs_no_package(lib: Library, entry: Entry) -> bool:
    """The C or C++ runtime, a library of the macOS SDK (``-lz`` is the SDK's ``libz.tbd``, which
    the shell's apple-sdk provides), or a library file inside the module or a module of the
    module cache (bundled with the Go code): nothing to add."""
    name = lib["name"]
    if RUNTIME_LIBRARIES & set(_library_keys(lib)):
        return True
    if any(mark in name for mark in (MODULE_MARK, GOMODCACHE_MARK)):
        return True
    files = [f["path"] for f in lib.get("files", [])]
    owned = (MODULE_MARK, GOMODCACHE_MARK, *_sdk_roots(entry))
    return bool(files) and all(path.startswith(owned) for path in files)


def _libraries(plan: ShellPlan, entry: Entry, tables: Tables) -> None:
    libraries = entry["libraries"]
    if any(lib["found_by"] == "pkg-config" for lib in libraries):
        plan.add("pkg-config")
    for lib in libraries:
        if _needs_no_package(lib, entry):
            continue
        found = [tables.libraries[k] for k in _library_keys(lib) if k in tables.libraries]
        if found:
            plan.add(found[0])
            if found[0] in tables.library_notes:
                plan.missing(f"{found[0]} ({lib['name']})", tables.library_notes[found[0]])
        else:
            plan.missing(
                f"no nixpkgs attribute known for the library {lib['name']}",
                "add it under [nix.attributes.libraries] in envsnap.toml",
            )


def _apple_sdk(plan: ShellPlan, entry: Entry, tables: Tables) -> None:
    version = (entry.get("apple") or AppleSection()).get("sdk_version", "")
    match = re.match(r"(\d+)", version)
    if match is None:
        plan.missing("the lock has no macOS SDK version", "add an apple-sdk_NN by hand")
        return
    major = match[1]
    if major in tables.apple_sdk:
        plan.sdk = tables.apple_sdk[major]
        _sdk_fallback(plan, major, plan.sdk)
        target = entry["env"].get("MACOSX_DEPLOYMENT_TARGET")
        if isinstance(target, str) and re.fullmatch(r"\d+(\.\d+){0,2}", target):
            plan.deployment_target = target
        return
    why = tables.apple_sdk_missing.get(major, "no attribute known in the target nixpkgs")
    nearest = _nearest_sdks(major, tables)
    raise MissingSdk(
        f"{plan.platform}: nixpkgs has no attribute for the locked macOS SDK {major} ({why}); "
        f"the nearest: {', '.join(nearest) or 'none'}",
        f"{PIN_HINT}, or build with another SDK on purpose: "
        f'[nix.attributes.apple_sdk] "{major}" = "{nearest[0] if nearest else "apple-sdk_NN"}" '
        "in envsnap.toml (emit then warns that the SDK differs)",
    )


def _nearest_sdks(major: str, tables: Tables) -> list[str]:
    """The apple-sdk attributes the table has, the closest major first."""
    known = sorted(tables.apple_sdk, key=lambda m: (abs(int(m) - int(major)), -int(m)))
    return [tables.apple_sdk[m] for m in known if m.isdigit()][:2]


def _sdk_fallback(plan: ShellPlan, major: str, attribute: str) -> None:
    """A mapping to another major's SDK (set in envsnap.toml) builds against that SDK: said."""
    other = re.fullmatch(r"apple-sdk_(\d+)", attribute)
    if other and other[1] != major:
        plan.missing(
            f"macOS SDK {major} is locked, but {attribute} (SDK {other[1]}) is the shell's SDK "
            "([nix.attributes.apple_sdk] in envsnap.toml)",
            "builds may differ from the locked ones; pin a nixpkgs with the locked SDK to match",
        )


def _env(plan: ShellPlan, entry: Entry) -> None:
    plan.env.update(LIBC_EXPORTS)
    go_env = entry["go"]["env"]
    for name in CGO_FLAG_VARIABLES:
        value = go_env.get(name)
        if not isinstance(value, str) or not value:
            continue
        if any(path in value for path in HOMEBREW_PATHS) or "~" in value or MODULE_MARK in value:
            plan.notes.append(
                f"{name} is not set: its locked value points into Homebrew, the home directory "
                "or the module, which the Nix shell provides differently"
            )
            continue
        plan.env[name] = value
    plan.env.update(variant_exports(entry))


def plan_shell(platform: str, entry: Entry, tables: Tables) -> ShellPlan | None:
    """The shell for one lock entry, or None for a platform Nix has no system for."""
    system = tables.systems.get(platform)
    if system is None:
        return None
    plan = ShellPlan(platform, system)
    if system in FADING_SYSTEMS:
        plan.missing(f"{system} in nixpkgs", FADING_SYSTEMS[system])
    _go(plan, entry, tables)
    _compiler(plan, entry, tables)
    _libraries(plan, entry, tables)
    if for_key(platform).has_developer_tools:
        _apple_sdk(plan, entry, tables)
    _env(plan, entry)
    return plan
