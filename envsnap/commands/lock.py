"""``envsnap lock``: probe this machine and write its entry of envsnap.lock."""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from envsnap.atomic import atomic_write, write_target
from envsnap.commands import SUMMARIES
from envsnap.config import THE_DEFAULT, Variant
from envsnap.errors import (
    EXIT_DRIFT,
    EXIT_OK,
    EnvsnapError,
    IncompleteLock,
    LockError,
    expected_os_error,
)
from envsnap.host import LocalHost
from envsnap.lockfile import LockFile, make_entry, read_lock, render, with_entry, without
from envsnap.mutex import exclusive
from envsnap.probecache import ProbeCache
from envsnap.probes.collect import Snapshot, take_snapshot
from envsnap.stamps import Listing, Stamp, folder_state
from envsnap.variants import split_key, user_goflags, variant_host
from envsnap.workspace import Workspace

if TYPE_CHECKING:
    from envsnap.commands import Subparsers
    from envsnap.drift import Finding
    from envsnap.entry import Content

ESSENTIAL = ("go", "cgo")
_GO = ("go", "goflags")  # the probes lock never takes from the memo


def add_parser(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("lock", parents=[common], help=SUMMARIES["lock"])
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the lock would change"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace a lock that cannot be read (its entries are lost)",
    )
    parser.add_argument(
        "--allow-incomplete",
        action="store_true",
        help="write the entry even when probes failed, marked incomplete (verify reports it)",
    )


def _of_variant(snapshot: Snapshot) -> str:
    return "" if snapshot.variant == THE_DEFAULT.name else f" (variant {snapshot.variant})"


def live_snapshot(
    ws: Workspace,
    variant: Variant = THE_DEFAULT,
    cache: ProbeCache | None = None,
    listing: Callable[[], None] = lambda: None,
) -> Snapshot:
    """Probe the host as *variant* builds; refuse when the Go or cgo probe failed. *cache*: the
    memo, which gives the answers its ``remembered`` allows and keeps the new ones; *listing*:
    called as ``go list`` starts."""
    snapshot = take_snapshot(
        ws.host,
        str(ws.module_root),
        ws.config.track_env,
        cache,
        variant=variant,
        trace=True,
        listing=listing,
    )
    for name in ESSENTIAL:
        section = snapshot.entry.get(name)
        message = section.get("error") if isinstance(section, dict) else None
        if message:
            flat = " ".join(str(message).split())  # go's lines, as one line
            raise EnvsnapError(
                f"cannot lock{_of_variant(snapshot)}: {flat}",
                "fix the error above and run it again",
            )
    return snapshot


def say_left_out(snapshot: Snapshot, variant: Variant) -> None:
    """Name the packages envsnap.toml's exclusions leave out, and each exclusion that matches
    no package (a typo, or a package since removed)."""
    where = _of_variant(snapshot)
    left_out = snapshot.scope.excluded
    if left_out:
        names = ", ".join(left_out[:8]) + (
            f" and {len(left_out) - 8} more" if len(left_out) > 8 else ""
        )
        count = _count(len(left_out), "package")
        print(
            f"envsnap: not locked{where}: {count} excluded in envsnap.toml: {names}",
            file=sys.stderr,
        )
    for pattern in snapshot.scope.unmatched:
        print(
            f"envsnap: warning: the exclusion {pattern!r}{where} matches none of the packages of "
            f"{', '.join(variant.packages.include)}",
            file=sys.stderr,
        )


def failures_of(ws: Workspace, snapshot: Snapshot) -> list[str]:
    """Every probe that failed, including CGO_ENABLED=0 hiding the module's cgo packages."""
    from envsnap.completeness import cgo_disabled_failure, probe_failures
    from envsnap.probes.go import build_go, find_go

    failures = probe_failures(snapshot.entry)
    go_env = snapshot.entry["go"]["env"]
    if go_env.get("CGO_ENABLED", "1") != "1":
        module_dir = ws.host.module_dir(str(ws.module_root))
        variant = ws.config.variant(snapshot.variant)
        goflags = user_goflags(ws.host, find_go(ws.host), module_dir) if variant.tags else ""
        host = variant_host(ws.host, variant, goflags)
        go_bin = build_go(host, module_dir).path
        disabled = cgo_disabled_failure(host, go_bin, module_dir, go_env, variant.packages)
        failures += [disabled] if disabled else []
    return failures


def mark_incomplete(ws: Workspace, snapshot: Snapshot, allow: bool) -> Snapshot:
    """The snapshot to write: refused (exit 1) when a probe failed, unless *allow*; then the
    entry lists the failures in ``incomplete``."""
    from envsnap.completeness import partial_sections

    for partial in partial_sections(snapshot.entry):
        print(f"envsnap: warning: probe incomplete: {partial}", file=sys.stderr)
    failures = failures_of(ws, snapshot)
    if not failures:
        return snapshot
    for failure in failures:
        level = "warning" if allow else "error"
        print(f"envsnap: {level}: probe failed{_of_variant(snapshot)}: {failure}", file=sys.stderr)
    if not allow:
        raise IncompleteLock(
            f"not writing {ws.lock_path.name}: {len(failures)} probe(s) failed on this "
            f"machine{_of_variant(snapshot)}",
            "fix them and lock again, or pass --allow-incomplete to write an entry marked "
            "incomplete",
        )
    entry: Content = {**snapshot.entry, "incomplete": failures}
    return Snapshot(snapshot.platform, entry, snapshot.variant)


def _current(
    ws: Workspace, force: bool, early: LockFile | None = None
) -> tuple[LockFile, bytes | None]:
    """The lock as it is now (read under the writers' lock), and its bytes; *early*: the lock
    parsed while the probes ran, used if the file has not changed since."""
    try:
        existing = read_lock(ws.lock_path, early)
    except LockError:
        if not force:
            raise
        print(f"envsnap: replacing unreadable {ws.lock_path.name} (--force)", file=sys.stderr)
        return LockFile(ws.lock_path), b""
    if existing is None:
        return LockFile(ws.lock_path), None
    return existing, existing.text.encode()  # the bytes it was parsed from


def _early(ws: Workspace, listing: threading.Event) -> LockFile | None:
    """The lock as it is now, parsed with its blocks while ``go list`` runs (the probes wait on
    it; started before, the parse would only slow them down), and checked again under the
    writers' lock (see _current); None when it cannot be read. The remembered verdicts are
    decoded then too."""
    listing.wait()
    try:
        lock = read_lock(ws.lock_path)
    except (EnvsnapError, OSError):
        return None
    if lock is not None:
        lock.blocks  # noqa: B018 - parsed now, kept in the lock
    from envsnap.verdict import read_ahead

    read_ahead(os.environ)  # what leave_verify_warm compares its verdict with
    return lock


def snapshots(
    ws: Workspace,
    allow_incomplete: bool,
    cache: ProbeCache | None = None,
    listing: Callable[[], None] = lambda: None,
) -> list[Snapshot]:
    """This machine's snapshot for the default variant and every declared one, each entry
    validated; *listing* is called as each ``go list`` starts."""

    def one(variant: Variant) -> Snapshot:
        snapshot = live_snapshot(ws, variant, cache, listing)
        say_left_out(snapshot, variant)
        return mark_incomplete(ws, snapshot, allow_incomplete)

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            taken = list(pool.map(one, ws.config.all_variants()))
    finally:
        ws.close()
    validate(taken)
    return taken


def validate(taken: list[Snapshot]) -> None:
    """Hold each entry to the lock's shape (a LockError names the first bad field), but one
    whose very content this envsnap validated before (:mod:`envsnap.validated`); then keep each
    as validated, and as it is written (what verify reads back)."""
    from envsnap.validated import content_key, remember_validated, was_validated

    stamp = {"envsnap": "-", "digest": "sha256:" + "0" * 64}
    entries = {snapshot.key: {**stamp, **snapshot.entry} for snapshot in taken}
    keys = {name: content_key(entry) for name, entry in entries.items()}
    new = [name for name in entries if not was_validated(os.environ, keys[name])]
    if new:
        from envsnap.snapshot import validate_entry  # pydantic: only for content not seen yet

        for name in new:
            validate_entry(name, entries[name], strict=True)
    written = [content_key(make_entry(snapshot.entry)) for snapshot in taken]
    remember_validated(os.environ, [*keys.values(), *written])


def updated(lock: LockFile, taken: list[Snapshot]) -> LockFile:
    """*lock* with this platform's entries replaced, and its undeclared variants dropped; what
    an emitted .envrc exports to recreate an entry is kept as that entry recorded it."""
    from envsnap.ownexports import undo_own_exports

    for snapshot in taken:
        old = lock.platforms.get(snapshot.key)
        entry = undo_own_exports(old, snapshot.entry) if isinstance(old, dict) else snapshot.entry
        lock = with_entry(lock, snapshot.key, entry)
    platform = taken[0].platform
    keys = {snapshot.key for snapshot in taken}
    stale = {k for k in lock.platforms if split_key(k)[0] == platform and k not in keys}
    for key in sorted(stale):
        print(f"envsnap: dropping {key}: its variant is no longer in envsnap.toml", file=sys.stderr)
    return without(lock, stale)


def run(args: argparse.Namespace) -> int:
    ws = Workspace.from_args(args)
    # lock always asks go (go env, go list) afresh; the other probes' answers, the traced link's
    # included, are reused while every stamp they stood on is unchanged (the link's also while
    # the toolchain is); it leaves its answers where verify looks for them
    cache = ProbeCache.for_user(ws.host, os.environ, remembered=lambda probe: probe not in _GO)
    listing = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as aside:
        early = aside.submit(_early, ws, listing)
        try:
            taken = snapshots(ws, args.allow_incomplete, cache, listing.set)
        finally:
            listing.set()  # a probe that failed before go list ran: the parse waits no more
    names = ", ".join(snapshot.key for snapshot in taken)

    def waiting() -> None:
        print(f"envsnap: another envsnap is writing {ws.lock_path.name}, waiting…", file=sys.stderr)

    try:
        with exclusive(ws.lock_path, on_wait=waiting):
            lock, old_bytes = _current(ws, args.force, early.result())
            new_lock = updated(lock, taken)
            new_bytes = render(new_lock)
            if new_bytes == old_bytes:
                print(f"{ws.lock_path.name} is up to date ({names})", file=sys.stderr)
                leave_verify_warm(ws, args, cache, new_lock, taken)
                return EXIT_OK
            changes = changes_since(ws, lock, new_lock, taken)
            if args.check:
                state = "does not exist" if old_bytes is None else "would change"
                print(
                    f"{ws.lock_path.name} {state} for {names}; run `envsnap lock`", file=sys.stderr
                )
                _print_lines(changes)
                return EXIT_DRIFT
            target = write_target(ws.lock_path)
            before = folder_state(str(target.parent))
            atomic_write(ws.lock_path, new_bytes)
            _outwait_racy_window()
            if isinstance(ws.host, LocalHost):
                restamp_folder(cache, target, before)
            leave_verify_warm(ws, args, cache, new_lock, taken)
    except OSError as exc:
        raise write_failure(ws.lock_path, exc) from None
    print(f"wrote {ws.lock_path} ({names})", file=sys.stderr)
    _print_lines([summary(snapshot) for snapshot in taken] + changes)
    return EXIT_OK


def restamp_folder(cache: ProbeCache, written: Path, before: tuple[Stamp, Listing] | None) -> None:
    """Writing the lock changed the stamp of the folder it is in, which the memos of the module's
    folder hold: when nothing in that folder but the lock changed since *before* (taken under
    the writers' lock, just before the write), the memos keep the folder's new stamp."""
    after = folder_state(str(written.parent))
    if before is None or after is None:
        return
    if _others(before[1], written.name) == _others(after[1], written.name):
        cache.restamp(before[0], after[0])


def _others(listing: Listing, name: str) -> Listing:
    return {entry: found for entry, found in listing.items() if entry != name}


def leave_verify_warm(
    ws: Workspace,
    args: argparse.Namespace,
    cache: ProbeCache,
    lock: LockFile,
    taken: list[Snapshot],
) -> None:
    """Keep what a verify right after this lock needs: the probes' memos, and the clean verdict
    when the lock now holds exactly what verify would find (every answer memoised, each entry
    clean against the live one) on this machine."""
    from envsnap.checking import is_clean
    from envsnap.commands.verify import keep_clean_verdict, selected_variants

    cache.save()
    if cache.used is None or not isinstance(ws.host, LocalHost):
        return
    if not all(is_clean(lock.platforms[s.key], s.entry) for s in taken):
        return
    try:
        variants = selected_variants(ws.config, args)
    except EnvsnapError:  # an $ENVSNAP_VARIANT envsnap.toml does not declare: verify says so
        return
    shown = tuple(v.name for v in variants) if ws.config.variants else ()
    keep_clean_verdict(ws, args, taken[0].platform, shown, cache.used, time.time_ns())


def _outwait_racy_window() -> None:
    """Writing the lock changed the module's folder, which the memos stamp; a verify started
    within the racy window of that change could not keep its memo. Let the window pass."""
    import time

    from envsnap.stamps import RACY_FINE_NS

    time.sleep(RACY_FINE_NS / 1e9)


def _print_lines(lines: list[str]) -> None:
    for line in lines:
        print(f"envsnap: {line}", file=sys.stderr)


def summary(snapshot: Snapshot) -> str:
    """What an entry locks, in one line: Go, the C compiler, the cgo packages and libraries."""
    entry = snapshot.entry
    parts = [f"{snapshot.key}: {entry['go']['version'] or 'go ?'}"]
    compiler = entry["cc"]["compiler"]
    if version := compiler.get("version"):
        number = re.search(r"\d+\.\d+(?:\.\d+)?", version)
        command = compiler.get("command") or "cc"
        parts.append(f"{command} {number[0]}" if number else command)
    packages = entry["cgo"].get("packages", [])
    if not packages:
        return "locked " + ", ".join(parts) + "; no cgo package: the module builds without C"
    libraries = [
        f"{lib['name']} {lib['version']}" if lib.get("version") else lib["name"]
        for lib in entry["libraries"]
    ]
    parts.append(_count(len(packages), "cgo package"))
    listed = f" ({', '.join(libraries)})" if libraries else ""
    parts.append(_count(len(libraries), "library", "libraries") + listed)
    return "locked " + ", ".join(parts)


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else (many or one + 's')}"


def changes_since(ws: Workspace, old: LockFile, new: LockFile, taken: list[Snapshot]) -> list[str]:
    """What a re-lock changes in this platform's entries, in verify's words."""
    from envsnap.checking import compare_entries

    lines = []
    for snapshot in taken:
        before = old.platforms.get(snapshot.key)
        if before is None:
            continue
        after = new.platforms[snapshot.key]
        try:
            findings = compare_entries(before, after, snapshot.platform, ws.config)
        except EnvsnapError:  # an old entry this envsnap cannot read: it is simply replaced
            lines.append(f"  changed: {snapshot.key}: the old entry cannot be read, it is replaced")
            continue
        lines += [f"  changed: {_change(f.subject, f)}" for f in findings]
    return lines


def _change(subject: str, finding: Finding) -> str:
    if finding.added or finding.removed:
        words = [("added", finding.added), ("removed", finding.removed)]
        said = "; ".join(f"{how} {' '.join(items)}" for how, items in words if items)
        return f"{subject}: {said}"
    if finding.locked in _NOTHING:
        return f"{subject}: added" + _scalar(finding.live, " ")
    if finding.live in _NOTHING:
        return f"{subject}: removed"
    if isinstance(finding.locked, dict | list) or isinstance(finding.live, dict | list):
        return f"{subject}: changed"
    return f"{subject}: {_short(finding.locked)} → {_short(finding.live)}"


_NOTHING: tuple[object, ...] = (None, "", [], {})


def _scalar(value: object, before: str) -> str:
    return "" if isinstance(value, dict | list) else before + _short(value)


def _short(value: object) -> str:
    text = "(none)" if value in _NOTHING else str(value)
    return text if len(text) <= 72 else text[:69] + "…"


def write_failure(path: Path, exc: OSError) -> EnvsnapError:
    """A lock that could not be written, as one line: what the machine said, and that the old
    lock (if any) is left as it was."""
    kept = "the old lock is unchanged" if os.path.lexists(path) else "nothing was written"
    known = expected_os_error(exc, "cannot write")
    if known is not None:
        return LockError(known.message, f"{known.hint}; {kept}")
    where = exc.filename or path
    return LockError(f"cannot write {where}: {exc.strerror or exc}", kept)
