"""Which packages of the module use cgo, and their directives, from ``go list -deps -json``."""

from __future__ import annotations

import json
from typing import Any

from envsnap.errors import HostError
from envsnap.host import Host
from envsnap.probes import Section

GO_LIST_TIMEOUT = 120.0
GO_LIST_MESSAGE_LINES = 20  # go's whole message: what failed comes first, the fix after


def iter_json_stream(text: str) -> list[dict[str, Any]]:
    """``go list -json`` prints one JSON object after another, not an array."""
    decoder = json.JSONDecoder()
    objects: list[dict[str, Any]] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return objects
        obj, pos = decoder.raw_decode(text, pos)
        if isinstance(obj, dict):
            objects.append(obj)


def _package_errors(pkg: dict[str, Any]) -> list[str]:
    errors = []
    if isinstance(pkg.get("Error"), dict):
        errors.append(str(pkg["Error"].get("Err", "")).strip())
    for dep in pkg.get("DepsErrors") or []:
        if isinstance(dep, dict):
            errors.append(str(dep.get("Err", "")).strip())
    return [e for e in errors if e]


def cgo_package(pkg: dict[str, Any]) -> Section | None:
    """The cgo part of one ``go list`` package, or None for pure-Go and standard packages."""
    if pkg.get("Standard") or not (pkg.get("CgoFiles") or pkg.get("CgoPkgConfig")):
        return None
    return {
        "path": str(pkg.get("ImportPath", "")),
        "pkg_config": [str(x) for x in pkg.get("CgoPkgConfig") or []],
        "cflags": [str(x) for x in (pkg.get("CgoCPPFLAGS") or []) + (pkg.get("CgoCFLAGS") or [])],
        "ldflags": [str(x) for x in pkg.get("CgoLDFLAGS") or []],
    }


def list_packages(host: Host, go: str, module_dir: str) -> list[dict[str, Any]]:
    """Every package the module builds, with its dependencies, as ``go list`` describes them."""
    result = host.run(
        [go, "list", "-e", "-deps", "-json", "./..."], cwd=module_dir, timeout=GO_LIST_TIMEOUT
    )
    if not result.ok:
        said = result.describe_failure(first_lines=GO_LIST_MESSAGE_LINES)
        raise HostError(f"cannot list the module's packages: {said}")
    try:
        return iter_json_stream(result.out)
    except ValueError:
        raise HostError("`go list -json` printed something that is not JSON") from None


def cgo_section(packages: list[dict[str, Any]]) -> Section:
    """Every cgo package among *packages*, standard library excluded.

    The standard library's own cgo flags (``-lpthread`` for runtime/cgo, ``-lresolv`` for net)
    follow the Go version, which is locked already.
    """
    found = [p for p in map(cgo_package, packages) if p is not None]
    errors = sorted({e for p in packages for e in _package_errors(p)})
    section: Section = {"packages": sorted(found, key=lambda p: p["path"])}
    if errors:
        section["package_errors"] = errors
    return section


def probe_cgo(host: Host, go: str, module_dir: str) -> Section:
    return cgo_section(list_packages(host, go, module_dir))
