"""Colour in verify's report: on a terminal only, and never when NO_COLOR is set."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.conftest import envsnap

ESC = "\033["


def on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run envsnap with its stdout on a pseudo-terminal; what it printed there."""
    main, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "envsnap", *args],
        stdout=secondary,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert proc.wait(timeout=120) == 1
    return b"".join(chunks).decode()


def drifted(cgo_module: Path) -> dict[str, str]:
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    env = {**os.environ, "CGO_CFLAGS": "-O2 -g -DEXTRA", "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    return env


def test_severity_is_coloured_on_a_terminal(cgo_module: Path) -> None:
    env = drifted(cgo_module)
    shown = on_a_terminal(["verify", "-C", str(cgo_module)], env)
    assert f"{ESC}1;31merror{ESC}0m" in shown
    assert "CGO_CFLAGS (go env): added -DEXTRA" in shown


def test_no_colour_with_no_color_or_in_a_pipe(cgo_module: Path) -> None:
    env = drifted(cgo_module)
    plain = on_a_terminal(["verify", "-C", str(cgo_module)], {**env, "NO_COLOR": "1"})
    assert ESC not in plain and "error   CGO_CFLAGS" in plain
    piped = envsnap("verify", "-C", str(cgo_module), env=env)
    assert piped.returncode == 1 and ESC not in piped.stdout


def slow_pkg_config(tmp_path: Path) -> dict[str, str]:
    """pkg-config that thinks for two seconds first: lock then takes well over a second."""
    import shutil

    real = shutil.which("pkg-config")
    assert real is not None
    bin_dir = tmp_path / "slow"
    bin_dir.mkdir()
    fake = bin_dir / "pkg-config"
    fake.write_text(f'#!/bin/sh\nsleep 2\nexec {real} "$@"\n')
    fake.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "TERM": "xterm"}


def both_on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    main, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "envsnap", *args], stdout=secondary, stderr=secondary, env=env
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    return proc.wait(timeout=120), b"".join(chunks).decode()


def test_long_work_shows_progress_on_a_terminal_only(cgo_module: Path, tmp_path: Path) -> None:
    env = {**slow_pkg_config(tmp_path), "ENVSNAP_NO_CACHE": "1"}
    code, shown = both_on_a_terminal(["lock", "-C", str(cgo_module)], env)
    assert code == 0, shown
    assert "envsnap: " in shown and "\r\033[K" in shown  # a status line, redrawn in place
    last = shown.rsplit("\r\033[K", 1)[-1]  # erased before the final message
    assert last.strip().startswith("wrote ") or "wrote " in last
    piped = envsnap("lock", "--force", "-C", str(cgo_module), env=env)
    assert piped.returncode == 0 and "\033[" not in piped.stderr + piped.stdout
