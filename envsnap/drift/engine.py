"""The comparison engine: the differences between two entries, each explained by the one rule
that owns its field.

Two entries are first re-keyed (libraries, their files and cgo packages by name or path, not by
position), then compared field by field; a list is one value, compared as a list. A library or a
cgo package that appeared or went away is one difference, reported whole. A :class:`Rule` owns
the fields its pattern names; where two patterns match one field the more specific one owns it
(a named part before a partial glob before ``*``), and a :class:`RuleBook` refuses two rules
that could own the same field equally, so the order rules are declared in never matters. Rules
come in packs (:mod:`envsnap.drift.go` and its siblings), each with its own hooks.
"""

from __future__ import annotations

import copy
import enum
import fnmatch
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, cast

from envsnap.drift.actions import NOTHING, Action, relock
from envsnap.drift.finding import (
    RELOCK,
    Category,
    Finding,
    Policy,
    Severity,
    Verdict,
    apply_policy,
    by_severity,
    incomplete_finding,
)
from envsnap.entry import Content, Json, JsonObject, Library, Tool
from envsnap.vocabulary import GO_VARIABLE, WORD_VARIABLES

Path = tuple[str, ...]


class Absent(enum.Enum):
    """The side of a difference where the field is not."""

    ABSENT = "absent"


ABSENT = Absent.ABSENT
Side = Json | Absent


def as_json(entry: Content | Library) -> JsonObject:
    """The boundary where an entry is read as the plain JSON it is (to walk it by path)."""
    return cast(JsonObject, entry)


def section(entry: Content, name: str) -> JsonObject:
    """A section of *entry* (``go``, ``apple``…) as plain JSON; empty when absent."""
    found = as_json(entry).get(name)
    return found if isinstance(found, dict) else {}


def text(value: Side) -> str | None:
    return value if isinstance(value, str) else None


def library_key(lib: Library) -> str:
    return lib["name"] if lib.get("found_by") == "pkg-config" else f"-l{lib['name']}"


def tools(entry: Content) -> dict[str, Tool]:
    """The entry's tools (compiler, linker, C++ compiler) by their key in its cc section."""
    cc = entry.get("cc")
    if cc is None:
        return {}
    found = {"compiler": cc.get("compiler"), "linker": cc.get("linker"), "cxx": cc.get("cxx")}
    return {name: tool for name, tool in found.items() if tool is not None}


# ---------------------------------------------------------------------------------------------
# Re-keying: lists of records become tables keyed by identity.


def _library_item(lib: Library) -> JsonObject:
    plain = as_json(lib)
    item = {k: v for k, v in plain.items() if k not in ("name", "found_by", "files")}
    # a file recorded without a hash (a replayed machine) is compared, and shown, by its path
    item["files"] = {f["path"]: f.get("sha256") or f["path"] for f in lib.get("files", [])}
    if (pc_file := lib.get("pc_file")) is not None:
        item["pc_file"] = pc_file.get("sha256", pc_file.get("path"))
    return item


def keyed(entry: Content) -> JsonObject:
    """*entry* with libraries, files and cgo packages keyed by name/path for a stable diff."""
    skip = ("digest", "envsnap", "incomplete")  # incomplete: its own finding, reported first
    out = {k: v for k, v in as_json(entry).items() if k not in skip}
    out["libraries"] = {library_key(lib): _library_item(lib) for lib in entry.get("libraries", [])}
    cgo = dict(section(entry, "cgo"))
    packages = cgo.get("packages")
    cgo["packages"] = {
        str(p.get("path")): {k: v for k, v in p.items() if k != "path"}
        for p in (packages if isinstance(packages, list) else [])
        if isinstance(p, dict)
    }
    out["cgo"] = cgo
    return out


def flatten(data: JsonObject, prefix: Path = ()) -> dict[Path, Json]:
    """Leaf values by path, so that every difference is reported at the field that changed."""
    leaves: dict[Path, Json] = {}
    for key, value in data.items():
        path = (*prefix, str(key))
        if isinstance(value, dict):  # an empty table has no leaves: nothing to compare
            leaves.update(flatten(value, path))
        else:
            leaves[path] = value
    return leaves


def same_value(old: Side, new: Side) -> bool:
    """Equal and of the same type all the way down (``1`` is not ``True``, nor ``1.0``): a
    list is compared item by item, in order."""
    if type(old) is not type(new):
        return False
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(map(same_value, old, new))
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(same_value(old[k], new[k]) for k in old)
    return old == new


# Records that are reported whole when they appear or disappear (a new library, a gone package).
RECORDS = (("libraries", "*"), ("cgo", "packages", "*"))
# Fields that a lock may lack although the live machine has them: not recorded is no drift.
UNRECORDED_OK: tuple[Literal["package"], ...] = ("package",)


def matches(path: Path, pattern: Path) -> bool:
    return len(path) == len(pattern) and all(
        fnmatch.fnmatchcase(part, glob) for part, glob in zip(path, pattern, strict=True)
    )


def _record_of(path: Path) -> Path | None:
    return next((path[: len(p)] for p in RECORDS if matches(path[: len(p)], p)), None)


def _lookup(data: JsonObject, path: Path) -> Json:
    value: Json = data
    for key in path:
        value = value[key] if isinstance(value, dict) else None
    return value


@dataclass(frozen=True)
class Diff:
    """One raw difference, before a rule explains it."""

    path: Path
    locked: Side
    live: Side
    locked_entry: Content
    live_entry: Content

    @property
    def category(self) -> Category:
        if self.locked is ABSENT:
            return "extra"
        if self.live is ABSENT:
            return "missing"
        return "changed"


def raw_diffs(locked: Content, live: Content) -> list[Diff]:
    a, b = keyed(locked), keyed(live)
    flat_a, flat_b = flatten(a), flatten(b)
    diffs: dict[Path, Diff] = {}
    for path in flat_a.keys() | flat_b.keys():
        old: Side = flat_a.get(path, ABSENT)
        new: Side = flat_b.get(path, ABSENT)
        if same_value(old, new):
            continue
        record = _record_of(path)
        in_a = record is not None and any(p[: len(record)] == record for p in flat_a)
        in_b = record is not None and any(p[: len(record)] == record for p in flat_b)
        if record is not None and in_a != in_b:  # the whole record appeared or went away
            path = record
            old = _lookup(a, record) if in_a else ABSENT
            new = _lookup(b, record) if in_b else ABSENT
        if old is ABSENT and (path[-1] in UNRECORDED_OK or at_go_default(path, new)):
            continue  # a lock from before envsnap recorded it, or from a host without dpkg
        diffs[path] = Diff(path, old, new, locked, live)
    return sorted(diffs.values(), key=lambda d: d.path)


def at_go_default(path: Path, value: Side) -> bool:
    """A go env setting at go's own value when nothing sets it: what a lock written before
    envsnap recorded the setting is held to (:data:`envsnap.vocabulary.GO_VARIABLES`)."""
    if len(path) != 3 or path[:2] != ("go", "env") or path[2] not in GO_VARIABLE:
        return False
    unset = GO_VARIABLE[path[2]].unset
    return unset is not None and value == unset


def without_unrecorded(locked: Content, live: Content) -> Content:
    """*live* without the UNRECORDED_OK fields that *locked* lacks (the compilers' and each
    library's, matched by name), nor the go env settings it lacks that are at go's own value:
    what a lock written before they were recorded can be held to."""
    out = copy.deepcopy(live)
    locked_env, live_env = section(locked, "go").get("env"), section(out, "go").get("env")
    if isinstance(locked_env, dict) and isinstance(live_env, dict):
        for name in [n for n in live_env if n not in locked_env]:
            if at_go_default(("go", "env", name), live_env[name]):
                del live_env[name]
    was = tools(locked)
    for tool, fields in tools(out).items():
        for name in UNRECORDED_OK:
            if name not in was.get(tool, {}):
                fields.pop(name, None)
    old = {library_key(lib): lib for lib in locked.get("libraries", [])}
    for lib in out.get("libraries", []):
        for name in UNRECORDED_OK:
            if name not in old.get(library_key(lib), {}):
                lib.pop(name, None)
    return out


# ---------------------------------------------------------------------------------------------
# Rules

Explain = Callable[[Diff], Verdict]
Subject = Callable[[Path], str]
# What a person can do about a difference, as data (envsnap.drift.actions).
Actions = Callable[[Diff], tuple[Action, ...]]


def fixed(severity: Severity, why: str, fix: str) -> Explain:
    return lambda d: (severity, why, fix)


def const(name: str) -> Subject:
    return lambda path: name


def last(template: str) -> Subject:
    return lambda path: template.format(path[-1])


@dataclass(frozen=True)
class Rule:
    """How the fields a pattern names are explained: one glob per path part."""

    owns: Path
    subject: Subject
    explain: Explain
    actions: Actions | None = None

    @property
    def specificity(self) -> tuple[int, int]:
        """Named parts, then partial globs (``sdk_*``): the more, the more specific."""
        named = sum(1 for part in self.owns if not _is_glob(part))
        return named, sum(1 for part in self.owns if _is_glob(part) and part != "*")


def _is_glob(part: str) -> bool:
    return any(c in part for c in "*?[")


def _fixed_prefix(part: str) -> str:
    return re.split(r"[*?\[]", part, maxsplit=1)[0]


def _parts_overlap(a: str, b: str) -> bool:
    if not _is_glob(a) or not _is_glob(b):
        return fnmatch.fnmatchcase(a, b) or fnmatch.fnmatchcase(b, a)
    x, y = _fixed_prefix(a), _fixed_prefix(b)
    return x.startswith(y) or y.startswith(x)


def _ambiguous(a: Rule, b: Rule) -> bool:
    """Whether a field could be owned by *a* and *b* equally."""
    return (
        len(a.owns) == len(b.owns)
        and a.specificity == b.specificity
        and all(_parts_overlap(x, y) for x, y in zip(a.owns, b.owns, strict=True))
    )


# The cause a difference belongs to when it is not its own rule's subject (None: its own).
Cause = Callable[[Diff], str | None]
# Why a difference changes nothing the build uses, and the fix (None: it is a change).
Unchanged = Callable[[Diff], tuple[str, str] | None]
# The values a finding shows when they are not the differing fields' own.
Shown = Callable[[Diff], tuple[Side, Side] | None]
# A failed probe explained by a file that is gone: what is gone, why, the fix and its actions
# (None: the probe failed for another reason).
Gone = tuple[str, str, str, tuple[Action, ...]]
Missing = Callable[[Diff], Gone | None]


@dataclass(frozen=True)
class Probe:
    """A probe whose failure (an ``error`` field in its section) hides other fields."""

    section: Path
    hides: tuple[Path, ...] = ()
    subject: str = ""  # the finding's subject when it fails (else its rule's)
    why: str = ""  # why it matters when it fails now (else the general reason)


@dataclass(frozen=True)
class Pack:
    """A family of rules (Go, C toolchain, libraries, Apple, environment) and its hooks."""

    name: str
    rules: tuple[Rule, ...]
    causes: tuple[Cause, ...] = ()
    unchanged: Unchanged | None = None
    shown: Shown | None = None
    actions: Actions | None = None
    probes: tuple[Probe, ...] = ()
    missing: Missing | None = None
    # which of several merged fields makes the headline (lower first; others after)
    headline: Mapping[str, int] = field(default_factory=dict)


FALLBACK = Rule(("*",), lambda p: ".".join(p), fixed("warning", "this field changed", RELOCK))


class RuleBook:
    """The rules of every pack, each field owned by exactly one."""

    def __init__(self, packs: Sequence[Pack]) -> None:
        self.packs = tuple(packs)
        self.rules = tuple(rule for pack in packs for rule in pack.rules)
        for index, rule in enumerate(self.rules):
            for other in self.rules[index + 1 :]:
                if _ambiguous(rule, other):
                    raise ValueError(f"two rules own the same fields: {rule.owns}, {other.owns}")
        self.probes = {p.section: p for pack in packs for p in pack.probes}
        self.headline = {k: v for pack in packs for k, v in pack.headline.items()}

    def rule_for(self, path: Path) -> Rule:
        found = [rule for rule in self.rules if matches(path, rule.owns)]
        return max(found, key=lambda rule: rule.specificity, default=FALLBACK)

    def subject(self, rule: Rule, diff: Diff) -> str:
        """The cause a difference belongs to, which names its finding: usually its rule's."""
        for pack in self.packs:
            for cause in pack.causes:
                if (named := cause(diff)) is not None:
                    return named
        return rule.subject(diff.path)

    def cause(self, diff: Diff) -> str | None:
        """The cause a pack says *diff* belongs to, if any."""
        return next((c for p in self.packs for cause in p.causes if (c := cause(diff))), None)

    def unchanged(self, diff: Diff) -> tuple[str, str] | None:
        return next((why for p in self.packs if p.unchanged and (why := p.unchanged(diff))), None)

    def missing(self, diff: Diff) -> Gone | None:
        return next((why for p in self.packs if p.missing and (why := p.missing(diff))), None)

    def shown(self, diff: Diff) -> tuple[Side, Side]:
        found = (s for p in self.packs if p.shown and (s := p.shown(diff)) is not None)
        return next(found, (diff.locked, diff.live))

    def actions(self, diff: Diff) -> tuple[Action, ...]:
        """The first pack's proposal for *diff* (checked against the host later)."""
        return next((a for p in self.packs if p.actions and (a := p.actions(diff))), ())


# ---------------------------------------------------------------------------------------------
# Explaining


def shown(value: Side) -> Json:
    """A value as a finding shows it: an absent one as None."""
    return None if value is ABSENT else value


def fallback_actions(rule: Rule, fix: str) -> tuple[Action, ...]:
    """What a rule that names no action offers: nothing to do where its fix says so; a re-lock,
    which a person reviews, where its fix offers one (and for a field no rule explains)."""
    if fix.startswith("nothing to do"):
        return (NOTHING,)
    return (relock(),) if rule is FALLBACK or "envsnap lock" in fix else ()


def explain(book: RuleBook, diff: Diff) -> Finding:
    rule = book.rule_for(diff.path)
    severity, why, fix = rule.explain(diff)
    locked, live = (shown(v) for v in book.shown(diff))
    added, removed = flag_delta(locked, live, diff.path[-1] in FLAG_VARIABLES)
    subject = book.subject(rule, diff)
    return Finding(
        id=".".join(diff.path),
        subject=subject,
        category=diff.category,
        severity=severity,
        locked=locked,
        live=live,
        why=why,
        fix=fix,
        detail=diff.path[3] if diff.path[0] == "libraries" and len(diff.path) > 3 else "",
        added=added,
        removed=removed,
        borrowed=subject != rule.subject(diff.path),
        actions=(rule.actions(diff) if rule.actions else ())
        or book.actions(diff)
        or fallback_actions(rule, fix),
    )


# Variables whose value is a list of flags: a change is shown as the flags added and removed.
FLAG_VARIABLES = WORD_VARIABLES


def _words(value: Json, flag_string: bool) -> list[str] | None:
    if isinstance(value, list):
        words = [v for v in value if isinstance(v, str)]
        return words if len(words) == len(value) else None
    if flag_string and isinstance(value, str):
        from envsnap import quoted

        try:
            return quoted.split(value)
        except quoted.UnterminatedQuote:
            return None
    return None


def flag_delta(locked: Json, live: Json, flag_string: bool) -> tuple[tuple[str, ...], ...]:
    """The entries *live* gained and lost against *locked* (lists, or flag strings), each in
    its own order and counted as a multiset; nothing when either is not a list or only the
    order changed."""
    old, new = _words(locked, flag_string), _words(live, flag_string)
    if old is None or new is None:
        return (), ()
    return _extra(new, Counter(new) - Counter(old)), _extra(old, Counter(old) - Counter(new))


def _extra(words: list[str], surplus: Counter[str]) -> tuple[str, ...]:
    """The last *surplus[w]* occurrences of each word, in the order of *words*."""
    kept = []
    for word in reversed(words):
        if surplus[word] > 0:
            surplus[word] -= 1
            kept.append(word)
    return tuple(reversed(kept))


# ---------------------------------------------------------------------------------------------
# Failed probes


def _hidden(book: RuleBook, prefixes: Iterable[Path], diffs: list[Diff]) -> list[Diff]:
    """*diffs* without those under a prefix, or under what its probe's failure hides."""
    prefixes = list(prefixes)
    hidden = prefixes + [h for p in prefixes if p in book.probes for h in book.probes[p].hides]
    return [d for d in diffs if not any(d.path[: len(p)] == p for p in hidden)]


def _failed_subject(book: RuleBook, path: Path) -> str:
    probe = book.probes.get(path[:-1])
    if probe is not None and probe.subject:
        return probe.subject
    return book.rule_for(path).subject(path[:-1] or path)


def unverifiable(book: RuleBook, diffs: list[Diff]) -> tuple[list[Finding], list[Diff]]:
    """A probe that fails now but worked at lock time hides every field below it."""
    broken = [d for d in diffs if d.path[-1] == "error" and d.category == "extra"]
    hides = [
        h for d in broken if d.path[:-1] in book.probes for h in book.probes[d.path[:-1]].hides
    ]
    broken = [d for d in broken if not any(d.path[: len(h)] == h for h in hides)]
    general = "a probe that worked at lock time cannot run now, so this part cannot be checked"
    findings = [
        _gone(book, d)
        if book.missing(d)
        else Finding(
            id=".".join(d.path),
            subject=book.cause(d) or _failed_subject(book, d.path),
            category="unverifiable",
            severity="error",
            locked=None,
            live=shown(d.live),
            why=(probe.why if (probe := book.probes.get(d.path[:-1])) else "") or general,
            fix="fix the error shown, then run envsnap verify again",
        )
        for d in broken
    ]
    return findings, _hidden(book, (d.path[:-1] for d in broken), diffs)


def _gone(book: RuleBook, diff: Diff) -> Finding:
    """A probe that fails because a file the lock records is gone: that file is missing."""
    what, why, fix, actions = book.missing(diff) or ("", "", "", ())
    return Finding(
        id=".".join(diff.path),
        subject=_failed_subject(book, diff.path),
        category="missing",
        severity="error",
        locked=what,
        live=None,
        why=why,
        fix=fix,
        actions=actions,
    )


def recovered(book: RuleBook, diffs: list[Diff]) -> tuple[list[Finding], list[Diff]]:
    """A probe that failed at lock time (an incomplete lock) and works here: the lock holds no
    value to compare with, so this is neither an upgrade nor something to reinstall."""
    healed = [d for d in diffs if d.path[-1] == "error" and d.category == "missing"]
    findings = [
        Finding(
            id=".".join(d.path),
            subject=book.rule_for(d.path).subject(d.path[:-1] or d.path),
            category="changed",
            severity="error",
            locked=shown(d.locked),
            live=None,
            why="the lock was written where this probe failed, so it records nothing to compare "
            "with; here it works",
            fix="run `envsnap lock` on a machine where the build works and commit the lock",
            actions=(relock(),),
        )
        for d in healed
    ]
    return findings, _hidden(book, (d.path[:-1] for d in healed), diffs)


# ---------------------------------------------------------------------------------------------
# Merging and the whole comparison


def merge(book: RuleBook, findings: list[Finding]) -> list[Finding]:
    """One finding per subject: the most severe first-listed one, naming the others in `also`."""

    def rank(f: Finding) -> tuple[int, bool, int]:
        return by_severity(f), f.borrowed, book.headline.get(f.id.rsplit(".", 1)[-1], 9)

    by_subject: dict[str, list[Finding]] = {}
    for finding in findings:
        by_subject.setdefault(finding.subject, []).append(finding)
    merged = []
    for group in by_subject.values():
        group.sort(key=rank)
        head = group[0]
        also = tuple(f.id for f in group[1:])
        merged.append(replace(head, also=also) if also else head)
    return merged


def _no_change(book: RuleBook, diff: Diff, why: str, fix: str) -> Finding:
    """A difference that changes nothing the build uses, reported as info so that verify still
    says what `lock --check` would rewrite; never the headline of a cause with a real change."""
    return replace(explain(book, diff), severity="info", why=why, fix=fix, borrowed=True)


def compare(
    book: RuleBook, locked: Content, live: Content, policy: Policy | None = None
) -> list[Finding]:
    """Every difference between a locked entry and a live one, explained, most severe first;
    an incomplete lock says so before anything else."""
    failed, diffs = unverifiable(book, raw_diffs(locked, live))
    healed, diffs = recovered(book, diffs)
    return _conclude(book, locked, failed + healed, diffs, policy)


def compare_facts(
    book: RuleBook, locked: Content, facts: Mapping[Path, Side], policy: Policy | None = None
) -> list[Finding]:
    """What a thing holds (a binary: values by field path, ABSENT for a field it says is
    unset) against the locked entry, each differing fact explained by the rule that owns its
    field, as verify would; the rules judge every other field as locked, since the facts say
    nothing about them."""
    flat = flatten(keyed(locked))
    diffs = [
        Diff(path, flat.get(path, ABSENT), value, locked, locked)
        for path, value in sorted(facts.items())
        if not same_value(flat.get(path, ABSENT), value)
    ]
    return _conclude(book, locked, [], diffs, policy)


def _conclude(
    book: RuleBook,
    locked: Content,
    found: list[Finding],
    diffs: list[Diff],
    policy: Policy | None,
) -> list[Finding]:
    """*found* and *diffs* explained, merged by cause, the policy applied, most severe first."""
    reasons = [(diff, book.unchanged(diff)) for diff in diffs]
    same = [_no_change(book, diff, *reason) for diff, reason in reasons if reason is not None]
    changed = [explain(book, diff) for diff, reason in reasons if reason is None]
    # The policy applies to each raw change before changes are grouped by cause, so ignoring a
    # provider change never hides a version change grouped under it.
    policy = policy or Policy()
    findings = merge(book, apply_policy(found + same + changed, policy))
    findings.sort(key=lambda f: (by_severity(f), f.id))
    incomplete = locked.get("incomplete")
    first = [incomplete_finding(incomplete)] if incomplete else []
    return apply_policy(first, policy) + findings
