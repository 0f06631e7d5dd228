"""Apple's rules: the developer dir, the Command Line Tools, the SDK and Xcode (``apple.*``, and
``DEVELOPER_DIR`` in the environment)."""

from __future__ import annotations

import re
from dataclasses import replace

from envsnap.drift.actions import Action, relock, set_variable
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
    tools,
)
from envsnap.drift.environment import environment, nix_switch, nix_why
from envsnap.drift.finding import NOTHING_TO_DO, RELOCK, Severity, Verdict
from envsnap.drift.xcodes import clang_short, clt_download_name, clt_release, min_macos, runs_on
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
    return _same_shim(d)


# The compiler names macOS answers with an xcrun shim in /usr/bin: each runs the selected
# developer dir's clang or clang++ (cc and clang the C compiler, c++ and clang++ the C++ one).
XCRUN_SHIMS = {"CC": ("cc", "clang", "gcc"), "CXX": ("c++", "clang++", "g++")}


def _same_shim(d: Diff) -> bool:
    """CC or CXX naming another xcrun shim of the same compiler: Go's built-in default differs
    between Go builds (Homebrew's go says cc, setup-go's says clang), nothing the build uses."""
    if d.path[:2] != ("go", "env") or d.path[2] not in XCRUN_SHIMS or not _same_devdir(d):
        return False
    shims = XCRUN_SHIMS[d.path[2]]
    if d.locked not in shims or d.live not in shims:
        return False
    was, now = (tools(e).get("compiler") or {} for e in (d.locked_entry, d.live_entry))
    return d.path[2] == "CXX" or (was.get("realpath"), was.get("version")) == (
        now.get("realpath"),
        now.get("version"),
    )


def unchanged(d: Diff) -> tuple[str, str] | None:
    """Why a difference changes nothing the build uses, and the fix (None: it changes)."""
    if not _is_unchanged(d):
        return None
    if _same_shim(d):
        why = (
            f"{d.path[2]} names another xcrun shim ({d.locked} → {d.live}) of the same compiler in "
            "the same developer dir: the Go builds' built-in defaults differ"
        )
        return why, NOTHING_TO_DO.partition(":")[0]
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
    came = _came_with(d)
    severity: Severity = "error" if came else "warning"
    why = _moved(locked, live)
    why += ", which DEVELOPER_DIR names" if _overridden(locked, live) else ""
    why += f": {', '.join(came)}" if came else " (it usually brings another compiler and SDK)"
    if (cannot := _cannot_run(d)) is not None:
        return (severity, f"{why}; {cannot}", f"{RELOCK} on this Mac")
    if _overridden(locked, live):
        return (severity, why, _unset_fix(locked))
    return (severity, why, _switch_back_fix(locked))


def _overridden(locked: AppleSection, live: AppleSection) -> bool:
    """DEVELOPER_DIR chooses the developer dir here; xcode-select chose the locked one."""
    sources = (locked.get("developer_dir_source"), live.get("developer_dir_source"))
    return sources == ("xcode-select", "DEVELOPER_DIR")


def _unset_fix(locked: AppleSection) -> str:
    return (
        "set DEVELOPER_DIR to the locked developer dir where it is installed, or unset it if "
        f"xcode-select selects that one ({_getting(locked)} where it is not), or {RELOCK}"
    )


def _developer_dir_env(d: Diff) -> Verdict:
    if apple_of(d.locked_entry) and apple_of(d.live_entry):
        return _developer_dir(d)
    return environment(d)


def _moved(locked: AppleSection, live: AppleSection) -> str:
    """The switch in a person's words: Xcode updated, appeared or disappeared, versions first."""
    was, now = _toolchain_named(locked), _toolchain_named(live)
    if locked.get("xcode_version") and live.get("xcode_version"):
        return f"Xcode was {_direction(locked, live)} from {was[6:]} to {now[6:]}"
    if live.get("xcode_version"):
        return f"Xcode appeared: the developer dir moved from {was} to {now}"
    if locked.get("xcode_version"):
        return f"Xcode disappeared: the developer dir moved from {was} to {now}"
    return f"the developer dir moved from {was} to {now}"


def _toolchain_named(apple: AppleSection) -> str:
    """The developer tools as a person names them: an Xcode by version, the CLT by release."""
    if apple.get("xcode_version"):
        return f"Xcode {_xcode_named(apple)}"
    clt = apple.get("clt_version")
    if _clt_active(apple):
        return f"the Command Line Tools {clt_release(clt)}" if clt else "the Command Line Tools"
    return str(_real_devdir(apple))


def _came_with(d: Diff) -> list[str]:
    """What changed with the developer tools, versions first: the SDK and Apple clang."""
    locked, live = apple_of(d.locked_entry), apple_of(d.live_entry)
    came = []
    was_sdk, now_sdk = locked.get("sdk_version"), live.get("sdk_version")
    if was_sdk and now_sdk and was_sdk != now_sdk:
        came.append(f"SDK {was_sdk} → {now_sdk}")
    was_cc = (tools(d.locked_entry).get("compiler") or {}).get("version")
    now_cc = (tools(d.live_entry).get("compiler") or {}).get("version")
    if was_cc and now_cc and was_cc != now_cc:
        came.append(f"{clang_short(was_cc)} → {clang_short(now_cc)}")
    return came


def _cannot_run(d: Diff) -> str | None:
    """Why the locked Xcode cannot be selected again here: it does not run on this macOS."""
    locked = apple_of(d.locked_entry)
    build, macos = locked.get("xcode_build", ""), (d.live_entry.get("os") or {}).get("version")
    if not build or not macos or runs_on(build, macos) is not False:
        return None
    return (
        f"Xcode {_xcode_named(locked)} cannot run on macOS {macos} (it needs macOS "
        f"{min_macos(build)} or later), so it cannot be selected on this Mac"
    )


def _getting(locked: AppleSection) -> str:
    """How to get *locked*'s developer tools where they are not installed."""
    if locked.get("xcode_version"):
        return f"install Xcode {_xcode_named(locked)} from Apple's downloads page"
    return "install the locked Command Line Tools from Apple's downloads page"


def _switch_back_fix(locked: AppleSection) -> str:
    again = "select the locked developer dir again where it is installed"
    return f"{again} ({_getting(locked)} where it is not), or {RELOCK}"


def _switch_action(apple: AppleSection) -> Action:
    real = str(_real_devdir(apple))
    if apple.get("developer_dir_source") == "DEVELOPER_DIR":
        return set_variable("DEVELOPER_DIR", real)
    return Action(kind="developer-dir", target=_app_of(real), value=apple.get("xcode_build", ""))


# What Apple's own installer of the Command Line Tools is asked for (a dialog a person answers).
XCODE_SELECT_INSTALL = "the Command Line Tools (xcode-select --install)"


def _download(apple: AppleSection) -> Action | None:
    """Apple's download of *apple*'s developer tools, by the name the downloads page gives it."""
    if apple.get("xcode_version"):
        beta = " beta" if apple.get("xcode_beta") else ""
        name = f"Xcode {apple.get('xcode_version')}{beta} ({apple.get('xcode_build')})"
    elif clt := apple.get("clt_version"):
        name = clt_download_name(clt)
    else:
        return None
    return Action(kind="install", target=name, via="apple", manual=True)


def _switch_back(d: Diff) -> tuple[Action, ...]:
    """Select the locked developer dir again (unset DEVELOPER_DIR where it overrides
    xcode-select's choice); the locked tools' download where this Mac may lack them; re-lock."""
    locked, live = apple_of(d.locked_entry), apple_of(d.live_entry)
    if _cannot_run(d) is not None:
        return (relock(),)
    back = _switch_action(locked)
    if _overridden(locked, live):  # DEVELOPER_DIR wins over any xcode-select choice
        back = set_variable("DEVELOPER_DIR", str(_real_devdir(locked)))
    if _clt_active(locked) and locked.get("clt_version") != live.get("clt_version"):
        # the Command Line Tools installed here are another version: selecting them brings
        # back the developer dir, not the locked tools (their download is named in the fix;
        # their installer selects nothing while another developer dir is selected)
        return (replace(back, clears="apple.developer_dir*"), relock())
    download = _download(locked) if locked.get("xcode_version") else None
    return (back, *([download] if download else []), relock())


def _clt_update(d: Diff) -> tuple[Action, ...]:
    """The locked CLT again (a download), the locked SDK where it is still installed, re-lock."""
    locked = apple_of(d.locked_entry)
    download = _download(locked)
    sdk = locked.get("sdk_realpath")
    offered = [download] if download else []
    if sdk and sdk != apple_of(d.live_entry).get("sdk_realpath"):
        offered.append(replace(set_variable("SDKROOT", sdk), clears="apple.sdk_*"))
    return (*offered, relock())


def actions(d: Diff) -> tuple[Action, ...]:
    """The actions of the developer-tools causes, on the field that heads each."""
    if _is_unchanged(d):
        return ()
    if d.path == ("apple", "developer_dir_realpath") and _switched(d):
        return _switch_back(d)
    if d.path == ("apple", "clt_version") and _clt_updated(d):
        return _clt_update(d)
    if d.path == ("apple", "has_xcrun") and d.live is False:  # the developer tools are gone
        download = _download(apple_of(d.locked_entry))
        if download and not _same_devdir(d):  # the tools come back; the choice of them differs
            download = replace(download, clears="apple.has_xcrun")
        return (
            (download,)
            if download
            else (Action(kind="install", target=XCODE_SELECT_INSTALL, manual=True),)
        )
    return ()


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
    if _clt_updated(d):
        return _clt_updated_verdict(d)
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


def _clt_updated_verdict(d: Diff) -> Verdict:
    locked, live = apple_of(d.locked_entry), apple_of(d.live_entry)
    was, now = (
        clt_release(str(locked.get("clt_version"))),
        clt_release(str(live.get("clt_version"))),
    )
    came = _came_with(d)
    severity: Severity = "error" if came else "warning"
    why = f"the Command Line Tools were {_direction_of(was, now)} from {was} to {now}"
    why += f", and with them {', '.join(came)}" if came else ""
    sdk = locked.get("sdk_version")
    keep = f", or set SDKROOT to the locked SDK {sdk} where it is still installed" if sdk else ""
    fix = f'install "Command Line Tools for Xcode {was}" from Apple\'s downloads page{keep}'
    return (severity, why, f"{fix}, or {RELOCK}")


def _direction_of(was: str, now: str) -> str:
    def key(version: str) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", version))

    if key(was) == key(now):
        return "rebuilt"
    return "updated" if key(now) > key(was) else "downgraded"


def _switched(d: Diff) -> bool:
    """The developer dir is another one (not the Nix shell's): its tools and SDK come with it."""
    real, now = _real_devdir(apple_of(d.locked_entry)), _real_devdir(apple_of(d.live_entry))
    return bool(real) and bool(now) and real != now and not nix_switch(real, now)


def _clt_updated(d: Diff) -> bool:
    """The CLT, the developer dir on both sides, changed version."""
    locked, live = apple_of(d.locked_entry), apple_of(d.live_entry)
    was, now = locked.get("clt_version"), live.get("clt_version")
    both = _clt_active(locked) and _clt_active(live) and _same_devdir(d)
    return both and bool(was) and bool(now) and was != now


def _developer_tool(d: Diff) -> bool:
    """A field of the C toolchain that the developer dir provides (its clang, or the xcrun
    shims in /usr/bin)."""
    if d.path[0] != "cc" or len(d.path) < 3 or d.path[2].startswith("wrapper"):
        return False
    roots = [r for r in (_real_devdir(apple_of(e)) for e in (d.locked_entry, d.live_entry)) if r]
    for entry in (d.locked_entry, d.live_entry):
        real = (tools(entry).get(d.path[1]) or {}).get("realpath") or ""
        if real.startswith("/usr/bin/") or any(real.startswith(r + "/") for r in roots):
            return True
    return False


def _of_developer_tools(d: Diff) -> bool:
    """A difference the developer tools explain: theirs, the SDK's files, their compiler."""
    if d.path[0] == "apple":
        return d.path[1] != "has_xcrun"
    return d.path == ("env", "DEVELOPER_DIR") or sdk_owned(d) or _developer_tool(d)


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


def _tools_gone(d: Diff) -> bool:
    """The lock had xcrun and this Mac has none (the Command Line Tools removed, or the
    developer dir pointing at nothing)."""
    was, now = apple_of(d.locked_entry), apple_of(d.live_entry)
    return was.get("has_xcrun") is True and now.get("has_xcrun") is False


def _cause(d: Diff) -> str | None:
    """A developer dir switch, or a CLT update, owns the SDK, Xcode and compiler changes it
    brings; else the SDK's own library files (libz.tbd) join the SDK finding and DEVELOPER_DIR
    joins the developer dir it selects. Developer tools that are gone own everything they
    brought: the SDK, Xcode, the compiler and the linker that cannot run."""
    if _tools_gone(d) and d.path[0] in ("apple", "cc"):
        return "developer tools"
    if _of_developer_tools(d) and _switched(d):
        return "developer dir"
    if _of_developer_tools(d) and _clt_updated(d):
        return "Command Line Tools"
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
    actions=actions,
    headline={"has_xcrun": 0, "sdk_version": 2, "developer_dir_realpath": 2},
)
