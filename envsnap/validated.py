"""The entries ``lock`` has validated, by their content: an entry identical to one validated
before is not validated again.

``lock`` holds every entry it writes to the lock's shape with pydantic (:func:`envsnap.snapshot.
validate_entry`), which costs ~0.1 s to build before the first entry is checked. A lock of an
unchanged machine computes the very entry it validated last time, so the content's hash (with
envsnap's version: a newer shape validates again) is kept in ``validated.json`` in the user's
cache folder, each sealed with the user's secret (:func:`envsnap.stamps.seal_data`): an entry
written there by anyone else, or changed on disk, is never taken for a validated one. Content
never seen before is always validated. ``ENVSNAP_NO_CACHE=1`` keeps nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from envsnap import __version__
from envsnap.stamps import (
    cache_file,
    cache_secret,
    key_of,
    read_cache_json,
    seal_data,
    write_cache_json,
)

VERSION = 1
MAX_KEPT = 64
NAME = "validated.json"


def content_key(entry: Mapping[str, object]) -> str:
    """What an entry is remembered by: a hash of its content and this envsnap's version."""
    return key_of(__version__, dict(entry))


def _check(secret: bytes, key: str) -> str:
    return seal_data(secret, VERSION, key, cache="validated")


def was_validated(environ: Mapping[str, str], key: str) -> bool:
    """Whether this envsnap validated an entry of content *key* before (sealed by this user)."""
    file = cache_file(environ, NAME)
    secret = cache_secret(file)
    if secret is None:
        return False
    return read_cache_json(file, VERSION).get(key) == _check(secret, key)


def remember_validated(environ: Mapping[str, str], keys: Iterable[str]) -> None:
    """Keep *keys* as validated (the most recent MAX_KEPT)."""
    file = cache_file(environ, NAME)
    secret = cache_secret(file, create=True) if file else None
    if file is None or secret is None:
        return
    entries = read_cache_json(file, VERSION)
    new = {key: _check(secret, key) for key in keys}
    if all(entries.get(key) == check for key, check in new.items()):
        return
    for key, check in new.items():
        entries.pop(key, None)
        entries[key] = check
    write_cache_json(file, VERSION, dict(list(entries.items())[-MAX_KEPT:]))
