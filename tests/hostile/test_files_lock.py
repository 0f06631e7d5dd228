"""A hostile envsnap.lock: special files, huge files, TOML that makes tomllib slow or recurse,
truncations and wrong types. Every command that reads the lock must exit 2 with one line."""

from __future__ import annotations

import hashlib
import json
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.hostile.files_common import (
    LOCK_READERS,
    MAC,
    SPECIAL_KINDS,
    assert_one_line_refusal,
    plant,
    replay_module,
    run_child,
    run_inside,
)

PLATFORM = "darwin-arm64"


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bytes of a real lock, written by `envsnap lock` on the recorded Mac."""
    module = replay_module(tmp_path_factory.mktemp("locked") / "m")
    return (module / "envsnap.lock").read_bytes()


@pytest.fixture
def module(tmp_path: Path) -> Path:
    return replay_module(tmp_path / "m", locked=False)


def refused_by(capsys: pytest.CaptureFixture[str], module: Path, *words: str) -> None:
    """Every command that reads the lock refuses it: exit 2, one line naming *words*."""
    for command in LOCK_READERS:
        code, stderr = run_inside(capsys, "--replay", str(MAC), *command, "-C", str(module))
        refused_or_rewritten(command, code, stderr, *words)


def refused_or_rewritten(command: tuple[str, ...], code: int, stderr: str, *words: str) -> None:
    """Refused (exit 2, one line); `lock --check` may instead say that `lock` would replace a
    lock that parses but is not what it would write (exit 1)."""
    if command == ("lock", "--check") and code == 1 and "would change" in stderr:
        return
    assert_one_line_refusal(code, stderr, *words)


@pytest.mark.parametrize("command", LOCK_READERS, ids=" ".join)
@pytest.mark.parametrize("kind", SPECIAL_KINDS)
def test_a_special_file_in_place_of_the_lock_is_refused(
    module: Path, kind: str, command: tuple[str, ...]
) -> None:
    plant(module / "envsnap.lock", kind)
    code, stderr = run_child("--replay", str(MAC), *command, "-C", str(module))
    assert_one_line_refusal(code, stderr, "envsnap.lock")


def test_a_huge_lock_is_refused_quickly(module: Path) -> None:
    with (module / "envsnap.lock").open("wb") as lock:
        lock.truncate(50 * 1024 * 1024)  # sparse: 50 MB of NUL bytes, no disk written
    started = time.monotonic()
    code, stderr = run_child("--replay", str(MAC), "verify", "-C", str(module))
    assert_one_line_refusal(code, stderr, "envsnap.lock", "larger than")
    assert time.monotonic() - started < 10


SLOW_OR_DEEP = {
    "a key of 40000 dotted parts": "x" + ".x" * 40_000 + " = 1\n",
    "a header of 20000 dotted parts": "[x" + ".x" * 20_000 + "]\n",
    "an inline table key of 20000 parts": "y = {x" + ".x" * 20_000 + " = 1}\n",
    "5000 nested arrays": "deep = " + "[" * 5000 + "]" * 5000 + "\n",
    "2000 nested inline tables": "deep = " + "{a = " * 2000 + "1" + "}" * 2000 + "\n",
    "40 nested arrays": "deep = " + "[" * 40 + "]" * 40 + "\n",
}


@pytest.mark.parametrize("tail", SLOW_OR_DEEP.values(), ids=SLOW_OR_DEEP)
def test_toml_that_makes_tomllib_slow_or_recurse_is_refused_at_once(
    capsys: pytest.CaptureFixture[str], module: Path, locked: bytes, tail: str
) -> None:
    head, rest = locked.split(b"\n[", 1)  # the top-level keys, then the tables
    (module / "envsnap.lock").write_bytes(head + b"\n" + tail.encode() + b"\n[" + rest)
    started = time.monotonic()
    refused_by(capsys, module, "envsnap.lock")
    assert time.monotonic() - started < 2  # four commands; the 40000-part key took minutes


def _reparsed_same(truncated: bytes, whole: bytes) -> bool:
    try:
        return tomllib.loads(truncated.decode()) == tomllib.loads(whole.decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False


TRUNCATION_STEP = 7


@pytest.mark.parametrize("which", range(0, 2100, TRUNCATION_STEP))
def test_every_truncation_of_a_real_lock_is_refused(
    capsys: pytest.CaptureFixture[str], module: Path, locked: bytes, which: int
) -> None:
    """Every 7th prefix of a real lock; each goes to one of the commands, in turn."""
    truncated = locked[: min(which, len(locked) - 1)]
    (module / "envsnap.lock").write_bytes(truncated)
    command = LOCK_READERS[which // TRUNCATION_STEP % len(LOCK_READERS)]
    code, stderr = run_inside(capsys, "--replay", str(MAC), *command, "-C", str(module))
    if _reparsed_same(truncated, locked):  # only the final newline was cut
        assert code == (1 if command[0] == "lock" else 0), stderr
    else:
        refused_or_rewritten(command, code, stderr, "envsnap.lock")


def _digest(entry: dict[str, Any]) -> str:
    """The entry digest as docs/lock-format.md defines it, computed here independently."""
    content = {k: v for k, v in entry.items() if k != "digest"}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _with(locked: bytes, section: str, key: str, value: Any) -> bytes:
    """The lock with the entry's *section*.*key* set to *value* and its digest made right."""
    import tomli_w

    doc = tomllib.loads(locked.decode())
    entry = doc["platforms"][PLATFORM]
    target = entry if not section else entry.setdefault(section, {})
    target[key] = value
    entry["digest"] = _digest(entry)
    return tomli_w.dumps(doc).encode()


WRONG_FIELDS = {
    "sdk_version is a number": ("apple", "sdk_version", 14),
    "has_xcrun is a string": ("apple", "has_xcrun", "yes"),
    "cc.compiler is a string": ("cc", "compiler", "clang"),
    "cc is a list": ("", "cc", [1, 2]),
    "apple is a number": ("", "apple", 5),
    "go is a string": ("", "go", "1.22"),
    "env is a list": ("", "env", ["CC"]),
    "incomplete is a table": ("", "incomplete", {"x": 1}),
}


@pytest.mark.parametrize("where", WRONG_FIELDS.values(), ids=WRONG_FIELDS)
def test_a_field_of_the_wrong_type_is_refused(
    capsys: pytest.CaptureFixture[str], module: Path, locked: bytes, where: tuple[str, str, Any]
) -> None:
    (module / "envsnap.lock").write_bytes(_with(locked, *where))
    refused_by(capsys, module)


def _edit(locked: bytes, old: bytes, new: bytes) -> bytes:
    assert old in locked
    return locked.replace(old, new, 1)


BROKEN_LOCKS = {
    "schema is a string": lambda lock: _edit(lock, b"schema = 1", b'schema = "1"'),
    "schema 99": lambda lock: _edit(lock, b"schema = 1", b"schema = 99"),
    "schema 0": lambda lock: _edit(lock, b"schema = 1", b"schema = 0"),
    "no schema": lambda lock: _edit(lock, b"schema = 1", b""),
    "envsnap_min is a number": lambda lock: _edit(
        lock, b'envsnap_min = "0.1.0"', b"envsnap_min = 5"
    ),
    "envsnap_min 99": lambda lock: _edit(lock, b'envsnap_min = "0.1.0"', b'envsnap_min = "99.0"'),
    "platforms is a number": lambda lock: lock.split(b"\n[")[0] + b"\nplatforms = 3\n",
    "a platform twice": lambda lock: lock + b"\n" + lock[lock.index(b"[platforms") :],
    "digest mismatch": lambda lock: _edit(lock, b'"14.0"', b'"14.1"'),
    "digest is a number": lambda lock: _edit(lock, b'digest = "', b'digest = 5\nx = "'),
    "not UTF-8": lambda lock: _edit(lock, b"CommandLineTools", b"Command\xffLineTools"),
    "binary garbage": lambda lock: bytes(range(256)) * 8,
    "conflict markers": lambda lock: b"<<<<<<< ours\n" + lock + b"=======\n>>>>>>> theirs\n",
}


@pytest.mark.parametrize("breaking", BROKEN_LOCKS.values(), ids=BROKEN_LOCKS)
def test_a_broken_lock_is_refused(
    capsys: pytest.CaptureFixture[str], module: Path, locked: bytes, breaking: Any
) -> None:
    (module / "envsnap.lock").write_bytes(breaking(locked))
    refused_by(capsys, module, "envsnap.lock")
