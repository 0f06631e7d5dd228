"""``lock`` leaves ``verify`` warm: the verify right after it runs no tool (ENVSNAP_TRACE counts),
on a copy of examples/zlib with the real go, gcc and pkg-config; and whatever changes after the
lock (a source file, the lock itself, a variable go reads) is still re-checked and reported,
exactly as an uncached verify reports it."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import envsnap, require_tool

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "zlib"


@pytest.fixture
def module(tmp_path: Path) -> Path:
    for tool in ("go", "gcc", "pkg-config"):
        require_tool(tool)
    copy = tmp_path / "zlib"
    shutil.copytree(EXAMPLE, copy)
    (copy / "envsnap.lock").unlink()
    time.sleep(0.1)  # out of the racy window: lock's go list starts at once
    return copy


def traced(
    module: Path, tmp_path: Path, *args: str, env: Mapping[str, str] | None = None
) -> tuple[int, str, list[dict[str, Any]]]:
    """Exit code, standard output and trace lines of one envsnap command on *module*."""
    trace = tmp_path / f"trace-{time.monotonic_ns()}.jsonl"
    result = envsnap(
        *args, "-C", str(module), env={**(env or _environ()), "ENVSNAP_TRACE": str(trace)}
    )
    lines = trace.read_text().splitlines() if trace.exists() else []
    return result.returncode, result.stdout, [json.loads(line) for line in lines]


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


def runs(trace: list[dict[str, Any]]) -> list[list[str]]:
    return [line["argv"] for line in trace if line["call"] == "run"]


def test_the_verify_right_after_lock_runs_no_tool(module: Path, tmp_path: Path) -> None:
    code, _, trace = traced(module, tmp_path, "lock")
    assert code == 0 and runs(trace), "lock runs the probes"
    code, out, trace = traced(module, tmp_path, "verify")
    assert (code, runs(trace)) == (0, [])
    assert "matches envsnap.lock" in out


def test_without_the_verdict_the_memo_answers(module: Path, tmp_path: Path) -> None:
    assert traced(module, tmp_path, "lock")[0] == 0
    Path(_environ()["XDG_CACHE_HOME"], "envsnap", "verdicts").unlink()
    code, out, trace = traced(module, tmp_path, "verify")
    assert (code, runs(trace)) == (0, []), "every probe's answer is in the memo lock left"
    assert any(line["call"] == "stamp" for line in trace)
    assert "matches envsnap.lock" in out


def _edit_source(module: Path) -> None:
    path = module / "mathx" / "mathx.go"
    path.write_text(path.read_text().replace("-lm", "-lm -lz"))


def _other_lock(module: Path) -> None:
    """The lock as it would be with another CGO_CFLAGS (a checkout of another commit's)."""
    other = module.parent / "other"
    shutil.copytree(module, other)
    env = {**_environ(), "CGO_CFLAGS": "-O1 -g", "ENVSNAP_NO_CACHE": "1"}
    assert envsnap("lock", "-C", str(other), env=env).returncode == 0
    shutil.copyfile(other / "envsnap.lock", module / "envsnap.lock")


CHANGES: dict[str, tuple[Callable[[Path], object], dict[str, str], str]] = {
    "a source file": (_edit_source, {}, "libraries"),
    "the lock": (_other_lock, {}, "CGO_CFLAGS"),
    "a variable go reads": (lambda _: None, {"CGO_CFLAGS": "-O3"}, "CGO_CFLAGS"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_after_lock_is_reported(module: Path, tmp_path: Path, change: str) -> None:
    edit, variables, named = CHANGES[change]
    assert envsnap("lock", "-C", str(module)).returncode == 0
    edit(module)
    env = {**_environ(), **variables}
    cached = envsnap("verify", "--json", "-C", str(module), env=env)
    fresh = envsnap("verify", "--json", "-C", str(module), env={**env, "ENVSNAP_NO_CACHE": "1"})
    assert cached.returncode == fresh.returncode == 1, cached.stdout + cached.stderr
    assert json.loads(cached.stdout) == json.loads(fresh.stdout)
    assert named in cached.stdout


@pytest.mark.parametrize("other", [None, "new.go", "go.mod"])
def test_the_folder_keeps_its_new_stamp_only_when_the_lock_alone_changed(
    tmp_path: Path, other: str | None
) -> None:
    """The memos lock leaves stood on the module's folder before the lock was written into it:
    they hold the folder's new stamp only when nothing but the lock changed there meanwhile
    (another entry added, or one replaced by a rename, keeps the old stamp, which no longer
    holds)."""
    from envsnap.atomic import atomic_write
    from envsnap.commands.lock import restamp_folder
    from envsnap.host import LocalHost
    from envsnap.probecache import ProbeCache
    from envsnap.stamps import folder_state, holds

    folder = tmp_path / "mod"
    folder.mkdir()
    (folder / "go.mod").write_text("module m\n")
    time.sleep(0.2)  # out of the racy window: the memo keeps its answer
    cache = ProbeCache(LocalHost(), None)
    cache.memo("os", "key", lambda host: {"listed": host.stat(str(folder)) is not None})

    def standing() -> bool:  # the stamps as a verdict stores them
        assert cache.used
        return holds({path: list(found) if found else None for path, found in cache.used.items()})

    assert standing()
    before = folder_state(str(folder))
    if other is not None:
        atomic_write(folder / other, b"package m\n")  # a new file, or go.mod replaced
    atomic_write(folder / "envsnap.lock", b"{}\n")
    time.sleep(0.1)
    restamp_folder(cache, folder / "envsnap.lock", before)
    assert standing() == (other is None)
