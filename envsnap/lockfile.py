"""envsnap.lock: reading, canonical digests, and the atomic, per-platform write.

The file is TOML with ``schema = 1`` and one table per platform. Each entry carries a digest over
a canonical JSON of its contents, so a hand edit is detectable. ``lock`` replaces only the current
platform's entry: the text of every other entry is copied through unchanged, so that two
developers on different platforms produce changes git merges cleanly.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envsnap import __version__
from envsnap.errors import LockError
from envsnap.module import LOCK_NAME as LOCK_NAME

SCHEMA = 1
PREAMBLE = (
    "# envsnap.lock: the cgo toolchain this module builds with, one entry per platform.\n"
    "# Written by `envsnap lock`; check it with `envsnap verify`. Do not edit by hand.\n"
)
_HEADER = re.compile(r'^\[\[?\s*platforms\s*\.\s*(?:"(?P<quoted>[^"]+)"|(?P<bare>[A-Za-z0-9_-]+))')
_FIRST_KEYS = ("envsnap", "digest")
LOCK_WAIT_SECONDS = 60.0
_CONFLICT = re.compile(r"^(<{7}|>{7})( |$)", re.MULTILINE)


def canonical_json(entry: dict[str, Any]) -> bytes:
    """The bytes the digest is taken over: sorted keys, no whitespace, digest field left out."""
    content = {k: v for k, v in entry.items() if k != "digest"}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_digest(entry: dict[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(entry)).hexdigest()


def content_of(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry without the fields that say who wrote it (digest, envsnap version)."""
    return {k: v for k, v in entry.items() if k not in _FIRST_KEYS}


def _sorted(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _sorted(data[k]) for k in sorted(data)}
    if isinstance(data, list):
        return [_sorted(v) for v in data]
    return data


def make_entry(content: dict[str, Any]) -> dict[str, Any]:
    """A complete entry: the writing envsnap's version, the digest, then the sorted sections."""
    entry = {"envsnap": __version__, **_sorted(content_of(content))}
    return {"envsnap": entry["envsnap"], "digest": entry_digest(entry), **content_of(entry)}


@dataclass
class LockFile:
    """A parsed lock: its entries and, for each, the exact text it was read from."""

    path: Path
    schema: int = SCHEMA
    platforms: dict[str, dict[str, Any]] = field(default_factory=dict)
    given_blocks: dict[str, str] | None = None
    text: str = ""  # what it was parsed from; its blocks are split out only when written

    @property
    def blocks(self) -> dict[str, str]:
        """Each platform's own text, kept only if it parses to exactly that platform's entry.

        Only ``lock`` and the merge driver need it, so ``verify`` never pays for re-parsing
        the file block by block.
        """
        if self.given_blocks is None:
            self.given_blocks = _blocks_that_parse_alone(self.text, self.platforms)
        return self.given_blocks

    def digest_ok(self, platform: str) -> bool:
        entry = self.platforms[platform]
        return entry.get("digest") == entry_digest(entry)


def _unusable(path: Path, what: str) -> LockError:
    return LockError(
        f"{path.name} {what}",
        "restore it with `git checkout -- envsnap.lock`, or replace it with `envsnap lock --force`",
    )


def parse_lock(path: Path, data: bytes) -> LockFile:
    """Parse lock bytes; a corrupt or newer lock raises LockError with a hint."""
    import tomllib

    try:
        text = data.decode("utf-8")
        doc = tomllib.loads(text)
    except UnicodeDecodeError:
        raise _unusable(path, "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        if _CONFLICT.search(text):
            raise LockError(
                f"{path.name} has unresolved git conflict markers",
                "finish the merge: keep one side of each entry, or run `envsnap lock` on each "
                "platform; `envsnap git setup` lets git merge the lock per platform",
            ) from None
        raise _unusable(path, f"is not valid TOML ({exc})") from None
    schema = doc.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise _unusable(path, "has no `schema = N` line")
    if schema > SCHEMA:
        raise LockError(
            f"{path.name} was written by a newer envsnap (schema {schema}, known: {SCHEMA})",
            "upgrade envsnap: pip install -U envsnap",
        )
    if schema < 1:
        raise _unusable(path, f"has an unknown schema {schema}")
    platforms = doc.get("platforms", {})
    if not isinstance(platforms, dict) or not all(isinstance(v, dict) for v in platforms.values()):
        raise _unusable(path, "has a `platforms` key that is not a table of tables")
    return LockFile(path, schema, platforms, text=text)


def _split_blocks(text: str) -> dict[str, str]:
    blocks: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines(keepends=True):
        match = _HEADER.match(line)
        if match:
            current = match["quoted"] or match["bare"]
        elif line.startswith("["):
            current = None
        if current is not None:
            blocks.setdefault(current, []).append(line)
    return {name: "".join(lines).rstrip("\n") + "\n" for name, lines in blocks.items()}


def _blocks_that_parse_alone(text: str, platforms: dict[str, Any]) -> dict[str, str]:
    """Each platform's own text, kept only if it parses to exactly that platform's entry."""
    import tomllib

    kept = {}
    for name, block in _split_blocks(text).items():
        try:
            alone = tomllib.loads(block)
        except tomllib.TOMLDecodeError:
            continue
        if alone == {"platforms": {name: platforms.get(name)}}:
            kept[name] = block
    return kept


def read_lock(path: Path) -> LockFile | None:
    """The lock at *path*, or None if there is none."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _unusable(path, f"cannot be read ({exc.strerror})") from None
    return parse_lock(path, data)


def render_entry(platform: str, entry: dict[str, Any]) -> str:
    import tomli_w

    return tomli_w.dumps({"platforms": {platform: entry}})


def render(lock: LockFile) -> bytes:
    """The whole file: preamble, schema, then each platform's block in name order."""
    parts = [PREAMBLE, f"schema = {SCHEMA}\n"]
    for name in sorted(lock.platforms):
        block = lock.blocks.get(name) or render_entry(name, lock.platforms[name])
        parts.append("\n" + block.rstrip("\n") + "\n")
    return "".join(parts).encode()


def with_entry(lock: LockFile, platform: str, content: dict[str, Any]) -> LockFile:
    """*lock* with *platform*'s entry set to *content*; an unchanged entry keeps its text."""
    old = lock.platforms.get(platform)
    fresh = make_entry(content)
    if old is not None and lock.digest_ok(platform) and content_of(old) == content_of(fresh):
        return lock
    platforms = {**lock.platforms, platform: fresh}
    blocks = {k: v for k, v in lock.blocks.items() if k != platform}
    return LockFile(lock.path, SCHEMA, platforms, blocks)


def without(lock: LockFile, names: set[str]) -> LockFile:
    """*lock* without the entries called *names* (a variant no longer declared)."""
    if not names & set(lock.platforms):
        return lock
    platforms = {k: v for k, v in lock.platforms.items() if k not in names}
    blocks = {k: v for k, v in lock.blocks.items() if k not in names}
    return LockFile(lock.path, SCHEMA, platforms, blocks)


def _mutex_path(path: Path) -> Path:
    import tempfile

    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:20]
    folder = Path(tempfile.gettempdir(), f"envsnap-{os.getuid()}")
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{digest}.lock"


def remove_stale_temporaries(path: Path) -> None:
    """Delete temp files left by a writer killed mid-write (only call under :func:`exclusive`)."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()


@contextmanager
def exclusive(path: Path, on_wait: Any = None) -> Iterator[None]:
    """Serialise writers of *path* (the mutex lives outside the repository)."""
    from filelock import FileLock, Timeout

    mutex = FileLock(str(_mutex_path(path)))
    try:
        mutex.acquire(timeout=0.05)
    except Timeout:
        if on_wait is not None:
            on_wait()
        try:
            mutex.acquire(timeout=LOCK_WAIT_SECONDS)
        except Timeout:
            raise LockError(
                f"another envsnap has been writing {path.name} for {LOCK_WAIT_SECONDS:g}s",
                "wait for it to finish, or stop it",
            ) from None
    try:
        remove_stale_temporaries(path)
        yield
    finally:
        mutex.release()
