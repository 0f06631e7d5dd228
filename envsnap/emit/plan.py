"""What a locked platform needs in a Nix shell: attributes, environment, notes and warnings.

The attribute names come from the tables in ``nix/attributes.toml`` (overridable from
envsnap.toml's ``[nix.attributes.<table>]``); a Go version, SDK or library without an attribute
is never emitted as one that fails to evaluate: it becomes a note in the file and a warning.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from envsnap.config import Config
from envsnap.emit import safe_comment, variant_exports
from envsnap.errors import ConfigError
from envsnap.normalize import MODULE_MARK
from envsnap.vocabulary import CGO_FLAG_VARIABLES, brew_formula

NIX_ATTRIBUTE = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*")
HOMEBREW_PATHS = ("/opt/homebrew", "/usr/local/Cellar", "/usr/local/opt", "/home/linuxbrew")
LIBC_EXPORTS = {"CGO_ENABLED": "1", "GOTOOLCHAIN": "local"}
PIN_HINT = "pin a nixpkgs revision that has it (--nixpkgs REV --nixpkgs-sha256 HASH)"


@dataclass(frozen=True)
class Tables:
    go: dict[str, str]
    go_missing: dict[str, str]
    apple_sdk: dict[str, str]
    apple_sdk_missing: dict[str, str]
    compilers: dict[str, str]
    libraries: dict[str, str]
    systems: dict[str, str]


def load_tables(config: Config) -> Tables:
    """The built-in attribute tables with envsnap.toml's ``[nix.attributes]`` laid over them."""
    text = (files("envsnap") / "_data" / "nix" / "attributes.toml").read_text(encoding="utf-8")
    builtin: dict[str, Any] = tomllib.loads(text)
    overrides = config.nix.get("attributes", {})
    if not isinstance(overrides, dict):
        raise ConfigError("envsnap.toml: [nix.attributes] must be a table", "see docs/emit.md")
    merged = {}
    for name in Tables.__dataclass_fields__:
        table = {**builtin.get(name, {}), **overrides.get(name, {})}
        for key, value in table.items():
            attribute = not name.endswith("_missing") and name != "systems"
            if not isinstance(value, str) or (
                attribute and value and not NIX_ATTRIBUTE.fullmatch(value)
            ):
                raise ConfigError(
                    f"envsnap.toml: [nix.attributes.{name}] {key!r} is not a Nix attribute name",
                    "use a plain nixpkgs attribute such as go_1_22 or openssl_3",
                )
        merged[name] = table
    return Tables(**merged)


@dataclass
class ShellPlan:
    """One platform's Nix shell: nixpkgs attributes, exported variables, and why not more."""

    platform: str
    system: str
    packages: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, attribute: str) -> None:
        if attribute and attribute not in self.packages:
            self.packages.append(attribute)

    def missing(self, what: str, hint: str) -> None:
        note = safe_comment(f"{what}: {hint}")
        self.notes.append(note)
        self.warnings.append(note)


def _go(plan: ShellPlan, entry: dict[str, Any], tables: Tables) -> None:
    version = str(entry.get("go", {}).get("version", ""))
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
    plan.missing(
        f"Go {minor} is not provided ({why})",
        f"{PIN_HINT} and map it under [nix.attributes.go] in envsnap.toml",
    )


def _compiler(plan: ShellPlan, entry: dict[str, Any], tables: Tables) -> None:
    version = str(entry.get("cc", {}).get("compiler", {}).get("version", "")).lower()
    family = "clang" if "clang" in version else "gcc" if "gcc" in version else ""
    if family and tables.compilers.get(family):
        plan.add(tables.compilers[family])
    else:
        plan.notes.append("the C compiler is stdenv's (the lock names no gcc or clang)")


def _library_keys(lib: dict[str, Any]) -> list[str]:
    keys = []
    formula = brew_formula(lib.get("provider", ""))
    if formula:
        keys.append(formula)
    keys.append(str(lib.get("name", "")))
    return keys


def _libraries(plan: ShellPlan, entry: dict[str, Any], tables: Tables) -> None:
    libraries = entry.get("libraries", [])
    if any(lib.get("found_by") == "pkg-config" for lib in libraries):
        plan.add("pkg-config")
    for lib in libraries:
        found = [tables.libraries[k] for k in _library_keys(lib) if k in tables.libraries]
        if found:
            plan.add(found[0])
        else:
            plan.missing(
                f"no nixpkgs attribute known for the library {lib.get('name', '?')}",
                "add it under [nix.attributes.libraries] in envsnap.toml",
            )


def _apple_sdk(plan: ShellPlan, entry: dict[str, Any], tables: Tables) -> None:
    version = str(entry.get("apple", {}).get("sdk_version", ""))
    match = re.match(r"(\d+)", version)
    if match is None:
        plan.missing("the lock has no macOS SDK version", "add an apple-sdk_NN by hand")
        return
    major = match[1]
    if major in tables.apple_sdk:
        plan.add(tables.apple_sdk[major])
        return
    why = tables.apple_sdk_missing.get(major, "no attribute known in the target nixpkgs")
    plan.missing(f"macOS SDK {major} is not provided ({why})", PIN_HINT)


def _env(plan: ShellPlan, entry: dict[str, Any]) -> None:
    plan.env.update(LIBC_EXPORTS)
    go_env = entry.get("go", {}).get("env", {})
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


def plan_shell(platform: str, entry: dict[str, Any], tables: Tables) -> ShellPlan | None:
    """The shell for one lock entry, or None for a platform Nix has no system for."""
    system = tables.systems.get(platform)
    if system is None:
        return None
    plan = ShellPlan(platform, system)
    _go(plan, entry, tables)
    _compiler(plan, entry, tables)
    _libraries(plan, entry, tables)
    if platform.startswith("darwin-"):
        _apple_sdk(plan, entry, tables)
    _env(plan, entry)
    return plan
