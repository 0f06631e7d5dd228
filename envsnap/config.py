"""envsnap.toml: the optional, hand-written settings file beside the lock.

```toml
[track]
env = ["GOPROXY"]            # more variables to lock, beyond the built-in allowlist

[ignore]
paths = ["cc.compiler.sha256"]   # findings on these fields are not reported

[severity]
"apple.clt_version" = "error"    # override a drift rule's default severity

[nix]
nixpkgs = "<rev>"                # pin for `envsnap emit`
nixpkgs_sha256 = "<hash>"

[packages]                       # which packages are locked (go list's pattern syntax)
include = ["./..."]              # the default
exclude = ["./pfring/..."]       # left out, with the dependencies only they need

[variants.withz]                 # a build variant: its own lock entry per platform
tags = ["withz"]                 # the build tags it adds to GOFLAGS' -tags
packages = { exclude = [] }      # its own package set (each key defaults to [packages]')
```
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from envsnap.errors import ConfigError
from envsnap.gopattern import clean
from envsnap.names import CONFIG_NAME as CONFIG_NAME
from envsnap.vocabulary import SEVERITIES

MAX_CONFIG = 1024 * 1024  # a hand-written file of a few lines; anything larger is refused
_NIX_KEYS = ("nixpkgs", "nixpkgs_sha256", "tarball_url", "attributes")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
DEFAULT_VARIANT = "default"
_VARIANT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_BUILD_TAG = re.compile(r"[A-Za-z0-9_.]+")  # what go accepts in a build constraint
_CROSS_KEYS = ("goos", "goarch", "GOOS", "GOARCH")
_VARIANT_KEYS = ("tags", "packages")
_PACKAGE_KEYS = ("include", "exclude")
MAX_PATTERNS = 256  # patterns per list; each reaches go's command line
MAX_PATTERN = 1024  # characters of one pattern
# go's meta-packages: envsnap locks the module's own packages and what they import
_META = ("all", "std", "cmd", "tool", "work")
_PATTERN_CHARS = re.compile(r"[^\s\x00-\x1f\x7f@\\]+")

if sys.version_info >= (3, 12):
    from typing import TypedDict
else:  # as envsnap.entry: pydantic validates only typing_extensions' TypedDict before 3.12
    from typing_extensions import TypedDict


class NixSettings(TypedDict, total=False):
    """``[nix]``: the nixpkgs pin and attribute overrides for ``envsnap emit`` (docs/emit.md)."""

    nixpkgs: str
    nixpkgs_sha256: str
    tarball_url: str  # an https URL holding {rev} once; checked when emit fills it in
    attributes: dict[str, dict[str, object]]  # [nix.attributes.<table>]: name = attribute


@dataclass(frozen=True)
class Packages:
    """Which packages a build locks: ``go list``'s patterns, less the packages the exclusions
    match (by Go's pattern rules); the default is the whole module, ``./...``."""

    include: tuple[str, ...] = ("./...",)
    exclude: tuple[str, ...] = ()

    @property
    def is_default(self) -> bool:
        return self == Packages()

    def describe(self) -> str:
        """``./..., excluding ./pfring/...``: the set in words, for people."""
        said = ", ".join(self.include)
        return f"{said}, excluding {', '.join(self.exclude)}" if self.exclude else said


THE_WHOLE_MODULE = Packages()


@dataclass(frozen=True)
class Variant:
    """A named build of the module: the build tags it adds (the default variant adds none), and
    the packages it locks."""

    name: str = DEFAULT_VARIANT
    tags: tuple[str, ...] = ()
    packages: Packages = THE_WHOLE_MODULE

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_VARIANT


THE_DEFAULT = Variant()


@dataclass(frozen=True)
class Config:
    track_env: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: dict[str, str] = field(default_factory=dict)
    nix: NixSettings = field(default_factory=NixSettings)
    raw: Mapping[str, object] = field(default_factory=dict)  # the file as TOML parsed it
    variants: tuple[Variant, ...] = ()  # the declared ones, by name; the default is implicit
    packages: Packages = THE_WHOLE_MODULE  # [packages]: the default variant's set

    @property
    def default(self) -> Variant:
        """The default variant: no tags, the packages of ``[packages]``."""
        return Variant(packages=self.packages)

    def all_variants(self) -> tuple[Variant, ...]:
        """The default variant, then every declared one."""
        return (self.default, *self.variants)

    def variant(self, name: str) -> Variant:
        """The variant called *name* (``default`` or a declared one)."""
        for variant in self.all_variants():
            if variant.name == name:
                return variant
        have = ", ".join(v.name for v in self.all_variants())
        raise ConfigError(
            f"there is no variant {name!r} (declared: {have})",
            f"declare it as [variants.{name}] in {CONFIG_NAME} (see docs/config.md)",
        )


def _bad(message: str) -> ConfigError:
    return ConfigError(f"{CONFIG_NAME}: {message}", f"fix {CONFIG_NAME} (see docs/config.md)")


def _string_list(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(f"{where} must be a list of strings")
    return tuple(str(v) for v in value)


def _pattern_problem(pattern: str) -> str | None:
    """Why *pattern* cannot be given to go list as a package pattern of the module (or None)."""
    if not pattern or len(pattern) > MAX_PATTERN:
        return f"must be 1 to {MAX_PATTERN} characters"
    if pattern.startswith("-"):
        return "starts with '-', which go would read as a flag"
    if not _PATTERN_CHARS.fullmatch(pattern):
        return "holds a space, a control character, '@' or '\\', which no package path has"
    if pattern.startswith("/") or ".." in pattern.split("/"):
        return "is outside the module: use ./dir/... or an import path"
    if pattern in _META:
        return "is one of go's meta-packages: name the module's packages (./...)"
    return None


def _patterns(value: object, where: str) -> tuple[str, ...]:
    patterns = _string_list(value, where)
    if len(patterns) > MAX_PATTERNS:
        raise _bad(f"{where} has {len(patterns)} patterns; at most {MAX_PATTERNS}")
    for pattern in patterns:
        problem = _pattern_problem(pattern)
        if problem:
            shown = "".join(c if c.isprintable() else "?" for c in pattern[:60])
            raise _bad(f"{where}: the pattern {shown!r} {problem}")
    return tuple(dict.fromkeys(clean(pattern) for pattern in patterns))


def _packages(table: object, where: str, base: Packages = THE_WHOLE_MODULE) -> Packages:
    """A ``packages`` table; each key it leaves out comes from *base*."""
    if not isinstance(table, dict):
        raise _bad(f"{where} must be a table (include = [...], exclude = [...])")
    unknown = sorted(set(table) - set(_PACKAGE_KEYS))
    if unknown:
        raise _bad(f"{where} has unknown keys: {', '.join(unknown)} (known: include, exclude)")
    include = _patterns(table.get("include", list(base.include)), f"{where} include")
    if not include:
        raise _bad(f"{where} include must name at least one pattern (the default is ./...)")
    return Packages(
        include, _patterns(table.get("exclude", list(base.exclude)), f"{where} exclude")
    )


def _variant(name: str, table: object, base: Packages) -> Variant:
    where = f"[variants.{name}]"
    if not _VARIANT_NAME.fullmatch(name) or name == DEFAULT_VARIANT:
        raise _bad(f"{where}: a variant name is letters, digits, '.', '_' or '-', not 'default'")
    if not isinstance(table, dict):
        raise _bad(f"{where} must be a table")
    cross = [key for key in _CROSS_KEYS if key in table]
    if cross:
        raise _bad(
            f"{where} sets {cross[0]}: cross-compiled variants are not supported, because cgo "
            "would need a C cross-compiler and the target's libraries, and envsnap locks this "
            "host's; lock that platform on a machine of it"
        )
    unknown = sorted(set(table) - set(_VARIANT_KEYS))
    if unknown:
        raise _bad(f"{where} has unknown keys: {', '.join(unknown)} (known: tags, packages)")
    tags = _string_list(table.get("tags"), f"{where} tags")
    bad = [tag for tag in tags if not _BUILD_TAG.fullmatch(tag)]
    if not tags or bad:
        raise _bad(f"{where} tags must be a non-empty list of build tags (letters, digits, _ .)")
    packages = _packages(table.get("packages", {}), f"[variants.{name}.packages]", base)
    return Variant(name, tuple(sorted(set(tags))), packages)


def _table(doc: Mapping[str, object], name: str) -> dict[str, object]:
    """The table *name* of the file ({} when absent), refused when it is not a table."""
    table = doc.get(name, {})
    if not isinstance(table, dict):
        raise _bad(f"[{name}] must be a table, not {type(table).__name__} (`{name} = ...`)")
    return table


def _severity(doc: Mapping[str, object]) -> dict[str, str]:
    severity = _table(doc, "severity")
    bad = [key for key, value in severity.items() if value not in SEVERITIES]
    if bad:
        raise _bad(f"[severity] {bad[0]!r} must be one of {', '.join(SEVERITIES)}")
    return {key: str(value) for key, value in severity.items()}


def _nix(doc: Mapping[str, object]) -> NixSettings:
    nix = _table(doc, "nix")
    unknown = sorted(set(nix) - set(_NIX_KEYS))
    if unknown:
        raise _bad(f"[nix] has unknown keys: {', '.join(unknown)} (known: {', '.join(_NIX_KEYS)})")
    for key in ("nixpkgs", "nixpkgs_sha256", "tarball_url"):
        if key in nix and not isinstance(nix[key], str):
            raise _bad(f"[nix] {key} must be a string")
    attributes = nix.get("attributes", {})
    if not isinstance(attributes, dict) or not all(
        isinstance(table, dict) for table in attributes.values()
    ):
        raise _bad("[nix.attributes] must be a table of tables (see docs/emit.md)")
    settings = NixSettings()
    if isinstance(rev := nix.get("nixpkgs"), str):
        settings["nixpkgs"] = rev
    if isinstance(sha := nix.get("nixpkgs_sha256"), str):
        settings["nixpkgs_sha256"] = sha
    if isinstance(url := nix.get("tarball_url"), str):
        settings["tarball_url"] = url
    if "attributes" in nix:
        settings["attributes"] = {str(name): dict(table) for name, table in attributes.items()}
    return settings


def _read(path: Path) -> Mapping[str, object] | None:
    """The parsed file, or None when there is none."""
    import tomllib

    from envsnap.safeio import read_regular
    from envsnap.tomlsafe import TooComplex, loads

    try:
        return loads(read_regular(path, MAX_CONFIG).decode("utf-8"))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _bad(f"cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise _bad("is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise _bad(f"is not valid TOML ({exc})") from None
    except TooComplex as exc:
        raise _bad(f"is refused: {exc}") from None


def _variants(doc: Mapping[str, object], base: Packages) -> tuple[Variant, ...]:
    tables = doc.get("variants", {})
    if not isinstance(tables, dict):
        raise _bad("[variants] must be a table of [variants.NAME] tables")
    return tuple(_variant(name, tables[name], base) for name in sorted(tables))


def load_config(module_root: Path) -> Config:
    """The settings beside the lock (defaults when there is no file); a file that cannot be
    read, is not a regular file of at most :data:`MAX_CONFIG` bytes, or holds a value of the
    wrong type raises ConfigError naming the key."""
    doc = _read(module_root / CONFIG_NAME)
    if doc is None:
        return Config()
    track_env = _string_list(_table(doc, "track").get("env", []), "[track] env")
    bad = [name for name in track_env if not _ENV_NAME.fullmatch(name)]
    if bad:
        raise _bad(f"[track] env has names that are not variables: {', '.join(bad)}")
    packages = _packages(_table(doc, "packages"), "[packages]")
    return Config(
        track_env=track_env,
        ignore=_string_list(_table(doc, "ignore").get("paths", []), "[ignore] paths"),
        severity=_severity(doc),
        nix=_nix(doc),
        raw=doc,
        variants=_variants(doc, packages),
        packages=packages,
    )
