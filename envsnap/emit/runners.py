"""The GitHub-hosted runner image of a locked platform's job, from ``github/runner-images.toml``.

A Mac's image is the one whose toolchain matches the lock, in this order: the locked Xcode by its
build (a beta's build names it exactly: ``27A5228h`` is ``/Applications/Xcode_27_beta_4.app`` on
``xcode-27``); the locked Command Line Tools release; an Xcode that ships the locked macOS SDK
(the image's default Xcode first). The job's ``DEVELOPER_DIR`` is then a path the image has. When
no image matches, emit stops (exit 1) naming the closest image, never a path on no runner.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import NotRequired, TypedDict, cast

from envsnap.emit import safe_comment
from envsnap.emit.apple import clt_release, sdk_words, text, xcode_words
from envsnap.entry import AppleSection, Entry
from envsnap.errors import EXIT_DRIFT, EnvsnapError
from envsnap.platforms import for_key
from envsnap.platforms.darwin import DARWIN

CLT = "/Library/Developer/CommandLineTools"
ARCH = {"arm64": "arm64", "amd64": "x64"}


class Xcode(TypedDict):
    """An ``[[image.xcode]]`` row: an Xcode an image has, and the SDKs it ships."""

    version: str
    build: str
    app: str
    sdks: list[str]
    default: NotRequired[bool]


class Image(TypedDict):
    """An ``[[image]]`` row of ``github/runner-images.toml``."""

    label: str
    labels: list[str]
    arch: str
    os: str
    image_version: str
    source: str
    clt: NotRequired[str]
    xcode: NotRequired[list[Xcode]]


class NoRunner(EnvsnapError):
    """No GitHub-hosted image has the locked toolchain: a job elsewhere would verify another."""

    exit_code = EXIT_DRIFT


@dataclass(frozen=True)
class Choice:
    label: str  # runs-on
    developer_dir: str | None = None
    note: str = ""  # what differs from the lock, for a warning


@cache
def images() -> tuple[Image, ...]:
    path = files("envsnap") / "_data" / "github" / "runner-images.toml"
    table = tomllib.loads(path.read_text(encoding="utf-8"))  # envsnap's own, held by its tests
    return tuple(cast(list[Image], table["image"]))


def _numbers(version: object) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", str(version or "")))


def _images(labels: tuple[str, ...], goarch: str) -> Iterator[Image]:
    """The images whose label starts with one of *labels*, for *goarch*, in the table's order."""
    for image in images():
        if image["label"].startswith(labels) and image["arch"] == ARCH.get(goarch):
            yield image


def _macs(goarch: str) -> Iterator[Image]:
    return _images(DARWIN.runner_labels, goarch)


def _xcodes(image: Image) -> list[Xcode]:
    """The image's Xcodes, its default one first."""
    xcodes = list(image.get("xcode", []))
    return sorted(xcodes, key=lambda x: not x.get("default"))


def _developer_dir(app: str) -> str:
    return f"{app}/Contents/Developer"


def _by_build(apple: AppleSection, goarch: str) -> Choice | None:
    build = text(apple, "xcode_build")
    if apple.get("developer_dir_kind") != "xcode" or build is None:
        return None
    for image in _macs(goarch):
        for xcode in _xcodes(image):
            if xcode["build"] == build:
                return Choice(image["label"], _developer_dir(xcode["app"]))
    return None


def _by_clt(apple: AppleSection, goarch: str) -> Choice | None:
    release = clt_release(text(apple, "clt_version"))
    if apple.get("developer_dir_kind") != "clt" or release is None:
        return None
    for image in _macs(goarch):
        if clt_release(image.get("clt")) == release:
            return Choice(image["label"], CLT)
    return None


def _by_sdk(apple: AppleSection, goarch: str) -> Choice | None:
    sdk = text(apple, "sdk_version")
    for image in _macs(goarch):
        for xcode in _xcodes(image):
            if sdk is not None and sdk in xcode.get("sdks", []):
                note = (
                    f"no runner image has the locked {_locked(apple)}; {image['label']} has the "
                    f"locked {sdk_words(apple)} through Xcode {xcode['version']} at {xcode['app']}"
                )
                return Choice(image["label"], _developer_dir(xcode["app"]), note)
    return None


def _locked(apple: AppleSection) -> str:
    if apple.get("developer_dir_kind") == "xcode":
        return xcode_words(apple)
    release = clt_release(text(apple, "clt_version"))
    return f"Command Line Tools {release}" if release else "Command Line Tools"


def _closest(apple: AppleSection, goarch: str) -> str:
    """The image and Xcode whose SDK is nearest the locked one, as words."""
    wanted = _numbers(apple.get("sdk_version")) or _numbers(apple.get("xcode_version"))
    found = [
        (abs(_distance(_numbers(sdk), wanted)), image, xcode, sdk)
        for image in _macs(goarch)
        for xcode in _xcodes(image)
        for sdk in xcode.get("sdks", [])
    ]
    if not found:
        return "none for this architecture"
    _, image, xcode, sdk = min(found, key=lambda f: f[0])
    return f"{image['label']} (Xcode {xcode['version']} at {xcode['app']}, macOS SDK {sdk})"


def _distance(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    pad = max(len(a), len(b), 2)
    left = [*a, *[0] * (pad - len(a))][:2]
    right = [*b, *[0] * (pad - len(b))][:2]
    return (left[0] - right[0]) * 100 + (left[1] - right[1])


def choose(platform: str, entry: Entry) -> Choice | None:
    """The image for *platform*'s job; None for a platform no hosted image runs."""
    system, goarch = for_key(platform), platform.partition("-")[2]
    if not system.runner_labels:
        return None
    if not system.has_developer_tools:
        found = next(_images(system.runner_labels, goarch), None)
        return None if found is None else Choice(found["label"])
    apple = entry.get("apple", AppleSection())
    choice = _by_build(apple, goarch) or _by_clt(apple, goarch) or _by_sdk(apple, goarch)
    if choice is not None:
        return choice
    raise NoRunner(
        safe_comment(
            f"{platform}: no GitHub-hosted runner image has the locked {_locked(apple)} or "
            f"{sdk_words(apple) or 'its SDK'}; the closest is {_closest(apple, goarch)}"
        ),
        "run the job on a self-hosted runner with the locked toolchain, or lock on a Mac whose "
        "Xcode a runner image has (github/runner-images.toml lists them)",
    )
