"""Caches another user could have written are never trusted (docs/security.md, docs/cache.md).

A cache folder another user owns or may write (a shared ``XDG_CACHE_HOME``, a 0777 folder, a
folder reached through a symlink), and a cache file another user owns or may write, are ignored
when read as they are refused when written. Every entry is sealed with the user's secret
(``secret``, 0600, beside the caches): an entry whose check anyone can recompute, or that was
sealed with another secret, is never used. Each cache — file hashes, probe memo, verdicts — is
held to both, and a real ``git commit`` with the hook installed reports the drift a planted clean
verdict would hide.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from hashlib import blake2b
from pathlib import Path
from typing import Any

import pytest

from envsnap import hashing, verdict
from envsnap.hashing import HashCache
from envsnap.host import LocalHost
from envsnap.probecache import ProbeCache
from envsnap.stamps import stamp
from tests.conftest import envsnap, unavailable
from tests.test_git_hook import gui_env, install, try_commit
from tests.test_git_repo import commit_all, init_repo, plain_module

__all__ = ["gui_env"]  # a fixture, used by name

OTHER_UID = 54321
PLACES = (
    "folder of another uid",
    "0777 folder",
    "symlinked folder",
    "file of another uid",
    "group-writable file",
)
SECRET = "secret"


def _give_away(*paths: Path) -> None:
    """Make *paths* (and what folders among them hold) another user's."""
    if os.geteuid() != 0:
        unavailable("chown to another user needs root")
    for top in paths:
        for path in [top, *(top.rglob("*") if top.is_dir() else ())]:
            os.lchown(path, OTHER_UID, OTHER_UID)


def make_hostile(folder: Path, place: str) -> None:
    """Leave the cache *folder* (holding a valid cache of this user's) where *place* says: one
    another user could have written, or could have planted whole."""
    files = [p for p in folder.iterdir() if p.name != SECRET]
    if place == "folder of another uid":
        _give_away(folder)
    elif place == "0777 folder":
        folder.chmod(0o777)
    elif place == "symlinked folder":  # the folder elsewhere is this user's own, 0700
        elsewhere = folder.parent / "elsewhere"
        folder.rename(elsewhere)
        folder.symlink_to(elsewhere)
    elif place == "file of another uid":
        _give_away(*files)
    elif place == "group-writable file":
        for path in files:
            path.chmod(0o664)
    else:
        raise ValueError(place)


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


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The cache folder, as envsnap makes it: 0700, this user's."""
    made = tmp_path / "cache" / "envsnap"
    made.mkdir(parents=True, mode=0o700)
    return made


def _hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files hashed from now on (a digest taken from the cache hashes none)."""
    read: list[str] = []
    real = hashing.sha256_file

    def counting(path: str) -> Any:
        read.append(path)
        return real(path)

    monkeypatch.setattr(hashing, "sha256_file", counting)
    return read


def _probe(calls: list[int], paths: list[Path], answer: int = 42) -> Any:
    def compute(host: Any) -> dict[str, Any]:
        calls.append(1)
        for path in paths:
            host.stat(str(path))
        return {"answer": answer}

    return compute


REPORT = {"text": "clean\n", "json": "{}\n", "quiet": ""}


def _environ(folder: Path) -> dict[str, str]:
    return {"XDG_CACHE_HOME": str(folder.parent), "HOME": str(folder.parent)}


def _remember(folder: Path, files: list[Path]) -> None:
    root = str(files[0].parent)
    stood_on = {str(p): stamp(str(p)) for p in files}
    verdict.remember_clean(_environ(folder), root, root, REPORT, stood_on, time.time_ns())


def _recalled(folder: Path, files: list[Path]) -> dict[str, str] | None:
    root = str(files[0].parent)
    return verdict.clean_report(_environ(folder), root, root)


# --- a cache another user could have written is never read ----------------------------------


@pytest.mark.parametrize("place", PLACES)
def test_a_hash_cache_another_user_could_write_is_never_read(
    folder: Path, old_files: list[Path], place: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = folder / "file-hashes.json"
    writer = HashCache(file)
    digests = [writer.digest(str(p)) for p in old_files]
    writer.save()
    hashed = _hashed(monkeypatch)
    assert [HashCache(file).digest(str(p)) for p in old_files] == digests
    assert hashed == []  # the cache answers while the folder is this user's alone
    make_hostile(folder, place)
    assert [HashCache(file).digest(str(p)) for p in old_files] == digests
    assert hashed == [str(p) for p in old_files]


@pytest.mark.parametrize("place", PLACES)
def test_a_probe_memo_another_user_could_write_is_never_read(
    folder: Path, old_files: list[Path], place: str
) -> None:
    file, calls = folder / "probes.json", list[int]()
    writer = ProbeCache(LocalHost(), file)
    writer.memo("go", "key", _probe(calls, old_files))
    writer.save()
    assert ProbeCache(LocalHost(), file).memo("go", "key", _probe(calls, old_files)) == {
        "answer": 42
    }
    assert len(calls) == 1
    make_hostile(folder, place)
    reader = ProbeCache(LocalHost(), file)
    assert reader.memo("go", "key", _probe(calls, old_files)) == {"answer": 42}
    assert len(calls) == 2
    reader.save()
    if place.startswith("file"):  # the folder is this user's: the file is rewritten as theirs
        assert ProbeCache(LocalHost(), file).memo("go", "key", _probe(calls, old_files))
        assert len(calls) == 2
        assert (file.stat().st_uid, stat.S_IMODE(file.stat().st_mode)) == (os.geteuid(), 0o600)


@pytest.mark.parametrize("place", PLACES)
def test_a_verdict_another_user_could_write_is_never_printed(
    folder: Path, old_files: list[Path], place: str
) -> None:
    _remember(folder, old_files)
    assert _recalled(folder, old_files) == REPORT
    make_hostile(folder, place)
    assert _recalled(folder, old_files) is None


@pytest.mark.parametrize("place", ["folder of another uid", "0777 folder", "symlinked folder"])
def test_nothing_is_written_into_a_folder_another_user_could_write(
    folder: Path, old_files: list[Path], place: str
) -> None:
    _remember(folder, old_files)
    make_hostile(folder, place)
    before = {p.name: (p.read_bytes(), p.lstat().st_mtime_ns) for p in folder.iterdir()}
    _remember(folder, [old_files[1]])
    writer = HashCache(folder / "file-hashes.json")
    writer.digest(str(old_files[0]))
    writer.save()
    assert {p.name: (p.read_bytes(), p.lstat().st_mtime_ns) for p in folder.iterdir()} == before


# --- a check anyone can compute, or sealed with another secret, is never trusted ------------


def unkeyed(text: str, size: int = 32) -> str:
    """The check as it was once computed: a BLAKE2 hash with no key, anyone can recompute it."""
    return blake2b(text.encode("utf-8", "surrogateescape"), digest_size=size).hexdigest()


def keyed_elsewhere(text: str, size: int = 32) -> str:
    """A check sealed with a secret that is not this user's (another user's own)."""
    data = text.encode("utf-8", "surrogateescape")
    return blake2b(data, digest_size=size, key=b"k" * 32).hexdigest()


FORGERS: dict[str, Callable[..., str]] = {"unkeyed": unkeyed, "another secret": keyed_elsewhere}
ZERO = "sha256:" + "0" * 64


def framed(cache: str, version: object, *fields: str) -> str:
    """The text every cache seals, written out here (docs/cache.md): the cache's name and
    version, then each field, each as ``<length>:<text>,``."""
    return "".join(f"{len(f)}:{f}," for f in (f"envsnap-{cache} {version}", *fields))


def test_the_three_caches_seal_alike_with_the_user_s_secret(
    folder: Path, old_files: list[Path]
) -> None:
    """File hashes, probe memo and verdicts: each entry's check is the same keyed BLAKE2 of its
    fields framed the same way, so no field runs into the next and no check fits another cache."""
    hashes = HashCache(folder / "file-hashes.json")
    hashes.digest(str(old_files[0]))
    hashes.save()
    memo = ProbeCache(LocalHost(), folder / "probes.json")
    memo.memo("go", "key", _probe([], old_files))
    memo.save()
    _remember(folder, old_files)
    secret = (folder / SECRET).read_bytes()

    def sealed(text: str) -> str:
        return blake2b(
            text.encode("utf-8", "surrogateescape"), digest_size=32, key=secret
        ).hexdigest()

    data = json.loads((folder / "file-hashes.json").read_bytes())
    for key, (digest, check) in data["entries"].items():
        assert check == sealed(framed("file-hashes", data["version"], key, digest))
    data = json.loads((folder / "probes.json").read_bytes())
    for slot, entry in data["entries"].items():
        texts = [
            json.dumps(part, sort_keys=True) for part in (slot, entry["manifest"], entry["value"])
        ]
        assert entry["check"] == sealed(framed("probes", data["version"], *texts))
    fields = (folder / "verdicts").read_text().split("\0")
    version = fields[0].removeprefix("envsnap-verdicts ")
    assert fields[-1] == sealed(framed("verdicts", version, *fields[1:-1]))


@pytest.mark.parametrize("forger", FORGERS)
def test_a_forged_file_digest_is_never_used(
    folder: Path, old_files: list[Path], forger: str
) -> None:
    file = folder / "file-hashes.json"
    writer = HashCache(file)
    truth = [writer.digest(str(p)) for p in old_files]
    writer.save()
    data = json.loads(file.read_bytes())
    version = data["version"]
    for key in data["entries"]:
        data["entries"][key] = [ZERO, FORGERS[forger](framed("file-hashes", version, key, ZERO))]
    file.write_text(json.dumps(data))
    assert [HashCache(file).digest(str(p)) for p in old_files] == truth


@pytest.mark.parametrize("forger", FORGERS)
def test_a_forged_probe_answer_is_never_used(
    folder: Path, old_files: list[Path], forger: str
) -> None:
    file, calls = folder / "probes.json", list[int]()
    writer = ProbeCache(LocalHost(), file)
    writer.memo("go", "key", _probe(calls, old_files))
    writer.save()
    data = json.loads(file.read_bytes())
    for slot, entry in data["entries"].items():
        entry["value"]["answer"] = 41
        texts = [
            json.dumps(part, sort_keys=True) for part in (slot, entry["manifest"], entry["value"])
        ]
        entry["check"] = FORGERS[forger](framed("probes", data["version"], *texts))
    file.write_text(json.dumps(data))
    assert ProbeCache(LocalHost(), file).memo("go", "key", _probe(calls, old_files)) == {
        "answer": 42
    }
    assert len(calls) == 2


@pytest.mark.parametrize("forger", FORGERS)
def test_a_forged_verdict_is_never_printed(
    folder: Path, old_files: list[Path], forger: str
) -> None:
    _remember(folder, old_files)
    fields = (folder / "verdicts").read_text().split("\0")
    magic, record = fields[0], fields[1:-1]
    record[1] = "forged: matches\n"
    version = magic.removeprefix("envsnap-verdicts ")
    forged = [magic, *record, FORGERS[forger](framed("verdicts", version, *record))]
    (folder / "verdicts").write_text("\0".join(forged))
    assert _recalled(folder, old_files) is None


# --- the secret ---------------------------------------------------------------------------


def test_the_secret_is_made_private_with_the_first_cache(
    folder: Path, old_files: list[Path]
) -> None:
    folder.rmdir()
    _remember(folder, old_files)
    secret = folder / SECRET
    info = secret.lstat()
    assert stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid()
    assert (stat.S_IMODE(info.st_mode), info.st_size) == (0o600, 32)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    other = folder.parent.parent / "other" / "envsnap"
    _remember(other, old_files)
    assert (other / SECRET).read_bytes() != secret.read_bytes()  # one per cache folder


@pytest.mark.parametrize("how", ["readable by others", "another uid's", "a symlink", "short"])
def test_a_secret_that_is_not_private_seals_nothing_and_is_replaced(
    folder: Path, old_files: list[Path], how: str
) -> None:
    _remember(folder, old_files)
    secret = folder / SECRET
    old = secret.read_bytes()
    if how == "readable by others":
        secret.chmod(0o644)
    elif how == "another uid's":
        _give_away(secret)
    elif how == "a symlink":
        elsewhere = folder.parent / "elsewhere-secret"
        secret.rename(elsewhere)
        secret.symlink_to(elsewhere)
    else:
        secret.write_bytes(old[:16])
    assert _recalled(folder, old_files) is None
    _remember(folder, old_files)  # the next write replaces it
    info = secret.lstat()
    assert stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid()
    assert stat.S_IMODE(info.st_mode) == 0o600 and secret.read_bytes() != old
    assert _recalled(folder, old_files) == REPORT


# --- the pre-commit hook: a planted clean verdict never hides a drift -----------------------

PLANT = """
import json, sys, time
from envsnap import stamps, verdict
key, report, paths, start, root, cache_home = json.loads(sys.argv[1])
verdict._key = lambda *args: key  # the key the victim's hook looks up, read off its verdict
stood_on = {path: stamps.stamp(path) for path in paths}  # every stamp as it is now
environ = {"XDG_CACHE_HOME": cache_home, "HOME": cache_home}
verdict.remember_clean(environ, start, root, report, stood_on, time.time_ns())
"""


def read_verdict(file: Path) -> tuple[str, dict[str, str], list[str]]:
    """The key, report and manifest paths of the last verdict kept in *file* (the hook's: lock
    kept one before it, for its own directory)."""
    fields = file.read_bytes().decode().split("\0")
    at = 1
    while True:
        key, texts, count = fields[at], fields[at + 1 : at + 4], int(fields[at + 4])
        paths = fields[at + 5 : at + 5 + 2 * count : 2]
        at += 5 + 2 * count + 1  # the record, then its check
        if at >= len(fields):
            return key, dict(zip(("text", "json", "quiet"), texts, strict=True)), paths


def plant_clean_verdict(victim: Path, module: Path, tmp_path: Path) -> Path:
    """A clean verdict for the hook's next verify, every stamp taken now, written by envsnap's
    own code into a folder of the planter's (then put in place of the victim's folder)."""
    key, report, paths = read_verdict(victim / "verdicts")
    home = tmp_path / "planter"
    args = [key, report, paths, str(module), str(module), str(home)]
    env = {**os.environ, "PYTHONPATH": str(Path(verdict.__file__).parent.parent)}
    subprocess.run([sys.executable, "-c", PLANT, json.dumps(args)], env=env, check=True)
    planted = home / "envsnap"
    assert (planted / "verdicts").is_file()
    shutil.rmtree(victim)
    planted.rename(victim)
    return victim


@pytest.mark.parametrize("place", ["folder of another uid", "0777 folder", "symlinked folder"])
def test_a_planted_clean_verdict_never_lets_a_drifted_commit_through(
    place: str, tmp_path: Path, gui_env: dict[str, str], isolated_home: Path
) -> None:
    repo = init_repo(tmp_path / "repo")
    module = plain_module(repo / "svc")
    assert envsnap("lock", "-C", str(module), env=gui_env).returncode == 0
    commit_all(repo, "lock")
    install(module)
    time.sleep(0.2)  # the lock is then not "racy": a clean verify keeps its verdict
    for _ in range(2):  # the first fills the probe memo, the second keeps the verdict
        assert try_commit(repo, gui_env).returncode == 0
    cache = isolated_home / ".cache" / "envsnap"
    assert (cache / "verdicts").is_file()

    flags = "-O2 -g -DDRIFT"
    go_env_w = subprocess.run(["go", "env", "-w", f"CGO_CFLAGS={flags}"], env=gui_env, check=False)
    assert go_env_w.returncode == 0
    time.sleep(0.2)
    plant_clean_verdict(cache, repo / "svc", tmp_path)
    fooled = try_commit(repo, gui_env)  # this user's own folder: whatever is there, is theirs
    assert fooled.returncode == 0, fooled.stdout + fooled.stderr
    assert "matches envsnap.lock" in fooled.stdout + fooled.stderr

    make_hostile(cache, place)
    planted = sorted(p.name for p in cache.iterdir())
    blocked = try_commit(repo, gui_env)
    assert blocked.returncode != 0
    assert "CGO_CFLAGS (go env): added -DDRIFT" in blocked.stdout + blocked.stderr
    assert sorted(p.name for p in cache.iterdir()) == planted  # nothing written there
