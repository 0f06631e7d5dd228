"""envsnap's own git pre-commit hook, for teams that do not use the pre-commit framework.

The hook runs ``envsnap verify`` with the Python that installed it (an absolute path, so that GUI
git clients with a bare PATH still find envsnap), in isolated mode: git runs hooks (and merge
drivers) at the top of the work tree, and a plain ``python -m envsnap`` there would import a
committed ``envsnap/`` or ``envsnap.py`` instead of envsnap (:func:`safe_python`). A hook that was
already there is copied aside to ``pre-commit.envsnap-chained`` and run first, and
:func:`uninstall` moves it back unchanged. Every step replaces one file by a rename, so a kill at
any point leaves a working hook (the old one or the new one). The hook is recognised by
:data:`MARKER`; a file without it is never overwritten.
"""

from __future__ import annotations

import os
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path

from envsnap import __version__
from envsnap.atomic import atomic_write
from envsnap.errors import EnvsnapError, HostError

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
exec "$ENVSNAP_PYTHON" {isolation} -m envsnap verify -C {module}
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


# `-I` (isolated): neither the current folder, PYTHONPATH nor the user's site-packages is on
# sys.path. `-P` only keeps the current folder off it, for an envsnap that `-I` cannot find.
ISOLATED, SAFE_PATH = "-I", "-P"
_WHERE = "import envsnap, os; print(os.path.dirname(os.path.realpath(envsnap.__file__)))"


def safe_python(python: str) -> str:
    """The flag that keeps the work tree's files off *python*'s import path: ``-I`` when the
    interpreter finds this very envsnap in isolated mode (a virtualenv, a system install), else
    ``-P`` (an envsnap found through PYTHONPATH or the user's site-packages)."""
    from envsnap.host import LocalHost

    here = os.path.dirname(os.path.realpath(__file__))
    try:
        found = LocalHost().run([python, ISOLATED, "-c", _WHERE], cwd=tempfile.gettempdir())
    except HostError:
        return SAFE_PATH
    return ISOLATED if found.ok and found.out.strip() == here else SAFE_PATH


def module_argument(module: str) -> str:
    """*module* (relative to the top of the work tree) as an argument that never reads as an
    option: ``-dash`` becomes ``./-dash``."""
    return module if module.startswith(("/", "./")) else f"./{module}"


def hook_script(python: str, module: str, isolation: str = ISOLATED) -> bytes:
    """The hook's text; *module* is the module's folder relative to the top of the work tree
    (git runs hooks there), so one hook serves every worktree."""
    return _TEMPLATE.format(
        version=__version__,
        marker=MARKER,
        chained=CHAINED_NAME,
        python=shlex.quote(python),
        isolation=isolation,
        module=shlex.quote(module_argument(module)),
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
    """Install (or update) the hook; returns what was done, in a sentence.

    A foreign hook is first copied to the chained name (written aside, then renamed), and only
    then replaced by envsnap's, with a rename: killed at any point, git finds the old hook or the
    new one. A copy left by a killed install (the same bytes as the hook) is taken as it is.
    """
    paths.hook.parent.mkdir(parents=True, exist_ok=True)
    if _holds(paths.hook, script):
        return f"already installed: {paths.hook}"
    if not os.path.lexists(paths.hook) or is_ours(paths.hook):
        updated = os.path.lexists(paths.hook)
        atomic_write(paths.hook, script, mode=_executable_mode())
        return f"{'updated' if updated else 'installed'} {paths.hook}"
    _refuse_unless_movable(paths)
    if not _same_file(paths.hook, paths.chained):
        _copy_aside(paths.hook, paths.chained)
    atomic_write(paths.hook, script, mode=_executable_mode())
    return f"installed {paths.hook}; the hook that was there runs first, from {paths.chained}"


def _holds(hook: Path, script: bytes) -> bool:
    """Whether *hook* is already this very script: a regular, executable file with its bytes."""
    try:
        return (
            not hook.is_symlink()
            and hook.is_file()
            and os.access(hook, os.X_OK)
            and hook.read_bytes() == script
        )
    except OSError:
        return False


def _same_file(one: Path, other: Path) -> bool:
    """Whether *other* is a copy of *one*: the same link target, or the same bytes and mode."""
    if not os.path.lexists(other) or one.is_symlink() != other.is_symlink():
        return False
    if one.is_symlink():
        return os.readlink(one) == os.readlink(other)
    if not other.is_file():
        return False
    same_mode = one.stat().st_mode & 0o7777 == other.stat().st_mode & 0o7777
    return same_mode and one.read_bytes() == other.read_bytes()


def _copy_aside(source: Path, target: Path) -> None:
    """Copy *source* (a file or a symlink, as it is) to *target*, appearing there whole."""
    if source.is_symlink():
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        if os.path.lexists(temporary):
            temporary.unlink()
        os.symlink(os.readlink(source), temporary)
        os.replace(temporary, target)
        return
    atomic_write(target, source.read_bytes(), mode=source.stat().st_mode & 0o7777)


def _refuse_unless_movable(paths: HookPaths) -> None:
    if paths.hook.is_dir() and not paths.hook.is_symlink():
        raise HookError(f"{paths.hook} is a directory", "move it away, then install again")
    if os.path.lexists(paths.chained) and not _same_file(paths.hook, paths.chained):
        raise HookError(
            f"{paths.hook} is not envsnap's, and {paths.chained.name} is taken too",
            f"merge the two hooks by hand or remove {paths.chained}, then install again",
        )


def uninstall(paths: HookPaths) -> str:
    """Remove envsnap's hook and put back the one it replaced, byte for byte (one rename)."""
    if not is_ours(paths.hook):
        what = "is not envsnap's" if os.path.lexists(paths.hook) else "does not exist"
        return f"nothing to remove: {paths.hook} {what}"
    if os.path.lexists(paths.chained):
        os.replace(paths.chained, paths.hook)
        return f"removed envsnap's hook; restored the previous {paths.hook}"
    paths.hook.unlink()
    return f"removed {paths.hook}"
