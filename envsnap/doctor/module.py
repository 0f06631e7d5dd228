"""The module-layout checks: go.mod found, module mode, import paths, replaces, test cycles."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from envsnap import gomod
from envsnap.doctor.facts import (
    Check,
    Evidence,
    Facts,
    GoPackage,
    go_env_evidence,
    go_mod_evidence,
    is_under,
    listing_unavailable,
    package_error,
    package_errors,
    plural,
    skipped,
    strings,
)
from envsnap.entry import JsonObject
from envsnap.probes import listerrors

TEST_CYCLE = "import cycle not allowed in test"
NO_MODULE = "command-line-arguments"  # `go list -m` outside a module (go 1.25, 1.26: exit 0)


def check_module_root(facts: Facts) -> Check:
    cid, title = "module.gomod", "inside a Go module"
    run = facts.list_module
    if facts.go_env.get("GO111MODULE") == "off":
        return skipped(cid, title, "GO111MODULE=off: go ignores go.mod (see module.gopath-mode)")
    printed = run.stdout.strip() if run is not None and run.ok else ""
    if facts.module_root is None or printed == NO_MODULE:
        return no_module(facts)
    if run is None or not run.ran:
        return skipped(cid, title, f"`go list -m` could not run: {run.failure if run else 'no go'}")
    if not run.ok and "requires go >=" in run.stderr:
        return skipped(cid, title, "go refuses this go.mod's go version (see go.toolchain)")
    if not run.ok:
        return Check(
            cid,
            title,
            "problem",
            "`go list -m` fails: go cannot load the module",
            (run.evidence(),),
            "fix the go.mod error go names (`go mod tidy` reports it too)",
        )
    return Check(cid, title, "ok", f"module {printed} at {facts.module_root}", (run.evidence(),))


def no_module(facts: Facts) -> Check:
    run = facts.list_module
    evidence = [run.evidence()] if run is not None and (run.ran or run.failure) else []
    if "GOMOD" in facts.go_env:
        evidence.append(go_env_evidence(facts, "GOMOD"))
    evidence.append(
        Evidence("derived", "file system", (f"no go.mod in {facts.directory} or any parent",))
    )
    return Check(
        "module.gomod",
        "inside a Go module",
        "problem",
        f"no go.mod in {facts.directory} or any parent: go builds loose files as "
        f"`{NO_MODULE}`, so `go run file.go` works while `go test ./...` finds no module",
        tuple(evidence),
        "run `go mod init <module path>` at the project's root, or point envsnap at it with -C",
    )


def check_gopath_mode(facts: Facts) -> Check:
    cid, title = "module.gopath-mode", "module mode, not GOPATH mode"
    if not facts.go_env:
        return skipped(cid, title, "go env could not be read")
    setting = facts.go_env.get("GO111MODULE", "")
    inside = gopath_location(facts)
    evidence = (go_env_evidence(facts, "GO111MODULE", "GOPATH"),)
    unset = "unset GO111MODULE (and `go env -u GO111MODULE` if it was set with go env -w)"
    if setting == "off":
        return Check(
            cid,
            title,
            "problem",
            "GO111MODULE=off: go ignores go.mod and looks for every import under GOPATH/src",
            evidence,
            unset,
        )
    if setting == "auto" and inside is not None:
        return Check(
            cid,
            title,
            "warning",
            f"GO111MODULE=auto inside {inside[0]}/src: modules are on only while go finds go.mod; "
            "Go before 1.13, and tools that assume GOPATH mode, resolve imports from GOPATH/src",
            evidence,
            f"{unset}, or move the project out of {inside[0]}/src",
        )
    return Check(cid, title, "ok", f"GO111MODULE={setting or '(default)'}", evidence)


def gopath_location(facts: Facts) -> tuple[str, str] | None:
    """(GOPATH entry, path below its src/) when the module (or directory) is inside GOPATH/src."""
    where = facts.module_root or facts.directory
    for entry in filter(None, facts.go_env.get("GOPATH", "").split(":")):
        src = entry.rstrip("/") + "/src"
        if where.startswith(src + "/"):
            return entry, where[len(src) + 1 :]
    return None


def check_gopath_path(facts: Facts) -> Check:
    cid, title = "module.gopath-path", "module path matches its place in GOPATH/src"
    module = facts.module_path
    inside = gopath_location(facts)
    if module is None or not facts.go_env:
        return skipped(cid, title, "no go.mod with a module line, or no go env")
    if inside is None:
        return Check(cid, title, "ok", "the module is not inside GOPATH/src")
    entry, below = inside
    if below == module:
        return Check(cid, title, "ok", f"{entry}/src/{below} matches `module {module}`")
    return Check(
        cid,
        title,
        "warning",
        f"go.mod says `module {module}` but the module sits at {entry}/src/{below}: "
        f"GOPATH-mode tools and old go versions import it as `{below}`",
        (go_mod_evidence(facts, r"module\s"), go_env_evidence(facts, "GOPATH")),
        f"make the module line `module {below}`, or move the directory to {entry}/src/{module}",
    )


def check_import_path(facts: Facts) -> Check:
    cid, title = "module.import-path", "the module's own packages are imported by its module path"
    module = facts.module_path
    unavailable = listing_unavailable(facts, cid, title)
    if module is None or unavailable is not None:
        return unavailable or skipped(cid, title, "no go.mod with a module line")
    hits = foreign_imports(facts)
    if not hits:
        return Check(
            cid, title, "ok", f"every import of this module's packages starts with {module}"
        )
    path, relative, error = hits[0]
    listing = facts.test_listing if facts.test_packages else facts.listing
    line = f"{error.get('Pos', '')}: {error.get('Err', '')}".lstrip(": ")
    return Check(
        cid,
        title,
        "problem",
        f"`{path}` is imported, but this module's package in ./{relative} is `{module}/{relative}`"
        + (f" (and {plural(len(hits) - 1, 'more import')})" if len(hits) > 1 else ""),
        (
            Evidence("command", listing.shown if listing else "go list", (line,)),
            go_mod_evidence(facts, r"module\s"),
        ),
        f"import it as `{module}/{relative}`; if the module was renamed on purpose, change every "
        "import of the old path (or put the old path back on the module line)",
    )


def foreign_imports(facts: Facts) -> list[tuple[str, str, JsonObject]]:
    """(import path, own package dir, the failing package's error) for imports of own packages
    by another module path: an import go cannot resolve whose path ends with ``/<dir>`` of a
    package of this module, while ``<module path>/<dir>`` is not that import path."""
    module = facts.module_path or ""
    packages = facts.test_packages or facts.packages
    dirs = own_package_dirs(facts, packages)
    hits: dict[str, tuple[str, str, JsonObject]] = {}
    for pkg in packages:
        path = str(pkg.get("ImportPath", ""))
        if (error := package_error(pkg)) is None:
            continue
        for relative in sorted(dirs):
            old = path[: -len(relative) - 1]
            if path == f"{old}/{relative}" and old != module and looks_renamed(old, module):
                hits.setdefault(path, (path, relative, error))
    return sorted(hits.values(), key=lambda hit: hit[0])


def looks_renamed(old: str, module: str) -> bool:
    """Whether *old* reads like an earlier path of *module*: the same last element (another
    host or owner), or the same length differing in one element (an owner or a repository
    renamed). github.com/golang/freetype is not an old name of github.com/veandco/go-sdl2: an
    import of its raster package is a missing requirement, not a stale import of ./raster."""
    a, b = old.split("/"), module.split("/")
    if a[-1] == b[-1]:
        return True
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1


# go's messages for an import that no module in go.mod provides (the second with GOPROXY=off).
UNPROVIDED = ("no required module provides package", "cannot find module providing package")


def unprovided_imports(facts: Facts) -> list[tuple[str, JsonObject]]:
    """(import path, the failing package's error) for imports no required module provides."""
    renamed = {hit[0] for hit in foreign_imports(facts)}
    found: dict[str, tuple[str, JsonObject]] = {}
    for pkg in facts.test_packages or facts.packages:
        path = str(pkg.get("ImportPath", ""))
        error = package_error(pkg)
        if error is None or path in renamed:
            continue
        if any(message in str(error.get("Err", "")) for message in UNPROVIDED):
            found.setdefault(path, (path, error))
    return sorted(found.values(), key=lambda hit: hit[0])


def check_requirements(facts: Facts) -> Check:
    cid, title = "module.requirements", "go.mod requires every module the packages import"
    unavailable = listing_unavailable(facts, cid, title)
    if facts.module_path is None or unavailable is not None:
        return unavailable or skipped(cid, title, "no go.mod with a module line")
    hits = unprovided_imports(facts)
    if not hits:
        return Check(cid, title, "ok", "every imported package comes from a required module")
    path, error = hits[0]
    stack = " -> ".join(strings(error, "ImportStack"))
    listing = facts.test_listing if facts.test_packages else facts.listing
    message = str(error.get("Err", "")).split("; to add it")[0]
    line = f"{error.get('Pos', '')}: {message}".lstrip(": ")
    return Check(
        cid,
        title,
        "problem",
        f"`{path}` is imported{f' by {stack}' if stack else ''}, but go.mod requires no module "
        "that provides it"
        + (f" (and {plural(len(hits) - 1, 'more import')})" if len(hits) > 1 else ""),
        (Evidence("command", listing.shown if listing else "go list", (line,)),),
        f"add the requirement: `go get {path}` (or `go mod tidy`), with network access or a "
        "GOPROXY that has it, and commit go.mod and go.sum",
    )


def check_packages(facts: Facts) -> Check:
    cid, title = "module.packages", "go list loads every package"
    unavailable = listing_unavailable(facts, cid, title)
    if facts.module_path is None or unavailable is not None:
        return unavailable or skipped(cid, title, "no go.mod with a module line")
    packages = facts.test_packages or facts.packages
    modules = [line.args[0] for line in gomod.parse(facts.go_mod or "").all("require") if line.args]
    causes = listerrors.causes(packages, modules, skip=reported_elsewhere)
    if not causes:
        others = listerrors.causes(packages, modules)
        said = "its errors are the ones the checks above report" if others else "no package error"
        return Check(cid, title, "ok", f"`go list` loads every package: {said}")
    listing = facts.test_listing if facts.test_packages else facts.listing
    return Check(
        cid,
        title,
        "problem",
        f"`go list` cannot load every package: {causes[0]}"
        + (f" (and {plural(len(causes) - 1, 'more cause')})" if len(causes) > 1 else ""),
        (Evidence("command", listing.shown if listing else "go list", tuple(causes)),),
        "each line says what the packages need; or leave them out of envsnap.toml's "
        "[packages] (docs/config.md)",
    )


def reported_elsewhere(message: str) -> bool:
    """A go message the requirement and test-cycle checks report (renamed imports are
    unprovided imports too)."""
    return TEST_CYCLE in message or any(m in message for m in UNPROVIDED)


def own_package_dirs(facts: Facts, packages: Iterable[GoPackage]) -> set[str]:
    """Directories of the module's own packages, relative to the module root ('.' excluded)."""
    root = facts.module_root or ""
    found = set()
    for pkg in packages:
        directory = str(pkg.get("Dir") or "")
        if root and not pkg.get("DepOnly") and is_under(directory, root) and directory != root:
            relative = posixpath.relpath(directory, root)
            if not relative.startswith("vendor/"):
                found.add(relative)
    return found


def check_replace(facts: Facts) -> Check:
    cid, title = "module.replace", "local replace directives point at modules"
    if facts.go_mod is None:
        return skipped(cid, title, "no go.mod")
    broken = [r for r in facts.replacements if not r.has_go_mod]
    if not broken:
        count = len(facts.replacements)
        found = f"{plural(count, 'local replace directive')}, all present" if count else "none"
        return Check(cid, title, "ok", f"local replace directives: {found}")
    evidence = []
    for item in broken:
        state = "does not exist" if not item.exists else "has no go.mod"
        evidence.append(
            Evidence("file", f"{facts.module_root}/go.mod", (f"{item.line_number}: {item.line}",))
        )
        evidence.append(Evidence("derived", "file system", (f"{item.directory} {state}",)))
    first = broken[0]
    return Check(
        cid,
        title,
        "problem",
        f"`replace … => {first.target}` names {first.directory}, which "
        f"{'does not exist' if not first.exists else 'has no go.mod'}"
        + (f" (and {plural(len(broken) - 1, 'more')})" if len(broken) > 1 else ""),
        tuple(evidence),
        "check out the replaced module at that path (CI needs it too), or drop the replace and "
        "require a published version",
    )


def check_test_cycle(facts: Facts) -> Check:
    cid, title = "module.test-cycle", "no import cycle created by test files"
    run = facts.test_listing
    if run is None or not run.ran:
        return skipped(
            cid, title, f"`go list -test` could not run: {run.failure if run else 'no go'}"
        )
    if not run.ok:
        return skipped(cid, title, "`go list -test` failed", run.evidence())
    cycles = test_cycles(facts)
    if not cycles:
        return Check(cid, title, "ok", "no test package closes an import cycle")
    stack = strings(cycles[0], "ImportStack")
    lines = tuple(f"{' -> '.join(strings(c, 'ImportStack'))}: {c.get('Err')}" for c in cycles)
    tested = stack[0] if stack else "a package"
    name = next(
        (
            str(p["Name"])
            for p in facts.test_packages
            if p.get("ImportPath") == tested and p.get("Name")
        ),
        tested.rsplit("/", 1)[-1],
    )
    return Check(
        cid,
        title,
        "problem",
        f"the tests of {tested} import a package that imports {tested} back: `go build` works, "
        f'`go test` fails with "{TEST_CYCLE}"',
        (run.evidence(lines),),
        f"move those tests to an external test package (`package {name}_test`), or move what "
        "both need into a third package",
    )


def test_cycles(facts: Facts) -> list[JsonObject]:
    found: dict[tuple[str, ...], JsonObject] = {}
    for pkg in facts.test_packages:
        for error in package_errors(pkg):
            if TEST_CYCLE in str(error.get("Err", "")):
                found.setdefault(tuple(strings(error, "ImportStack")), error)
    return list(found.values())
