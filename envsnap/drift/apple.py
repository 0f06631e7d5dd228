"""Apple's rules: the developer dir, the Command Line Tools, the SDK and Xcode (``apple.*``, and
``DEVELOPER_DIR`` in the environment)."""

from __future__ import annotations

import re

from envsnap.drift.engine import (
    ABSENT,
    Diff,
    Pack,
    Rule,
    Side,
    const,
    fixed,
    last,
    library_key,
)
from envsnap.drift.environment import environment, nix_switch, nix_why
from envsnap.drift.finding import NOTHING_TO_DO, RELOCK, Verdict
from envsnap.entry import AppleSection, Content
from envsnap.vocabulary import developer_dir_kind

SDK_SUBJECT = "macOS SDK"
XCRUN_MISSING = (
    "xcrun: error: invalid active developer path ({dir}), missing xcrun at: {dir}/usr/bin/xcrun"
)


def apple_of(entry: Content) -> AppleSection:
    return entry.get("apple") or AppleSection()


def _real_devdir(apple: AppleSection) -> str | None:
    """The developer dir a diff is judged by: its real path, not the symlink it was named by."""
    return apple.get("developer_dir_realpath") or apple.get("developer_dir")


def _same_devdir(d: Diff) -> bool:
    real = _real_devdir(apple_of(d.locked_entry))
    return real is not None and real == _real_devdir(apple_of(d.live_entry))


def _app_of(devdir: str) -> str:
    """What xcode-select --switch is given: the Xcode app, or the developer dir itself."""
    head, found, _ = devdir.partition(".app/Contents/Developer")
    return f"{head}.app" if found else devdir


def _switch(apple: AppleSection) -> str:
    """The command that selects *apple*'s developer dir again, the way the lock selected it."""
    real = str(_real_devdir(apple))
    if apple.get("developer_dir_source") == "DEVELOPER_DIR":
        return f"export DEVELOPER_DIR={real}"
    return f"sudo xcode-select --switch {_app_of(real)}"


def _select_fix(apple: AppleSection) -> str:
    """How to get the locked developer dir (and SDK) back."""
    sdk = apple.get("sdk_realpath")
    also = f"; SDKROOT={sdk} reselects the locked SDK where it is still installed" if sdk else ""
    return f"{_switch(apple)}{also}, or {RELOCK}"


def _clt_active(apple: AppleSection) -> bool:
    kind = apple.get("developer_dir_kind")
    real = _real_devdir(apple)
    return (kind or (developer_dir_kind(real) if real else None)) == "clt"


def _is_unchanged(d: Diff) -> bool:
    """A difference that is no change of the developer tools: a symlink to the same developer dir
    or SDK, or the CLT version while neither side builds with the CLT."""
    locked, live = apple_of(d.locked_entry), apple_of(d.live_entry)
    if d.path in (("apple", "developer_dir"), ("apple", "developer_dir_realpath")):
        return _same_devdir(d)
    if d.path == ("env", "DEVELOPER_DIR") and locked and live:
        same_source = locked.get("developer_dir_source") == live.get("developer_dir_source")
        return _same_devdir(d) and same_source
    if d.path == ("apple", "sdk_path"):
        return _same_sdk(d)
    if d.path == ("apple", "clt_version"):
        return not (_clt_active(locked) or _clt_active(live))
    return False


def unchanged(d: Diff) -> tuple[str, str] | None:
    """Why a difference changes nothing the build uses, and the fix (None: it changes)."""
    if not _is_unchanged(d):
        return None
    if d.path == ("apple", "clt_version"):
        why = (
            "the Command Line Tools changed, but neither side builds with them (an Xcode is the "
            "developer dir)"
        )
        return why, NOTHING_TO_DO
    if d.category == "extra":  # a lock written before envsnap recorded this field
        why = "the lock was written by an envsnap that did not record this yet; nothing changed"
        return why, "nothing to do; the next `envsnap lock` records it"
    return "the same directory, reached through another path (a symlink)", NOTHING_TO_DO


def _developer_dir(d: Diff) -> Verdict:
    locked, live = apple_of(d.locked_entry), apple_of(d.live_entry)
    real, now = _real_devdir(locked), _real_devdir(live)
    if _same_devdir(d):  # only how it was chosen changed
        return (
            "info",
            f"the same developer dir {real}, now chosen by {live.get('developer_dir_source')} "
            f"(locked: {locked.get('developer_dir_source')})",
            f"nothing to do; {RELOCK} to record the new source",
        )
    if nix_switch(real, now):
        return ("warning", nix_why(now), "verify in the same kind of shell the lock was taken in")
    return (
        "warning",
        f"a different developer dir ({real} → {now}; Command Line Tools versus Xcode, or another "
        "Xcode) usually brings another compiler and SDK",
        _select_fix(locked),
    )


def _developer_dir_env(d: Diff) -> Verdict:
    if apple_of(d.locked_entry) and apple_of(d.live_entry):
        return _developer_dir(d)
    return environment(d)


def _has_xcrun(d: Diff) -> Verdict:
    devdir = apple_of(d.live_entry).get("developer_dir", "the developer dir")
    if d.live is False:
        return (
            "error",
            "the developer tools are gone (typical after a macOS upgrade); cgo builds fail with "
            + XCRUN_MISSING.format(dir=devdir),
            "xcode-select --install (or sudo xcode-select --reset), then envsnap verify again",
        )
    return ("info", "xcrun is back in the developer dir", RELOCK)


def _clt_version(d: Diff) -> Verdict:
    if d.category == "missing":
        return (
            "warning",
            "the Command Line Tools package is no longer installed",
            "xcode-select --install, or " + RELOCK,
        )
    return (
        "warning",
        "the Command Line Tools changed (the SDK rule reports an SDK change)",
        RELOCK,
    )


def _sdk_roots(apple: AppleSection) -> tuple[str, ...]:
    found = (apple.get("sdk_path"), apple.get("sdk_realpath"))
    return tuple(root.rstrip("/") + "/" for root in found if root)


def sdk_owned(d: Diff) -> bool:
    """A library file inside the locked or the live SDK (``-lz`` is the SDK's ``libz.tbd``)."""
    if d.path[0] != "libraries" or len(d.path) != 4 or d.path[2] != "files":
        return False
    roots = _sdk_roots(apple_of(d.locked_entry)) + _sdk_roots(apple_of(d.live_entry))
    return d.path[3].startswith(roots)


def _sdk_libraries(entry: Content) -> list[str]:
    """The libraries of *entry* whose files lie in its SDK."""
    roots = _sdk_roots(apple_of(entry))
    if not roots:
        return []
    return [
        library_key(lib)
        for lib in entry.get("libraries", [])
        if any(f["path"].startswith(roots) for f in lib.get("files", []))
    ]


def _sdk_version(d: Diff) -> Verdict:
    locked, live = apple_of(d.locked_entry), apple_of(d.live_entry)
    owned = _sdk_libraries(d.locked_entry)
    why = (
        "cgo compiles against the SDK (-isysroot): its headers and link stubs changed, often "
        "after a macOS or Command Line Tools upgrade"
    )
    if owned:
        why += f"; the libraries the SDK provides ({', '.join(owned)}) changed with it"
    if live.get("sdk_beta"):
        why += f"; the SDK now is a beta (build {live.get('sdk_build')})"
    return (
        "error",
        why,
        _sdk_fix(locked) + ", or envsnap lock once the team agrees on the new SDK",
    )


def _sdk_fix(apple: AppleSection) -> str:
    sdk = apple.get("sdk_realpath")
    switch = _switch(apple)
    if not sdk:
        return switch
    return f"SDKROOT={sdk} reselects the locked SDK where it is still installed; or {switch}"


def _same_sdk(d: Diff) -> bool:
    """Both sides build with the same SDK directory (its real path), however it was named."""
    real = apple_of(d.locked_entry).get("sdk_realpath")
    return bool(real) and real == apple_of(d.live_entry).get("sdk_realpath")


def _sdk_moved(d: Diff) -> Verdict:
    # (an sdk_path alone with the same real path never gets here: see unchanged)
    if d.path[1] == "sdk_source" and _same_sdk(d):
        real = apple_of(d.locked_entry).get("sdk_realpath")
        return (
            "info",
            f"the same SDK ({real}) named by another path (SDKROOT, as the emitted .envrc sets it)",
            "nothing to do",
        )
    return (
        "warning",
        "same SDK version at another path (a different developer dir or SDKROOT)",
        f"{_sdk_fix(apple_of(d.locked_entry))}, or {RELOCK}",
    )


def _sdk_beta(d: Diff) -> Verdict:
    build = apple_of(d.live_entry).get("sdk_build")
    if d.live is True:
        return (
            "warning",
            f"the SDK is a beta (build {build}): a seed SDK is not for shipping",
            _select_fix(apple_of(d.locked_entry)),
        )
    return ("info", "the SDK is no longer a beta", RELOCK)


def _xcode_named(apple: AppleSection) -> str:
    beta = ", a beta" if apple.get("xcode_beta") else ""
    return f"{apple.get('xcode_version')} ({apple.get('xcode_build')}{beta})"


def _xcode_shown(d: Diff) -> tuple[Side, Side]:
    """The Xcode headline: the version with its build beside it."""
    locked, live = apple_of(d.locked_entry), apple_of(d.live_entry)
    return (
        _xcode_named(locked) if locked.get("xcode_version") else ABSENT,
        _xcode_named(live) if live.get("xcode_version") else ABSENT,
    )


def shown(d: Diff) -> tuple[Side, Side] | None:
    """Xcode is shown by its version with its build beside it."""
    if d.path[0] == "apple" and d.path[1].startswith("xcode_"):
        return _xcode_shown(d)
    return None


def _direction(locked: AppleSection, live: AppleSection) -> str:
    def key(apple: AppleSection) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", str(apple.get("xcode_version"))))

    if key(live) == key(locked):
        return "rebuilt"
    return "updated" if key(live) > key(locked) else "downgraded"


def _xcode(d: Diff) -> Verdict:
    locked, live = apple_of(d.locked_entry), apple_of(d.live_entry)
    headline = d.path[1] == "xcode_version" or (
        d.path[1] == "xcode_build" and locked.get("xcode_version") == live.get("xcode_version")
    )
    if not headline:
        return ("info", "part of the Xcode change", RELOCK)
    was, now = _xcode_shown(d)
    if was is ABSENT:
        why = f"Xcode appeared: the developer dir is now Xcode {now}"
    elif now is ABSENT:
        why = f"Xcode disappeared: the lock was taken with Xcode {was}, the developer dir has none"
    else:
        why = f"Xcode was {_direction(locked, live)} from {was} to {now}"
    if live.get("xcode_beta"):
        why += "; a beta Xcode builds with a seed SDK, not for shipping"
    fix = _select_fix(locked) if locked.get("xcode_version") else RELOCK
    return ("warning", why + " (the SDK rule reports an SDK change)", fix)


def _cause(d: Diff) -> str | None:
    """The SDK's own library files (libz.tbd) join the SDK finding; DEVELOPER_DIR joins the
    developer dir it selects."""
    if sdk_owned(d):
        return SDK_SUBJECT
    if d.path == ("env", "DEVELOPER_DIR") and apple_of(d.locked_entry):
        return "developer dir"
    return None


SDK_MISSING = fixed(
    "error",
    "the SDK is missing",
    "xcode-select --install, or select a developer dir that has the SDK",
)

PACK = Pack(
    "Apple",
    rules=(
        Rule(("apple", "has_xcrun"), const("developer tools"), _has_xcrun),
        Rule(("apple", "sdk_version"), const(SDK_SUBJECT), _sdk_version),
        Rule(("apple", "sdk_beta"), const(SDK_SUBJECT), _sdk_beta),
        Rule(("apple", "sdk_error"), const(SDK_SUBJECT), SDK_MISSING),
        Rule(("apple", "sdk_*"), const(SDK_SUBJECT), _sdk_moved),
        Rule(("apple", "developer_dir*"), const("developer dir"), _developer_dir),
        Rule(("apple", "clt_version"), const("Command Line Tools"), _clt_version),
        Rule(("apple", "xcode_*"), const("Xcode"), _xcode),
        Rule(("env", "DEVELOPER_DIR"), last("{} (environment)"), _developer_dir_env),
    ),
    causes=(_cause,),
    unchanged=unchanged,
    shown=shown,
    headline={"has_xcrun": 0, "sdk_version": 2, "developer_dir_realpath": 2},
)
