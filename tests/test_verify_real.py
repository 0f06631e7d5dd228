"""`envsnap verify` and `envsnap diff` on this machine, with real drifts made by real tools."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import (
    LIBM_PACKAGE,
    REPO,
    envsnap,
    heavy_imports_of,
    other_go,
    require_tool,
)

SCHEMA = json.loads((REPO / "docs" / "verify.schema.json").read_text())


def verify_json(module: Path, *extra: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = envsnap("verify", "--json", "-C", str(module), *extra, env=env)
    document: dict[str, Any] = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    assert document["exit_code"] == result.returncode
    return document


def finding(document: dict[str, Any], id_prefix: str) -> dict[str, Any]:
    matches = [f for f in document["findings"] if f["id"].startswith(id_prefix)]
    assert matches, f"no finding {id_prefix} in {[f['id'] for f in document['findings']]}"
    found: dict[str, Any] = matches[0]
    return found


def with_env(**values: str) -> dict[str, str]:
    return {**os.environ, **values}


@pytest.fixture
def locked_module(cgo_module: Path) -> Iterator[Path]:
    """A locked cgo module; afterwards, the lock must be byte- and mtime-identical."""
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    lock = cgo_module / "envsnap.lock"
    before = (lock.read_bytes(), lock.stat().st_mtime_ns)
    yield cgo_module
    assert (lock.read_bytes(), lock.stat().st_mtime_ns) == before


def test_clean_verify_prints_one_line(locked_module: Path) -> None:
    result = envsnap("verify", "-C", str(locked_module))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines() == ["envsnap: linux-amd64 matches envsnap.lock"]
    quiet = envsnap("verify", "--quiet", "-C", str(locked_module))
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    document = verify_json(locked_module)
    assert document["ok"] and document["findings"] == []


def test_cgo_cflags_set_after_locking(locked_module: Path) -> None:
    env = with_env(CGO_CFLAGS="-O2 -g -DEXTRA")
    result = envsnap("verify", "-C", str(locked_module), env=env)
    assert result.returncode == 1
    assert "CGO_CFLAGS (go env): added -DEXTRA\n" in result.stdout
    document = verify_json(locked_module, env=env)
    found = finding(document, "go.env.CGO_CFLAGS")
    assert (found["category"], found["severity"]) == ("changed", "error")
    assert (found["locked"], found["live"]) == ("-O2 -g", "-O2 -g -DEXTRA")
    quiet = envsnap("verify", "--quiet", "-C", str(locked_module), env=env)
    assert quiet.returncode == 1 and len(quiet.stderr.strip().splitlines()) == 1


def test_clang_after_locking_with_gcc(locked_module: Path) -> None:
    require_tool("clang")
    document = verify_json(locked_module, env=with_env(CC="clang"))
    assert document["exit_code"] == 1
    compiler = finding(document, "cc.compiler")
    assert compiler["severity"] == "error"
    version = subprocess.run(["clang", "--version"], capture_output=True, text=True, check=True)
    assert compiler["live"] == version.stdout.splitlines()[0]
    # CC names the compiler: its change is part of the compiler's finding, not one of its own
    assert "go.env.CC" in compiler["also"]
    assert [f["subject"] for f in document["findings"]].count("C compiler") == 1


def make_zlib_prefix(prefix: Path) -> Path:
    """A private copy of zlib (the real .so and a .pc pointing at it) for pkg-config to find."""
    real = Path(
        os.path.realpath(
            subprocess.run(
                ["gcc", "-print-file-name=libz.so"], capture_output=True, text=True, check=True
            ).stdout.strip()
        )
    )
    (prefix / "lib" / "pkgconfig").mkdir(parents=True)
    (prefix / "include").mkdir()
    shutil.copy2(real, prefix / "lib" / "libz.so")
    version = subprocess.run(
        ["pkg-config", "--modversion", "zlib"], capture_output=True, text=True, check=True
    ).stdout.strip()
    (prefix / "lib" / "pkgconfig" / "zlib.pc").write_text(
        f"prefix={prefix}\nlibdir=${{prefix}}/lib\nincludedir=${{prefix}}/include\n\n"
        f"Name: zlib\nDescription: private zlib\nVersion: {version}\n"
        "Libs: -L${libdir} -lz\nCflags: -I${includedir}\n"
    )
    return prefix / "lib" / "libz.so"


def test_replaced_library_file_is_named(cgo_module: Path, tmp_path: Path) -> None:
    library = make_zlib_prefix(tmp_path / "prefix")
    env = with_env(PKG_CONFIG_PATH=str(tmp_path / "prefix" / "lib" / "pkgconfig"))
    assert envsnap("lock", "-C", str(cgo_module), env=env).returncode == 0
    assert envsnap("verify", "-C", str(cgo_module), env=env).returncode == 0
    with library.open("ab") as handle:
        handle.write(b"\0rebuilt")
    result = envsnap("verify", "-C", str(cgo_module), env=env)
    assert result.returncode == 1
    assert "zlib" in result.stdout and str(library) in result.stdout
    found = finding(verify_json(cgo_module, env=env), "libraries.zlib.files")
    assert found["severity"] == "error" and str(library) in found["id"]


def test_new_cgo_package_with_a_library_the_lock_lacks(locked_module: Path) -> None:
    require_tool("pkg-config")
    png = LIBM_PACKAGE.replace("package mm", "package pp").replace("-lm", "-lpng")
    (locked_module / "pp").mkdir()
    (locked_module / "pp" / "pp.go").write_text(png)
    document = verify_json(locked_module)
    assert document["exit_code"] == 1
    library = finding(document, "libraries.-lpng")
    assert library["category"] == "extra" and "stale" in library["why"]
    assert "example.com/m/pp" in library["why"]
    assert finding(document, "cgo.packages.example.com/m/pp")["category"] == "extra"


def test_go_minor_change_is_an_error(locked_module: Path) -> None:
    env = with_env(PATH=f"{other_go('ENVSNAP_TEST_GO_OTHER_MINOR')}:{os.environ['PATH']}")
    document = verify_json(locked_module, env=env)
    found = finding(document, "go.version")
    assert found["severity"] == "error" and document["exit_code"] == 1
    assert found["live"].startswith("go1.25.")


def test_go_patch_change_is_a_warning(locked_module: Path) -> None:
    env = with_env(PATH=f"{other_go('ENVSNAP_TEST_GO_OTHER_PATCH')}:{os.environ['PATH']}")
    document = verify_json(locked_module, env=env)
    found = finding(document, "go.version")
    assert (found["severity"], found["live"]) == ("warning", "go1.26.5")
    assert document["summary"]["error"] == 0 and document["exit_code"] == 0
    assert verify_json(locked_module, "--strict", env=env)["exit_code"] == 1


def test_hand_edited_entry_is_refused(locked_module: Path) -> None:
    lock = locked_module / "envsnap.lock"
    original, stat = lock.read_bytes(), lock.stat()
    lock.write_bytes(original.replace(b'CGO_CFLAGS = "-O2 -g"', b'CGO_CFLAGS = "-O3"'))
    try:
        result = envsnap("verify", "-C", str(locked_module))
        assert result.returncode == 2
        assert "linux-amd64" in result.stderr and "edited by hand" in result.stderr
        assert "envsnap lock" in result.stderr and len(result.stderr.splitlines()) == 1
    finally:
        lock.write_bytes(original)
        os.utime(lock, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_missing_platform(cgo_module: Path) -> None:
    lock = cgo_module / "envsnap.lock"
    lock.write_text("schema = 1\n")
    document = verify_json(cgo_module)
    assert document["exit_code"] == 1
    assert finding(document, "platforms.linux-amd64")["category"] == "missing"
    allowed = envsnap("verify", "--allow-missing-platform", "-C", str(cgo_module))
    assert allowed.returncode == 0


def test_no_lock_is_exit_2_with_a_hint(cgo_module: Path) -> None:
    result = envsnap("verify", "-C", str(cgo_module))
    assert result.returncode == 2 and "envsnap lock" in result.stderr


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def comparable(document: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (f["id"], f["category"], f["severity"], json.dumps(f["locked"]), json.dumps(f["live"]))
        for f in document["findings"]
    ]


def test_diff_between_commits_and_recordings_matches_verify(
    locked_module: Path, tmp_path: Path
) -> None:
    require_tool("git")
    repo = locked_module
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=A", "-c", "user.email=a@x", "commit", "-qm", "lock A")
    drifted = with_env(CGO_CFLAGS="-O2 -DB")
    expected = comparable(verify_json(repo, env=drifted))
    assert expected

    recording = tmp_path / "rec"
    assert envsnap("record", str(recording), "-C", str(repo), env=drifted).returncode == 0
    from_recording = envsnap("diff", str(recording), "--json", "-C", str(repo))
    assert from_recording.returncode == 1
    assert comparable(json.loads(from_recording.stdout)) == expected
    replayed = envsnap("--replay", str(recording), "verify", "--json", "-C", str(repo))
    assert comparable(json.loads(replayed.stdout)) == expected

    other = tmp_path / "other"
    shutil.copytree(repo, other)
    assert envsnap("lock", "-C", str(other), env=drifted).returncode == 0
    shutil.copy2(other / "envsnap.lock", tmp_path / "b.lock")
    git(repo, "--work-tree", str(other), "add", "envsnap.lock")
    git(repo, "-c", "user.name=B", "-c", "user.email=b@x", "commit", "-qm", "lock B")
    git(repo, "reset", "-q")  # the work tree of repo keeps lock A
    between = envsnap("diff", "HEAD~1", "HEAD", "--json", "-C", str(repo))
    assert between.returncode == 1, between.stderr
    jsonschema.validate(json.loads(between.stdout), SCHEMA)
    assert comparable(json.loads(between.stdout)) == expected
    assert envsnap("diff", "HEAD", "HEAD", "-C", str(repo)).returncode == 0
    at_rev = verify_json(repo, "--rev", "HEAD", env=drifted)
    assert at_rev["exit_code"] == 0 and at_rev["against"] == "envsnap.lock at HEAD"


def test_clean_verify_never_imports_deepdiff_gitpython_or_pydantic(locked_module: Path) -> None:
    rc, heavy, _ = heavy_imports_of(["verify", "-C", str(locked_module)])
    assert (rc, heavy) == (0, [])
    rc, heavy, _ = heavy_imports_of(["--version"])
    assert (rc, heavy) == (0, [])


def test_verify_works_from_a_subdirectory(locked_module: Path) -> None:
    result = envsnap("verify", "-C", str(locked_module / "zz"))
    assert result.returncode == 0, result.stdout


def test_diff_rev_reads_like_git_diff_rev(locked_module: Path, tmp_path: Path) -> None:
    """`envsnap diff REV` has REV as its base, as `git diff REV` does: a flag added to the lock
    since REV is added, not removed."""
    require_tool("git")
    repo = tmp_path / "repo"
    shutil.copytree(locked_module, repo)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=A", "-c", "user.email=a@x", "commit", "-qm", "lock A")
    assert envsnap("lock", "-C", str(repo), env=with_env(CGO_CFLAGS="-O2 -g -DNEW")).returncode == 0
    result = envsnap("diff", "HEAD", "--json", "-C", str(repo))
    assert result.returncode == 1, result.stderr
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["id"] == "go.env.CGO_CFLAGS"
    assert finding["added"] == ["-DNEW"] and "removed" not in finding
    both = envsnap("diff", "HEAD", "envsnap.lock", "--json", "-C", str(repo))
    assert json.loads(both.stdout)["findings"] == json.loads(result.stdout)["findings"]
