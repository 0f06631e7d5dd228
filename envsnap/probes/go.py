"""The Go toolchain: ``go env -json`` and the module's ``go`` and ``toolchain`` lines."""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from typing import NamedTuple

from envsnap import gomod, gover
from envsnap.entry import GoSection
from envsnap.errors import EnvsnapError, HostError
from envsnap.host import VERSION_OUTPUT_LIMIT, CommandResult, Host, ToolNotFound
from envsnap.probes import capped, toolchain
from envsnap.vocabulary import GO_ENV_KEYS

GO_ENV_TIMEOUT = 20.0


def find_go(host: Host) -> str:
    go = host.which("go")
    if go is not None:
        return go
    relative = _relative_go(host)
    if relative is not None:
        raise ToolNotFound(
            f"`go` on PATH is {relative}, found through a relative PATH entry: envsnap never "
            "runs a program found relative to the current directory (go refuses them too)",
            "remove `.` and empty entries from PATH, or put the go you build with earlier on it",
        )
    raise ToolNotFound("`go` is not on PATH", "install Go or put its bin directory on PATH")


def _relative_go(host: Host) -> str | None:
    """The go a shell would run from a relative PATH entry (``.``, an empty entry), if any."""
    for directory in (host.getenv("PATH") or "").split(":"):
        candidate = posixpath.join(directory or ".", "go")
        if toolchain.executable(host, candidate):
            return None if directory.startswith("/") else candidate
    return None


def parse_go_env_text(text: str) -> dict[str, str]:
    """Parse plain ``go env`` output: ``KEY="v"`` (go ≤1.20) or ``KEY='v'`` (newer)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.removeprefix("set ").removeprefix("export ")
        key, sep, raw = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Z0-9_]+", key):
            continue
        try:
            parts = shlex.split(raw)
        except ValueError:
            continue
        values[key] = " ".join(parts) if parts else ""
    return values


def read_go_env(host: Host, go: str, module_dir: str) -> dict[str, str]:
    """``go env -json``; a go too old or a wrapper too broken for -json falls back to ``go env``."""
    result = None
    try:
        result = host.run([go, "env", "-json"], cwd=module_dir, timeout=GO_ENV_TIMEOUT)
        if result.ok:
            return go_env_object(result)
    except (ValueError, ToolNotFound):
        pass
    plain = host.run([go, "env"], cwd=module_dir, timeout=GO_ENV_TIMEOUT)
    values = parse_go_env_text(plain.out) if plain.ok else {}
    if "GOOS" not in values:
        failed = result if result is not None and not result.ok else plain
        raise HostError(f"cannot read go env: {failed.describe_failure()}", "run `go env` by hand")
    return values


def go_env_object(result: CommandResult) -> dict[str, str]:
    """``go env -json``'s object of strings; ValueError when it is not JSON (an old go, a
    wrapper), HostError when it is JSON of another shape (a broken or hostile go)."""
    shape = f"`{result.shown}` printed JSON that is not an object of strings"
    try:
        data = json.loads(result.out)
    except RecursionError:
        raise HostError(
            f"{shape} (it is nested too deeply)", "run `go env -json` by hand"
        ) from None
    if not isinstance(data, dict):
        raise HostError(f"{shape} (a {type(data).__name__})", "run `go env -json` by hand")
    for key, value in data.items():
        if not isinstance(value, str):
            raise HostError(
                f"{shape} ({capped(key)} is a {type(value).__name__})", "run `go env -json` by hand"
            )
    return data


def with_go_mod(section: GoSection, text: str) -> None:
    """Add the ``go`` and ``toolchain`` lines of a go.mod to *section*."""
    parsed = gomod.parse(text)
    if parsed.go is not None:
        section["mod_go"] = parsed.go
    if parsed.toolchain is not None:
        section["mod_toolchain"] = parsed.toolchain


def configured_toolchain(host: Host, env: dict[str, str]) -> str | None:
    """GOTOOLCHAIN as the user's own go reads it: environment, then GOENV, then GOROOT/go.env.

    envsnap runs go with GOTOOLCHAIN=local so it never downloads anything, which hides the
    user's setting from ``go env``; so it is read from where go reads it (an empty variable
    counts as unset, as in go's ``cfg.Getenv``). None: set nowhere, or a Go before 1.21, which
    has no such setting.
    """
    if _before_go121(env):
        return None
    from_env = host.getenv("GOTOOLCHAIN")
    if from_env:
        return from_env
    for path in (env.get("GOENV", ""), f"{env.get('GOROOT', '')}/go.env"):
        text = host.read_text(path) if path.startswith("/") else None
        found = parse_go_env_text(text).get("GOTOOLCHAIN") if text is not None else None
        if found:
            return found
    return None


def toolchain_setting(host: Host, env: dict[str, str]) -> str | None:
    """The GOTOOLCHAIN setting to record ("auto" when a Go 1.21+ has none written anywhere)."""
    if _before_go121(env):
        return None
    return configured_toolchain(host, env) or "auto"


def _before_go121(env: dict[str, str]) -> bool:
    minor = re.match(r"go1\.(\d+)", env.get("GOVERSION", ""))
    return minor is not None and int(minor[1]) < 21


def switch_lines(host: Host, env: dict[str, str], module_dir: str) -> tuple[str, str, str]:
    """The ``go`` and ``toolchain`` lines go's switch reads: go.work's in a workspace, else
    go.mod's (the first of each, as ``gover.GoModLookup`` reads them), and that file's name."""
    work = env.get("GOWORK", "")
    path = work if work.startswith("/") and host.exists(work) else f"{module_dir}/go.mod"
    text = host.read_text(path) or ""
    lines = gover.go_mod_lookup(text, "go"), gover.go_mod_lookup(text, "toolchain")
    return *lines, posixpath.basename(path)


class BuildGo(NamedTuple):
    """The go the user's build runs (after any toolchain switch) and what led there."""

    path: str
    env: dict[str, str]  # its go env
    setting: str | None  # the user's GOTOOLCHAIN, as recorded
    switched_from: str | None  # the local go's version, when the build switches away from it


def refuse_cross_target(host: Host, env: dict[str, str]) -> None:
    """A GOOS/GOARCH other than the host's would file this host's compiler, libraries and SDK
    under another platform's entry; refuse it. Build variants (envsnap.toml) carry tags only:
    a cross-compiled cgo variant would need a cross C toolchain and the target's libraries."""
    target = f"{env.get('GOOS')}-{env.get('GOARCH')}"
    native = f"{env.get('GOHOSTOS', env.get('GOOS'))}-{env.get('GOHOSTARCH', env.get('GOARCH'))}"
    if target == native:
        return
    where = "the environment" if host.getenv("GOOS") or host.getenv("GOARCH") else "go env -w"
    raise EnvsnapError(
        f"GOOS/GOARCH select {target} (set in {where}) but this host is {native}: its compiler, "
        f"libraries and SDK would be recorded as the {target} entry",
        "unset GOOS and GOARCH (`go env -u GOOS GOARCH` if set with go env -w) and run it on "
        f"a {target} machine for that entry; cross-compiled build variants are not supported "
        "(variants in envsnap.toml select tags)",
    )


def build_go(host: Host, module_dir: str, go: str | None = None) -> BuildGo:
    """The go the build runs: *go* (default: the one on PATH) unless the toolchain switches."""
    go = go or find_go(host)
    env = read_go_env(host, go, module_dir)
    refuse_cross_target(host, env)
    setting = toolchain_setting(host, env)
    local = env.get("GOVERSION") or _version_from_go_version(host, go)
    choice = toolchain.select_toolchain(
        configured_toolchain(host, env), local, *switch_lines(host, env, module_dir)
    )
    if not choice.switches:
        return BuildGo(go, env, setting, None)
    switched = toolchain.locate(host, choice, env)
    return BuildGo(switched, read_go_env(host, switched, module_dir), setting, local)


def go_section(host: Host, go: BuildGo, module_dir: str) -> GoSection:
    """The lock's ``go`` section for the go the build runs."""
    env = go.env
    section: GoSection = {
        "version": env.get("GOVERSION") or _version_from_go_version(host, go.path),
        "path": host.realpath(go.path),
        "goroot": env.get("GOROOT", ""),
        "env": {key: env[key] for key in GO_ENV_KEYS if key in env and key != "GOVERSION"},
    }
    if go.setting is not None:
        section["gotoolchain"] = go.setting
    if go.switched_from is not None:
        section["switched_from"] = go.switched_from
    work = env.get("GOWORK", "")
    if work and work != "off":  # go builds the module as part of a workspace
        section["workspace"] = posixpath.relpath(work, module_dir)
    go_mod = host.read_text(f"{module_dir}/go.mod")
    if go_mod is not None:
        with_go_mod(section, go_mod)
    return section


def _version_from_go_version(host: Host, go: str) -> str:
    result = host.run([go, "version"], limit=VERSION_OUTPUT_LIMIT)
    match = re.search(r"\bgo version (\S+)", result.out)
    if not result.ok or match is None:
        raise HostError(
            f"cannot read the Go version: {result.describe_failure()}",
            "run `go version` by hand to see why",
        )
    return capped(match.group(1))
