"""verify's memo of go env and go list: reused only while nothing they depend on changed."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import LIBM_PACKAGE, envsnap, require_tool


@pytest.fixture
def logged_go(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose `go` records each call (then runs the real go)."""
    real = shutil.which(require_tool("go"))
    assert real is not None
    bin_dir, log = tmp_path / "bin", tmp_path / "go-calls.log"
    bin_dir.mkdir()
    (bin_dir / "go").write_text(f'#!/bin/sh\necho "$1" >> {log}\nexec {real} "$@"\n')
    (bin_dir / "go").chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}, log


def calls(log: Path) -> list[str]:
    found = log.read_text().split() if log.exists() else []
    log.unlink(missing_ok=True)
    return found


def test_clean_verify_reuses_go_env_and_go_list(
    cgo_module: Path, logged_go: tuple[dict[str, str], Path]
) -> None:
    env, log = logged_go
    time.sleep(0.1)  # out of the racy window: lock's go list starts at once
    assert envsnap("lock", "-C", str(cgo_module), env=env).returncode == 0
    assert "list" in calls(log)
    assert envsnap("verify", "-C", str(cgo_module), env=env).returncode == 0
    assert calls(log) == []  # lock left go env and go list in the memo
    Path(os.environ["XDG_CACHE_HOME"], "envsnap", "verdicts").unlink()
    assert envsnap("verify", "-C", str(cgo_module), env=env).returncode == 0
    assert calls(log) == []  # answered by the memo, without the verdict


def test_a_new_cgo_package_is_seen_despite_the_cache(
    cgo_module: Path, logged_go: tuple[dict[str, str], Path]
) -> None:
    env, log = logged_go
    assert envsnap("lock", "-C", str(cgo_module), env=env).returncode == 0
    assert envsnap("verify", "-C", str(cgo_module), env=env).returncode == 0
    calls(log)
    (cgo_module / "pp").mkdir()
    (cgo_module / "pp" / "pp.go").write_text(LIBM_PACKAGE.replace("package mm", "package pp"))
    result = envsnap("verify", "-C", str(cgo_module), env=env)
    assert result.returncode == 1 and "example.com/m/pp" in result.stdout
    assert "list" in calls(log)


def test_a_changed_variable_is_seen_despite_the_cache(
    cgo_module: Path, logged_go: tuple[dict[str, str], Path]
) -> None:
    env, _ = logged_go
    assert envsnap("lock", "-C", str(cgo_module), env=env).returncode == 0
    assert envsnap("verify", "-C", str(cgo_module), env=env).returncode == 0
    drifted = {**env, "CGO_LDFLAGS": "-O2 -g -L/opt/x"}
    result = envsnap("verify", "-C", str(cgo_module), env=drifted)
    assert result.returncode == 1 and "CGO_LDFLAGS" in result.stdout
    go_config = Path(env["HOME"], ".config", "go", "env")
    go_config.parent.mkdir(parents=True, exist_ok=True)
    go_config.write_text("CGO_CFLAGS=-O1\n")  # `go env -w` writes here
    result = envsnap("verify", "-C", str(cgo_module), env=env)
    assert result.returncode == 1 and "CGO_CFLAGS" in result.stdout


def test_no_cache_means_every_verify_runs_go(
    cgo_module: Path, logged_go: tuple[dict[str, str], Path]
) -> None:
    env, log = logged_go
    env = {**env, "ENVSNAP_NO_CACHE": "1"}
    assert envsnap("lock", "-C", str(cgo_module), env=env).returncode == 0
    for _ in range(2):
        calls(log)
        assert envsnap("verify", "-C", str(cgo_module), env=env).returncode == 0
        assert sorted(calls(log)) == ["env", "list"]


def test_a_credential_never_reaches_the_cache(cgo_module: Path, isolated_home: Path) -> None:
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    token = "ghp_" + "Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8"
    env = {**os.environ, "CGO_CFLAGS": f"-DTOKEN={token}"}
    assert envsnap("verify", "-C", str(cgo_module), env=env).returncode == 2
    for path in (isolated_home / ".cache").rglob("*"):
        if path.is_file():
            assert token not in path.read_text(errors="replace")


def _cache_files(home: Path) -> list[Path]:
    return [home / ".cache" / "envsnap" / name for name in ("probes.json", "file-hashes.json")]


@pytest.mark.parametrize(
    "content",
    [b"\x00{not json", b'{"version": 2, "entries": {"x": {"manifest": 1, "value": []}}}', b"[]"],
)
def test_a_corrupt_or_foreign_cache_is_discarded_silently(
    cgo_module: Path, isolated_home: Path, content: bytes
) -> None:
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    for path in _cache_files(isolated_home):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    result = envsnap("verify", "-C", str(cgo_module))
    assert (result.returncode, result.stderr) == (0, "")


def test_a_fifo_in_place_of_a_cache_file_is_never_waited_on(
    cgo_module: Path, isolated_home: Path
) -> None:
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    for path in _cache_files(isolated_home):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        os.mkfifo(path)
    result = envsnap("verify", "-C", str(cgo_module), timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_file_hash_cache_is_off_with_no_cache(cgo_module: Path, isolated_home: Path) -> None:
    env = {**os.environ, "ENVSNAP_NO_CACHE": "1"}
    assert envsnap("lock", "-C", str(cgo_module), env=env).returncode == 0
    assert envsnap("verify", "-C", str(cgo_module), env=env).returncode == 0
    assert not any(path.exists() for path in _cache_files(isolated_home))


def test_two_caches_of_one_file_keep_each_others_entries(
    tmp_path: Path, isolated_home: Path
) -> None:
    """verify checks its variants side by side, each with a cache of the same file: the one
    that saves last must not drop what the other saved."""
    from envsnap.host import LocalHost
    from envsnap.probecache import ProbeCache

    watched = tmp_path / "input"
    watched.write_text("x")
    time.sleep(0.2)  # older than the racy window, so the memo keeps what it sees
    host = LocalHost()
    first, second = ProbeCache.for_user(host, os.environ), ProbeCache.for_user(host, os.environ)
    for name, cache in (("first", first), ("second", second)):

        def compute(_: object, answer: str = name) -> dict[str, str]:
            return {"answer": answer}

        cache.memo(name, "key", compute, lambda _: [str(watched)])
    first.save()
    second.save()
    again = ProbeCache.for_user(host, os.environ)
    for name in ("first", "second"):
        found = again.memo(name, "key", lambda _: {"answer": "computed again"})
        assert found == {"answer": name}
    host.close()
