"""Which Go toolchain the user's build runs: the local go, or the one GOTOOLCHAIN switches to.

envsnap runs every go command with ``GOTOOLCHAIN=local`` so that a probe never downloads a
toolchain. The user's ``go build`` does not: under ``GOTOOLCHAIN=auto`` (Go's default) a go.mod
or go.work whose ``toolchain`` or ``go`` line is newer than the local go makes go run that newer
toolchain instead. :func:`select_toolchain` repeats the go command's rule (``Select`` in
cmd/go/internal/toolchain/select.go, https://go.dev/doc/toolchain#select) and :func:`locate`
finds the switched toolchain where go would: on PATH, then (unless the mode is ``path``) in the
module cache. Nothing is ever downloaded.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from envsnap import gover
from envsnap.errors import EnvsnapError, HostError
from envsnap.host import Host

TOOLCHAIN_MODULE = "golang.org/toolchain@v0.0.1"


@dataclass(frozen=True)
class Choice:
    """The toolchain go runs (``"local"`` or a name such as ``go1.26.6``) and why."""

    name: str
    path_only: bool = False  # GOTOOLCHAIN=path or …+path: go searches PATH and never downloads
    reason: str = ""  # what asked for it ("the module's toolchain line"); "" for GOTOOLCHAIN
    setting: str = ""  # the GOTOOLCHAIN setting it came from

    @property
    def switches(self) -> bool:
        return self.name != "local"

    @property
    def why(self) -> str:
        under = f"GOTOOLCHAIN={self.setting}"
        return f"{self.reason} under {under}" if self.reason else under


def _invalid(setting: str, detail: str = "") -> EnvsnapError:
    return EnvsnapError(
        f"invalid GOTOOLCHAIN {setting!r}{detail}",
        "set GOTOOLCHAIN to local, auto, path, goX.Y.Z, goX.Y.Z+auto or goX.Y.Z+path",
    )


def _not_go1(name: str, reason: str) -> EnvsnapError:
    """go stops on a toolchain that is not a Go 1 release (GOTOOLCHAIN=go2, ``go 2.0``)."""
    if not reason:
        return _invalid(name)
    return EnvsnapError(
        f"invalid GOTOOLCHAIN {name!r}: {reason} asks for it, and go refuses a toolchain that is "
        "not a Go 1 release",
        "write a Go 1 version there: go 1.N or toolchain go1.N.P",
    )


def _minimum(setting: str, local: str) -> tuple[str, str, str]:
    """The default toolchain, its version and the mode (``auto``, ``path`` or ``""``)."""
    if setting in ("auto", "path"):
        return local, gover.from_toolchain(local), setting
    low, plus, suffix = setting.partition("+")
    name, version = local, gover.from_toolchain(local)
    if low != "local":
        version = gover.from_toolchain(low)
        if not version:
            raise _invalid(setting, f": invalid minimum toolchain {low!r}" if plus else "")
        name = low
    if plus and suffix not in ("auto", "path"):
        raise _invalid(setting, ": only version suffixes are +auto and +path")
    return name, version, suffix


def _toolchain_version(line: str, file: str) -> str:
    """The version a ``toolchain`` line of *file* (go.mod, go.work) names; an error where go
    stops on it."""
    wanted = gover.from_toolchain(line)
    if wanted and (line.startswith("go") or "-go" in line):
        return wanted
    why = ": a toolchain name never holds a path separator" if re.search(r"[/\\]", line) else ""
    raise EnvsnapError(
        f"invalid toolchain {line!r} in {file}{why}", "write it as `toolchain goX.Y.Z`"
    )


def select_toolchain(
    setting: str | None, local: str, go_line: str, toolchain_line: str, file: str = "go.mod"
) -> Choice:
    """The toolchain ``go build`` runs under GOTOOLCHAIN=*setting* with the local go *local*
    (its GOVERSION) in a module whose go.mod (or go.work: *file*) has these ``go``/``toolchain``
    lines."""
    if not setting or not gover.from_toolchain(local):  # no setting, or a development build
        return Choice("local")
    name, version, mode = _minimum(setting, local)
    reason = ""
    if mode in ("auto", "path") and toolchain_line != "default":
        if toolchain_line:
            wanted = _toolchain_version(toolchain_line, file)
            if gover.compare(wanted, version) > 0:
                name, version, reason = toolchain_line, wanted, "the module's toolchain line"
        if gover.compare(go_line, version) > 0:
            name, reason = f"go{go_line}", "the module's go line"
            if gover.is_lang(go_line) and gover.compare(go_line, "1.21") >= 0:
                name += ".0"  # the first release of language version 1.N is go1.N.0
    if name in ("local", local):
        return Choice("local")
    if not name.startswith("go1") and "-go1" not in name:  # go's last check before it runs one
        raise _not_go1(name, reason)
    path_only = setting == "path" or setting.endswith("+path")
    return Choice(name, path_only, reason, setting)


def toolchain_dir(go_env: dict[str, str], name: str) -> str:
    """Where ``go`` unpacks toolchain *name* in the module cache."""
    platform = f"{go_env.get('GOHOSTOS', '')}-{go_env.get('GOHOSTARCH', '')}"
    return f"{go_env.get('GOMODCACHE', '')}/{TOOLCHAIN_MODULE}-{name}.{platform}"


def executable(host: Host, path: str) -> bool:
    info = host.stat(path)
    return info is not None and info.kind == "file" and bool(info.mode & 0o111)


def locate(host: Host, choice: Choice, go_env: dict[str, str]) -> str:
    """The go binary of *choice*, found as go finds it; a one-line error when go would have to
    download it (envsnap never does)."""
    on_path = host.which(choice.name)
    if on_path is not None:
        return on_path
    if choice.path_only:
        raise HostError(
            f"cannot probe {choice.name}: the build runs it ({choice.why}) and it is not on PATH",
            f"install it (go install golang.org/dl/{choice.name}@latest && {choice.name} download)",
        )
    cached = posixpath.join(toolchain_dir(go_env, choice.name), "bin", "go")
    if executable(host, cached):
        return cached
    raise HostError(
        f"cannot probe {choice.name}: the build switches to it ({choice.why}) and it is not in "
        "the module cache; envsnap never downloads a toolchain",
        "run `go version` in the module once with network access to fetch it, then run envsnap "
        "again",
    )
