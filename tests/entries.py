"""Entries in tests are plain dicts (made by hand, or read from a lock with tomllib): these read
them as the entry they are, the one place a test's data meets the typed entry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from envsnap import drift, inspection
from envsnap.binfacts.facts import Slice
from envsnap.drift import Finding, Policy
from envsnap.entry import Content


def content(data: Mapping[str, Any]) -> Content:
    return cast(Content, data)


def compare(
    locked: Mapping[str, Any], live: Mapping[str, Any], policy: Policy | None = None
) -> list[Finding]:
    """:func:`envsnap.drift.compare` of two plain entries."""
    return drift.compare(content(locked), content(live), policy)


def inspect_slice(piece: Slice, locked: Mapping[str, Any], binary_path: str) -> list[Finding]:
    """:func:`envsnap.inspection.inspect_slice` against a plain locked entry."""
    return inspection.inspect_slice(piece, content(locked), binary_path)
