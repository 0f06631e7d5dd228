"""Run every probe against a host and assemble one platform entry of the lock."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NotRequired, TypedDict, cast

from envsnap import gomod, progress, toolinputs
from envsnap.config import DEFAULT_VARIANT, THE_DEFAULT, Packages, Variant
from envsnap.entry import (
    AppleSection,
    CcSection,
    CgoPackage,
    CgoSection,
    Content,
    GoSection,
    JsonObject,
    Library,
    OsSection,
    Tool,
)
from envsnap.errors import BrokenGoFile, EnvsnapError, HostError
from envsnap.host import Host
from envsnap.normalize import PathNormalizer, check_secrets, prune
from envsnap.platforms import platform_for
from envsnap.probecache import Inputs, Probe, ProbeCache, S, path_dirs_searched
from envsnap.probes import (
    apple,
    cc,
    cgo,
    env,
    go,
    guarded,
    libraries,
    link,
    listerrors,
    system,
)
from envsnap.probes.packages import DPKG_STATUS
from envsnap.probes.scope import NOTHING_LEFT_OUT, Roots, resolve
from envsnap.probes.system import OsFacts
from envsnap.redact import scrub_message
from envsnap.stamps import key_of
from envsnap.variants import entry_key, goflags_tags, variant_host

# GOFLAGS, and the settings that say which files go read it from
GOFLAGS_SOURCES = ("GOFLAGS", "GOROOT", "GOENV", "GOMOD", "GOWORK")
GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64", "amd64": "amd64"}


# What the memoised probes of Probes return, besides the entry's own sections.
class LeftOut(TypedDict):
    """What the package patterns left out: excluded packages, patterns that matched none."""

    excluded: list[str]
    unmatched: list[str]


class GoAnswer(TypedDict):
    """``go env`` and ``go list``: the go and cgo sections, the module cache, what was left out."""

    go: GoSection
    cgo: CgoSection
    where: dict[str, str]  # gomodcache
    scope: LeftOut
    error: NotRequired[str]  # a failed listing: asked again next time, not kept


class GoflagsAnswer(TypedDict):
    env: dict[str, str]  # GOFLAGS and the settings that say where go reads it


class DirsAnswer(TypedDict):
    dirs: list[str]


class LibrariesAnswer(TypedDict):
    libraries: list[Library]
    tools: dict[str, str]  # the owning package of each compiler file


class TracedAnswer(LibrariesAnswer):
    modelled: bool  # the model of the link finds the same files (verify's memo holds them)


@dataclass(frozen=True)
class Snapshot:
    """The live state of one platform (``darwin-arm64``) and variant, and its lock entry."""

    platform: str
    entry: Content
    variant: str = DEFAULT_VARIANT
    scope: Roots = NOTHING_LEFT_OUT  # what the package patterns left out (not in the entry)

    @property
    def key(self) -> str:
        """The entry's key in the lock (``darwin-arm64``, ``darwin-arm64+withz``)."""
        return entry_key(self.platform, self.variant)


def _sdk_dirs(apple_section: AppleSection) -> list[str]:
    sdk = apple_section.get("sdk_realpath")
    return ([f"{sdk}/usr/lib"] if sdk else []) + ["/usr/local/lib"]


def default_library_dirs(
    host: Host, go_env: dict[str, str], apple_section: AppleSection, cxx: bool = False
) -> list[str]:
    """Where the link driver's linker looks after the -L dirs; empty when it cannot say."""
    if platform_for(host.system).library_dirs_from_sdk:
        return _sdk_dirs(apple_section)
    try:
        return link.linker_search_dirs(host, link.search_driver(go_env, host.system, cxx))
    except EnvsnapError:
        return []


# The memoised probes (Probes) whose answers each section of an entry is made from, the probes
# that feed those answers included (go env names the compiler and the flags of the link).
_GO = ("go", "goflags")
PROBES_BEHIND: dict[str, tuple[str, ...]] = {
    "os": ("os",),
    "apple": ("apple",),
    "go": _GO,
    "cgo": _GO,
    "cc": (*_GO, "cc", "cxx", "ld", "libraries", "link"),  # a compiler's package: dpkg's
    "libraries": (*_GO, "apple", "dirs", "libraries", "link"),
    "env": (),  # read from the environment, never memoised
    "variant": (),
}


def probes_behind(sections: Iterable[str]) -> frozenset[str] | None:
    """The memoised probes behind *sections*; None (every probe) for a section not known."""
    found: set[str] = set()
    for name in sections:
        if name not in PROBES_BEHIND:
            return None
        found.update(PROBES_BEHIND[name])
    return frozenset(found)


class Probes:
    """The probes that run tools, memoised when a cache is given and the host's answers can be
    (the machine itself, or a replayed recording stamped from its own records)."""

    def __init__(self, host: Host, module_dir: str, cache: ProbeCache | None) -> None:
        self.host = host
        self.module_dir = module_dir
        self.env_key = host.memo_key() or ""
        self.cache = cache if self.env_key else None
        self.gomodcache = ""
        self.scope = NOTHING_LEFT_OUT

    def _memo(
        self,
        name: str,
        key: object,
        compute: Probe[S],
        inputs: Inputs[S] = lambda _: (),
        *,
        fresh: bool = False,
        keep: Callable[[S], bool] = lambda _: True,
        host: Host | None = None,
    ) -> S:
        """*compute*'s section, memoised under *key* unless there is no cache; with *fresh*, a
        remembered answer is not used (the new one is kept when *keep* says so). *host*: the
        probes' own, or the one an enclosing memo notes what is asked on."""
        if self.cache is None:
            return compute(host or self.host)
        slot = key_of(self.env_key, self.module_dir, key)
        return self.cache.memo(
            name, slot, compute, inputs, host or self.host, fresh=fresh, keep=keep
        )

    def go(
        self, go_bin: str, scope: Packages, listing: Callable[[], None] = lambda: None
    ) -> tuple[GoSection, CgoSection]:
        """The ``go`` and ``cgo`` sections: ``go env`` and ``go list`` of the packages of
        *scope*, run side by side; *listing* is called as ``go list`` starts."""
        settings: dict[str, str] = {}  # what the uncached run saw, for its inputs
        seen: list[JsonObject] = []

        def compute(host: Host) -> GoAnswer:
            progress.phase("listing the module's packages (go env, go list)")
            with ThreadPoolExecutor(max_workers=2) as pool, stopping_on_failure(self.host):
                listed = pool.submit(guarded_list, host, go_bin, self.module_dir, scope, listing)
                build = go.build_go(host, self.module_dir, go_bin)
                section = go.go_section(host, build, self.module_dir)
                check_secrets(section["env"], "go env")  # never cache a credential
                packages, cgo_section, roots = listed.result()
            if build.switched_from is not None:  # the build runs another go: list with that one
                packages, cgo_section, roots = guarded_list(
                    host, build.path, self.module_dir, scope
                )
            settings.update(build.env)
            seen[:] = packages
            where = {"gomodcache": settings.get("GOMODCACHE", "")}
            left_out: LeftOut = {
                "excluded": list(roots.excluded),
                "unmatched": list(roots.unmatched),
            }
            both: GoAnswer = {"go": section, "cgo": cgo_section, "where": where, "scope": left_out}
            if "error" in cgo_section:  # a failed listing is asked again next time, not kept
                both["error"] = cgo_section["error"]
            return both

        def inputs(_: GoAnswer) -> Iterable[str]:
            yield from toolinputs.settings_inputs(settings, self.module_dir)
            yield from toolinputs.version_manager_inputs(self.host.getenv, self.module_dir)
            yield from toolinputs.module_tree(self.module_dir)
            yield from toolinputs.package_inputs(seen, settings)
            yield from toolinputs.module_cache_inputs(seen, settings)

        key = go_bin if scope.is_default else (go_bin, scope.include, scope.exclude)
        both = self._memo("go", key, compute, inputs)
        self.gomodcache = str(both["where"]["gomodcache"])
        left_out = both["scope"]
        self.scope = Roots((), tuple(left_out["excluded"]), tuple(left_out["unmatched"]))
        return both["go"], both["cgo"]

    def goflags(self, go_bin: str) -> str:
        """GOFLAGS as the user's go reads it (the environment, else the ``go env -w`` file),
        memoised with the settings files it is read from."""

        def compute(host: Host) -> GoflagsAnswer:
            values = go.read_go_env(host, go_bin, self.module_dir)
            settings = {name: values.get(name, "") for name in GOFLAGS_SOURCES}
            check_secrets({"GOFLAGS": settings["GOFLAGS"]}, "go env")  # never cached
            return {"env": settings}

        def inputs(section: GoflagsAnswer) -> Iterable[str]:
            yield from toolinputs.settings_inputs(section["env"], self.module_dir)
            yield from toolinputs.version_manager_inputs(self.host.getenv, self.module_dir)

        return str(self._memo("goflags", go_bin, compute, inputs)["env"]["GOFLAGS"])

    def apple(self) -> AppleSection:
        """The developer tools (macOS), memoised with the files Apple's tools answer from."""
        if not apple.applies(self.host):
            return {}
        return self._memo(
            "apple", None, lambda h: guarded(lambda: apple.probe_apple(h)), apple.tool_inputs
        )

    def os(self) -> OsFacts:
        """os-release and glibc (``getconf``, which glibc itself ships and upgrades)."""
        return self._memo("os", None, lambda h: guarded(lambda: system.probe_os(h)))

    def compiler(self, go_env: dict[str, str], cxx: bool = False) -> Tool:
        """The C compiler, or with *cxx* the C++ one, that go runs."""
        return self._memo(
            "cxx" if cxx else "cc",
            go_env,
            lambda h: guarded(lambda: cc.probe_compiler(h, go_env, cxx)),
        )

    def linker(self, go_env: dict[str, str]) -> Tool:
        return self._memo("ld", go_env, lambda h: guarded(lambda: cc.probe_linker(h, go_env)))

    def library_dirs(
        self, go_env: dict[str, str], apple_section: AppleSection, cxx: bool
    ) -> list[str]:
        """The linker's own search path, asked of $CXX when the link runs through it."""
        key = (go_env, apple_section.get("sdk_realpath"), cxx)

        def compute(host: Host) -> DirsAnswer:
            return {"dirs": default_library_dirs(host, go_env, apple_section, cxx)}

        dirs = self._memo("dirs", key, compute)
        return list(dirs["dirs"])

    def libraries(
        self,
        packages: list[CgoPackage],
        go_env: dict[str, str],
        dirs: list[str],
        trace: bool,
        toolchain: tuple[Tool | None, ...] = (),
    ) -> tuple[list[Library], dict[str, str]]:
        """The module's libraries: traced from a real link, or modelled; and the owning packages
        of the compilers' files (*toolchain*: the C and C++ compilers, the linker), asked of dpkg
        in the same batch. Both are memoised: the model's answer for verify, the traced link's
        for lock and a drift's re-check (by the toolchain too, whose files the link runs)."""
        pkg_config = go_env.get("PKG_CONFIG") or "pkg-config"
        tools = tool_files(*toolchain[:2])
        modelled = [True]  # whether the answer is the model's too, as verify's memo keeps it

        def compute(host: Host) -> LibrariesAnswer:
            progress.phase("resolving libraries" + (" (a traced link)" if trace else ""))
            found, owners, modelled[0] = libraries.probe_libraries(
                host, packages, go_env, self.module_dir, dirs, trace=trace, tools=tools
            )
            return {"libraries": found, "tools": owners}

        def inputs(_: LibrariesAnswer) -> Iterable[str]:
            found = toolinputs.pkg_config_inputs(self.host, pkg_config)
            found += lookup_inputs(self.host, pkg_config)  # pkg-config installed changes them
            return [*found, DPKG_STATUS] if self.host.exists(DPKG_STATUS) else found

        def model(host: Host) -> TracedAnswer:
            # the traced link is kept as the modelled answer only when the model finds the same
            # files (else verify models it for itself)
            both = self._memo(
                "libraries",
                (packages, go_env, dirs, tools),
                compute,
                inputs,
                fresh=trace,
                keep=lambda _: modelled[0],
                host=host,
            )
            return {**both, "modelled": modelled[0]}

        if not trace:
            answer = model(self.host)
        else:  # the truth: a real link, asked again once its inputs or the toolchain changed
            key = (packages, go_env, dirs, toolchain)
            answer = self._memo("link", key, model, inputs)
            if not answer["modelled"] and self.cache is not None:
                self.cache.stands_on_nothing()  # verify would model another answer
        return answer["libraries"], dict(answer["tools"])


def lookup_inputs(host: Host, name: str) -> list[str]:
    """The program *name* names and every PATH directory looked in for it (all of them when it
    is not there)."""
    found = name if "/" in name else host.which(name)
    return [*path_dirs_searched(host.getenv("PATH") or "", found), *([found] if found else [])]


def tool_files(*sections: Tool | None) -> list[str]:
    """The files whose owning package is a compiler's: the real file, then the one named."""
    return [f for s in sections if s for f in (s.get("realpath"), s.get("path")) if f]


def with_package(section: Tool, owners: dict[str, str]) -> Tool:
    """*section* (a compiler) with the package that owns its file, when one is known."""
    for path in tool_files(section):
        if path in owners:
            owned: Tool = {**section, "package": owners[path]}
            return owned
    return section


@contextlib.contextmanager
def stopping_on_failure(host: Host) -> Iterator[None]:
    """On an exception, kill the host's commands in flight before the pool waits for them: the
    snapshot has failed, and a hung sibling must not hold the command past the failure."""
    try:
        yield
    except BaseException:
        host.stop_running()
        raise


def guarded_list(
    host: Host,
    go_bin: str,
    module_dir: str,
    scope: Packages,
    listing: Callable[[], None] = lambda: None,
) -> tuple[list[JsonObject], CgoSection, Roots]:
    """``go list``'s packages of *scope*, the cgo section built from them (an error section on
    failure), and what the exclusions left out; *listing* is called as ``go list`` starts."""
    try:
        roots = resolve(host, go_bin, module_dir, scope)
        listing()
        packages = cgo.list_packages(host, go_bin, module_dir, roots.args)
    except BrokenGoFile:
        raise  # nothing of the module can be probed: every command stops with go's message
    except EnvsnapError as exc:
        return [], {"error": scrub_message(exc.message)}, NOTHING_LEFT_OUT
    # the missing modules are named as go.mod requires them
    modules = required_modules(host, module_dir) if listerrors.failures(packages) else []
    return packages, cgo.cgo_section(packages, scope, modules), roots


def required_modules(host: Host, module_dir: str) -> list[str]:
    """The module paths the module's go.mod requires (none when it cannot be read)."""
    text = host.read_text(f"{module_dir}/go.mod") or ""
    return [line.args[0] for line in gomod.parse(text).all("require") if line.args]


def take_snapshot(
    host: Host,
    local_module_dir: str,
    extra_env: Iterable[str] = (),
    cache: ProbeCache | None = None,
    variant: Variant = THE_DEFAULT,
    *,
    trace: bool = False,
    listing: Callable[[], None] = lambda: None,
) -> Snapshot:
    """Probe *host* for the module at *local_module_dir*, built as *variant* (its tags reach
    every go command through GOFLAGS); raises only if Go itself is unusable. *listing* is
    called as the module's ``go list`` starts (the caller's own work can wait on that tool).

    With *trace* the module's libraries are the files a real link opens (``lock``, and
    ``verify`` re-checking a drift); without, GNU ld's search is modelled (fast).
    """
    module_dir = host.module_dir(local_module_dir)
    system = platform_for(host.system)
    go_bin = go.find_go(host)
    probes = Probes(host, module_dir, cache)
    if variant.tags:  # the user's GOFLAGS, memoised, with the variant's tags added
        host = variant_host(host, variant, probes.goflags(go_bin))
        probes = Probes(host, module_dir, cache)
    with ThreadPoolExecutor(max_workers=8) as pool, stopping_on_failure(host):
        go_f = pool.submit(probes.go, go_bin, variant.packages, listing)
        os_f = pool.submit(probes.os)
        apple_f = pool.submit(probes.apple)
        env_f = pool.submit(env.probe_env, host, tuple(extra_env))
        go_section, cgo_section = with_tags(*go_f.result())
        go_env = go_section["env"]
        check_platform(go_env)
        compiler_f = pool.submit(probes.compiler, go_env)
        linker_f = pool.submit(probes.linker, go_env)
        packages = cgo_section.get("packages") or []
        cxx = any(p.get("cxx") for p in packages)
        cxx_f = pool.submit(probes.compiler, go_env, True) if cxx else None
        dirs = probes.library_dirs(
            go_env, apple_f.result(), cxx and not system.library_dirs_from_sdk
        )
        compilers = (compiler_f.result(), cxx_f.result() if cxx_f else None)
        toolchain = (*compilers, linker_f.result()) if trace else compilers
        libs, owners = probes.libraries(packages, go_env, dirs, trace, toolchain)
        apple_section = apple_f.result()
        os_section: OsSection = {
            "goos": go_env.get("GOOS", ""),
            "goarch": go_env.get("GOARCH", ""),
            **os_f.result(),
        }
        cc_section: CcSection = {
            "compiler": with_package(compilers[0], owners),
            "linker": linker_f.result(),
        }
        if compilers[1] is not None:
            cc_section["cxx"] = with_package(compilers[1], owners)
        entry: Content = {
            "os": os_section,
            "go": go_section,
            "cc": cc_section,
            "env": check_secrets(env_f.result(), "environment"),
            "cgo": cgo_section,
            "libraries": libs,
        }
    go_section["env"] = check_secrets(go_env, "go env")
    if system.has_developer_tools:
        entry["apple"] = apple_section
    if not variant.is_default:
        entry["variant"] = variant.name
    normalizer = PathNormalizer(module_dir, host.getenv("HOME"), probes.gomodcache, host.realpath)
    entry = normalized(entry, normalizer)
    platform = f"{entry['os']['goos']}-{entry['os']['goarch']}"
    return Snapshot(platform, entry, variant.name, probes.scope)


# Go's platform words (`go tool dist list`): linux, darwin, amd64, arm64, 386, mips64le, wasip1…
_PLATFORM_WORD = re.compile(r"[a-z][a-z0-9]{0,15}|386")


def check_platform(go_env: dict[str, str]) -> None:
    """GOOS and GOARCH as go reports them make the lock's key: refuse anything that is not a
    platform word (a garbage GOOS in the environment would otherwise become a platform)."""
    for name in ("GOOS", "GOARCH"):
        value = go_env.get(name, "")
        if not _PLATFORM_WORD.fullmatch(value):
            shown = "".join(c if c.isprintable() else "?" for c in value[:40])
            raise HostError(
                f"go env reports {name}={shown!r}, which is not a Go platform name",
                f"unset {name}, or set it to a value `go tool dist list` prints",
            )


def normalized(content: Content, normalizer: PathNormalizer) -> Content:
    """*content* with its paths written as the lock keeps them and no None left: the same
    shape, which the normalizer's walk over plain JSON data keeps."""
    data = prune(normalizer.apply(cast(JsonObject, content)))
    return cast(Content, data)


def with_tags(go_section: GoSection, cgo_section: CgoSection) -> tuple[GoSection, CgoSection]:
    """The go section with ``tags``: the build tags its GOFLAGS sets (absent when none)."""
    tags = goflags_tags(go_section["env"].get("GOFLAGS", ""))
    if not tags:
        return go_section, cgo_section
    tagged: GoSection = {**go_section, "tags": tags}
    return tagged, cgo_section
