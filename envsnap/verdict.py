"""verify's shortcut: a clean verdict, reused while nothing it stood on has changed.

When ``verify`` finds this machine clean and every answer it used came from (or went into) the
probe memo (:mod:`envsnap.probecache`), the verdict is remembered with the union of those
answers' manifests, plus the stamps of the lock itself, ``envsnap.toml`` and each ``go.mod`` on
the way from the directory envsnap was pointed at to the module, and with the report as it was
rendered. The next ``verify`` in the same environment checks only those stamps: if not one
changed, every probe would return what it returned, so the live entry would have the locked
digest again, and the verdict holds without importing or running any probe. Anything changed,
and the full verify runs.

On macOS the developer-tools probe (xcode-select, pkgutil, xcodebuild) is memoised with the files
those tools answer from (:func:`envsnap.probes.apple.tool_inputs`), so a verdict is kept there as
on Linux. A replayed host's answers stand on its recording, not on this machine's files: no verdict
is kept for a replay. This module and :mod:`envsnap.shortcut` use plain string paths and a file of
NUL-separated fields (paths and reports never hold a NUL): the clean path imports neither pathlib,
json nor re. Each verdict ends with a check, its fields sealed with the user's cache secret
(:func:`envsnap.stamps.seal_fields`): a verdict changed on disk, cut short, or written by anyone
without the secret no longer matches it and is dropped, so its report is never printed. The file
is read only from a folder and a file this user owns and alone may write.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from envsnap import __version__
from envsnap.names import CONFIG_NAME, LOCK_NAME
from envsnap.stamps import (
    Stamp,
    cache_file,
    cache_secret,
    environment_key,
    holds,
    is_racy,
    read_cache_bytes,
    seal_fields,
    stamp,
    text_key,
    write_cache_bytes,
)
from envsnap.workdir import absolute

VERDICT_VERSION = 5
MAX_VERDICTS = 32
RENDERINGS = ("text", "json", "quiet")  # the clean report, as each output option prints it
_MAGIC = f"envsnap-verdicts {VERDICT_VERSION}"

Verdict = tuple[dict[str, str], dict[str, list[int] | None]]  # report, manifest


def _file(environ: Mapping[str, str]) -> str | None:
    return cache_file(environ, "verdicts")


def _key(environ: Mapping[str, str], start: str, module_root: str, extra: object) -> str:
    parts = (__version__, environment_key(environ), absolute(start), module_root, extra)
    return text_key("\0".join("" if part is None else str(part) for part in parts))


def _own_files(start: str, module_root: str) -> list[str]:
    """The lock, the settings and every go.mod from *start* up to the module's."""
    paths = [os.path.join(module_root, LOCK_NAME), os.path.join(module_root, CONFIG_NAME)]
    directory = absolute(start)
    while directory != module_root and directory.startswith(module_root.rstrip("/") + "/"):
        paths.append(os.path.join(directory, "go.mod"))
        directory = os.path.dirname(directory)
    return [*paths, os.path.join(module_root, "go.mod")]


def _check(secret: bytes, fields: list[str]) -> str:
    return seal_fields(secret, "verdicts", VERDICT_VERSION, *fields)


def _encode(verdicts: dict[str, Verdict], secret: bytes) -> bytes:
    fields = [_MAGIC]
    for key, (report, manifest) in verdicts.items():
        record = [key, *(report[name] for name in RENDERINGS), str(len(manifest))]
        for path, found in manifest.items():
            record += [path, "-" if found is None else ",".join(map(str, found))]
        fields += [*record, _check(secret, record)]
    return "\0".join(fields).encode("utf-8", "surrogateescape")


def _decode(data: bytes | None, secret: bytes | None) -> dict[str, Verdict]:
    """The verdicts of a file sealed with *secret*, or {} for anything malformed or unsealed
    (never an exception)."""
    fields = data.decode("utf-8", "surrogateescape").split("\0") if data and secret else []
    if not secret or not fields or fields[0] != _MAGIC:
        return {}
    verdicts: dict[str, Verdict] = {}
    at = 1
    try:
        while at < len(fields):
            start = at
            key, report = fields[at], dict(zip(RENDERINGS, fields[at + 1 : at + 4], strict=True))
            count, at = int(fields[at + 4]), at + 5
            manifest: dict[str, list[int] | None] = {}
            for path, found in zip(
                fields[at : at + 2 * count : 2], fields[at + 1 : at + 2 * count : 2], strict=True
            ):
                manifest[path] = None if found == "-" else [int(n) for n in found.split(",")]
            at += 2 * count
            if fields[at] != _check(secret, fields[start:at]):
                return {}
            at += 1
            verdicts[key] = (report, manifest)
    except (ValueError, IndexError):
        return {}
    return verdicts


# Verdicts files decoded ahead of need (lock reads its while go list runs), by path: the file's
# stamp when read, the secret that checked them, and what they held.
_read_ahead: dict[str, tuple[Stamp, bytes, dict[str, Verdict]]] = {}


def read_ahead(environ: Mapping[str, str]) -> None:
    """Decode the verdicts file now, for a :func:`remember_clean` later in this process: it takes
    them as decoded while the file's stamp is the same (else it reads the file again)."""
    import time  # lock's alone: the clean path never reads ahead

    file = _file(environ)
    secret = cache_secret(file)
    if file is None or secret is None:
        return
    started = time.time_ns()
    before = stamp(file)
    data = read_cache_bytes(file)
    after = stamp(file)
    if before is not None and before == after and not is_racy(after, started):
        _read_ahead[file] = (after, secret, _decode(data, secret))


def _verdicts(file: str, secret: bytes) -> dict[str, Verdict]:
    """The verdicts the file holds now: those read ahead while it is unchanged since."""
    ahead = _read_ahead.pop(file, None)
    if ahead is not None and ahead[1] == secret and ahead[0] == stamp(file):
        return ahead[2]
    return _decode(read_cache_bytes(file), secret)


def clean_report(
    environ: Mapping[str, str], start: str, module_root: str, extra: object = None
) -> dict[str, str] | None:
    """The clean report (by output option) of a remembered verdict that still holds here."""
    file = _file(environ)
    verdicts = _decode(read_cache_bytes(file), cache_secret(file))
    found = verdicts.get(_key(environ, start, module_root, extra))
    if found is None:
        return None
    report, manifest = found
    return report if holds(manifest) else None


def remember_clean(
    environ: Mapping[str, str],
    start: str,
    module_root: str,
    report: Mapping[str, str],
    stood_on: Mapping[str, Stamp] | None,
    started_ns: int,
    extra: object = None,
) -> None:
    """Keep a clean verdict that rests on *stood_on* (the probe memo's manifests)."""
    file = _file(environ)
    if file is None or not stood_on:
        return
    manifest: dict[str, list[int] | None] = {
        path: None if found is None else list(found) for path, found in stood_on.items()
    }
    for path in _own_files(start, module_root):
        found = stamp(path)
        manifest[path] = None if found is None else list(found)
    if any(is_racy(found, started_ns) for found in manifest.values()):
        return
    if any("\0" in text for text in (*manifest, *report.values())):
        return
    secret = cache_secret(file, create=True)
    if secret is None:  # a folder that is not this user's alone: nothing is kept there
        return
    verdicts = _verdicts(file, secret)
    key = _key(environ, start, module_root, extra)
    kept: Verdict = ({name: report[name] for name in RENDERINGS}, manifest)
    if verdicts.get(key) == kept:
        return  # the file holds this very verdict
    verdicts.pop(key, None)
    verdicts[key] = kept
    write_cache_bytes(file, _encode(dict(list(verdicts.items())[-MAX_VERDICTS:]), secret))
