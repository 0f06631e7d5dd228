"""What a person can do about a finding, as data: set or unset a variable, select a developer
directory, install a package at a version, choose a build variant, re-lock, or nothing.

A rule proposes actions; before they are printed, :func:`envsnap.checking.doable` keeps only
those this host can carry out (a developer directory that is installed and runs on this macOS,
an SDK that is there). An action a person must carry out by hand (a download, a re-lock whose
result they review) says so with ``manual``. The JSON report carries the actions as they are
(``actions`` of each finding); the text report prints each one's :attr:`Action.command`.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

ActionKind = Literal["set", "unset", "developer-dir", "install", "variant", "relock", "nothing"]
# How a setting is made or a package installed: the shell's environment or go's own settings
# file (`go env -w`); dpkg's apt, Homebrew, or Apple's downloads page.
Via = Literal["", "env", "go-env", "apt", "brew", "apple"]

APPLE_DOWNLOADS = "https://developer.apple.com/download/all/"


@dataclass(frozen=True, kw_only=True)
class Action:
    kind: ActionKind
    target: str = ""  # the variable, the developer directory, the package, the variant
    value: str = ""  # the variable's value, the package's version
    via: Via = ""
    manual: bool = False  # a person must do it (a download, a re-lock to review)
    # the finding's fields it brings back, as a glob of ids, when not all of them (SDKROOT gives
    # back the locked SDK, not the compiler that left with the old Command Line Tools)
    clears: str = ""

    @property
    def command(self) -> str:
        """What a person types (or does) to carry the action out."""
        return _COMMANDS[self.kind](self)

    def to_json(self) -> dict[str, str | bool]:
        document: dict[str, str | bool] = {"kind": self.kind, "command": self.command}
        for name in ("target", "value", "via", "clears"):
            if getattr(self, name):
                document[name] = getattr(self, name)
        document["manual"] = self.manual
        return document


def _set(action: Action) -> str:
    value = shlex.quote(action.value)
    if action.via == "go-env":
        return f"go env -w {action.target}={value}"
    return f"export {action.target}={value}"


def _unset(action: Action) -> str:
    if action.via == "go-env":
        return f"go env -u {action.target}"
    return f"unset {action.target}"


def _install(action: Action) -> str:
    if action.via == "apt":
        pinned = f"{action.target}={action.value}" if action.value else action.target
        return f"sudo apt-get install {shlex.quote(pinned)}"
    if action.via == "brew":
        return f"brew install {shlex.quote(action.target)}"
    if action.via == "apple":
        return f'download "{action.target}" from {APPLE_DOWNLOADS} and install it'
    return f"install {action.target} {action.value}".rstrip()


_COMMANDS: dict[ActionKind, Callable[[Action], str]] = {
    "set": _set,
    "unset": _unset,
    "developer-dir": lambda a: f"sudo xcode-select --switch {shlex.quote(a.target)}",
    "install": _install,
    "variant": lambda a: f"envsnap verify --variant {shlex.quote(a.target)}",
    "relock": lambda a: "envsnap lock",
    "nothing": lambda a: "",
}


def set_variable(name: str, value: str, via: Via = "env") -> Action:
    return Action(kind="set", target=name, value=value, via=via)


def unset_variable(name: str, via: Via = "env") -> Action:
    return Action(kind="unset", target=name, via=via)


def relock() -> Action:
    return Action(kind="relock", manual=True)


NOTHING = Action(kind="nothing")
