"""Make a snapshot portable and safe: module and home paths made relative, secrets refused."""

from __future__ import annotations

import re
from typing import Any

from envsnap import redact
from envsnap.errors import SecretRefused

MODULE_MARK = "${MODULE}"


def _path_prefix(prefix: str) -> re.Pattern[str]:
    # The prefix counts only where a path starts: at the beginning, after a separator such as
    # whitespace, '=', ':' or ',', or right after a one-letter flag (-I/…, -L/…).
    return re.compile(
        r"(?:^|(?<=[\s=:,;'\"])|(?<=-[A-Za-z]))" + re.escape(prefix.rstrip("/")) + r"(?=/|$|\s)"
    )


class PathNormalizer:
    """Rewrites absolute module and home paths inside every string of a snapshot."""

    def __init__(self, module_dir: str | None, home: str | None) -> None:
        self.rules: list[tuple[re.Pattern[str], str]] = []
        if module_dir and module_dir != "/":
            self.rules.append((_path_prefix(module_dir), MODULE_MARK))
        if home and home != "/":
            self.rules.append((_path_prefix(home), "~"))

    def text(self, value: str) -> str:
        for pattern, replacement in self.rules:
            value = pattern.sub(replacement, value)
        return value

    def apply(self, data: Any) -> Any:
        if isinstance(data, str):
            return self.text(data)
        if isinstance(data, list):
            return [self.apply(item) for item in data]
        if isinstance(data, dict):
            return {key: self.apply(value) for key, value in data.items()}
        return data


def check_secrets(values: dict[str, str], where: str) -> dict[str, str]:
    """Strip URL userinfo from each value; refuse (by name only) a value that looks secret."""
    cleaned = {}
    for name, value in values.items():
        value = redact.strip_userinfo(value)
        if redact.looks_like_credential(value):
            raise SecretRefused(
                f"{name} ({where}) looks like it contains a credential; envsnap will not record it",
                f"remove the secret from {name}, or stop tracking {name} in envsnap.toml",
            )
        cleaned[name] = value
    return cleaned


def prune(data: Any) -> Any:
    """Drop None values (TOML has no null) recursively."""
    if isinstance(data, dict):
        return {k: prune(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [prune(v) for v in data if v is not None]
    return data
