"""Forward compatibility and migrations of envsnap.lock.

A lock written by a newer envsnap under the same schema (fields this one does not know, a higher
`envsnap_min`), an entry with a wrong type, and the schema-1 locks envsnap 0.1.0 wrote, kept in
tests/fixtures/locks/schema-1 (never regenerated).
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import tomli_w

from envsnap import lockfile, migrate
from envsnap.errors import LockError
from envsnap.lockfile import parse_lock, render, with_entry
from tests.conftest import FIXTURES, RECORDINGS, envsnap, write_module
from tests.entries import content as as_content

SCHEMA_1 = FIXTURES / "locks" / "schema-1"
LINUX_LOCK = SCHEMA_1 / "linux-amd64-zlib" / "envsnap.lock"
MAC_LOCK = SCHEMA_1 / "darwin-arm64-openssl" / "envsnap.lock"
MAC14 = RECORDINGS / "macos14-arm64-clt-brew-openssl"
NEWER = "0.9.0"  # the version a newer envsnap would stamp on its entries


def as_json(entry: object) -> dict[str, Any]:
    return cast(dict[str, Any], entry)


def recipe_digest(entry: dict[str, Any]) -> str:
    """The digest as docs/lock-format.md tells anyone to compute it."""
    body = {k: v for k, v in entry.items() if k != "digest"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def rewrite_entry(
    lock: Path, change: Callable[[dict[str, Any]], None], redigest: bool = True
) -> str:
    """Change the lock's only entry as a newer envsnap would write it (digest recomputed)."""
    doc = tomllib.loads(lock.read_text())
    ((platform, entry),) = doc["platforms"].items()
    change(entry)
    if redigest:
        entry["digest"] = recipe_digest(entry)
    lock.write_text(tomli_w.dumps(doc))
    return str(platform)


def newer_fields(entry: dict[str, Any]) -> None:
    entry["envsnap"] = NEWER
    entry["bar"] = "a new top-level field"
    entry["go"]["foo"] = 1
    entry["cc"]["compiler"]["flavour"] = "gnu"
    entry["libraries"][0]["abi"] = ["v2"]


@pytest.fixture
def locked(cgo_module: Path) -> Iterator[Path]:
    result = envsnap("lock", "-C", str(cgo_module))
    assert result.returncode == 0, result.stderr
    yield cgo_module


def note_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("envsnap: note:")]


# --- fields a newer envsnap added under the same schema ---------------------------------------


def test_an_unknown_top_level_field_verifies_clean_with_a_note(locked: Path) -> None:
    platform = rewrite_entry(locked / "envsnap.lock", lambda e: e.update(envsnap=NEWER, bar="new"))
    result = envsnap("verify", "-C", str(locked))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"envsnap: {platform} matches envsnap.lock\n"
    assert note_lines(result.stderr) == [
        f"envsnap: note: envsnap.lock's {platform} entry has fields this envsnap does not know "
        f"(bar); they were written by envsnap {NEWER} and are ignored"
    ]


def test_nested_unknown_fields_verify_clean_and_are_named(locked: Path) -> None:
    platform = rewrite_entry(locked / "envsnap.lock", newer_fields)
    for output in ([], ["--json"]):
        result = envsnap("verify", "-C", str(locked), *output)
        assert result.returncode == 0, result.stdout + result.stderr
        (note,) = note_lines(result.stderr)
        assert f"{platform} entry has fields this envsnap does not know (" in note
        named = note.split("(", 1)[1].split(")", 1)[0].split(", ")
        assert sorted(named) == ["bar", "cc.compiler.flavour", "go.foo", "libraries.abi"]
    assert json.loads(result.stdout)["findings"] == []
    quiet = envsnap("verify", "--quiet", "-C", str(locked))
    assert (quiet.returncode, quiet.stderr) == (0, "")


def test_diff_against_live_ignores_unknown_fields_with_the_note(locked: Path) -> None:
    rewrite_entry(locked / "envsnap.lock", newer_fields)
    result = envsnap("diff", "-C", str(locked))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "matches" in result.stdout and len(note_lines(result.stderr)) == 1


def test_unknown_fields_do_not_hide_a_real_drift(locked: Path) -> None:
    def drifted(entry: dict[str, Any]) -> None:
        newer_fields(entry)
        entry["go"]["env"]["CGO_CFLAGS"] = "-O3 -g"

    rewrite_entry(locked / "envsnap.lock", drifted)
    result = envsnap("verify", "--json", "-C", str(locked))
    assert result.returncode == 1, result.stderr
    ids = [f["id"] for f in json.loads(result.stdout)["findings"]]
    assert ids == ["go.env.CGO_CFLAGS"] and len(note_lines(result.stderr)) == 1


def test_the_digest_still_covers_unknown_fields(locked: Path) -> None:
    rewrite_entry(locked / "envsnap.lock", lambda e: e.update(bar="hand-made"), redigest=False)
    result = envsnap("verify", "-C", str(locked))
    assert result.returncode == 2 and "edited by hand" in result.stderr


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda e: e["go"].update(version=3), "go.version"),
        (lambda e: e["libraries"][0].update(used_by="example.com/m/zz"), "libraries.0.used_by"),
        (lambda e: e.update(os="linux"), "os"),
    ],
)
def test_a_wrong_type_of_a_known_field_is_still_refused(
    locked: Path, change: Callable[[dict[str, Any]], None], where: str
) -> None:
    def with_newer(entry: dict[str, Any]) -> None:
        newer_fields(entry)
        change(entry)

    rewrite_entry(locked / "envsnap.lock", with_newer)
    result = envsnap("verify", "-C", str(locked))
    assert result.returncode == 2, result.stdout
    (line,) = result.stderr.splitlines()
    assert f"does not match the lock schema at {where}" in line and "envsnap lock" in line


def test_lock_keeps_an_entry_whose_known_part_is_unchanged(locked: Path) -> None:
    lock = locked / "envsnap.lock"
    rewrite_entry(lock, newer_fields)
    before = lock.read_bytes()
    assert envsnap("lock", "--check", "-C", str(locked)).returncode == 0
    result = envsnap("lock", "-C", str(locked))
    assert result.returncode == 0 and "up to date" in result.stderr
    assert lock.read_bytes() == before


def test_lock_rewrites_a_changed_entry_without_the_fields_it_cannot_compute(
    locked: Path,
) -> None:
    lock = locked / "envsnap.lock"

    def drifted(entry: dict[str, Any]) -> None:
        newer_fields(entry)
        entry["go"]["env"]["CGO_CFLAGS"] = "-O3 -g"

    rewrite_entry(lock, drifted)
    assert envsnap("lock", "-C", str(locked)).returncode == 0
    (entry,) = tomllib.loads(lock.read_text())["platforms"].values()
    assert entry["go"]["env"]["CGO_CFLAGS"] == "-O2 -g"
    assert "bar" not in entry and "foo" not in entry["go"]
    assert entry["digest"] == recipe_digest(entry)


def test_top_level_keys_of_a_newer_envsnap_are_kept(tmp_path: Path) -> None:
    text = MAC_LOCK.read_bytes().replace(b"schema = 1\n", b'schema = 1\nsigned_by = "ci"\n')
    lock = parse_lock(tmp_path / "envsnap.lock", text)
    assert render(lock) == text
    content = as_content({"os": {"goos": "linux", "goarch": "amd64", "name": "linux"}})
    written = render(with_entry(lock, "linux-amd64", content))
    assert tomllib.loads(written.decode())["signed_by"] == "ci"


# --- envsnap_min: the oldest envsnap that reads the lock --------------------------------------


def module_with_lock(tmp_path: Path, text: bytes) -> Path:
    module = write_module(tmp_path / "m", {})
    (module / "envsnap.lock").write_bytes(text)
    return module


@pytest.mark.parametrize("command", [["verify"], ["diff"], ["lock"], ["emit", "--nix"]])
def test_a_lock_for_a_newer_envsnap_is_refused_in_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    text = MAC_LOCK.read_bytes().replace(b"schema = 1\n", b'schema = 1\nenvsnap_min = "99.1"\n')
    module = module_with_lock(tmp_path, text)
    result = envsnap(*command, "-C", str(module))
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.splitlines()
    assert "envsnap.lock needs envsnap 99.1 or newer" in line and "pip install -U" in line
    assert (module / "envsnap.lock").read_bytes() == text


@pytest.mark.parametrize("value", [b"2", b'"latest"', b'"0.4rc1"'])
def test_an_envsnap_min_that_is_not_a_version_is_refused(tmp_path: Path, value: bytes) -> None:
    text = MAC_LOCK.read_bytes().replace(
        b"schema = 1\n", b"schema = 1\nenvsnap_min = " + value + b"\n"
    )
    result = envsnap("verify", "-C", str(module_with_lock(tmp_path, text)))
    assert result.returncode == 2 and "envsnap_min" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_lock_records_envsnap_min_and_rerenders_byte_for_byte(locked: Path) -> None:
    lock = locked / "envsnap.lock"
    doc = tomllib.loads(lock.read_text())
    minimum = tuple(int(part) for part in doc["envsnap_min"].split("."))
    running = envsnap("--version").stdout.split()[1]
    assert minimum <= tuple(int(part) for part in running.split(".")[:3])
    before = lock.read_bytes()
    assert render(parse_lock(lock, before)) == before


def test_the_highest_envsnap_min_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lockfile, "__version__", "0.5.0")
    text = MAC_LOCK.read_bytes().replace(b"schema = 1\n", b'schema = 1\nenvsnap_min = "0.4"\n')
    lock = parse_lock(tmp_path / "envsnap.lock", text)
    assert render(lock) == text
    content = as_content({"os": {"goos": "linux", "goarch": "amd64", "name": "linux"}})
    written = render(with_entry(lock, "linux-amd64", content)).decode()
    assert tomllib.loads(written)["envsnap_min"] == "0.4"


# --- migrations --------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", [LINUX_LOCK, MAC_LOCK])
def test_a_schema_1_fixture_migrates_unchanged_and_rerenders(fixture: Path) -> None:
    doc = tomllib.loads(fixture.read_text())
    expected = json.loads(json.dumps(doc))
    assert migrate.migrate(doc) == expected
    lock = parse_lock(fixture, fixture.read_bytes())
    assert lock.platforms == expected["platforms"]
    assert all(lock.digest_ok(name) for name in lock.platforms)
    assert render(lock) == fixture.read_bytes()


def fake_steps(calls: list[int]) -> dict[int, migrate.Step]:
    def one_to_two(doc: migrate.Document) -> migrate.Document:
        calls.append(1)
        for entry in doc["platforms"].values():
            entry["os"]["kernel"] = entry["os"].pop("build", "none")
        return doc

    def two_to_three(doc: migrate.Document) -> migrate.Document:
        calls.append(2)
        assert doc["schema"] == 2
        for entry in doc["platforms"].values():
            entry["os"]["kernel"] = "k-" + entry["os"]["kernel"]
        return doc

    return {2: two_to_three, 1: one_to_two}


def test_fake_steps_run_in_order_and_redigest() -> None:
    calls: list[int] = []
    doc = tomllib.loads(MAC_LOCK.read_text())
    honest = doc["platforms"]["darwin-arm64"]
    hand_made = {**copy.deepcopy(honest), "variant": "x"}  # its digest is honest's: wrong
    doc["platforms"]["darwin-arm64+x"] = hand_made
    out = migrate.migrate(doc, fake_steps(calls), target=3)
    assert calls == [1, 2] and out["schema"] == 3
    entry = out["platforms"]["darwin-arm64"]
    assert entry["os"]["kernel"] == "k-23D56" and "build" not in entry["os"]
    assert entry["digest"] == recipe_digest(entry) != honest["digest"]
    assert entry["envsnap"] == "0.1.0" and list(entry)[:2] == ["envsnap", "digest"]
    edited = out["platforms"]["darwin-arm64+x"]
    assert edited["digest"] == honest["digest"] != recipe_digest(edited)
    assert doc["platforms"]["darwin-arm64"]["os"]["build"] == "23D56"  # the input is untouched


def test_parse_lock_migrates_an_older_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    monkeypatch.setattr(lockfile, "SCHEMA", 2)
    monkeypatch.setattr(migrate, "STEPS", {1: fake_steps(calls)[1]})
    lock = parse_lock(tmp_path / "envsnap.lock", MAC_LOCK.read_bytes())
    assert calls == [1] and lock.schema == 2 and lock.digest_ok("darwin-arm64")
    assert as_json(lock.platforms["darwin-arm64"])["os"]["kernel"] == "23D56"
    written = tomllib.loads(render(lock).decode())
    assert written["schema"] == 2 and written["platforms"] == lock.platforms


def test_a_missing_step_is_a_lock_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lockfile, "SCHEMA", 2)
    monkeypatch.setattr(migrate, "STEPS", {})
    with pytest.raises(LockError, match="cannot migrate a lock from schema 1 to 2"):
        parse_lock(tmp_path / "envsnap.lock", MAC_LOCK.read_bytes())


# --- the schema-1 fixtures, read by this envsnap -----------------------------------------------


def test_the_mac_fixture_verifies_clean_on_its_recording(tmp_path: Path) -> None:
    module = write_module(tmp_path / "app", {}, module="example.com/app")
    (module / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    shutil.copy(MAC_LOCK, module / "envsnap.lock")
    result = envsnap("--replay", str(MAC14), "verify", "--strict", "--json", "-C", str(module))
    assert result.returncode == 0
    # the one field recorded since: said as info, never a drift
    (note,) = json.loads(result.stdout)["findings"]
    assert (note["id"], note["severity"]) == ("apple.developer_dir_realpath", "info")
    assert "did not record this yet" in note["why"]
    shown = envsnap("--replay", str(MAC14), "show", "--json", "-C", str(module))
    live = json.loads(shown.stdout)["snapshot"]
    locked = tomllib.loads(MAC_LOCK.read_text())["platforms"]["darwin-arm64"]
    # Fields added since schema-1 locks were first written are the only difference.
    added_since = {("apple", "developer_dir_realpath"), ("go", "env", "CGO_FFLAGS")}
    for *where, field in added_since:
        locked_table, live_table = locked, live
        for key in where:
            locked_table, live_table = locked_table[key], live_table[key]
        assert field not in locked_table
        live_table.pop(field)
    assert {"envsnap": locked["envsnap"], **live} == {
        k: v for k, v in locked.items() if k != "digest"
    }


def test_the_linux_fixture_is_read_and_compared(tmp_path: Path) -> None:
    changed = tmp_path / "changed.lock"
    changed.write_bytes(LINUX_LOCK.read_bytes())
    rewrite_entry(changed, lambda e: e["go"].update(version="go1.27.0"))
    module = write_module(tmp_path / "m", {})
    result = envsnap("diff", str(LINUX_LOCK), str(changed), "--json", "-C", str(module))
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert [(f["id"], f["locked"], f["live"]) for f in findings] == [
        ("go.version", "go1.26.6", "go1.27.0")
    ]
