"""The libraries' rules, and the cgo packages that link them (``libraries.*``, ``cgo.*``)."""

from __future__ import annotations

from envsnap.drift.apple import sdk_owned
from envsnap.drift.engine import Diff, Pack, Probe, Rule, Side, const, fixed, last, library_key
from envsnap.drift.finding import RELOCK, Verdict
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
        Rule(("libraries", "*", "*"), _library_name, _library),
        Rule(("libraries", "*", "*", "*"), _library_name, _library),
        Rule(("cgo", "packages", "*"), last("cgo package {}"), _cgo_package),
        Rule(("cgo", "packages", "*", "*"), lambda p: f"cgo package {p[2]}", _cgo_package),
        Rule(("cgo", "package_errors"), const("package errors"), BROKEN_PACKAGES),
        Rule(("cgo", "include"), const(PATTERNS_SUBJECT), _package_patterns),
        Rule(("cgo", "exclude"), const(PATTERNS_SUBJECT), _package_patterns),
    ),
    causes=(_shared_file,),
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
