"""The hooks in .pre-commit-hooks.yaml, run by the real pre-commit framework.

pre-commit installs this repository into a virtualenv of its own (pip, from PyPI: slow, and it
needs the network). The repository it installs is a commit of this checkout's files, so the test
checks what a fresh clone would offer, uncommitted work included.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import LIBM_PACKAGE, REPO, envsnap, require_tool
from tests.test_git_repo import commit_all, git, init_repo, plain_module

pytestmark = pytest.mark.slow

# What the probes look up on PATH; none may come from the hook's own virtualenv.
TOOLCHAIN = ("go", "gcc", "cc", "clang", "ld", "pkg-config", "xcrun", "xcode-select", "brew")


def hook_repository(target: Path) -> str:
    """This checkout's files (tracked and new, not ignored), committed in *target*; the commit."""
    listed = git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if not os.path.lexists(source):  # deleted in the work tree
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name, follow_symlinks=False)
    init_repo(target)
    return commit_all(target, "envsnap as it is in this checkout")


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """(the hook repository, a locked Go project in git, the environment pre-commit runs in)"""
    for tool in ("git", "pre-commit", "go", "gcc"):
        require_tool(tool)
    hooks = tmp_path / "envsnap-src"
    hook_repository(hooks)
    project = init_repo(tmp_path / "project")
    plain_module(project)
    assert envsnap("lock", "-C", str(project)).returncode == 0
    commit_all(project, "lock")
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PIP_CACHE_DIR": str(tmp_path / "pip-cache"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    return hooks, project, env


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
    )


def drifted(env: dict[str, str]) -> dict[str, str]:
    return {**env, "CGO_CFLAGS": "-O2 -g -DDRIFT"}


FINDING = "CGO_CFLAGS (go env): added -DDRIFT"


def test_try_repo_passes_when_clean_and_shows_the_drift(
    setup: tuple[Path, Path, dict[str, str]],
) -> None:
    hooks, project, env = setup
    argv = ["pre-commit", "try-repo", str(hooks), "envsnap-verify"]
    clean = run(argv, project, env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "Passed" in clean.stdout
    drift = run(argv, project, drifted(env))
    assert drift.returncode == 1, drift.stdout + drift.stderr
    assert "Failed" in drift.stdout and FINDING in drift.stdout


CONFIG = """repos:
  - repo: {repo}
    rev: {rev}
    hooks:
      - id: envsnap-verify
      - id: envsnap-lock-check
"""


def commit(project: Path, env: dict[str, str], name: str, text: str) -> tuple[int, str]:
    """Stage *name* and commit; git shows the hooks' output on stderr."""
    (project / name).write_text(text)
    git(project, "add", name)
    done = run(["git", "commit", "-q", "-m", f"change {name}"], project, env)
    return done.returncode, done.stdout + done.stderr


def test_installed_hooks_block_a_commit_on_drift_and_on_a_stale_lock(
    setup: tuple[Path, Path, dict[str, str]],
) -> None:
    hooks, project, env = setup
    rev = git(hooks, "rev-parse", "HEAD").strip()
    (project / ".pre-commit-config.yaml").write_text(CONFIG.format(repo=hooks, rev=rev))
    commit_all(project, "use the hooks")
    installed = run(["pre-commit", "install", "--install-hooks"], project, env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert_no_toolchain_in_hook_venv(Path(env["PRE_COMMIT_HOME"]))

    code, output = commit(project, drifted(env), "notes.txt", "a\n")
    assert code == 1 and FINDING in output
    assert result_of(output, "envsnap verify") == "Failed"
    code, output = commit(project, env, "notes.txt", "a\n")
    assert code == 0, output
    assert result_of(output, "envsnap verify") == "Passed"
    assert result_of(output, "envsnap lock --check") == "Skipped"  # no Go file changed

    code, output = commit(project, env, "mm.go", LIBM_PACKAGE.replace("package mm", "package p"))
    assert code == 1 and "would change" in output
    assert result_of(output, "envsnap lock --check") == "Failed"
    assert envsnap("lock", "-C", str(project)).returncode == 0
    git(project, "add", "envsnap.lock")
    code, output = commit(project, env, "mm.go", LIBM_PACKAGE.replace("package mm", "package p"))
    assert code == 0, output
    assert result_of(output, "envsnap lock --check") == "Passed"


def result_of(output: str, hook_name: str) -> str:
    """pre-commit's verdict on one hook, from its line ``name.....(reason)Passed``."""
    lines = [line for line in output.splitlines() if line.startswith(hook_name)]
    assert len(lines) == 1, output
    return lines[0].rsplit(".", 1)[-1].split(")")[-1]


def assert_no_toolchain_in_hook_venv(home: Path) -> None:
    """pre-commit puts the hook's virtualenv first on PATH: it must not shadow the toolchain."""
    bins = [b for b in home.glob("repo*/py_env-*/bin") if (b / "envsnap").exists()]
    assert len(bins) == 1, list(home.glob("repo*/*"))
    assert sorted(t for t in TOOLCHAIN if (bins[0] / t).exists()) == []
