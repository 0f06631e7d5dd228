"""The findings no rule pack owns offer what a person can do: re-lock (reviewed by hand)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, cast

from envsnap.drift import compare
from envsnap.entry import Content
from envsnap.host import ReplayHost
from envsnap.probes.collect import take_snapshot
from tests.conftest import RECORDINGS, envsnap
from tests.proven.harness import lock_on

RELOCK = {"kind": "relock", "command": "envsnap lock", "manual": True}


def verify_json(recording: Path, module: Path) -> dict[str, Any]:
    result = envsnap("--replay", str(recording), "verify", "--json", "-C", str(module))
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_an_incomplete_lock_offers_a_relock(tmp_path: Path) -> None:
    missing = RECORDINGS / "macos14-arm64-clt-missing"
    lock_on(missing, tmp_path)  # with --allow-incomplete: the compiler probe fails there
    document = verify_json(RECORDINGS / "macos14-arm64-clt-zlib", tmp_path)
    (incomplete,) = [f for f in document["findings"] if f["id"] == "incomplete"]
    assert incomplete["actions"] == [RELOCK]
    text = envsnap(
        "--replay", str(RECORDINGS / "macos14-arm64-clt-zlib"), "verify", "-C", str(tmp_path)
    )
    assert "do: envsnap lock" in text.stdout


def test_a_missing_platform_offers_a_lock_on_this_platform(tmp_path: Path) -> None:
    lock_on(RECORDINGS / "macos12-x86_64-clt", tmp_path)
    document = verify_json(RECORDINGS / "macos14-arm64-clt-zlib", tmp_path)
    (missing,) = document["findings"]
    assert missing["id"] == "platforms.darwin-arm64" and missing["actions"] == [RELOCK]


def test_a_field_no_rule_owns_offers_a_relock() -> None:
    live = take_snapshot(ReplayHost(RECORDINGS / "macos14-arm64-clt-zlib"), "/nonexistent").entry
    locked = cast(dict[str, Any], copy.deepcopy(live))
    locked["future"] = {"field": "recorded by a newer envsnap"}
    (finding,) = compare(cast(Content, locked), live)
    assert finding.id == "future.field" and finding.fix.endswith("if the change is intended")
    assert [a.to_json() for a in finding.actions] == [RELOCK]
