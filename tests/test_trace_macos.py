"""A replayed Mac's warm clean verify asks its host to run nothing (ENVSNAP_TRACE counts), and a
change to any file Apple's tools answer from runs the developer-tools probe again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from envsnap.cli import main

RECORDINGS = Path(__file__).parent / "fixtures" / "recordings"
# no developer dir at all: the probe's answer is an error, asked again every time (not memoised)
NO_TOOLS = "macos14-arm64-clt-missing"
MACS = sorted(p.name for p in RECORDINGS.glob("macos*") if p.name != NO_TOOLS)
APPLE_TOOLS = {"xcode-select", "pkgutil", "xcodebuild", "xcrun"}


def _stamped(name: str) -> list[str]:
    """The paths the recording gives stamps to (see its SOURCES.md)."""
    stats = json.loads((RECORDINGS / name / "host.json").read_text())["stat"]
    return sorted(path for path, info in stats.items() if info and "inode" in info)


CHANGES = [(name, path) for name in MACS for path in _stamped(name)]


class Mac:
    """A copy of a recording, a module to lock on it, and a cache folder of its own."""

    def __init__(self, tmp: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.recording = tmp / name
        shutil.copytree(RECORDINGS / name, self.recording)
        self.module = tmp / "mod"
        self.module.mkdir()
        (self.module / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
        self.traces = tmp / "traces"
        self.traces.mkdir()
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp / "cache"))
        monkeypatch.delenv("ENVSNAP_NO_CACHE", raising=False)
        self.monkeypatch = monkeypatch
        self.count = 0

    def envsnap(self, *args: str) -> tuple[int, list[dict[str, Any]]]:
        """Exit code and trace of one command on the replayed host."""
        self.count += 1
        trace = self.traces / f"{self.count}.jsonl"
        self.monkeypatch.setenv("ENVSNAP_TRACE", str(trace))
        code = main(["--replay", str(self.recording), *args, "-C", str(self.module)])
        lines = trace.read_text().splitlines() if trace.exists() else []
        return code, [json.loads(line) for line in lines]

    def warm(self) -> list[dict[str, Any]]:
        assert self.envsnap("lock")[0] == 0
        assert self.envsnap("verify")[0] == 0
        code, trace = self.envsnap("verify")
        assert code == 0
        return trace

    def edit(self, change: Any) -> None:
        manifest = json.loads((self.recording / "host.json").read_text())
        change(manifest)
        (self.recording / "host.json").write_text(json.dumps(manifest, indent=2))

    def touch(self, path: str) -> None:
        """The file's stamp moves on a second, as a rewrite of it would."""

        def later(manifest: dict[str, Any]) -> None:
            info = manifest["stat"][path]
            info["mtime_ns"] += 1_000_000_000
            info["ctime_ns"] += 1_000_000_000

        self.edit(later)


def runs(trace: list[dict[str, Any]]) -> list[str]:
    return [str(line["argv"][0]) for line in trace if line["call"] == "run"]


@pytest.mark.parametrize("name", MACS)
def test_a_warm_clean_verify_of_a_replayed_mac_runs_no_tool(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    trace = Mac(tmp_path, name, monkeypatch).warm()
    assert trace, "the trace holds the host calls (stamps) of the warm verify"
    assert runs(trace) == []


@pytest.mark.parametrize("name", [*MACS, "debian12-amd64-zlib-example"])
def test_the_verify_right_after_lock_runs_no_tool(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    mac = Mac(tmp_path, name, monkeypatch)
    assert mac.envsnap("lock")[0] == 0
    code, trace = mac.envsnap("verify")
    assert code == 0
    assert trace, "the trace holds the host calls (stamps) of the verify"
    assert runs(trace) == [], "lock left every answer in the memo"


@pytest.mark.parametrize(("name", "path"), CHANGES)
def test_a_changed_apple_file_runs_the_probe_again(
    tmp_path: Path, name: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    mac = Mac(tmp_path, name, monkeypatch)
    mac.warm()
    mac.touch(path)
    code, trace = mac.envsnap("verify")
    assert code == 0
    assert APPLE_TOOLS & set(runs(trace)), f"{path} changed, yet the Apple probe did not run"
    code, trace = mac.envsnap("verify")
    assert (code, runs(trace)) == (0, []), "warm again once the new answer is kept"


def _sdk_settings(name: str) -> str:
    return next(p for p in _stamped(name) if p.endswith("/SDKSettings.json"))


@pytest.mark.parametrize("name", [n for n in MACS if any(p.endswith(".json") for p in _stamped(n))])
def test_a_changed_sdk_is_reported(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mac = Mac(tmp_path, name, monkeypatch)
    mac.warm()
    path = _sdk_settings(name)
    blob = mac.recording / json.loads((mac.recording / "host.json").read_text())["files"][path]
    settings = json.loads(blob.read_text())
    settings["Version"] = "99.1"
    blob.write_text(json.dumps(settings))
    mac.touch(path)
    capsys.readouterr()
    code, trace = mac.envsnap("verify")
    assert code == 1
    assert "99.1" in capsys.readouterr().out
    assert APPLE_TOOLS & set(runs(trace))


RECEIPT = "/var/db/receipts/com.apple.pkg.CLTools_Executables.plist"


@pytest.mark.parametrize("name", [n for n in MACS if RECEIPT in _stamped(n)])
def test_an_updated_clt_receipt_is_reported(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mac = Mac(tmp_path, name, monkeypatch)
    mac.warm()
    manifest = json.loads((mac.recording / "host.json").read_text())
    (pkgutil,) = [c for c in manifest["commands"] if c["argv"][0] == "pkgutil"]
    blob = mac.recording / pkgutil["stdout"]
    old = blob.read_text()
    blob.write_text(old.replace("\nversion: ", "\nversion: 99.9.0.0.1.", 1))
    mac.touch(RECEIPT)
    capsys.readouterr()
    code, trace = mac.envsnap("verify")
    said = capsys.readouterr().out
    assert code == 0, "a CLT update is a warning (the SDK rule reports an SDK change)"
    assert "apple.clt_version" in said
    assert "99.9.0.0.1." in said
    assert "pkgutil" in runs(trace)
