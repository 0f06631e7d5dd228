"""What envsnap's caches stand on: the per-user cache folder and file stamps.

A stamp is what ``stat()`` says of a path — type, device, inode, size, ``mtime_ns`` and
``ctime_ns`` — or ``None`` when it does not exist. A file whose stamp is unchanged is taken to be
unchanged, with git's "racy clean" rule (https://git-scm.com/docs/racy-git): a file modified
within the timestamp granularity of the moment its stamp was taken may change again without its
stamp changing, so such a stamp is never trusted. ``ctime`` cannot be set by a user, so a file
rewritten in place with its size and ``mtime`` restored still gets a new stamp.

Every cache is read as it is written: only from a folder that is a real directory owned by this
user and closed to writes by group and others, and only files this user owns and alone may
write. Each entry is stored with a *seal*, a BLAKE2 hash keyed with a per-user secret kept beside
the caches (``secret``, mode 0600): damage, or an entry written by anyone who does not hold the
secret, fails it, and the entry is never used.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Mapping, Sequence

from envsnap.secretnames import is_secret_name

TYPE_CHECKING = False  # typing itself is not imported: a clean verify never needs it
if TYPE_CHECKING:
    from pathlib import Path

    from envsnap.entry import JsonObject

try:  # BLAKE2 is built into CPython; hashlib would first load OpenSSL (~4 ms on every verify)
    from _blake2 import blake2b as _key_hash
except ImportError:  # pragma: no cover - an interpreter without it
    from hashlib import blake2b as _key_hash

Stamp = tuple[int, int, int, int, int, int] | None

# How close to "now" a change may be and still hide behind an unchanged stamp. Filesystems with
# nanosecond timestamps (ext4, APFS, btrfs, xfs, tmpfs) take them from a clock that may lag by a
# kernel tick (at most 10 ms); whole-second timestamps (HFS+, FAT's 2 s, some network mounts)
# need the wide window.
RACY_FINE_NS = 100_000_000
RACY_COARSE_NS = 2_000_000_000
MAX_CACHE_FILE = 64 * 1024 * 1024
SECRET_NAME, SECRET_SIZE = "secret", 32  # the key that seals every cache entry (see seal)


def caching_disabled(environ: Mapping[str, str]) -> bool:
    """``ENVSNAP_NO_CACHE=1`` turns every cache off, the file hashes' included."""
    return environ.get("ENVSNAP_NO_CACHE", "") not in ("", "0")


# sys.platform -> the cache folder under the home folder, as platformdirs puts it. The one
# difference between the systems outside envsnap.platforms: a clean verify imports nothing but
# the fast path's own modules (docs/architecture.md, "The clean-verify fast path").
CACHE_BASE = {"linux": (".cache",), "darwin": ("Library", "Caches")}


def cache_dir(environ: Mapping[str, str]) -> Path | None:
    """The platform's per-user cache folder for envsnap, or None when caching is off."""
    from pathlib import Path

    if caching_disabled(environ):
        return None
    known = user_cache_dir(sys.platform, environ)
    if known is not None:
        return Path(known)
    import platformdirs

    try:
        return Path(platformdirs.user_cache_dir("envsnap", appauthor=False))
    except Exception:  # noqa: BLE001 - no home, an odd platform: run without a cache
        return None


def cache_file(environ: Mapping[str, str], name: str) -> str | None:
    """A file of the cache folder, named without importing pathlib (verify's clean path)."""
    if caching_disabled(environ):
        return None
    known = user_cache_dir(sys.platform, environ)
    if known is not None:
        return os.path.join(known, name)
    folder = cache_dir(environ)
    return str(folder / name) if folder else None


def user_cache_dir(platform: str, environ: Mapping[str, str]) -> str | None:
    """platformdirs' user cache folder for envsnap on Linux and macOS, without importing it on
    the path of every verify (tests hold the two equal); None elsewhere.

    An absolute ``XDG_CACHE_HOME`` wins on both; otherwise ``~/.cache`` or ``~/Library/Caches``.
    """
    base = CACHE_BASE.get(platform)
    if base is None:
        return None
    xdg = environ.get("XDG_CACHE_HOME", "").strip()
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "envsnap")
    home = environ.get("HOME") or os.path.expanduser("~")
    if not os.path.isabs(home):
        return None
    return os.path.join(home, *base, "envsnap")


def stamp_of(st: os.stat_result) -> tuple[int, int, int, int, int, int]:
    kind = stat.S_IFMT(st.st_mode)
    return (kind, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def stamp(path: str) -> Stamp:
    """The stamp of *path* (symlinks followed), None if it cannot be stat'ed."""
    try:
        return stamp_of(os.stat(path))
    except (OSError, ValueError):
        return None


# A folder's entries: name -> (inode, is a folder, is a symlink).
Listing = dict[str, tuple[int, bool, bool]]


def folder_state(folder: str) -> tuple[Stamp, Listing] | None:
    """*folder*'s stamp with its entries as they were at that stamp (the stamp taken again after
    the listing is the same), or None when it cannot be read or changed meanwhile."""
    before = stamp(folder)
    try:
        with os.scandir(folder) as entries:
            listing = {
                e.name: (e.inode(), e.is_dir(follow_symlinks=False), e.is_symlink())
                for e in entries
            }
    except (OSError, ValueError):
        return None
    return (before, listing) if before is not None and stamp(folder) == before else None


def holds(manifest: object, stamper: Callable[[str], Stamp] = stamp) -> bool:
    """True when *manifest* (path → stamp, as stored) is well formed and no stamp changed (as
    *stamper* takes them: a replayed host stamps from its recording)."""
    return held(manifest, stamper) is not None


def held(manifest: object, stamper: Callable[[str], Stamp] = stamp) -> dict[str, Stamp] | None:
    """*manifest*'s stamps as *stamper* takes them now, when it is well formed and not one
    changed; else None."""
    if not isinstance(manifest, dict) or not manifest:
        return None
    found: dict[str, Stamp] = {}
    for path, recorded in manifest.items():
        now = stamper(path)
        if (list(now) if now is not None else None) != recorded:
            return None
        found[path] = now
    return found


def is_racy(found: Sequence[int] | None, taken_at_ns: int) -> bool:
    """True when *found* was modified too close to *taken_at_ns* to be trusted later."""
    if found is None:
        return False
    coarse = found[4] % 1_000_000_000 == 0 and found[5] % 1_000_000_000 == 0
    window = RACY_COARSE_NS if coarse else RACY_FINE_NS
    return max(found[4], found[5]) >= taken_at_ns - window


def trusted_folder(folder: str) -> bool:
    """Whether *folder* may hold caches: a real directory (not a symlink) owned by this user and
    not writable by group or others, as :func:`envsnap.atomic.private_folder` demands of a
    folder before envsnap writes to it."""
    try:
        info = os.lstat(folder)
    except (OSError, ValueError):
        return False
    return stat.S_ISDIR(info.st_mode) and _owned_and_closed(info, 0o022)


def _owned_and_closed(info: os.stat_result, closed_bits: int) -> bool:
    return info.st_uid == os.geteuid() and not info.st_mode & closed_bits


_NOFOLLOW, _NOCTTY = getattr(os, "O_NOFOLLOW", 0), getattr(os, "O_NOCTTY", 0)
_OPEN_OWN = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | _NOCTTY | _NOFOLLOW


def _read_own_file(path: str, limit: int, closed_bits: int) -> bytes | None:
    """The bytes of *path* if it is a regular file (not a symlink) of at most *limit* bytes,
    owned by this user, with none of *closed_bits* set, in a :func:`trusted_folder`; else None.
    It is opened without blocking, so a FIFO or a device is ignored, never waited on."""
    if not trusted_folder(os.path.dirname(os.path.abspath(path))):
        return None
    try:
        fd = os.open(path, _OPEN_OWN)
    except (OSError, ValueError):
        return None
    try:
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
                return None
            return handle.read(limit) if _owned_and_closed(info, closed_bits) else None
    except OSError:
        return None


def read_cache_bytes(path: str | Path | None) -> bytes | None:
    """A cache file's bytes, or None unless it is a regular file of sane size that this user
    owns and alone may write, in a :func:`trusted_folder`: a FIFO, a device, a huge file, or a
    file or folder another user could have written is ignored, never waited on."""
    return None if path is None else _read_own_file(str(path), MAX_CACHE_FILE, 0o022)


def cache_secret(file: str | Path | None, *, create: bool = False) -> bytes | None:
    """The per-user secret that seals the cache *file*: ``secret`` beside it, 32 bytes, owned by
    this user and closed to group and others (0600). None when there is none or it cannot be
    trusted; with *create*, a fresh one then replaces it (in a folder made private first), and
    the one on disk afterwards is returned, so that racing writers agree."""
    if file is None:
        return None
    path = os.path.join(os.path.dirname(os.path.abspath(file)), SECRET_NAME)
    found = _read_own_file(path, SECRET_SIZE, 0o077)
    if found is not None and len(found) == SECRET_SIZE:
        return found
    if not create:
        return None
    from pathlib import Path

    from envsnap.atomic import atomic_write, private_folder

    try:
        private_folder(Path(path).parent, parents=True)
        secret = os.urandom(SECRET_SIZE)
        atomic_write(Path(path), secret, mode=0o600, follow_symlinks=False, keep_owner=False)
    except OSError:
        return None
    return cache_secret(file)


def seal(secret: bytes, text: str) -> str:
    """*text* hashed with BLAKE2 keyed with *secret*. Anyone without the secret cannot compute
    it, so cannot forge an entry."""
    data = text.encode("utf-8", "surrogateescape")
    return _key_hash(data, digest_size=32, key=secret).hexdigest()


def seal_fields(secret: bytes, cache: str, version: int, *fields: str) -> str:
    """The check every cache entry is stored with: its *fields* sealed (:func:`seal`), after the
    name and format *version* of the *cache* that holds it.

    Each field is written with its length (``5:libz…``), so no field can run into the next
    whatever it holds, and a check made for one cache, or one of its versions, is never valid
    for another. Text only: the clean verify's verdict seals without importing json."""
    framed = [f"envsnap-{cache} {version}", *fields]
    return seal(secret, "".join(f"{len(field)}:{field}," for field in framed))


def json_text(data: object) -> str:
    """*data* (plain JSON) as one canonical text: keys sorted, anything else (a path) as text,
    so that data read back from a cache file gives the text it was written from."""
    import json

    return json.dumps(data, sort_keys=True, default=str)


def seal_data(secret: bytes, version: int, *parts: object, cache: str = "probes") -> str:
    """:func:`seal_fields` of plain JSON data (the probe memo's), each part as its
    :func:`json_text`."""
    return seal_fields(secret, cache, version, *(json_text(part) for part in parts))


def read_cache_json(path: str | Path | None, version: int) -> JsonObject:
    """The ``entries`` of a JSON cache file of *version*; {} for anything else, silently."""
    import json

    raw = read_cache_bytes(path)
    try:
        data = json.loads(raw) if raw is not None else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {}
    if not isinstance(data, dict) or data.get("version") != version:
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}


def write_cache_json(file: str | Path, version: int, entries: Mapping[str, object]) -> None:
    """Replace a JSON cache file atomically; one that cannot be written is simply skipped."""
    import json

    payload = json.dumps({"version": version, "entries": entries}, sort_keys=True)
    write_cache_bytes(file, payload.encode())


def write_cache_bytes(file: str | Path, data: bytes) -> None:
    """Replace a cache file atomically, private to the user; a failure leaves it as it was.

    Nothing is written unless the cache folder is private to this user
    (:func:`envsnap.atomic.private_folder`); a symlink at the cache file is replaced, never
    followed, and the new file is this user's, whoever owned the old one (root's run never
    leaves a cache its own reads would refuse). The temporaries of killed writers of the same
    file are removed.
    """
    from pathlib import Path

    from envsnap.atomic import atomic_write, private_folder, remove_dead_temporaries

    path = Path(file)
    try:
        private_folder(path.parent, parents=True)
        atomic_write(path, data, mode=0o600, follow_symlinks=False, keep_owner=False)
        remove_dead_temporaries(path)  # a killed writer's; a live one's is never touched
    except OSError:
        return


# Variables no build tool reads: they change between shells, terminals and hooks, and would only
# make the memo miss. Everything else in the environment is part of every key (as a hash).
VOLATILE = frozenset(
    (
        *("_", "PWD", "OLDPWD", "SHLVL", "TMPDIR", "MAIL", "EDITOR", "VISUAL", "PAGER", "LESS"),
        *("TERM", "COLORTERM", "COLUMNS", "LINES", "DISPLAY", "WINDOWID", "TMUX", "TMUX_PANE"),
        *("STY", "SSH_AUTH_SOCK", "SSH_CLIENT", "SSH_CONNECTION", "SSH_TTY", "SSH_AGENT_PID"),
        *("LS_COLORS", "HISTFILE", "HISTSIZE", "PS1", "PS2", "PS4", "PROMPT_COMMAND"),
        *("GIT_INDEX_FILE", "GIT_EXEC_PATH", "GIT_PREFIX", "GIT_EDITOR", "GIT_REFLOG_ACTION"),
        # a login's desktop session: new at every login, read by no build tool
        *("XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS", "SESSION_MANAGER", "XDG_SESSION_ID"),
    )
)
# git exports the commit's author and date to its hooks: GIT_AUTHOR_DATE is new at every commit
VOLATILE_PREFIXES = (
    *("TERM_", "XPC_", "__CF", "VSCODE_", "PRE_COMMIT", "ENVSNAP_"),
    *("GIT_AUTHOR_", "GIT_COMMITTER_"),
)


def environment_key(environ: Mapping[str, str]) -> str:
    """A hash of every variable that could change a tool's answer, and of the working directory
    that relative names in them (``PATH=bin:…``, ``PKG_CONFIG_PATH=pc``) resolve against.

    Values are never stored; a variable whose name says it holds a secret counts by a digest of
    its value (``LIBSECRET_PREFIX``, ``TOKENIZER_HOME`` are ordinary build settings too)."""
    digest = _key_hash(digest_size=32)
    for name in sorted(environ):
        if name in VOLATILE or name.startswith(VOLATILE_PREFIXES):
            continue
        value = environ[name].encode("utf-8", "surrogateescape")
        if is_secret_name(name):
            value = _key_hash(value, digest_size=32).hexdigest().encode()
        digest.update(name.encode("utf-8", "surrogateescape") + b"=" + value + b"\0")
    digest.update(b"\0cwd=" + _working_directory().encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _working_directory() -> str:
    try:
        return os.getcwd()
    except OSError:  # a working directory that was removed resolves nothing relative
        return ""


def key_of(*parts: object) -> str:
    """A stable hash of plain JSON data."""
    return text_key(json_text(parts))


def text_key(text: str) -> str:
    """A 256-bit BLAKE2 hash of *text*, for cache keys."""
    return _key_hash(text.encode("utf-8", "surrogateescape"), digest_size=32).hexdigest()
