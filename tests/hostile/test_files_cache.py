"""Corrupt cache files (docs/cache.md): each kind of damage, in each cache file, is discarded,
never waited on and never trusted — `lock` writes the real digests and `verify` is right."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from envsnap import verdict
from envsnap.hashing import HashCache
from envsnap.host import LocalHost
from envsnap.probecache import ProbeCache
from envsnap.stamps import stamp
from tests.conftest import envsnap
from tests.hostile.files_common import SPECIAL_KINDS, plant, run_child

CACHE_FILES = ("file-hashes.json", "probes.json", "verdicts")
_DIGESTS = re.compile(rb"sha256:[0-9a-f]{64}")
ZERO = b"sha256:" + b"0" * 64


def _rotate_digests(data: bytes) -> bytes:
    """Every digest replaced by the next one found: well formed, plausible and wrong."""
    found = _DIGESTS.findall(data)
    assert len(set(found)) > 1, data[:200]
    following = dict(zip(found, found[1:] + found[:1], strict=True))
    return _DIGESTS.sub(lambda match: following[match.group()], data)


def _wrong_shape(name: str) -> bytes:
    if name == "verdicts":
        return b"\0".join([f"envsnap-verdicts {verdict.VERDICT_VERSION}".encode(), b"k", b"1"])
    return json.dumps(
        {"version": 2, "entries": {"x": {"manifest": 1, "value": []}, "y": 5}}
    ).encode()


def corrupt(path: Path, kind: str) -> None:
    """Damage the cache file *path* (which holds a valid cache) in the way *kind* names."""
    data = path.read_bytes()
    path.unlink()
    if kind in SPECIAL_KINDS:
        plant(path, kind)
    elif kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "garbage":
        path.write_bytes(bytes(range(256)) * 16)
    elif kind == "shape":
        path.write_bytes(_wrong_shape(path.name))
    elif kind == "zeroed digests":
        path.write_bytes(_DIGESTS.sub(ZERO, data))
    elif kind == "rotated digests":
        path.write_bytes(_rotate_digests(data))
    else:
        raise ValueError(kind)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


UNREADABLE = ("fifo", "dir", "zero", "truncated", "garbage", "shape")


# --- each cache, directly -------------------------------------------------------------------


@pytest.fixture(scope="module")
def old_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Files last changed long enough ago that their stamps are trusted (not "racy")."""
    folder = tmp_path_factory.mktemp("old")
    files = [folder / f"lib{n}.so" for n in range(3)]
    for n, path in enumerate(files):
        path.write_bytes(f"library {n}".encode() * 100)
        os.utime(path, (1_000_000_000, 1_000_000_000))
    time.sleep(0.15)  # past the racy window of their ctime
    return files


def _real(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("kind", [*UNREADABLE, "zeroed digests", "rotated digests"])
def test_a_corrupt_hash_cache_gives_the_real_digests(
    tmp_path: Path, old_files: list[Path], kind: str
) -> None:
    file = tmp_path / "file-hashes.json"
    writer = HashCache(file)
    assert [writer.digest(str(p)) for p in old_files] == [_real(p) for p in old_files]
    writer.save()
    corrupt(file, kind)
    reader = HashCache(file)
    assert [reader.digest(str(p)) for p in old_files] == [_real(p) for p in old_files]
    reader.save()  # a damaged cache is replaced, or skipped, never an error
    _remove(file)


def _probe(calls: list[int], paths: list[Path]) -> Any:
    def compute(host: Any) -> dict[str, Any]:
        calls.append(1)
        for path in paths:
            host.stat(str(path))
        return {"answer": 42, "paths": [str(p) for p in paths]}

    return compute


def _tamper_value(path: Path) -> None:
    data = json.loads(path.read_bytes())
    for entry in data["entries"].values():
        entry["value"]["answer"] = 41
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("kind", [*UNREADABLE, "changed value"])
def test_a_corrupt_probe_memo_is_recomputed(
    tmp_path: Path, old_files: list[Path], kind: str
) -> None:
    file, calls = tmp_path / "probes.json", list[int]()
    writer = ProbeCache(LocalHost(), file)
    assert writer.memo("go", "key", _probe(calls, old_files))["answer"] == 42
    writer.save()
    assert ProbeCache(LocalHost(), file).memo("go", "key", _probe(calls, old_files))["answer"] == 42
    assert len(calls) == 1  # the memo was kept and is used
    if kind == "changed value":
        _tamper_value(file)
    else:
        corrupt(file, kind)
    reader = ProbeCache(LocalHost(), file)
    assert reader.memo("go", "key", _probe(calls, old_files))["answer"] == 42
    assert len(calls) == 2
    reader.save()
    _remove(file)


@pytest.mark.parametrize("kind", [*UNREADABLE, "changed report"])
def test_a_corrupt_verdict_is_never_printed(
    tmp_path: Path, old_files: list[Path], kind: str
) -> None:
    environ = {"XDG_CACHE_HOME": str(tmp_path), "HOME": str(tmp_path)}
    root = str(old_files[0].parent)
    report = {"text": "clean\n", "json": "{}\n", "quiet": ""}
    stood_on = {str(p): stamp(str(p)) for p in old_files}
    started = time.time_ns()
    verdict.remember_clean(environ, root, root, report, stood_on, started)
    assert verdict.clean_report(environ, root, root) == report
    file = tmp_path / "envsnap" / "verdicts"
    if kind == "changed report":
        file.write_bytes(file.read_bytes().replace(b"clean\n", b"dirty\n"))
    else:
        corrupt(file, kind)
    assert verdict.clean_report(environ, root, root) is None
    _remove(file)


# --- the real command line ------------------------------------------------------------------


def _stored_digests(lock: Path) -> dict[str, str]:
    """Each file's digest in the lock, by path."""
    found: dict[str, str] = {}

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "sha256" in value:
                found[value.get("realpath") or value["path"]] = value["sha256"]
            for child in value.values():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    walk(tomllib.loads(lock.read_text()))
    return found


@pytest.mark.parametrize("kind", ["zeroed digests", "rotated digests"])
def test_a_tampered_hash_cache_never_reaches_the_lock(
    cgo_module: Path, isolated_home: Path, kind: str
) -> None:
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    time.sleep(0.15)  # the files the lock hashed are then not "racy": the cache keeps them
    assert envsnap("lock", "--force", "-C", str(cgo_module)).returncode == 0
    cache = isolated_home / ".cache" / "envsnap" / "file-hashes.json"
    corrupt(cache, kind)
    (cgo_module / "envsnap.lock").unlink()
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    digests = _stored_digests(cgo_module / "envsnap.lock")
    assert len(digests) >= 3  # the compiler, the linker, libz and its .pc file
    assert digests == {path: _real(Path(path)) for path in digests}
    result = envsnap("verify", "-C", str(cgo_module))
    assert (result.returncode, result.stderr) == (0, "")


def test_every_damaged_cache_file_is_ignored_by_verify(
    cgo_module: Path, isolated_home: Path
) -> None:
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    folder = isolated_home / ".cache" / "envsnap"
    for kind in ("fifo", "zero", "garbage"):  # each kind is tried on each file above, directly
        for _ in range(2):  # the first fills the caches, the second writes the verdict
            assert envsnap("verify", "-C", str(cgo_module)).returncode == 0
        for name in CACHE_FILES:
            corrupt(folder / name, kind)
        code, stderr = run_child("verify", "-C", str(cgo_module))
        assert (kind, code, stderr) == (kind, 0, "")
        for name in CACHE_FILES:
            _remove(folder / name)
