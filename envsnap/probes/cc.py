"""The C compiler go would call (``CC`` from go env) and the linker behind it."""

from __future__ import annotations

import shlex

from envsnap.errors import HostError
from envsnap.host import Host, ToolNotFound
from envsnap.probes import Section

DEFAULT_CC = {"darwin": "clang", "linux": "gcc"}


def compiler_command(go_env: dict[str, str], system: str) -> str:
    """The executable part of CC (go splits CC like a shell line: ``CC="ccache gcc"``)."""
    raw = go_env.get("CC") or DEFAULT_CC.get(system, "cc")
    try:
        words = shlex.split(raw)
    except ValueError:
        words = raw.split()
    return words[0] if words else DEFAULT_CC.get(system, "cc")


def resolve_tool(host: Host, command: str) -> str:
    path = command if command.startswith("/") else host.which(command)
    if path is None or not host.exists(path):
        raise ToolNotFound(
            f"the C compiler `{command}` is not on PATH",
            "install it, or set CC (go env -w CC=...) to one that is",
        )
    return path


def first_line(text: str) -> str:
    """The first meaningful line (old Apple ``gcc --version`` starts with ``Configured with:``)."""
    for line in text.splitlines():
        if line.strip() and not line.startswith("Configured with:"):
            return line.strip()
    return ""


def describe_binary(host: Host, path: str, version_argv: list[str], stream: str) -> Section:
    """Path, realpath, first line of its version output and hash of one executable."""
    result = host.run([path, *version_argv])
    if not result.ok:
        # e.g. /usr/bin/cc, a shim, exits 1 with xcrun's error when the developer tools are gone
        raise HostError(result.describe_failure(), "check the developer tools (xcode-select -p)")
    text = result.err if stream == "stderr" else result.out
    version = first_line(text) or first_line(result.err + result.out)
    if not version:
        raise HostError(f"no version from {result.describe_failure()}")
    real = host.realpath(path)
    section: Section = {"path": path, "realpath": real, "version": version}
    digest = host.file_digest(real)
    if digest is not None:
        section["sha256"] = digest
    return section


def probe_compiler(host: Host, go_env: dict[str, str]) -> Section:
    command = compiler_command(go_env, host.system)
    section = describe_binary(host, resolve_tool(host, command), ["--version"], "stdout")
    return {"command": command, **section}


def probe_linker(host: Host, go_env: dict[str, str]) -> Section:
    """``ld -v`` on macOS (ld64 vs the Xcode 15+ linker), the ``ld`` gcc/clang uses on Linux."""
    if host.system == "darwin":
        ld = host.which("ld")
        if ld is None:
            raise ToolNotFound("`ld` is not on PATH", "install the Xcode Command Line Tools")
        return describe_binary(host, ld, ["-v"], "stderr")
    compiler = resolve_tool(host, compiler_command(go_env, host.system))
    named = first_line(host.run([compiler, "-print-prog-name=ld"]).out) or "ld"
    ld = named if named.startswith("/") else host.which(named)
    if ld is None:
        raise ToolNotFound(f"the linker `{named}` is not on PATH", "install binutils")
    return describe_binary(host, ld, ["--version"], "stdout")


def library_search_dirs(host: Host, go_env: dict[str, str]) -> list[str]:
    """The directories the compiler's linker searches for ``-l`` after any ``-L``."""
    compiler = resolve_tool(host, compiler_command(go_env, host.system))
    result = host.run([compiler, "-print-search-dirs"])
    for line in result.out.splitlines():
        if line.startswith("libraries:"):
            raw = line.split(":", 1)[1].strip().removeprefix("=")
            return [d for d in raw.split(":") if d]
    return []
