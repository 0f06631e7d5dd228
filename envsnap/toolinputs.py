"""The files and directories the memoised tools read: go, and pkg-config.

This is the manifest of the go memo (:mod:`envsnap.probecache`): never a guessed path. Go's
settings file is where ``go env GOENV`` says (``~/Library/Application Support/go/env`` on macOS),
the workspace is the ``go.work`` that ``go env GOWORK`` names (or, when there is none, the absence
of one in every parent directory, since go searches upward), and the packages are the directories
``go list`` reported. Version managers (asdf, mise, goenv) pick the go a shim runs from files on
the way up from the module, so those are stamped too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from envsnap.host import Host, ToolNotFound

# Files by which a version manager's shim decides which go to run (asdf, mise/rtx, goenv).
VERSION_FILES = (
    ".tool-versions",
    ".go-version",
    "mise.toml",
    ".mise.toml",
    "mise.local.toml",
    ".mise.local.toml",
    ".config/mise.toml",
    ".config/mise/config.toml",
    ".mise/config.toml",
    ".rtx.toml",
)


def parents(directory: str) -> Iterator[str]:
    """*directory* and each directory above it, up to the root."""
    current = os.path.abspath(directory)
    while True:
        yield current
        parent = os.path.dirname(current)
        if parent == current:
            return
        current = parent


def workspace_uses(go_work: str) -> list[str]:
    """The module directories a go.work file ``use``s, single-line and block forms alike."""
    from envsnap.gomod import parse

    try:
        with open(go_work, encoding="utf-8", errors="replace") as handle:
            text = handle.read(1024 * 1024)
    except OSError:
        return []
    base = os.path.dirname(go_work)
    return [os.path.normpath(os.path.join(base, used)) for used in parse(text).uses]


def settings_inputs(env: Mapping[str, str], module_dir: str, home: str | None) -> list[str]:
    """What ``go env`` answers from: the binary, Go's settings files, the workspace."""
    goroot = env.get("GOROOT", "")
    paths = [f"{goroot}/bin/go", f"{goroot}/go.env", f"{goroot}/VERSION"] if goroot else []
    for name in ("GOENV", "GOMOD"):
        if env.get(name, "").startswith("/"):
            paths.append(env[name])
    if env.get("GOMOD", "").startswith("/"):
        paths.append(os.path.join(os.path.dirname(env["GOMOD"]), "go.sum"))
    work = env.get("GOWORK", "")
    if work.startswith("/"):
        paths += [work, f"{work}.sum"]
        for used in workspace_uses(work):
            paths += [used, f"{used}/go.mod"]
    elif work != "off":
        paths += [f"{d}/go.work" for d in parents(module_dir)]
    for directory in [*parents(module_dir), *([home] if home else [])]:
        paths += [f"{directory}/{name}" for name in VERSION_FILES]
    return paths


def _skip_dir(name: str) -> bool:
    return name.startswith((".", "_")) or name == "testdata"


def module_tree(module_dir: str) -> Iterator[str]:
    """Every directory ``./...`` may match (go does not follow symlinks there)."""
    for top, subdirs, _ in os.walk(module_dir):
        subdirs[:] = [d for d in subdirs if not _skip_dir(d)]
        yield top


def package_inputs(packages: Iterable[dict[str, Any]], env: Mapping[str, str]) -> Iterator[str]:
    """Each listed package's directory and Go files, unless it is immutable (GOROOT, mod cache)."""
    immutable = tuple(
        f"{env[name].rstrip('/')}/" for name in ("GOROOT", "GOMODCACHE") if env.get(name)
    )
    for pkg in packages:
        directory = pkg.get("Dir")
        if pkg.get("Standard") or not isinstance(directory, str):
            continue
        if not directory.startswith("/") or directory.startswith(immutable):
            continue
        yield directory
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        yield from (f"{directory}/{n}" for n in names if n.endswith(".go"))


def pkg_config_inputs(host: Host, pkg_config: str) -> list[str]:
    """pkg-config's search path and every ``.pc`` file on it: what its answers are read from.

    A ``.pc`` file added earlier on the path, or any module's file edited (``Requires:`` reach
    other modules' files), changes what pkg-config says; the directories' and files' stamps
    show both.
    """
    path = host.getenv("PKG_CONFIG_PATH") or ""
    default = host.getenv("PKG_CONFIG_LIBDIR")
    if default is None:
        try:
            result = host.run([pkg_config, "--variable", "pc_path", "pkg-config"])
        except ToolNotFound:
            return []
        default = result.out.strip() if result.ok else ""
    dirs = [d for d in f"{path}:{default}".split(":") if d.startswith("/")]
    found: list[str] = list(dirs)
    for directory in dirs:
        found += [f"{directory}/{name}" for name in _list(directory) if name.endswith(".pc")]
    return found


def _list(directory: str) -> list[str]:
    try:
        return sorted(os.listdir(directory))
    except OSError:
        return []
