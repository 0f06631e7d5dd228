"""envsnap.atomic: a write is durable once atomic_write returns, in the order a crash needs.

The data is fsynced before the rename, and the folder holding the new name after it: without the
second fsync, a power cut can bring back the old name (or none) on ext4, xfs and APFS alike.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from envsnap.atomic import atomic_write


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
