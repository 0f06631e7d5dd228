"""The lock's format version and the canonical digest of an entry (what makes a hand edit
detectable). Both the lock (:mod:`envsnap.lockfile`) and its migrations (:mod:`envsnap.migrate`)
need them, so they live below both.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

SCHEMA = 1  # the schema this envsnap writes; every migration leads to it


def canonical_json(entry: Mapping[str, object]) -> bytes:
    """The bytes the digest is taken over: sorted keys, no whitespace, digest field left out."""
    content = {k: v for k, v in entry.items() if k != "digest"}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_digest(entry: Mapping[str, object]) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(entry)).hexdigest()
