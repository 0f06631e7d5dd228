"""A change applied to a replayed machine is what the machine would answer after it: verify on
the changed replay agrees with a recording made after the same change on a real Mac."""

from __future__ import annotations

from pathlib import Path

import pytest

from envsnap.drift import Finding
from envsnap.host import ReplayHost
from envsnap.probes.apple import developer_dir
from tests.conftest import RECORDINGS
from tests.proven.harness import applied, gone, judge, lock_on, verify_on, with_clt_of

XCODE = "/Applications/Xcode_16.app/Contents/Developer"
CLT_SELECTED = RECORDINGS / "macos15-arm64-clt14-xcode16"
XCODE_SELECTED = RECORDINGS / "macos15-arm64-clt14-xcode16-selected"
XCODES = RECORDINGS / "macos15-arm64-xcodes"
CLT_16_4 = RECORDINGS / "macos15.7-arm64-clt16.4"
CLT_26_6 = RECORDINGS / "macos26.3-arm64-clt26.6"
SDK15_KEPT = RECORDINGS / "macos26.3-arm64-clt26.6-sdk15-kept"


def test_selecting_the_locked_xcode_on_a_replay_clears_the_developer_dir_finding(
    tmp_path: Path,
) -> None:
    lock_on(XCODE_SELECTED, tmp_path)
    host = ReplayHost(CLT_SELECTED)
    before = verify_on(host, tmp_path)
    assert any(f.id.startswith("apple.") for f in before)
    like = ReplayHost(XCODE_SELECTED)
    selected, _ = developer_dir(like)
    assert selected is not None and selected.startswith("/Applications/Xcode")
    switched = host.with_developer_dir(selected, like)
    assert switched.run(["xcode-select", "-p"]).out.strip() == selected
    assert verify_on(switched, tmp_path) == []
    assert verify_on(host, tmp_path) == before  # the recording itself is untouched


def test_a_go_variable_set_on_a_replay_is_what_verify_sees(tmp_path: Path) -> None:
    lock_on(XCODES, tmp_path)
    host = ReplayHost(XCODES).with_environ("CGO_CFLAGS", "-O2 -g -DEXTRA")
    (finding,) = verify_on(host, tmp_path)
    assert (finding.id, finding.added) == ("go.env.CGO_CFLAGS", ("-DEXTRA",))
    assert verify_on(host.with_environ("CGO_CFLAGS", "-O2 -g"), tmp_path) == []


def ids(findings: list[Finding]) -> set[str]:
    return {f.id for f in findings} | {i for f in findings for i in f.also}


def test_a_variable_go_env_reports_is_changed_in_go_envs_answer_too() -> None:
    host = ReplayHost(XCODES)
    (command,) = [c for c in host._commands if c["argv"][1:] == ["env"]]
    changed = host.with_environ("CC", "it's clang")
    answer = changed.run(command["argv"], cwd=command["cwd"]).out
    assert "CC='it'\\''s clang'\n" in answer and "CXX='c++'\n" in answer
    assert host.memo_key() != changed.memo_key()


def test_a_package_swapped_in_from_another_recording_brings_its_files() -> None:
    old = ReplayHost(RECORDINGS / "macos14-arm64-clt-brew-openssl")
    new = ReplayHost(RECORDINGS / "macos14-arm64-clt-brew-openssl-3.4.0")
    prefix = "/opt/homebrew/Cellar/openssl@3/"

    def under(host: ReplayHost) -> list[str]:
        return sorted(
            p for t in ("stat", "files") for p in host._m.get(t, {}) if p.startswith(prefix)
        )

    assert under(new) and under(new) != under(old)
    swapped = old.with_files_of(new, prefix)
    assert under(swapped) == under(new)
    assert all(swapped.stat(p) == new.stat(p) for p in under(new))
    assert all(swapped.read_bytes(p) == new.read_bytes(p) for p in under(new))


def test_installing_the_locked_command_line_tools_on_a_replay_clears_the_clt_update(
    tmp_path: Path,
) -> None:
    """The CLT 16.4 → 26.6 upgrade: its one error is proven cleared by the download it offers
    (the CLT 16.4 of a recording that has them, installed over 26.6), on the Mac that kept the
    old SDK and on the one that did not; SDKROOT brings back the SDK it claims and no more."""
    lock_on(CLT_16_4, tmp_path)
    for recording in (SDK15_KEPT, CLT_26_6):
        host = ReplayHost(recording)
        (clt,) = [f for f in verify_on(host, tmp_path) if f.severity == "error"]
        outcome = judge(host, tmp_path, clt)
        assert (clt.id, outcome.verdict) == ("apple.clt_version", "proven")
        assert outcome.detail.startswith('download "Command Line Tools for Xcode 16.4"')
        download = next(a for a in clt.actions if a.kind == "install")
        installed = applied(host, download)
        assert installed is not None
        assert [f.id for f in verify_on(installed, tmp_path)] == ["os.version"]
    host = ReplayHost(SDK15_KEPT)
    (clt,) = [f for f in verify_on(host, tmp_path) if f.severity == "error"]
    (sdkroot,) = [a for a in clt.actions if a.kind == "set"]
    after = applied(host, sdkroot)
    assert after is not None
    assert gone(clt, verify_on(after, tmp_path), sdkroot.clears)
    assert not gone(clt, verify_on(after, tmp_path))  # Apple clang 21 stays: the CLT's own


def test_command_line_tools_are_installed_only_from_a_recording_that_answers_for_them() -> None:
    """A recording where Xcode is selected never ran the CLT's clang: it cannot stand in."""
    host = ReplayHost(CLT_26_6)
    installed = with_clt_of(host, ReplayHost(CLT_16_4))
    assert installed.run(["pkgutil", "--pkg-info=com.apple.pkg.CLTools_Executables"]).out == (
        ReplayHost(CLT_16_4).run(["pkgutil", "--pkg-info=com.apple.pkg.CLTools_Executables"]).out
    )
    assert installed.run(["/usr/bin/cc", "--version"]).out == (
        ReplayHost(CLT_16_4).run(["/usr/bin/cc", "--version"]).out
    )
    with pytest.raises(ValueError, match="did not build with its Command Line Tools"):
        with_clt_of(host, ReplayHost(RECORDINGS / "macos15-arm64-brew-go"))
    with pytest.raises(ValueError, match="has no answer to `xcrun --find clang`"):
        with_clt_of(host, ReplayHost(RECORDINGS / "macos14-arm64-clt-brew-openssl"))
