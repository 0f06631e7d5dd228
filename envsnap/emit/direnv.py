""".envrc from ``templates/envrc``: delegate to Nix when present, else export the locked values."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from typing import Any

from envsnap.emit import DEFAULT_CHOICE, VariantChoice, header, safe_comment, variant_exports
from envsnap.vocabulary import CGO_TOOL_VARIABLES as GO_ENV_EXPORTS

# GOOS-GOARCH -> what `uname -s`-`uname -m` prints there.
UNAME = {
    "darwin-arm64": "Darwin-arm64",
    "darwin-amd64": "Darwin-x86_64",
    "linux-amd64": "Linux-x86_64",
    "linux-arm64": "Linux-aarch64",
}


def bash_word(value: str) -> str:
    """A bash word whose value is exactly *value*; a leading ``~/`` becomes ``$HOME``."""
    if value == "~" or value.startswith("~/"):
        rest = value[1:]
        return '"$HOME"' + (bash_word(rest) if rest else "")
    return "'" + value.replace("'", "'\\''") + "'"


def exports(entry: dict[str, Any]) -> dict[str, str]:
    """The variables to export for one locked platform, by name."""
    values: dict[str, str] = {}
    apple = entry.get("apple", {})
    if apple.get("sdk_path"):
        values["SDKROOT"] = str(apple["sdk_path"])
    if apple.get("developer_dir"):
        values["DEVELOPER_DIR"] = str(apple["developer_dir"])
    go_env = entry.get("go", {}).get("env", {})
    for name in GO_ENV_EXPORTS:
        if isinstance(go_env.get(name), str) and go_env[name] != "":
            values[name] = go_env[name]
    if isinstance(entry.get("env", {}).get("PKG_CONFIG_PATH"), str):
        values["PKG_CONFIG_PATH"] = entry["env"]["PKG_CONFIG_PATH"]
    values["GOTOOLCHAIN"] = "local"
    values.update(variant_exports(entry))
    return values


def _case_arm(platform: str, entry: dict[str, Any]) -> list[str]:
    lines = [f"    {UNAME[platform]})  # {safe_comment(platform)}"]
    lines += [f"      export {k}={bash_word(v)}" for k, v in exports(entry).items()]
    return [*lines, "      ;;"]


def render_envrc(
    entries: Sequence[tuple[str, dict[str, Any]]], choice: VariantChoice = DEFAULT_CHOICE
) -> tuple[str, list[str]]:
    """The .envrc text and the platforms that could not be given a case."""
    arms, skipped = [], []
    for platform, entry in entries:
        if platform in UNAME:
            arms += _case_arm(platform, entry)
        else:
            skipped.append(safe_comment(platform))
    template = (files("envsnap") / "_data" / "templates" / "envrc").read_text(encoding="utf-8")
    text = template.replace("@HEADER@", header("#", "--direnv", choice).rstrip("\n"))
    return text.replace("@EXPORTS@", "\n".join(arms)), skipped
