"""Recordings (`--replay DIR`, docs/recording-format.md) of the wrong shape: exit 2, one line."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.hostile.files_common import (
    MAC,
    SPECIAL_KINDS,
    assert_one_line_refusal,
    plant,
    replay_module,
    run_child,
    run_inside,
)

Edit = Callable[[dict[str, Any]], None]


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    return Path(shutil.copytree(MAC, tmp_path / "rec"))


@pytest.fixture
def module(tmp_path: Path) -> Path:
    return replay_module(tmp_path / "m", locked=False)


def _edited(recording: Path, edit: Edit) -> None:
    manifest = json.loads((recording / "host.json").read_text())
    edit(manifest)
    (recording / "host.json").write_text(json.dumps(manifest))


def _first_command(manifest: dict[str, Any]) -> dict[str, Any]:
    command: dict[str, Any] = manifest["commands"][0]
    return command


WRONG_SHAPES: dict[str, Edit] = {
    "commands is an object": lambda m: m.update(commands={"a": 1}),
    "a command is a string": lambda m: m["commands"].insert(0, "go env"),
    "a command without argv": lambda m: _first_command(m).pop("argv"),
    "argv is a string": lambda m: _first_command(m).update(argv="go env"),
    "exit is a string": lambda m: _first_command(m).update(exit="0"),
    "stdout is a number": lambda m: _first_command(m).update(stdout=5),
    "files is a list": lambda m: m.update(files=["a"]),
    "a file is a number": lambda m: m["files"].update({"/etc/x": 5}),
    "a stat is a string": lambda m: m["stat"].update({"/usr/bin/cc": "file"}),
    "a stat without kind": lambda m: m["stat"].update({"/usr/bin/cc": {"size": 1}}),
    "a stat size is a string": lambda m: m["stat"].update(
        {"/usr/bin/cc": {"kind": "file", "size": "1"}}
    ),
    "which is a list": lambda m: m.update(which=[]),
    "an environ value is a number": lambda m: m["environ"].update(HOME=5),
    "digests is a string": lambda m: m.update(digests="sha256:"),
    "realpath is a number": lambda m: m.update(realpath=1),
    "module_dir is a list": lambda m: m.update(module_dir=["/"]),
}


@pytest.mark.parametrize("edit", WRONG_SHAPES.values(), ids=WRONG_SHAPES)
def test_a_recording_of_the_wrong_shape_is_refused(
    capsys: pytest.CaptureFixture[str], recording: Path, module: Path, edit: Edit
) -> None:
    _edited(recording, edit)
    code, stderr = run_inside(capsys, "--replay", str(recording), "show", "-C", str(module))
    assert_one_line_refusal(code, stderr, str(recording))


BROKEN_MANIFESTS = {
    "not UTF-8": b'{"format": "envsnap-recording\xff"}',
    "binary": bytes(range(256)),
    "a list": b"[]",
    "10000 nested lists": b"[" * 10_000 + b"]" * 10_000,
    "truncated": (MAC / "host.json").read_bytes()[:500],
}


@pytest.mark.parametrize("data", BROKEN_MANIFESTS.values(), ids=BROKEN_MANIFESTS)
def test_a_broken_host_json_is_refused(
    capsys: pytest.CaptureFixture[str], recording: Path, module: Path, data: bytes
) -> None:
    (recording / "host.json").write_bytes(data)
    code, stderr = run_inside(capsys, "--replay", str(recording), "show", "-C", str(module))
    assert_one_line_refusal(code, stderr, str(recording))


@pytest.mark.parametrize("kind", SPECIAL_KINDS)
def test_a_special_host_json_is_refused(recording: Path, module: Path, kind: str) -> None:
    plant(recording / "host.json", kind)
    code, stderr = run_child("--replay", str(recording), "show", "-C", str(module))
    assert_one_line_refusal(code, stderr, "recording")


@pytest.mark.parametrize("kind", ["fifo", "dir"])
def test_a_special_blob_is_refused(recording: Path, module: Path, kind: str) -> None:
    manifest = json.loads((recording / "host.json").read_text())
    plant(recording / _first_command(manifest)["stdout"], kind)
    code, stderr = run_child("--replay", str(recording), "show", "-C", str(module))
    assert_one_line_refusal(code, stderr, "recording")


def test_a_blob_outside_the_recording_is_refused(
    capsys: pytest.CaptureFixture[str], recording: Path, module: Path
) -> None:
    _edited(recording, lambda m: _first_command(m).update(stdout="../../../../dev/zero"))
    code, stderr = run_inside(capsys, "--replay", str(recording), "show", "-C", str(module))
    assert_one_line_refusal(code, stderr, "outside the recording")


def test_the_unedited_recording_is_replayed(
    capsys: pytest.CaptureFixture[str], recording: Path, module: Path
) -> None:
    code, stderr = run_inside(capsys, "--replay", str(recording), "show", "-C", str(module))
    assert code == 0, stderr


def test_blobs_that_are_not_utf8_are_no_crash(
    capsys: pytest.CaptureFixture[str], recording: Path, module: Path
) -> None:
    """Every recorded output and file with bytes that are not UTF-8 (nor XML) appended."""
    for blob in [*(recording / "commands").iterdir(), *(recording / "files").iterdir()]:
        if blob.is_file():
            blob.write_bytes(blob.read_bytes() + b"\xff\xfe\x00<garbage")
    for command in (("show",), ("lock",)):
        code, stderr = run_inside(capsys, "--replay", str(recording), *command, "-C", str(module))
        assert "Traceback" not in stderr and "internal error" not in stderr, stderr
        assert code in (0, 1, 2), stderr
