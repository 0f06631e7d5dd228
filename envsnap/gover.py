"""Go toolchain version strings compared as the go command compares them.

A transcription of Go's ``internal/gover`` (``1.21`` < ``1.21rc1`` < ``1.21.0``) and of
``cmd/go/internal/gover``'s ``FromToolchain`` and ``GoModLookup``, so that envsnap predicts the
same toolchain switch as the go command. ``tests/test_gover.py`` holds it to the tables of Go's
own ``gover_test.go`` and ``toolchain_test.go``, read from the Go source at test time.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_KINDS = re.compile(r"([a-z]+)(0|[1-9][0-9]*)?")
_INT = re.compile(r"0|[1-9][0-9]*")


class Version(NamedTuple):
    major: str = ""
    minor: str = ""
    patch: str = ""
    kind: str = ""  # "", "alpha", "beta", "rc"
    pre: str = ""


ZERO = Version()


def _cut_int(text: str) -> tuple[str, str] | None:
    match = re.match(r"[0-9]+", text)
    if match is None or (match[0].startswith("0") and len(match[0]) != 1):
        return None
    return match[0], text[match.end() :]


def _pre_release(text: str) -> tuple[str, str] | None:
    match = _KINDS.fullmatch(text)
    return (match[1], match[2] or "") if match else None


def parse(text: str) -> Version:
    """*text* (``1.21.3``, ``1.22rc1``, no ``go`` prefix) parsed; ZERO when malformed."""
    major = _cut_int(text)
    if major is None:
        return ZERO
    v_major, rest = major
    if not rest:
        return Version(v_major, "0", "0")
    minor = _cut_int(rest[1:]) if rest[0] == "." else None
    if minor is None:
        return ZERO
    v_minor, rest = minor
    if not rest:  # from Go 1.21 on, "1.21" is a language version, not "1.21.0"
        return Version(v_major, v_minor, "0" if cmp_int(v_minor, "21") < 0 else "")
    if rest[0] == ".":  # Go has no pre-release of a patch release: 1.21.3rc1 is malformed
        patch = _cut_int(rest[1:])
        return Version(v_major, v_minor, patch[0]) if patch and not patch[1] else ZERO
    pre = _pre_release(rest)
    return ZERO if pre is None else Version(v_major, v_minor, "", *pre)


def cmp_int(x: str, y: str) -> int:
    """Compare two decimal strings as numbers."""
    if x == y:
        return 0
    if len(x) != len(y):
        return -1 if len(x) < len(y) else 1
    return -1 if x < y else 1


def compare(x: str, y: str) -> int:
    """-1, 0 or 1; malformed versions compare less than well-formed ones (and equal to each
    other). Numbers compare as numbers, whatever their length: 1.9 < 1.10."""
    vx, vy = parse(x), parse(y)
    for a, b in ((vx.major, vy.major), (vx.minor, vy.minor), (vx.patch, vy.patch)):
        if c := cmp_int(a, b):
            return c
    if vx.kind != vy.kind:  # "" < alpha < beta < rc
        return -1 if vx.kind < vy.kind else 1
    return cmp_int(vx.pre, vy.pre)


def is_valid(text: str) -> bool:
    return parse(text) != ZERO


def is_lang(text: str) -> bool:
    """``1.21`` names the language version; ``1.21.0`` is its first release."""
    v = parse(text)
    return v != ZERO and not v.patch and not v.kind and not v.pre


def from_toolchain(name: str) -> str:
    """``go1.21.3-bigcorp`` → ``1.21.3``; ``""`` when *name* names no Go version.

    A name with a path separator names no version: go runs the toolchain it switches to by this
    name, and a name with a slash would be resolved from the working directory instead of PATH
    (CVE-2023-39320; go refuses such names since 1.21.1, and so does envsnap)."""
    if not name.startswith("go") or "/" in name or "\\" in name:
        return ""
    version = re.split(r"[ \t-]", name[2:], maxsplit=1)[0]
    return version if parse(version) != ZERO else ""


# What go's bytes.TrimSpace trims (unicode.IsSpace); str.strip() would also take \x1c-\x1f.
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)


def go_mod_lookup(text: str, key: str) -> str:
    """The value of the first ``go`` or ``toolchain`` line of a go.mod or go.work."""
    for raw in text.split("\n"):
        line = raw.strip(_GO_SPACE)
        rest = line[len(key) :]
        if line.startswith(key) and rest[:1] in (" ", "\t"):
            return rest.split("//", 1)[0].strip(_GO_SPACE)
    return ""


def is_setting(setting: str) -> bool:
    """Whether go accepts *setting* as GOTOOLCHAIN: ``auto``, ``path``, or ``local`` or a Go 1
    toolchain name, optionally followed by ``+auto`` or ``+path`` (cmd/go's toolchain.Select)."""
    default, plus, mode = setting.partition("+")
    if plus and mode not in ("auto", "path"):
        return False
    if default in ("auto", "path", "local"):
        return default == "local" or not plus
    return from_toolchain(default) != "" and (default.startswith("go1") or "-go1" in default)


def pinned_toolchain(version: str, setting: str | None) -> str | None:
    """The GOTOOLCHAIN that runs exactly the Go release *version* and otherwise switches as the
    locked *setting* does: ``auto`` → ``go1.26.6+auto``, ``path`` → ``go1.26.6+path``, ``local``
    → ``go1.26.6`` (never another); a setting that already names a release is kept, and so is
    any setting when *version* names no release (a devel build). None (Go before 1.21) stays,
    and so does a setting go refuses (a lock's ``go1.21.0-/../run.sh`` is never passed on)."""
    if not setting or not is_setting(setting):
        return None
    if from_toolchain(version) == "" or not re.fullmatch(r"go[0-9a-z.]+", version):
        return setting
    default, _, mode = setting.partition("+")
    if default in ("auto", "path") and not mode:
        mode = default
    elif default != "local":
        return setting
    return f"{version}+{mode}" if mode else version
