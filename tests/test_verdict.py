"""A remembered clean verdict: reused while every stamp holds; a warm clean verify runs no tool."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import RECORDINGS, envsnap, heavy_imports_of, require_tool

TOOLS = ("go", "gcc", "pkg-config", "getconf", "ld")


@pytest.fixture
def logged_tools(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose build tools note each call, then run the real tool."""
    bin_dir, log = tmp_path / "logged-bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    for name in TOOLS:
        real = shutil.which(require_tool(name))
        assert real is not None
        (bin_dir / name).write_text(f'#!/bin/sh\necho {name} >> {log}\nexec {real} "$@"\n')
        (bin_dir / name).chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CC": "gcc"}, log


def calls(log: Path) -> list[str]:
    found = log.read_text().split() if log.exists() else []
    log.unlink(missing_ok=True)
    return found


def locked_and_verified(module: Path, env: dict[str, str] | None = None) -> None:
    """Lock, let the racy window pass, and verify once: the verdict is then remembered."""
    assert envsnap("lock", "-C", str(module), env=env).returncode == 0
    time.sleep(0.2)
    assert envsnap("verify", "-C", str(module), env=env).returncode == 0


def test_a_warm_clean_verify_runs_no_tool(
    cgo_module: Path, logged_tools: tuple[dict[str, str], Path]
) -> None:
    env, log = logged_tools
    locked_and_verified(cgo_module, env)
    assert "go" in calls(log)  # the first verify fills the memo and keeps the verdict
    for _ in range(2):
        result = envsnap("verify", "-C", str(cgo_module), env=env)
        assert (result.returncode, result.stdout.strip()) == (
            0,
            "envsnap: linux-amd64 matches envsnap.lock",
        )
        assert calls(log) == []


def test_the_verdict_falls_with_the_lock_or_the_settings(
    cgo_module: Path, logged_tools: tuple[dict[str, str], Path]
) -> None:
    env, log = logged_tools
    locked_and_verified(cgo_module, env)
    lock = cgo_module / "envsnap.lock"
    lock.write_text(lock.read_text().replace('id = "', 'id = "x', 1))  # a hand edit
    result = envsnap("verify", "-C", str(cgo_module), env=env)
    assert result.returncode == 2 and "edited by hand" in result.stderr
    locked_and_verified(cgo_module, env)
    calls(log)
    (cgo_module / "envsnap.toml").write_text('[severity]\n"go.version" = "warning"\n')
    assert envsnap("verify", "-C", str(cgo_module), env=env).returncode == 0
    assert "go" in calls(log)  # a new envsnap.toml: the full verify ran


def test_no_verdict_answers_for_a_replayed_host(
    cgo_module: Path, logged_tools: tuple[dict[str, str], Path]
) -> None:
    env, _ = logged_tools
    assert envsnap("lock", "-C", str(cgo_module), env=env).returncode == 0
    time.sleep(0.2)
    for _ in range(2):
        assert envsnap("verify", "-C", str(cgo_module), env=env).returncode == 0
    mac = str(RECORDINGS / "macos14-arm64-clt-brew-openssl")
    replayed = envsnap("--replay", mac, "verify", "-C", str(cgo_module), env=env)
    assert replayed.returncode == 1 and "darwin-arm64" in replayed.stdout


def test_the_remembered_report_is_the_full_verify_s_own(cgo_module: Path) -> None:
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    time.sleep(0.2)
    full = {flag: envsnap("verify", *flag, "-C", str(cgo_module)) for flag in LOOKS}
    for flag, first in full.items():
        again = envsnap("verify", *flag, "-C", str(cgo_module))
        assert (again.returncode, again.stdout, again.stderr) == (
            first.returncode,
            first.stdout,
            first.stderr,
        )


LOOKS = ((), ("--json",), ("--quiet",), ("--strict", "--allow-missing-platform"))


def test_a_remembered_clean_verify_imports_no_probe_and_no_argparse(cgo_module: Path) -> None:
    locked_and_verified(cgo_module)
    code, heavy, own = heavy_imports_of(["verify", "--quiet", "-C", str(cgo_module)])
    assert (code, heavy) == (0, [])
    assert own <= {
        "envsnap",
        "envsnap.cli",
        "envsnap.commands",
        "envsnap.errors",
        "envsnap.names",
        "envsnap.secretnames",
        "envsnap.shortcut",
        "envsnap.stamps",
        "envsnap.termsafe",
        "envsnap.verdict",
        "envsnap.workdir",
    }, sorted(own)
    probe = (
        "import sys\nbefore = set(sys.modules)\nfrom envsnap.cli import main\n"
        f"rc = main(['verify', '--quiet', '-C', {str(cgo_module)!r}])\n"
        "print(rc, sorted(m for m in ('argparse', 'json', 're', 'pathlib', 'typing')"
        " if m in set(sys.modules) - before))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[-2] == "0 []"


def test_an_unusual_command_line_takes_the_full_path(cgo_module: Path) -> None:
    locked_and_verified(cgo_module)
    _, _, own = heavy_imports_of(["verify", "--rev", "HEAD", "-C", str(cgo_module)])
    assert "envsnap.probes.collect" in own or "envsnap.git" in own


def test_a_verdict_answers_only_for_the_variant_it_was_kept_for(tmp_path: Path) -> None:
    from envsnap import verdict
    from envsnap.stamps import stamp

    root = tmp_path / "module"
    root.mkdir()
    (root / "go.mod").write_text("module example.com/m\n")
    library = tmp_path / "libz.so"
    library.write_bytes(b"library\n")
    os.utime(library, (1_000_000_000, 1_000_000_000))
    time.sleep(0.2)  # past the racy window of the files' ctime
    environ = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "HOME": str(tmp_path)}
    report = {"text": "clean\n", "json": "{}\n", "quiet": ""}
    stood_on = {str(library): stamp(str(library))}
    module = str(root)
    verdict.remember_clean(environ, module, module, report, stood_on, time.time_ns(), "race")
    assert verdict.clean_report(environ, module, module, "race") == report
    assert verdict.clean_report(environ, module, module) is None  # the default variant
    assert verdict.clean_report(environ, module, module, "debug") is None


def test_verdicts_read_ahead_are_taken_only_while_their_file_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lock decodes the verdicts file while go list runs; keeping its own verdict afterwards, it
    reads the file again only when another envsnap wrote it in between (whose verdict stays)."""
    from envsnap import verdict
    from envsnap.stamps import cache_secret, read_cache_bytes, stamp

    module = tmp_path / "m"
    module.mkdir()
    (module / "go.mod").write_text("module m\n")
    time.sleep(0.1)  # out of the racy window of the go.mod just written
    keep = (
        "import os, sys, time\n"
        "from envsnap import verdict\n"
        "root = sys.argv[1]\n"
        "stood_on = {root + '/go.mod': verdict.stamp(root + '/go.mod')}\n"
        "report = {'text': 'clean', 'json': '{}', 'quiet': ''}\n"
        "verdict.remember_clean(os.environ, root, root, report, stood_on, time.time_ns(), "
        "sys.argv[2])\n"
    )

    def another_envsnap_keeps(extra: str) -> None:
        subprocess.run([sys.executable, "-c", keep, str(module), extra], check=True)

    def this_one_keeps(extra: str) -> None:
        stood_on = {str(module / "go.mod"): stamp(str(module / "go.mod"))}
        report = {"text": "clean", "json": "{}", "quiet": ""}
        root = str(module)
        verdict.remember_clean(os.environ, root, root, report, stood_on, time.time_ns(), extra)

    another_envsnap_keeps("first")
    reads: list[object] = []

    def counted(path: str | Path | None) -> bytes | None:
        reads.append(path)
        return read_cache_bytes(path)

    monkeypatch.setattr(verdict, "read_cache_bytes", counted)
    time.sleep(0.1)  # out of the racy window of the file just written
    verdict.read_ahead(os.environ)
    this_one_keeps("second")
    assert len(reads) == 1  # taken as read ahead
    time.sleep(0.1)
    verdict.read_ahead(os.environ)
    another_envsnap_keeps("third")
    this_one_keeps("fourth")
    assert len(reads) == 3  # read again: it changed since
    file = verdict._file(os.environ)
    held = verdict._decode(read_cache_bytes(file), cache_secret(file))
    assert len(held) == 4  # every verdict kept, the other envsnap's too
