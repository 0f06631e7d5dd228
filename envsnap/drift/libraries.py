"""The libraries' rules, and the cgo packages that link them (``libraries.*``, ``cgo.*``)."""

from __future__ import annotations

from envsnap.drift.actions import Action, relock
from envsnap.drift.apple import sdk_owned
from envsnap.drift.engine import (
    Diff,
    Gone,
    Pack,
    Probe,
    Rule,
    Side,
    const,
    fixed,
    last,
    library_key,
)
from envsnap.drift.finding import RELOCK, Verdict
from envsnap.entry import Content, Library
from envsnap.vocabulary import brew_formula

PATTERNS_SUBJECT = "package patterns"


def _brew(provider: Side) -> str:
    return brew_formula(provider) if isinstance(provider, str) else ""


def _users(record: Side) -> str:
    used_by = record.get("used_by") if isinstance(record, dict) else None
    return ", ".join(str(u) for u in used_by) if isinstance(used_by, list) else ""


def _record(d: Diff) -> Verdict:
    """A library that appeared or went away."""
    name = d.path[1]
    if d.category == "extra":
        users = _users(d.live)
        return ("error", f"the lock is stale: {users or 'the module'} now uses {name}", RELOCK)
    return ("error", f"the lock is stale: the module no longer uses {name}", RELOCK)


def _library(d: Diff) -> Verdict:
    name = d.path[1]
    if sdk_owned(d):  # apple: the SDK's own file, reported with the SDK
        return ("info", f"{name} is a file of the macOS SDK and changes with it", "see macOS SDK")
    if len(d.path) == 2:
        return _record(d)
    if d.path[2] == "provider" and _brew(d.locked) and _brew(d.live):
        return (
            "error",
            "`brew upgrade` moved the keg: the library the binary links is a different build",
            f"brew install the locked version (and `brew pin {_brew(d.locked)}`), or {RELOCK}",
        )
    if d.path[2] == "error":
        return ("error", f"{name} can no longer be found: {d.live}", f"reinstall {name}")
    if d.path[2] == "files" and (moved := package_move(d)):
        return (
            "warning",
            f"a file of {moved[0]}, which changed with the package",
            f"see the package change of {name}",
        )
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
    if d.path[2] == "package" and (moved := package_move(d)):
        package, was, now = moved
        return (
            "error",
            f"the package {package} that provides {name} is at another version: "
            f"{was} → {now}; its files differ from the ones locked",
            f"install the locked version (apt-get install {package}={was}), or {RELOCK}",
        )
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


def _library_in(entry: Content, key: str) -> Library | None:
    return next((lib for lib in entry.get("libraries", []) if library_key(lib) == key), None)


def _package(entry: Content, key: str) -> tuple[str, str] | None:
    """The dpkg package (name, version) that owns library *key* in *entry*."""
    lib = _library_in(entry, key)
    recorded = lib.get("package") if lib is not None else None
    name, _, version = (recorded or "").partition(" ")
    return (name, version) if name and version else None


def package_move(d: Diff) -> tuple[str, str, str] | None:
    """The package, its locked and its live version, when the package that owns the library
    of *d* is the same one at another version (an upgrade, a downgrade)."""
    if d.path[0] != "libraries" or len(d.path) < 3:
        return None
    was, now = _package(d.locked_entry, d.path[1]), _package(d.live_entry, d.path[1])
    if was is None or now is None or was[0] != now[0] or was[1] == now[1]:
        return None
    return was[0], was[1], now[1]


def _library_actions(d: Diff) -> tuple[Action, ...]:
    """Install the locked version of the package that moved; else re-lock, by hand."""
    moved = package_move(d)
    if moved is None:
        return ()
    package, was, _ = moved
    return (Action(kind="install", target=package, value=was, via="apt"), relock())


def _shown(d: Diff) -> tuple[Side, Side] | None:
    """A package change is shown as the package and its two versions, not as file hashes."""
    moved = package_move(d)
    if moved is None or d.path[2] != "package":
        return None
    return f"{moved[0]} {moved[1]}", moved[2]


def _missing(d: Diff) -> Gone | None:
    """A library that no longer resolves because the file the lock records is gone."""
    if d.path[0] != "libraries" or len(d.path) != 3 or "No such file" not in str(d.live):
        return None
    lib = _library_in(d.locked_entry, d.path[1])
    files = [f["path"] for f in lib.get("files", [])] if lib is not None else []
    if not files:
        return None
    where = ", ".join(files)
    if all(path.startswith("${MODULE}/") for path in files):
        return (
            where,
            f"{where} is missing: the module's own archive, which the lock recorded, is not "
            "there (not built yet, or deleted)",
            f"build or restore {where} (the module's build step, or `git status` for a deleted "
            "file), then run envsnap verify again",
            (),
        )
    package = _package(d.locked_entry, d.path[1])
    fix = f"apt-get install {package[0]}={package[1]}" if package else f"reinstall {d.path[1]}"
    if package is None:
        return where, f"{where} is missing: the library the lock recorded is gone", fix, ()
    install = Action(kind="install", target=package[0], value=package[1], via="apt")
    return where, f"{where} is missing: the library the lock recorded is gone", fix, (install,)


def _cgo_package(d: Diff) -> Verdict:
    pkg = d.path[2]
    if len(d.path) == 3 and d.category == "extra":
        return ("error", f"the lock is stale: {pkg} is a new cgo package", RELOCK)
    if len(d.path) == 3:
        return ("error", f"the lock is stale: {pkg} no longer uses cgo", RELOCK)
    return ("error", f"the lock is stale: {pkg}'s #cgo directives changed", RELOCK)


def _package_patterns(d: Diff) -> Verdict:
    return (
        "error",
        "the package patterns of envsnap.toml name another set of packages than the lock was "
        "taken with: the cgo packages and libraries locked are not the ones this build needs",
        f"restore the patterns in envsnap.toml, or {RELOCK}",
    )


def file_owner(path: str, d: Diff) -> str:
    """The library that owns the library file *path*: the one named by the file (libglib-2.0.so…
    is glib-2.0's, libz.so… is -lz's), else the first that lists it."""
    listing: list[str] = []
    for entry in (d.locked_entry, d.live_entry):
        for lib in entry.get("libraries", []):
            key = library_key(lib)
            if key not in listing and any(f.get("path") == path for f in lib.get("files", [])):
                listing.append(key)
    name = path.rsplit("/", 1)[-1]
    for key in listing:
        stem = "lib" + key.removeprefix("-l")
        if name == stem or name.startswith(stem + "."):
            return key
    return min(listing) if listing else d.path[1]


def _shared_file(d: Diff) -> str | None:
    """A library file listed by several libraries (GLib's, under gio-2.0, gobject-2.0 and
    glib-2.0) belongs to the one library that owns it."""
    if d.path[0] == "libraries" and len(d.path) == 4 and d.path[2] == "files":
        return file_owner(d.path[3], d)
    return None


def _library_name(path: tuple[str, ...]) -> str:
    return path[1]


BROKEN_PACKAGES = fixed(
    "warning", "go list reports broken packages", "run `go build ./...` to see them"
)

PACK = Pack(
    "libraries",
    rules=(
        Rule(("libraries", "*"), _library_name, _library),
        Rule(("libraries", "*", "*"), _library_name, _library, _library_actions),
        Rule(("libraries", "*", "*", "*"), _library_name, _library, _library_actions),
        Rule(("cgo", "packages", "*"), last("cgo package {}"), _cgo_package),
        Rule(("cgo", "packages", "*", "*"), lambda p: f"cgo package {p[2]}", _cgo_package),
        Rule(("cgo", "package_errors"), const("package errors"), BROKEN_PACKAGES),
        Rule(("cgo", "include"), const(PATTERNS_SUBJECT), _package_patterns),
        Rule(("cgo", "exclude"), const(PATTERNS_SUBJECT), _package_patterns),
    ),
    causes=(_shared_file,),
    shown=_shown,
    missing=_missing,
    probes=(
        Probe(
            ("cgo",),
            hides=(("libraries",),),
            subject="package list (go list)",
            why="go cannot list the module's packages, so neither its cgo packages nor the "
            "libraries they link can be checked (go's whole message is shown)",
        ),
    ),
    headline={"provider": 1, "version": 2},
)
