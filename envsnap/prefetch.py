"""``envsnap lock`` starts the module's ``go list`` before it imports its probes.

The listing is the longest tool run of a lock, and nothing it asks depends on the probes: the
command line starts it as soon as it knows the verb and the module (see :func:`start_listing`),
on the very host the workspace then uses. The run is handed to the cgo probe only when the
probe asks for exactly that run: the same argv, directory, environment, timeout and output
limit (:meth:`envsnap.host.LocalHost.execute`). A probe that asks otherwise (envsnap.toml's
package patterns, a variant's GOFLAGS) runs its own listing, and the early one is stopped.

The early run goes through the host like any other: the command's time budget and timeouts
bound it, ENVSNAP_TRACE records it with its real duration, and the probe memo takes its start
as the start of every answer of this run (a file changed after go list started is racy).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from envsnap.errors import EnvsnapError
from envsnap.host import LocalHost, look_path

GO_LIST_TIMEOUT = 120.0
GO_LIST_OUTPUT_LIMIT = 32 * 1024 * 1024  # bytes of JSON kept (docs/security.md)
# The fields envsnap reads; asking for them alone (go 1.20+) spares go the work of the others
# (staleness above all) and envsnap a tenth of the JSON.
FIELDS = (
    "ImportPath,Dir,Standard,CgoFiles,CgoPkgConfig,CgoCPPFLAGS,CgoCFLAGS,CgoCXXFLAGS,CgoLDFLAGS,"
    "CXXFiles,Error,DepsErrors"
)
WHOLE_MODULE = ("./...",)
LISTING = ("list", "-e", "-test", "-deps", f"-json={FIELDS}")

_early_host: list[LocalHost] = []  # the host the listing was started on, until taken


def start_listing(argv: Sequence[str]) -> None:
    """Start ``go list`` of the whole module for ``envsnap`` *argv* (a ``lock``), when the
    module is plainly named (``-C DIR`` or the working directory) and go is on PATH."""
    directory = _directory(argv)
    if directory is None:
        return
    from envsnap.module import find_module_root

    try:
        root = find_module_root(Path(directory))
    except EnvsnapError:  # the command says so itself
        return
    host = LocalHost()
    go = look_path("go", host.environment.get("PATH", ""))
    if go is None:
        return
    argv = [go, *LISTING, *WHOLE_MODULE]
    host.prefetch(argv, cwd=str(root), timeout=GO_LIST_TIMEOUT, limit=GO_LIST_OUTPUT_LIMIT)
    _early_host.append(host)


def _directory(argv: Sequence[str]) -> str | None:
    """The directory ``-C`` names (``.`` without it); None for a replay, or a ``-C`` spelled
    any other way than ``-C DIR`` (argparse reads those; the early listing is not worth it)."""
    directory = "."
    for at, arg in enumerate(argv):
        if arg == "--replay" or (arg.startswith(("--replay=", "-C")) and arg != "-C"):
            return None
        if arg == "-C":
            if at + 1 >= len(argv):
                return None
            directory = argv[at + 1]
    return directory


def taken_host() -> LocalHost | None:
    """The host the listing was started on (once), for the workspace to run everything on."""
    return _early_host.pop() if _early_host else None


def discard() -> None:
    """Stop a listing no workspace took (the command failed before it needed one)."""
    host = taken_host()
    if host is not None:
        host.close()
