"""Compare a locked platform entry with a live one: every difference becomes a Finding.

:func:`compare` is pure. The engine (:mod:`envsnap.drift.engine`) finds the differences between
the two entries, field by field; the rule packs explain them, each rule owning the fields it
names: :mod:`~envsnap.drift.go` (Go's release, settings, tags and workspace),
:mod:`~envsnap.drift.toolchain` (the C and C++ compilers and the linker),
:mod:`~envsnap.drift.libraries` (libraries and cgo packages), :mod:`~envsnap.drift.apple` (the
developer dir, the SDK and Xcode) and :mod:`~envsnap.drift.environment` (tracked variables and
the OS). Differences on the same subject (a compiler whose path, version and hash all changed)
are merged into one finding.
"""

from __future__ import annotations

from collections.abc import Mapping

from envsnap.drift import apple, environment, go, libraries, toolchain
from envsnap.drift import engine as _engine
from envsnap.drift.engine import (
    ABSENT,
    FLAG_VARIABLES,
    Path,
    RuleBook,
    Side,
    flag_delta,
    library_key,
    without_unrecorded,
)
from envsnap.drift.finding import (
    NOTHING_TO_DO,
    RELOCK,
    Category,
    Finding,
    FindingDocument,
    Policy,
    Severity,
    apply_policy,
    incomplete_finding,
    missing_platform,
    stale_variant,
)
from envsnap.entry import Content

# The packs in the order their causes are asked which finding a difference joins (a file of the
# SDK joins the SDK before the library that lists it).
RULEBOOK = RuleBook(
    (apple.PACK, go.PACK, toolchain.PACK, libraries.PACK, environment.PACK),
)


def compare(locked: Content, live: Content, policy: Policy | None = None) -> list[Finding]:
    """Every difference between a locked entry and a live one, explained, most severe first;
    an incomplete lock says so before anything else."""
    return _engine.compare(RULEBOOK, locked, live, policy)


def compare_facts(
    locked: Content, facts: Mapping[Path, Side], policy: Policy | None = None
) -> list[Finding]:
    """What a binary holds (values by field path) against the locked entry, through the same
    rules as :func:`compare`."""
    return _engine.compare_facts(RULEBOOK, locked, facts, policy)


__all__ = [
    "ABSENT",
    "FLAG_VARIABLES",
    "NOTHING_TO_DO",
    "RELOCK",
    "RULEBOOK",
    "Category",
    "Finding",
    "FindingDocument",
    "Path",
    "Policy",
    "Severity",
    "Side",
    "apply_policy",
    "compare",
    "compare_facts",
    "flag_delta",
    "incomplete_finding",
    "library_key",
    "missing_platform",
    "stale_variant",
    "without_unrecorded",
]
