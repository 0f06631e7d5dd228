"""A flood and a crash seen by ``envsnap record`` replay as the same failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from envsnap.host import (
    VERSION_OUTPUT_LIMIT,
    LocalHost,
    OutputTooLarge,
    RecordingHost,
    ReplayHost,
    ToolCrashed,
)

FLOOD = ["sh", "-c", "head -c 200000 /dev/zero"]
CRASH = ["sh", "-c", "kill -SEGV $$"]


def test_record_and_replay_keep_floods_and_crashes(tmp_path: Path) -> None:
    recording = RecordingHost(LocalHost())
    with pytest.raises(OutputTooLarge, match="printed more than 64 KiB on stdout"):
        recording.run(FLOOD, limit=VERSION_OUTPUT_LIMIT)
    with pytest.raises(ToolCrashed, match=r"killed by signal 11 \(SIGSEGV\)"):
        recording.run(CRASH)
    recording.save(tmp_path / "rec")
    replay = ReplayHost(tmp_path / "rec")
    with pytest.raises(OutputTooLarge, match="recorded"):
        replay.run(FLOOD, limit=VERSION_OUTPUT_LIMIT)
    with pytest.raises(ToolCrashed, match="signal 11"):
        replay.run(CRASH)


def test_a_replayed_answer_over_the_limit_is_refused(tmp_path: Path) -> None:
    recording = RecordingHost(LocalHost())
    assert len(recording.run(FLOOD).stdout) == 200000  # under the default 4 MiB
    recording.save(tmp_path / "rec")
    with pytest.raises(OutputTooLarge, match="64 KiB"):
        ReplayHost(tmp_path / "rec").run(FLOOD, limit=VERSION_OUTPUT_LIMIT)
