"""Real temporary git repositories: the helpers the git tests share, `envsnap git setup`, and
verify's warning about a lock that is not committed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import (
    RECORDINGS,
    Result,
    envsnap,
    heavy_imports_of,
    require_tool,
    write_module,
)

MAC = RECORDINGS / "macos14-arm64-clt-brew-openssl"
MAC_OPENSSL_340 = RECORDINGS / "macos14-arm64-clt-brew-openssl-3.4.0"
MAC_15 = RECORDINGS / "macos15-arm64-clt-brew-openssl"
MAC_X86 = RECORDINGS / "macos12-x86_64-clt"


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git in *repo*; a failure fails the test with git's own words."""
    proc = git_run(repo, *args, env=env)
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stdout}{proc.stderr}"
    return proc.stdout


def git_run(
    repo: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def init_repo(path: Path) -> Path:
    """``git init`` with a local identity (HOME and the global config are the test's own)."""
    require_tool("git")
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Jane Doe")
    git(path, "config", "user.email", "jane@example.com")
    git(path, "config", "commit.gpgsign", "false")
    return path


def commit_all(repo: Path, message: str, *extra: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, *extra)
    return git(repo, "rev-parse", "HEAD").strip()


def plain_module(root: Path) -> Path:
    return write_module(root, {"p.go": "package p\n"})


def replay_lock(module: Path, recording: Path) -> Result:
    result = envsnap("--replay", str(recording), "lock", "-C", str(module))
    assert result.returncode == 0, result.stderr
    return result


# ---------------------------------------------------------------------------------------------
# envsnap git setup


def test_git_setup_writes_the_attribute_and_driver_once(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    module = plain_module(repo / "svc")
    (repo / ".gitattributes").write_bytes(b"*.png binary")  # no final newline
    first = envsnap("git", "setup", "-C", str(module))
    assert first.returncode == 0, first.stderr
    lines = (repo / ".gitattributes").read_text().splitlines()
    assert lines[0] == "*.png binary" and lines[-1] == "envsnap.lock merge=envsnap"
    assert all(line.startswith("#") for line in lines[1:-1])
    attr = git(repo, "check-attr", "merge", "--", "svc/envsnap.lock")
    assert attr.strip() == "svc/envsnap.lock: merge: envsnap"
    driver = git(repo, "config", "--local", "merge.envsnap.driver").strip()
    assert driver.endswith(" -m envsnap merge-driver -- %O %A %B %P")
    assert driver.split()[1] in ("-I", "-P")  # never the work tree's own `envsnap`
    assert git(repo, "config", "--local", "merge.envsnap.name").strip()

    files = (repo / ".gitattributes", repo / ".git" / "config")
    before = [(f.read_bytes(), f.stat().st_mtime_ns) for f in files]
    second = envsnap("git", "setup", "-C", str(module))
    assert second.returncode == 0 and "already set up" in second.stderr
    assert [(f.read_bytes(), f.stat().st_mtime_ns) for f in files] == before


def test_git_setup_outside_a_repository_is_one_line(tmp_path: Path) -> None:
    require_tool("git")
    module = plain_module(tmp_path / "m")
    result = envsnap("git", "setup", "-C", str(module))
    assert result.returncode == 2
    assert "not inside a git repository" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------------------------------------
# verify: a warning (stderr only, exit code unchanged) when the lock is not committed


def _verify(module: Path) -> Result:
    return envsnap("--replay", str(MAC), "verify", "-C", str(module))


@pytest.fixture
def locked_repo(tmp_path: Path) -> Path:
    """A repository whose Go module (and lock) is in the folder ``svc``."""
    repo = init_repo(tmp_path / "repo")
    replay_lock(plain_module(repo / "svc"), MAC)
    return repo


def test_verify_warns_about_an_untracked_then_a_modified_lock(locked_repo: Path) -> None:
    module = locked_repo / "svc"
    untracked = _verify(module)
    assert untracked.returncode == 0
    assert "envsnap.lock is not tracked by git" in untracked.stderr
    assert "matches envsnap.lock" in untracked.stdout

    commit_all(locked_repo, "lock")
    committed = _verify(module)
    assert (committed.returncode, committed.stderr) == (0, "")

    replay_lock(module, MAC_X86)
    modified = _verify(module)
    assert modified.returncode == 0
    assert "envsnap.lock has uncommitted changes" in modified.stderr
    quiet = envsnap("--replay", str(MAC), "verify", "--quiet", "-C", str(module))
    assert (quiet.returncode, quiet.stderr) == (0, "")


def test_verify_warning_keeps_the_drift_exit_code(locked_repo: Path) -> None:
    drifted = envsnap("--replay", str(MAC_15), "verify", "-C", str(locked_repo / "svc"))
    assert drifted.returncode == 1
    assert "not tracked by git" in drifted.stderr and "SDK 14.0 → 15.0" in drifted.stdout


def test_verify_warns_about_an_ignored_lock(locked_repo: Path) -> None:
    (locked_repo / ".gitignore").write_text("envsnap.lock\n")
    result = _verify(locked_repo / "svc")
    assert result.returncode == 0 and "is ignored by git" in result.stderr


def test_verify_in_a_commit_hook_ignores_staged_changes(locked_repo: Path) -> None:
    """git runs hooks at the top of the work tree with GIT_INDEX_FILE set; what is staged is
    what the commit records, so only unstaged changes to the lock are worth a warning."""
    commit_all(locked_repo, "lock")
    replay_lock(locked_repo / "svc", MAC_X86)
    git(locked_repo, "add", "svc/envsnap.lock")
    hook = {**os.environ, "GIT_INDEX_FILE": ".git/index"}
    staged = envsnap("--replay", str(MAC), "verify", "-C", "svc", env=hook, cwd=locked_repo)
    assert (staged.returncode, staged.stderr) == (0, "")
    outside = envsnap("--replay", str(MAC), "verify", "-C", "svc", cwd=locked_repo)
    assert "uncommitted changes" in outside.stderr
    replay_lock(locked_repo / "svc", MAC_15)
    unstaged = envsnap("--replay", str(MAC_15), "verify", "-C", "svc", env=hook, cwd=locked_repo)
    assert unstaged.returncode == 0
    assert "changes not staged for this commit" in unstaged.stderr


def test_clean_verify_in_a_repository_stays_light(locked_repo: Path) -> None:
    """The git-status check runs (there is a .git) without gitpython, deepdiff or pydantic."""
    commit_all(locked_repo, "lock")
    rc, heavy, own = heavy_imports_of(
        ["--replay", str(MAC), "verify", "-C", str(locked_repo / "svc")]
    )
    assert (rc, heavy) == (0, [])
    assert "envsnap.git" in own  # the git-status check did run
