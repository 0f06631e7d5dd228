"""The merge driver: each platform entry from the side that changed it, conflicts named.

The locks are written by `envsnap lock` against recorded Macs; the expected merge results are
the blocks those runs wrote, and every digest is recomputed here from the recipe in DESIGN.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Result, envsnap, require_tool, write_module
from tests.test_git_repo import (
    MAC,
    MAC_15,
    MAC_OPENSSL_340,
    MAC_X86,
    commit_all,
    git,
    git_run,
    init_repo,
    plain_module,
    replay_lock,
)
from tests.test_platforms import block


def recomputed_digest(entry: dict[str, Any]) -> str:
    content = {k: v for k, v in entry.items() if k != "digest"}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def assert_valid_lock(data: bytes) -> dict[str, Any]:
    assert b"<<<<<<<" not in data and b">>>>>>>" not in data
    platforms: dict[str, Any] = tomllib.loads(data.decode())["platforms"]
    for entry in platforms.values():
        assert entry["digest"] == recomputed_digest(entry)
    return platforms


@pytest.fixture(scope="module")
def locks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, bytes]]:
    """Lock files written by `envsnap lock` from recordings, by the recordings they hold."""
    base = tmp_path_factory.mktemp("locks")
    env = {**os.environ, "HOME": str(base), "XDG_CACHE_HOME": str(base / "cache")}
    steps = {
        "arm64": [MAC],
        "amd64": [MAC_X86],
        "arm64+amd64": [MAC, MAC_X86],
        "arm64-openssl-3.4": [MAC, MAC_OPENSSL_340],
        "arm64-macos15": [MAC, MAC_15],
    }
    made = {}
    for name, recordings in steps.items():
        module = write_module(base / name, {"p.go": "package p\n"})
        for recording in recordings:
            result = envsnap("--replay", str(recording), "lock", "-C", str(module), env=env)
            assert result.returncode == 0, result.stderr
        made[name] = (module / "envsnap.lock").read_bytes()
    yield made


def run_driver(tmp_path: Path, base: bytes, ours: bytes, theirs: bytes) -> tuple[Result, Path]:
    tmp_path.mkdir(exist_ok=True)
    paths = []
    for name, data in (("base", base), ("ours", ours), ("theirs", theirs)):
        path = tmp_path / f".merge_file_{name}"
        path.write_bytes(data)
        paths.append(str(path))
    result = envsnap("merge-driver", *paths, "svc/envsnap.lock")
    return result, Path(paths[1])


def test_each_entry_comes_from_the_side_that_changed_it(
    locks: dict[str, bytes], tmp_path: Path
) -> None:
    base, ours, theirs = locks["arm64"], locks["arm64+amd64"], locks["arm64-openssl-3.4"]
    result, merged_path = run_driver(tmp_path, base, ours, theirs)
    assert (result.returncode, result.stderr) == (0, "")
    merged = merged_path.read_bytes()
    platforms = assert_valid_lock(merged)
    assert sorted(platforms) == ["darwin-amd64", "darwin-arm64"]
    text = merged.decode()
    assert block(text, "darwin-arm64") == block(theirs.decode(), "darwin-arm64")
    assert block(text, "darwin-amd64") == block(ours.decode(), "darwin-amd64")

    swapped, swapped_path = run_driver(tmp_path / "swapped", base, theirs, ours)
    assert swapped.returncode == 0 and swapped_path.read_bytes() == merged

    module = write_module(tmp_path / "m", {"p.go": "package p\n"})
    (module / "envsnap.lock").write_bytes(merged)
    for recording in (MAC_OPENSSL_340, MAC_X86):
        verified = envsnap("--replay", str(recording), "verify", "-C", str(module))
        assert verified.returncode == 0, verified.stdout + verified.stderr


def test_both_sides_added_the_file(locks: dict[str, bytes], tmp_path: Path) -> None:
    result, merged_path = run_driver(tmp_path, b"", locks["amd64"], locks["arm64"])
    assert result.returncode == 0, result.stderr
    assert sorted(assert_valid_lock(merged_path.read_bytes())) == ["darwin-amd64", "darwin-arm64"]


def test_an_entry_removed_on_one_side_stays_removed(
    locks: dict[str, bytes], tmp_path: Path
) -> None:
    both = locks["arm64+amd64"]
    result, merged_path = run_driver(tmp_path, both, both, locks["arm64"])
    assert result.returncode == 0, result.stderr
    assert sorted(assert_valid_lock(merged_path.read_bytes())) == ["darwin-arm64"]


def resolve_keeping_ours(conflicted: str) -> str:
    """What a person does: delete the marker lines and the other side's version."""
    kept, skipping = [], False
    for line in conflicted.splitlines(keepends=True):
        if line.startswith("======="):
            skipping = True
        elif line.startswith(">>>>>>>"):
            skipping = False
        elif not skipping and not line.startswith("<<<<<<<"):
            kept.append(line)
    return "".join(kept)


def test_both_sides_changed_the_same_entry(locks: dict[str, bytes], tmp_path: Path) -> None:
    ours, theirs = locks["arm64-openssl-3.4"], locks["arm64-macos15"]
    result, merged_path = run_driver(tmp_path, locks["arm64"], ours, theirs)
    assert result.returncode == 1
    assert "svc/envsnap.lock: both branches changed the darwin-arm64 entry" in result.stderr
    # the SDK 14.0 → 15.0 came with a Command Line Tools update, which heads it
    assert (
        "Command Line Tools 15.3.0.0.1.1708646388 → 16.2.0.0.1.1733547573 (error)" in result.stderr
    )
    conflicted = merged_path.read_text()
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads(conflicted)
    assert block(ours.decode(), "darwin-arm64") in conflicted
    assert block(theirs.decode(), "darwin-arm64") in conflicted
    resolved = assert_valid_lock(resolve_keeping_ours(conflicted).encode())
    assert resolved == tomllib.loads(ours.decode())["platforms"]


@pytest.mark.parametrize(
    "broken",
    [
        b"schema = 1\n[platforms.darwin-arm64\n",
        b"\xff\xfe not text",
        b'schema = 99\n[platforms.x]\ndigest = "sha256:0"\n',
    ],
    ids=["bad-toml", "not-utf8", "newer-schema"],
)
def test_an_unreadable_side_leaves_ours_untouched(
    locks: dict[str, bytes], tmp_path: Path, broken: bytes
) -> None:
    ours = locks["arm64+amd64"]
    result, merged_path = run_driver(tmp_path, locks["arm64"], ours, broken)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert "envsnap.lock (theirs)" in result.stderr
    assert merged_path.read_bytes() == ours
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".merge_file_base",
        ".merge_file_ours",
        ".merge_file_theirs",
    ]


def test_a_hand_edited_entry_is_not_merged(locks: dict[str, bytes], tmp_path: Path) -> None:
    theirs = locks["arm64-openssl-3.4"].replace(b'sdk_version = "14.0"', b'sdk_version = "14.1"')
    assert theirs != locks["arm64-openssl-3.4"]
    ours = locks["arm64+amd64"]
    result, merged_path = run_driver(tmp_path, locks["arm64"], ours, theirs)
    assert result.returncode == 2 and "edited by hand" in result.stderr
    assert merged_path.read_bytes() == ours


# ---------------------------------------------------------------------------------------------
# With real `git merge`


def merge(repo: Path, branch: str) -> Result:
    proc = git_run(repo, "merge", "--no-edit", branch)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def test_git_merges_two_platforms_locked_on_two_branches(tmp_path: Path) -> None:
    require_tool("go")
    require_tool("gcc")
    repo = init_repo(tmp_path / "repo")
    module = plain_module(repo)
    replay_lock(module, MAC_X86)
    commit_all(repo, "lock darwin-amd64")
    git(repo, "checkout", "-q", "-b", "mac")
    replay_lock(module, MAC)
    commit_all(repo, "lock darwin-arm64")
    git(repo, "checkout", "-q", "main")
    here = envsnap("lock", "-C", str(module))
    assert here.returncode == 0, here.stderr
    commit_all(repo, "lock this machine")

    plain = merge(repo, "mac")
    assert plain.returncode != 0 and "CONFLICT" in plain.stdout  # git's text merge cannot do it
    git(repo, "merge", "--abort")

    assert envsnap("git", "setup", "-C", str(module)).returncode == 0
    commit_all(repo, "merge envsnap.lock per platform")
    merged = merge(repo, "mac")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert git(repo, "status", "--porcelain") == ""
    platforms = assert_valid_lock((module / "envsnap.lock").read_bytes())
    assert len(platforms) == 3 and {"darwin-amd64", "darwin-arm64"} < set(platforms)
    for replay in ([], ["--replay", str(MAC)], ["--replay", str(MAC_X86)]):
        verified = envsnap(*replay, "verify", "-C", str(module))
        assert verified.returncode == 0, verified.stdout + verified.stderr


def test_git_merge_stops_when_both_branches_changed_one_platform(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    module = plain_module(repo / "svc")
    replay_lock(module, MAC)
    assert envsnap("git", "setup", "-C", str(module)).returncode == 0
    commit_all(repo, "lock darwin-arm64")
    git(repo, "checkout", "-q", "-b", "openssl")
    replay_lock(module, MAC_OPENSSL_340)
    commit_all(repo, "openssl 3.4")
    git(repo, "checkout", "-q", "main")
    replay_lock(module, MAC_15)
    commit_all(repo, "macOS 15")

    result = merge(repo, "openssl")
    assert result.returncode != 0
    assert "both branches changed the darwin-arm64 entry" in result.stdout + result.stderr
    assert git(repo, "diff", "--name-only", "--diff-filter=U") == "svc/envsnap.lock\n"
    assert "<<<<<<< ours" in (module / "envsnap.lock").read_text()
