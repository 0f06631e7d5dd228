"""Which packages a build locks: ``go list``'s patterns from envsnap.toml, less the exclusions.

go has no exclusion syntax, so a set with exclusions is listed in two steps: the include
patterns alone (``go list -e -json=ImportPath,Dir``), then the packages that no exclusion
matches, by import path, with their dependencies and tests. A package left out is then not
built at all, and neither is anything only it imports; a package the others import is built
anyway, as ``go build`` would. Without exclusions the patterns go straight to the listing.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass

from envsnap.config import Packages
from envsnap.errors import HostError
from envsnap.gopattern import is_relative, match_pattern
from envsnap.host import CommandResult, Host, ToolNotFound

GO_LIST_TIMEOUT = 120.0
ROOT_FIELDS = "ImportPath,Dir"


@dataclass(frozen=True)
class Roots:
    """What ``go list`` is given, and what the exclusions left out."""

    args: tuple[str, ...]
    excluded: tuple[str, ...] = ()  # import paths of the packages left out
    unmatched: tuple[str, ...] = ()  # exclusion patterns that matched no package


NOTHING_LEFT_OUT = Roots(())


def _run_roots(
    host: Host, go: str, module_dir: str, include: tuple[str, ...], env: Mapping[str, str] | None
) -> CommandResult:
    """``go list -e -json=ImportPath,Dir`` of the patterns (``-json`` for a go before 1.20)."""
    from envsnap.probes.cgo import GO_LIST_OUTPUT_LIMIT

    def run(fields: str) -> CommandResult:
        argv = [go, "list", "-e", fields, "--", *include]
        limit = GO_LIST_OUTPUT_LIMIT
        return host.run(argv, cwd=module_dir, timeout=GO_LIST_TIMEOUT, env=env, limit=limit)

    try:
        result = run(f"-json={ROOT_FIELDS}")
    except ToolNotFound:
        if not host.replayed:
            raise
        return run("-json")  # a recording of a go before 1.20
    return result if result.ok or "-json" not in result.err else run("-json")


def _dir_name(pkg: Mapping[str, object], tops: tuple[str, ...]) -> str | None:
    """The package's directory as a relative pattern names it: ``.`` or ``./sub/dir``."""
    directory = pkg.get("Dir")
    if not isinstance(directory, str):
        return None
    for top in tops:
        if directory == top:
            return "."
        if directory.startswith(top.rstrip("/") + "/"):
            return "./" + posixpath.relpath(directory, top)
    return None


def excluded_by(pattern: str, pkg: Mapping[str, object], tops: tuple[str, ...]) -> bool:
    """Whether the exclusion *pattern* matches *pkg*: a relative one its directory, any other
    its import path, by Go's pattern rules."""
    if is_relative(pattern):
        name = _dir_name(pkg, tops)
        return name is not None and match_pattern(pattern)(name)
    return match_pattern(pattern)(str(pkg.get("ImportPath", "")))


def resolve(
    host: Host,
    go: str,
    module_dir: str,
    packages: Packages,
    env: Mapping[str, str] | None = None,
) -> Roots:
    """The arguments of the listing for *packages*, and the packages it leaves out (*env*:
    variables the go commands get besides the host's)."""
    if not packages.exclude:
        return Roots(packages.include)
    from envsnap.probes.cgo import parse_listing

    result = _run_roots(host, go, module_dir, packages.include, env)
    if not result.ok:
        raise HostError(
            f"cannot list the packages of {packages.describe()}: "
            f"{result.describe_failure(first_lines=20)}",
            "run `go list ./...` in the module to see go's whole message",
        )
    tops = tuple(dict.fromkeys((module_dir, host.realpath(module_dir))))
    kept: list[str] = []
    excluded: list[str] = []
    used: set[str] = set()
    for pkg in parse_listing(result):
        hits = [p for p in packages.exclude if excluded_by(p, pkg, tops)]
        used.update(hits)
        (excluded if hits else kept).append(str(pkg.get("ImportPath", "")))
    unmatched = tuple(p for p in packages.exclude if p not in used)
    return Roots(tuple(sorted(set(kept))), tuple(sorted(set(excluded))), unmatched)
