"""`envsnap log` over a long history: its cost follows the commits that touched the lock."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from tests.conftest import envsnap, require_tool
from tests.hostile.test_git import lock_with

COMMITS = 1001
TOUCHING = {100: ("linux-amd64",), 500: ("darwin-arm64", "linux-amd64"), 900: ("darwin-arm64",)}


def fast_history(repo: Path) -> list[str]:
    """A repository of COMMITS commits built with one `git fast-import`; the lock changes in
    the commits of TOUCHING. Returns every commit id, oldest first."""
    git = require_tool("git")
    subprocess.run([git, "init", "-q", "-b", "main", str(repo)], check=True)
    stream = []

    def data(text: str) -> None:
        raw = text.encode()
        stream.append(b"data %d\n%s\n" % (len(raw), raw))

    for number in range(1, COMMITS + 1):
        stream.append(b"commit refs/heads/main\nmark :%d\n" % number)
        stream.append(b"committer Jane Doe <jane@example.com> %d +0000\n" % (1.7e9 + number))
        data(f"commit {number}")
        if number == 1:
            stream.append(b"M 100644 inline go.mod\n")
            data("module example.com/m\n\ngo 1.21\n")
        if number in TOUCHING:
            stream.append(b"M 100644 inline envsnap.lock\n")
            data(lock_with(*TOUCHING[number]))
        else:
            stream.append(b"M 100644 inline notes.txt\n")
            data(f"{number}\n")
    marks = repo / "marks"
    subprocess.run(
        [git, "-C", str(repo), "fast-import", "--quiet", f"--export-marks={marks}"],
        input=b"".join(stream),
        check=True,
    )
    subprocess.run([git, "-C", str(repo), "reset", "-q", "--hard", "main"], check=True)
    ids = dict(line.split() for line in marks.read_text().splitlines())
    marks.unlink()
    return [ids[f":{n}"] for n in range(1, COMMITS + 1)]


def counting_git(folder: Path, log: Path) -> str:
    """A `git` that notes each run in *log*, then runs the real one; returns a PATH with it."""
    real = require_tool("git")
    folder.mkdir()
    shim = folder / "git"
    shim.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real}" "$@"\n')
    shim.chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


def test_log_reads_only_the_commits_that_touched_the_lock(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    ids = fast_history(repo)
    calls = tmp_path / "git-calls"
    env = {**os.environ, "PATH": counting_git(tmp_path / "shim", calls)}
    started = time.monotonic()
    result = envsnap("log", "-C", str(repo), env=env)
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    shown = [line.split(" in ")[1].split(",")[0] for line in result.stdout.splitlines()]
    assert shown == [ids[n - 1][:7] for n in (900, 500, 100)]
    assert "darwin-arm64: entry added" in result.stdout.splitlines()[1]
    assert took < 3.0, f"envsnap log took {took:.2f}s over {COMMITS} commits"
    runs = calls.read_text().splitlines()
    assert len(runs) <= 6, runs  # one `git log`, git's version checks, one `cat-file` pair
    assert sum(" log " in f" {run} " for run in runs) == 1
