"""`envsnap hook install | uninstall`, proved with real `git commit`s.

Every commit runs with the environment of a GUI git client: the toolchain on PATH, envsnap not,
so the hook must call the envsnap that installed it by its absolute path.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import envsnap, require_tool
from tests.test_git_repo import commit_all, git, git_run, init_repo, plain_module

FOREIGN_HOOK = """#!/bin/sh
# a team's own hook: it logs, and it fails while a file named `block` exists
echo "foreign hook ran" >> {log}
test ! -e block
"""


@pytest.fixture
def gui_env(tmp_path: Path) -> dict[str, str]:
    """PATH with go (linked into a folder of its own), gcc and git, but without envsnap."""
    go, gcc, git_exe = require_tool("go"), require_tool("gcc"), require_tool("git")
    own = tmp_path / "gui-bin"
    own.mkdir()
    (own / "go").symlink_to(go)
    folders = dict.fromkeys([str(own), os.path.dirname(gcc), os.path.dirname(git_exe)])
    path = os.pathsep.join(folders)
    assert shutil.which("envsnap", path=path) is None
    return {**os.environ, "PATH": path}


@pytest.fixture
def repo(tmp_path: Path, gui_env: dict[str, str]) -> Path:
    """A repository whose Go module, in `svc`, is locked and committed."""
    repo = init_repo(tmp_path / "repo")
    module = plain_module(repo / "svc")
    locked = envsnap("lock", "-C", str(module), env=gui_env)
    assert locked.returncode == 0, locked.stderr
    commit_all(repo, "lock")
    return repo


def drifted(env: dict[str, str]) -> dict[str, str]:
    return {**env, "CGO_CFLAGS": "-O2 -g -DDRIFT"}


def try_commit(work_tree: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Stage a change and try to commit it (the pre-commit hook decides)."""
    note = work_tree / "notes.txt"
    note.write_text(note.read_text() + "x\n" if note.exists() else "x\n")
    git(work_tree, "add", "notes.txt")
    return git_run(work_tree, "commit", "-q", "-m", "notes", env=env)


def install(directory: Path) -> str:
    result = envsnap("hook", "install", "-C", str(directory))
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_commit_blocked_on_drift_allowed_when_clean(repo: Path, gui_env: dict[str, str]) -> None:
    install(repo / "svc")
    hook = repo / ".git" / "hooks" / "pre-commit"
    assert hook.stat().st_mode & stat.S_IXUSR
    blocked = try_commit(repo, drifted(gui_env))
    assert blocked.returncode != 0
    assert "CGO_CFLAGS (go env): added -DDRIFT" in blocked.stdout + blocked.stderr
    assert git(repo, "rev-list", "--count", "HEAD").strip() == "1"
    allowed = try_commit(repo, gui_env)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert git(repo, "rev-list", "--count", "HEAD").strip() == "2"


def test_existing_hook_runs_first_and_comes_back_byte_for_byte(
    repo: Path, gui_env: dict[str, str], tmp_path: Path
) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    log = tmp_path / "foreign.log"
    original = FOREIGN_HOOK.format(log=log).encode()
    hook.write_bytes(original)
    hook.chmod(0o750)
    assert "runs first" in install(repo / "svc")

    assert try_commit(repo, gui_env).returncode == 0
    assert log.read_text() == "foreign hook ran\n"
    (repo / "block").touch()
    refused = try_commit(repo, gui_env)
    assert refused.returncode != 0 and log.read_text().count("ran") == 2
    (repo / "block").unlink()
    assert try_commit(repo, drifted(gui_env)).returncode != 0

    result = envsnap("hook", "uninstall", "-C", str(repo / "svc"))
    assert result.returncode == 0, result.stderr
    assert hook.read_bytes() == original
    assert stat.S_IMODE(hook.stat().st_mode) == 0o750
    assert not (hook.parent / "pre-commit.envsnap-chained").exists()
    assert try_commit(repo, drifted(gui_env)).returncode == 0  # envsnap is out of the way


def test_install_twice_changes_nothing_and_uninstall_removes_it(repo: Path) -> None:
    install(repo / "svc")
    hook = repo / ".git" / "hooks" / "pre-commit"
    first = hook.read_bytes()
    assert "already installed" in install(repo / "svc")  # nothing is rewritten
    assert hook.read_bytes() == first
    assert envsnap("hook", "uninstall", "-C", str(repo / "svc")).returncode == 0
    assert not hook.exists()
    again = envsnap("hook", "uninstall", "-C", str(repo / "svc"))
    assert again.returncode == 0 and "nothing to remove" in again.stderr


def test_worktree_and_main_checkout_share_the_hook(repo: Path, gui_env: dict[str, str]) -> None:
    worktree = repo.parent / "wt"
    git(repo, "worktree", "add", "-q", str(worktree), "-b", "side")
    install(worktree / "svc")
    assert (repo / ".git" / "hooks" / "pre-commit").is_file()
    assert try_commit(worktree, drifted(gui_env)).returncode != 0
    assert try_commit(worktree, gui_env).returncode == 0
    assert try_commit(repo, drifted(gui_env)).returncode != 0


def test_core_hooks_path_is_honoured(repo: Path, gui_env: dict[str, str]) -> None:
    git(repo, "config", "core.hooksPath", ".githooks")
    install(repo / "svc")
    assert (repo / ".githooks" / "pre-commit").is_file()
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    assert try_commit(repo, drifted(gui_env)).returncode != 0


def test_refuses_when_the_place_for_the_old_hook_is_taken(repo: Path) -> None:
    hooks = repo / ".git" / "hooks"
    (hooks / "pre-commit").write_text("#!/bin/sh\nexit 0\n")
    (hooks / "pre-commit.envsnap-chained").write_text("#!/bin/sh\nexit 1\n")  # not a copy
    result = envsnap("hook", "install", "-C", str(repo / "svc"))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "remove" in result.stderr
    assert (hooks / "pre-commit").read_text() == "#!/bin/sh\nexit 0\n"
