"""The C (and C++) compiler go would call and the linker behind it, seen through wrappers.

go splits ``CC`` like a shell line and runs it, so ``CC="ccache gcc"`` runs ccache, which runs
gcc: the compiler that builds is gcc, and that is what is locked (path, version, hash), with
the wrapper named beside it. The same holds when a wrapper masquerades as the compiler (a
``/usr/lib/ccache/gcc`` symlink to ccache first on PATH). A driver with arguments (``zig cc``)
is asked with its arguments. On macOS, ``/usr/bin/cc``, ``clang`` and ``ld`` are shims that
xcrun resolves in the active developer dir: the file locked is the one ``xcrun --find`` names.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass

from envsnap import quoted
from envsnap.entry import Tool
from envsnap.errors import HostError
from envsnap.host import VERSION_OUTPUT_LIMIT, Host, ToolNotFound
from envsnap.platforms import platform_for
from envsnap.probes import capped

WRAPPERS = frozenset({"ccache", "sccache", "distcc", "icecc", "buildcache"})
# The /usr/bin shims and the developer-dir tool each runs: cc, gcc and clang all run Apple clang.
XCRUN_SHIMS = {
    "cc": "clang",
    "gcc": "clang",
    "clang": "clang",
    "c++": "clang++",
    "g++": "clang++",
    "clang++": "clang++",
    "ld": "ld",
}


class UnsplittableVariable(HostError):
    """A variable go splits into words (CC, CGO_LDFLAGS, ...) with a quote left open: every
    ``go build`` refuses it."""


def go_words(go_env: dict[str, str], key: str, default: str = "") -> list[str]:
    """The words go makes of *key* (its value, else *default*), as cmd/go's envList does with
    ``quoted.Split``; :class:`UnsplittableVariable` where go refuses the value."""
    try:
        return quoted.split(go_env.get(key) or default)
    except quoted.UnterminatedQuote as exc:
        raise UnsplittableVariable(
            f"go cannot split {key} into words ({exc}), so every go build here fails",
            f"close the quote in {key}: go splits it at spaces, and a word that starts with "
            "' or \" ends at the same quote (`go env {key}` shows it)",
        ) from None


def compiler_words(go_env: dict[str, str], system: str, cxx: bool = False) -> list[str]:
    """CC (or CXX) split into words, as go splits it."""
    platform = platform_for(system)
    default = platform.default_cxx if cxx else platform.default_cc
    return go_words(go_env, "CXX" if cxx else "CC", default) or [default]


# The driver options that choose the programs it runs: ``-B DIR`` puts DIR first in its program
# (and library) search, ``-fuse-ld=`` and ``--ld-path=`` name the linker. cmd/go hands
# $CGO_LDFLAGS to the link driver, so there they choose the linker of every cgo build.
PROGRAM_OPTIONS = ("-B", "-fuse-ld=", "--ld-path=")


def program_options(go_env: dict[str, str]) -> list[str]:
    """The words of $CGO_LDFLAGS that choose the programs the link driver runs."""
    words = go_words(go_env, "CGO_LDFLAGS")
    found: list[str] = []
    for at, word in enumerate(words):
        if word == "-B" and at + 1 < len(words):
            found += [word, words[at + 1]]
        elif word.startswith(PROGRAM_OPTIONS) and word != "-B":
            found.append(word)
    return found


def compiler_command(go_env: dict[str, str], system: str) -> str:
    """The executable part of CC, as a person would name it."""
    return compiler_words(go_env, system)[0]


def resolve_tool(host: Host, command: str) -> str:
    path = command if command.startswith("/") else host.which(command)
    if path is None or not host.exists(path):
        raise ToolNotFound(
            f"the C compiler `{command}` is not on PATH",
            "install it, or set CC (go env -w CC=...) to one that is",
        )
    return path


@dataclass(frozen=True)
class Driver:
    """How go runs the compiler: the command as configured, what really runs, and any wrapper."""

    command: str
    argv: tuple[str, ...]
    wrapper: str | None = None


def _is_wrapper(path: str) -> bool:
    return posixpath.basename(path) in WRAPPERS


def _which_after(host: Host, name: str, after_dir: str) -> str | None:
    """*name* on PATH in a directory after *after_dir* (what a masquerading wrapper runs)."""
    dirs = [d.rstrip("/") for d in (host.getenv("PATH") or "").split(os.pathsep) if d]
    if after_dir.rstrip("/") in dirs:
        dirs = dirs[dirs.index(after_dir.rstrip("/")) + 1 :]
    for directory in dirs:
        candidate = f"{directory}/{name}"
        info = host.stat(candidate)
        if info is not None and info.kind == "file" and not _is_wrapper(host.realpath(candidate)):
            return candidate
    return None


def find_driver(host: Host, go_env: dict[str, str], cxx: bool = False) -> Driver:
    """The compiler go runs for CC (or CXX), with a ccache-like wrapper seen through."""
    words = compiler_words(go_env, host.system, cxx)
    command = " ".join(words)
    wrapper = None
    if _is_wrapper(words[0]) and len(words) > 1:
        wrapper, words = resolve_tool(host, words[0]), words[1:]
    path = resolve_tool(host, words[0])
    if wrapper is None and _is_wrapper(host.realpath(path)) and not _is_wrapper(path):
        name = posixpath.basename(path)
        behind = _which_after(host, name, posixpath.dirname(path))
        if behind is None:
            raise ToolNotFound(
                f"`{name}` on PATH is {host.realpath(path)}, with no real {name} behind it",
                f"install {name}, or take the wrapper's directory off PATH",
            )
        wrapper, path = path, behind
    return Driver(command, (path, *words[1:]), wrapper)


def first_line(text: str) -> str:
    """The first meaningful line (old Apple ``gcc --version`` starts with ``Configured with:``)."""
    for line in text.splitlines():
        if line.strip() and not line.startswith("Configured with:"):
            return line.strip()
    return ""


def describe_binary(host: Host, path: str, version_argv: list[str], stream: str) -> Tool:
    """Path, realpath, first line of its version output and hash of one executable."""
    result = host.run([path, *version_argv], limit=VERSION_OUTPUT_LIMIT)
    if not result.ok:
        # e.g. /usr/bin/cc, a shim, exits 1 with xcrun's error when the developer tools are gone
        raise HostError(result.describe_failure(), "check the developer tools (xcode-select -p)")
    text = result.err if stream == "stderr" else result.out
    version = capped(first_line(text) or first_line(result.err + result.out))
    if not version:
        raise HostError(
            f"no version from {result.describe_failure()}",
            "check that `$CC --version` works by hand",
        )
    real = host.realpath(path)
    section: Tool = {"path": path, "realpath": real, "version": version}
    digest = host.file_digest(real)
    if digest is not None:
        section["sha256"] = digest
    return section


def xcrun_target(host: Host, path: str) -> str | None:
    """The developer-dir tool a macOS ``/usr/bin`` shim runs (``xcrun --find``), or None."""
    tool = XCRUN_SHIMS.get(posixpath.basename(path))
    if not platform_for(host.system).has_developer_tools or tool is None:
        return None
    if posixpath.dirname(path) != "/usr/bin":
        return None
    try:
        result = host.run(["xcrun", "--find", tool])
    except HostError:
        return None
    found = result.out.strip()
    return found if result.ok and found.startswith("/") else None


def describe_tool(host: Host, argv: tuple[str, ...], version_argv: list[str], stream: str) -> Tool:
    """Path, version, realpath and hash of the tool *argv* runs, seen through an xcrun shim."""
    section = describe_binary(host, argv[0], [*argv[1:], *version_argv], stream)
    behind = xcrun_target(host, argv[0])
    if behind is not None:
        section["realpath"] = host.realpath(behind)
        section.pop("sha256", None)
        digest = host.file_digest(section["realpath"])
        if digest is not None:
            section["sha256"] = digest
    return section


def probe_compiler(host: Host, go_env: dict[str, str], cxx: bool = False) -> Tool:
    driver = find_driver(host, go_env, cxx)
    described = describe_tool(host, driver.argv, ["--version"], "stdout")
    section: Tool = {"command": driver.command, **described}
    if driver.wrapper is not None:
        section["wrapper"] = driver.wrapper
        result = host.run([driver.wrapper, "--version"], limit=VERSION_OUTPUT_LIMIT)
        version = capped(first_line(result.out)) if result.ok else ""
        if version:
            section["wrapper_version"] = version
    return section


def probe_linker(host: Host, go_env: dict[str, str]) -> Tool:
    """``ld -v`` on macOS (ld64 vs the Xcode 15+ linker); on Linux the ``ld`` that gcc or clang
    runs, asked with the options of CC and $CGO_LDFLAGS that choose it (``-B DIR``)."""
    if platform_for(host.system).linker_on_path:
        ld = host.which("ld")
        if ld is None:
            raise ToolNotFound("`ld` is not on PATH", "install the Xcode Command Line Tools")
        return describe_tool(host, (ld,), ["-v"], "stderr")
    argv = (*find_driver(host, go_env).argv, *program_options(go_env))
    look_in_program_dirs(host, argv)
    named = first_line(host.run([*argv, "-print-prog-name=ld"]).out) or "ld"
    ld = named if named.startswith("/") else host.which(named)
    if ld is None:
        raise ToolNotFound(f"the linker `{named}` is not on PATH", "install binutils")
    return describe_binary(host, ld, ["--version"], "stdout")


def program_dirs(host: Host, argv: Sequence[str]) -> list[str]:
    """Where the driver looks for the programs it runs (``-print-search-dirs``' ``programs:``):
    the ``-B`` directories, ``COMPILER_PATH``, those under ``GCC_EXEC_PREFIX``, its own."""
    try:
        result = host.run([*argv, "-print-search-dirs"])
    except HostError:
        return []
    for line in result.out.splitlines() if result.ok else []:
        if line.startswith("programs:"):
            listed = line.split(":", 1)[1].strip().removeprefix("=")
            return list(dict.fromkeys(posixpath.normpath(d) for d in listed.split(":") if d))
    return []


def look_in_program_dirs(host: Host, argv: Sequence[str]) -> None:
    """Look at each directory the driver searches for its programs, so that a layer that
    records the host's answers (the probe memo) sees an ``ld`` that appears in one of them."""
    for directory in program_dirs(host, argv):
        host.stat(directory)
