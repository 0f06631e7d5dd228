"""Memoising the two slow probes, ``go env`` and ``go list``, for ``verify``'s clean path.

A cached section is reused only when a fingerprint of everything that could change its answer is
unchanged: the go binary, the go env files, every GO*/CGO_* variable and the few others cgo reads,
and the stat of every directory and build-relevant file of the module (plus local ``replace`` and
``go.work`` directories). Values are never stored in the fingerprint, only a hash of them. ``lock``
and ``show`` never use the cache; ``verify`` re-probes without it before reporting any drift, so a
stale entry can never invent a finding. ENVSNAP_NO_CACHE=1 turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from envsnap.hashing import cache_dir

Section = dict[str, Any]
BUILD_FILES = re.compile(
    r"(\.go|\.s|\.syso|^go\.mod|^go\.sum|^go\.work|^go\.work\.sum|^modules\.txt)$"
)
ENV_NAMES = ("CC", "CXX", "PKG_CONFIG", "PATH", "HOME", "XDG_CONFIG_HOME", "APPDATA")
MAX_ENTRIES = 64


def _stat_line(path: str) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return f"{path}:missing"
    return f"{path}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


def environment_key(environ: Mapping[str, str], go_path: str) -> str:
    """Everything ``go env`` answers from: the binary, its files, the variables it reads."""
    names = sorted(n for n in environ if n.startswith(("GO", "CGO_")) or n in ENV_NAMES)
    parts = [f"{n}={environ[n]}" for n in names]
    real = os.path.realpath(go_path)
    goroot = os.path.dirname(os.path.dirname(real))
    config = environ.get("XDG_CONFIG_HOME") or os.path.join(environ.get("HOME", ""), ".config")
    go_env_file = environ.get("GOENV") or os.path.join(config, "go", "env")
    parts += [_stat_line(p) for p in (real, os.path.join(goroot, "go.env"), go_env_file)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _local_dirs(module_dir: str) -> list[str]:
    """The module plus directories its go.mod ``replace``s or go.work ``use``s point at."""
    dirs = [module_dir]
    for name in ("go.mod", "go.work"):
        with contextlib.suppress(OSError):
            text = Path(module_dir, name).read_text(encoding="utf-8", errors="replace")
            for match in re.finditer(r"(?:=>|use)\s*\(?\s*(\.{1,2}/\S*|/\S+)", text):
                dirs.append(os.path.normpath(os.path.join(module_dir, match[1])))
    return dirs


def _tree_lines(root: str) -> Iterable[str]:
    for top, subdirs, names in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith((".", "_")))
        yield _stat_line(top)
        yield from (
            _stat_line(os.path.join(top, n)) for n in sorted(names) if BUILD_FILES.search(n)
        )


def module_key(environment: str, module_dir: str) -> str:
    """The environment key plus the stat of every directory and build file of the module."""
    digest = hashlib.sha256(environment.encode())
    for directory in _local_dirs(module_dir):
        for line in _tree_lines(directory):
            digest.update(line.encode() + b"\0")
    return digest.hexdigest()


class ProbeCache:
    """Sections by probe name and fingerprint, in the user's cache directory."""

    def __init__(self, file: Path | None) -> None:
        self.file = file
        self._entries: dict[str, Section] = {}
        self._dirty = False
        self._lock = threading.Lock()
        if file is not None:
            with contextlib.suppress(OSError, ValueError, UnicodeDecodeError):
                data = json.loads(file.read_bytes())
                if isinstance(data, dict) and data.get("version") == 1:
                    self._entries = dict(data.get("entries", {}))

    @classmethod
    def for_user(cls, environ: Mapping[str, str]) -> ProbeCache:
        if environ.get("ENVSNAP_NO_CACHE") == "1":
            return cls(None)
        folder = cache_dir(environ)
        return cls(folder / "probes.json" if folder else None)

    def memo(self, probe: str, key: str, compute: Callable[[], Section]) -> Section:
        """The cached section for (*probe*, *key*), or *compute*'s, which is then remembered."""
        slot = f"{probe}:{key}"
        with self._lock:
            hit = self._entries.get(slot)
        if isinstance(hit, dict):
            copy: Section = json.loads(json.dumps(hit))  # a private copy
            return copy
        section = compute()
        if "error" not in section and self.file is not None:
            with self._lock:
                self._entries[slot] = json.loads(json.dumps(section))
                self._dirty = True
        return section

    def save(self) -> None:
        if not self._dirty or self.file is None:
            return
        from envsnap.atomic import atomic_write

        entries = dict(list(self._entries.items())[-MAX_ENTRIES:])
        with contextlib.suppress(OSError):
            self.file.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.file, json.dumps({"version": 1, "entries": entries}).encode())
