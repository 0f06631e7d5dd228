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
import re
from collections.abc import Callable, Iterable, Iterator, Mapping

from envsnap.errors import HostError
from envsnap.gomod import Replace, parse
from envsnap.host import Host

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
    base = os.path.dirname(go_work)
    return [os.path.normpath(os.path.join(base, used)) for used in parse(_read(go_work)).uses]


def settings_inputs(env: Mapping[str, str], module_dir: str) -> list[str]:
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
    return paths


Getenv = Callable[[str], "str | None"]
# Variables that rename the version files a manager looks for in each directory.
VERSION_FILE_NAMES = (
    "ASDF_DEFAULT_TOOL_VERSIONS_FILENAME",
    "MISE_DEFAULT_CONFIG_FILENAME",
    "MISE_DEFAULT_TOOL_VERSIONS_FILENAME",
)


def version_manager_inputs(getenv: Getenv, module_dir: str) -> list[str]:
    """The files by which asdf, mise or goenv pick the go a shim runs: the version files in the
    module, each parent and the home directory (by the names the managers' variables give),
    and each manager's global settings."""
    home = getenv("HOME") or ""
    names = [*VERSION_FILES, *(n for v in VERSION_FILE_NAMES if (n := getenv(v)))]
    dirs = [*parents(module_dir), *([home] if home.startswith("/") else [])]
    local = [os.path.join(directory, name) for directory in dirs for name in names]
    return [*local, *global_version_files(getenv, home)]


def global_version_files(getenv: Getenv, home: str) -> list[str]:
    """goenv's ``$GOENV_ROOT/version``, asdf's ``.asdfrc`` (its ``legacy_version_file``), and
    mise's global and system configuration (with their ``conf.d`` folders and files)."""
    config = getenv("XDG_CONFIG_HOME") or (f"{home}/.config" if home else "")
    mise = getenv("MISE_CONFIG_DIR") or (f"{config}/mise" if config else "")
    goenv = getenv("GOENV_ROOT") or (f"{home}/.goenv" if home else "")
    files = [
        f"{goenv}/version" if goenv else "",
        getenv("ASDF_CONFIG_FILE") or (f"{home}/.asdfrc" if home else ""),
        getenv("MISE_GLOBAL_CONFIG_FILE") or (f"{mise}/config.toml" if mise else ""),
        f"{mise}/config.local.toml" if mise else "",
        getenv("MISE_SYSTEM_CONFIG_FILE") or "/etc/mise/config.toml",
    ]
    for folder in (f"{mise}/conf.d" if mise else "", "/etc/mise/conf.d"):
        if folder:
            files += [folder, *(f"{folder}/{n}" for n in _list(folder) if n.endswith(".toml"))]
    return [path for path in files if path.startswith("/")]


def _skip_dir(name: str) -> bool:
    return name.startswith((".", "_")) or name == "testdata"


def module_tree(module_dir: str) -> Iterator[str]:
    """Every directory ``./...`` may match (go does not follow symlinks there), and the Go files
    in each: one that a build constraint excludes today is not listed, and is read again when
    it is rewritten in place (the directory's stamp does not change then)."""
    for top, subdirs, files in os.walk(module_dir):
        subdirs[:] = [d for d in subdirs if not _skip_dir(d)]
        yield top
        yield from (f"{top}/{name}" for name in files if name.endswith(".go"))


def package_inputs(
    packages: Iterable[Mapping[str, object]], env: Mapping[str, str]
) -> Iterator[str]:
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


def module_cache_inputs(
    packages: Iterable[Mapping[str, object]], env: Mapping[str, str]
) -> Iterator[str]:
    """What ``go list`` read from the module cache (``go env GOMODCACHE``), present or not: the
    directory of each listed package there, and for every module the build requires (go.mod's
    and each workspace module's ``require``, and every module a package came from) its
    extracted directory and its files under ``cache/download``. The files are immutable; a
    module removed from the cache, or added to it, changes their stamps."""
    cache = env.get("GOMODCACHE", "").rstrip("/")
    if not cache.startswith("/"):
        return
    modules = set(required_modules(env))
    for pkg in packages:
        directory = pkg.get("Dir")
        if isinstance(directory, str) and directory.startswith(f"{cache}/"):
            yield directory
            module = _module_of(directory[len(cache) + 1 :])
            if module is not None:
                modules.add(module)
    for path, version in sorted(modules):
        yield from module_cache_files(cache, path, version)


def _module_of(escaped: str) -> tuple[str, str] | None:
    """The (escaped) module path and version of a directory under the module cache."""
    parts = escaped.split("/")
    for at, part in enumerate(parts):
        if "@" in part:
            name, _, version = part.partition("@")
            return unescape("/".join([*parts[:at], name])), unescape(version)
    return None


def module_cache_files(cache: str, path: str, version: str) -> list[str]:
    """Where the module cache keeps one module version (cmd/go/internal/modfetch's layout)."""
    name, at = escape(path), escape(version)
    download = f"{cache}/cache/download/{name}/@v/{at}"
    return [f"{cache}/{name}@{at}", *(f"{download}.{ext}" for ext in ("info", "mod", "zip"))]


def required_modules(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """The module versions the go.mod files of the build require, after their replacements
    (a replacement by a directory is no module cache's)."""
    go_mods = [env["GOMOD"]] if env.get("GOMOD", "").startswith("/") else []
    work = env.get("GOWORK", "")
    if work.startswith("/"):
        go_mods += [f"{used}/go.mod" for used in workspace_uses(work)]
    found: list[tuple[str, str]] = []
    for go_mod in go_mods:
        found += _requirements(_read(go_mod))
    return found


def _requirements(text: str) -> list[tuple[str, str]]:
    parsed = parse(text)
    found = []
    for line in parsed.all("require"):
        if len(line.args) >= 2:
            found.append(_replaced(parsed.replaces, line.args[0], line.args[1]))
    return [module for module in found if module is not None]


def _replaced(replaces: Iterable[Replace], path: str, version: str) -> tuple[str, str] | None:
    """The module version go uses for *path* at *version*: a replacement's (one for that version
    before one for every version), None when that is a directory; else the required one."""
    mine = [r for r in replaces if r.old_path == path and r.old_version in ("", version)]
    mine.sort(key=lambda replace: replace.old_version == "")
    if not mine:
        return path, version
    return None if mine[0].is_local else (mine[0].new_path, mine[0].new_version)


def escape(text: str) -> str:
    """A module path or version as the module cache spells it: each upper-case letter as ``!``
    and its lower case (golang.org/x/mod/module's ``EscapePath``, for case-blind file systems)."""
    return "".join(f"!{c.lower()}" if "A" <= c <= "Z" else c for c in text)


def unescape(text: str) -> str:
    """The inverse of :func:`escape`."""
    out, bang = [], False
    for char in text:
        if bang:
            out.append(char.upper())
            bang = False
        elif char == "!":
            bang = True
        else:
            out.append(char)
    return "".join(out)


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(1024 * 1024)
    except OSError:
        return ""


def pkg_config_inputs(host: Host, pkg_config: str) -> list[str]:
    """pkg-config's search path and every ``.pc`` file on it: what its answers are read from.

    A ``.pc`` file added earlier on the path, or any module's file edited (``Requires:`` reach
    other modules' files), changes what pkg-config says; the directories' and files' stamps
    show both. The path is what the variables name (a relative entry under the working
    directory, where pkg-config resolves it) and what the tool itself says it searches, so a
    wrapper in front of pkg-config that sets a path of its own is seen too.
    """
    path = host.getenv("PKG_CONFIG_PATH") or ""
    default = host.getenv("PKG_CONFIG_LIBDIR")
    if default is None:
        default = _run_text(host, [pkg_config, "--variable", "pc_path", "pkg-config"]).strip()
    named = [os.path.abspath(d) for d in f"{path}:{default}".split(":") if d]
    dirs = list(dict.fromkeys([*named, *searched_by_pkg_config(host, pkg_config)]))
    found: list[str] = list(dirs)
    for directory in dirs:
        found += [f"{directory}/{name}" for name in _list(directory) if name.endswith(".pc")]
    return found


SEARCH_PROBE = "envsnap-search-path-probe"  # a module no one has: pkgconf tries every directory
_TRYING = re.compile(r"trying path: (.+) for " + re.escape(SEARCH_PROBE) + r"$", re.MULTILINE)


def searched_by_pkg_config(host: Host, pkg_config: str) -> list[str]:
    """The directories pkg-config says it searches, in order (pkgconf's ``--debug`` names each
    one it tries); none from a pkg-config that cannot say."""
    said = _run_text(host, [pkg_config, "--debug", "--no-provides", "--exists", SEARCH_PROBE], True)
    return [os.path.abspath(found) for found in _TRYING.findall(said)]


def _run_text(host: Host, argv: list[str], stderr: bool = False) -> str:
    """What *argv* prints (on stderr with *stderr*); empty when it cannot run or answer."""
    try:
        result = host.run(argv)
    except HostError:
        return ""
    if stderr:
        return result.err
    return result.out if result.ok else ""


def _list(directory: str) -> list[str]:
    try:
        return sorted(os.listdir(directory))
    except OSError:
        return []
