"""Compare a live entry with a locked one: the use case behind verify, diff, doctor and log.

The commands only parse their arguments and print; what they conclude comes from here. This
module is imported on the clean-verify fast path (:mod:`envsnap.shortcut` asks it for
:func:`uncommitted_warning`), so it imports nothing at the top: the lock, the rules,
pydantic and the probes are imported by the functions that need them.
"""

from __future__ import annotations

import os

from envsnap.names import LOCK_NAME

TYPE_CHECKING = False  # typing itself is not imported: a clean verify never needs it
if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from deepdiff import DeepDiff

    from envsnap.config import Config, Variant
    from envsnap.drift import Finding, Policy
    from envsnap.drift.actions import Action
    from envsnap.entry import Content, Entry, Json
    from envsnap.host import Host
    from envsnap.lockfile import LockFile
    from envsnap.probecache import ProbeCache
    from envsnap.probes.collect import Snapshot
    from envsnap.stamps import Stamp
    from envsnap.workspace import Workspace


def load_lock(path: Path, rev: str | None) -> tuple[LockFile, str]:
    """The lock from the work tree, or as committed at *rev*, and how to name it."""
    from envsnap.errors import LockError
    from envsnap.lockfile import parse_lock, read_lock

    if rev is not None:
        from envsnap.git import file_at_rev

        return parse_lock(path, file_at_rev(path, rev)), f"{LOCK_NAME} at {rev}"
    lock = read_lock(path)
    if lock is None:
        raise LockError(f"there is no {LOCK_NAME} beside go.mod", "create it with `envsnap lock`")
    return lock, LOCK_NAME


def checked_entry(lock: LockFile, platform: str, name: str) -> Entry:
    """The locked entry for *platform*, refusing one whose digest shows a hand edit."""
    from envsnap.errors import LockError

    if not lock.digest_ok(platform):
        raise LockError(
            f"the {platform} entry of {name} was edited by hand (its digest does not match)",
            "run `envsnap lock` or restore the file",
        )
    return lock.platforms[platform]


def is_clean(locked: Entry, live_content: Content) -> bool:
    """The live entry has the locked digest, and the lock is not marked incomplete (which no
    machine verifies clean)."""
    from envsnap.lockfile import entry_digest

    if locked.get("incomplete"):
        return False
    live: dict[str, object] = {"envsnap": locked.get("envsnap"), **live_content}
    if entry_digest(live) == locked.get("digest"):
        return True
    from envsnap.drift import without_unrecorded  # a lock from before a field was recorded

    try:
        held = without_unrecorded(locked, live_content)
    except (AttributeError, KeyError, TypeError):  # a hand edit of the wrong shape is no match:
        return False  # the full comparison validates it and says where it is wrong
    return entry_digest({"envsnap": locked.get("envsnap"), **held}) == locked.get("digest")


def as_locked(entry: Content) -> Entry | None:
    """*entry* as a locked entry when it is one (it has a digest: a lock's, as in diff)."""
    return _as_entry(entry) if "digest" in entry else None


def _as_entry(entry: Content) -> Entry:
    """The boundary where a side is taken for a lock's entry: :func:`~envsnap.lockfile.
    readable_entry` validates it, naming whatever it lacks."""
    from typing import cast

    return cast("Entry", entry)


def policy_of(config: Config) -> Policy:
    """envsnap.toml's severity overrides and ignored ids, as the rules take them."""
    from envsnap.drift import Policy

    return Policy(config.severity, config.ignore)


def explain(
    locked: Content,
    live: Content,
    platform: str,
    policy: Policy,
    validate: Sequence[Content] = (),
    labels: tuple[str | None, str | None] = (None, None),
) -> list[Finding]:
    """Every difference as a Finding (the slow path: imports the rules). Each entry of
    *validate* is first checked against the lock's models (a LockError names what is wrong),
    and the fields a newer envsnap added to it are left out, with a note on stderr naming them
    after the side's label (no label, no note)."""
    from envsnap.drift import compare
    from envsnap.lockfile import readable_entry
    from envsnap.ownexports import undo_own_exports

    def readable(entry: Content, label: str | None) -> Content:
        if not any(e is entry for e in validate) or _validated_before(entry):
            return entry
        known, note = readable_entry(label or "", platform, _as_entry(entry))
        if note and label:
            import sys

            sys.stderr.write(note + "\n")
        return known

    locked, live = readable(locked, labels[0]), readable(live, labels[1])
    live = undo_own_exports(locked, live)  # what an emitted .envrc set to recreate the lock
    findings = compare(locked, live, policy)
    if findings or not (paths := unexplained_paths(locked, live)):
        return findings
    if policy.ignore and compare(locked, live):  # envsnap.toml ignores every difference there is
        return []
    return unexplained(paths, locked, live, policy)


def _validated_before(entry: Content) -> bool:
    """An entry whose very content (its envsnap version and digest included) this envsnap
    validated when lock wrote it: valid, and with no field unknown here (envsnap.validated)."""
    from envsnap.validated import content_key, was_validated

    return was_validated(os.environ, content_key(entry))


def unexplained_paths(locked: Content, live: Content) -> list[tuple[str, ...]]:
    """Where two entries' contents (what their digests are taken over) differ: the paths of the
    differing values, a list whose items differ named whole. The entries are nested tables and
    lists, which deepdiff walks (its tree view names each difference by its path)."""
    from envsnap.drift import without_unrecorded
    from envsnap.lockfile import content_of

    old, new = content_of(locked), content_of(without_unrecorded(locked, live))
    found: set[tuple[str, ...]] = set()
    for items in _tree(_json(old), _json(new)).values():
        for item in items:
            found.add(_table_path(item.path(output_format="list")))
    return sorted(found)


def _tree(old: Json, new: Json) -> DeepDiff:
    """deepdiff's tree of the differences. deepdiff 8 and later report two tables that share
    under a third of their keys as one change of the whole table, unless
    ``threshold_to_diff_deeper`` is 0 (a parameter 7.x refuses): each field is named either way."""
    import inspect

    from deepdiff import DeepDiff

    if "threshold_to_diff_deeper" in inspect.signature(DeepDiff).parameters:
        return DeepDiff(old, new, view="tree", threshold_to_diff_deeper=0)
    return DeepDiff(old, new, view="tree")


def _table_path(path: list[object]) -> tuple[str, ...]:
    """A deepdiff path up to its first list index: a list that differs is named whole."""
    keys: list[str] = []
    for key in path:
        if isinstance(key, int):
            break
        keys.append(str(key))
    return tuple(keys)


def _json(content: Content) -> Json:
    """An entry's content as the plain JSON it is, to walk by path."""
    from typing import cast

    return cast("Json", content)


def _at(entry: Content, path: tuple[str, ...]) -> Json:
    value = _json(entry)
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _brief(value: Json, other: Json) -> Json:
    """A value as the finding shows it: a scalar as it is, a list or table by its size (a list
    holding *other*'s items in another order says so)."""
    import json

    if isinstance(value, list) and isinstance(other, list):
        items = sorted(json.dumps(item, sort_keys=True) for item in value)
        if items == sorted(json.dumps(item, sort_keys=True) for item in other):
            return f"the same {len(value)} items, in another order"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    if isinstance(value, dict):
        return f"a table of {len(value)} keys"
    return value


def unexplained(
    paths: Sequence[tuple[str, ...]], locked: Content, live: Content, policy: Policy
) -> list[Finding]:
    """The finding for a difference none of the rules reports (a list in another order, an
    empty table): never silence, so that verify agrees with ``lock --check``."""
    from envsnap.drift import RELOCK, Finding, apply_policy

    names = [".".join(path) or "(the whole entry)" for path in paths]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    finding = Finding(
        id=f"unexplained.{names[0]}",
        subject=names[0],
        category="changed",
        severity="warning",
        locked=_brief(old := _at(locked, paths[0]), None),
        live=_brief(_at(live, paths[0]), old),
        why=f"the entry differs in a way no rule explains: {shown}",
        fix=RELOCK,
    )
    return apply_policy([finding], policy)


def findings_for(
    locked: Content,
    live: Content,
    platform: str,
    config: Config,
    validate: bool = True,
    labels: tuple[str | None, str | None] = (LOCK_NAME, None),
) -> list[Finding]:
    """Explain how *live* differs from the *locked* entry (validated first, unless told not;
    a live side that is a lock too, as in diff, is read the same way)."""
    sides = ((locked,) if validate else ()) + ((live,) if "digest" in live else ())
    return explain(locked, live, platform, policy_of(config), sides, labels)


def compare_entries(
    old: Content,
    new: Content,
    platform: str,
    config: Config,
    labels: tuple[str | None, str | None] = (None, None),
) -> list[Finding]:
    """Two entries of any origin (a lock's, a recording's, live): none when *old* is a locked
    entry whose digest *new* has."""
    locked = as_locked(old)
    if locked is not None and is_clean(locked, new):
        return []
    return findings_for(old, new, platform, config, locked is not None, labels)


def against_lock(
    lock: LockFile,
    name: str,
    key: str,
    live: Content,
    config: Config,
    notes: bool = True,
) -> list[Finding]:
    """The findings of a live entry against the lock's entry *key* (none: clean); a lock
    without that entry is one finding."""
    if key not in lock.platforms:
        from envsnap.drift import missing_platform

        return [missing_platform(key, sorted(lock.platforms))]
    locked = checked_entry(lock, key, name)
    if is_clean(locked, live):
        return []
    return findings_for(locked, live, key, config, labels=(name if notes else None, None))


def live_snapshot(
    ws: Workspace, cache: ProbeCache, variant: Variant | None = None, trace: bool = False
) -> tuple[Snapshot, dict[str, Stamp] | None]:
    """This machine's snapshot as *variant* builds, with the probe answers *cache* may give;
    with *trace*, the libraries a real link opens. Also what the answers stood on, when every
    one of them is in the memo."""
    from envsnap.host import LocalHost
    from envsnap.probes.collect import take_snapshot

    try:
        snapshot = take_snapshot(
            ws.host,
            str(ws.module_root),
            ws.config.track_env,
            cache,
            variant=variant or ws.config.default,
            trace=trace,
        )
    finally:
        cache.save()
    # a verdict is checked against this machine's stamps, so only its answers are kept in one
    stood_on = cache.used if isinstance(ws.host, LocalHost) else None
    return snapshot, stood_on


class Checked:
    """One variant's result: its lock key and platform, its findings (None: a missing entry,
    allowed), and what a clean answer stood on (for a remembered verdict)."""

    def __init__(
        self,
        key: str,
        platform: str,
        findings: list[Finding] | None,
        stood_on: dict[str, Stamp] | None = None,
    ) -> None:
        self.key, self.platform, self.findings, self.stood_on = key, platform, findings, stood_on


def check_variant(
    ws: Workspace,
    lock: LockFile,
    name: str,
    variant: Variant,
    allow_missing: bool,
    notes: bool = True,
) -> Checked:
    """This machine, built as *variant*, against the lock: from the memo first, and a drift
    re-checked (:func:`rechecked`)."""
    from envsnap.probecache import ProbeCache

    cache = ProbeCache.for_user(ws.host, os.environ)
    snapshot, stood_on = live_snapshot(ws, cache, variant)
    key = snapshot.key
    if key not in lock.platforms and allow_missing:
        return Checked(key, snapshot.platform, None)
    if key in lock.platforms:
        locked = checked_entry(lock, key, name)
        if is_clean(locked, snapshot.entry):
            return Checked(key, snapshot.platform, [], stood_on)
        snapshot = rechecked(ws, cache, variant, snapshot, locked)
    findings = against_lock(lock, name, key, snapshot.entry, ws.config, notes)
    findings = [with_variant_choice(f, ws.config, variant) for f in findings]
    return Checked(key, snapshot.platform, doable(ws.host, findings))


def drifted_sections(locked: Entry, live: Content) -> set[str]:
    """The sections of *live* that differ from the *locked* entry's (held to what the lock
    records); every one of them when the locked entry cannot be read that way."""
    from envsnap.drift import without_unrecorded

    names = (set(locked) | set(live)) - {"envsnap", "digest"}
    try:
        held = without_unrecorded(locked, live)
    except (AttributeError, KeyError, TypeError):  # a hand edit of the wrong shape
        return names
    return {name for name in names if locked.get(name) != held.get(name)}


def with_variant_choice(finding: Finding, config: Config, checked: Variant) -> Finding:
    """Build tags that are another declared variant's: the first action is to verify as that
    variant (`--variant NAME`), the build the live tags make."""
    from dataclasses import replace

    from envsnap.drift.actions import Action

    if finding.id != "go.tags" or not isinstance(finding.live, list):
        return finding
    live = sorted(str(tag) for tag in finding.live)
    chosen = [
        Action(kind="variant", target=v.name)
        for v in config.all_variants()
        if v.name != checked.name and sorted(v.tags) == live
    ]
    return replace(finding, actions=(*chosen, *finding.actions)) if chosen else finding


def doable(host: Host, findings: list[Finding]) -> list[Finding]:
    """*findings* offering only the actions *host* can carry out: a developer directory that is
    installed, a path a variable is set to that exists. A fix is a promise."""
    from dataclasses import replace

    return [
        replace(f, actions=tuple(a for a in f.actions if can_do(host, a))) if f.actions else f
        for f in findings
    ]


def can_do(host: Host, action: Action) -> bool:
    """Whether *host* has what *action* names (an install is how to get what is missing)."""
    if action.kind == "developer-dir" or (action.kind, action.target) == ("set", "DEVELOPER_DIR"):
        where = action.value if action.kind == "set" else action.target
        found = host.stat(where)  # an Xcode app, or a developer dir with its xcrun
        return (found is not None and found.kind == "dir") or host.exists(f"{where}/usr/bin/xcrun")
    if action.kind == "set" and action.value.startswith("/"):
        return host.stat(action.value) is not None
    return True


def rechecked(
    ws: Workspace, cache: ProbeCache, variant: Variant, seen: Snapshot, locked: Entry
) -> Snapshot:
    """A drift confirmed before it is reported: the snapshot taken again, where every probe
    behind a drifted section answers afresh (an answer remembered from an earlier run is not
    used for it; one this run computed is) and the libraries, when they drifted, are those a
    real link opens. The probes behind the sections that match the lock keep their answers. If
    the tools' time budget runs out first, the snapshot *seen* (every answer in it stood on
    unchanged files or was just computed), said on stderr."""
    import sys

    from envsnap.host import ProbeTimeout
    from envsnap.probes.collect import probes_behind

    drifted = drifted_sections(locked, seen.entry)
    behind = probes_behind(drifted)
    again = cache.rechecking(lambda probe: behind is not None and probe not in behind)
    try:
        snapshot, _ = live_snapshot(ws, again, variant, trace="libraries" in drifted)
    except ProbeTimeout as exc:
        sys.stderr.write(
            "envsnap: note: the re-check of the drift ran out of time "
            f"({exc.message}); the findings below come from the first look (remembered probe "
            "answers, where their files were unchanged)\n"
        )
        return seen
    return snapshot


def stale_variants(lock: LockFile, platform: str, config: Config) -> list[Finding]:
    """Entries of this platform for variants envsnap.toml no longer declares."""
    from envsnap.drift import stale_variant
    from envsnap.variants import split_key

    declared = {v.name for v in config.all_variants()}
    keys = [k for k in sorted(lock.platforms) if split_key(k)[0] == platform]
    return [stale_variant(k) for k in keys if split_key(k)[1] not in declared]


def check_variants(
    ws: Workspace,
    lock: LockFile,
    name: str,
    variants: Sequence[Variant],
    allow_missing: bool,
    notes: bool = True,
) -> list[Checked]:
    """Each variant checked (concurrently), in the order given; *notes*: say on stderr when a
    locked entry has fields this envsnap does not know."""
    from concurrent.futures import ThreadPoolExecutor

    def check(variant: Variant) -> Checked:
        return check_variant(ws, lock, name, variant, allow_missing, notes)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(check, variants))


def merged_findings(
    lock: LockFile,
    config: Config,
    variants: Sequence[Variant],
    results: Sequence[Checked],
    every_variant: bool,
) -> list[Finding]:
    """All variants' findings, each named by its variant when envsnap.toml declares any, plus
    (when *every_variant* was checked) the entries of variants no longer declared; errors first,
    each variant's own order kept."""
    from dataclasses import replace

    from envsnap.vocabulary import SEVERITY_RANK

    named = bool(config.variants)  # without declared variants, output is as it always was
    findings = [
        replace(finding, variant=variant.name) if named else finding
        for variant, result in zip(variants, results, strict=True)
        for finding in result.findings or []
    ]
    if every_variant:
        findings += stale_variants(lock, results[0].platform, config)
    findings.sort(key=lambda f: SEVERITY_RANK[f.severity])  # stable
    return findings


def uncommitted_warning(status: str | None, in_commit_hook: bool) -> str | None:
    """The warning for git's two-letter status of the lock (None: nothing to say).

    A lock that was never committed is the common mistake, and it verifies clean on the machine
    that wrote it; so this is said on every path, the clean fast path included.
    """
    if status == "??":
        return "is not tracked by git: commit it, so that teammates and CI verify against it"
    if status == "!!":
        return "is ignored by git (.gitignore): teammates and CI never see it; commit it"
    if not status:
        return None
    if in_commit_hook:  # staged changes are what this commit records: only unstaged ones matter
        if status[1] == " ":
            return None
        return "has changes not staged for this commit: verify checked the work-tree file"
    return "has uncommitted changes: verify checked the work-tree file, not the committed one"
