"""A committed lock whose flag variable is one huge word: verify explains the drift in seconds
(the words are split by Go's rules in linear time; shlex.split took a minute for 2 MB)."""

from __future__ import annotations

import time
from pathlib import Path

from envsnap.lockfile import LOCK_NAME, LockFile, content_of, parse_lock, render, with_entry
from tests.hostile.files_common import MAC, errors_of, replay_module, run_child

PLATFORM = "darwin-arm64"
WORD = "-I" + "x" * 3_900_000  # the largest that fits in a lock envsnap reads (4 MiB)


def test_a_huge_cflags_word_is_explained_in_seconds(tmp_path: Path) -> None:
    module = replay_module(tmp_path / "m")
    lock_path = module / LOCK_NAME
    content = content_of(parse_lock(lock_path, lock_path.read_bytes()).platforms[PLATFORM])
    content["go"]["env"]["CGO_CFLAGS"] = WORD
    lock_path.write_bytes(render(with_entry(LockFile(lock_path), PLATFORM, content)))
    started = time.monotonic()
    code, stderr = run_child("--replay", str(MAC), "verify", "-C", str(module), timeout=60)
    assert time.monotonic() - started < 10
    assert code == 1, stderr
    assert "Traceback" not in stderr and not errors_of(stderr), stderr
