"""The expected failures of envsnap, each with a hint, and the exit codes they map to."""

from __future__ import annotations

EXIT_OK = 0
EXIT_DRIFT = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


class EnvsnapError(Exception):
    """A failure the user can act on: one line saying what, one hint saying what to do."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        text = f"envsnap: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class NotInModule(EnvsnapError):
    """No go.mod at or above the directory envsnap was pointed at."""


class AtWorkspaceRoot(NotInModule):
    """The directory is in a Go workspace (a go.work) but in none of its modules: envsnap keeps
    one lock per module, so `lock` and `verify` there cover each module the go.work uses."""

    def __init__(self, message: str, hint: str, modules: list[str]) -> None:
        super().__init__(message, hint)
        self.modules = modules  # the module directories the go.work uses, absolute


class BrokenGoFile(EnvsnapError):
    """go cannot parse the module's go.mod (or the workspace's go.work): nothing can be probed,
    and every command says so the same way (exit 2), with go's own message."""


class LockError(EnvsnapError):
    """The lock file is missing, unreadable, corrupt, or written by a newer envsnap."""


class ConfigError(EnvsnapError):
    """envsnap.toml cannot be used."""


class SecretRefused(EnvsnapError):
    """A tracked value looks like a credential; it is never written anywhere."""


class NulRefused(EnvsnapError):
    """A tracked value holds a NUL byte, which no environment, shell or Nix string can carry."""


class HostError(EnvsnapError):
    """A command could not be run or a file could not be read on the host."""


class RecordingError(EnvsnapError):
    """A recording directory is missing or malformed."""


class IncompleteLock(EnvsnapError):
    """Probes failed at ``lock`` and --allow-incomplete was not given."""

    exit_code = EXIT_DRIFT


class WriteError(EnvsnapError):
    """A file envsnap writes could not be written; the old one was left as it was."""


# errno names of the failures the machine causes (permissions, a full disk, a read-only mount,
# a directory or a symlink loop where a file was expected): one line and exit 2, not a crash.
_EXPECTED_ERRNOS = {
    "EACCES": "check the permissions of the folder",
    "EPERM": "check the permissions and owner of the folder",
    "EROFS": "the filesystem is mounted read-only",
    "ENOSPC": "free some space and run it again",
    "EDQUOT": "free some space (disk quota) and run it again",
    "EFBIG": "the file is too large for this filesystem",
    "EIO": "the disk reported an I/O error",
    "EISDIR": "remove or rename the directory",
    "ENOTDIR": "a component of the path is not a directory",
    "ELOOP": "point the symlink at a file, or remove it",
    "ENAMETOOLONG": "use a shorter path",
    "EMFILE": "too many open files: raise `ulimit -n`",
    "ENFILE": "too many open files on this system",
    "ETXTBSY": "the file is in use",
    "EEXIST": "remove or rename it",
}


def expected_os_error(exc: OSError, doing: str = "cannot use") -> EnvsnapError | None:
    """*exc* as a one-line error when the machine, not envsnap, caused it; else None."""
    import errno

    name = errno.errorcode.get(exc.errno or 0, "")
    hint = _EXPECTED_ERRNOS.get(name)
    if hint is None:
        return None
    where = f" {exc.filename}" if exc.filename else ""
    return WriteError(f"{doing}{where}: {exc.strerror or name}", hint)
