"""sha256 of library and compiler files, cached per user.

The cache maps a file's path and stamp (device, inode, size, mtime_ns, ctime_ns; see
:mod:`envsnap.stamps`) to its digest, so an unchanged file is never read twice, and a file
rewritten in place with its size and mtime restored is read again. A digest taken too close to
the file's last change (git's racy-clean rule) is not kept. The cache is a JSON file in the
user's cache folder, guarded by a filelock; one that cannot be read, or holds anything but
well-formed digests, is discarded; one that cannot be written is skipped. Each entry carries a
check (its key and digest sealed with the user's cache secret,
:func:`envsnap.stamps.seal_fields`), so a digest changed on disk — by a bad sector, a
half-restored backup, an editor, another user — no longer matches its check and is dropped,
never written into a lock. The cache is read only from a folder and a file this user owns and
alone may write, and its filelock is taken only in such a folder. ENVSNAP_NO_CACHE=1 turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from envsnap import progress
from envsnap.atomic import private_folder
from envsnap.stamps import (
    cache_dir,
    cache_secret,
    is_racy,
    read_cache_json,
    seal_fields,
    stamp_of,
    write_cache_json,
)

MAX_HASHED_SIZE = 2 * 1024**3
MAX_ENTRIES = 20_000
CACHE_VERSION = 4
_CHUNK = 1024 * 1024
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def sha256_file(path: str) -> tuple[str, os.stat_result] | None:
    """Hash a regular file without following it into a FIFO or device; None if not hashable."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_HASHED_SIZE:
            return None
        digest = hashlib.sha256()
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}", st


def _key(path: str, st: os.stat_result) -> str:
    return "\0".join(map(str, (path, *stamp_of(st))))


def check_of(secret: bytes, key: str, digest: str) -> str:
    """What an entry is stored with, to tell a digest changed on disk, or written by anyone
    without the user's *secret*, from the one envsnap wrote."""
    return seal_fields(secret, "file-hashes", CACHE_VERSION, key, digest)


def _valid(secret: bytes, key: object, value: object) -> str | None:
    """The digest of a well-formed stored entry ``key: [digest, check]``, else None."""
    if not isinstance(key, str) or not isinstance(value, list) or len(value) != 2:
        return None
    digest, check = value
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        return None
    return digest if check == check_of(secret, key, digest) else None


class HashCache:
    """File digests keyed by path and stamp."""

    def __init__(self, file: Path | None) -> None:
        self.file = file
        self._entries: dict[str, str] = {}
        self._new: dict[str, str] = {}
        self._lock = threading.Lock()
        self._loaded = False

    @classmethod
    def for_user(cls, environ: Mapping[str, str]) -> HashCache:
        folder = cache_dir(environ)
        return cls(folder / "file-hashes.json" if folder else None)

    def _load(self, secret: bytes | None = None) -> None:
        """The entries of the file sealed with *secret* (default: the user's, if any)."""
        self._loaded = True
        secret = secret or cache_secret(self.file)
        if secret is None:
            return
        entries = read_cache_json(self.file, CACHE_VERSION)
        valid = {key: _valid(secret, key, value) for key, value in entries.items()}
        self._entries = {key: digest for key, digest in valid.items() if digest is not None}

    def digest(self, path: str) -> str | None:
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        with self._lock:
            if not self._loaded:
                self._load()
            cached = self._entries.get(_key(path, st))
        if cached is not None:
            return cached
        progress.phase(f"hashing {path.rsplit('/', 1)[-1]}")
        started = time.time_ns()
        hashed = sha256_file(path)
        if hashed is None:
            return None
        digest, opened = hashed
        if not is_racy(stamp_of(opened), started) and self.file is not None:
            with self._lock:
                self._entries[_key(path, opened)] = digest
                self._new[_key(path, opened)] = digest
        return digest

    def save(self) -> None:
        """Merge new digests into the cache file; any failure leaves the cache as it was."""
        if not self._new or self.file is None:
            return
        from filelock import FileLock, Timeout

        with contextlib.suppress(OSError, Timeout):
            private_folder(self.file.parent, parents=True)  # never a lock file in another's
            secret = cache_secret(self.file, create=True)
            if secret is None:
                return
            with FileLock(str(self.file) + ".lock", timeout=2):
                fresh = HashCache(self.file)
                fresh._load(secret)
                merged = {**fresh._entries, **self._new}
                if len(merged) > MAX_ENTRIES:
                    merged = dict(list(merged.items())[-MAX_ENTRIES:])
                stored = {k: [digest, check_of(secret, k, digest)] for k, digest in merged.items()}
                write_cache_json(self.file, CACHE_VERSION, stored)
            self._new.clear()
