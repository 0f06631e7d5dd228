"""verify's shortcut: a clean verdict, reused while nothing it stood on has changed.

When ``verify`` finds this machine clean and every answer it used came from (or went into) the
probe memo (:mod:`envsnap.probecache`), the verdict is remembered with the union of those
answers' manifests, plus the stamps of the lock itself, ``envsnap.toml`` and each ``go.mod`` on
the way from the directory envsnap was pointed at to the module, and with the report as it was
rendered. The next ``verify`` in the same environment checks only those stamps: if not one
changed, every probe would return what it returned, so the live entry would have the locked
digest again, and the verdict holds without importing or running any probe. Anything changed,
and the full verify runs.

On macOS the developer-tools probe (xcode-select, pkgutil, xcodebuild) is not memoised, so no
verdict is kept there. This module and :mod:`envsnap.shortcut` use plain string paths: the clean
path does not even import pathlib.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from envsnap import __version__
from envsnap.stamps import (
    Stamp,
    cache_file,
    environment_key,
    holds,
    is_racy,
    key_of,
    read_cache_json,
    stamp,
    write_cache_json,
)

VERDICT_VERSION = 2
MAX_VERDICTS = 32
RENDERINGS = ("text", "json", "quiet")  # the clean report, as each output option prints it


def _file(environ: Mapping[str, str]) -> str | None:
    return cache_file(environ, "verdicts.json")


def _key(environ: Mapping[str, str], start: str, module_root: str, extra: Any) -> str:
    where = os.path.abspath(start)
    return key_of(__version__, environment_key(environ), where, module_root, extra)


def _own_files(start: str, module_root: str) -> list[str]:
    """The lock, the settings and every go.mod from *start* up to the module's."""
    paths = [os.path.join(module_root, "envsnap.lock"), os.path.join(module_root, "envsnap.toml")]
    directory = os.path.abspath(start)
    while directory != module_root and directory.startswith(module_root.rstrip("/") + "/"):
        paths.append(os.path.join(directory, "go.mod"))
        directory = os.path.dirname(directory)
    return [*paths, os.path.join(module_root, "go.mod")]


def clean_report(
    environ: Mapping[str, str], start: str, module_root: str, extra: Any = None
) -> dict[str, str] | None:
    """The clean report (by output option) of a remembered verdict that still holds here."""
    entries = read_cache_json(_file(environ), VERDICT_VERSION)
    hit = entries.get(_key(environ, start, module_root, extra))
    if not isinstance(hit, dict):
        return None
    report = hit.get("report")
    if not isinstance(report, dict) or sorted(report) != sorted(RENDERINGS):
        return None
    if not all(isinstance(text, str) for text in report.values()):
        return None
    return report if holds(hit.get("manifest")) else None


def remember_clean(
    environ: Mapping[str, str],
    start: str,
    module_root: str,
    report: Mapping[str, str],
    stood_on: Mapping[str, Stamp] | None,
    started_ns: int,
    extra: Any = None,
) -> None:
    """Keep a clean verdict that rests on *stood_on* (the probe memo's manifests)."""
    file = _file(environ)
    if file is None or not stood_on:
        return
    manifest = dict(stood_on)
    manifest.update({path: stamp(path) for path in _own_files(start, module_root)})
    if any(is_racy(s, started_ns) for s in manifest.values()):
        return
    entries = read_cache_json(file, VERDICT_VERSION)
    key = _key(environ, start, module_root, extra)
    entries.pop(key, None)
    entries[key] = {"report": dict(report), "manifest": manifest}
    write_cache_json(file, VERDICT_VERSION, dict(list(entries.items())[-MAX_VERDICTS:]))
