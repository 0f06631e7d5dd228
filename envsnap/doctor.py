"""``envsnap doctor``'s checks: why ``go run`` works and ``go test`` does not (FIELD-GUIDE §2).

This module is pure: :class:`Facts` holds what ``envsnap.commands.doctor`` gathered through a
Host (commands with their output, files, environment values), and each ``check_*`` function
turns those facts into one :class:`Check` with a status, the evidence and a fix. Nothing here
runs a command or touches the file system. The checks and their rules are documented in
``docs/doctor.md``.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["ok", "warning", "problem", "skipped"]
STATUS_ORDER: tuple[Status, ...] = ("problem", "warning", "ok", "skipped")
TEST_CYCLE = "import cycle not allowed in test"
NO_MODULE = "command-line-arguments"  # `go list -m` outside a module (go 1.25, 1.26: exit 0)
CGO_FLAG_DEFAULTS = {
    "CGO_CFLAGS": "-O2 -g",
    "CGO_CPPFLAGS": "",
    "CGO_CXXFLAGS": "-O2 -g",
    "CGO_FFLAGS": "-O2 -g",
    "CGO_LDFLAGS": "-O2 -g",
}


@dataclass(frozen=True)
class Evidence:
    """Where a conclusion comes from: a command and the lines of its output that show it."""

    kind: Literal["command", "file", "environment", "derived"]
    source: str  # the command line, the file (with line number), or the variable
    lines: tuple[str, ...] = ()
    exit_code: int | None = None

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"kind": self.kind, "source": self.source}
        if self.exit_code is not None:
            document["exit_code"] = self.exit_code
        document["lines"] = list(self.lines)
        return document


@dataclass(frozen=True)
class Check:
    """One diagnosis: its id, status, a one-line summary, the evidence and the fix."""

    id: str
    title: str
    status: Status
    summary: str
    evidence: tuple[Evidence, ...] = ()
    fix: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "summary": self.summary,
            "evidence": [e.to_json() for e in self.evidence],
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Ran:
    """A command doctor ran through the Host, or why it could not run (``failure``)."""

    shown: str  # the command line as a user would type it
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    failure: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def ran(self) -> bool:
        return self.returncode is not None

    def evidence(self, lines: Iterable[str] | None = None, limit: int = 6) -> Evidence:
        """This command with the chosen lines (default: the last lines of stderr, else stdout)."""
        if lines is None:
            lines = (
                tail(self.stderr) or tail(self.stdout) or ([self.failure] if self.failure else [])
            )
        return Evidence("command", self.shown, tuple(list(lines)[:limit]), self.returncode)


def tail(text: str, count: int = 4) -> list[str]:
    return [line for line in text.strip().splitlines() if line.strip()][-count:]


@dataclass(frozen=True)
class Replacement:
    """A ``replace`` directive of go.mod whose target is a local directory."""

    line_number: int
    line: str
    target: str  # as written
    directory: str  # resolved against the module root
    has_go_mod: bool
    exists: bool


@dataclass(frozen=True)
class LinkedLibrary:
    """Where one ``-l`` library of a cgo package resolves, with the flags that chose it."""

    package: str
    name: str
    flags: tuple[str, ...]  # the package's #cgo CFLAGS/CPPFLAGS/LDFLAGS as go list gives them
    searched: tuple[str, ...]  # -L dirs (CGO_LDFLAGS first), then the linker's default dirs
    resolved: str | None
    header_prefixes: tuple[str, ...] = ()  # realpaths of the prefixes the -I flags name
    copies_in_prefixes: tuple[str, ...] = ()  # the library as found inside those prefixes
    resolved_real: str | None = None

    @property
    def shown(self) -> str:
        """``-lfoo``, or the file itself when the flags name one (``:…``, FIELD-GUIDE §5.4)."""
        return self.name[1:] if self.name.startswith(":") else f"-l{self.name}"


@dataclass(frozen=True)
class PkgConfigModule:
    """A ``#cgo pkg-config:`` module and how pkg-config answered for it."""

    name: str
    used_by: tuple[str, ...]
    modversion: Ran
    missing_libraries: tuple[str, ...] = ()  # what `pkg-config --libs` names, found nowhere
    libs: Ran | None = None


@dataclass(frozen=True)
class Sdk:
    """An SDK directory and the version its SDKSettings.json states."""

    path: str
    version: str | None


@dataclass(frozen=True)
class AppleFacts:
    """The macOS developer tools as the apple probe and a few extra reads see them."""

    section: dict[str, Any]  # probe_apple's section
    os_version: str | None
    xcode_select: Ran | None
    compiler_run: Ran | None
    clt_sdk: Sdk | None
    xcode_sdk: Sdk | None
    clt_receipt: Ran | None
    environ: dict[str, str | None]  # DEVELOPER_DIR, SDKROOT, IN_NIX_SHELL
    store_paths_exist: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class LockSummary:
    """What ``envsnap verify`` concludes, in one line."""

    line: str
    errors: int = 0
    warnings: int = 0
    unusable: bool = False
    subjects: tuple[str, ...] = ()


@dataclass(frozen=True)
class Facts:
    """Everything the checks look at, gathered once through the Host."""

    system: str
    directory: str
    module_root: str | None
    go_path: str | None  # the go executable, None when go is not on PATH
    go_env: dict[str, str]
    go_env_run: Ran | None
    gotoolchain: str | None
    gotoolchain_source: str
    go_mod: str | None  # go.mod's text
    list_module: Ran | None  # go list -m
    listing: Ran | None  # CGO_ENABLED=1 go list -e -deps -json ./...
    packages: tuple[dict[str, Any], ...] = ()
    test_listing: Ran | None = None  # go list -e -test -deps -json ./...
    test_packages: tuple[dict[str, Any], ...] = ()
    environ: dict[str, str | None] = field(default_factory=dict)
    cc_command: str = ""
    cc_path: str | None = None
    replacements: tuple[Replacement, ...] = ()
    vendored: bool = False
    linked: tuple[LinkedLibrary, ...] = ()
    pkg_config: str = "pkg-config"
    pkg_config_modules: tuple[PkgConfigModule, ...] = ()
    linker_search_known: bool = True  # False: the compiler could not say where the linker looks
    apple: AppleFacts | None = None
    lock: LockSummary | None = None

    @property
    def module_path(self) -> str | None:
        return module_path(self.go_mod) if self.go_mod is not None else None

    @property
    def cgo_packages(self) -> list[dict[str, Any]]:
        return [p for p in self.packages if not p.get("Standard") and p.get("CgoFiles")]

    @property
    def listed(self) -> bool:
        return self.listing is not None and self.listing.ok and bool(self.packages)


# --- go.mod ---------------------------------------------------------------------------------


def _words(line: str) -> list[str]:
    return [w.strip('"`') for w in line.split("//", 1)[0].split()]


def module_path(go_mod: str) -> str | None:
    for line in go_mod.splitlines():
        words = _words(line)
        if len(words) == 2 and words[0] == "module":
            return words[1]
    return None


def is_local_path(target: str) -> bool:
    """go.mod's rule: a replacement starting with ./ ../ or / is a directory, not a module."""
    return target.startswith(("./", "../", "/")) or target in (".", "..")


def local_replacements(go_mod: str) -> list[tuple[int, str, str]]:
    """(line number, line, target) for every ``replace`` whose target is a local directory."""
    found = []
    in_block = False
    for number, line in enumerate(go_mod.splitlines(), start=1):
        words = _words(line)
        if words[:2] == ["replace", "("]:
            in_block = True
            continue
        if in_block and words[:1] == [")"]:
            in_block = False
            continue
        spec = words[1:] if words[:1] == ["replace"] else words if in_block else []
        if "=>" in spec:
            target = spec[spec.index("=>") + 1 :]
            if len(target) == 1 and is_local_path(target[0]):
                found.append((number, line.strip(), target[0]))
    return found


# --- versions -------------------------------------------------------------------------------

_VERSION = re.compile(r"^(?:go)?(\d+)\.(\d+)(?:\.(\d+)|(rc|beta)(\d+))?")


def version_key(version: str) -> tuple[int, ...] | None:
    """Go's toolchain order: 1.21 (language) < 1.21rc1 < 1.21.0 < 1.21.1."""
    match = _VERSION.match(version.strip())
    if match is None:
        return None
    major, minor, patch, pre, pre_number = match.groups()
    if patch is not None:
        return (int(major), int(minor), int(patch), 0)
    if pre is not None:
        return (int(major), int(minor), -1, int(pre_number))
    return (int(major), int(minor), -2, 0)


def newer(required: str | None, local: str | None) -> bool:
    if not required or not local:
        return False
    want, have = version_key(required), version_key(local)
    return want is not None and have is not None and want > have


def switching(setting: str | None) -> bool:
    """GOTOOLCHAIN values that let go run another toolchain than itself."""
    if not setting:
        return False
    return setting in ("auto", "path") or setting.endswith(("+auto", "+path"))


# --- helpers for evidence --------------------------------------------------------------------


def go_env_evidence(facts: Facts, *keys: str) -> Evidence:
    lines = tuple(f"{key}={facts.go_env.get(key, '')}" for key in keys)
    source = facts.go_env_run.shown if facts.go_env_run else "go env"
    return Evidence(
        "command", source, lines, facts.go_env_run.returncode if facts.go_env_run else None
    )


def go_mod_evidence(facts: Facts, pattern: str) -> Evidence:
    text = facts.go_mod or ""
    lines = [
        f"{n}: {line}"
        for n, line in enumerate(text.splitlines(), start=1)
        if re.match(pattern, line.strip())
    ]
    return Evidence("file", f"{facts.module_root}/go.mod", tuple(lines))


def skipped(check_id: str, title: str, why: str, *evidence: Evidence) -> Check:
    return Check(check_id, title, "skipped", why, tuple(evidence))


def package_errors(pkg: dict[str, Any]) -> list[dict[str, Any]]:
    errors = [pkg["Error"]] if isinstance(pkg.get("Error"), dict) else []
    return errors + [e for e in pkg.get("DepsErrors") or [] if isinstance(e, dict)]


def listing_unavailable(facts: Facts, check_id: str, title: str) -> Check | None:
    """A skipped check when the package listing could not be read, else None."""
    if facts.listing is None:
        return skipped(check_id, title, "go is not available, so the packages cannot be listed")
    if not facts.listing.ok:
        return skipped(
            check_id,
            title,
            "`go list` failed, so the packages are unknown",
            facts.listing.evidence(),
        )
    return None


def is_under(path: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/") or "/"
    return path == prefix or path.startswith(prefix + "/") or prefix == "/"


def plural(count: int, noun: str, nouns: str = "") -> str:
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def names(items: Sequence[str]) -> str:
    return ", ".join(f"`{i}`" for i in items)


def listed_packages(facts: Facts, packages: Iterable[dict[str, Any]]) -> Evidence:
    """The listing command with one line per package: its import path and cgo files."""
    lines = [
        f"{p.get('ImportPath')}: CgoFiles {' '.join(p.get('CgoFiles') or [])}" for p in packages
    ]
    shown = facts.listing.shown if facts.listing else "go list"
    return Evidence(
        "command", shown, tuple(lines[:6]), facts.listing.returncode if facts.listing else None
    )


# --- module layout --------------------------------------------------------------------------


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


def gopath_location(facts: Facts) -> tuple[str, str] | None:
    """(GOPATH entry, path below its src/) when the module (or directory) is inside GOPATH/src."""
    where = facts.module_root or facts.directory
    for entry in filter(None, facts.go_env.get("GOPATH", "").split(":")):
        src = entry.rstrip("/") + "/src"
        if where.startswith(src + "/"):
            return entry, where[len(src) + 1 :]
    return None


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


def own_package_dirs(facts: Facts, packages: Iterable[dict[str, Any]]) -> set[str]:
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


def foreign_imports(facts: Facts) -> list[tuple[str, str, dict[str, Any]]]:
    """(import path, own package dir, failing package) for imports of own packages by another
    module path: an import go cannot resolve whose path ends with ``/<dir>`` of a package of
    this module, while ``<module path>/<dir>`` is not that import path."""
    module = facts.module_path or ""
    packages = facts.test_packages or facts.packages
    dirs = own_package_dirs(facts, packages)
    hits: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for pkg in packages:
        path = str(pkg.get("ImportPath", ""))
        if not isinstance(pkg.get("Error"), dict):
            continue
        for relative in sorted(dirs):
            if path.endswith("/" + relative) and path != f"{module}/{relative}":
                hits.setdefault(path, (path, relative, pkg))
    return sorted(hits.values(), key=lambda hit: hit[0])


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
    path, relative, pkg = hits[0]
    error = pkg["Error"]
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


def test_cycles(facts: Facts) -> list[dict[str, Any]]:
    found: dict[tuple[str, ...], dict[str, Any]] = {}
    for pkg in facts.test_packages:
        for error in package_errors(pkg):
            if TEST_CYCLE in str(error.get("Err", "")):
                found.setdefault(tuple(error.get("ImportStack") or []), error)
    return list(found.values())


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
    stack = [str(p) for p in cycles[0].get("ImportStack") or []]
    lines = tuple(f"{' -> '.join(c.get('ImportStack') or [])}: {c.get('Err')}" for c in cycles)
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


# --- Go toolchain ---------------------------------------------------------------------------


def go_mod_versions(go_mod: str | None) -> tuple[str | None, str | None]:
    """go.mod's ``go`` line and its ``toolchain`` line (without the ``go`` prefix)."""
    go_line = toolchain = None
    for line in (go_mod or "").splitlines():
        words = _words(line)
        if len(words) == 2 and words[0] == "go":
            go_line = words[1]
        elif len(words) == 2 and words[0] == "toolchain":
            toolchain = words[1].removeprefix("go")
    return go_line, toolchain


def toolchain_evidence(facts: Facts) -> tuple[Evidence, ...]:
    setting = Evidence(
        "environment" if facts.gotoolchain_source == "environment" else "derived",
        facts.gotoolchain_source,
        (f"GOTOOLCHAIN={facts.gotoolchain}",),
    )
    return (
        go_mod_evidence(facts, r"(go|toolchain)\s"),
        go_env_evidence(facts, "GOVERSION"),
        setting,
    )


def check_toolchain(facts: Facts) -> Check:
    cid, title = "go.toolchain", "the local go satisfies go.mod without switching"
    if facts.go_path is None:
        missing = Evidence("environment", "PATH", ("`go` is not on PATH",))
        return Check(cid, title, "problem", "`go` is not on PATH", (missing,), "install Go")
    local = facts.go_env.get("GOVERSION", "").removeprefix("go")
    go_line, toolchain = go_mod_versions(facts.go_mod)
    if not local or go_line is None:
        return skipped(cid, title, "no go.mod go line or no GOVERSION to compare")
    evidence = toolchain_evidence(facts)
    fixed = facts.gotoolchain or ""
    if fixed.startswith("go1") and "+" not in fixed and fixed.removeprefix("go") != local:
        return Check(
            cid,
            title,
            "warning",
            f"GOTOOLCHAIN={fixed}: go runs {fixed} (downloading it if needed), not the local "
            f"go {local}",
            evidence,
            "unset GOTOOLCHAIN, or install that version first on PATH",
        )
    if newer(go_line, local) and not switching(facts.gotoolchain):
        said = facts.list_module
        extra = (said.evidence(),) if said is not None and "requires go" in said.stderr else ()
        return Check(
            cid,
            title,
            "problem",
            f"go.mod requires go >= {go_line}, the local go is {local} and "
            f"GOTOOLCHAIN={facts.gotoolchain} forbids a switch: every go command refuses the "
            "module",
            evidence + extra,
            f"install go {go_line} or newer first on PATH (then `envsnap lock`)",
        )
    target = toolchain if newer(toolchain, local) else go_line if newer(go_line, local) else None
    if target is not None and switching(facts.gotoolchain):
        how = "search PATH for" if "path" in (facts.gotoolchain or "") else "download"
        return Check(
            cid,
            title,
            "warning",
            f"go.mod asks for go {target}, newer than the local go {local}, and "
            f"GOTOOLCHAIN={facts.gotoolchain}: go will {how} go{target} and build with it, "
            "not with the go envsnap probed",
            evidence,
            f"install go{target} first on PATH, or set GOTOOLCHAIN=local to make go refuse "
            "instead of switching silently",
        )
    return Check(cid, title, "ok", f"go {local} satisfies go.mod's go {go_line}", evidence)


# --- cgo ------------------------------------------------------------------------------------


def check_cgo_enabled(facts: Facts) -> Check:
    cid, title = "cgo.enabled", "cgo is on when the module has cgo files"
    setting = facts.go_env.get("CGO_ENABLED")
    evidence = go_env_evidence(facts, "CGO_ENABLED")
    if not facts.go_env:
        return skipped(cid, title, "go env could not be read")
    if setting != "0":
        return Check(cid, title, "ok", f"CGO_ENABLED={setting}", (evidence,))
    unavailable = listing_unavailable(facts, cid, title)
    if unavailable is not None:
        return unavailable
    packages = facts.cgo_packages
    if not packages:
        return Check(cid, title, "ok", "CGO_ENABLED=0 and no package of the build uses cgo")
    why = (
        "set in the environment"
        if facts.environ.get("CGO_ENABLED") is not None
        else f"go turned cgo off itself (no `{facts.cc_command}` on PATH?)"
        if facts.cc_path is None
        else "set with `go env -w` or by the Go installation"
    )
    return Check(
        cid,
        title,
        "problem",
        f"CGO_ENABLED=0 ({why}), so go skips the cgo files of "
        f"{names([str(p.get('ImportPath')) for p in packages][:3])}: packages vanish or fall "
        "back to pure Go",
        (evidence, listed_packages(facts, packages)),
        "unset CGO_ENABLED (`go env -u CGO_ENABLED` if set with go env -w) and make sure a C "
        "compiler is on PATH",
    )


def check_cc(facts: Facts) -> Check:
    cid, title = "cgo.cc", "the C compiler (CC) is on PATH"
    if not facts.go_env:
        return skipped(cid, title, "go env could not be read")
    if facts.cc_path is not None:
        return Check(cid, title, "ok", f"CC `{facts.cc_command}` is {facts.cc_path}")
    evidence = (
        go_env_evidence(facts, "CC"),
        Evidence("environment", "PATH", (f"`{facts.cc_command}` is not on PATH",)),
    )
    users = facts.cgo_packages
    needed = bool(users) or not facts.listed
    what = (
        f"{names([str(p.get('ImportPath')) for p in users][:3])} need it"
        if users
        else ("the module has no cgo package, but `go test -race` and cgo dependencies need it")
    )
    return Check(
        cid,
        title,
        "problem" if needed else "warning",
        f"the C compiler `{facts.cc_command}` (CC) is not on PATH: {what}",
        evidence,
        "install a C compiler (gcc or clang), or set CC to one that is on PATH "
        "(`go env -w CC=clang`)",
    )


def check_pkg_config(facts: Facts) -> Check:
    cid, title = "cgo.pkg-config", "pkg-config finds every #cgo pkg-config module"
    unavailable = listing_unavailable(facts, cid, title)
    if unavailable is not None:
        return unavailable
    modules = facts.pkg_config_modules
    if not modules:
        return Check(cid, title, "ok", "no package uses #cgo pkg-config")
    absent = [m for m in modules if not m.modversion.ran]
    if absent:
        return Check(
            cid,
            title,
            "problem",
            f"`{facts.pkg_config}` cannot run ({absent[0].modversion.failure}), but "
            f"{names(sorted({u for m in absent for u in m.used_by}))} use #cgo pkg-config",
            (absent[0].modversion.evidence(), go_env_evidence(facts, "PKG_CONFIG")),
            "install pkg-config (`apt install pkg-config`, `brew install pkgconf`) or set "
            "PKG_CONFIG to it",
        )
    unknown = [m for m in modules if not m.modversion.ok]
    if unknown:
        return Check(
            cid,
            title,
            "problem",
            f"pkg-config cannot find {names([m.name for m in unknown])} "
            f"(used by {names(sorted({u for m in unknown for u in m.used_by}))})",
            tuple(m.modversion.evidence() for m in unknown),
            f"install the development package that ships {unknown[0].name}.pc, or add the "
            "directory holding it to PKG_CONFIG_PATH",
        )
    found = [f"{m.name} {m.modversion.stdout.strip()}" for m in modules]
    return Check(cid, title, "ok", f"pkg-config finds {', '.join(found)}")


def check_libraries(facts: Facts) -> Check:
    cid, title = "cgo.libraries", "every -l library resolves to a file"
    unavailable = listing_unavailable(facts, cid, title)
    if unavailable is not None:
        return unavailable
    if not facts.linker_search_known:
        return skipped(cid, title, "the linker's search path is unknown without the C compiler")
    missing = [lib for lib in facts.linked if lib.resolved is None]
    from_pc = [(m, lib) for m in facts.pkg_config_modules for lib in m.missing_libraries]
    if not missing and not from_pc:
        count = len(facts.linked) + sum(1 for m in facts.pkg_config_modules if m.modversion.ok)
        found = f"{plural(count, 'library', 'libraries')} resolved" if count else "no -l library"
        return Check(cid, title, "ok", found)
    evidence: list[Evidence] = []
    for lib in missing:
        evidence.append(listed_flags(facts, lib))
        evidence.append(Evidence("derived", "searched, in the linker's order", lib.searched[:8]))
    for module, _ in from_pc:
        if module.libs is not None:
            evidence.append(module.libs.evidence(tail(module.libs.stdout)))
    first = (
        f"{missing[0].shown} ({missing[0].package})"
        if missing
        else (f"{from_pc[0][1]} (from pkg-config {from_pc[0][0].name})")
    )
    count = len(missing) + len(from_pc)
    return Check(
        cid,
        title,
        "problem",
        f"{first} resolves nowhere in the -L dirs or the linker's search path"
        + (f" (and {plural(count - 1, 'more')})" if count > 1 else ""),
        tuple(evidence),
        "install the library's development files (the -dev/-devel package, or `brew install`), "
        "or add -L<dir where it lives> to the package's #cgo LDFLAGS",
    )


def listed_flags(facts: Facts, lib: LinkedLibrary) -> Evidence:
    shown = facts.listing.shown if facts.listing else "go list"
    return Evidence("command", shown, (f"{lib.package}: {' '.join(lib.flags)}",))


def shadowed(lib: LinkedLibrary) -> bool:
    """The -I prefix holds its own copy of the library, yet the linker picks one elsewhere."""
    if lib.resolved is None or not lib.header_prefixes or not lib.copies_in_prefixes:
        return False
    picked = lib.resolved_real or lib.resolved
    return not any(is_under(picked, p) or is_under(lib.resolved, p) for p in lib.header_prefixes)


def check_library_prefix(facts: Facts) -> Check:
    cid, title = "cgo.library-prefix", "libraries link from the prefix their headers come from"
    unavailable = listing_unavailable(facts, cid, title)
    if unavailable is not None:
        return unavailable
    wrong = [lib for lib in facts.linked if shadowed(lib)]
    if not wrong:
        return Check(cid, title, "ok", "no library links from outside the prefix of its -I flags")
    lib = wrong[0]
    copy = lib.copies_in_prefixes[0]
    return Check(
        cid,
        title,
        "warning",
        f"{lib.shown} ({lib.package}) links {lib.resolved}, but the -I flags point at "
        f"{lib.header_prefixes[0]}, which has its own {copy}: headers and library come from "
        "different installs",
        (
            listed_flags(facts, lib),
            Evidence("derived", "searched, in the linker's order", lib.searched[:8]),
        ),
        f"put -L{posixpath.dirname(copy)} before the other -L dirs (CGO_LDFLAGS come before "
        "#cgo LDFLAGS), or remove the other copy from the search path",
    )


def outside_flags(facts: Facts) -> dict[str, str]:
    """CGO_*FLAGS whose value is not go's default: set in the environment or with go env -w."""
    return {
        key: facts.go_env[key]
        for key, default in CGO_FLAG_DEFAULTS.items()
        if key in facts.go_env and facts.go_env[key] != default
    }


def check_env_flags_vendor(facts: Facts) -> Check:
    cid, title = "cgo.env-flags-vendor", "cgo flags travel with a vendored module"
    flags = outside_flags(facts)
    if not facts.go_env:
        return skipped(cid, title, "go env could not be read")
    if not facts.vendored:
        return Check(cid, title, "ok", "the module does not vendor its dependencies")
    if not flags:
        return Check(cid, title, "ok", "no CGO_*FLAGS beyond go's defaults")
    if facts.listed and not facts.cgo_packages:
        return Check(cid, title, "ok", "no package of the build uses cgo")
    where = [k for k in flags if facts.environ.get(k) is not None]
    return Check(
        cid,
        title,
        "warning",
        f"{names(sorted(flags))} set outside the module "
        f"({'in the environment' if where else 'with go env -w'}) while it vendors its "
        "dependencies: CI, an IDE's `go test` or another checkout of vendor/ builds without them",
        (
            go_env_evidence(facts, *sorted(flags)),
            Evidence("file", f"{facts.module_root}/vendor/modules.txt", ("present",)),
        ),
        "move the flags into #cgo directives (with ${SRCDIR}) of the packages that need them, "
        "or into the .envrc / shell.nix that `envsnap emit` writes",
    )


# --- macOS ----------------------------------------------------------------------------------


def macos_major(version: str | None) -> tuple[int, ...] | None:
    """The part of a version that names a macOS release: 15 for 15.3.1, (10, 15) for 10.15."""
    parts = [int(p) for p in re.findall(r"\d+", version or "")[:2]]
    if not parts:
        return None
    return tuple(parts[:2]) if parts[0] == 10 and len(parts) > 1 else (parts[0],)


def sdk_key(version: str | None) -> tuple[int, ...] | None:
    parts = re.findall(r"\d+", version or "")
    return tuple(int(p) for p in parts[:3]) if parts else None


def check_developer_dir(apple: AppleFacts) -> Check:
    cid, title = "macos.developer-dir", "the active developer directory has xcrun"
    section = apple.section
    shown = tuple(e for e in (apple.xcode_select and apple.xcode_select.evidence(),) if e)
    devdir = section.get("developer_dir")
    if devdir is None:
        return Check(
            cid,
            title,
            "problem",
            "there is no active developer directory",
            shown,
            "install the Command Line Tools: `xcode-select --install`",
        )
    if section.get("has_xcrun"):
        kind = section.get("developer_dir_kind", "other")
        return Check(cid, title, "ok", f"{devdir} ({kind}) has usr/bin/xcrun", shown)
    evidence = list(shown)
    if section.get("developer_dir_source") == "DEVELOPER_DIR":
        evidence = [Evidence("environment", "DEVELOPER_DIR", (f"DEVELOPER_DIR={devdir}",))]
    evidence.append(Evidence("derived", "file system", (f"{devdir}/usr/bin/xcrun does not exist",)))
    if apple.compiler_run is not None and apple.compiler_run.ran and not apple.compiler_run.ok:
        evidence.append(apple.compiler_run.evidence())
    return Check(
        cid,
        title,
        "problem",
        f"the active developer directory {devdir} has no usr/bin/xcrun: cc, clang and every "
        "cgo build fail (typical after a macOS update)",
        tuple(evidence),
        "reinstall the Command Line Tools with `xcode-select --install` (or `sudo xcode-select "
        "--reset`, or `--switch /Applications/Xcode.app` if Xcode is installed); then "
        "`envsnap lock` once the team agrees on the new SDK",
    )


def sdk_evidence(path: str, version: str | None) -> Evidence:
    return Evidence("file", f"{path}/SDKSettings.json", (f'"Version": "{version}"',))


def check_sdk(apple: AppleFacts) -> Check:
    cid, title = "macos.sdk", "the SDK is as new as macOS"
    sdk, os_version = apple.section.get("sdk_version"), apple.os_version
    sdk_major, os_major = macos_major(sdk), macos_major(os_version)
    if sdk_major is None or os_major is None:
        why = apple.section.get("sdk_error") or "the macOS version is unknown"
        return skipped(cid, title, f"cannot compare: {why}")
    evidence = (
        Evidence(
            "file",
            "/System/Library/CoreServices/SystemVersion.plist",
            (f"ProductVersion {os_version}",),
        ),
        sdk_evidence(str(apple.section.get("sdk_realpath") or apple.section.get("sdk_path")), sdk),
    )
    if sdk_major >= os_major:
        return Check(cid, title, "ok", f"SDK {sdk} on macOS {os_version}", evidence)
    return Check(
        cid,
        title,
        "warning",
        f"the SDK cgo compiles against is {sdk}, older than macOS {os_version}: the developer "
        "tools were left behind by an OS upgrade, and teammates on current tools link a "
        "different SDK",
        evidence,
        "install the Command Line Tools for this macOS (`softwareupdate --list`, or remove "
        "/Library/Developer/CommandLineTools and run `xcode-select --install`), then "
        "`envsnap lock` once the team agrees on the new SDK",
    )


def check_clt_xcode(apple: AppleFacts) -> Check:
    cid, title = "macos.clt-xcode", "the Command Line Tools are not older than Xcode"
    clt, xcode = apple.clt_sdk, apple.xcode_sdk
    if clt is None or xcode is None:
        have = "the Command Line Tools" if clt else "Xcode" if xcode else "neither"
        return skipped(cid, title, f"nothing to compare: only {have} installed")
    clt_key, xcode_key = sdk_key(clt.version), sdk_key(xcode.version)
    if clt_key is None or xcode_key is None:
        return skipped(cid, title, "an SDK without a version in SDKSettings.json")
    evidence = [sdk_evidence(clt.path, clt.version), sdk_evidence(xcode.path, xcode.version)]
    receipt = apple.clt_receipt
    if receipt is not None and receipt.ok:
        evidence.append(
            receipt.evidence([ln for ln in receipt.stdout.splitlines() if ln.startswith("version")])
        )
    if clt_key >= xcode_key:
        return Check(
            cid, title, "ok", f"CLT SDK {clt.version}, Xcode SDK {xcode.version}", tuple(evidence)
        )
    return Check(
        cid,
        title,
        "warning",
        f"the Command Line Tools' SDK {clt.version} is older than Xcode's SDK {xcode.version}: "
        "builds with the CLT selected (go, Homebrew, the terminal) and builds from Xcode use "
        "different SDKs",
        tuple(evidence),
        'update the Command Line Tools (`softwareupdate --list`, then install the "Command Line '
        'Tools for Xcode" that matches Xcode), or select Xcode: `sudo xcode-select --switch '
        "/Applications/Xcode.app`",
    )


def check_nix_paths(apple: AppleFacts) -> Check:
    cid, title = (
        "macos.nix-paths",
        "DEVELOPER_DIR and SDKROOT point into /nix/store only in a Nix shell",
    )
    environ = apple.environ
    store = {
        key: value
        for key in ("DEVELOPER_DIR", "SDKROOT")
        if (value := environ.get(key)) and value.startswith("/nix/store/")
    }
    if not store:
        return Check(cid, title, "ok", "DEVELOPER_DIR and SDKROOT do not point into /nix/store")
    shell = environ.get("IN_NIX_SHELL")
    lines = (*(f"{k}={v}" for k, v in store.items()), f"IN_NIX_SHELL={shell or '(unset)'}")
    evidence = (Evidence("environment", "environment", lines),)
    if shell:
        return Check(cid, title, "ok", f"inside a Nix shell (IN_NIX_SHELL={shell})", evidence)
    gone = [k for k in store if not apple.store_paths_exist.get(k)]
    return Check(
        cid,
        title,
        "problem" if gone else "warning",
        f"{names(sorted(store))} point into /nix/store outside a Nix shell"
        + (f"; {store[gone[0]]} no longer exists" if gone else "")
        + ": a profile or an unloaded .envrc left the Nix SDK behind",
        evidence,
        f"unset {' '.join(sorted(store))} outside the shell (check ~/.zshrc, ~/.profile and "
        ".envrc), or enter the shell first (`nix-shell`, `nix develop`)",
    )


# --- the lock -------------------------------------------------------------------------------


def check_lock(facts: Facts) -> Check:
    cid, title = "lock.verify", "the machine matches envsnap.lock"
    lock = facts.lock
    if lock is None:
        return skipped(cid, title, "no envsnap.lock beside go.mod")
    status: Status = (
        "problem" if lock.unusable or lock.errors else "warning" if lock.warnings else "ok"
    )
    evidence = (Evidence("command", "envsnap verify", (lock.line, *lock.subjects[:5])),)
    fix = (
        ""
        if status == "ok"
        else (
            "run `envsnap verify` for what changed and why; `envsnap lock` once the change is "
            "intended"
        )
    )
    return Check(cid, title, status, lock.line, evidence, fix)


# --- all of them ----------------------------------------------------------------------------


CHECKS: tuple[Callable[[Facts], Check], ...] = (
    check_module_root,
    check_gopath_mode,
    check_gopath_path,
    check_import_path,
    check_replace,
    check_test_cycle,
    check_toolchain,
    check_cgo_enabled,
    check_cc,
    check_pkg_config,
    check_libraries,
    check_library_prefix,
    check_env_flags_vendor,
)
MACOS_CHECKS: tuple[Callable[[AppleFacts], Check], ...] = (
    check_developer_dir,
    check_sdk,
    check_clt_xcode,
    check_nix_paths,
)


def diagnose(facts: Facts) -> list[Check]:
    """Every check that applies to *facts*' platform, in a stable order; the lock comes last."""
    results = [check(facts) for check in CHECKS]
    if facts.system == "darwin" and facts.apple is not None:
        results += [check(facts.apple) for check in MACOS_CHECKS]
    return [*results, check_lock(facts)]


def exit_code(checks: Sequence[Check]) -> int:
    return 1 if any(c.status == "problem" for c in checks) else 0
