"""The pure comparison: rules, merging and policy, on small hand-made entries."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from envsnap.drift import Policy
from envsnap.host import ReplayHost
from envsnap.probes.libraries import provider
from tests.entries import compare, content

BASE: dict[str, Any] = {
    "os": {
        "goos": "darwin",
        "goarch": "arm64",
        "name": "macos",
        "version": "14.3",
        "build": "23D56",
    },
    "go": {"version": "go1.22.3", "path": "/opt/homebrew/bin/go", "goroot": "/x", "env": {}},
    "cc": {"compiler": {"version": "Apple clang version 15.0.0"}, "linker": {"version": "ld"}},
    "apple": {
        "developer_dir": "/Library/Developer/CommandLineTools",
        "has_xcrun": True,
        "sdk_version": "14.0",
        "sdk_path": "/Library/Developer/CommandLineTools/SDKs/MacOSX.sdk",
    },
    "env": {},
    "cgo": {"packages": []},
    "libraries": [],
}


def changed(**paths: Any) -> dict[str, Any]:
    entry = copy.deepcopy(BASE)
    for dotted, value in paths.items():
        *parents, last = dotted.split("__")
        target = entry
        for key in parents:
            target = target[key]
        target[last] = value
    return entry


def test_identical_entries_have_no_findings() -> None:
    assert compare(BASE, copy.deepcopy(BASE)) == []


def test_go_patch_is_a_warning_and_minor_an_error() -> None:
    (patch,) = compare(BASE, changed(go__version="go1.22.5"))
    assert (patch.id, patch.severity) == ("go.version", "warning")
    (minor,) = compare(BASE, changed(go__version="go1.23.0"))
    assert minor.severity == "error"


def test_a_nix_developer_dir_is_named_as_such() -> None:
    nix_sdk = "/nix/store/8m3w1pqc7kd2b3w9yqbqsj3m2rm7l5hd-apple-sdk-14.4"
    (finding,) = compare(BASE, changed(apple__developer_dir=nix_sdk))
    assert "inside Nix" in finding.why
    (reverse,) = compare(changed(apple__developer_dir=nix_sdk), BASE)
    assert "inside a Nix shell" in reverse.why


def test_differences_on_one_subject_merge_with_the_version_first() -> None:
    live = changed(cc__compiler={"version": "clang 18", "path": "/usr/bin/clang", "sha256": "x"})
    (finding,) = compare(BASE, live)
    assert finding.id == "cc.compiler.version" and finding.live == "clang 18"
    assert set(finding.also) == {"cc.compiler.path", "cc.compiler.sha256"}


def test_policy_overrides_severity_and_ignores() -> None:
    live = changed(apple__clt_version="16.0")
    policy = Policy(severity={"apple.clt_*": "error"})
    (finding,) = compare(changed(apple__clt_version="15.3"), live, policy)
    assert finding.severity == "error"
    ignored = compare(BASE, changed(os__version="14.4"), Policy(ignore=["os.*"]))
    assert ignored == []


def test_a_library_that_appears_is_one_stale_lock_finding() -> None:
    lib = {"name": "png", "found_by": "ldflags", "provider": "system", "used_by": ["m/p"]}
    (finding,) = compare(BASE, changed(libraries=[lib]))
    assert (finding.id, finding.category, finding.severity) == ("libraries.-lpng", "extra", "error")
    assert "m/p now uses -lpng" in finding.why


def test_keg_and_nix_store_providers(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text(
        json.dumps({"format": "envsnap-recording", "version": 1, "system": "linux", "machine": "x"})
    )
    host = ReplayHost(tmp_path)
    nix = "/nix/store/0c8fnz6jkh8f4s3cylm4vqzr1d4ah1lm-zlib-1.3.1/lib/libz.so.1.3.1"
    assert provider(host, nix, "system") == {"provider": "nix:zlib-1.3.1"}
    keg = "/opt/homebrew/Cellar/openssl@3/3.3.1_1/lib/libssl.3.dylib"
    assert provider(host, keg, "system") == {
        "provider": "brew:openssl@3 3.3.1_1",
        "version": "3.3.1_1",
    }
    assert provider(host, "/usr/lib/libz.so", "system") == {"provider": "system"}


def test_a_presentation_field_alone_is_info_for_the_same_tool() -> None:
    """The lock's model declares which tool fields are presentation (how the tool was reached)
    and which its identity; drift follows the declaration for every such field."""
    from envsnap.snapshot import Tool, fields_of_kind

    presentation = fields_of_kind(Tool, "presentation")
    identity = fields_of_kind(Tool, "identity", "version")
    assert set(presentation) == {"command", "path"}
    assert set(identity) == {"realpath", "sha256", "version", "package"}
    tool = {
        "command": "gcc",
        "path": "/usr/bin/gcc",
        "realpath": "/usr/bin/x86_64-linux-gnu-gcc-12",
        "version": "gcc (Debian 12.2.0-14+deb12u1) 12.2.0",
        "sha256": "sha256:" + "ab" * 32,
        "package": "gcc-12 12.2.0-14+deb12u1",
    }
    locked = changed(cc__compiler=tool)
    for name in presentation:
        (finding,) = compare(locked, changed(cc__compiler={**tool, name: "/bin/gcc"}))
        assert (finding.id, finding.severity) == (f"cc.compiler.{name}", "info")
    for name in identity:  # another binary behind the same path is never info
        value = tool[name]
        other = {**tool, "path": "/bin/gcc", name: value[:-1] + ("1" if value[-1] == "0" else "0")}
        (finding,) = compare(locked, changed(cc__compiler=other))
        assert finding.severity in ("error", "warning"), name


def test_a_library_file_without_a_hash_is_shown_by_its_path() -> None:
    lib = {
        "name": "ssl",
        "found_by": "ldflags",
        "provider": "brew:openssl@3 3.3.0",
        "used_by": ["example.com/app"],
        "files": [{"path": "/opt/homebrew/opt/openssl@3/lib/libssl.3.dylib"}],
    }
    moved = {**lib, "files": [{"path": "/opt/homebrew/Cellar/openssl@3/3.3.0/lib/libssl.3.dylib"}]}
    (finding,) = compare(changed(libraries=[lib]), changed(libraries=[moved]))
    document = json.dumps(finding.to_json())
    assert "unknown" not in document
    assert "/opt/homebrew/opt/openssl@3/lib/libssl.3.dylib" in document


def test_lists_are_compared_as_lists_not_as_their_json_text() -> None:
    # a list and a string that spells it in JSON are different values
    (finding,) = compare(changed(go__tags=["netgo"]), changed(go__tags='["netgo"]'))
    assert (finding.locked, finding.live) == (["netgo"], '["netgo"]')


def test_a_value_that_looks_like_json_is_shown_as_it_was_written() -> None:
    (finding,) = compare(changed(env__LIBRARY_PATH="[1]"), changed(env__LIBRARY_PATH="[2]"))
    assert (finding.locked, finding.live) == ("[1]", "[2]")


def test_two_rules_that_could_own_one_field_equally_are_refused() -> None:
    from envsnap.drift.engine import Pack, Rule, RuleBook, const, fixed

    explain = fixed("warning", "why", "fix")
    sdk = Rule(("apple", "sdk_*"), const("SDK"), explain)
    sdk_path = Rule(("apple", "sdk_p*"), const("SDK path"), explain)  # sdk_path: both own it
    with pytest.raises(ValueError, match="two rules own the same fields"):
        RuleBook([Pack("a", (sdk,)), Pack("b", (sdk_path,))])
    RuleBook([Pack("a", (sdk, Rule(("apple", "sdk_path"), const("path"), explain)))])


@pytest.mark.parametrize(
    "paths",
    [
        {"cc__compiler__wrapper": "ccache"},
        {"cc__compiler__sha256": "sha256:" + "1" * 64, "cc__compiler__path": "/usr/bin/cc"},
        {"apple__sdk_version": "15.0", "apple__sdk_path": "/elsewhere"},
        {"go__version": "go1.23.0", "go__goroot": "/y"},
        {"env__DEVELOPER_DIR": "/Applications/Xcode.app/Contents/Developer"},
    ],
)
def test_the_rules_do_not_depend_on_the_order_they_are_declared_in(paths: dict[str, Any]) -> None:
    from dataclasses import replace

    from envsnap.drift import RULEBOOK
    from envsnap.drift.engine import RuleBook
    from envsnap.drift.engine import compare as compare_with

    backwards = RuleBook(
        [replace(pack, rules=tuple(reversed(pack.rules))) for pack in reversed(RULEBOOK.packs)]
    )
    live = changed(**paths)
    assert compare_with(backwards, content(BASE), content(live)) == compare(BASE, live) != []
