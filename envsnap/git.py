"""Every git operation envsnap performs, through gitpython (imported only when needed)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from envsnap.errors import EnvsnapError, LockError

if TYPE_CHECKING:
    import git

GIT_TIMEOUT = 30.0  # seconds for a git command envsnap runs (log, hook install, setup)
STATUS_TIMEOUT = 5.0  # verify's `git status`: a commit hook never hangs on it


def open_repo(path: Path) -> git.Repo:
    import git

    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise EnvsnapError(
            f"{path} is not inside a git repository",
            "run `git init` there first (git revisions, hooks and the merge driver need one)",
        ) from None


def file_at_rev(path: Path, rev: str) -> bytes:
    """The bytes of *path* as committed at *rev*, read without touching the work tree."""
    import git

    repo = open_repo(path.parent)
    top = Path(str(repo.working_tree_dir)).resolve()
    relative = path.resolve().relative_to(top).as_posix()
    try:
        commit = repo.commit(rev)
    except (git.BadName, ValueError):
        raise EnvsnapError(f"unknown git revision {rev!r}", "check it with `git log`") from None
    try:
        blob = commit.tree / relative
    except KeyError:
        raise LockError(
            f"there is no {relative} at {rev}", "pick a revision where the lock was committed"
        ) from None
    data: bytes = blob.data_stream.read()
    return data


# ---------------------------------------------------------------------------------------------
# Work tree, hooks and config (issue 5): git itself answers, through gitpython's command runner.


def run_git(path: Path, *args: str) -> str:
    """``git <args>`` in the work tree holding *path*; a failure becomes a one-line EnvsnapError."""
    import git

    repo = open_repo(path)
    try:
        out: str = repo.git.execute(["git", *args], kill_after_timeout=GIT_TIMEOUT)
    except git.GitCommandNotFound:
        raise EnvsnapError("cannot run `git`", "install git and put it on PATH") from None
    except git.GitCommandError as exc:
        raise EnvsnapError(
            f"`git {' '.join(args)}` exited {exc.status}: {_last_line(exc.stderr)}",
            "check the repository with `git status`",
        ) from None
    return out


def _last_line(stderr: object) -> str:
    """git's last words, without the ``stderr: '…'`` wrapping gitpython adds."""
    lines = str(stderr).strip().removeprefix("stderr: ").strip("'").strip().splitlines()
    return lines[-1].strip()[:200] if lines else ""


def work_tree_top(path: Path) -> Path:
    """The top of the work tree (of the linked worktree, when *path* is in one) holding *path*."""
    repo = open_repo(path)
    if repo.working_tree_dir is None:
        raise EnvsnapError(f"{path} is in a bare repository", "run envsnap in a work tree")
    return Path(repo.working_tree_dir).resolve()


def hooks_dir(path: Path) -> Path:
    """Where git looks for hooks: ``git rev-parse --git-path hooks`` (honours core.hooksPath and
    worktrees; a relative answer is relative to the top of the work tree, where gitpython runs)."""
    return work_tree_top(path) / run_git(path, "rev-parse", "--git-path", "hooks")


def tracked_under(path: Path, folder: Path) -> bool:
    """Whether git tracks *folder*, or any file in it, in the work tree holding *path*."""
    try:
        relative = folder.resolve().relative_to(work_tree_top(path)).as_posix()
    except ValueError:  # outside the work tree (the usual .git/hooks is not tracked either)
        return False
    return bool(run_git(path, "ls-files", "--full-name", "--", f":(literal){relative}").strip())


def config_value(path: Path, key: str) -> str | None:
    """The repository-local value of *key*, or None when it is not set (git exits 1)."""
    try:
        return run_git(path, "config", "--local", "--get", key)
    except EnvsnapError:
        return None


def set_config(path: Path, key: str, value: str) -> None:
    run_git(path, "config", "--local", key, value)


def merge_attribute(path: Path, file: Path) -> str:
    """The ``merge`` attribute git gives *file* (``unspecified`` when none applies)."""
    relative = file.resolve().relative_to(work_tree_top(path)).as_posix()
    out = run_git(path, "check-attr", "merge", "--", relative)
    return out.rsplit(": ", 1)[-1].strip()


# ---------------------------------------------------------------------------------------------
# The lock's history (``envsnap log``).


@dataclass(frozen=True)
class LockRevision:
    """One commit that changed the lock: who, when, and the lock before and after it."""

    sha: str
    date: str  # author date, YYYY-MM-DD
    author: str
    before: bytes | None  # the lock at the first parent (None: absent there, or a root commit)
    after: bytes | None  # the lock at this commit (None: deleted)

    @property
    def short(self) -> str:
        return self.sha[:7]


_FIELD, _RECORD = "\x1f", "\x00"  # as git prints them for %x1f and %x00 (argv cannot hold NUL)
_LOG_FORMAT = "--format=%x00%H%x1f%as%x1f%an"
_NO_BLOB = "0" * 40


def lock_revisions(lock_path: Path) -> list[LockRevision]:
    """Every commit that changed *lock_path*, newest first, following renames (``--follow``).

    One ``git log`` names the commits and, in its ``--raw`` lines, the lock's blob before and
    after each (a merge against its first parent); only those blobs are then read, each once,
    through gitpython's one ``git cat-file`` process: the cost grows with the commits that
    touched the lock, not with the length of the history."""
    repo = open_repo(lock_path.parent)
    if not repo.head.is_valid():  # no commit yet
        return []
    relative = lock_path.resolve().relative_to(work_tree_top(lock_path.parent)).as_posix()
    out = run_git(
        lock_path.parent,
        *("log", "--follow", "--raw", "--no-abbrev", "--diff-merges=first-parent", _LOG_FORMAT),
        *("--", relative),
    )
    blobs: dict[str, bytes | None] = {_NO_BLOB: None}

    def blob(sha: str) -> bytes | None:
        if sha not in blobs:
            blobs[sha] = _read_blob(repo, sha)
        return blobs[sha]

    revisions = []
    for record in out.split(_RECORD)[1:]:
        header, _, changes = record.partition("\n")
        shas = _blob_pair(changes)
        if shas is not None:
            sha, date, author = header.split(_FIELD)
            revisions.append(LockRevision(sha, date, author, blob(shas[0]), blob(shas[1])))
    return revisions


def _blob_pair(changes: str) -> tuple[str, str] | None:
    """(blob before, blob after) from a ``--raw`` line ``:100644 100644 OLD NEW M\tpath``."""
    for line in changes.splitlines():
        fields = line.partition("\t")[0].split()
        if line.startswith(":") and len(fields) >= 5:
            return fields[2], fields[3]
    return None


def _read_blob(repo: git.Repo, sha: str) -> bytes | None:
    try:
        data: bytes = repo.odb.stream(bytes.fromhex(sha)).read()
    except (ValueError, OSError):
        return None
    return data


# ---------------------------------------------------------------------------------------------
# verify's warning: is the lock committed? A plain git process, no gitpython (the fast path).


def in_git_work_tree(path: Path) -> bool:
    """A cheap guess (one stat per parent folder): is there a ``.git`` at or above *path*?"""
    return "GIT_DIR" in os.environ or any(
        (folder / ".git").exists() for folder in (path, *path.parents)
    )


def lock_status(lock_path: Path) -> str | None:
    """git's two-letter status of the lock (``??``, ``!!``, `` M``, ``A `` …; ``""`` when it is
    committed and unchanged), or None when there is no git or no repository to ask."""
    from envsnap.errors import HostError
    from envsnap.host import LocalHost

    folder = lock_path.parent.absolute()
    if not in_git_work_tree(folder):
        return None
    argv = ["git", "status", "--porcelain", "--ignored=matching", "--", lock_path.name]
    # GIT_OPTIONAL_LOCKS=0: `git status` must not refresh the index, verify is read-only. In a
    # hook, git's GIT_INDEX_FILE (relative to the top of the work tree) is used as it is.
    environ = dict(os.environ, GIT_OPTIONAL_LOCKS="0")
    try:
        result = LocalHost(environ).run(argv, cwd=str(folder), timeout=STATUS_TIMEOUT)
    except HostError:
        return None
    return result.out[:2] if result.ok else None
