"""The cgo checks: cgo on, a C compiler, pkg-config modules, libraries and their flags."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from envsnap.doctor.facts import (
    Check,
    Evidence,
    Facts,
    GoPackage,
    LinkedLibrary,
    go_env_evidence,
    is_under,
    listing_unavailable,
    names,
    plural,
    skipped,
    strings,
    tail,
)
from envsnap.vocabulary import CGO_FLAG_DEFAULTS


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


def listed_packages(facts: Facts, packages: Iterable[GoPackage]) -> Evidence:
    """The listing command with one line per package: its import path and cgo files."""
    lines = [
        f"{p.get('ImportPath')}: CgoFiles {' '.join(strings(p, 'CgoFiles'))}" for p in packages
    ]
    shown = facts.listing.shown if facts.listing else "go list"
    return Evidence(
        "command", shown, tuple(lines[:6]), facts.listing.returncode if facts.listing else None
    )


def check_cc(facts: Facts) -> Check:
    cid, title = "cgo.cc", "the C compiler (CC) is on PATH"
    if not facts.go_env:
        return skipped(cid, title, "go env could not be read")
    if facts.unsplittable:
        return Check(
            cid,
            title,
            "problem",
            facts.unsplittable,
            (go_env_evidence(facts, "CC"),),
            "close the open quote: go splits CC and CGO_*FLAGS at spaces, and a word that starts "
            "with ' or \" ends at the same quote",
        )
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


def shadowed(lib: LinkedLibrary) -> bool:
    """The -I prefix holds its own copy of the library, yet the linker picks one elsewhere."""
    if lib.resolved is None or not lib.header_prefixes or not lib.copies_in_prefixes:
        return False
    picked = lib.resolved_real or lib.resolved
    return not any(is_under(picked, p) or is_under(lib.resolved, p) for p in lib.header_prefixes)


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


def outside_flags(facts: Facts) -> dict[str, str]:
    """CGO_*FLAGS whose value is not go's default: set in the environment or with go env -w."""
    return {
        key: facts.go_env[key]
        for key, default in CGO_FLAG_DEFAULTS.items()
        if key in facts.go_env and facts.go_env[key] != default
    }
