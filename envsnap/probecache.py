"""Memoised probe answers for ``verify``'s clean path, each kept with what it was read from.

A probe that runs tools (``go env``, ``go list``, the compiler, pkg-config) is memoised under a
key of its inputs — the environment, the module directory as given, the arguments — together with
a *manifest*: the stamp (:mod:`envsnap.stamps`) of every file and directory the answer was read
from. The manifest is recorded while the probe runs uncached: every path the probe asks the host
about, every executable it runs and every directory searched on PATH, plus what only the probe
knows its tools read (Go's settings files as ``go env`` names them, go.work and every package
directory ``go list`` reported, pkg-config's search path). An entry is reused only while every
stamp is unchanged, so nothing is guessed; a manifest with a racy stamp is not stored.

``lock`` asks go afresh and reuses the other answers by their stamps, and leaves every answer
here for the verify after it; ``verify`` re-asks the probes behind a drifted section (those of
this run excepted) before it reports the drift, so a stale entry could at most hide one, and the
tests hold cached and uncached ``verify`` equal.
ENVSNAP_NO_CACHE=1 turns it off. A corrupt or foreign cache file is discarded silently, and each
entry carries a check (its slot, manifest and value sealed with the user's cache secret,
:func:`envsnap.stamps.seal_data`): an entry changed on disk, or written by anyone without the
secret, no longer matches it and is never used.
"""

from __future__ import annotations

import copy
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar, cast

from envsnap import __version__
from envsnap.entry import Json, JsonObject
from envsnap.host import DEFAULT_TIMEOUT, MAX_READ, OUTPUT_LIMIT, CommandResult, FileInfo, Host
from envsnap.stamps import (
    SECRET_SIZE,
    Stamp,
    cache_dir,
    cache_secret,
    held,
    is_racy,
    key_of,
    read_cache_json,
    seal_data,
    stamp,
    write_cache_json,
)

CACHE_VERSION = 4
MAX_ENTRIES = 64
# A verify checks its variants side by side, each with its own cache of the same file: they
# save in turn, each adding its new entries to what the file holds by then.
_SAVING = threading.Lock()


class TrackingHost(Host):
    """A host that notes every path a probe asks about, and every executable it runs."""

    def __init__(self, inner: Host) -> None:
        self.inner = inner
        self.system, self.machine = inner.system, inner.machine
        self.replayed = inner.replayed
        self.paths: set[str] = set()
        # when the probe started (time.time_ns()), or a tool run it was handed, started before
        # it (envsnap.prefetch): the files that run read may have changed since
        self.earliest_run_ns = time.time_ns()
        self._lock = threading.Lock()

    def note(self, paths: Iterable[str]) -> None:
        """Keep *paths*, a relative one resolved against the working directory, where the
        tools envsnap runs without a directory of their own resolve it."""
        with self._lock:
            self.paths.update(os.path.abspath(p) for p in paths if p and "\0" not in p)

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        env: Mapping[str, str] | None = None,
        limit: int = OUTPUT_LIMIT,
    ) -> CommandResult:
        program = argv[0] if argv[0].startswith("/") else self.which(argv[0])
        self.note([program] if program else [])
        result = self.inner.run(argv, cwd=cwd, timeout=timeout, env=env, limit=limit)
        if result.started_ns is not None:
            with self._lock:
                self.earliest_run_ns = min(self.earliest_run_ns, result.started_ns)
        return result

    def stop_running(self) -> None:
        self.inner.stop_running()

    def read_bytes(self, path: str, limit: int = MAX_READ) -> bytes | None:
        self.note([path])
        return self.inner.read_bytes(path, limit)

    def stat(self, path: str) -> FileInfo | None:
        self.note([path])
        return self.inner.stat(path)

    def realpath(self, path: str) -> str:
        self.note([path])
        return self.inner.realpath(path)

    def which(self, name: str) -> str | None:
        found = self.inner.which(name)
        self.note(path_dirs_searched(self.inner.getenv("PATH") or "", found))
        self.note([found] if found else [])
        return found

    def getenv(self, name: str) -> str | None:
        return self.inner.getenv(name)

    def file_digest(self, path: str) -> str | None:
        self.note([path])
        return self.inner.file_digest(path)

    def module_dir(self, local_dir: str) -> str:
        return self.inner.module_dir(local_dir)

    def stamp(self, path: str) -> Stamp:
        return self.inner.stamp(path)

    def memo_key(self) -> str | None:
        return self.inner.memo_key()


def path_dirs_searched(path_variable: str, found: str | None) -> list[str]:
    """The PATH directories looked in before (and including) the one *found* is in; an empty
    entry is the working directory, as in every shell (``PATH=:$PATH``), and a relative one
    is under it: a program that appears there changes what a lookup finds (envsnap refuses it,
    as go does), so it is stamped like any other."""
    searched = []
    for directory in path_variable.split(os.pathsep):
        directory = os.path.abspath(directory or os.curdir)
        searched.append(directory)
        if found is not None and os.path.dirname(found) == directory.rstrip("/"):
            break
    return searched


def manifest_of(paths: Iterable[str], stamper: Callable[[str], Stamp] = stamp) -> dict[str, Stamp]:
    return {path: stamper(path) for path in sorted(set(paths))}


def check_of(secret: bytes, slot: str, manifest: object, value: object) -> str:
    """What an entry is stored with, to tell an entry changed on disk, or written by anyone
    without the user's *secret*, from the one envsnap wrote."""
    return seal_data(secret, CACHE_VERSION, slot, manifest, value, cache="probes")


def _reused(secret: bytes | None, slot: str, hit: Json, host: Host) -> tuple[Json, Manifest] | None:
    """The value of a well-formed entry, as it was written, whose every stamp is unchanged on
    *host*, with those stamps; else None."""
    if secret is None or not isinstance(hit, dict) or not isinstance(hit.get("value"), dict):
        return None
    if hit.get("check") != check_of(secret, slot, hit.get("manifest"), hit["value"]):
        return None
    manifest = held(hit.get("manifest"), host.stamp)
    return None if manifest is None else (hit["value"], manifest)


# What a probe returns: a section of the entry, or a few of them with what else it found.
S = TypeVar("S", bound=Mapping[str, object])
Manifest = dict[str, Stamp]
# A probe, run on a host that notes what it asks about.
Probe = Callable[[Host], S]
# The paths a probe's tools read that the host never saw (e.g. every package directory go list
# walked), given the section the probe returned.
Inputs = Callable[[S], Iterable[str]]


class ProbeCache:
    """Probe sections by name and key, each with its manifest, in the user's cache folder."""

    def __init__(
        self, host: Host, file: Path | None, remembered: Callable[[str], bool] = lambda _: True
    ) -> None:
        self.host = host
        self.file = file
        self._secret = cache_secret(file)
        self._entries: JsonObject = read_cache_json(file, CACHE_VERSION) if self._secret else {}
        self._new: JsonObject = {}  # the entries to write, by slot
        self._computed: set[str] = set()  # the slots whose entry this run computed
        self._used: set[str] = set()  # the slots whose entry this run used or computed
        self._lock = threading.Lock()
        # which probes' answers from earlier runs may be used (an answer of this run always is)
        self.remembered = remembered
        # what this run's answers stand on, for a verdict (envsnap.verdict); None once an
        # answer was computed but could not be kept (a racy stamp, an error)
        self.used: dict[str, Stamp] | None = {}

    @classmethod
    def for_user(
        cls,
        host: Host,
        environ: Mapping[str, str],
        remembered: Callable[[str], bool] = lambda _: True,
    ) -> ProbeCache:
        folder = cache_dir(environ)
        return cls(host, folder / "probes.json" if folder else None, remembered)

    def memo(
        self,
        probe: str,
        key: str,
        compute: Probe[S],
        inputs: Inputs[S] = lambda _: (),
        host: Host | None = None,
        *,
        fresh: bool = False,
        keep: Callable[[S], bool] = lambda _: True,
    ) -> S:
        """The section remembered for (*probe*, *key*) while its manifest holds, else computed
        on *host* (default: the cache's; a build variant's host carries its GOFLAGS). With
        *fresh* it is computed whatever is remembered; it is kept when *keep* says so (and it is
        no error)."""
        slot = f"{probe}:{key_of(__version__, key)}"
        with self._lock:
            hit = self._entries.get(slot)
            usable = not fresh and (slot in self._computed or self.remembered(probe))
        reused = _reused(self._secret, slot, hit, host or self.host) if usable else None
        if reused is not None:
            value, manifest = reused
            self._stood_on(manifest)
            with self._lock:
                self._used.add(slot)
            return _as_computed(compute, value)
        tracker = TrackingHost(host or self.host)
        section = compute(tracker)
        started = tracker.earliest_run_ns  # the probe's start, or its early tool run's
        kept = "error" not in section and keep(section)
        paths = [*tracker.paths, *inputs(section)] if kept else []
        manifest = manifest_of(paths, (host or self.host).stamp)
        if not manifest or any(is_racy(s, started) for s in manifest.values()):
            self._stood_on(None)
            return section
        self._stood_on(manifest)
        with self._lock:
            entry = self._sealed(slot, manifest, section)
            self._computed.add(slot)
            self._used.add(slot)
            if isinstance(hit, dict) and hit.get("check") == entry["check"]:
                return section  # the very entry the file holds: nothing to write
            self._entries.pop(slot, None)
            self._entries[slot] = self._new[slot] = entry
        return section

    def rechecking(self, remembered: Callable[[str], bool]) -> ProbeCache:
        """This cache, for a second look: the answers this run computed are used, those of
        earlier runs only for the probes *remembered* names; what the second look stands on is
        its own."""
        again = copy.copy(self)
        again.remembered, again.used = remembered, {}
        return again

    def _sealed(self, slot: str, manifest: object, section: object) -> JsonObject:
        """An entry as it is stored: its manifest and value as plain JSON, and their check (the
        caller holds the lock)."""
        value: Json = json.loads(json.dumps(section))
        stamps: Json = json.loads(json.dumps(manifest))
        check = check_of(self._writing_secret(), slot, stamps, value)
        return {"manifest": stamps, "value": value, "check": check}

    def restamp(self, before: Stamp, after: Stamp) -> None:
        """A folder this run's answers stood on changed in a way none of them can see (the lock
        written into the module's folder, nothing else): each stamp *before* of the entries this
        run used, and of what its answers stood on, is *after* from now on."""
        if before is None or after is None or before == after:
            return
        was, now = list(before), list(after)
        with self._lock:
            for slot in self._used:
                entry = self._entries.get(slot)
                if not isinstance(entry, dict) or not isinstance(entry["manifest"], dict):
                    continue
                manifest = entry["manifest"]
                if was in manifest.values():
                    stamps = {
                        path: now if found == was else found for path, found in manifest.items()
                    }
                    self._entries[slot] = self._new[slot] = self._sealed(
                        slot, stamps, entry["value"]
                    )
            if self.used is not None:
                self.used = {
                    path: after if found == before else found for path, found in self.used.items()
                }

    def _writing_secret(self) -> bytes:
        """The secret new entries are sealed with (the caller holds the lock): the user's,
        created on the first entry; without a cache folder of the user's own, one for this run
        alone (its entries are never written: see write_cache_bytes)."""
        if self._secret is None:
            self._secret = cache_secret(self.file, create=True) or os.urandom(SECRET_SIZE)
        return self._secret

    def stands_on_nothing(self) -> None:
        """An answer of this run that a later run would not get from the memo: no verdict."""
        self._stood_on(None)

    def _stood_on(self, manifest: Manifest | None) -> None:
        with self._lock:
            if manifest is None or self.used is None:
                self.used = None
            else:
                self.used.update(manifest)

    def save(self) -> None:
        """Add this run's new entries to the file (another cache of it may have saved since)."""
        if not self._new or self.file is None:
            return
        with _SAVING:
            entries = read_cache_json(self.file, CACHE_VERSION) if self._secret else {}
            for slot, entry in self._new.items():
                entries.pop(slot, None)
                entries[slot] = entry
            write_cache_json(self.file, CACHE_VERSION, dict(list(entries.items())[-MAX_ENTRIES:]))
            self._new.clear()  # written: a second look that computes nothing writes nothing


def _as_computed(compute: Probe[S], value: Json) -> S:
    """A remembered value (a private copy) as *compute* returned it: this envsnap sealed it from
    what *compute* returned for the same slot (the slot holds envsnap's version), and JSON gives
    back the same plain data."""
    copy: Json = json.loads(json.dumps(value))
    return cast(S, copy)
