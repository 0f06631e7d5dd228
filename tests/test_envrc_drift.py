"""What `envsnap verify` makes of the two settings the emitted .envrc changes on purpose: a
GOTOOLCHAIN pinning the locked release, an SDKROOT naming the locked SDK by its versioned path."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from envsnap.gover import pinned_toolchain
from tests.entries import compare
from tests.test_drift import BASE, changed

SDKS = "/Library/Developer/CommandLineTools/SDKs"


@pytest.mark.parametrize(
    ("setting", "pinned"),
    [
        ("auto", "go1.26.6+auto"),
        ("local+auto", "go1.26.6+auto"),
        ("path", "go1.26.6+path"),
        ("local+path", "go1.26.6+path"),
        ("local", "go1.26.6"),
        ("go1.25.0+auto", "go1.25.0+auto"),
        ("go1.25.0", "go1.25.0"),
        (None, None),
    ],
)
def test_the_pinned_toolchain_keeps_the_locked_switching(
    setting: str | None, pinned: str | None
) -> None:
    assert pinned_toolchain("go1.26.6", setting) == pinned


def test_a_devel_go_is_never_pinned() -> None:
    assert pinned_toolchain("devel go1.27-4f1b2c3", "auto") == "auto"


def with_toolchain(setting: str, version: str = "go1.22.3") -> dict[str, Any]:
    entry = changed(go__version=version)
    entry["go"]["gotoolchain"] = setting
    return entry


def test_gotoolchain_pinning_the_locked_release_is_info() -> None:
    (finding,) = compare(with_toolchain("auto"), with_toolchain("go1.22.3+auto"))
    assert (finding.id, finding.severity) == ("go.gotoolchain", "info")


@pytest.mark.parametrize(
    ("live", "version"),
    [("local", "go1.22.3"), ("go1.22.3", "go1.22.3"), ("go1.22.5+auto", "go1.22.5")],
)
def test_any_other_gotoolchain_is_still_a_warning(live: str, version: str) -> None:
    findings = compare(with_toolchain("auto"), with_toolchain(live, version))
    toolchain = [f for f in findings if f.id == "go.gotoolchain"]
    assert [f.severity for f in toolchain] == ["warning"]


def sdk(path: str, real: str, source: str | None = None) -> dict[str, Any]:
    entry = copy.deepcopy(BASE)
    entry["apple"].update(sdk_path=path, sdk_realpath=real)
    if source:
        entry["apple"]["sdk_source"] = source
    return entry


def test_sdkroot_naming_the_same_real_sdk_is_info() -> None:
    locked = sdk(f"{SDKS}/MacOSX.sdk", f"{SDKS}/MacOSX14.0.sdk")
    live = sdk(f"{SDKS}/MacOSX14.0.sdk", f"{SDKS}/MacOSX14.0.sdk", "SDKROOT")
    assert {f.severity for f in compare(locked, live)} == {"info"}


def test_sdkroot_naming_another_sdk_of_that_version_is_a_warning() -> None:
    locked = sdk(f"{SDKS}/MacOSX.sdk", f"{SDKS}/MacOSX14.0.sdk")
    live = sdk(f"{SDKS}/MacOSX14.sdk", f"{SDKS}/MacOSX14.sdk", "SDKROOT")
    assert "warning" in {f.severity for f in compare(locked, live)}
