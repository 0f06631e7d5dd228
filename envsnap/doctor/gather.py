"""The facts doctor judges, asked of a Host only (so ``--replay`` works, and every command gets
the Host's timeout, ``LC_ALL=C`` and ``GOTOOLCHAIN=local``).
"""

from __future__ import annotations

import posixpath
import shlex
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

from envsnap import gomod
from envsnap.config import THE_WHOLE_MODULE, Config, Packages, Variant
from envsnap.doctor.facts import (
    AppleFacts,
    Facts,
    GoPackage,
    LinkedLibrary,
    LockSummary,
    PkgConfigModule,
    Ran,
    Replacement,
    Sdk,
)
from envsnap.entry import AppleSection, CgoPackage
from envsnap.errors import EnvsnapError, HostError, NotInModule
from envsnap.host import DEFAULT_TIMEOUT, Host
from envsnap.platforms import platform_for
from envsnap.probes import apple as apple_probe
from envsnap.probes import cc, cgo, go, guarded, link, system
from envsnap.probes.collect import default_library_dirs
from envsnap.probes.scope import resolve
from envsnap.vocabulary import GO_ENV_KEYS

if TYPE_CHECKING:
    from envsnap.lockfile import LockFile

if sys.version_info >= (3, 12):
    from typing import TypedDict
else:  # as envsnap.entry: pydantic validates only typing_extensions' TypedDict before 3.12
    from typing_extensions import TypedDict

CLT_SDK = "/Library/Developer/CommandLineTools/SDKs/MacOSX.sdk"
XCODE_DEVELOPER_DIR = "/Applications/Xcode.app/Contents/Developer"
LISTING = ("list", "-e", "-deps", "-json")
TEST_LISTING = ("list", "-e", "-test", "-deps", "-json")
CGO_ON = {"CGO_ENABLED": "1"}  # else every cgo field silently disappears (FIELD-GUIDE §5.9)


class Listed(TypedDict, total=False):
    """The :class:`Facts` fields the ``go list`` runs fill."""

    list_module: Ran
    listing: Ran
    packages: tuple[GoPackage, ...]
    test_listing: Ran
    test_packages: tuple[GoPackage, ...]


class CgoFacts(TypedDict, total=False):
    """The :class:`Facts` fields about the C side: compiler, macOS tools, libraries (only the
    command and why not, when go cannot split CC or a CGO_*FLAGS variable)."""

    linker_search_known: bool
    cc_command: str
    cc_path: str | None
    apple: AppleFacts | None
    pkg_config: str
    pkg_config_modules: tuple[PkgConfigModule, ...]
    linked: tuple[LinkedLibrary, ...]
    unsplittable: str


def gather(host: Host, local_dir: str, scope: Packages = THE_WHOLE_MODULE) -> Facts:
    """Every fact the checks need, asked of *host* for the directory envsnap was pointed at;
    the packages listed are those of *scope* (envsnap.toml's patterns)."""
    directory = host.module_dir(local_dir)
    root = find_root(host, directory)
    go_mod = host.read_text(f"{root}/go.mod") if root else None
    environ = {k: host.getenv(k) for k in ("CGO_ENABLED", "GOTOOLCHAIN", *GO_ENV_KEYS)}
    go_bin = host.which("go")
    base = Facts(
        system=host.system,
        directory=directory,
        module_root=root,
        go_path=go_bin,
        go_env={},
        go_env_run=None,
        gotoolchain=None,
        gotoolchain_source="",
        go_mod=go_mod,
        list_module=None,
        listing=None,
    )
    if go_bin is None:
        return replace(base, environ=environ)
    go_env, env_run = read_go_env(host, go_bin, root or directory)
    listed = list_packages(host, go_bin, root or directory, scope)
    facts = replace(
        base,
        go_env=go_env,
        go_env_run=env_run,
        gotoolchain=go.toolchain_setting(host, go_env) if go_env else None,
        gotoolchain_source="environment"
        if environ["GOTOOLCHAIN"] is not None
        else "the GOENV file, $GOROOT/go.env or go's default",
        environ=environ,
        replacements=tuple(replacements(host, root, go_mod)),
        vendored=bool(root) and host.exists(f"{root}/vendor/modules.txt"),
        **listed,
    )
    facts = replace(facts, switch_missing=switch_missing(host, facts))
    return replace(facts, **cgo_facts(host, facts))


def switch_missing(host: Host, facts: Facts) -> str:
    """Why the toolchain the module's go/toolchain lines switch to cannot be found here (on
    PATH or in the module cache, as go looks), or "" when it is found or there is no switch."""
    from envsnap import gover
    from envsnap.probes.toolchain import locate, select_toolchain

    text = facts.go_mod or ""
    lines = gover.go_mod_lookup(text, "go"), gover.go_mod_lookup(text, "toolchain")
    try:
        choice = select_toolchain(facts.gotoolchain, facts.go_env.get("GOVERSION", ""), *lines)
        if choice.switches:
            locate(host, choice, facts.go_env)
    except EnvsnapError as missing:
        return missing.message
    return ""


def find_root(host: Host, directory: str) -> str | None:
    """The nearest directory at or above *directory* (on the host) that holds a go.mod."""
    current = posixpath.normpath(directory)
    while True:
        if host.exists(f"{current}/go.mod"):
            return current
        parent = posixpath.dirname(current)
        if parent == current:
            return None
        current = parent


def read_go_env(host: Host, go_bin: str, cwd: str) -> tuple[dict[str, str], Ran]:
    try:
        values = go.read_go_env(host, go_bin, cwd)
    except HostError as exc:
        return {}, Ran("go env -json", failure=exc.message)
    return values, Ran("go env", 0)


def list_packages(host: Host, go_bin: str, cwd: str, scope: Packages) -> Listed:
    """`go list -m`, and the package graph of *scope* with and without tests, listed with cgo
    on."""
    try:
        args = cgo.arguments(resolve(host, go_bin, cwd, scope, CGO_ON).args)
    except HostError as exc:
        failed = Ran(shown_argv([go_bin, *LISTING, *scope.include]), failure=exc.message)
        return {"list_module": run_command(host, [go_bin, "list", "-m"], cwd), "listing": failed}
    with ThreadPoolExecutor(max_workers=3) as pool:
        module = pool.submit(run_command, host, [go_bin, "list", "-m"], cwd)
        plain = pool.submit(run_listing, host, [go_bin, *LISTING], args, cwd)
        tests = pool.submit(run_listing, host, [go_bin, *TEST_LISTING], args, cwd)
        listing, packages = parse_listing(plain.result())
        test_listing, test_packages = parse_listing(tests.result())
        return {
            "list_module": module.result(),
            "listing": listing,
            "packages": packages,
            "test_listing": test_listing,
            "test_packages": test_packages,
        }


def run_listing(host: Host, argv: list[str], args: tuple[str, ...], cwd: str) -> Ran:
    """One ``go list`` of the packages *args* name (none: nothing to list, an empty listing)."""
    if not args:
        return Ran(shown_argv(argv), 0, "", "")
    return run_command(host, [*argv, *args], cwd, cgo.GO_LIST_TIMEOUT, CGO_ON)


def run_command(
    host: Host,
    argv: Sequence[str],
    cwd: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> Ran:
    """Run *argv*; a missing tool, a hang or an unrecorded command becomes ``Ran.failure``."""
    shown = " ".join([*(f"{k}={v}" for k, v in (env or {}).items()), shown_argv(argv)])
    try:
        result = host.run(argv, cwd=cwd, timeout=timeout, env=env)
    except HostError as exc:
        return Ran(shown, failure=exc.message)
    return Ran(shown, result.returncode, result.out, result.err)


def shown_argv(argv: Sequence[str]) -> str:
    """The command as a user types it: the go on PATH is just `go`."""
    head = "go" if posixpath.basename(argv[0]) == "go" else argv[0]
    return shlex.join([head, *argv[1:]])


def parse_listing(listing: Ran) -> tuple[Ran, tuple[GoPackage, ...]]:
    if not listing.ok:
        return listing, ()
    try:
        printed = cgo.iter_json_stream(listing.stdout)
    except (ValueError, RecursionError):
        return Ran(listing.shown, failure="it printed something that is not JSON"), ()
    packages: list[GoPackage] = []
    for pkg in printed:  # a broken or hostile go: the checks read these fields as go types them
        problem = "not an object" if not isinstance(pkg, dict) else cgo.shape_error(pkg)
        if problem or not isinstance(pkg, dict):
            return Ran(listing.shown, failure=f"it printed a package whose {problem}"), ()
        packages.append(pkg)
    return listing, tuple(packages)


def replacements(host: Host, root: str | None, go_mod: str | None) -> list[Replacement]:
    found = []
    local = [r for r in gomod.parse(go_mod or "").replaces if r.is_local and not r.new_version]
    for number, line, target in [(r.line.number, r.line.text, r.new_path) for r in local]:
        if root is None:
            break
        directory = posixpath.normpath(posixpath.join(root or "", target))
        info = host.stat(directory)
        exists = info is not None and info.kind == "dir"
        has_go_mod = exists and host.exists(f"{directory}/go.mod")
        found.append(Replacement(number, line, target, directory, has_go_mod, exists))
    return found


def cgo_facts(host: Host, facts: Facts) -> CgoFacts:
    """The compiler, the macOS tools, and where each C library of the cgo packages resolves;
    only why not, when go cannot split CC or a CGO_*FLAGS variable (no go build runs then).

    Libraries resolve through the same model of the link as ``verify`` (envsnap.probes.link).
    """
    try:
        return _cgo_facts(host, facts)
    except cc.UnsplittableVariable as exc:
        return {"cc_command": facts.go_env.get("CC", ""), "unsplittable": exc.message}


def _cgo_facts(host: Host, facts: Facts) -> CgoFacts:
    command = cc.compiler_command(facts.go_env, host.system)
    try:
        cc_path: str | None = cc.resolve_tool(host, command)
    except HostError:
        cc_path = None
    tools = platform_for(host.system).has_developer_tools
    section = guarded(lambda: apple_probe.probe_apple(host)) if tools else None
    apple = gather_apple(host, cc_path, apple_section(section)) if section is not None else None
    listed = cgo.cgo_packages(list(facts.packages))
    packages = cgo_packages(listed)
    cxx = any(p.get("cxx") for p in packages)
    # the linker's default dirs, as the lock's probe sees them; none known: the compiler could
    # not say (the darwin list is never empty)
    search = default_library_dirs(host, facts.go_env, section or {}, cxx) or None
    pkg_config = facts.go_env.get("PKG_CONFIG") or "pkg-config"
    root = facts.module_root or facts.directory
    plan = link.link_plan(host, listed, facts.go_env, root, pkg_config)
    dirs = list(dict.fromkeys([*plan.dirs, *(search or [])]))
    return {
        "linker_search_known": search is not None,
        "cc_command": command,
        "cc_path": cc_path,
        "apple": apple,
        "pkg_config": pkg_config,
        "pkg_config_modules": pkg_config_modules(host, plan, packages, pkg_config, dirs),
        "linked": tuple(linked_libraries(host, plan, packages, facts.go_env, dirs)),
    }


def apple_section(section: Mapping[str, object]) -> AppleSection:
    """The apple probe's section as the entry types it (the probe builds it in that shape)."""
    return cast(AppleSection, section)


def cgo_packages(packages: Sequence[Mapping[str, object]]) -> list[CgoPackage]:
    """The cgo probe's packages as the entry types them (the probe builds them in that shape)."""
    return cast(list[CgoPackage], list(packages))


def pkg_config_modules(
    host: Host,
    plan: link.LinkPlan,
    packages: Sequence[CgoPackage],
    pkg_config: str,
    dirs: list[str],
) -> tuple[PkgConfigModule, ...]:
    found: list[PkgConfigModule] = []
    for pkg in packages:
        options, modules = link.split_pkg_config(pkg["pkg_config"])
        for name in modules:
            if any(m.name == name for m in found):
                continue
            modversion = run_command(host, [pkg_config, "--modversion", name])
            libs = missing = None
            if modversion.ok:
                libs = run_command(host, [pkg_config, "--libs", *options, name])
                missing = [
                    item.shown
                    for item in plan.inputs
                    if item.key == ("pkg-config", name)
                    and link.find_input(host, item, dirs, plan.cwd) is None
                ]
            used_by = plan.used_by.get(("pkg-config", name), ())
            found.append(PkgConfigModule(name, used_by, modversion, tuple(missing or ()), libs))
    return tuple(found)


def linked_libraries(
    host: Host,
    plan: link.LinkPlan,
    packages: Sequence[CgoPackage],
    go_env: dict[str, str],
    dirs: list[str],
) -> list[LinkedLibrary]:
    """Each ``-l`` of each cgo package ($CGO_LDFLAGS first), resolved as the link resolves it."""
    env_cflags = env_flags(go_env, "CGO_CFLAGS", "CGO_CPPFLAGS")
    by_path = {p["path"]: p for p in packages}
    found: dict[tuple[str, str], LinkedLibrary] = {}
    for item in plan.inputs:
        pkg = by_path.get(item.package)
        if item.key[0] != "ldflags" or pkg is None or (item.package, item.name) in found:
            continue
        name = ":" + item.name if item.bare else item.name
        resolved = link.find_input(host, item, dirs, plan.cwd)
        prefixes = header_prefixes(host, env_cflags + pkg["cflags"])
        copies = [
            copy
            for p in prefixes
            if (copy := link.find_input(host, item, [f"{p}/lib", f"{p}/lib64"], plan.cwd))
            and copy != resolved
        ]
        found[(item.package, item.name)] = LinkedLibrary(
            item.package,
            name,
            tuple(pkg["cflags"] + pkg["ldflags"]),
            tuple(dirs),
            resolved,
            prefixes,
            tuple(copies),
            host.realpath(resolved) if resolved else None,
        )
    return list(found.values())


def flag_values(flags: Sequence[str], flag: str) -> list[str]:
    """The values of ``-I``/``-L`` in both spellings (``-Idir`` and ``-I dir``)."""
    values = []
    for i, word in enumerate(flags):
        if word == flag and i + 1 < len(flags):
            values.append(flags[i + 1])
        elif word.startswith(flag) and len(word) > len(flag):
            values.append(word[len(flag) :])
    return values


def env_flags(go_env: dict[str, str], *keys: str) -> list[str]:
    return [word for key in keys for word in cc.go_words(go_env, key)]


def header_prefixes(host: Host, cflags: Sequence[str]) -> tuple[str, ...]:
    """The install prefixes the -I flags name: ``<prefix>/include`` → ``<prefix>``."""
    found = []
    for directory in flag_values(cflags, "-I"):
        prefix = directory.removesuffix("/").removesuffix("/include")
        if prefix and prefix != directory.removesuffix("/"):
            found.append(host.realpath(prefix))
    return tuple(dict.fromkeys(found))


def gather_apple(host: Host, cc_path: str | None, section: AppleSection) -> AppleFacts:
    """What the macOS checks read: the apple probe's *section*, and a few reads of their own."""
    broken = not section.get("has_xcrun", False)
    devdir = section.get("developer_dir_realpath") or section.get("developer_dir")
    active_xcode = section.get("developer_dir_kind") == "xcode" and devdir
    xcode_dir = devdir if active_xcode else XCODE_DEVELOPER_DIR
    clt_sdk = read_sdk(host, CLT_SDK)
    environ = {
        k: host.getenv(k)
        for k in ("DEVELOPER_DIR", "SDKROOT", "IN_NIX_SHELL", "MACOSX_DEPLOYMENT_TARGET")
    }
    receipt = f"--pkg-info={apple_probe.CLT_PACKAGE}"
    return AppleFacts(
        section=section,
        os_version=system.probe_macos(host).get("version") or None,
        xcode_select=run_command(host, ["xcode-select", "-p"]),
        compiler_run=run_command(host, [cc_path, "--version"]) if broken and cc_path else None,
        clt_sdk=clt_sdk,
        xcode_sdk=read_sdk(host, apple_probe.default_sdk(str(xcode_dir), "xcode")),
        clt_receipt=run_command(host, ["pkgutil", receipt]) if clt_sdk else None,
        environ=environ,
        store_paths_exist={
            k: host.exists(v) for k, v in environ.items() if v and v.startswith("/nix/store/")
        },
    )


def read_sdk(host: Host, path: str) -> Sdk | None:
    if not host.exists(path):
        return None
    section = apple_probe.read_sdk(host, path)
    return Sdk(str(section["sdk_realpath"]), section.get("sdk_version"))


# --- the lock: verify's own use case (envsnap.checking), summed up in one line ----------------


def with_lock(facts: Facts, host: Host, directory: Path, wanted: str | None = None) -> Facts:
    """*facts* with verify's conclusion for each build variant (*wanted*: that one alone)."""
    try:
        from envsnap.module import find_module_root

        root = find_module_root(directory)
    except NotInModule:
        return facts
    from envsnap.lockfile import LOCK_NAME

    if not (root / LOCK_NAME).is_file():
        return facts
    try:
        summaries = verify_summaries(host, root, wanted)
    except EnvsnapError as exc:
        summaries = (LockSummary(exc.render().removeprefix("envsnap: "), unusable=True),)
    return replace(facts, lock=summaries)


def verify_summaries(host: Host, root: Path, wanted: str | None) -> tuple[LockSummary, ...]:
    from envsnap import checking
    from envsnap.config import load_config
    from envsnap.lockfile import LOCK_NAME

    config = load_config(root)
    lock, _ = checking.load_lock(root / LOCK_NAME, None)
    variants = (config.variant(wanted),) if wanted else config.all_variants()
    named = bool(config.variants)

    def one(variant: Variant) -> LockSummary:
        try:
            return verify_summary(host, root, config, lock, variant)
        except EnvsnapError as exc:
            line = exc.render().removeprefix("envsnap: ")
            return LockSummary(line, unusable=True, variant=variant.name if named else None)

    return tuple(one(variant) for variant in variants)


def verify_summary(
    host: Host, root: Path, config: Config, lock: LockFile, variant: Variant
) -> LockSummary:
    """What verify concludes about *variant* (named when envsnap.toml declares variants): its
    own check, a drift re-checked against the real link as verify re-checks it, so that the
    errors counted here are the ones verify prints."""
    from envsnap import checking
    from envsnap.lockfile import LOCK_NAME
    from envsnap.report import Outcome
    from envsnap.workspace import Workspace

    checked = checking.check_variant(
        Workspace(root, config, host), lock, LOCK_NAME, variant, False, notes=False
    )
    findings = checked.findings or []
    key = checked.key
    outcome = Outcome(key, LOCK_NAME, findings)
    line = (
        f"{key} differs from {LOCK_NAME}: {outcome.summary()}"
        if findings
        else f"{key} matches {LOCK_NAME}"
    )
    subjects = tuple(f"{f.severity}: {f.subject}" for f in findings)
    named = variant.name if config.variants else None
    errors, warnings = outcome.count("error"), outcome.count("warning")
    return LockSummary(line, errors, warnings, False, subjects, named)
