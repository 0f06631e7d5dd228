"""envsnap's own git pre-commit hook, for teams that do not use the pre-commit framework.

The hook runs ``envsnap verify`` with the Python that installed it (an absolute path, so that GUI
git clients with a bare PATH still find envsnap). A hook that was already there is moved aside to
``pre-commit.envsnap-chained`` and run first, and :func:`uninstall` moves it back unchanged. The
hook is recognised by :data:`MARKER`; a file without it is never overwritten.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from envsnap import __version__
from envsnap.atomic import atomic_write
from envsnap.errors import EnvsnapError

HOOK_NAME = "pre-commit"
CHAINED_NAME = "pre-commit.envsnap-chained"
MARKER = "# envsnap-hook: managed by envsnap, do not edit"

_TEMPLATE = """\
#!/bin/sh
# Written by envsnap {version}: `envsnap hook install` rewrites it, `envsnap hook uninstall`
# removes it and puts back the hook that was here before.
{marker}
# Runs `envsnap verify` for the Go module named on the last line; drift stops the commit.
# A hook that was here before is kept as {chained} and runs first.
ENVSNAP_PYTHON={python}
chained="$(dirname "$0")/{chained}"
if [ -x "$chained" ]; then
    "$chained" "$@" || exit $?
fi
if [ ! -x "$ENVSNAP_PYTHON" ]; then
    echo "envsnap: $ENVSNAP_PYTHON is gone: reinstall envsnap, then run" \\
        "'envsnap hook install' again (or 'envsnap hook uninstall')" >&2
    exit 1
fi
exec "$ENVSNAP_PYTHON" -m envsnap verify -C {module}
"""


class HookError(EnvsnapError):
    """The hook cannot be installed or removed safely."""


@dataclass(frozen=True)
class HookPaths:
    """The hook git runs and the place a foreign hook is moved to."""

    hook: Path
    chained: Path

    @classmethod
    def in_dir(cls, hooks_dir: Path) -> HookPaths:
        return cls(hooks_dir / HOOK_NAME, hooks_dir / CHAINED_NAME)


def hook_script(python: str, module: str) -> bytes:
    """The hook's text; *module* is the module's folder relative to the top of the work tree
    (git runs hooks there), so one hook serves every worktree."""
    return _TEMPLATE.format(
        version=__version__,
        marker=MARKER,
        chained=CHAINED_NAME,
        python=shlex.quote(python),
        module=shlex.quote(module),
    ).encode()


def is_ours(path: Path) -> bool:
    """Whether *path* is a hook envsnap wrote (a regular file carrying the marker line)."""
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as handle:
        head = handle.read(4096)
    return MARKER.encode() in head.splitlines()


def _executable_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def install(paths: HookPaths, script: bytes) -> str:
    """Install (or update) the hook; returns what was done, in a sentence."""
    paths.hook.parent.mkdir(parents=True, exist_ok=True)
    if not os.path.lexists(paths.hook) or is_ours(paths.hook):
        updated = os.path.lexists(paths.hook)
        atomic_write(paths.hook, script, mode=_executable_mode())
        return f"{'updated' if updated else 'installed'} {paths.hook}"
    _refuse_unless_movable(paths)
    os.rename(paths.hook, paths.chained)
    try:
        atomic_write(paths.hook, script, mode=_executable_mode())
    except BaseException:
        os.rename(paths.chained, paths.hook)
        raise
    return f"installed {paths.hook}; the hook that was there runs first, from {paths.chained}"


def _refuse_unless_movable(paths: HookPaths) -> None:
    if paths.hook.is_dir() and not paths.hook.is_symlink():
        raise HookError(f"{paths.hook} is a directory", "move it away, then install again")
    if os.path.lexists(paths.chained):
        raise HookError(
            f"{paths.hook} is not envsnap's, and {paths.chained.name} is taken too",
            f"merge the two hooks by hand or remove {paths.chained}, then install again",
        )


def uninstall(paths: HookPaths) -> str:
    """Remove envsnap's hook and put back the one it replaced, byte for byte."""
    if not is_ours(paths.hook):
        what = "is not envsnap's" if os.path.lexists(paths.hook) else "does not exist"
        return f"nothing to remove: {paths.hook} {what}"
    if os.path.lexists(paths.chained):
        os.replace(paths.chained, paths.hook)
        return f"removed envsnap's hook; restored the previous {paths.hook}"
    paths.hook.unlink()
    return f"removed {paths.hook}"
