"""sha256 of library and compiler files, cached per user.

The cache maps (path, size, mtime_ns, inode) to a digest, so an unchanged file is never read
twice; it is a plain JSON file in the user's cache directory, guarded by a filelock. A cache
that cannot be read is discarded; a cache that cannot be written is skipped. Neither is fatal.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

MAX_HASHED_SIZE = 2 * 1024**3
MAX_ENTRIES = 20_000
_CHUNK = 1024 * 1024


def cache_dir(environ: Mapping[str, str]) -> Path | None:
    """The per-user cache folder: ``~/Library/Caches`` on macOS, XDG on Linux."""
    home = environ.get("HOME")
    if sys.platform == "darwin" and home:
        return Path(home, "Library", "Caches", "envsnap")
    xdg = environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg, "envsnap")
    return Path(home, ".cache", "envsnap") if home else None


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
    return f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}"


class HashCache:
    """File digests keyed by (path, size, mtime_ns, inode)."""

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

    def _load(self) -> None:
        self._loaded = True
        if self.file is None:
            return
        with contextlib.suppress(OSError, ValueError, UnicodeDecodeError):
            data = json.loads(self.file.read_bytes())
            if isinstance(data, dict) and data.get("version") == 1:
                entries = data.get("entries", {})
                self._entries = {
                    k: v for k, v in entries.items() if isinstance(v, str) and isinstance(k, str)
                }

    def digest(self, path: str) -> str | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        with self._lock:
            if not self._loaded:
                self._load()
            cached = self._entries.get(_key(path, st))
        if cached is not None:
            return cached
        hashed = sha256_file(path)
        if hashed is None:
            return None
        digest, opened = hashed
        with self._lock:
            self._entries[_key(path, opened)] = digest
            self._new[_key(path, opened)] = digest
        return digest

    def save(self) -> None:
        """Merge new digests into the cache file; any failure leaves the cache as it was."""
        if not self._new or self.file is None:
            return
        from filelock import FileLock, Timeout

        from envsnap.atomic import atomic_write

        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            with FileLock(str(self.file) + ".lock", timeout=2):
                fresh = HashCache(self.file)
                fresh._load()
                merged = {**fresh._entries, **self._new}
                if len(merged) > MAX_ENTRIES:
                    merged = dict(list(merged.items())[-MAX_ENTRIES:])
                payload = json.dumps({"version": 1, "entries": merged}, sort_keys=True)
                atomic_write(self.file, payload.encode())
            self._new.clear()
        except (OSError, Timeout):
            return
