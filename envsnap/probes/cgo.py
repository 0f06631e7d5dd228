"""Which packages of the build use cgo, and their directives, from ``go list -test -deps -json``.

Tests are listed too, so a cgo package only a test imports is locked; the test variants go
lists (``p [p.test]``) are the same package and count once, the generated ``p.test`` mains have
no cgo.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from envsnap.config import THE_WHOLE_MODULE, Packages
from envsnap.entry import CgoPackage, CgoSection, JsonObject
from envsnap.errors import BrokenGoFile, HostError
from envsnap.host import CommandResult, Host, ToolNotFound
from envsnap.prefetch import FIELDS as FIELDS  # the listing lock starts early (prefetch)
from envsnap.prefetch import GO_LIST_OUTPUT_LIMIT as GO_LIST_OUTPUT_LIMIT
from envsnap.prefetch import GO_LIST_TIMEOUT as GO_LIST_TIMEOUT
from envsnap.prefetch import LISTING as LISTING
from envsnap.prefetch import WHOLE_MODULE as WHOLE_MODULE
from envsnap.probes import listerrors

GO_LIST_MESSAGE_LINES = 20  # go's whole message: what failed comes first, the fix after
# a go before 1.20 (and a recording made by an envsnap that asked so) lists every field
TEST_LISTING = ("list", "-e", "-test", "-deps", "-json")
PLAIN_LISTING = ("list", "-e", "-deps", "-json")


# A package as ``go list -json`` prints it (parse_listing checks the fields envsnap reads).
Listed = Mapping[str, object]


def iter_json_stream(text: str) -> list[JsonObject]:
    """``go list -json`` prints one JSON object after another, not an array; ValueError for
    anything else (not JSON, JSON values other than objects, or nesting too deep for Python's
    decoder)."""
    decoder = json.JSONDecoder()
    objects: list[JsonObject] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return objects
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if not isinstance(obj, dict):
            raise ValueError(f"a JSON {type(obj).__name__} where a package object belongs")
        objects.append(obj)


# The type each field envsnap reads must have (absent and null are fine).
FIELD_TYPES: dict[str, type] = {
    "ImportPath": str,
    "Dir": str,
    "Standard": bool,
    "CgoFiles": list,
    "CgoPkgConfig": list,
    "CgoCPPFLAGS": list,
    "CgoCFLAGS": list,
    "CgoCXXFLAGS": list,
    "CgoLDFLAGS": list,
    "CXXFiles": list,
    "Error": dict,
    "DepsErrors": list,
}
LIST_OF_STRINGS = ("CgoFiles", "CgoPkgConfig", "CgoCPPFLAGS", "CgoCFLAGS", "CgoCXXFLAGS")


def shape_error(pkg: Listed) -> str | None:
    """What is wrong with the shape of one listed package, or None when envsnap can read it."""
    for name, wanted in FIELD_TYPES.items():
        value = pkg.get(name)
        if value is not None and not isinstance(value, wanted):
            return f"{name} is a {type(value).__name__}, not a {wanted.__name__}"
    for name in (*LIST_OF_STRINGS, "CgoLDFLAGS", "CXXFiles"):
        if not all(isinstance(x, str) for x in _items(pkg, name)):
            return f"{name} holds something other than strings"
    return None


def _items(pkg: Listed, name: str) -> list[object]:
    """The list field *name* of *pkg*; empty when absent or null."""
    value = pkg.get(name)
    return value if isinstance(value, list) else []


def _strings(pkg: Listed, *names: str) -> list[str]:
    """The list fields *names* of *pkg* (lists of strings, as shape_error checks), joined."""
    return [str(x) for name in names for x in _items(pkg, name)]


def cgo_package(pkg: Listed) -> CgoPackage | None:
    """The cgo part of one ``go list`` package, or None for pure-Go and standard packages."""
    if pkg.get("Standard") or not (pkg.get("CgoFiles") or pkg.get("CgoPkgConfig")):
        return None
    section: CgoPackage = {
        "path": package_path(str(pkg.get("ImportPath", ""))),
        "pkg_config": _strings(pkg, "CgoPkgConfig"),
        "cflags": _strings(pkg, "CgoCPPFLAGS", "CgoCFLAGS"),
        "ldflags": _strings(pkg, "CgoLDFLAGS"),
    }
    if pkg.get("CXXFiles"):  # the link then runs through $CXX (cmd/go/internal/work/gc.go)
        section["cxx"] = True
    if pkg.get("CgoCXXFLAGS"):
        section["cxxflags"] = _strings(pkg, "CgoCXXFLAGS")
    return section


def package_path(import_path: str) -> str:
    """``p [p.test]`` (p recompiled for its tests) is the package ``p``."""
    return import_path.split(" [", 1)[0]


def cgo_packages(packages: Sequence[Listed]) -> list[CgoPackage]:
    """Each cgo package once, sorted by import path."""
    found: dict[str, CgoPackage] = {}
    for section in filter(None, map(cgo_package, packages)):
        found.setdefault(section["path"], section)
    return [found[path] for path in sorted(found)]


def arguments(args: tuple[str, ...]) -> tuple[str, ...]:
    """The listing's arguments: ``./...`` as envsnap always gave it, any other set after ``--``
    (none for none)."""
    return args if args in (WHOLE_MODULE, ()) else ("--", *args)


def _list(host: Host, go: str, module_dir: str, args: tuple[str, ...]) -> CommandResult:
    def run(listing: tuple[str, ...]) -> CommandResult:
        argv = [go, *listing, *arguments(args)]
        return host.run(argv, cwd=module_dir, timeout=GO_LIST_TIMEOUT, limit=GO_LIST_OUTPUT_LIMIT)

    for listing in (LISTING, TEST_LISTING):
        try:
            result = run(listing)
        except ToolNotFound:
            if not host.replayed:
                raise
            continue
        if result.ok or "-json" not in result.err:  # a go before 1.20 refuses -json=FIELDS
            return result
    # a recording made before envsnap listed tests holds only the plain listing
    return run(PLAIN_LISTING)


def list_packages(
    host: Host, go: str, module_dir: str, args: tuple[str, ...] = WHOLE_MODULE
) -> list[JsonObject]:
    """Every package *args* (``go list``'s patterns or import paths) names, with their
    dependencies and tests, as ``go list`` describes them; none for no arguments."""
    if not args:
        return []
    result = _list(host, go, module_dir, args)
    if not result.ok:
        broken = broken_go_file(result.err)
        if broken is not None:
            raise broken
        said = result.describe_failure(first_lines=GO_LIST_MESSAGE_LINES)
        raise HostError(
            f"cannot list the module's packages: {said}",
            "run `go list ./...` in the module to see go's whole message",
        )
    return parse_listing(result)


_PARSE_ERROR = re.compile(r"^go: errors parsing (go\.mod|go\.work):\s*\n\s*(\S.*)$", re.MULTILINE)


def broken_go_file(stderr: str) -> BrokenGoFile | None:
    """go's refusal to parse go.mod or go.work, as one line with go's own words; else None."""
    found = _PARSE_ERROR.search(stderr)
    if found is None:
        return None
    name, said = found[1], found[2].strip()
    said = re.sub(r"(?<!\S)\S*/" + re.escape(name) + ":", f"{name}:", said)  # no paths
    return BrokenGoFile(
        f"go cannot read {name}: {said}", f"fix {name}; `go list ./...` prints the same message"
    )


def parse_listing(result: CommandResult) -> list[JsonObject]:
    """The packages of a ``go list -json`` run; a one-line HostError for output of another
    shape (garbage, JSON that is not objects, fields of the wrong type)."""
    try:
        packages = iter_json_stream(result.out)
    except ValueError:
        raise HostError(
            "`go list -json` printed something that is not JSON objects",
            "run `go list -json ./...` by hand; a wrapper in front of go may be printing",
        ) from None
    for pkg in packages:
        wrong = shape_error(pkg)
        if wrong is not None:
            raise HostError(
                f"`go list -json` printed a package envsnap cannot read: {wrong}",
                "run `go list -json ./...` by hand; a wrapper in front of go may be rewriting it",
            )
    return packages


def cgo_section(
    packages: Sequence[Listed], scope: Packages = THE_WHOLE_MODULE, modules: Sequence[str] = ()
) -> CgoSection:
    """Every cgo package among *packages*, standard library excluded; the package patterns
    when they are not the whole module; and what go could not load, one line per cause
    (*modules*: the paths go.mod requires, to name the missing ones).

    The standard library's own cgo flags (``-lpthread`` for runtime/cgo, ``-lresolv`` for net)
    follow the Go version, which is locked already.
    """
    section: CgoSection = {"packages": cgo_packages(packages)}
    if scope.include != THE_WHOLE_MODULE.include:
        section["include"] = list(scope.include)
    if scope.exclude:
        section["exclude"] = list(scope.exclude)
    errors = listerrors.causes(packages, modules)
    if errors:
        section["package_errors"] = errors
    return section
