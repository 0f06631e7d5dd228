"""What envsnap's own emitted files export, recognised in a live entry as the lock's own choice.

To recreate a lock, the ``.envrc`` exports ``GOTOOLCHAIN`` pinned to the locked Go release,
``DEVELOPER_DIR`` as the locked developer dir's real path and ``SDKROOT`` as the locked SDK's
versioned path. On the machine that wrote the lock each of them selects exactly what was locked:
only the way it was chosen differs (an environment variable instead of ``xcode-select``, the
``MacOSX.sdk`` symlink or Go's default). :func:`undo_own_exports` puts the locked way back
wherever a live value is exactly such an export and the thing it selects is the locked one, so
that verify inside an emitted environment reports nothing. Versions, builds and real paths are
never touched: a different SDK or Go behind the same variable is still a finding.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import TypeVar, cast

from envsnap.gover import pinned_toolchain

# An entry read as plain data: a locked one may be a hand edit no schema has checked yet.
Plain = Mapping[str, object]
Live = TypeVar("Live", bound=Plain)
VERSIONED_SDK = re.compile(r"MacOSX\d+(\.\d+)*\.sdk")


def locked_toolchain(entry: Plain) -> str | None:
    """The GOTOOLCHAIN that makes go run the locked Go release, switching as the lock recorded
    (``auto`` → ``go1.26.6+auto``, ``local`` → ``go1.26.6``); None for a Go before 1.21."""
    go = _section(entry, "go")
    setting = go.get("gotoolchain")
    return pinned_toolchain(
        str(go.get("version", "")), setting if isinstance(setting, str) else None
    )


def versioned_sdk(apple: Plain) -> str | None:
    """The locked SDK by a path that names its version (``MacOSX14.0.sdk``), never the
    ``MacOSX.sdk`` symlink that follows every upgrade; None when the lock cannot name one.
    (*apple* is read as plain data: verify passes the section of a lock no schema checked.)"""
    real = _text(apple, "sdk_realpath") or _text(apple, "sdk_path")
    if not real.startswith("/"):
        return None
    path = PurePosixPath(real)
    if VERSIONED_SDK.fullmatch(path.name):
        return real
    version = _text(apple, "sdk_version")
    if re.fullmatch(r"\d+(\.\d+)*", version):
        return str(path.parent / f"MacOSX{version}.sdk")
    return None


def _text(section: Plain, key: str) -> str:
    value = section.get(key)
    return value if isinstance(value, str) else ""


def _section(entry: Plain, key: str) -> dict[str, object]:
    """A table of an entry, or an empty one where a hand-edited lock holds something else."""
    value = entry.get(key)
    return value if isinstance(value, dict) else {}


def emitted_developer_dir(apple: Plain) -> str | None:
    """The DEVELOPER_DIR the .envrc exports for a locked apple section: its real path."""
    devdir = _real_devdir(apple)
    return devdir if isinstance(devdir, str) and devdir.startswith("/") else None


def _restore(section: dict[str, object], locked: Plain, keys: tuple[str, ...]) -> None:
    for key in keys:
        if key in locked:
            section[key] = locked[key]
        else:
            section.pop(key, None)


def _toolchain(locked: Plain, live: dict[str, object]) -> None:
    old, new = _section(locked, "go"), live.get("go")
    if not isinstance(new, dict) or new.get("version") != old.get("version"):
        return
    pinned = locked_toolchain({"go": old})
    if pinned is not None and new.get("gotoolchain") == pinned:
        _restore(new, old, ("gotoolchain",))


def _real_devdir(apple: Plain) -> object:
    return apple.get("developer_dir_realpath") or apple.get("developer_dir")


def _developer_dir(locked: Plain, live: dict[str, object], env: dict[str, object]) -> None:
    old, new = _section(locked, "apple"), live.get("apple")
    exported = emitted_developer_dir(old)
    if not isinstance(new, dict) or exported is None or env.get("DEVELOPER_DIR") != exported:
        return
    if _real_devdir(new) == _real_devdir(old):
        _restore(new, old, ("developer_dir", "developer_dir_source"))
        _restore(env, _section(locked, "env"), ("DEVELOPER_DIR",))


def _sdkroot(locked: Plain, live: dict[str, object], env: dict[str, object]) -> None:
    old, new = _section(locked, "apple"), live.get("apple")
    exported = versioned_sdk(old)
    if not isinstance(new, dict) or exported is None or env.get("SDKROOT") != exported:
        return
    if old.get("sdk_realpath") and new.get("sdk_realpath") == old.get("sdk_realpath"):
        _restore(new, old, ("sdk_path", "sdk_source"))
        _restore(env, _section(locked, "env"), ("SDKROOT",))


def undo_own_exports(locked: Plain, live: Live) -> Live:
    """*live* with each value an emitted file exported to recreate *locked* put back as locked
    (a copy of the same shape: only values the lock held are put back)."""
    out: dict[str, object] = copy.deepcopy(dict(live))
    env = out.get("env")
    env = env if isinstance(env, dict) else {}
    _toolchain(locked, out)
    _developer_dir(locked, out, env)
    _sdkroot(locked, out, env)
    if "env" in out and not env and "env" not in locked:
        del out["env"]
    return cast(Live, out)
