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


class LockError(EnvsnapError):
    """The lock file is missing, unreadable, corrupt, or written by a newer envsnap."""


class ConfigError(EnvsnapError):
    """envsnap.toml cannot be used."""


class SecretRefused(EnvsnapError):
    """A tracked value looks like a credential; it is never written anywhere."""


class HostError(EnvsnapError):
    """A command could not be run or a file could not be read on the host."""


class RecordingError(EnvsnapError):
    """A recording directory is missing or malformed."""


class IncompleteLock(EnvsnapError):
    """Probes failed at ``lock`` and --allow-incomplete was not given."""

    exit_code = EXIT_DRIFT
