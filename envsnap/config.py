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
```
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envsnap.errors import ConfigError

CONFIG_NAME = "envsnap.toml"
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Config:
    track_env: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: dict[str, str] = field(default_factory=dict)
    nix: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


def _bad(message: str) -> ConfigError:
    return ConfigError(f"{CONFIG_NAME}: {message}", f"fix {CONFIG_NAME} (see docs/config.md)")


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(f"{where} must be a list of strings")
    return tuple(value)


def load_config(module_root: Path) -> Config:
    path = module_root / CONFIG_NAME
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Config()
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(f"cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise _bad(f"is not valid TOML ({exc})") from None
    track_env = _string_list(doc.get("track", {}).get("env", []), "[track] env")
    bad = [name for name in track_env if not _ENV_NAME.fullmatch(name)]
    if bad:
        raise _bad(f"[track] env has names that are not variables: {', '.join(bad)}")
    severity = doc.get("severity", {})
    if not isinstance(severity, dict) or any(v not in SEVERITIES for v in severity.values()):
        raise _bad(f"[severity] values must be one of {', '.join(SEVERITIES)}")
    nix = doc.get("nix", {})
    if not isinstance(nix, dict):
        raise _bad("[nix] must be a table")
    return Config(
        track_env=track_env,
        ignore=_string_list(doc.get("ignore", {}).get("paths", []), "[ignore] paths"),
        severity=dict(severity),
        nix=dict(nix),
        raw=doc,
    )
