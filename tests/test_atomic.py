"""envsnap.atomic: a write is durable once atomic_write returns, in the order a crash needs.

The data is fsynced before the rename, and the folder holding the new name after it: without the
second fsync, a power cut can bring back the old name (or none) on ext4, xfs and APFS alike.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from envsnap.atomic import (
    atomic_write,
    is_alive,
    private_folder,
    remove_dead_temporaries,
    temporary_for,
    write_target,
    writer_pid,
)
from tests.conftest import unavailable


def _record_syncs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, object]]:
    """Each fsync (by the device and inode it reached) and each rename (by its target), in
    order, from now on."""
    events: list[tuple[str, object]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        info = os.fstat(fd)
        events.append(("fsync", (info.st_dev, info.st_ino)))
        real_fsync(fd)

    def replace(source: str | Path, target: str | Path) -> None:
        real_replace(source, target)
        events.append(("replace", os.fspath(target)))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return events


def _identity(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_dev, info.st_ino


@pytest.mark.parametrize("through", ["the file", "a symlink to another folder", "a new file"])
def test_the_data_then_the_folder_reach_the_disk_around_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, through: str
) -> None:
    path = tmp_path / "envsnap.lock"
    real = path
    if through == "a symlink to another folder":
        real = tmp_path / "elsewhere" / "envsnap.lock"
        real.parent.mkdir()
        real.write_bytes(b"old\n")
        path.symlink_to(real)
    elif through == "the file":
        path.write_bytes(b"old\n")
    events = _record_syncs(monkeypatch)
    atomic_write(path, b"new\n")
    assert real.read_bytes() == b"new\n"
    renamed = events.index(("replace", str(real)))
    assert ("fsync", _identity(real)) in events[:renamed]  # the data, under its temporary name
    assert ("fsync", _identity(real.parent)) in events[renamed + 1 :]  # then the new name


def test_a_writer_is_alive_while_its_process_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[int, int]] = []

    def kill(pid: int, signal: int) -> None:
        asked.append((pid, signal))

    monkeypatch.setattr(os, "kill", kill)
    assert is_alive(1) and is_alive(4242)
    assert asked == [(1, 0), (4242, 0)]  # signal 0: the process is asked about, never signalled

    def refuse(pid: int, signal: int) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "kill", refuse)
    assert is_alive(4242)  # another user's process: alive, its temporary is left alone
    monkeypatch.undo()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert is_alive(sleeper.pid)
        with pytest.raises(subprocess.TimeoutExpired):
            sleeper.wait(timeout=0.5)  # and asking left it running
    finally:
        sleeper.kill()
        sleeper.wait()
    # No process: 0 and -1 would ask about a whole process group; a pid past the kernel's range.
    for pid in (sleeper.pid, 0, -1, 9_999_999_999):
        assert not is_alive(pid), pid


def test_a_temporary_names_its_target_and_its_writer(tmp_path: Path) -> None:
    target = tmp_path / "envsnap.lock"
    first, second = temporary_for(target), temporary_for(target)
    assert first.parent == tmp_path and first != second
    assert writer_pid(first.name, "envsnap.lock") == os.getpid()  # so a crash's leftover is found
    assert writer_pid(first.name, "go.mod") is None


def test_the_temporary_is_private_until_it_is_renamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    modes: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        modes.append(os.fstat(fd).st_mode & 0o777)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "umask", lambda mask: 0)  # a careless umask changes nothing
    path = tmp_path / "envsnap.lock"
    atomic_write(path, b"data\n", mode=0o644)
    assert modes[0] == 0o600  # the data reached the disk while no one else could read it
    assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("keep_owner", [True, False])
def test_root_rewriting_a_user_s_file_keeps_its_owner_when_asked(
    tmp_path: Path, keep_owner: bool
) -> None:
    if os.geteuid() != 0:
        unavailable("chown to another user needs root")
    path = tmp_path / "envsnap.lock"
    path.write_bytes(b"old\n")
    os.chown(path, 54321, 54322)
    if keep_owner:
        atomic_write(path, b"new\n")  # the default
    else:
        atomic_write(path, b"new\n", keep_owner=False)
    info = path.stat()
    assert (info.st_uid, info.st_gid) == ((54321, 54322) if keep_owner else (0, 0))
    assert path.read_bytes() == b"new\n"


def test_a_rename_whose_temporary_is_gone_fails_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "envsnap.lock"
    path.write_bytes(b"old\n")
    real_replace = os.replace

    def replace(source: str | Path, target: str | Path) -> None:
        os.unlink(source)  # another process took the temporary for a dead writer's
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    refused = _refusal(lambda: atomic_write(path, b"new\n"))
    assert isinstance(refused, FileNotFoundError)
    assert path.read_bytes() == b"old\n"


def _refusal(call: Callable[[], object]) -> OSError:
    with pytest.raises(OSError) as caught:
        call()
    return caught.value


def test_what_is_no_file_is_refused_by_its_name_and_reason(tmp_path: Path) -> None:
    folder = tmp_path / "envsnap.lock"
    folder.mkdir()
    refused = _refusal(lambda: atomic_write(folder, b"new\n"))
    assert (refused.errno, refused.strerror, refused.filename) == (
        errno.EISDIR,
        "is a directory",
        str(folder),
    )
    fifo = tmp_path / "fifo.lock"
    os.mkfifo(fifo)
    refused = _refusal(lambda: atomic_write(fifo, b"new\n"))
    assert (refused.errno, refused.strerror, refused.filename) == (
        errno.EEXIST,
        "is not a regular file",
        str(fifo),
    )
    loop = tmp_path / "loop.lock"
    loop.symlink_to(loop)
    for call in (lambda: atomic_write(loop, b"new\n"), lambda: write_target(loop)):
        refused = _refusal(call)  # write_target is also what the lock's mutex follows
        assert (refused.errno, refused.strerror, refused.filename) == (
            errno.ELOOP,
            "is a symlink loop",
            str(loop),
        )


def test_a_private_folder_is_made_0700_with_its_parents_only_when_asked(tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b" / "envsnap"
    with pytest.raises(FileNotFoundError):
        private_folder(nested)
    assert not (tmp_path / "a").exists()
    assert private_folder(nested, parents=True) == nested
    assert nested.stat().st_mode & 0o777 == 0o700
    assert private_folder(nested) == nested  # there already: kept


@pytest.mark.parametrize("mode", [0o700, 0o711, 0o755, 0o750, 0o705])
def test_a_private_folder_others_may_enter_but_not_write_is_kept(tmp_path: Path, mode: int) -> None:
    folder = tmp_path / "envsnap"
    folder.mkdir()
    folder.chmod(mode)
    assert private_folder(folder) == folder


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("symlink", "is not a real directory (a symlink?)"),
        ("file", "is not a real directory (a symlink?)"),
        ("group-writable", "is writable by others (mode 770)"),
        ("world-writable", "is writable by others (mode 757)"),
        ("other-owner", "is owned by uid 54321"),
    ],
)
def test_a_folder_that_is_not_private_is_refused_by_its_name_and_reason(
    tmp_path: Path, how: str, reason: str
) -> None:
    folder = tmp_path / "envsnap"
    if how == "symlink":
        real = tmp_path / "real"
        real.mkdir(mode=0o700)
        folder.symlink_to(real)
    elif how == "file":
        folder.write_text("not a folder\n")
        folder.chmod(0o600)
    else:
        folder.mkdir(mode=0o700)
        folder.chmod({"group-writable": 0o770, "world-writable": 0o757}.get(how, 0o700))
    if how == "other-owner":
        if os.geteuid() != 0:
            unavailable("chown to another user needs root")
        os.chown(folder, 54321, 54321)
    with pytest.raises(PermissionError) as caught:
        private_folder(folder)
    refused = caught.value
    assert (refused.errno, refused.strerror, refused.filename) == (errno.EPERM, reason, str(folder))


def test_without_following_a_symlink_the_link_itself_is_replaced(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious\n")
    victim.chmod(0o640)
    folder = tmp_path / "folder"
    folder.mkdir()
    for name, points_at in (("file-link", victim), ("folder-link", folder)):
        link = tmp_path / name
        link.symlink_to(points_at)
        atomic_write(link, b"cache\n", follow_symlinks=False)
        assert not link.is_symlink() and link.read_bytes() == b"cache\n"
        # a new file: the umask decides its mode, never the file the link named
        assert link.stat().st_mode & 0o777 == 0o666 & ~_umask()
    assert victim.read_bytes() == b"precious\n" and victim.stat().st_mode & 0o777 == 0o640


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_write_the_kernel_takes_in_pieces_lands_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, bytes(data[:3])))
    path = tmp_path / "envsnap.lock"
    atomic_write(path, b"0123456789\n")
    assert path.read_bytes() == b"0123456789\n"


def test_an_owner_that_cannot_be_kept_or_a_folder_that_cannot_be_synced_fails_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user may not give a file away (only root may), and some filesystems refuse to fsync a
    folder: the write lands all the same."""
    path = tmp_path / "envsnap.lock"
    path.write_bytes(b"old\n")
    info = path.stat()

    def fchown(fd: int, uid: int, gid: int) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "Invalid argument")
        real_fsync(fd)

    monkeypatch.setattr(os, "fchown", fchown)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "geteuid", lambda: info.st_uid + 1)  # as another user would
    atomic_write(path, b"new\n")
    assert path.read_bytes() == b"new\n"


@pytest.mark.parametrize("mode", [0o640, 0o600, 0o755, 0o4750])
def test_a_rewritten_file_keeps_its_mode_and_a_new_one_gets_the_umask_s(
    tmp_path: Path, mode: int
) -> None:
    path = tmp_path / "envsnap.lock"
    path.write_bytes(b"old\n")
    path.chmod(mode)
    atomic_write(path, b"new\n")
    assert path.stat().st_mode & 0o7777 == mode
    mask = os.umask(0o022)
    try:
        atomic_write(tmp_path / "new.lock", b"new\n")
    finally:
        os.umask(mask)
    assert (tmp_path / "new.lock").stat().st_mode & 0o7777 == 0o644


def test_a_dead_writer_s_temporary_another_cleaner_took_first_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = tmp_path / "envsnap.lock"
    dead = (9_999_999_998, 9_999_999_999)  # pids no process can have
    gone, taken = (tmp_path / f".envsnap.lock.{pid}.0123abcd.tmp" for pid in dead)
    for path in (gone, taken):
        path.write_text("torn\n")
    real_unlink = os.unlink

    def unlink(path: str | Path) -> None:
        if os.fspath(path) == str(taken):
            real_unlink(path)  # another cleaner's
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", os.fspath(path))
        real_unlink(path)

    monkeypatch.setattr(os, "unlink", unlink)
    assert remove_dead_temporaries(lock) == [gone.name]
    assert sorted(tmp_path.iterdir()) == []


def test_a_failed_write_names_the_file_and_keeps_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "envsnap.lock"
    path.write_bytes(b"old\n")

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    refused = _refusal(lambda: atomic_write(path, b"new\n"))
    assert (refused.errno, refused.strerror, refused.filename) == (
        errno.ENOSPC,
        "No space left on device",
        str(path),
    )
    assert sorted(tmp_path.iterdir()) == [path] and path.read_bytes() == b"old\n"
