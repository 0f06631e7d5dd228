"""Make a snapshot portable and safe: module and home paths made relative, secrets refused."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import overload

from envsnap import redact
from envsnap.config import CONFIG_NAME
from envsnap.entry import Json, JsonObject
from envsnap.errors import NulRefused, SecretRefused
from envsnap.vocabulary import ENV_ALLOWLIST as ALLOWLIST

MODULE_MARK = "${MODULE}"
GOMODCACHE_MARK = "${GOMODCACHE}"
HOME_MARK = "~"


def _path_prefix(prefix: str) -> re.Pattern[str]:
    # The prefix counts only where a path starts: at the beginning, after a separator such as
    # whitespace, '=', ':' or ',', or right after a one-letter flag (-I/…, -L/…).
    return re.compile(
        r"(?:^|(?<=[\s=:,;'\"])|(?<=-[A-Za-z]))" + re.escape(prefix.rstrip("/")) + r"(?=/|$|\s)"
    )


class PathNormalizer:
    """Rewrites the absolute paths that differ between machines inside every string of a snapshot.

    The module's own directory becomes ``${MODULE}``, Go's module cache ``${GOMODCACHE}`` and the
    home directory ``~``, each spelled both as given and as its real path (a checkout reached
    through a symlink, ``/tmp`` → ``/private/tmp`` on macOS). The longest prefix is replaced
    first, so a module cache under the home directory is named as the module cache.
    """

    def __init__(
        self,
        module_dir: str | None,
        home: str | None,
        gomodcache: str | None = None,
        realpath: Callable[[str], str] = lambda path: path,
    ) -> None:
        prefixes: dict[str, str] = {}
        for path, mark in (
            (home, HOME_MARK),
            (gomodcache, GOMODCACHE_MARK),
            (module_dir, MODULE_MARK),
        ):
            if path and path.startswith("/") and path.rstrip("/"):
                prefixes[path.rstrip("/")] = mark
                prefixes.setdefault(realpath(path).rstrip("/") or path, mark)
        self.rules = [
            (_path_prefix(path), mark)
            for path, mark in sorted(prefixes.items(), key=lambda item: -len(item[0]))
        ]

    def text(self, value: str) -> str:
        for pattern, replacement in self.rules:
            value = pattern.sub(replacement, value)
        return value

    @overload
    def apply(self, data: JsonObject) -> JsonObject: ...
    @overload
    def apply(self, data: Json) -> Json: ...

    def apply(self, data: Json) -> Json:
        """*data* with every string rewritten (:meth:`text`); keys are left as they are."""
        if isinstance(data, str):
            return self.text(data)
        if isinstance(data, list):
            return [self.apply(item) for item in data]
        if isinstance(data, dict):
            return {key: self.apply(value) for key, value in data.items()}
        return data


def check_secrets(values: dict[str, str], where: str) -> dict[str, str]:
    """Strip URL userinfo from each value; refuse (by name only) a value that is a credential
    or holds a NUL byte."""
    cleaned = {}
    for name, value in values.items():
        if "\0" in value:
            raise NulRefused(
                f"{name} ({where}) holds a NUL byte, which no environment variable, shell or "
                "Nix string can carry; envsnap will not record it",
                _nul_hint(name, where),
            )
        value = redact.strip_userinfo(value)
        if redact.looks_like_credential(value, name):
            raise SecretRefused(
                f"{name} ({where}) looks like it contains a credential; envsnap will not record it",
                _untrack_hint(name, where),
            )
        cleaned[name] = value
    return cleaned


def _nul_hint(name: str, where: str) -> str:
    unset = f"run `go env -u {name}` if `go env -w` set it, or " if where == "go env" else ""
    return f"{unset}set {name} again without the NUL byte"


def _untrack_hint(name: str, where: str) -> str:
    """What the user can really do: only a variable that envsnap.toml adds can be untracked."""
    if where == "go env":  # go's settings are always locked, whether from the environment or -w
        return (
            f"take the secret out of {name} (unset it, or run `go env -u {name}` if "
            f"`go env -w` set it) and give it to the build another way, such as a file the "
            f"build reads; envsnap always locks {name}"
        )
    if name in ALLOWLIST:
        return (
            f"unset {name} or take the secret out of it, such as into a file the build reads; "
            f"envsnap always locks {name}"
        )
    return f'remove "{name}" from env under [track] in {CONFIG_NAME}, or unset {name}'


@overload
def prune(data: JsonObject) -> JsonObject: ...
@overload
def prune(data: Json) -> Json: ...


def prune(data: Json) -> Json:
    """Drop None values (TOML has no null) recursively."""
    if isinstance(data, dict):
        return {k: prune(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [prune(v) for v in data if v is not None]
    return data
