"""How a person gets a locked Xcode, Command Line Tools or SDK back: the names Apple and xcodes use.

- ``xcodes install`` takes a version as ``xcodes list`` prints it: ``16.3`` for a release,
  ``16.3 Beta 2`` for a beta, ``16.3 Beta`` for the first one (xcodes' README: "xcodes install 11
  Beta 7"; a `xcodes list` transcript: "16.3 Beta (16E5104o)", "16.3 Beta 2 (16E5121h)"). A beta is
  numbered in its app's name (``Xcode_16.3_beta_2.app``, xcodes' ``Xcode-16.3.0-Beta.2.app``);
  ``Xcode-beta.app`` does not say which beta it is, so only its build can find it.
- ``xcode-select --install`` installs the newest Command Line Tools, never a chosen version. A
  version is downloaded from developer.apple.com/download/all under Apple's name for it:
  "Command Line Tools for Xcode 15.3" (``Command_Line_Tools_for_Xcode_15.3.dmg``), a ``.0``
  release without it ("Command Line Tools for Xcode 16", ``…_for_Xcode_16.dmg``), and from 26.5 on
  "Command Line Tools 26.5" (``Command_Line_Tools_26.5_Apple_silicon.dmg``); docs/emit.md cites
  the public scripts these names were read from.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Literal

from envsnap.emit import safe_comment
from envsnap.entry import AppleSection

Apple = AppleSection
DOWNLOADS = "developer.apple.com/download/all"
CLT = "/Library/Developer/CommandLineTools"
# The first Command Line Tools Apple names without "for Xcode".
CLT_PLAIN_NAMES_FROM = (26, 5)
_BETA_NUMBER = re.compile(r"beta[ ._-]?(\d+)", re.IGNORECASE)
_VERSION = re.compile(r"\d+(\.\d+)*")
# Where the locked developer dir is named: its real path first.
_DEVELOPER_DIRS: tuple[Literal["developer_dir_realpath", "developer_dir"], ...] = (
    "developer_dir_realpath",
    "developer_dir",
)


TextKey = Literal["xcode_version", "xcode_build", "sdk_version", "sdk_build", "clt_version"]


def text(apple: Apple, key: TextKey) -> str | None:
    """A value of the apple section that can be shown: a version or build, else None."""
    value = apple.get(key)
    if isinstance(value, str) and re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z.]*", value):
        return value
    return None


def app_of(devdir: str) -> str:
    """The Xcode app of a developer dir (``/Applications/Xcode_16.app``), or the dir itself."""
    head, found, _ = devdir.partition(".app/")
    return f"{head}.app" if found else devdir


def beta_number(apple: Apple) -> int | None:
    """Which beta the locked Xcode is, by its app's name; None when the name does not say."""
    for key in _DEVELOPER_DIRS:
        name = PurePosixPath(app_of(apple.get(key) or "")).name
        match = _BETA_NUMBER.search(name)
        if match:
            return int(match[1])
    return None


def xcode_words(apple: Apple) -> str:
    """The locked Xcode as a person names it: ``Xcode 16.3 beta 2 (build 16E5121h)``."""
    version, build = text(apple, "xcode_version"), text(apple, "xcode_build")
    if version is None:
        sdk = sdk_words(apple)
        return f"the Xcode that ships {sdk}" if sdk else "an Xcode"
    words = f"Xcode {version}"
    if apple.get("xcode_beta"):
        number = beta_number(apple)
        words += f" beta {number}" if number else " (a beta)"
    return words + (f" (build {build})" if build else "")


def xcodes_name(apple: Apple) -> str | None:
    """What ``xcodes install`` takes for the locked Xcode; None when it cannot be named."""
    version = text(apple, "xcode_version")
    if version is None:
        return None
    if not apple.get("xcode_beta"):
        return version
    number = beta_number(apple)
    if number is None:
        return None
    return f"{version} Beta" if number == 1 else f"{version} Beta {number}"


def clt_release(package_version: str | None) -> str | None:
    """``15.3`` from the package version ``15.3.0.0.1.1708646388``; ``16`` from ``16.0.0…``."""
    if not package_version or not _VERSION.fullmatch(package_version):
        return None
    parts = package_version.split(".")[:3]
    while len(parts) > 1 and parts[-1] == "0":
        parts.pop()
    return ".".join(parts)


def clt_download_name(package_version: str | None) -> str | None:
    """Apple's download name for a Command Line Tools package version, or None."""
    release = clt_release(package_version)
    if release is None:
        return None
    numbers = tuple(int(p) for p in release.split("."))
    if (*numbers, 0)[:2] >= CLT_PLAIN_NAMES_FROM:
        return f"Command Line Tools {release}"
    return f"Command Line Tools for Xcode {release}"


def sdk_words(apple: Apple) -> str:
    """``macOS SDK 14.0 (build 23A334)``; what the lock holds of it, or ""."""
    version, build = text(apple, "sdk_version"), text(apple, "sdk_build")
    if version is None:
        return ""
    return f"macOS SDK {version}" + (f" (build {build})" if build else "")


def _xcode_fix(apple: Apple, app: str) -> str:
    name = xcodes_name(apple)
    if name is not None:
        where = f"{DOWNLOADS}, or: xcodes install {name}"
    elif apple.get("xcode_beta") and text(apple, "xcode_build"):
        where = f"{DOWNLOADS}; xcodes list names the beta by its build"
    else:
        where = DOWNLOADS
    switch = f"sudo xcode-select --switch {app}"
    return f"install {xcode_words(apple)} as {app} ({where}), then run: {switch}"


def _clt_fix(apple: Apple) -> str:
    name = clt_download_name(text(apple, "clt_version"))
    sdk = sdk_words(apple)
    what = name or (f"the Command Line Tools that ship {sdk}" if sdk else "the Command Line Tools")
    return (
        f"install {what} from {DOWNLOADS} (xcode-select --install installs only the newest "
        f"Command Line Tools), then run: sudo xcode-select --switch {CLT}"
    )


def install_fix(apple: Apple) -> str:
    """How to install and select the locked developer dir again."""
    if apple.get("developer_dir_kind") == "xcode":
        devdir = apple.get("developer_dir_realpath") or apple.get("developer_dir") or ""
        return _xcode_fix(apple, safe_comment(app_of(devdir)) if devdir else "an app")
    return _clt_fix(apple)
