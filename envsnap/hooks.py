"""envsnap's own git pre-commit hook, for teams that do not use the pre-commit framework.

The hook runs ``envsnap verify`` with the Python that installed it (an absolute path, so that GUI
git clients with a bare PATH still find envsnap), always in isolated mode (:func:`launcher`): git
runs hooks (and merge drivers) at the top of the work tree, and a plain ``python -m envsnap``
there would import a committed ``envsnap/`` or ``envsnap.py`` instead of envsnap; neither
``PYTHONPATH`` nor the user's site-packages is read at commit time either. A hook that was
already there is copied aside to ``pre-commit.envsnap-chained`` and run first, and
:func:`uninstall` moves it back unchanged; a symlinked hook is copied as the link and replaced,
never written through, and a chained hook that leads back to envsnap's own is refused (it would
run itself, forever). Every step replaces one file by a rename, so a kill at any point leaves a
working hook (the old one or the new one). The hook is recognised by :data:`MARKER`; a file
without it is never overwritten.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
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
# A hook that was here before is kept as {chained} and runs first
# (unless it leads back to envsnap's own hook: that would run itself, forever).
ENVSNAP_PYTHON={python}
chained="$(dirname "$0")/{chained}"
if [ -f "$chained" ] && [ -x "$chained" ]; then
    if [ "$chained" -ef "$0" ] || grep -qxF {marker_word} "$chained"; then
        echo "envsnap: not running $chained: it is envsnap's own hook, which would run" \\
            "itself (put back the hook it replaced, or remove it)" >&2
    else
        "$chained" "$@" || exit $?
    fi
fi
if [ ! -x "$ENVSNAP_PYTHON" ]; then
    echo "envsnap: $ENVSNAP_PYTHON is gone: reinstall envsnap, then run" \\
        "'envsnap hook install' again (or 'envsnap hook uninstall')" >&2
    exit 1
fi
exec "$ENVSNAP_PYTHON" {launch} verify -C {module}
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


_ISOLATED_VIEW = """\
import json, os, sys
try:
    import envsnap
    found = os.path.dirname(os.path.realpath(envsnap.__file__))
except Exception:
    found = None
print(json.dumps([found, sys.path]))
"""
_RUN_FROM = (
    "import sys; sys.path[:0] = {paths}; import runpy; "
    'runpy.run_module("envsnap", run_name="__main__", alter_sys=True)'
)


def launcher(python: str) -> str:
    """The words after *python* in the hook that run this envsnap, always isolated (``-I``: at
    commit time neither the work tree, ``PYTHONPATH`` nor the user's site-packages is read):
    ``-I -m envsnap`` when the isolated interpreter finds this very envsnap (a virtualenv, a
    system install); else ``-I -c CODE``, CODE putting ahead on the path the folders this
    envsnap and its dependencies were found in now (PYTHONPATH, the user's site-packages)."""
    here = os.path.dirname(os.path.realpath(__file__))
    found, isolated_path = _isolated_view(python)
    if found == here:
        return f"{ISOLATED} -m envsnap"
    extra = [p for p in sys.path[1:] if os.path.isabs(p) and p not in isolated_path]
    paths = list(dict.fromkeys([os.path.dirname(here), *extra]))
    code = _RUN_FROM.format(paths=json.dumps(paths))  # a JSON list of strings is Python too
    return f"{ISOLATED} -c {shlex.quote(code)}"


def _isolated_view(python: str) -> tuple[str | None, list[str]]:
    """Where *python* in isolated mode finds envsnap (None: nowhere), and its import path."""
    from envsnap.host import LocalHost

    try:
        ran = LocalHost().run([python, ISOLATED, "-c", _ISOLATED_VIEW], cwd=tempfile.gettempdir())
        found, path = json.loads(ran.out) if ran.ok else (None, [])
    except (HostError, ValueError):
        return None, []
    if not isinstance(path, list) or not all(isinstance(p, str) for p in path):
        return None, []
    return (found if isinstance(found, str) else None), path


def hook_script(python: str, module: str, launch: str = f"{ISOLATED} -m envsnap") -> bytes:
    """The hook's text; *module* is the module's folder relative to the top of the work tree
    (git runs hooks there), so one hook serves every worktree; *launch* is :func:`launcher`'s."""
    return _TEMPLATE.format(
        version=__version__,
        marker=MARKER,
        marker_word=shlex.quote(MARKER),
        chained=CHAINED_NAME,
        python=shlex.quote(python),
        launch=launch,
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
        _refuse_a_chain_to_itself(paths, paths.chained)
        return f"already installed: {paths.hook}"
    if not os.path.lexists(paths.hook) or is_ours(paths.hook):
        updated = os.path.lexists(paths.hook)
        _refuse_a_chain_to_itself(paths, paths.chained)
        _write_hook(paths.hook, script)
        return f"{'updated' if updated else 'installed'} {paths.hook}"
    _refuse_unless_movable(paths)
    _refuse_a_chain_to_itself(paths, paths.hook)
    if not _same_file(paths.hook, paths.chained):
        _copy_aside(paths.hook, paths.chained)
    _write_hook(paths.hook, script)
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


def _write_hook(hook: Path, script: bytes) -> None:
    """Replace *hook* with envsnap's: a symlink there is replaced, never written through (its
    target may be a hook shared by other repositories)."""
    atomic_write(hook, script, mode=_executable_mode(), follow_symlinks=False)


def _refuse_a_chain_to_itself(paths: HookPaths, chained: Path) -> None:
    """Refuse when *chained* (the hook that would run first) leads to envsnap's own hook:
    through a symlink to the hook's own place, or to a file carrying the marker."""
    if not os.path.lexists(chained):
        return
    if chained.is_symlink():
        try:
            real = chained.resolve(strict=True)
        except (OSError, RuntimeError):
            return  # a dangling link or a loop: never run (the hook runs only a file)
        runs_itself = real == paths.hook.parent.resolve() / paths.hook.name or is_ours(real)
    else:
        real, runs_itself = chained, is_ours(chained)
    if runs_itself:
        raise HookError(
            f"{chained} leads to envsnap's own hook ({real}): chained, it would run itself",
            f"put back the hook that {real} replaced, or remove {chained}, then install again",
        )


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
