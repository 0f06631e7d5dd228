""".envrc from ``templates/envrc``: Nix where it can work, else the locked values, resolved here.

Module-relative (``${MODULE}``), module-cache (``${GOMODCACHE}``) and home (``~``) paths in the
lock are resolved when the ``.envrc`` loads; ``SDKROOT`` and ``DEVELOPER_DIR`` are exported only
as the locked versioned real paths and only where they exist, else direnv's ``log_error`` says what
to install; ``GOTOOLCHAIN`` pins the locked Go release so that go itself fetches it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib.resources import files

from envsnap.emit import (
    DEFAULT_CHOICE,
    VariantChoice,
    header,
    refuse_nul,
    safe_comment,
    variant_exports,
)
from envsnap.emit.apple import install_fix, sdk_words
from envsnap.entry import AppleSection, Entry
from envsnap.normalize import GOMODCACHE_MARK, HOME_MARK, MODULE_MARK
from envsnap.ownexports import locked_toolchain, versioned_sdk
from envsnap.platforms import for_key
from envsnap.vocabulary import CGO_TOOL_VARIABLES as GO_ENV_EXPORTS

# GOOS-GOARCH -> what `uname -s`-`uname -m` prints there.
UNAME = {
    "darwin-arm64": "Darwin-arm64",
    "darwin-amd64": "Darwin-x86_64",
    "linux-amd64": "Linux-x86_64",
    "linux-arm64": "Linux-aarch64",
}
# Where envsnap.normalize put a mark: at a path's start (the same positions it rewrites).
MARK = re.compile(
    r"(?:^|(?<=[\s=:,;'\"])|(?<=-[A-Za-z]))"
    r"(" + "|".join(re.escape(m) for m in (MODULE_MARK, GOMODCACHE_MARK, HOME_MARK)) + r")"
    r"(?=/|$|\s)"
)
SHELL_OF_MARK = {
    MODULE_MARK: '"$envsnap_module"',
    GOMODCACHE_MARK: '"$envsnap_gomodcache"',
    HOME_MARK: '"$HOME"',
}
INDENT = "      "


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'" if text else ""


def bash_word(value: str) -> str:
    """A bash word whose value is *value* with its path marks resolved at load time: ``~`` is
    ``$HOME``, ``${MODULE}`` the module directory, ``${GOMODCACHE}`` go's module cache. Every
    other character is single-quoted and never expands."""
    parts, last = [], 0
    for match in MARK.finditer(value):
        parts += [_quoted(value[last : match.start()]), SHELL_OF_MARK[match[1]]]
        last = match.end()
    parts.append(_quoted(value[last:]))
    return "".join(parts) or "''"


def exports(entry: Entry) -> dict[str, str]:
    """The unconditional exports of one locked platform, by name (values still marked)."""
    values: dict[str, str] = {}
    go_env = entry["go"]["env"]
    for name in GO_ENV_EXPORTS:
        if value := go_env.get(name):
            values[name] = value
    if (pkg_config_path := entry["env"].get("PKG_CONFIG_PATH")) is not None:
        values["PKG_CONFIG_PATH"] = pkg_config_path
    toolchain = locked_toolchain(entry)
    if toolchain:
        values["GOTOOLCHAIN"] = toolchain
    values.update(variant_exports(entry))
    return values


def _guarded(name: str, path: str, missing: str) -> list[str]:
    refuse_nul({name: path})
    return [
        f"{INDENT}if [ -d {bash_word(path)} ]; then",
        f"{INDENT}  export {name}={bash_word(path)}",
        f"{INDENT}else",
        f"{INDENT}  log_error {_quoted('envsnap: ' + missing)}",
        f"{INDENT}fi",
    ]


def apple_lines(entry: Entry) -> list[str]:
    """DEVELOPER_DIR and SDKROOT, each exported only where the locked one exists."""
    apple = entry.get("apple", AppleSection())
    lines: list[str] = []
    devdir = apple.get("developer_dir_realpath") or apple.get("developer_dir")
    fix = install_fix(apple)
    if devdir is not None and devdir.startswith("/"):
        lines += _guarded(
            "DEVELOPER_DIR",
            devdir,
            f"DEVELOPER_DIR not set: {safe_comment(devdir)} does not exist here; {fix}",
        )
    sdk = versioned_sdk(apple)
    if sdk is not None:
        what = sdk_words(apple) or "macOS SDK"
        lines += _guarded(
            "SDKROOT",
            sdk,
            f"SDKROOT not set: the locked {what} is not at {safe_comment(sdk)}; {fix}",
        )
    elif apple:
        lines.append(f"{INDENT}# SDKROOT is not set: the lock names no versioned macOS SDK")
    return lines


def _resolvers(values: Sequence[str], module: str) -> list[str]:
    """The lines that define the directories the marked values refer to."""
    text = "\n".join(values)
    lines = [f"{INDENT}envsnap_module={module}"] if MODULE_MARK in text else []
    if GOMODCACHE_MARK in text:
        lines.append(
            f"{INDENT}envsnap_gomodcache=$(GOTOOLCHAIN=local go env GOMODCACHE) || "
            'envsnap_gomodcache="$HOME/go/pkg/mod"'
        )
    return lines


def _case_arm(platform: str, entry: Entry, module: str) -> list[str]:
    values = exports(entry)
    refuse_nul(values)
    lines = [f"    {UNAME[platform]})  # {safe_comment(platform)}"]
    lines += _resolvers(list(values.values()), module)
    if for_key(platform).has_developer_tools:
        lines += apple_lines(entry)
    lines += [f"{INDENT}export {k}={bash_word(v)}" for k, v in values.items()]
    return [*lines, "      ;;"]


def render_envrc(
    entries: Sequence[tuple[str, Entry]],
    choice: VariantChoice = DEFAULT_CHOICE,
    module_dir: str = ".",
) -> tuple[str, list[str]]:
    """The .envrc text and the platforms that could not be given a case; *module_dir* is the
    module's directory relative to where the .envrc is written."""
    module = '"$PWD"' if module_dir == "." else f"$(expand_path {_quoted(module_dir)})"
    arms, skipped = [], []
    for platform, entry in entries:
        if platform in UNAME:
            arms += _case_arm(platform, entry, module)
        else:
            skipped.append(safe_comment(platform))
    template = (files("envsnap") / "_data" / "templates" / "envrc").read_text(encoding="utf-8")
    text = template.replace("@HEADER@", header("#", "--direnv", choice).rstrip("\n"))
    return text.replace("@EXPORTS@", "\n".join(arms)), skipped
