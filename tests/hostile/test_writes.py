"""Every file envsnap writes: concurrent writers, full disks, read-only folders, odd targets."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from envsnap import cli
from envsnap.errors import LockError
from envsnap.lockfile import entry_digest
from envsnap.mutex import remove_stale_temporaries
from tests.conftest import RECORDINGS, envsnap, unavailable, write_module

BASE = RECORDINGS / "macos14-arm64-clt-zlib"
OTHER = RECORDINGS / "macos14-arm64-clt16-zlib"  # the same platform, another compiler
ARCHES = ("arm64", "amd64", "riscv64", "ppc64le", "s390x", "386", "mips64", "loong64")
OTHER_UID = 54321


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Eight recordings of one Mac, each answering as another architecture."""
    root = tmp_path_factory.mktemp("recs")
    made = {}
    for arch in ARCHES:
        rec = root / arch
        shutil.copytree(BASE, rec)
        go_env = rec / "commands" / "go-env.txt"
        text = go_env.read_text()
        text = text.replace("GOARCH='arm64'", f"GOARCH='{arch}'")
        go_env.write_text(text.replace("GOHOSTARCH='arm64'", f"GOHOSTARCH='{arch}'"))
        host = rec / "host.json"
        host.write_text(host.read_text().replace('"machine": "arm64"', f'"machine": "{arch}"'))
        made[arch] = rec
    return made


def tiny(root: Path) -> Path:
    return write_module(root, {"p.go": "package p\n"})


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if "warning: probe incomplete" not in line]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    return lines[0]


def locked(module: Path, rec: Path = BASE) -> bytes:
    result = envsnap("--replay", str(rec), "lock", "-C", str(module))
    assert result.returncode == 0, result.stderr
    return (module / "envsnap.lock").read_bytes()


# --- concurrent writers -------------------------------------------------------------------


def test_eight_writers_with_eight_tmpdirs_all_land(
    tmp_path: Path, recordings: dict[str, Path]
) -> None:
    """An IDE, tmux and a nix-shell each set their own TMPDIR: the writers still exclude each
    other (the mutex is the lock's folder), no entry is lost and no temporary is deleted under a
    live writer (which crashed with FileNotFoundError before)."""
    recs = [str(rec) for rec in recordings.values()]
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from tests.hostile.writes_killer import race\n"
        "rounds = json.loads(sys.argv[1])\n"
        "print(json.dumps([race(Path(m), recs, tmps) for m, recs, tmps in rounds]))\n"
    )
    rounds = []
    for round_ in range(5):
        module = tiny(tmp_path / f"m{round_}")
        tmpdirs = [tmp_path / f"tmp-{round_}-{arch}" for arch in recordings]
        for tmpdir in tmpdirs:
            tmpdir.mkdir()
        rounds.append((str(module), recs, [str(t) for t in tmpdirs]))
    argv = [sys.executable, "-c", code, json.dumps(rounds)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=240, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [[0] * 8] * 5
    for module_dir, _, _ in rounds:
        module = Path(module_dir)
        doc = tomllib.loads((module / "envsnap.lock").read_text())
        assert sorted(doc["platforms"]) == sorted(f"darwin-{arch}" for arch in ARCHES)
        for entry in doc["platforms"].values():
            assert entry["digest"] == entry_digest(entry)
        assert sorted(p.name for p in module.iterdir()) == ["envsnap.lock", "go.mod", "p.go"]


def test_cleanup_removes_only_dead_writers_temporaries(tmp_path: Path) -> None:
    lock = tmp_path / "envsnap.lock"
    lock.write_text("old\n")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        dead = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )
        live = tmp_path / f".envsnap.lock.{sleeper.pid}.0123abcd.tmp"
        gone = tmp_path / f".envsnap.lock.{dead.stdout.strip()}.89abcdef.tmp"
        other = tmp_path / f".go.mod.{dead.stdout.strip()}.89abcdef.tmp"
        for path in (live, gone, other):
            path.write_text("in flight\n")
        remove_stale_temporaries(lock)
        assert live.exists() and other.exists()
        assert not gone.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_filesystem_that_cannot_lock_a_folder_gets_a_mutex_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NFS refuses an exclusive flock on a folder (EBADF): a mutex file beside the lock is used,
    and it still excludes a second writer."""
    import fcntl
    import stat

    from envsnap import mutex

    real_flock = fcntl.flock

    def nfs_like(fd: int, op: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EBADF, "Bad file descriptor")
        real_flock(fd, op)

    monkeypatch.setattr(fcntl, "flock", nfs_like)
    monkeypatch.setattr(mutex, "LOCK_WAIT_SECONDS", 0.2)
    lock = tmp_path / "envsnap.lock"
    with mutex.exclusive(lock):
        assert (tmp_path / ".envsnap.lock.mutex").exists()
        with pytest.raises(LockError, match="another envsnap"), mutex.exclusive(lock):
            pass
    with mutex.exclusive(lock):
        pass


def test_cache_writers_racing_leave_a_valid_cache_or_none(tmp_path: Path) -> None:
    """Six processes hash files and save the shared hash cache, while six others rewrite one
    memo file: afterwards each cache is valid JSON of one writer (or absent), and every digest
    the hash cache then gives is the file's true digest."""
    files = [tmp_path / f"f{i}" for i in range(12)]
    for i, path in enumerate(files):
        path.write_bytes(os.urandom(64) + bytes([i]))
    past = 1_600_000_000
    for path in files:
        os.utime(path, (past, past))  # not racy: the digests may be remembered
    cache = tmp_path / "cache" / "envsnap"
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from envsnap.hashing import HashCache\n"
        "from envsnap.stamps import write_cache_json\n"
        "cache, n, files = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]\n"
        "for round_ in range(15):\n"
        "    hc = HashCache(cache / 'file-hashes.json')\n"
        "    for f in files[n::6]:\n"
        "        hc.digest(f)\n"
        "    hc.save()\n"
        "    entries = {f'k{n}-{i}': 'x' * 2000 for i in range(50)}\n"
        "    write_cache_json(cache / 'probes.json', 1, entries)\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(cache), str(n), *map(str, files)])
        for n in range(6)
    ]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    import hashlib

    from envsnap.hashing import HashCache

    memo = json.loads((cache / "probes.json").read_bytes())
    writers = {key.split("-")[0] for key in memo["entries"]}
    assert len(writers) == 1 and len(memo["entries"]) == 50
    fresh = HashCache(cache / "file-hashes.json")
    for path in files:
        truth = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
        assert fresh.digest(str(path)) == truth
    assert json.loads((cache / "file-hashes.json").read_bytes())["entries"]
    assert temporaries(cache) == []


# --- failures the machine causes: exit 2, one line, the old lock kept ----------------------


def test_disk_full_in_process_keeps_the_old_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    module = tiny(tmp_path / "m")
    old = locked(module)

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    code = cli.main(["--replay", str(OTHER), "lock", "-C", str(module)])
    line = one_line(capsys.readouterr().err)
    assert code == 2
    assert "No space left" in line and "envsnap.lock" in line
    assert (module / "envsnap.lock").read_bytes() == old
    assert temporaries(module) == []


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if os.geteuid() != 0 or mounted.returncode != 0:
        unavailable("mounting a tmpfs needs root")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_disk_full_end_to_end_keeps_the_old_lock(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "full", "64k") as root:
        module = tiny(root)
        old = locked(module)
        filler = root / "filler"
        with contextlib.suppress(OSError), filler.open("wb") as out:
            while True:
                out.write(b"\0" * 4096)
                out.flush()
        result = envsnap("--replay", str(OTHER), "lock", "-C", str(module))
        line = one_line(result.stderr)
        assert result.returncode == 2
        assert "No space left" in line
        assert (module / "envsnap.lock").read_bytes() == old
        assert temporaries(module) == []


def read_only_case(module: Path, old: bytes) -> None:
    result = envsnap("--replay", str(OTHER), "lock", "-C", str(module))
    line = one_line(result.stderr)
    assert result.returncode == 2
    assert "Read-only file system" in line or "Permission denied" in line
    assert (module / "envsnap.lock").read_bytes() == old
    assert temporaries(module) == []


def test_read_only_folder_keeps_the_old_lock(tmp_path: Path) -> None:
    if os.geteuid() == 0:  # root writes through a mode of 0555: make the mount read-only
        with small_tmpfs(tmp_path / "ro", "1m") as root:
            module = tiny(root)
            old = locked(module)
            subprocess.run(["mount", "-o", "remount,ro", str(root)], check=True)
            read_only_case(module, old)
        return
    module = tiny(tmp_path / "m")
    old = locked(module)
    module.chmod(0o555)
    try:
        read_only_case(module, old)
    finally:
        module.chmod(0o755)


def test_a_lock_that_is_a_directory_is_refused_even_with_force(tmp_path: Path) -> None:
    module = tiny(tmp_path / "m")
    (module / "envsnap.lock").mkdir()
    (module / "envsnap.lock" / "keep").write_text("x")
    result = envsnap("--replay", str(BASE), "lock", "--force", "-C", str(module))
    lines = [line for line in result.stderr.splitlines() if "(--force)" not in line]
    assert result.returncode == 2, result.stderr
    assert "is a directory" in one_line("\n".join(lines))
    assert (module / "envsnap.lock" / "keep").read_text() == "x"
    assert temporaries(module) == []


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_a_symlink_loop_at_the_lock_is_refused(tmp_path: Path, force: bool) -> None:
    module = tiny(tmp_path / "m")
    (module / "envsnap.lock").symlink_to("loop.lock")
    (module / "loop.lock").symlink_to("envsnap.lock")
    argv = ["--replay", str(BASE), "lock", *(["--force"] if force else []), "-C", str(module)]
    result = envsnap(*argv)
    lines = [line for line in result.stderr.splitlines() if "(--force)" not in line]
    assert result.returncode == 2, result.stderr
    assert "symlink" in one_line("\n".join(lines)) or "symbolic links" in lines[-1]
    assert os.readlink(module / "envsnap.lock") == "loop.lock"
    assert temporaries(module) == []


def test_a_symlinked_lock_is_written_through_the_link(tmp_path: Path) -> None:
    module = tiny(tmp_path / "m")
    shared = tmp_path / "shared"
    shared.mkdir()
    real = shared / "real.lock"
    (module / "envsnap.lock").symlink_to(real)
    first = locked(module)
    assert (module / "envsnap.lock").is_symlink() and real.read_bytes() == first
    second = locked(module, OTHER)
    assert second != first
    assert os.readlink(module / "envsnap.lock") == str(real)
    assert real.read_bytes() == second
    assert temporaries(module) == [] and temporaries(shared) == []


# --- private folders: the crash log's and the caches' ---------------------------------------


def plant(tmp: Path, how: str, victim: Path) -> Path:
    """``$TMPDIR/envsnap-<uid>`` made by someone else, with crash.log pointing at *victim*."""
    folder = tmp / f"envsnap-{os.geteuid()}"
    if how == "symlink":
        elsewhere = tmp / "elsewhere"
        elsewhere.mkdir(mode=0o700)
        (elsewhere / "crash.log").symlink_to(victim)
        folder.symlink_to(elsewhere)
        return folder
    folder.mkdir(mode=0o700)
    (folder / "crash.log").symlink_to(victim)
    if how == "other-owner":
        if os.geteuid() != 0:
            unavailable("chown to another user needs root")
        os.chown(folder, OTHER_UID, OTHER_UID)
        os.lchown(folder / "crash.log", OTHER_UID, OTHER_UID)
    else:
        folder.chmod(0o777)
    return folder


@pytest.mark.parametrize("how", ["other-owner", "symlink", "world-writable"])
def test_a_crash_log_folder_that_is_not_ours_is_refused(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    how: str,
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    planted = plant(tmp, how, victim)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    assert cli._report_internal_error(RuntimeError("boom")) == 3
    err = capsys.readouterr().err
    assert victim.read_text() == "precious\n"
    assert os.path.islink(planted / "crash.log")
    cache_log = Path(os.environ["XDG_CACHE_HOME"]) / "envsnap" / "crash.log"
    assert f"details in {cache_log}" in err
    assert "boom" in cache_log.read_text()
    assert cache_log.stat().st_mode & 0o777 == 0o600


def test_a_crash_log_folder_is_created_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(os, "umask", lambda mask: 0)  # a careless umask changes nothing
    cli._report_internal_error(RuntimeError("boom"))
    folder = tmp_path / f"envsnap-{os.geteuid()}"
    assert f"details in {folder / 'crash.log'}" in capsys.readouterr().err
    assert folder.stat().st_mode & 0o777 == 0o700
    assert (folder / "crash.log").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("how", ["other-owner", "world-writable", "symlinked-file"])
def test_cache_writes_refuse_a_folder_that_is_not_ours(tmp_path: Path, how: str) -> None:
    from envsnap.stamps import write_cache_bytes

    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    folder = tmp_path / "cache" / "envsnap"
    folder.mkdir(parents=True, mode=0o700)
    target = folder / "probes.json"
    target.symlink_to(victim)
    if how == "other-owner":
        if os.geteuid() != 0:
            unavailable("chown to another user needs root")
        os.chown(folder, OTHER_UID, OTHER_UID)
    elif how == "world-writable":
        folder.chmod(0o777)
    write_cache_bytes(target, b'{"version": 1}')
    assert victim.read_text() == "precious\n"
    if how == "symlinked-file":  # our own folder: the link is replaced by a private file
        assert not target.is_symlink() and target.read_bytes() == b'{"version": 1}'
        assert target.stat().st_mode & 0o777 == 0o600
    else:
        assert target.is_symlink()
    assert temporaries(folder) == []


def test_a_cache_write_removes_a_killed_writers_temporary(tmp_path: Path) -> None:
    from envsnap.stamps import read_cache_json, write_cache_json

    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    leftover = folder / f".probes.json.{dead}.0123abcd.tmp"
    leftover.write_text('{"version": 1, "entr')  # torn: its writer was killed
    write_cache_json(folder / "probes.json", 1, {"k": "v"})
    assert read_cache_json(folder / "probes.json", 1) == {"k": "v"}
    assert temporaries(folder) == []
