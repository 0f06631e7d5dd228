"""Every git operation envsnap performs, through gitpython (imported only when needed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from envsnap.errors import EnvsnapError, LockError

if TYPE_CHECKING:
    import git


def open_repo(path: Path) -> git.Repo:
    import git

    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise EnvsnapError(
            f"{path} is not inside a git repository", "a git revision needs a git repository"
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
