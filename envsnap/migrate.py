"""Migrations of envsnap.lock from an older schema to the current one, as code.

Each step turns a parsed lock document (the TOML as a dict) of schema N into one of schema N+1
and is registered with ``@step(N)``. :func:`migrate` runs the steps in order, in memory (only
``lock`` rewrites the file), then gives every migrated entry whose digest was right before the
migration a digest over its new content; an entry edited by hand keeps its old digest, so that
the edit is still reported.

To change the schema: raise ``envsnap.lockformat.SCHEMA`` to N+1, add ``@step(N)`` here, add a
test of it on the ``tests/fixtures/locks/schema-N`` fixtures, and keep a lock of the new schema
in ``tests/fixtures/locks/schema-N+1``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from envsnap.entry import JsonObject
from envsnap.errors import LockError
from envsnap.lockformat import SCHEMA, entry_digest

Document = dict[str, Any]
Step = Callable[[Document], Document]

STEPS: dict[int, Step] = {}  # schema N -> the step that turns it into schema N+1


def step(source: int) -> Callable[[Step], Step]:
    """Register the decorated function as the migration from schema *source* to *source* + 1."""

    def register(function: Step) -> Step:
        if source in STEPS:
            raise ValueError(f"two migrations from schema {source}")
        STEPS[source] = function
        return function

    return register


def migrate(
    doc: Document, steps: Mapping[int, Step] | None = None, target: int | None = None
) -> Document:
    """*doc* in schema *target* (default: the current one); *doc* itself when it already is."""
    steps = STEPS if steps is None else steps
    target = SCHEMA if target is None else target
    schema = doc["schema"]
    if schema == target:
        return doc
    honest = {name for name, entry in doc.get("platforms", {}).items() if _digest_ok(entry)}
    for source in range(schema, target):
        if source not in steps:
            raise LockError(
                f"this envsnap cannot migrate a lock from schema {source} to {source + 1}",
                "run `envsnap lock --force` to write a new lock, or use the envsnap that wrote it",
            )
        doc = steps[source](copy.deepcopy(doc))
        doc["schema"] = source + 1
    platforms = doc.get("platforms", {})
    for name in honest & set(platforms):
        platforms[name] = _redigested(platforms[name])
    return doc


def _digest_ok(entry: object) -> bool:
    return isinstance(entry, dict) and entry.get("digest") == entry_digest(entry)


def _redigested(entry: JsonObject) -> JsonObject:
    """*entry* with a digest over its content, ordered as ``lock`` writes it; its ``envsnap``
    still names the envsnap that wrote it."""
    content = {k: entry[k] for k in sorted(entry) if k not in ("envsnap", "digest")}
    body = {"envsnap": entry.get("envsnap"), **content}
    return {"envsnap": body["envsnap"], "digest": entry_digest(body), **content}
