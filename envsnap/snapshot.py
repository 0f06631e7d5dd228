"""Validation of a platform entry against its one shape (:mod:`envsnap.entry`), with pydantic.

Probes build plain data typed by :mod:`envsnap.entry` (so the clean ``verify`` path needs no
pydantic); this module validates an entry before ``lock`` writes it (strictly: a field the shape
lacks is a bug of envsnap) and whenever a lock is read for more than its digest. A lock may hold
fields that a newer envsnap added under the same schema: reading keeps them in the file but
leaves them out of every comparison (:func:`known_part`).
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from functools import cache
from typing import Union, cast, get_args, get_origin, get_type_hints

from pydantic import ConfigDict, TypeAdapter, ValidationError

from envsnap.entry import SECTIONS, Entry, Json, JsonObject, Tool, fields_of_kind
from envsnap.errors import LockError

__all__ = ["PlatformEntry", "Tool", "fields_of_kind", "known_part", "validate_entry"]

# Every section refuses a field it does not declare and takes no coercion ("1" is no number).
for _shape in SECTIONS:
    _shape.__pydantic_config__ = ConfigDict(extra="forbid", strict=True)  # type: ignore[attr-defined]

PlatformEntry = Entry  # the name the lock schema gives the entry


@cache
def _adapter() -> TypeAdapter[Entry]:
    return TypeAdapter(Entry)


def _shape_in(hint: object) -> tuple[type | None, bool]:
    """The section a field holds (itself, optional or as list items), and whether in a list."""
    if isinstance(hint, type) and hasattr(hint, "__required_keys__"):  # a TypedDict
        return hint, False
    origin = get_origin(hint)
    args = get_args(hint)
    if origin is list:
        return _shape_in(args[0])[0], True
    if origin in (Union, types.UnionType):
        for arg in args:
            shape, many = _shape_in(arg)
            if shape is not None:
                return shape, many
    return None, False


@cache
def _fields(shape: type) -> dict[str, tuple[type | None, bool]]:
    return {name: _shape_in(hint) for name, hint in get_type_hints(shape).items()}


def _known(shape: type, data: Json, where: str, unknown: list[str]) -> Json:
    if not isinstance(data, dict):
        return data  # a wrong type: validation names it
    fields = _fields(shape)
    kept: JsonObject = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else key
        if key not in fields:
            unknown.append(path)
            continue
        inner, many = fields[key]
        if inner is not None and many and isinstance(value, list):
            kept[key] = [_known(inner, item, path, unknown) for item in value]
        elif inner is not None and not many:
            kept[key] = _known(inner, value, path, unknown)
        else:
            kept[key] = value
    return kept


def known_part(entry: Mapping[str, object]) -> tuple[Entry, list[str]]:
    """*entry* without the fields this envsnap's shape lacks, and the dotted paths of those
    (a field of a library or package is named once, without the item: ``libraries.foo``)."""
    unknown: list[str] = []
    known = _known(Entry, cast(JsonObject, dict(entry)), "", unknown)
    return cast(Entry, known), list(dict.fromkeys(unknown))


def validate_entry(platform: str, entry: Mapping[str, object], *, strict: bool = False) -> Entry:
    """Check *entry* against the shape; a mismatch names the first bad field. Unknown fields
    are left out unless *strict* (an entry this envsnap is about to write)."""
    try:
        return _adapter().validate_python(dict(entry) if strict else known_part(entry)[0])
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise LockError(
            f"the entry for {platform} does not match the lock schema at {where}: {first['msg']}",
            "run `envsnap lock` to rewrite it, or restore the file from git",
        ) from None
