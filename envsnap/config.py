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

[variants.withz]                 # a build variant: its own lock entry per platform
tags = ["withz"]                 # the build tags it adds to GOFLAGS' -tags
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envsnap.errors import ConfigError
from envsnap.vocabulary import SEVERITIES

CONFIG_NAME = "envsnap.toml"
MAX_CONFIG = 1024 * 1024  # a hand-written file of a few lines; anything larger is refused
_NIX_KEYS = ("nixpkgs", "nixpkgs_sha256", "attributes")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
DEFAULT_VARIANT = "default"
_VARIANT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_BUILD_TAG = re.compile(r"[A-Za-z0-9_.]+")  # what go accepts in a build constraint
_CROSS_KEYS = ("goos", "goarch", "GOOS", "GOARCH")


@dataclass(frozen=True)
class Variant:
    """A named build of the module: the build tags it adds (the default variant adds none)."""

    name: str = DEFAULT_VARIANT
    tags: tuple[str, ...] = ()

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_VARIANT


THE_DEFAULT = Variant()


@dataclass(frozen=True)
class Config:
    track_env: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: dict[str, str] = field(default_factory=dict)
    nix: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    variants: tuple[Variant, ...] = ()  # the declared ones, by name; the default is implicit

    def all_variants(self) -> tuple[Variant, ...]:
        """The default variant, then every declared one."""
        return (THE_DEFAULT, *self.variants)

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


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(f"{where} must be a list of strings")
    return tuple(value)


def _variant(name: str, table: Any) -> Variant:
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
    unknown = sorted(set(table) - {"tags"})
    if unknown:
        raise _bad(f"{where} has unknown keys: {', '.join(unknown)} (known: tags)")
    tags = _string_list(table.get("tags"), f"{where} tags")
    bad = [tag for tag in tags if not _BUILD_TAG.fullmatch(tag)]
    if not tags or bad:
        raise _bad(f"{where} tags must be a non-empty list of build tags (letters, digits, _ .)")
    return Variant(name, tuple(sorted(set(tags))))


def _table(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """The table *name* of the file ({} when absent), refused when it is not a table."""
    table = doc.get(name, {})
    if not isinstance(table, dict):
        raise _bad(f"[{name}] must be a table, not {type(table).__name__} (`{name} = ...`)")
    return table


def _severity(doc: dict[str, Any]) -> dict[str, str]:
    severity = _table(doc, "severity")
    bad = [key for key, value in severity.items() if value not in SEVERITIES]
    if bad:
        raise _bad(f"[severity] {bad[0]!r} must be one of {', '.join(SEVERITIES)}")
    return dict(severity)


def _nix(doc: dict[str, Any]) -> dict[str, Any]:
    nix = _table(doc, "nix")
    unknown = sorted(set(nix) - set(_NIX_KEYS))
    if unknown:
        raise _bad(f"[nix] has unknown keys: {', '.join(unknown)} (known: {', '.join(_NIX_KEYS)})")
    for key in ("nixpkgs", "nixpkgs_sha256"):
        if key in nix and not isinstance(nix[key], str):
            raise _bad(f"[nix] {key} must be a string")
    attributes = nix.get("attributes", {})
    if not isinstance(attributes, dict) or not all(
        isinstance(table, dict) for table in attributes.values()
    ):
        raise _bad("[nix.attributes] must be a table of tables (see docs/emit.md)")
    return dict(nix)


def _read(path: Path) -> dict[str, Any] | None:
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


def _variants(doc: dict[str, Any]) -> tuple[Variant, ...]:
    tables = doc.get("variants", {})
    if not isinstance(tables, dict):
        raise _bad("[variants] must be a table of [variants.NAME] tables")
    return tuple(_variant(name, tables[name]) for name in sorted(tables))


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
    return Config(
        track_env=track_env,
        ignore=_string_list(_table(doc, "ignore").get("paths", []), "[ignore] paths"),
        severity=_severity(doc),
        nix=_nix(doc),
        raw=doc,
        variants=_variants(doc),
    )
