"""verify's shortcut: a clean verdict, reused while nothing it stood on has changed.

When ``verify`` finds this machine clean and every answer it used came from (or went into) the
probe memo (:mod:`envsnap.probecache`), the verdict is remembered with the union of those
answers' manifests, plus the stamps of the lock itself, ``envsnap.toml`` and each ``go.mod`` on
the way from the directory envsnap was pointed at to the module. The next ``verify`` in the same
environment checks only those stamps: if not one changed, every probe would return what it
returned, so the live entry would have the locked digest again, and the verdict holds without
importing or running any probe. Anything changed, and the full verify runs.

On macOS the developer-tools probe (xcode-select, pkgutil, xcodebuild) is not memoised, so no
verdict is kept there.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from envsnap import __version__
from envsnap.stamps import (
    Stamp,
    cache_dir,
    environment_key,
    holds,
    is_racy,
    key_of,
    read_cache_json,
    stamp,
    write_cache_json,
)

VERDICT_VERSION = 1
MAX_VERDICTS = 32


def _file(environ: Mapping[str, str]) -> Path | None:
    folder = cache_dir(environ)
    return folder / "verdicts.json" if folder else None


def _key(environ: Mapping[str, str], start: Path, module_root: Path, extra: Any) -> str:
    return key_of(__version__, environment_key(environ), str(start), str(module_root), extra)


def _own_files(start: Path, module_root: Path) -> list[str]:
    """The lock, the settings and every go.mod from *start* up to the module's."""
    paths = [str(module_root / "envsnap.lock"), str(module_root / "envsnap.toml")]
    directory = start.absolute()
    while directory != module_root and module_root in directory.parents:
        paths.append(str(directory / "go.mod"))
        directory = directory.parent
    return [*paths, str(module_root / "go.mod")]


def clean_outcome(
    environ: Mapping[str, str], start: Path, module_root: Path, extra: Any = None
) -> tuple[str, tuple[str, ...]] | None:
    """The platform (and variants shown) of a remembered clean verdict that still holds here."""
    entries = read_cache_json(_file(environ), VERDICT_VERSION)
    hit = entries.get(_key(environ, start, module_root, extra))
    if not isinstance(hit, dict) or not isinstance(hit.get("platform"), str):
        return None
    shown = hit.get("variants", [])
    if not isinstance(shown, list) or not all(isinstance(v, str) for v in shown):
        return None
    return (hit["platform"], tuple(shown)) if holds(hit.get("manifest")) else None


def remember_clean(
    environ: Mapping[str, str],
    start: Path,
    module_root: Path,
    platform: str,
    shown: tuple[str, ...],
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
    entries[key] = {"platform": platform, "variants": list(shown), "manifest": manifest}
    write_cache_json(file, VERDICT_VERSION, dict(list(entries.items())[-MAX_VERDICTS:]))
