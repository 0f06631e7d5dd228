"""Compare a locked platform entry with a live one: every difference becomes a Finding.

:func:`compare` is pure. deepdiff finds the differences between the two entries (first re-keyed so
that libraries, files and packages are matched by name, not by position); a rule table
(:data:`RULES`) gives each difference a category, a severity, a readable name, why it matters and
the fix. Differences on the same subject (a compiler whose path, version and hash all changed) are
merged into one finding.
"""

from __future__ import annotations

import copy
import fnmatch
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from envsnap import gover
from envsnap.entry import Comparison, Content, GoSection, Library, Tool, fields_of_kind
from envsnap.vocabulary import CGO_VARIABLES, brew_formula
from envsnap.vocabulary import SEVERITY_RANK as SEVERITY_ORDER

Category = Literal["changed", "missing", "extra", "unverifiable"]
Severity = Literal["error", "warning", "info"]
_ABSENT = object()

XCRUN_MISSING = (
    "xcrun: error: invalid active developer path ({dir}), missing xcrun at: {dir}/usr/bin/xcrun"
)


@dataclass(frozen=True)
class Finding:
    """One thing that differs between the lock and the live machine."""

    id: str  # dotted path of the field, e.g. "go.env.CGO_CFLAGS" or "libraries.zlib.version"
    subject: str  # what a person calls it: "CGO_CFLAGS (go env)", "zlib"
    category: Category
    severity: Severity
    locked: Any
    live: Any
    why: str
    fix: str
    also: tuple[str, ...] = ()
    detail: str = ""  # which part of the subject, e.g. the library file that changed
    variant: str = ""  # the build variant whose entry this is (verify sets it)
    # for a list of flags (or a flag variable) that gained or lost entries: just those entries
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    # found under another subject than the cause it was grouped with (never a group's headline
    # while the cause's own difference is there)
    borrowed: bool = field(default=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subject": self.subject,
            "category": self.category,
            "severity": self.severity,
            "locked": self.locked,
            "live": self.live,
            "why": self.why,
            "fix": self.fix,
            "also": list(self.also),
            "detail": self.detail,
            **({"variant": self.variant} if self.variant else {}),
            **({"added": list(self.added)} if self.added else {}),
            **({"removed": list(self.removed)} if self.removed else {}),
        }


@dataclass(frozen=True)
class Policy:
    """Severity overrides and ignored ids from envsnap.toml (globs on finding ids)."""

    severity: Mapping[str, str] = field(default_factory=dict)
    ignore: Sequence[str] = ()


# ---------------------------------------------------------------------------------------------
# Re-keying: lists of records become dicts keyed by identity, lists of strings become one value.


def library_key(lib: Library) -> str:
    return lib["name"] if lib.get("found_by") == "pkg-config" else f"-l{lib['name']}"


def keyed(entry: Mapping[str, Any]) -> dict[str, Any]:
    """*entry* with libraries, files and cgo packages keyed by name/path for a stable diff."""
    skip = ("digest", "envsnap", "incomplete")  # incomplete: its own finding, reported first
    out: dict[str, Any] = {k: v for k, v in entry.items() if k not in skip}
    libraries = {}
    for lib in entry.get("libraries", []):
        item = {k: v for k, v in lib.items() if k not in ("name", "found_by", "files")}
        # a file recorded without a hash (a replayed machine) is compared, and shown, by its path
        item["files"] = {f["path"]: f.get("sha256") or f["path"] for f in lib.get("files", [])}
        if "pc_file" in lib:
            item["pc_file"] = lib["pc_file"].get("sha256", lib["pc_file"].get("path"))
        libraries[library_key(lib)] = item
    out["libraries"] = libraries
    cgo = dict(entry.get("cgo", {}))
    cgo["packages"] = {
        p["path"]: {k: v for k, v in p.items() if k != "path"} for p in cgo.get("packages", [])
    }
    out["cgo"] = cgo
    return out


# ---------------------------------------------------------------------------------------------
# Rules


@dataclass(frozen=True)
class Diff:
    """One raw difference, before a rule explains it."""

    path: tuple[str, ...]
    locked: Any
    live: Any
    locked_entry: Mapping[str, Any]
    live_entry: Mapping[str, Any]

    @property
    def category(self) -> Category:
        if self.locked is _ABSENT:
            return "extra"
        if self.live is _ABSENT:
            return "missing"
        return "changed"


Explain = Callable[[Diff], tuple[Severity, str, str]]


@dataclass(frozen=True)
class Rule:
    pattern: tuple[str, ...]
    subject: Callable[[tuple[str, ...]], str]
    explain: Explain
    depth: int  # how many path parts name the subject (findings on one subject merge)


def _fixed(severity: Severity, why: str, fix: str) -> Explain:
    return lambda d: (severity, why, fix)


RELOCK = "`envsnap lock` if the change is intended"


NOTHING_TO_DO = (
    "nothing to do: the lock keeps the path of the machine that wrote it, and re-locking for a "
    "path alone only moves the difference to a teammate"
)

# What identifies a tool binary. Its path and the command that named it are presentation: the
# same compiler reached through /bin (a merged-/usr symlink) or another PATH entry is the same.
# The kinds are declared on the entry's fields (envsnap.entry).


@functools.cache
def kinds(section: str, *wanted: Comparison) -> tuple[str, ...]:
    """The fields of the entry's *section* ("tool", "go") declared with a *wanted* kind."""
    shape = {"tool": Tool, "go": GoSection}[section]
    return fields_of_kind(shape, *wanted)


_TOOL_LABELS = {"compiler": "C compiler", "linker": "linker", "cxx": "C++ compiler"}
_COMPILER_VARIABLES = {"CC": "compiler", "CXX": "cxx"}


def _tool_of(entry: Mapping[str, Any], tool: str) -> Mapping[str, Any]:
    section = (entry.get("cc") or {}).get(tool)
    return section if isinstance(section, Mapping) else {}


def same_tool(d: Diff, tool: str) -> bool:
    """The locked and the live *tool* ("compiler", "linker", "cxx") are the same binary: equal
    real path, hash and version, and at least a real path or a hash to go by."""
    a, b = _tool_of(d.locked_entry, tool), _tool_of(d.live_entry, tool)
    if not a or not b or "error" in a or "error" in b:
        return False
    if a.get("realpath") is None and a.get("sha256") is None:
        return False
    return all(a.get(key) == b.get(key) for key in kinds("tool", "identity", "version"))


def _tool(tool: str, severity: Severity, why: str, fix: str) -> Explain:
    """A tool field's rule: a path alone that differs, for the same binary, is info."""

    def explain(d: Diff) -> tuple[Severity, str, str]:
        if d.path[-1] in kinds("tool", "presentation") and same_tool(d, tool):
            real = _tool_of(d.live_entry, tool).get("realpath") or "the same file"
            return (
                "info",
                f"the same {_TOOL_LABELS[tool]} ({real}, same hash and version) reached by "
                "another path",
                NOTHING_TO_DO,
            )
        return (severity, why, fix)

    return explain


def _go_installation(d: Diff) -> tuple[Severity, str, str]:
    """Go's path and GOROOT: the same release installed elsewhere builds the same."""
    old, new = (entry.get("go", {}) for entry in (d.locked_entry, d.live_entry))
    same = all(old.get(key) == new.get(key) for key in kinds("go", "identity", "version"))
    if d.path[1] in kinds("go", "presentation") and same and old.get("version"):
        return (
            "info",
            f"the same Go release ({old['version']}) installed at another path",
            NOTHING_TO_DO,
        )
    return ("warning", "a different Go installation", RELOCK)


def _go_toolchain(d: Diff) -> tuple[Severity, str, str]:
    """GOTOOLCHAIN naming the locked release the way the emitted files pin it runs the same Go."""
    old, new = (entry.get("go", {}) for entry in (d.locked_entry, d.live_entry))
    version = old.get("version")
    pinned = gover.pinned_toolchain(str(version), d.locked) if isinstance(d.locked, str) else None
    if version and new.get("version") == version and pinned is not None and d.live == pinned:
        return (
            "info",
            f"GOTOOLCHAIN={pinned} pins the locked Go release (as the emitted .envrc does); "
            "the same Go runs",
            "nothing to do",
        )
    return _go_installation(d)


def _go_minor(version: Any) -> tuple[int, ...] | None:
    match = re.match(r"go(\d+)\.(\d+)", str(version))
    return (int(match[1]), int(match[2])) if match else None


def _go_version(d: Diff) -> tuple[Severity, str, str]:
    same_minor = _go_minor(d.locked) == _go_minor(d.live) and _go_minor(d.live) is not None
    if same_minor:
        return (
            "warning",
            "a Go patch release: cgo output rarely changes, but builds are no longer identical",
            f"install {d.locked}, or {RELOCK}",
        )
    return (
        "error",
        "a different Go minor version changes cgo's generated code and the runtime it links",
        f"install {d.locked} and put it first on PATH, or {RELOCK}",
    )


def _go_env(d: Diff) -> tuple[Severity, str, str]:
    name = d.path[-1]
    tool = _COMPILER_VARIABLES.get(name)
    if tool is not None and same_tool(d, tool):
        return (
            "info",
            f"{name} names the same {_TOOL_LABELS[tool]} binary by another path (same real "
            "path, hash and version), so the build is the same",
            NOTHING_TO_DO,
        )
    if name == "CGO_ENABLED" and not _has_cgo(d.locked_entry):
        return (
            "info",
            "the module has no cgo package, so no C is compiled either way; only the standard "
            "library's net and os/user switch between their cgo and pure-Go code",
            "nothing to do for the C toolchain; set CGO_ENABLED=1 again if the program relies on "
            "the system's resolver or user database",
        )
    if name in CGO_VARIABLES:
        return (
            "error",
            f"{name} changes how every cgo package is compiled or linked; set in one shell or "
            "profile, it is missing in CI, in an IDE's go test and on teammates' machines",
            f"restore {name} (check `go env {name}` and your shell profile), move the flags into "
            f"#cgo directives or the emitted .envrc, or {RELOCK}",
        )
    return ("warning", f"{name} affects what go builds", f"restore {name}, or {RELOCK}")


def _has_cgo(entry: Mapping[str, Any]) -> bool:
    """Whether the locked module (or its tests) has a cgo package, or the lock cannot say."""
    cgo = entry.get("cgo")
    return not isinstance(cgo, dict) or "error" in cgo or bool(cgo.get("packages"))


def variant_of(entry: Mapping[str, Any]) -> str:
    return str(entry.get("variant", "default"))


def _tags(d: Diff) -> tuple[Severity, str, str]:
    variant = variant_of(d.locked_entry)
    return (
        "error",
        f"the build tags of variant {variant} changed (GOFLAGS -tags): go builds other files, "
        "with other #cgo directives and libraries, than the ones locked",
        "restore GOFLAGS' -tags (`go env GOFLAGS`, the environment), pick the variant with "
        "`envsnap verify --variant NAME`, or declare the tags as a variant in envsnap.toml and "
        "run `envsnap lock`",
    )


def _env(d: Diff) -> tuple[Severity, str, str]:
    name = d.path[-1]
    if name in CGO_VARIABLES:
        return _go_env(d)
    why = f"{name} changes where the compiler, linker or pkg-config look"
    live = str(d.live)
    if name in ("SDKROOT", "DEVELOPER_DIR") and _nix_switch(d):
        why = _nix_why(d)
    fix = f"unset {name}" if d.category == "extra" else f"set {name} as locked"
    return ("warning", why, f"{fix}, or {RELOCK}" if live else fix)


def _nix_switch(d: Diff) -> bool:
    return str(d.locked).startswith("/nix/store/") != str(d.live).startswith("/nix/store/")


def _nix_why(d: Diff) -> str:
    if str(d.live).startswith("/nix/store/"):
        return (
            "this shell is inside Nix (stdenv sets DEVELOPER_DIR and SDKROOT to the Nix SDK) "
            "while the lock was taken outside it"
        )
    return "the lock was taken inside a Nix shell and this shell is outside it"


# --- apple: the developer dir, the CLT, the SDK and Xcode -------------------------------------


def _apple(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    return entry.get("apple") or {}


def _real_devdir(apple: Mapping[str, Any]) -> Any:
    """The developer dir a diff is judged by: its real path, not the symlink it was named by."""
    return apple.get("developer_dir_realpath") or apple.get("developer_dir")


def _same_devdir(d: Diff) -> bool:
    real = _real_devdir(_apple(d.locked_entry))
    return real is not None and real == _real_devdir(_apple(d.live_entry))


def _app_of(devdir: str) -> str:
    """What xcode-select --switch is given: the Xcode app, or the developer dir itself."""
    head, found, _ = devdir.partition(".app/Contents/Developer")
    return f"{head}.app" if found else devdir


def _switch(apple: Mapping[str, Any]) -> str:
    """The command that selects *apple*'s developer dir again, the way the lock selected it."""
    real = str(_real_devdir(apple))
    if apple.get("developer_dir_source") == "DEVELOPER_DIR":
        return f"export DEVELOPER_DIR={real}"
    return f"sudo xcode-select --switch {_app_of(real)}"


def _select_fix(apple: Mapping[str, Any]) -> str:
    """How to get the locked developer dir (and SDK) back."""
    sdk = apple.get("sdk_realpath")
    also = f"; SDKROOT={sdk} reselects the locked SDK where it is still installed" if sdk else ""
    return f"{_switch(apple)}{also}, or {RELOCK}"


def _apple_unchanged(d: Diff) -> bool:
    """A difference that is no change of the developer tools: a symlink to the same developer dir
    or SDK, or the CLT version while neither side builds with the CLT."""
    locked, live = _apple(d.locked_entry), _apple(d.live_entry)
    if d.path in (("apple", "developer_dir"), ("apple", "developer_dir_realpath")):
        return _same_devdir(d)
    if d.path == ("env", "DEVELOPER_DIR") and locked and live:
        return _same_devdir(d) and locked.get("developer_dir_source") == live.get(
            "developer_dir_source"
        )
    if d.path == ("apple", "sdk_path"):
        return _same_sdk(d)
    if d.path == ("apple", "clt_version"):
        return not (_clt_active(locked) or _clt_active(live))
    return False


def _no_change(d: Diff) -> Finding:
    """A difference that changes nothing the build uses, reported as info so that verify still
    says what `lock --check` would rewrite."""
    fix = NOTHING_TO_DO
    if d.path == ("apple", "clt_version"):
        why = (
            "the Command Line Tools changed, but neither side builds with them (an Xcode is the "
            "developer dir)"
        )
    elif d.category == "extra":  # a lock written before envsnap recorded this field
        why = "the lock was written by an envsnap that did not record this yet; nothing changed"
        fix = "nothing to do; the next `envsnap lock` records it"
    else:
        why = "the same directory, reached through another path (a symlink)"
    # borrowed: never the headline of a cause that has a real change
    return replace(explain(d), severity="info", why=why, fix=fix, borrowed=True)


def _clt_active(apple: Mapping[str, Any]) -> bool:
    from envsnap.vocabulary import developer_dir_kind

    kind = apple.get("developer_dir_kind")
    real = _real_devdir(apple)
    return (kind or (developer_dir_kind(str(real)) if real else None)) == "clt"


def _developer_dir(d: Diff) -> tuple[Severity, str, str]:
    locked, live = _apple(d.locked_entry), _apple(d.live_entry)
    real, now = _real_devdir(locked), _real_devdir(live)
    if _same_devdir(d):  # only how it was chosen changed
        return (
            "info",
            f"the same developer dir {real}, now chosen by {live.get('developer_dir_source')} "
            f"(locked: {locked.get('developer_dir_source')})",
            f"nothing to do; {RELOCK} to record the new source",
        )
    if str(real).startswith("/nix/store/") != str(now).startswith("/nix/store/"):
        why = _nix_why(replace(d, locked=real, live=now))
        return ("warning", why, "verify in the same kind of shell the lock was taken in")
    return (
        "warning",
        f"a different developer dir ({real} → {now}; Command Line Tools versus Xcode, or another "
        "Xcode) usually brings another compiler and SDK",
        _select_fix(locked),
    )


def _developer_dir_env(d: Diff) -> tuple[Severity, str, str]:
    if _apple(d.locked_entry) and _apple(d.live_entry):
        return _developer_dir(d)
    return _env(d)


def _has_xcrun(d: Diff) -> tuple[Severity, str, str]:
    devdir = d.live_entry.get("apple", {}).get("developer_dir", "the developer dir")
    if d.live is False:
        return (
            "error",
            "the developer tools are gone (typical after a macOS upgrade); cgo builds fail with "
            + XCRUN_MISSING.format(dir=devdir),
            "xcode-select --install (or sudo xcode-select --reset), then envsnap verify again",
        )
    return ("info", "xcrun is back in the developer dir", RELOCK)


def _clt_version(d: Diff) -> tuple[Severity, str, str]:
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


def _sdk_owned(d: Diff) -> bool:
    """A library file inside the locked or the live SDK (``-lz`` is the SDK's ``libz.tbd``)."""
    if d.path[0] != "libraries" or len(d.path) != 4 or d.path[2] != "files":
        return False
    roots = {
        str(apple[key]).rstrip("/") + "/"
        for apple in (_apple(d.locked_entry), _apple(d.live_entry))
        for key in ("sdk_path", "sdk_realpath")
        if apple.get(key)
    }
    return any(d.path[3].startswith(root) for root in roots)


def _sdk_libraries(entry: Mapping[str, Any]) -> list[str]:
    """The libraries of *entry* whose files lie in its SDK."""
    apple = _apple(entry)
    roots = tuple(
        str(apple[k]).rstrip("/") + "/" for k in ("sdk_path", "sdk_realpath") if apple.get(k)
    )
    if not roots:
        return []
    return [
        library_key(lib)
        for lib in entry.get("libraries", [])
        if any(f["path"].startswith(roots) for f in lib.get("files", []))
    ]


def _sdk_version(d: Diff) -> tuple[Severity, str, str]:
    locked, live = _apple(d.locked_entry), _apple(d.live_entry)
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


def _sdk_fix(apple: Mapping[str, Any]) -> str:
    sdk = apple.get("sdk_realpath")
    switch = _switch(apple)
    if not sdk:
        return switch
    return f"SDKROOT={sdk} reselects the locked SDK where it is still installed; or {switch}"


def _same_sdk(d: Diff) -> bool:
    """Both sides build with the same SDK directory (its real path), however it was named."""
    real = _apple(d.locked_entry).get("sdk_realpath")
    return bool(real) and real == _apple(d.live_entry).get("sdk_realpath")


def _sdk_moved(d: Diff) -> tuple[Severity, str, str]:
    # (an sdk_path alone with the same real path never gets here: see _apple_unchanged)
    if d.path[1] == "sdk_source" and _same_sdk(d):
        real = _apple(d.locked_entry).get("sdk_realpath")
        return (
            "info",
            f"the same SDK ({real}) named by another path (SDKROOT, as the emitted .envrc sets it)",
            "nothing to do",
        )
    return (
        "warning",
        "same SDK version at another path (a different developer dir or SDKROOT)",
        f"{_sdk_fix(_apple(d.locked_entry))}, or {RELOCK}",
    )


def _sdk_beta(d: Diff) -> tuple[Severity, str, str]:
    build = _apple(d.live_entry).get("sdk_build")
    if d.live is True:
        return (
            "warning",
            f"the SDK is a beta (build {build}): a seed SDK is not for shipping",
            _select_fix(_apple(d.locked_entry)),
        )
    return ("info", "the SDK is no longer a beta", RELOCK)


def _xcode_named(apple: Mapping[str, Any]) -> str:
    beta = ", a beta" if apple.get("xcode_beta") else ""
    return f"{apple.get('xcode_version')} ({apple.get('xcode_build')}{beta})"


def _xcode_shown(d: Diff) -> tuple[Any, Any]:
    """The Xcode headline: the version with its build beside it."""
    locked, live = _apple(d.locked_entry), _apple(d.live_entry)
    return (
        _xcode_named(locked) if locked.get("xcode_version") else _ABSENT,
        _xcode_named(live) if live.get("xcode_version") else _ABSENT,
    )


def _shown(d: Diff) -> tuple[Any, Any]:
    """The values a finding shows: apple's Xcode by version with its build beside it."""
    if d.path[0] == "apple" and d.path[1].startswith("xcode_"):
        return _xcode_shown(d)
    return d.locked, d.live


def _direction(locked: Mapping[str, Any], live: Mapping[str, Any]) -> str:
    def key(apple: Mapping[str, Any]) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", str(apple.get("xcode_version"))))

    if key(live) == key(locked):
        return "rebuilt"
    return "updated" if key(live) > key(locked) else "downgraded"


def _xcode(d: Diff) -> tuple[Severity, str, str]:
    locked, live = _apple(d.locked_entry), _apple(d.live_entry)
    headline = d.path[1] == "xcode_version" or (
        d.path[1] == "xcode_build" and locked.get("xcode_version") == live.get("xcode_version")
    )
    if not headline:
        return ("info", "part of the Xcode change", RELOCK)
    was, now = _xcode_shown(d)
    if was is _ABSENT:
        why = f"Xcode appeared: the developer dir is now Xcode {now}"
    elif now is _ABSENT:
        why = f"Xcode disappeared: the lock was taken with Xcode {was}, the developer dir has none"
    else:
        why = f"Xcode was {_direction(locked, live)} from {was} to {now}"
    if live.get("xcode_beta"):
        why += "; a beta Xcode builds with a seed SDK, not for shipping"
    fix = _select_fix(locked) if locked.get("xcode_version") else RELOCK
    return ("warning", why + " (the SDK rule reports an SDK change)", fix)


def _library(d: Diff) -> tuple[Severity, str, str]:
    name = d.path[1]
    if _sdk_owned(d):  # apple: the SDK's own file, reported with the SDK
        return ("info", f"{name} is a file of the macOS SDK and changes with it", "see macOS SDK")
    if len(d.path) == 2:
        if d.category == "extra":
            users = ", ".join(d.live.get("used_by", []))
            return ("error", f"the lock is stale: {users or 'the module'} now uses {name}", RELOCK)
        return ("error", f"the lock is stale: the module no longer uses {name}", RELOCK)
    if d.path[2] == "provider" and _brew(d.locked) and _brew(d.live):
        return (
            "error",
            "`brew upgrade` moved the keg: the library the binary links is a different build",
            f"brew install the locked version (and `brew pin {_brew(d.locked)}`), or {RELOCK}",
        )
    if d.path[2] == "error":
        return ("error", f"{name} can no longer be found: {d.live}", f"reinstall {name}")
    if d.path[2] == "files":
        return (
            "error",
            "the library file was replaced or moved (a package upgrade or a rebuilt keg)",
            f"reinstall the locked version of {name}, or {RELOCK}",
        )
    if d.path[2] == "used_by":
        return ("info", f"other packages now use {name}", RELOCK)
    if d.path[2] == "pc_file":
        return ("warning", f"{name}'s pkg-config file changed (flags may differ)", RELOCK)
    if d.path[2] == "package":  # its owning package, as severe as its version
        return (
            "error",
            f"the package that provides {name} changed: {d.locked} -> "
            + ("none" if d.category == "missing" else str(d.live)),
            f"install the locked package, or {RELOCK}",
        )
    return (
        "error",
        f"a different {name} changes the C code the module links",
        f"install the locked {name}, or {RELOCK}",
    )


def _brew(provider: Any) -> str:
    return brew_formula(provider)


def _cgo_package(d: Diff) -> tuple[Severity, str, str]:
    pkg = d.path[2]
    if len(d.path) == 3 and d.category == "extra":
        return ("error", f"the lock is stale: {pkg} is a new cgo package", RELOCK)
    if len(d.path) == 3:
        return ("error", f"the lock is stale: {pkg} no longer uses cgo", RELOCK)
    return ("error", f"the lock is stale: {pkg}'s #cgo directives changed", RELOCK)


def _const(text: str) -> Callable[[tuple[str, ...]], str]:
    return lambda path: text


def _last(template: str) -> Callable[[tuple[str, ...]], str]:
    return lambda path: template.format(path[-1])


def _lib_subject(path: tuple[str, ...]) -> str:
    return path[1]


TAGS_SUBJECT = "build tags"
WORKSPACE_SUBJECT = "Go workspace"


def _go_workspace(d: Diff) -> tuple[Severity, str, str]:
    locked = d.locked_entry.get("go", {}).get("workspace")
    live = d.live_entry.get("go", {}).get("workspace")
    if locked and not live:
        return (
            "error",
            f"the lock was taken inside the workspace {locked}, and go now builds the module "
            "without it (GOWORK=off, or the go.work is gone): the workspace's other modules and "
            "their cgo packages drop out, and imports of them fail",
            f"unset GOWORK (or GOWORK={locked}) so go uses the workspace again, or {RELOCK}",
        )
    if live and not locked:
        return (
            "warning",
            f"go now builds the module inside the workspace {live}, which the lock was taken "
            "without: the workspace's modules replace the versions go.mod requires",
            f"GOWORK=off builds the module alone as locked, or {RELOCK}",
        )
    return ("warning", f"go builds the module in another workspace ({live})", RELOCK)


PATTERNS_SUBJECT = "package patterns"


def _package_patterns(d: Diff) -> tuple[Severity, str, str]:
    return (
        "error",
        "the package patterns of envsnap.toml name another set of packages than the lock was "
        "taken with: the cgo packages and libraries locked are not the ones this build needs",
        f"restore the patterns in envsnap.toml, or {RELOCK}",
    )


TOOL_WHY = "a different C compiler or linker builds the C parts differently"
TOOL_FIX = "put the locked tool first on PATH or `go env -w CC=…`, or " + RELOCK

RULES: tuple[Rule, ...] = (
    Rule(("go", "version"), _const("Go"), _go_version, 2),
    Rule(("go", "tags"), _const(TAGS_SUBJECT), _tags, 2),
    Rule(("go", "env", "*"), _last("{} (go env)"), _go_env, 3),
    Rule(("go", "path"), _const("Go"), _go_installation, 2),
    Rule(("go", "goroot"), _const("Go"), _go_installation, 2),
    Rule(("go", "gotoolchain"), _const("Go gotoolchain"), _go_toolchain, 2),
    Rule(("go", "workspace"), _const(WORKSPACE_SUBJECT), _go_workspace, 2),
    Rule(("go", "*"), _last("Go {}"), _go_installation, 2),
    Rule(
        ("cc", "compiler", "sha256"),
        _const("C compiler"),
        _fixed(
            "warning",
            "same version, different binary: the compiler was rebuilt or replaced",
            RELOCK,
        ),
        2,
    ),
    Rule(
        ("cc", "*", "wrapper*"),
        _const("compiler wrapper"),
        _fixed(
            "warning",
            "the wrapper in front of the compiler (ccache, sccache, distcc) changed; the "
            "compiler behind it is checked on its own",
            f"restore the wrapper in CC, or {RELOCK}",
        ),
        3,
    ),
    Rule(
        ("cc", "compiler", "*"),
        _const("C compiler"),
        _tool("compiler", "error", TOOL_WHY, TOOL_FIX),
        2,
    ),
    Rule(
        ("cc", "linker", "sha256"),
        _const("linker"),
        _fixed(
            "warning", "same version, different binary: the linker was rebuilt or replaced", RELOCK
        ),
        2,
    ),
    Rule(("cc", "linker", "*"), _const("linker"), _tool("linker", "error", TOOL_WHY, TOOL_FIX), 2),
    Rule(
        ("cc", "cxx", "sha256"),
        _const("C++ compiler"),
        _fixed("warning", "same version, different binary: the C++ compiler was replaced", RELOCK),
        2,
    ),
    Rule(
        ("cc", "cxx", "*"),
        _const("C++ compiler"),
        _tool(
            "cxx",
            "error",
            "a different C++ compiler builds the C++ parts, and links the whole program",
            "put the locked compiler first on PATH or `go env -w CXX=…`, or " + RELOCK,
        ),
        2,
    ),
    Rule(("apple", "has_xcrun"), _const("developer tools"), _has_xcrun, 2),
    Rule(("apple", "sdk_version"), _const("macOS SDK"), _sdk_version, 2),
    Rule(("apple", "sdk_beta"), _const("macOS SDK"), _sdk_beta, 2),
    Rule(
        ("apple", "sdk_error"),
        _const("macOS SDK"),
        _fixed(
            "error",
            "the SDK is missing",
            "xcode-select --install, or select a developer dir that has the SDK",
        ),
        2,
    ),
    Rule(("apple", "sdk_*"), _const("macOS SDK"), _sdk_moved, 2),
    Rule(("apple", "developer_dir*"), _const("developer dir"), _developer_dir, 2),
    Rule(
        ("apple", "clt_version"),
        _const("Command Line Tools"),
        _clt_version,
        2,
    ),
    Rule(("apple", "xcode_*"), _const("Xcode"), _xcode, 2),
    Rule(
        ("os", "*"),
        _const("operating system"),
        _fixed(
            "warning",
            "an OS update; the SDK, compiler and library rules report what matters to cgo",
            RELOCK,
        ),
        1,
    ),
    Rule(("env", "DEVELOPER_DIR"), _last("{} (environment)"), _developer_dir_env, 2),
    Rule(("env", "*"), _last("{} (environment)"), _env, 2),
    Rule(("libraries", "*"), _lib_subject, _library, 2),
    Rule(("libraries", "*", "*"), _lib_subject, _library, 2),
    Rule(("libraries", "*", "*", "*"), _lib_subject, _library, 2),
    Rule(("cgo", "packages", "*"), _last("cgo package {}"), _cgo_package, 3),
    Rule(("cgo", "packages", "*", "*"), lambda p: f"cgo package {p[2]}", _cgo_package, 3),
    Rule(
        ("cgo", "package_errors"),
        _const("package errors"),
        _fixed("warning", "go list reports broken packages", "run `go build ./...` to see them"),
        2,
    ),
    Rule(("cgo", "include"), _const(PATTERNS_SUBJECT), _package_patterns, 2),
    Rule(("cgo", "exclude"), _const(PATTERNS_SUBJECT), _package_patterns, 2),
)
FALLBACK = Rule(("*",), lambda p: ".".join(p), _fixed("warning", "this field changed", RELOCK), 1)


def rule_for(path: tuple[str, ...]) -> Rule:
    for rule in RULES:
        if len(rule.pattern) == len(path) and all(
            fnmatch.fnmatchcase(part, pat) for part, pat in zip(path, rule.pattern, strict=True)
        ):
            return rule
    return FALLBACK


# ---------------------------------------------------------------------------------------------
# Comparison


# Records that are reported whole when they appear or disappear (a new library, a gone package).
_RECORDS = (("libraries", "*"), ("cgo", "packages", "*"))


def flatten(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """Leaf values by path, so that every difference is reported at the field that changed."""
    leaves: dict[tuple[str, ...], Any] = {}
    for key, value in data.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping):  # an empty table has no leaves: nothing to compare
            leaves.update(flatten(value, path))
        else:
            leaves[path] = value
    return leaves


def _record_prefix(path: tuple[str, ...]) -> tuple[str, ...] | None:
    for pattern in _RECORDS:
        head = path[: len(pattern)]
        if len(head) == len(pattern) and all(
            fnmatch.fnmatchcase(p, q) for p, q in zip(head, pattern, strict=True)
        ):
            return head
    return None


def _lookup(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


# Fields that a lock may lack although the live machine has them: not recorded is no drift.
UNRECORDED_OK: tuple[Literal["package"], ...] = ("package",)


def without_unrecorded(locked: Content, live: Content) -> Content:
    """*live* without the UNRECORDED_OK fields that *locked* lacks (the compilers' and each
    library's, matched by name): what a lock written before they were recorded can be held to."""
    out = copy.deepcopy(live)
    was = _tools(locked)
    for tool, section in _tools(out).items():
        for name in UNRECORDED_OK:
            if name not in was.get(tool, {}):
                section.pop(name, None)
    old = {library_key(lib): lib for lib in locked.get("libraries", [])}
    for lib in out.get("libraries", []):
        for name in UNRECORDED_OK:
            if name not in old.get(library_key(lib), {}):
                lib.pop(name, None)
    return out


def _tools(entry: Content) -> dict[str, Tool]:
    """The entry's tools (compiler, linker, C++ compiler) by their key in its cc section."""
    cc = entry.get("cc")
    if cc is None:
        return {}
    tools = {"compiler": cc.get("compiler"), "linker": cc.get("linker"), "cxx": cc.get("cxx")}
    return {name: tool for name, tool in tools.items() if tool is not None}


def same_value(old: object, new: object) -> bool:
    """Equal and of the same type all the way down (``1`` is not ``True``, nor ``1.0``): a
    list is compared item by item, in order."""
    if type(old) is not type(new):
        return False
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(map(same_value, old, new))
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(same_value(old[k], new[k]) for k in old)
    return old == new


def raw_diffs(locked: Mapping[str, Any], live: Mapping[str, Any]) -> list[Diff]:
    a, b = keyed(locked), keyed(live)
    flat_a, flat_b = flatten(a), flatten(b)
    diffs: dict[tuple[str, ...], Diff] = {}
    for path in flat_a.keys() | flat_b.keys():
        old, new = flat_a.get(path, _ABSENT), flat_b.get(path, _ABSENT)
        if same_value(old, new):
            continue
        record = _record_prefix(path)
        in_a = record is not None and any(p[: len(record)] == record for p in flat_a)
        in_b = record is not None and any(p[: len(record)] == record for p in flat_b)
        if record is not None and in_a != in_b:  # the whole record appeared or went away
            path = record
            old = _lookup(a, record) if in_a else _ABSENT
            new = _lookup(b, record) if in_b else _ABSENT
        if old is _ABSENT and path[-1] in UNRECORDED_OK:
            continue  # a lock from before envsnap recorded it, or from a host without dpkg
        diffs[path] = Diff(path, old, new, locked, live)
    return sorted(diffs.values(), key=lambda d: d.path)


# What a failed probe hides besides its own section: no package list, no libraries to resolve.
DERIVED: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {
    ("cgo",): (("libraries",),),
    # without the compiler there is no linker to ask and no search path to resolve -l against
    ("cc", "compiler"): (("cc", "linker"), ("libraries",)),
}
UNVERIFIABLE_WHY: dict[tuple[str, ...], str] = {
    ("cgo",): "go cannot list the module's packages, so neither its cgo packages nor the "
    "libraries they link can be checked (go's whole message is shown)",
}


def _hidden(prefixes: list[tuple[str, ...]], diffs: list[Diff]) -> list[Diff]:
    """*diffs* without those under a prefix, or derived from one (see :data:`DERIVED`)."""
    hidden = prefixes + [d for p in prefixes for d in DERIVED.get(p, ())]
    return [d for d in diffs if not any(d.path[: len(p)] == p for p in hidden)]


def _unverifiable(diffs: list[Diff]) -> tuple[list[Finding], list[Diff]]:
    """A probe that fails now but worked at lock time hides every field below it."""
    broken = [d for d in diffs if d.path[-1] == "error" and d.category == "extra"]
    derived = [q for d in broken for q in DERIVED.get(d.path[:-1], ())]
    broken = [d for d in broken if not any(d.path[: len(q)] == q for q in derived)]
    findings = [
        Finding(
            id=".".join(d.path),
            subject="package list (go list)"
            if d.path == ("cgo", "error")
            else rule_for(d.path).subject(d.path[:-1] or d.path),
            category="unverifiable",
            severity="error",
            locked=None,
            live=d.live,
            why=UNVERIFIABLE_WHY.get(
                d.path[:-1],
                "a probe that worked at lock time cannot run now, so this part cannot be checked",
            ),
            fix="fix the error shown, then run envsnap verify again",
        )
        for d in broken
    ]
    return findings, _hidden([d.path[:-1] for d in broken], diffs)


def _recovered(diffs: list[Diff]) -> tuple[list[Finding], list[Diff]]:
    """A probe that failed at lock time (an incomplete lock) and works here: the lock holds no
    value to compare with, so this is neither an upgrade nor something to reinstall."""
    healed = [d for d in diffs if d.path[-1] == "error" and d.category == "missing"]
    findings = [
        Finding(
            id=".".join(d.path),
            subject=rule_for(d.path).subject(d.path[:-1] or d.path),
            category="changed",
            severity="error",
            locked=_readable(d.locked),
            live=None,
            why="the lock was written where this probe failed, so it records nothing to compare "
            "with; here it works",
            fix="run `envsnap lock` on a machine where the build works and commit the lock",
        )
        for d in healed
    ]
    return findings, _hidden([d.path[:-1] for d in healed], diffs)


def incomplete_finding(failures: Sequence[str]) -> Finding:
    """The first finding for an entry written with ``lock --allow-incomplete``."""
    return Finding(
        id="incomplete",
        subject="incomplete lock",
        category="unverifiable",
        severity="error",
        locked=list(failures),
        live=None,
        why="it was written with --allow-incomplete while these probes failed, so it does not "
        "describe a working build and the parts they cover are checked on no machine",
        fix="fix the failures (or lock on a machine where the build works), run `envsnap lock` "
        "and commit the lock",
    )


def _readable(value: Any) -> Any:
    """A value as a finding shows it: an absent one as None."""
    return None if value is _ABSENT else value


def _subject(rule: Rule, diff: Diff) -> str:
    """The cause a difference belongs to, which names its finding: usually the rule's subject.

    A GOFLAGS change that changes the tags joins the build-tags finding; CC and CXX join the
    compiler they name; a library file listed by several libraries (GLib's, under gio-2.0,
    gobject-2.0 and glib-2.0) belongs to the one library that owns it.
    """
    tags = [entry.get("go", {}).get("tags") for entry in (diff.locked_entry, diff.live_entry)]
    if diff.path == ("go", "env", "GOFLAGS") and tags[0] != tags[1]:
        return TAGS_SUBJECT
    if _sdk_owned(diff):  # apple: the SDK's libz.tbd belongs to the SDK finding
        return "macOS SDK"
    if diff.path == ("env", "DEVELOPER_DIR") and _apple(diff.locked_entry):
        return "developer dir"
    if diff.path[0] in ("cgo", "libraries") and _cgo_turned_off(diff):
        return "CGO_ENABLED (go env)"  # every cgo package and library is gone for that reason
    if diff.path[0] in ("cgo", "libraries") and _workspace_left(diff):
        return WORKSPACE_SUBJECT  # go no longer sees the workspace's other modules
    if diff.path[:2] == ("go", "env") and diff.path[2] in _COMPILER_VARIABLES:
        return _TOOL_LABELS[_COMPILER_VARIABLES[diff.path[2]]]
    if diff.path[0] == "libraries" and len(diff.path) == 4 and diff.path[2] == "files":
        return file_owner(diff.path[3], diff)
    return rule.subject(diff.path)


def _workspace_left(diff: Diff) -> bool:
    """Locked inside a go.work, built now without it (GOWORK=off, or the go.work is gone)."""

    def workspace(entry: Mapping[str, Any]) -> object:
        return entry.get("go", {}).get("workspace")

    return workspace(diff.locked_entry) is not None and workspace(diff.live_entry) is None


def _cgo_turned_off(diff: Diff) -> bool:
    def enabled(entry: Mapping[str, Any]) -> str | None:
        value = entry.get("go", {}).get("env", {}).get("CGO_ENABLED")
        return value if isinstance(value, str) else None

    return enabled(diff.live_entry) == "0" and enabled(diff.locked_entry) != "0"


def _file_name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def file_owner(path: str, diff: Diff) -> str:
    """The library that owns the library file *path*: the one named by the file (libglib-2.0.so…
    is glib-2.0's, libz.so… is -lz's), else the first that lists it."""
    listing = []
    for entry in (diff.locked_entry, diff.live_entry):
        for lib in entry.get("libraries", []):
            key = library_key(lib)
            if key not in listing and any(f.get("path") == path for f in lib.get("files", [])):
                listing.append(key)
    name = _file_name(path)
    for key in listing:
        stem = "lib" + key.removeprefix("-l")
        if name == stem or name.startswith(stem + "."):
            return key
    return min(listing) if listing else diff.path[1]


def explain(diff: Diff) -> Finding:
    rule = rule_for(diff.path)
    severity, why, fix = rule.explain(diff)
    locked, live = _shown(diff)
    added, removed = flag_delta(_readable(locked), _readable(live), diff.path[-1] in FLAG_VARIABLES)
    subject = _subject(rule, diff)
    return Finding(
        id=".".join(diff.path),
        subject=subject,
        category=diff.category,
        severity=severity,
        locked=_readable(locked),
        live=_readable(live),
        why=why,
        fix=fix,
        detail=diff.path[3] if diff.path[0] == "libraries" and len(diff.path) > 3 else "",
        added=added,
        removed=removed,
        borrowed=subject != rule.subject(diff.path),
    )


# Variables whose value is a list of flags: a change is shown as the flags added and removed.
FLAG_VARIABLES = frozenset(
    {"CGO_CFLAGS", "CGO_CPPFLAGS", "CGO_CXXFLAGS", "CGO_FFLAGS", "CGO_LDFLAGS", "GOFLAGS"}
)


def _words(value: Any, flag_string: bool) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    if flag_string and isinstance(value, str):
        from envsnap import quoted

        try:
            return quoted.split(value)
        except quoted.UnterminatedQuote:
            return None
    return None


def flag_delta(locked: Any, live: Any, flag_string: bool) -> tuple[tuple[str, ...], ...]:
    """The entries *live* gained and lost against *locked* (lists, or flag strings), each in
    its own order and counted as a multiset; nothing when either is not a list or only the
    order changed."""
    from collections import Counter

    old, new = _words(locked, flag_string), _words(live, flag_string)
    if old is None or new is None:
        return (), ()
    return _extra(new, Counter(new) - Counter(old)), _extra(old, Counter(old) - Counter(new))


def _extra(words: list[str], surplus: Any) -> tuple[str, ...]:
    """The last *surplus[w]* occurrences of each word, in the order of *words*."""
    kept = []
    for word in reversed(words):
        if surplus[word] > 0:
            surplus[word] -= 1
            kept.append(word)
    return tuple(reversed(kept))


_HEADLINE_FIELDS = {
    "has_xcrun": 0,
    "provider": 1,
    "version": 2,
    "sdk_version": 2,
    "developer_dir_realpath": 2,  # apple: the real directory, not the symlink it was named by
}


def _priority(finding_id: str) -> int:
    """Which of several merged differences makes the headline (a version before a path)."""
    return _HEADLINE_FIELDS.get(finding_id.rsplit(".", 1)[-1], 9)


def _borrowed(finding: Finding) -> bool:
    """A difference grouped with a cause it was not found under: a library file shared with
    another library, a package gone because cgo was turned off, CC under its compiler."""
    return finding.borrowed


def _merge(findings: list[Finding]) -> list[Finding]:
    """One finding per subject: the most severe first-listed one, naming the others in `also`."""
    by_subject: dict[str, list[Finding]] = {}
    for finding in findings:
        by_subject.setdefault(finding.subject, []).append(finding)
    merged = []
    for group in by_subject.values():
        group.sort(key=lambda f: (SEVERITY_ORDER[f.severity], _borrowed(f), _priority(f.id)))
        head = group[0]
        also = tuple(f.id for f in group[1:])
        merged.append(replace(head, also=also) if also else head)
    return merged


def apply_policy(findings: list[Finding], policy: Policy) -> list[Finding]:
    kept = []
    for finding in findings:
        if any(fnmatch.fnmatchcase(finding.id, pattern) for pattern in policy.ignore):
            continue
        for pattern, severity in policy.severity.items():
            if fnmatch.fnmatchcase(finding.id, pattern) and severity in SEVERITY_ORDER:
                finding = replace(finding, severity=severity)  # type: ignore[arg-type]
        kept.append(finding)
    return kept


def compare(
    locked: Mapping[str, Any], live: Mapping[str, Any], policy: Policy | None = None
) -> list[Finding]:
    """Every difference between a locked entry and a live one, explained, most severe first;
    an incomplete lock says so before anything else."""
    unverifiable, diffs = _unverifiable(raw_diffs(locked, live))
    recovered, diffs = _recovered(diffs)
    # apple: a symlink to the same developer dir or SDK, an unused CLT: said, as info
    same = [_no_change(d) for d in diffs if _apple_unchanged(d)]
    diffs = [d for d in diffs if not _apple_unchanged(d)]
    # The policy applies to each raw change before changes are grouped by cause, so ignoring a
    # provider change never hides a version change grouped under it.
    policy = policy or Policy()
    # The policy applies to each raw change before changes are grouped by cause, so ignoring a
    # provider change never hides a version change grouped under it.
    changes = apply_policy(unverifiable + recovered + same + [explain(d) for d in diffs], policy)
    findings = _merge(changes)
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], f.id))
    first = [incomplete_finding(locked["incomplete"])] if locked.get("incomplete") else []
    return apply_policy(first, policy) + findings


def stale_variant(key: str) -> Finding:
    """An entry of this platform for a variant that envsnap.toml no longer declares."""
    variant = key.partition("+")[2]
    return Finding(
        id=f"platforms.{key}",
        subject=f"variant {variant}",
        category="missing",
        severity="warning",
        locked=key,
        live=None,
        why=f"the lock has an entry for variant {variant}, which envsnap.toml no longer declares",
        fix="run `envsnap lock` to drop it, or declare the variant again",
        variant=variant,
    )


def missing_platform(platform: str, available: Sequence[str]) -> Finding:
    have = ", ".join(available) or "none"
    return Finding(
        id=f"platforms.{platform}",
        subject=f"platform {platform}",
        category="missing",
        severity="error",
        locked=None,
        live=platform,
        why=f"the lock has no entry for {platform} (it has: {have})",
        fix="run `envsnap lock` on this platform and commit the lock, or pass "
        "--allow-missing-platform",
    )
