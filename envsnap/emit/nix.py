"""shell.nix and flake.nix from the lock's shell plans."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from envsnap.emit import DEFAULT_CHOICE, VariantChoice, header, safe_comment
from envsnap.emit.plan import ShellPlan
from envsnap.errors import EnvsnapError

DEFAULT_TARBALL = "https://github.com/NixOS/nixpkgs/archive/{rev}.tar.gz"
_NIX_ESCAPES = {"\\": "\\\\", '"': '\\"', "$": "\\$", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def nix_string(value: str) -> str:
    """A Nix double-quoted string whose value is exactly *value* (no interpolation possible)."""
    return '"' + "".join(_NIX_ESCAPES.get(c, c) for c in value) + '"'


@dataclass(frozen=True)
class Pin:
    """A nixpkgs revision to pin (``--nixpkgs REV --nixpkgs-sha256 HASH`` or envsnap.toml)."""

    rev: str
    sha256: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9a-f]{7,40}", self.rev):
            raise EnvsnapError(f"{self.rev!r} is not a nixpkgs commit", "pass a hex revision")
        if not re.fullmatch(r"[A-Za-z0-9+/=:-]{20,}", self.sha256):
            raise EnvsnapError(
                "the nixpkgs sha256 is malformed", "use the hash nix-prefetch-url prints"
            )


def _comment_lines(notes: Sequence[str], indent: str) -> list[str]:
    return [f"{indent}# {safe_comment(note)}" for note in notes]


def _binding(name: str, values: dict[str, str], indent: str) -> list[str]:
    """``name = { "K" = "v"; … };`` over several lines, every key and value quoted."""
    if not values:
        return [f"{indent}{name} = {{ }};"]
    lines = [f"{indent}{name} = {{"]
    lines += [f"{indent}  {nix_string(k)} = {nix_string(v)};" for k, v in sorted(values.items())]
    return [*lines, f"{indent}}};"]


def _packages(plan: ShellPlan, pkgs: str) -> str:
    return "[ " + " ".join(f"{pkgs}.{name}" for name in plan.packages) + " ]"


def _platform_block(plan: ShellPlan, indent: str) -> list[str]:
    return [
        f"{indent}# {safe_comment(plan.platform)}",
        *_comment_lines(plan.notes, indent),
        f"{indent}{nix_string(plan.system)} = {{",
        f"{indent}  packages = {_packages(plan, 'pkgs')};",
        *_binding("env", plan.env, indent + "  "),
        f"{indent}}};",
    ]


def _pkgs_argument(pin: Pin | None, tarball: str) -> str:
    if pin is None:
        return "{ pkgs ? import <nixpkgs> { } }:"
    url = nix_string(tarball.format(rev=pin.rev))
    return (
        "{ pkgs ? import (fetchTarball {\n"
        f"    url = {url};\n"
        f"    sha256 = {nix_string(pin.sha256)};\n"
        "  }) { }\n}:"
    )


def render_shell_nix(
    plans: Sequence[ShellPlan],
    pin: Pin | None,
    tarball: str,
    choice: VariantChoice = DEFAULT_CHOICE,
) -> str:
    lines = [
        header("#", "--nix", choice).rstrip("\n"),
        _pkgs_argument(pin, tarball),
        "let",
        "  # One shell per platform of envsnap.lock, chosen by the system Nix runs on.",
        "  shells = {",
    ]
    for plan in plans:
        lines += _platform_block(plan, "    ")
    lines += [
        "  };",
        "  system = pkgs.stdenv.hostPlatform.system;",
        "  shell = shells.${system} or (throw",
        '    "envsnap.lock has no entry for ${system}: run `envsnap lock` there and emit again");',
        "in",
        "pkgs.mkShell {",
        "  inherit (shell) packages env;",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _flake_shell(plan: ShellPlan) -> list[str]:
    indent = " " * 8
    return [
        f"{indent}# {safe_comment(plan.platform)}",
        *_comment_lines(plan.notes, indent),
        f"{indent}{nix_string(plan.system)}.default = shell {{",
        f"{indent}  system = {nix_string(plan.system)};",
        f"{indent}  packages = pkgs: {_packages(plan, 'pkgs')};",
        *_binding("env", plan.env, indent + "  "),
        f"{indent}}};",
    ]


def render_flake(
    plans: Sequence[ShellPlan], pin: Pin | None, choice: VariantChoice = DEFAULT_CHOICE
) -> str:
    ref = f"github:NixOS/nixpkgs/{pin.rev}" if pin else "github:NixOS/nixpkgs/nixpkgs-unstable"
    lines = [
        header("#", "--flake", choice).rstrip("\n"),
        "{",
        '  description = "The cgo toolchain locked in envsnap.lock";',
        f"  inputs.nixpkgs.url = {nix_string(ref)};",
        "  outputs = { self, nixpkgs }:",
        "    let",
        "      shell = { system, packages, env }:",
        "        let pkgs = nixpkgs.legacyPackages.${system}; in",
        "        pkgs.mkShell { packages = packages pkgs; inherit env; };",
        "    in",
        "    {",
        "      devShells = {",
    ]
    for plan in plans:
        lines += _flake_shell(plan)
    lines += ["      };", "    };", "}"]
    return "\n".join(lines) + "\n"
