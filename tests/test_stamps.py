"""The pieces the caches stand on: the cache folder, stamps and the racy rule."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from platformdirs.macos import MacOS
from platformdirs.unix import Unix

from envsnap.hashing import HashCache
from envsnap.stamps import environment_key, is_racy, stamp, user_cache_dir


@pytest.mark.parametrize("xdg", [None, "", "   ", "/x/cache", "relative/cache"])
@pytest.mark.parametrize(("platform", "dirs"), [("linux", Unix), ("darwin", MacOS)])
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
