"""Finding the Go module (and so the lock) from the directory envsnap was pointed at."""

from __future__ import annotations

from pathlib import Path

from envsnap.errors import NotInModule

LOCK_NAME = "envsnap.lock"  # beside go.mod


def find_module_root(start: Path) -> Path:
    """The nearest directory at or above *start* holding a go.mod."""
    start = start.absolute()
    if not start.is_dir():
        raise NotInModule(f"{start} is not a directory", "pass an existing directory with -C")
    for directory in (start, *start.parents):
        if (directory / "go.mod").is_file():
            return directory
    raise NotInModule(
        f"no go.mod in {start} or any parent directory",
        "run envsnap in a Go module or pass its directory with -C; `go mod init` creates one",
    )
