"""Fixes as data: each action says what a person types, and a host keeps only the actions it can
carry out (a fix is a promise)."""

from __future__ import annotations

import shlex
import subprocess

from envsnap.checking import doable
from envsnap.drift import Finding
from envsnap.drift.actions import APPLE_DOWNLOADS, Action, relock, set_variable, unset_variable
from envsnap.host import ReplayHost
from tests.conftest import RECORDINGS

XCODES = RECORDINGS / "macos15-arm64-xcodes"
DEVELOPER = "/Applications/Xcode_16.app/Contents/Developer"
SDK = f"{DEVELOPER}/Platforms/MacOSX.platform/Developer/SDKs/MacOSX.sdk"


def finding(*actions: Action) -> Finding:
    return Finding(
        id="apple.sdk_version",
        subject="macOS SDK",
        category="changed",
        severity="error",
        locked="15.0",
        live="14.5",
        why="w",
        fix="f",
        actions=actions,
    )


def test_a_variable_is_set_as_a_shell_reads_it_back() -> None:
    value = "-O2 -g -I'/opt/my dir'"
    command = set_variable("CGO_CFLAGS", value).command
    shell = subprocess.run(
        ["bash", "-c", f'{command}; printf %s "$CGO_CFLAGS"'], capture_output=True, text=True
    )
    assert shell.stdout == value
    assert set_variable("CC", "clang", via="go-env").command == "go env -w CC=clang"
    assert unset_variable("CC").command == "unset CC"
    assert unset_variable("CC", via="go-env").command == "go env -u CC"


def test_an_install_names_the_package_and_its_version() -> None:
    apt = Action(kind="install", target="zlib1g-dev", value="1:1.2.13.dfsg-1", via="apt")
    assert shlex.split(apt.command) == ["sudo", "apt-get", "install", "zlib1g-dev=1:1.2.13.dfsg-1"]
    clt = Action(
        kind="install", target="Command Line Tools for Xcode 16.4", via="apple", manual=True
    )
    assert '"Command Line Tools for Xcode 16.4"' in clt.command and APPLE_DOWNLOADS in clt.command
    assert relock().manual and relock().command == "envsnap lock"


def test_the_json_of_an_action_carries_its_command() -> None:
    document = finding(set_variable("SDKROOT", SDK)).to_json()
    assert document["actions"] == [
        {
            "kind": "set",
            "command": f"export SDKROOT={SDK}",
            "target": "SDKROOT",
            "value": SDK,
            "via": "env",
            "manual": False,
        }
    ]


def test_a_host_keeps_only_what_it_has() -> None:
    host = ReplayHost(XCODES)
    absent_sdk = SDK.replace("MacOSX.sdk", "MacOSX14.0.sdk")
    missing_dir = "/Applications/Xcode_27_beta_4.app/Contents/Developer"
    offered = finding(
        set_variable("SDKROOT", SDK),
        set_variable("SDKROOT", absent_sdk),
        Action(kind="developer-dir", target=missing_dir),
        relock(),
    )
    (kept,) = doable(host, [offered])
    assert kept.actions == (set_variable("SDKROOT", SDK), relock())


def test_the_text_says_what_a_partial_or_manual_action_is() -> None:
    from dataclasses import replace

    from envsnap.report import render_finding

    sdk = replace(set_variable("SDKROOT", SDK), clears="apple.sdk_*")
    lines = render_finding(finding(sdk, relock(), Action(kind="install", target="x", via="brew")))
    text = "\n".join(lines)
    assert f"do: export SDKROOT={SDK}" in text.replace("\n             ", " ")
    assert "(brings back apple.sdk_* only)" in text.replace("\n             ", " ")
    assert "do: envsnap lock (if the change is intended)" in text
    assert "do: brew install x\n" in text + "\n"
