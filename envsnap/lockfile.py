"""envsnap.lock: reading, canonical digests, and the atomic, per-platform write.

The file is TOML with ``schema = 1``, ``envsnap_min`` (the oldest envsnap that can read it) and
one table per platform. Each entry carries a digest over a canonical JSON of its contents, so a
hand edit is detectable. ``lock`` replaces only the current platform's entry: the text of every
other entry is copied through unchanged, so that two developers on different platforms produce
changes git merges cleanly. An older schema is migrated in memory (:mod:`envsnap.migrate`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import cast

from envsnap import DISTRIBUTION, __version__
from envsnap.entry import Content, Entry, Json, JsonObject
from envsnap.errors import LockError
from envsnap.lockformat import SCHEMA as SCHEMA
from envsnap.lockformat import canonical_json as canonical_json
from envsnap.lockformat import entry_digest as entry_digest
from envsnap.migrate import migrate
from envsnap.module import LOCK_NAME as LOCK_NAME

FIRST_VERSION = "0.1.0"  # the first envsnap: what a lock without `envsnap_min` asks for
# The oldest envsnap that reads every entry this one writes (it ignores fields it does not
# know). Raise it when an entry gains a field that an envsnap ignoring it would misread.
READABLE_BY = "0.1.0"
MIN_KEY = "envsnap_min"
_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")
PREAMBLE = (
    "# envsnap.lock: the cgo toolchain this module builds with, one entry per platform.\n"
    "# Written by `envsnap lock`; check it with `envsnap verify`. Do not edit by hand.\n"
)
_HEADER = re.compile(r'^\[\[?\s*platforms\s*\.\s*(?:"(?P<quoted>[^"]+)"|(?P<bare>[A-Za-z0-9_-]+))')
_FIRST_KEYS = ("envsnap", "digest")
# The largest lock read: a platform's entry is a few KB, so this is room for hundreds of them
# while bounding the memory and the parse time (tomllib reads about 1 MB a second).
MAX_LOCK = 4 * 1024 * 1024
_CONFLICT = re.compile(r"^(<{7}|>{7})( |$)", re.MULTILINE)


def content_of(entry: Content) -> Content:
    """An entry without the fields that say who wrote it (digest, envsnap version)."""
    return cast(Content, {k: v for k, v in entry.items() if k not in _FIRST_KEYS})


def _sorted(data: Json) -> Json:
    if isinstance(data, dict):
        return {k: _sorted(data[k]) for k in sorted(data)}
    if isinstance(data, list):
        return [_sorted(v) for v in data]
    return data


def make_entry(content: Content) -> Entry:
    """A complete entry: the writing envsnap's version, the digest, then the sorted sections."""
    sections = cast(JsonObject, _sorted(cast(JsonObject, content_of(content))))
    digest = entry_digest({"envsnap": __version__, **sections})
    return cast(Entry, {"envsnap": __version__, "digest": digest, **sections})


@dataclass
class LockFile:
    """A parsed lock: its entries and, for each, the exact text it was read from."""

    path: Path
    schema: int = SCHEMA
    platforms: dict[str, Entry] = field(default_factory=dict)  # as read: see readable_entry
    given_blocks: dict[str, str] | None = None
    text: str = ""  # what it was parsed from; its blocks are split out only when written
    envsnap_min: str = FIRST_VERSION  # the oldest envsnap that can read it
    extra: JsonObject = field(default_factory=dict)  # top-level keys of a newer envsnap
    head: str = ""  # the text before the first table, when it holds exactly the top-level keys

    @property
    def blocks(self) -> dict[str, str]:
        """Each platform's own text, kept only if it parses to exactly that platform's entry.

        Only ``lock`` and the merge driver need it, so ``verify`` never pays for re-parsing
        the file block by block.
        """
        if self.given_blocks is None:
            self.given_blocks = _blocks_that_parse_alone(self.text, self.platforms)
        return self.given_blocks

    def digest_ok(self, platform: str) -> bool:
        entry = self.platforms[platform]
        return entry.get("digest") == entry_digest(entry)


def _unusable(path: Path, what: str) -> LockError:
    return LockError(
        f"{path.name} {what}",
        "restore it with `git checkout -- envsnap.lock`, or replace it with `envsnap lock --force`",
    )


def version_key(text: str) -> tuple[int, int, int] | None:
    """``X.Y`` or ``X.Y.Z`` as a comparable tuple; None for anything else."""
    match = _VERSION.match(text)
    if match is None:
        return None
    return int(match[1]), int(match[2]), int(match[3] or 0)


def _own_version() -> tuple[int, int, int] | None:
    """This envsnap's version, without a suffix such as ``.dev1`` or ``rc1``."""
    return version_key(re.sub(r"^(\d+\.\d+(?:\.\d+)?)\D.*$", r"\1", __version__))


def _reader_minimum(path: Path, doc: JsonObject) -> str:
    """The lock's `envsnap_min`; refused when this envsnap is older than that."""
    wanted = doc.get(MIN_KEY, FIRST_VERSION)
    needed = version_key(wanted) if isinstance(wanted, str) else None
    if needed is None:
        raise _unusable(path, f"has an `{MIN_KEY}` that is not a version ({wanted!r})")
    if needed > (_own_version() or needed):
        raise LockError(
            f"{path.name} needs envsnap {wanted} or newer to be read (this is {__version__})",
            f"upgrade envsnap: pip install -U {DISTRIBUTION}",
        )
    return str(wanted)


def _schema(path: Path, doc: JsonObject) -> int:
    schema = doc.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise _unusable(path, "has no `schema = N` line")
    if schema > SCHEMA:
        raise LockError(
            f"{path.name} was written by a newer envsnap (schema {schema}, known: {SCHEMA})",
            f"upgrade envsnap: pip install -U {DISTRIBUTION}",
        )
    if schema < 1:
        raise _unusable(path, f"has an unknown schema {schema}")
    return schema


def _load(path: Path, data: bytes) -> tuple[str, JsonObject]:
    import tomllib

    from envsnap.tomlsafe import TooComplex, loads

    if len(data) > MAX_LOCK:
        raise _unusable(path, f"is larger than {MAX_LOCK // 1024 // 1024} MiB, no lock is")
    try:
        text = data.decode("utf-8")
        return text, loads(text)
    except UnicodeDecodeError:
        raise _unusable(path, "is not UTF-8 text") from None
    except TooComplex as exc:
        raise _unusable(path, f"is not a lock envsnap writes: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        if _CONFLICT.search(text):
            raise LockError(
                f"{path.name} has unresolved git conflict markers",
                "finish the merge: keep one side of each entry, or run `envsnap lock` on each "
                "platform; `envsnap git setup` lets git merge the lock per platform",
            ) from None
        raise _unusable(path, f"is not valid TOML ({exc})") from None


def parse_lock(path: Path, data: bytes) -> LockFile:
    """Parse lock bytes, migrated to the current schema; a corrupt lock, or one this envsnap is
    too old for, raises LockError with a hint."""
    text, doc = _load(path, data)
    minimum = _reader_minimum(path, doc)
    schema = _schema(path, doc)
    platforms = doc.get("platforms", {})
    if not isinstance(platforms, dict) or not all(isinstance(v, dict) for v in platforms.values()):
        raise _unusable(path, "has a `platforms` key that is not a table of tables")
    doc = migrate(doc, target=SCHEMA)
    extra = {k: v for k, v in doc.items() if k not in ("schema", MIN_KEY, "platforms")}
    top = {k: v for k, v in doc.items() if k != "platforms"}
    head = _head_of(text, top) if schema == SCHEMA else ""
    return LockFile(
        path,
        SCHEMA,
        _as_read(doc.get("platforms", {})),
        text=text,
        envsnap_min=minimum,
        extra=extra,
        head=head,
    )


def _as_read(platforms: Json) -> dict[str, Entry]:
    """The entries as read, checked to be tables: each is held to its shape (a wrong type is a
    LockError) by :func:`readable_entry` before it is compared."""
    return cast(dict[str, Entry], platforms)


def _head_of(text: str, top: JsonObject) -> str:
    """The text before the first table, if it parses to the file's top-level keys *top*."""
    import tomllib

    from envsnap.tomlsafe import TooComplex, loads

    head = re.split(r"^\s*\[", text, maxsplit=1, flags=re.MULTILINE)[0]
    try:
        alone = loads(head)
    except (tomllib.TOMLDecodeError, TooComplex):
        return ""
    return head.rstrip("\n") + "\n" if alone == top else ""


def _split_blocks(text: str) -> dict[str, str]:
    blocks: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines(keepends=True):
        match = _HEADER.match(line)
        if match:
            current = match["quoted"] or match["bare"]
        elif line.startswith("["):
            current = None
        if current is not None:
            blocks.setdefault(current, []).append(line)
    return {name: "".join(lines).rstrip("\n") + "\n" for name, lines in blocks.items()}


def _blocks_that_parse_alone(text: str, platforms: Mapping[str, Entry]) -> dict[str, str]:
    """Each platform's own text, kept only if it parses to exactly that platform's entry."""
    import tomllib

    from envsnap.tomlsafe import TooComplex, loads

    kept = {}
    for name, block in _split_blocks(text).items():
        try:
            alone = loads(block)
        except (tomllib.TOMLDecodeError, TooComplex):
            continue
        if alone == {"platforms": {name: platforms.get(name)}}:
            kept[name] = block
    return kept


def read_lock(path: Path, parsed: LockFile | None = None) -> LockFile | None:
    """The lock at *path*, or None if there is none. Only a regular file of at most
    :data:`MAX_LOCK` bytes is read (:mod:`envsnap.safeio`): a FIFO, a device or a directory in
    its place is refused, never waited on. *parsed*: the lock read from *path* a moment ago,
    taken as it is when the file still holds the bytes it was parsed from."""
    from envsnap.safeio import read_regular

    try:
        data = read_regular(path, MAX_LOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _unusable(path, f"cannot be read ({exc.strerror})") from None
    if parsed is not None and parsed.path == path and parsed.text.encode() == data:
        return parsed
    return parse_lock(path, data)


def render_entry(platform: str, entry: Content) -> str:
    import tomli_w

    return tomli_w.dumps({"platforms": {platform: entry}})


def _newest(versions: list[str]) -> str:
    return max(versions, key=lambda v: version_key(v) or (0, 0, 0))


def render_head(*locks: LockFile) -> str:
    """Preamble, schema, `envsnap_min` (the highest of *locks*' and this envsnap's) and the
    top-level keys of a newer envsnap. A lock's own head text is kept when it already asks for
    that minimum, so an unchanged lock re-renders byte for byte."""
    import tomli_w

    minimum = _newest([READABLE_BY, *(lock.envsnap_min for lock in locks)])
    for lock in locks:
        if lock.head and version_key(lock.envsnap_min) == version_key(minimum):
            return lock.head
    extra: JsonObject = {}
    for lock in locks:
        extra = {**lock.extra, **extra}
    tail = tomli_w.dumps(extra) if extra else ""
    return f'{PREAMBLE}schema = {SCHEMA}\n{MIN_KEY} = "{minimum}"\n{tail}'


def render(lock: LockFile) -> bytes:
    """The whole file: its head (:func:`render_head`), then each platform's block in name
    order."""
    parts = [render_head(lock)]
    for name in sorted(lock.platforms):
        block = lock.blocks.get(name) or render_entry(name, lock.platforms[name])
        parts.append("\n" + block.rstrip("\n") + "\n")
    return "".join(parts).encode()


def with_entry(lock: LockFile, platform: str, content: Content) -> LockFile:
    """*lock* with *platform*'s entry set to *content*; an unchanged entry keeps its text."""
    old = lock.platforms.get(platform)
    fresh = make_entry(content)
    if old is not None and lock.digest_ok(platform) and _same_content(old, fresh):
        return lock
    platforms = {**lock.platforms, platform: fresh}
    blocks = {k: v for k, v in lock.blocks.items() if k != platform}
    return replace(lock, schema=SCHEMA, platforms=platforms, given_blocks=blocks)


def _same_content(old: Entry, fresh: Entry) -> bool:
    """Equal, or equal but for the fields a newer envsnap added (which this one cannot
    compute: such an entry is kept as the newer envsnap wrote it)."""
    if content_of(old) == content_of(fresh):
        return True
    from envsnap.snapshot import known_part

    known, unknown = known_part(old)
    return bool(unknown) and content_of(known) == content_of(fresh)


def readable_entry(label: str, platform: str, entry: Entry) -> tuple[Entry, str | None]:
    """A locked *entry* as this envsnap compares it: validated (a wrong type is a LockError),
    without the fields a newer envsnap added; and the note naming those, if any."""
    from envsnap.snapshot import known_part, validate_entry

    known, unknown = known_part(entry)
    validate_entry(platform, known)
    if not unknown:
        return known, None
    note = (
        f"envsnap: note: {label}'s {platform} entry has fields this envsnap does not know "
        f"({', '.join(unknown)}); they were written by envsnap {entry.get('envsnap')} "
        "and are ignored"
    )
    return known, note


def without(lock: LockFile, names: set[str]) -> LockFile:
    """*lock* without the entries called *names* (a variant no longer declared)."""
    if not names & set(lock.platforms):
        return lock
    platforms = {k: v for k, v in lock.platforms.items() if k not in names}
    blocks = {k: v for k, v in lock.blocks.items() if k not in names}
    return replace(lock, schema=SCHEMA, platforms=platforms, given_blocks=blocks)
