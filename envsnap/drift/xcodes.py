"""The Xcode release table (``_data/apple/xcode-releases.toml``): which macOS an Xcode runs on,
and the names Apple's downloads page gives the Command Line Tools and Xcode."""

from __future__ import annotations

import functools
import re
import tomllib
from importlib.resources import files


@functools.cache
def _rows() -> tuple[dict[str, object], ...]:
    text = (files("envsnap") / "_data" / "apple" / "xcode-releases.toml").read_text("utf-8")
    rows = tomllib.loads(text).get("xcode", [])
    return tuple(row for row in rows if isinstance(row, dict))


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version))


def min_macos(build: str) -> str | None:
    """The oldest macOS the Xcode of *build* runs on (None: the table does not say)."""
    for row in _rows():
        found = row.get("min_macos")
        if row.get("build") == build and isinstance(found, str):
            return found
    return None


def runs_on(build: str, macos: str) -> bool | None:
    """Whether the Xcode of *build* runs on *macos* (None: not known)."""
    needed = min_macos(build)
    if needed is None or not macos:
        return None
    return version_key(macos) >= version_key(needed)


def clt_release(receipt: str) -> str:
    """The Xcode release a CLT receipt version belongs to: ``16.4.0.0.1.1747106510`` is 16.4
    (the name of "Command Line Tools for Xcode 16.4"), ``16.0.0.0.1.…`` is 16."""
    major, minor, patch = ([*receipt.split(".")[:3], "0", "0"])[:3]
    if patch not in ("", "0"):
        return f"{major}.{minor}.{patch}"
    return major if minor in ("", "0") else f"{major}.{minor}"


def clt_download_name(receipt: str) -> str:
    """The name Apple's downloads page gives the Command Line Tools of *receipt*."""
    return f"Command Line Tools for Xcode {clt_release(receipt)}"


def clang_short(version: str) -> str:
    """``Apple clang version 17.0.0 (clang-1700.0.13.5)`` as ``Apple clang 17.0.0``."""
    found = re.match(r"(.*?clang) version (\S+)", version)
    return f"{found.group(1)} {found.group(2)}" if found else version
