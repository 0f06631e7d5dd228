"""Finding the Go module (and so the lock) from the directory envsnap was pointed at."""

from __future__ import annotations

from pathlib import Path

from envsnap.errors import AtWorkspaceRoot, NotInModule
from envsnap.names import LOCK_NAME as LOCK_NAME
from envsnap.workdir import absolute


def find_module_root(start: Path) -> Path:
    """The nearest directory at or above *start* holding a go.mod."""
    start = Path(absolute(str(start)))
    if not start.is_dir():
        raise NotInModule(f"{start} is not a directory", "pass an existing directory with -C")
    for directory in (start, *start.parents):
        if (directory / "go.mod").is_file():
            return directory
        if (directory / "go.work").is_file():
            raise _workspace_root(directory / "go.work")
    raise NotInModule(
        f"no go.mod in {start} or any parent directory",
        "run envsnap in a Go module or pass its directory with -C; `go mod init` creates one",
    )


def workspace_modules(work_file: Path) -> list[Path]:
    """The module directories a go.work uses that hold a go.mod, in its order."""
    from envsnap.gomod import parse

    try:
        text = work_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    found = []
    for use in parse(text).uses:
        directory = (work_file.parent / use).absolute()
        if (directory / "go.mod").is_file() and directory not in found:
            found.append(directory)
    return found


def _workspace_root(work_file: Path) -> AtWorkspaceRoot:
    modules = workspace_modules(work_file)
    names = ", ".join(_shown(m, work_file.parent) for m in modules) or "none"
    return AtWorkspaceRoot(
        f"{work_file.parent} is a Go workspace ({work_file.name}), not a module: envsnap keeps "
        f"one envsnap.lock beside each module's go.mod (modules: {names})",
        "`envsnap lock` and `envsnap verify` here cover every module; for other commands pass "
        "one module with -C",
        [str(m) for m in modules],
    )


def _shown(module: Path, root: Path) -> str:
    try:
        return module.relative_to(root).as_posix() or "."
    except ValueError:
        return str(module)
