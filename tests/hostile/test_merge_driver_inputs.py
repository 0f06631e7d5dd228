"""git's three versions handed to the merge driver may be anything a path can name: a FIFO,
a directory, /dev/zero, a symlink loop, a huge file. The driver refuses each within seconds, in
bounded memory, with one line (exit 2), and leaves OURS untouched."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from envsnap.lockfile import LOCK_NAME
from tests.hostile.files_common import SPECIAL_KINDS, assert_one_line_refusal, plant, run_child

LOCK = 'schema = 1\nenvsnap_min = "0.1.0"\n'


def sides(tmp_path: Path) -> dict[str, Path]:
    paths = {side: tmp_path / side for side in ("base", "ours", "theirs")}
    for path in paths.values():
        path.write_text(LOCK)
    return paths


@pytest.mark.parametrize("kind", SPECIAL_KINDS)
@pytest.mark.parametrize("side", ["base", "theirs"])
def test_a_special_file_as_a_side_is_refused(tmp_path: Path, side: str, kind: str) -> None:
    paths = sides(tmp_path)
    plant(paths[side], kind)
    started = time.monotonic()
    code, stderr = run_child("merge-driver", *map(str, paths.values()), LOCK_NAME)
    assert time.monotonic() - started < 10
    assert_one_line_refusal(code, stderr, f"cannot merge {LOCK_NAME}", str(paths[side]))
    assert paths["ours"].read_text() == LOCK


def test_a_huge_side_is_refused_without_reading_it(tmp_path: Path) -> None:
    paths = sides(tmp_path)
    with paths["theirs"].open("wb") as theirs:
        theirs.truncate(2 * 1024**3)  # sparse: 2 GiB of NUL bytes, twice the memory cap
    code, stderr = run_child("merge-driver", *map(str, paths.values()), LOCK_NAME)
    assert_one_line_refusal(code, stderr, "larger than 4 MiB")
    assert paths["ours"].read_text() == LOCK
