"""Which probes of a snapshot failed: a lock with any of them does not describe a working build.

``lock`` refuses such an entry (exit 1, naming each failure) unless ``--allow-incomplete``; then
the entry keeps the list in its ``incomplete`` field, covered by the digest, and ``verify`` on
any machine reports it first.
"""

from __future__ import annotations

from collections.abc import Mapping

from envsnap.config import Packages
from envsnap.entry import Content, Library
from envsnap.errors import EnvsnapError
from envsnap.host import Host
from envsnap.probes import cgo
from envsnap.probes.scope import resolve

# The sections whose failure means the module cannot be built here. The others (os, linker,
# apple) only describe the machine less fully; lock warns about them (see WARN_ONLY).
SECTION_NAMES = {"cc.compiler": "C compiler", "cgo": "package list (go list)"}
WARN_ONLY = {"os": "operating system", "cc.linker": "linker", "apple": "Apple developer tools"}


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _library_failure(lib: Library, error: str) -> str:
    pkg_config = lib["found_by"] == "pkg-config"
    name = f"pkg-config module {lib['name']}" if pkg_config else f"library -l{lib['name']}"
    users = ", ".join(lib["used_by"])
    return f"{name} (used by {users}): {_one_line(error)}"


def section_failures(entry: Mapping[str, object], names: Mapping[str, str]) -> list[str]:
    """``name: error`` for each section of *names* (dotted paths) whose probe failed."""
    failures = []
    for where, name in names.items():
        section: object = entry
        for key in where.split("."):
            section = section.get(key) if isinstance(section, Mapping) else None
        error = section.get("error") if isinstance(section, Mapping) else None
        if error:
            failures.append(f"{name}: {_one_line(str(error))}")
    return failures


def probe_failures(entry: Content) -> list[str]:
    """One line per failed probe of *entry* that leaves the build unusable: the compiler, the
    package list, each cause of packages go could not load, each library that did not resolve."""
    failures = section_failures(entry, SECTION_NAMES)
    causes = entry["cgo"].get("package_errors") or []
    failures += [f"{SECTION_NAMES['cgo']}: {cause}" for cause in causes]
    if no_compiler(entry):  # no compiler, no linker to resolve -l with: one cause, one line
        return failures
    failures += [
        _library_failure(lib, error) for lib in entry["libraries"] if (error := lib.get("error"))
    ]
    return failures


def no_compiler(entry: Mapping[str, object]) -> bool:
    """Whether the C compiler's probe failed, so that what is found through it (the linker,
    each library's resolution) failed with it and says nothing more."""
    return bool(section_failures(entry, {"cc.compiler": ""}))


def partial_sections(entry: Mapping[str, object]) -> list[str]:
    """The WARN_ONLY sections that failed, less the linker when the compiler did."""
    names = dict(WARN_ONLY)
    if no_compiler(entry):
        del names["cc.linker"]
    return section_failures(entry, names)


def cgo_disabled_failure(
    host: Host, go: str, module_dir: str, go_env: Mapping[str, str], scope: Packages
) -> str:
    """With CGO_ENABLED=0 go silently skips every cgo file, so the lock would list no cgo
    package: name the packages of *scope* a cgo-enabled build compiles ("" when none)."""
    if go_env.get("CGO_ENABLED", "1") == "1":
        return ""
    cgo_on = {"CGO_ENABLED": "1"}
    try:
        roots = resolve(host, go, module_dir, scope, cgo_on)
    except EnvsnapError:
        return ""
    if not roots.args:
        return ""
    result = host.run(
        [go, "list", "-e", "-deps", "-json", *cgo.arguments(roots.args)],
        cwd=module_dir,
        timeout=cgo.GO_LIST_TIMEOUT,
        env=cgo_on,
        limit=cgo.GO_LIST_OUTPUT_LIMIT,
    )
    if not result.ok:
        return ""
    found = [p for p in map(cgo.cgo_package, cgo.parse_listing(result)) if p is not None]
    if not found:
        return ""
    where = (
        "set in the environment"
        if host.getenv("CGO_ENABLED")
        else "from go env -w, or go's default when it finds no C compiler"
    )
    packages = ", ".join(sorted(p["path"] for p in found))
    return f"CGO_ENABLED=0 ({where}): go skips the cgo files of {packages}"
