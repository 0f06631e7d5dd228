"""envsnap sbom on hostile input: a lock that is broken, or whole and full of hostile values,
an -o target that is not a file of ours, a BINARY that is not one.

Whatever it is given, sbom either writes a document that passes its format's validator and
carries no control character to the terminal, or exits 2 with one line; it never hangs and
never replaces a file it did not write.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from spdx_tools.spdx.parser.json.json_parser import parse_from_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from envsnap.termsafe import UNSAFE
from tests.conftest import envsnap
from tests.hostile.files_common import (
    HANG_SECONDS,
    MAC,
    SPECIAL_KINDS,
    assert_one_line_refusal,
    plant,
    replay_module,
    run_inside,
)
from tests.hostile.test_files_lock import BROKEN_LOCKS, WRONG_FIELDS

PLATFORM = "darwin-arm64"


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    module = replay_module(tmp_path_factory.mktemp("locked") / "m")
    return (module / "envsnap.lock").read_bytes()


@pytest.fixture
def module(tmp_path: Path, locked: bytes) -> Path:
    root = replay_module(tmp_path / "m", locked=False)
    (root / "envsnap.lock").write_bytes(locked)
    return root


def sbom_inside(capsys: pytest.CaptureFixture[str], module: Path, *args: str) -> tuple[int, str]:
    return run_inside(capsys, "--replay", str(MAC), "sbom", "-C", str(module), *args)


def with_digest(doc: dict[str, Any]) -> bytes:
    """*doc* as TOML with its entry's digest made right (docs/lock-format.md, "Digest")."""
    import tomli_w

    entry = doc["platforms"][PLATFORM]
    content = {k: v for k, v in entry.items() if k != "digest"}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    entry["digest"] = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return tomli_w.dumps(doc).encode()


# --- a broken lock: one line, exit 2 ----------------------------------------------------------


@pytest.mark.parametrize("kind", SPECIAL_KINDS)
def test_a_special_file_in_place_of_the_lock_is_refused(
    capsys: pytest.CaptureFixture[str], module: Path, kind: str
) -> None:
    plant(module / "envsnap.lock", kind)
    started = time.monotonic()
    code, stderr = sbom_inside(capsys, module)
    assert time.monotonic() - started < HANG_SECONDS
    assert_one_line_refusal(code, stderr, "envsnap.lock")


@pytest.mark.parametrize("breaking", BROKEN_LOCKS.values(), ids=BROKEN_LOCKS)
def test_a_broken_lock_is_refused(
    capsys: pytest.CaptureFixture[str], module: Path, locked: bytes, breaking: Any
) -> None:
    (module / "envsnap.lock").write_bytes(breaking(locked))
    assert_one_line_refusal(*sbom_inside(capsys, module), "envsnap.lock")


@pytest.mark.parametrize("where", WRONG_FIELDS.values(), ids=WRONG_FIELDS)
def test_a_field_of_the_wrong_type_is_refused(
    capsys: pytest.CaptureFixture[str], module: Path, locked: bytes, where: tuple[str, str, Any]
) -> None:
    section, key, value = where
    doc = tomllib.loads(locked.decode())
    entry = doc["platforms"][PLATFORM]
    (entry if not section else entry.setdefault(section, {}))[key] = value
    (module / "envsnap.lock").write_bytes(with_digest(doc))
    assert_one_line_refusal(*sbom_inside(capsys, module))


@pytest.mark.parametrize("which", range(0, 2100, 61))
def test_every_truncation_of_a_real_lock_is_refused(
    capsys: pytest.CaptureFixture[str], module: Path, locked: bytes, which: int
) -> None:
    truncated = locked[: min(which, len(locked) - 1)]
    (module / "envsnap.lock").write_bytes(truncated)
    code, stderr = sbom_inside(capsys, module)
    if truncated == locked.rstrip(b"\n"):
        assert code == 0, stderr
    else:
        assert_one_line_refusal(code, stderr)


# --- a whole lock full of hostile values ------------------------------------------------------

ESCAPES = "\x1b]52;c;aGVsbG8=\x07\x1b[2J\u202e\u2028\x9b"
HOSTILE = {
    "name": f"z{ESCAPES}#?@/ %",
    "provider": f"brew:open{ESCAPES} 1.0",
    "version": f"1{ESCAPES}",
    "package": f"zlib1g-dev 1:{ESCAPES}",
    "long": "x" * 100_000,
}


def hostile_lock(locked: bytes) -> bytes:
    doc = tomllib.loads(locked.decode())
    entry = doc["platforms"][PLATFORM]
    (library,) = entry["libraries"]
    library.update(
        name=HOSTILE["name"],
        provider=HOSTILE["provider"],
        version=HOSTILE["version"],
        package=HOSTILE["package"],
        used_by=[f"example.com/app/{ESCAPES}"],
    )
    library["files"] = [{"path": f"/opt/{ESCAPES}/lib#1.dylib"}, {"path": HOSTILE["long"]}]
    entry["cgo"]["packages"][0]["path"] = f"example.com/app/{ESCAPES}"
    entry["cc"]["compiler"]["version"] = f"Apple clang version {ESCAPES}"
    entry["apple"]["sdk_version"] = HOSTILE["long"]
    entry["env"] = {"SDKROOT": ESCAPES}
    return with_digest(doc)


def test_hostile_values_give_a_valid_cyclonedx_document_and_a_safe_terminal(
    module: Path, locked: bytes
) -> None:
    (module / "envsnap.lock").write_bytes(hostile_lock(locked))
    result = envsnap("--replay", str(MAC), "sbom", "-C", str(module))
    assert result.returncode == 0, result.stderr
    assert not {ord(c) for c in result.stdout} & UNSAFE  # escaped as JSON \uXXXX
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(result.stdout) is None
    document = json.loads(result.stdout)
    (library,) = [c for c in document["components"] if c["name"] == HOSTILE["name"]]
    assert library["version"] == HOSTILE["version"] and "purl" not in library
    assert {f["name"] for f in library["components"]} >= {HOSTILE["long"]}


def test_hostile_values_give_a_valid_spdx_document(
    module: Path, locked: bytes, tmp_path: Path
) -> None:
    (module / "envsnap.lock").write_bytes(hostile_lock(locked))
    out = tmp_path / "doc.spdx.json"
    argv = ("--replay", str(MAC), "sbom", "-C", str(module), "--format", "spdx-json")
    result = envsnap(*argv, "-o", str(out))
    assert result.returncode == 0, result.stderr
    parsed = parse_from_file(str(out))
    assert validate_full_spdx_document(parsed) == []
    names = {p.name for p in parsed.packages}
    assert HOSTILE["name"] in names and HOSTILE["long"] in names


# --- where the document goes --------------------------------------------------------------------


@pytest.mark.parametrize("kind", SPECIAL_KINDS)
def test_a_special_file_at_o_is_refused_without_waiting_on_it(
    capsys: pytest.CaptureFixture[str], module: Path, tmp_path: Path, kind: str
) -> None:
    target = tmp_path / "out.json"
    plant(target, kind)
    started = time.monotonic()
    code, stderr = sbom_inside(capsys, module, "-o", str(target))
    assert time.monotonic() - started < HANG_SECONDS
    assert_one_line_refusal(code, stderr, str(target))


def test_a_file_envsnap_did_not_write_is_kept_unless_forced(
    capsys: pytest.CaptureFixture[str], module: Path, tmp_path: Path
) -> None:
    target = tmp_path / "go.mod"
    target.write_text("module precious\n")
    code, stderr = sbom_inside(capsys, module, "-o", str(target))
    assert_one_line_refusal(code, stderr, "not written by envsnap sbom", "--force")
    assert target.read_text() == "module precious\n"
    code, _ = sbom_inside(capsys, module, "-o", str(target), "--force")
    assert code == 0 and json.loads(target.read_text())["bomFormat"] == "CycloneDX"
    code, _ = sbom_inside(capsys, module, "-o", str(target), "--format", "spdx-json")
    assert code == 0 and json.loads(target.read_text())["spdxVersion"] == "SPDX-2.3"


def test_a_folder_that_is_not_there_is_one_line(
    capsys: pytest.CaptureFixture[str], module: Path, tmp_path: Path
) -> None:
    code, stderr = sbom_inside(capsys, module, "-o", str(tmp_path / "no" / "such" / "x.json"))
    assert_one_line_refusal(code, stderr, "cannot write")
    assert os.listdir(tmp_path) == ["m"]


# --- a BINARY that is not one -------------------------------------------------------------------


@pytest.mark.parametrize("kind", [*SPECIAL_KINDS, "empty", "script"])
def test_a_binary_that_is_not_one_is_one_line(
    capsys: pytest.CaptureFixture[str], module: Path, tmp_path: Path, kind: str
) -> None:
    binary = tmp_path / "app"
    if kind == "empty":
        binary.write_bytes(b"")
    elif kind == "script":
        binary.write_text("#!/bin/sh\necho hi\n")
    else:
        plant(binary, kind)
    started = time.monotonic()
    code, stderr = sbom_inside(capsys, module, str(binary), "-o", str(tmp_path / "doc.json"))
    assert time.monotonic() - started < HANG_SECONDS
    assert_one_line_refusal(code, stderr)
    assert not (tmp_path / "doc.json").exists()
