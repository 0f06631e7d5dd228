"""Tools that print too much, crash by a signal, or print garbage: a one-line error naming the
tool, bounded memory, and nothing huge in the lock (docs/security.md)."""

from __future__ import annotations

import resource
import tomllib
from pathlib import Path

from tests.hostile.conftest import Tools, assert_reported

MIB = 1024 * 1024


def test_a_flood_of_output_fails_by_name_in_bounded_memory(tools: Tools, cgo_module: Path) -> None:
    tools.fake("pkg-config", "--libs*", "head -c 100000000 /dev/zero | tr '\\0' a; exit 0")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    ran = tools.envsnap("lock", "-C", str(cgo_module), limit=120, ENVSNAP_NO_CACHE="1")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    line = assert_reported(ran, "`pkg-config --libs zlib` printed more than 4 MiB")
    assert len(line) < 400
    assert peak_kib == before or peak_kib * 1024 < 300 * MIB, peak_kib


def test_a_long_version_line_is_cut_in_the_lock(tools: Tools, cgo_module: Path) -> None:
    tools.fake("ld", "*--version*", "printf 'GNU ld %01000d\\n' 7; exit 0")
    ran = tools.envsnap("lock", "-C", str(cgo_module), limit=60)
    assert ran.returncode == 0, ran.stderr
    entry = tomllib.loads((cgo_module / "envsnap.lock").read_text())["platforms"]
    linker = next(iter(entry.values()))["cc"]["linker"]
    assert linker["version"].startswith("GNU ld 000")
    assert len(linker["version"]) == 200


def test_a_20_mb_version_line_is_refused_by_name(tools: Tools, cgo_module: Path) -> None:
    """lock writes the entry with a warning (the linker is not essential), without the line;
    verify reports the linker as not checkable."""
    assert tools.envsnap("lock", "-C", str(cgo_module), limit=60).returncode == 0
    good = (cgo_module / "envsnap.lock").read_bytes()
    tools.fake("ld", "*--version*", "head -c 20000000 /dev/zero | tr '\\0' a; exit 0")
    ran = tools.envsnap("verify", "-C", str(cgo_module), limit=60, ENVSNAP_NO_CACHE="1")
    assert ran.returncode == 1, ran.stderr
    assert "ld --version` printed more than 64 KiB" in ran.stdout
    locked = tools.envsnap("lock", "-C", str(cgo_module), limit=60, ENVSNAP_NO_CACHE="1")
    assert "ld --version` printed more than 64 KiB" in locked.stderr
    assert len((cgo_module / "envsnap.lock").read_bytes()) < len(good) + 1000


def test_a_pkg_config_killed_by_a_signal_is_a_crash_not_a_missing_library(
    tools: Tools, cgo_module: Path
) -> None:
    tools.fake("pkg-config", "*", "kill -SEGV $$")
    ran = tools.envsnap("lock", "-C", str(cgo_module), limit=60, ENVSNAP_NO_CACHE="1")
    assert_reported(ran, "pkg-config", "killed by signal 11 (SIGSEGV)")
    assert "cannot find" not in ran.stderr
    assert not (cgo_module / "envsnap.lock").exists()


def test_verify_reports_a_crashing_pkg_config_as_a_crash(tools: Tools, cgo_module: Path) -> None:
    assert tools.envsnap("lock", "-C", str(cgo_module), limit=60).returncode == 0
    tools.fake("pkg-config", "*", "kill -SEGV $$")
    ran = tools.envsnap("verify", "-C", str(cgo_module), limit=60, ENVSNAP_NO_CACHE="1")
    # reported as the crash it is: a one-line refusal (stderr) or the finding of the library
    # that cannot be checked (stdout), never as a library that is missing
    assert ran.returncode in (1, 2), (ran.returncode, ran.stderr)
    assert "Traceback" not in ran.stderr and "internal error" not in ran.stderr, ran.stderr
    said = (ran.stdout + ran.stderr).splitlines()
    assert any("pkg-config" in x and "killed by signal 11 (SIGSEGV)" in x for x in said), said
    assert "cannot find" not in ran.stdout + ran.stderr


def test_a_go_killed_by_a_signal_is_named(tools: Tools, cgo_module: Path) -> None:
    tools.fake("go", "env*", "kill -ABRT $$")
    ran = tools.envsnap("lock", "-C", str(cgo_module), limit=60)
    line = assert_reported(ran, "go env", "killed by signal 6 (SIGABRT)", codes=(2,))
    assert ran.stderr.strip() == line


def test_non_utf8_garbage_from_go_list_is_one_line(tools: Tools, cgo_module: Path) -> None:
    tools.fake("go", "list*", "printf '\\377\\376\\000{garbage\\001'; exit 0")
    ran = tools.envsnap("lock", "-C", str(cgo_module), limit=60, ENVSNAP_NO_CACHE="1")
    assert_reported(ran, "go list -json` printed something that is not JSON")
