"""Run every probe against a host and assemble one platform entry of the lock."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from envsnap.errors import EnvsnapError
from envsnap.host import Host, LocalHost
from envsnap.normalize import PathNormalizer, check_secrets, prune
from envsnap.probecache import ProbeCache, environment_key, module_key
from envsnap.probes import Section, apple, cc, cgo, env, go, guarded, libraries, link, system

GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64", "amd64": "amd64"}


@dataclass(frozen=True)
class Snapshot:
    """The live state of one platform: its key (``darwin-arm64``) and its lock entry."""

    platform: str
    entry: dict[str, Any]

    @property
    def failed_sections(self) -> list[str]:
        return [name for name, value in self.entry.items() if _has_error(value)]


def _has_error(value: Any) -> bool:
    if isinstance(value, dict):
        return "error" in value or any(_has_error(v) for v in value.values())
    if isinstance(value, list):  # the libraries
        return any(_has_error(v) for v in value)
    return False


def _darwin_dirs(apple_section: Section) -> list[str]:
    sdk = apple_section.get("sdk_realpath")
    return ([f"{sdk}/usr/lib"] if sdk else []) + ["/usr/local/lib"]


def default_library_dirs(
    host: Host, go_env: dict[str, str], apple_section: Section, cxx: bool = False
) -> list[str]:
    """Where the link driver's linker looks after the -L dirs; empty when it cannot say."""
    if host.system == "darwin":
        return _darwin_dirs(apple_section)
    try:
        return link.linker_search_dirs(host, link.link_driver(go_env, host.system, cxx))
    except EnvsnapError:
        return []


def _library_dirs(
    host: Host, go_env: dict[str, str], early: list[str], packages: list[Section]
) -> list[str]:
    """*early* were asked of $CC while go list ran; a C++ link asks $CXX instead."""
    if not any(p.get("cxx") for p in packages) or host.system == "darwin":
        return early
    return default_library_dirs(host, go_env, {}, cxx=True)


def _go_probes(
    host: Host, go_bin: str, module_dir: str, cache: ProbeCache | None
) -> tuple[Callable[[], Section], Callable[[], Section]]:
    """The go env and go list probes, memoised when a cache is given (LocalHost only)."""

    def go_section() -> Section:
        section = go.probe_go(host, module_dir)
        check_secrets(section["env"], "go env")  # never cache a credential
        return section

    def cgo_section() -> Section:
        return guarded(lambda: cgo.probe_cgo(host, go_bin, module_dir))

    if cache is None or not isinstance(host, LocalHost):
        return go_section, cgo_section
    key = module_key(environment_key(host.environment, go_bin), module_dir)
    return (
        lambda: cache.memo("go", key, go_section),
        lambda: cache.memo("cgo", key, cgo_section),
    )


def take_snapshot(
    host: Host,
    local_module_dir: str,
    extra_env: Iterable[str] = (),
    cache: ProbeCache | None = None,
    *,
    trace: bool = False,
) -> Snapshot:
    """Probe *host* for the module at *local_module_dir*; raises only if Go itself is unusable.

    With *trace* the module's libraries are the files a real link opens (``lock``, and
    ``verify`` re-checking a drift); without, GNU ld's search is modelled (fast).
    """
    module_dir = host.module_dir(local_module_dir)
    go_bin = go.find_go(host)
    go_probe, cgo_probe = _go_probes(host, go_bin, module_dir, cache)
    with ThreadPoolExecutor(max_workers=8) as pool:
        go_f = pool.submit(go_probe)
        cgo_f = pool.submit(cgo_probe)
        os_f = pool.submit(guarded, lambda: system.probe_os(host))
        apple_f = pool.submit(
            guarded, lambda: apple.probe_apple(host) if host.system == "darwin" else {}
        )
        env_f = pool.submit(env.probe_env, host, tuple(extra_env))
        go_section = go_f.result()
        go_env = go_section["env"]
        compiler_f = pool.submit(guarded, lambda: cc.probe_compiler(host, go_env))
        linker_f = pool.submit(guarded, lambda: cc.probe_linker(host, go_env))
        # the linker's search path is asked while go list still runs
        dirs_f = pool.submit(lambda: default_library_dirs(host, go_env, apple_f.result()))
        cgo_section = cgo_f.result()
        packages = cgo_section.get("packages", [])
        libs = libraries.probe_libraries(
            host,
            packages,
            go_env,
            module_dir,
            _library_dirs(host, go_env, dirs_f.result(), packages),
            trace=trace,
        )
        apple_section = apple_f.result()
        entry: dict[str, Any] = {
            "os": {
                "goos": go_env.get("GOOS", ""),
                "goarch": go_env.get("GOARCH", ""),
                **os_f.result(),
            },
            "go": go_section,
            "cc": {"compiler": compiler_f.result(), "linker": linker_f.result()},
            "env": check_secrets(env_f.result(), "environment"),
            "cgo": cgo_section,
            "libraries": libs,
        }
    go_section["env"] = check_secrets(go_env, "go env")
    if host.system == "darwin":
        entry["apple"] = apple_section
    normalizer = PathNormalizer(module_dir, host.getenv("HOME"))
    entry = prune(normalizer.apply(entry))
    platform = f"{entry['os']['goos']}-{entry['os']['goarch']}"
    return Snapshot(platform, entry)
