"""The pieces the caches stand on: the cache folder, stamps and the racy rule."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import time
from pathlib import Path

import pytest
from platformdirs.macos import MacOS
from platformdirs.unix import Unix

from envsnap.hashing import HashCache
from envsnap.stamps import (
    MAX_CACHE_FILE,
    RACY_FINE_NS,
    SECRET_SIZE,
    cache_dir,
    cache_file,
    cache_secret,
    caching_disabled,
    environment_key,
    holds,
    is_racy,
    key_of,
    read_cache_bytes,
    read_cache_json,
    seal,
    seal_data,
    seal_fields,
    stamp,
    text_key,
    user_cache_dir,
    write_cache_bytes,
    write_cache_json,
)

PLATFORMS = [("linux", Unix), ("darwin", MacOS)]
THIS_PLATFORM = MacOS if sys.platform == "darwin" else Unix


@pytest.mark.parametrize("xdg", [None, "", "   ", "/x/cache", "relative/cache"])
@pytest.mark.parametrize(("platform", "dirs"), PLATFORMS)
def test_the_cache_folder_is_where_platformdirs_puts_it(
    monkeypatch: pytest.MonkeyPatch, xdg: str | None, platform: str, dirs: type
) -> None:
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    expected = dirs("envsnap", appauthor=False).user_cache_dir
    assert user_cache_dir(platform, os.environ) == expected


def test_a_file_rewritten_in_place_with_size_and_mtime_kept_gets_a_new_stamp(
    tmp_path: Path,
) -> None:
    path = tmp_path / "lib.a"
    path.write_bytes(b"one")
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    before = stamp(str(path))
    time.sleep(0.01)
    with path.open("r+b") as handle:
        handle.write(b"two")
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    after = stamp(str(path))
    assert before is not None and after is not None
    assert before[:5] == after[:5] and before != after  # only ctime tells


def test_a_stamp_taken_just_after_a_change_is_racy(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("x")
    assert is_racy(stamp(str(path)), time.time_ns())
    old = (1_000_000_000, 1_000_000_000)
    assert not is_racy((0o100000, 1, 2, 3, *old), time.time_ns())
    assert is_racy((0o100000, 1, 2, 3, 5_000_000_000, 5_000_000_000), 6_000_000_000)
    assert not is_racy(None, time.time_ns())


def test_an_old_mtime_restored_just_now_is_racy(tmp_path: Path) -> None:
    """A package manager writes a file, then sets its mtime back to the release date: the stamp
    shows an old mtime but a ctime of now, and the change is just as recent."""
    path = tmp_path / "libz.a"
    path.write_bytes(b"one")
    time.sleep(0.15)  # the write itself is then outside the window
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    found = stamp(str(path))
    assert found is not None and found[4] == 1_000_000_000  # old mtime, fresh ctime
    assert is_racy(found, time.time_ns())
    cache = HashCache(tmp_path / "cache" / "file-hashes.json")
    assert cache.digest(str(path)) == "sha256:" + hashlib.sha256(b"one").hexdigest()
    cache.save()
    assert not (tmp_path / "cache" / "file-hashes.json").exists()  # such a digest is not kept


def test_the_environment_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A secret-named variable counts by its value, git's commit identity in a hook does not,
    and the working directory (relative PATH entries resolve against it) does."""
    base = {"PATH": "bin:/usr/bin", "LIBSECRET_PREFIX": "/opt/one"}
    key = environment_key(base)
    assert environment_key({**base, "LIBSECRET_PREFIX": "/opt/two"}) != key
    assert environment_key({**base, "GIT_AUTHOR_DATE": "@1796679261 +0000"}) == key
    monkeypatch.chdir(tmp_path)
    assert environment_key(base) != key


def platformdirs_says(monkeypatch: pytest.MonkeyPatch, dirs: type, environ: dict[str, str]) -> str:
    """platformdirs' folder in a process whose HOME and XDG_CACHE_HOME are *environ*'s."""
    for name in ("HOME", "XDG_CACHE_HOME"):
        if name in environ:
            monkeypatch.setenv(name, environ[name])
        else:
            monkeypatch.delenv(name, raising=False)
    folder: str = dirs("envsnap", appauthor=False).user_cache_dir
    return folder


ENVIRONS = [{"HOME": "/home/given"}, {"HOME": "/home/given", "XDG_CACHE_HOME": "relative"}]


@pytest.mark.parametrize("environ", ENVIRONS)
@pytest.mark.parametrize(("platform", "dirs"), PLATFORMS)
def test_the_cache_folder_is_the_given_environment_s_not_the_process_s(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], platform: str, dirs: type
) -> None:
    """A hook or a test hands envsnap an environment of its own: its HOME decides the folder."""
    expected = platformdirs_says(monkeypatch, dirs, environ)
    monkeypatch.setenv("HOME", "/home/process")
    assert user_cache_dir(platform, environ) == expected


@pytest.mark.parametrize(("platform", "dirs"), PLATFORMS)
def test_without_home_the_cache_folder_is_in_the_user_s_home_all_the_same(
    monkeypatch: pytest.MonkeyPatch, platform: str, dirs: type
) -> None:
    """No HOME: the home of the password database, as platformdirs finds it."""
    expected = platformdirs_says(monkeypatch, dirs, {})
    assert os.path.isabs(expected)
    assert user_cache_dir(platform, {}) == expected


def test_a_manifest_holds_until_a_file_it_names_changes(tmp_path: Path) -> None:
    path = tmp_path / "libz.a"
    path.write_text("one")
    found = stamp(str(path))
    assert found is not None
    manifest = {str(path): list(found), str(tmp_path / "absent"): None}
    assert holds(manifest)
    path.write_text("three")
    assert not holds(manifest)


@pytest.mark.parametrize("manifest", [{}, [], [["/etc/hostname", None]], None, "x", 1])
def test_a_manifest_that_is_no_table_of_files_vouches_for_nothing(manifest: object) -> None:
    """A cache entry whose manifest names no file would otherwise hold forever."""
    assert holds(manifest) is False


def test_no_cache_file_reads_nothing_not_even_a_file_named_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the caches off there is no cache file (None): nothing is read, not even a file of
    the working folder whose name is "None" (a repository could hold one)."""
    planted = tmp_path / "None"
    planted.write_text(json.dumps({"version": 1, "entries": {"k": "planted"}}))
    planted.chmod(0o600)
    monkeypatch.chdir(tmp_path)
    assert read_cache_json(planted, 1) == {"k": "planted"}  # a cache file, were it named
    assert read_cache_bytes(None) is None
    assert read_cache_json(None, 1) == {}


READ_MODES = [(0o600, True), (0o644, True), (0o755, True), (0o601, True), (0o400, True)]
REFUSED_MODES = [(0o620, False), (0o602, False), (0o666, False), (0o777, False)]


@pytest.mark.parametrize(("mode", "read"), READ_MODES + REFUSED_MODES)
def test_a_cache_file_is_read_unless_another_may_write_it(
    tmp_path: Path, mode: int, read: bool
) -> None:
    """What others may read or run does not matter; what they may write does."""
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    file = folder / "file-hashes.json"
    file.write_bytes(b"cached")
    file.chmod(mode)
    assert (read_cache_bytes(file) == b"cached") is read


@pytest.mark.parametrize(("mode", "read"), READ_MODES + REFUSED_MODES)
def test_a_cache_folder_is_trusted_unless_another_may_write_in_it(
    tmp_path: Path, mode: int, read: bool
) -> None:
    """~/.cache is often 0755: a folder others may list or enter still holds caches."""
    folder = tmp_path / "cache"
    folder.mkdir()
    file = folder / "file-hashes.json"
    file.write_bytes(b"cached")
    file.chmod(0o600)
    folder.chmod(mode | 0o700)
    assert (read_cache_bytes(file) == b"cached") is read


def test_a_cache_file_over_the_limit_is_not_read(tmp_path: Path) -> None:
    """Not even its first MAX_CACHE_FILE bytes: a cut entry would be no entry at all."""
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    file = folder / "probes.json"
    with file.open("wb") as handle:
        handle.truncate(MAX_CACHE_FILE + 1)  # sparse: nothing is written
    file.chmod(0o600)
    assert read_cache_bytes(file) is None
    file.write_bytes(b"x" * 10)
    assert read_cache_bytes(file) == b"x" * 10


def test_a_secret_of_another_size_is_no_secret(tmp_path: Path) -> None:
    """A longer file is not cut down to a key: the caches it would seal are not trusted."""
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    file = cache / "probes.json"
    for size in (SECRET_SIZE + 1, SECRET_SIZE - 1, 4096):
        (cache / "secret").write_bytes(b"k" * size)
        (cache / "secret").chmod(0o600)
        assert cache_secret(file) is None
    (cache / "secret").write_bytes(b"k" * SECRET_SIZE)
    assert cache_secret(file) == b"k" * SECRET_SIZE


def test_a_seal_is_of_the_data_not_of_how_it_was_built() -> None:
    """The entry read back from JSON (keys in any order, paths as text) seals as written."""
    secret = b"k" * SECRET_SIZE
    built = {"b": [1, 2], "a": {"y": Path("/usr/lib"), "x": None}}
    read_back = json.loads(json.dumps({"a": {"x": None, "y": "/usr/lib"}, "b": [1, 2]}))
    assert seal_data(secret, 4, built) == seal_data(secret, 4, read_back)
    assert seal_data(secret, 4, built) != seal_data(b"j" * SECRET_SIZE, 4, built)


def test_a_key_is_of_the_data_not_of_how_it_was_built() -> None:
    """Keys in any order, a path or its text: the same cache key, so the same entry is found."""
    built = {"b": [1, 2], "a": {"y": Path("/usr/lib"), "x": None}}
    assert key_of("probe", built) == key_of(
        "probe", {"a": {"x": None, "y": "/usr/lib"}, "b": [1, 2]}
    )
    assert key_of("probe", built) != key_of("other", built)


def test_the_cache_files_are_in_the_given_environment_s_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environ = {"HOME": "/home/given"}
    expected = platformdirs_says(monkeypatch, THIS_PLATFORM, environ)
    monkeypatch.setenv("HOME", "/home/process")
    monkeypatch.setenv("XDG_CACHE_HOME", "/home/process/.cache")
    assert cache_dir(environ) == Path(expected)
    assert cache_file(environ, "probes.json") == os.path.join(expected, "probes.json")


def test_with_a_relative_home_the_cache_folder_is_platformdirs_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HOME=relative names no folder: platformdirs finds one from the process's environment."""
    expected = THIS_PLATFORM("envsnap", appauthor=False).user_cache_dir
    assert expected.endswith("envsnap")
    assert cache_dir({"HOME": "relative"}) == Path(expected)
    assert cache_file({"HOME": "relative"}, "probes.json") == os.path.join(expected, "probes.json")


@pytest.mark.parametrize("entries", [[], ["a"], None, "a", 1])
def test_cache_entries_that_are_no_table_are_no_entries(tmp_path: Path, entries: object) -> None:
    file = tmp_path / "cache" / "probes.json"
    write_cache_bytes(file, json.dumps({"version": 3, "entries": entries}).encode())
    assert read_cache_bytes(file) is not None
    assert read_cache_json(file, 3) == {}


def test_a_cache_file_is_the_same_whatever_order_its_entries_came_in(tmp_path: Path) -> None:
    one, two = tmp_path / "cache" / "one.json", tmp_path / "cache" / "two.json"
    write_cache_json(one, 1, {"b": {"y": 1, "x": 2}, "a": 3})
    write_cache_json(two, 1, {"a": 3, "b": {"x": 2, "y": 1}})
    assert one.read_bytes() == two.read_bytes()
    assert read_cache_json(one, 1) == {"a": 3, "b": {"x": 2, "y": 1}}


def test_the_cache_folder_and_its_missing_parents_are_made(tmp_path: Path) -> None:
    """The first run on a machine without ~/.cache writes its caches all the same."""
    file = tmp_path / "home" / ".cache" / "envsnap" / "file-hashes.json"
    write_cache_bytes(file, b"cached")
    assert file.read_bytes() == b"cached"
    assert stat.S_IMODE(file.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(file.stat().st_mode) == 0o600


def test_a_symlink_at_a_cache_file_is_replaced_never_written_through(tmp_path: Path) -> None:
    """Whoever planted the link, the file it points at is left alone."""
    victim = tmp_path / "victim"
    victim.write_bytes(b"mine")
    file = tmp_path / "cache" / "probes.json"
    file.parent.mkdir(mode=0o700)
    file.symlink_to(victim)
    write_cache_bytes(file, b"cached")
    assert victim.read_bytes() == b"mine"
    assert not file.is_symlink() and file.read_bytes() == b"cached"


def test_with_no_folder_at_all_there_is_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """No usable HOME and platformdirs cannot tell either: envsnap runs without a cache."""
    import platformdirs

    def no_folder(*args: object, **kwargs: object) -> str:
        raise KeyError("HOME")

    monkeypatch.setattr(platformdirs, "user_cache_dir", no_folder)
    assert cache_dir({"HOME": "relative"}) is None
    assert cache_file({"HOME": "relative"}, "probes.json") is None


def cwd_suffix() -> bytes:
    return b"\0cwd=" + os.fsencode(os.getcwd())


def test_the_environment_key_is_a_blake2b_of_the_sorted_variables() -> None:
    """Pinned: ``NAME=value\\0`` of each variable in name order, then the working directory,
    BLAKE2b of 32 bytes."""
    expected = hashlib.blake2b(b"A=1\0B=2 3\0" + cwd_suffix(), digest_size=32).hexdigest()
    assert environment_key({"B": "2 3", "A": "1"}) == expected


def test_a_variable_that_is_no_utf8_is_keyed_by_its_bytes() -> None:
    """os.environ holds a value that is no UTF-8 with surrogates; its bytes go into the key."""
    value = os.fsdecode(b"caf\xe9")
    expected = hashlib.blake2b(b"LANG=caf\xe9\0" + cwd_suffix(), digest_size=32).hexdigest()
    assert environment_key({"LANG": value}) == expected


def test_a_text_key_is_a_256_bit_blake2b_of_its_bytes() -> None:
    assert text_key("go1.26.6") == hashlib.blake2b(b"go1.26.6", digest_size=32).hexdigest()
    no_utf8 = os.fsdecode(b"/opt/caf\xe9/lib")
    assert text_key(no_utf8) == hashlib.blake2b(b"/opt/caf\xe9/lib", digest_size=32).hexdigest()


@pytest.mark.parametrize(
    ("value", "disabled"), [("", False), ("0", False), ("1", True), ("yes", True)]
)
def test_envsnap_no_cache_turns_the_caches_off_unless_empty_or_0(
    value: str, disabled: bool
) -> None:
    environ = {"HOME": "/home/given", "ENVSNAP_NO_CACHE": value}
    assert caching_disabled(environ) is disabled
    assert (cache_file(environ, "probes.json") is None) is disabled
    assert caching_disabled({"HOME": "/home/given"}) is False


def test_a_seal_is_a_blake2b_keyed_with_the_secret() -> None:
    """Pinned: 32 bytes of BLAKE2b keyed with the secret, over the text's bytes."""
    secret = bytes(range(SECRET_SIZE))
    for text, data in (("entry", b"entry"), (os.fsdecode(b"caf\xe9"), b"caf\xe9")):
        expected = hashlib.blake2b(data, digest_size=32, key=secret).hexdigest()
        assert seal(secret, text) == expected


def test_one_seal_writes_each_field_with_its_length() -> None:
    """Pinned (docs/cache.md): the cache's name and version, then each field as
    ``<length>:<text>,``; so fields cannot run into each other, nor caches share a check."""
    secret = bytes(range(SECRET_SIZE))
    text = b"18:envsnap-verdicts 5,3:a\0b,1:c,"
    expected = hashlib.blake2b(text, digest_size=32, key=secret).hexdigest()
    assert seal_fields(secret, "verdicts", 5, "a\0b", "c") == expected
    assert seal_fields(secret, "verdicts", 5, "a", "b\0c") != expected
    assert seal_fields(secret, "probes", 5, "a\0b", "c") != expected
    assert seal_fields(secret, "verdicts", 6, "a\0b", "c") != expected


def test_reading_the_secret_never_makes_one(tmp_path: Path) -> None:
    """Only a writer makes the secret: a reader finds none and reads no cache."""
    file = tmp_path / "cache" / "probes.json"
    assert cache_secret(file) is None
    assert not (tmp_path / "cache").exists()
    made = cache_secret(file, create=True)
    assert made is not None and len(made) == SECRET_SIZE
    assert cache_secret(file) == made


FILE = (0o100000, 1, 2, 3)
RACY_ROWS = [
    # mtime, ctime, taken: a file whose mtime is ahead of its ctime (set into the future)
    (9_000_000_001, 1_000_000_001, 6_000_000_000, True),
    # a change exactly one window before the stamp is taken is still inside it
    (5_000_000_001, 5_000_000_001, 5_000_000_001 + RACY_FINE_NS, True),
    (5_000_000_001, 5_000_000_001, 5_000_000_002 + RACY_FINE_NS, False),
    # a ctime of whole seconds by chance, beside a mtime of nanoseconds: the fine window
    (1_000_000_001, 5_000_000_000, 5_500_000_000, False),
    (1_000_000_000, 5_000_000_000, 5_500_000_000, True),  # both whole seconds: the coarse one
]


@pytest.mark.parametrize(("mtime", "ctime", "taken", "racy"), RACY_ROWS)
def test_the_racy_window(mtime: int, ctime: int, taken: int, racy: bool) -> None:
    assert is_racy((*FILE, mtime, ctime), taken) is racy
