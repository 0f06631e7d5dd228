"""The working directory as the shell names it, the way go names it.

A shell that ``cd``s through a symlink keeps the path it was given in ``$PWD`` (``/src/link/m``)
while the kernel's working directory is the physical one (``/src/real/m``). go's ``os.Getwd``
returns ``$PWD`` whenever it is absolute and names the same directory, so ``go list`` then reports
every path under the logical name, ``${SRCDIR}`` flags included. envsnap resolves a relative
directory the same way, so the module root it substitutes as ``${MODULE}`` is the one go reports;
the normaliser adds the physical spelling (:class:`envsnap.normalize.PathNormalizer`), so both
hold. Only ``os`` is imported: the clean verify path uses this.
"""

from __future__ import annotations

import os


def working_directory() -> str:
    """``$PWD`` when it is absolute and names the directory ``getcwd()`` names (go's rule in
    ``os.Getwd``), else ``getcwd()``."""
    physical = os.getcwd()
    logical = os.environ.get("PWD", "")
    if not logical.startswith("/") or logical == physical:
        return physical
    return logical if _same_directory(logical, physical) else physical


def absolute(path: str) -> str:
    """*path* made absolute against the working directory as the shell names it: the logical
    spelling when it names the same directory as the physical one (a ``..`` that climbs out
    of a symlinked directory differs, and then the physical one is what every tool opens)."""
    physical = os.path.abspath(path)
    if os.path.isabs(path):
        return physical
    if path in ("", "."):
        return working_directory()
    logical = os.path.normpath(os.path.join(working_directory(), path))
    if logical == physical or not _same_directory(logical, physical):
        return physical
    return logical


def _same_directory(one: str, other: str) -> bool:
    try:
        return os.path.samestat(os.stat(one), os.stat(other))
    except (OSError, ValueError):
        return False
