"""Shared fixtures: an isolated home, real Go modules in tmp_path, and the real-tool policy.

A test that needs a real tool calls ``require_tool``: on a laptop without it the test skips, but
CI sets ENVSNAP_REQUIRE_TOOLS=1 and a missing tool is then a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
RECORDINGS = FIXTURES / "recordings"


def unavailable(message: str) -> NoReturn:
    """Skip on a laptop that lacks what the test needs; fail in CI (ENVSNAP_REQUIRE_TOOLS=1),
    where every real tool, package and privilege the tests use is provided."""
    if os.environ.get("ENVSNAP_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{message} (required: ENVSNAP_REQUIRE_TOOLS=1)")
    pytest.skip(message)


def require_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        unavailable(f"{name} is not on PATH")
    return found


def other_go(variable: str) -> str:
    bin_dir = os.environ.get(variable)
    if not bin_dir or not Path(bin_dir, "go").exists():
        unavailable(f"{variable} must name a bin dir with another real go (scripts/test.sh)")
    return bin_dir


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A fresh HOME and caches for every test; nothing touches the real user's files."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    # go env -w writes $XDG_CONFIG_HOME/go/env (else $HOME/.config): never the real user's file
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("GOENV", raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GOPROXY", "off")
    monkeypatch.setenv("GOFLAGS", "-mod=mod")
    monkeypatch.setenv("GOTELEMETRY", "off")
    monkeypatch.setenv("GOCACHE", str(tmp_path_factory.getbasetemp() / "gocache"))
    for name in (
        "CGO_CFLAGS",
        "CGO_LDFLAGS",
        "CC",
        "PKG_CONFIG_PATH",
        "GOTOOLCHAIN",
        "ENVSNAP_TIMEOUT",
    ):
        monkeypatch.delenv(name, raising=False)
    return home


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def envsnap(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None, timeout: float = 120
) -> Result:
    """Run the real envsnap command line in a child process."""
    proc = subprocess.run(
        [sys.executable, "-m", "envsnap", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ if env is None else env),
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


HEAVY_MODULES = ("deepdiff", "git", "pydantic")


def imports_of(argv: Sequence[str]) -> tuple[int, set[str]]:
    """Run ``main(argv)`` in a fresh interpreter: its exit code and every module it imported."""
    code = (
        "import json, sys\n"
        "from envsnap.cli import main\n"
        "try:\n    rc = main(json.loads(sys.argv[1]))\n"
        "except SystemExit as exit:\n    rc = exit.code\n"
        "print(json.dumps([rc, sorted(sys.modules)]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(list(argv))],
        capture_output=True,
        text=True,
        check=True,
    )
    rc, modules = json.loads(out.stdout.strip().splitlines()[-1])
    return rc, set(modules)


def heavy_imports_of(argv: Sequence[str]) -> tuple[int, list[str], set[str]]:
    """Run ``main(argv)`` in a fresh interpreter: its exit code, the heavy top-level packages it
    imported, and every envsnap module it imported."""
    rc, modules = imports_of(argv)
    top = {m.split(".")[0] for m in modules}
    own = {m for m in modules if m.startswith("envsnap")}
    return rc, sorted(top & set(HEAVY_MODULES)), own


def write_module(root: Path, files: Mapping[str, str], module: str = "example.com/m") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "go.mod").write_text(f"module {module}\n\ngo 1.21\n")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


ZLIB_PACKAGE = """package zz

// #cgo pkg-config: zlib
// #include <zlib.h>
import "C"

func Version() string { return C.GoString(C.zlibVersion()) }
"""

LIBM_PACKAGE = """package mm

// #cgo LDFLAGS: -lm
// #include <math.h>
import "C"

func Hypot(x, y float64) float64 { return float64(C.hypot(C.double(x), C.double(y))) }
"""


@pytest.fixture
def cgo_module(tmp_path: Path) -> Iterator[Path]:
    """A real module with a pkg-config (zlib) package and a plain -lm package."""
    require_tool("go")
    require_tool("gcc")
    require_tool("pkg-config")
    yield write_module(tmp_path / "mod", {"zz/zz.go": ZLIB_PACKAGE, "mm/mm.go": LIBM_PACKAGE})
