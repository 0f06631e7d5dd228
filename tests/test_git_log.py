"""`envsnap log`: the commits that changed the lock, each explained with verify's rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import envsnap
from tests.test_git_repo import (
    MAC,
    MAC_15,
    MAC_OPENSSL_340,
    MAC_X86,
    commit_all,
    git,
    init_repo,
    plain_module,
    replay_lock,
)

# (author, date, the recording locked in that commit); the third commit only touches a README
HISTORY = (
    ("Ann", "2026-01-10", MAC),
    ("Bob", "2026-02-01", MAC_X86),
    ("Bob", "2026-02-15", None),
    ("Jane", "2026-03-02", MAC_15),
    ("Ann", "2026-03-05", MAC_OPENSSL_340),
)


def commit_as(repo: Path, author: str, date: str) -> str:
    who, when = f"--author={author} <{author}@example.com>", f"--date={date}T12:00:00+00:00"
    return commit_all(repo, f"{author} on {date}", who, when)


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, list[str]]:
    """A repository with the lock of `svc` committed four times; the commits, oldest first."""
    repo = init_repo(tmp_path / "repo")
    module = plain_module(repo / "svc")
    shas = []
    for author, date, recording in HISTORY:
        if recording is None:
            (repo / "README").write_text("not the lock\n")
        else:
            replay_lock(module, recording)
        shas.append(commit_as(repo, author, date))
    return repo, shas


def log(module: Path, *extra: str) -> list[str]:
    result = envsnap("log", "-C", str(module), *extra)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def verify_rules(module: Path, older: str, newer: str) -> set[tuple[str, str]]:
    """(subject, severity) of every finding `envsnap diff` reports between two commits."""
    result = envsnap(
        "diff", older, newer, "--platform", "darwin-arm64", "--json", "-C", str(module)
    )
    assert result.returncode == 1, result.stderr
    return {(f["subject"], f["severity"]) for f in json.loads(result.stdout)["findings"]}


CLT_UPDATE = "Command Line Tools 15.3.0.0.1.1708646388 → 16.2.0.0.1.1733547573 (error)"


def test_log_lists_each_change_with_its_drift(history: tuple[Path, list[str]]) -> None:
    repo, shas = history
    lines = log(repo / "svc")
    short = [sha[:7] for sha in shas]
    assert lines[-2:] == [
        f"darwin-amd64: entry added in {short[1]}, 2026-02-01, by Bob",
        f"darwin-arm64: entry added in {short[0]}, 2026-01-10, by Ann",
    ]
    # the SDK 14.0 → 15.0 came with a Command Line Tools update: that cause heads the line
    assert f"darwin-arm64: {CLT_UPDATE} in {short[3]}, 2026-03-02, by Jane" in lines
    assert not any(short[2] in line for line in lines)  # the README commit
    for older, newer in ((shas[1], shas[3]), (shas[3], shas[4])):
        mine = [line for line in lines if f" in {newer[:7]}, " in line]
        assert all(line.startswith("darwin-arm64: ") for line in mine)
        expected = verify_rules(repo / "svc", older, newer)
        assert len(mine) == len(expected)
        for subject, severity in expected:
            assert any(f": {subject} " in line and f"({severity}) in" in line for line in mine)
    assert lines.index(next(line for line in lines if short[4] in line)) == 0  # newest first
    assert git(repo, "status", "--porcelain") == ""


def test_log_for_one_platform(history: tuple[Path, list[str]]) -> None:
    repo, shas = history
    assert log(repo / "svc", "--platform", "darwin-amd64") == [
        f"darwin-amd64: entry added in {shas[1][:7]}, 2026-02-01, by Bob"
    ]


def test_log_follows_the_module_when_it_moves(history: tuple[Path, list[str]]) -> None:
    repo, shas = history
    before = log(repo / "svc")
    git(repo, "mv", "svc", "app")
    commit_as(repo, "Cy", "2026-04-01")
    assert log(repo / "app") == before  # the move changes no entry: no line for it
    assert before[-1] == f"darwin-arm64: entry added in {shas[0][:7]}, 2026-01-10, by Ann"


def test_a_broken_lock_in_history_is_one_line(history: tuple[Path, list[str]]) -> None:
    repo, _ = history
    (repo / "svc" / "envsnap.lock").write_text("schema = 1\n[platforms.x\n")
    broken = commit_as(repo, "Dee", "2026-04-02")
    lines = log(repo / "svc")
    assert lines[0].startswith(f"envsnap.lock at {broken[:7]} is not valid TOML")
    assert lines[0].endswith(f"; skipped in {broken[:7]}, 2026-04-02, by Dee")


def test_log_without_history(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    replay_lock(plain_module(repo), MAC)
    for step in ("no commit yet", "a commit without the lock"):
        result = envsnap("log", "-C", str(repo))
        assert (result.returncode, result.stdout) == (0, ""), step
        assert "never been committed" in result.stderr
        git(repo, "add", "go.mod", "p.go")
        git(repo, "commit", "-q", "--allow-empty", "-m", "module")
