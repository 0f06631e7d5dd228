"""shell.nix and flake.nix from the lock's shell plans."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from envsnap.emit import DEFAULT_CHOICE, VariantChoice, header, safe_comment
from envsnap.emit.plan import ShellPlan
from envsnap.errors import EnvsnapError

DEFAULT_TARBALL = "https://github.com/NixOS/nixpkgs/archive/{rev}.tar.gz"
# A revision is a commit (7 to 40 hex digits) or a branch name such as nixos-24.05; a hash is
# what nix prints: 52 characters of Nix base32, 64 hex digits, or SRI (sha256-…=).
_REVISION = re.compile(r"[0-9a-f]{7,40}|[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_SHA256 = re.compile(r"[0-9a-df-np-sv-z]{52}|[0-9a-f]{64}|sha256-[A-Za-z0-9+/]{43}=")
# A tarball URL names the revision with {rev} and nothing else in braces: it is filled in by
# replacement, never by str.format (which would evaluate {rev.__class__…} from envsnap.toml).
_TARBALL = re.compile(r"https://[^\s{}\\\"'$]+\{rev\}[^\s{}\\\"'$]*")
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
        if not _REVISION.fullmatch(self.rev) or ".." in self.rev:
            raise EnvsnapError(
                f"{safe_comment(self.rev)!r} is not a nixpkgs revision",
                "pass a commit (hex) or a branch name such as nixos-24.05",
            )
        if not _SHA256.fullmatch(self.sha256):
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


def tarball_url(template: str, rev: str) -> str:
    """*template* (envsnap.toml's [nix] tarball_url) with its ``{rev}`` replaced by *rev*."""
    if not _TARBALL.fullmatch(template):
        raise EnvsnapError(
            f"[nix] tarball_url {safe_comment(template)!r} is not an https URL with one {{rev}}",
            f"use a URL such as {DEFAULT_TARBALL}",
        )
    return template.replace("{rev}", rev)


def _pkgs_argument(pin: Pin | None, tarball: str) -> str:
    if pin is None:
        return "{ pkgs ? import <nixpkgs> { } }:"
    url = nix_string(tarball_url(tarball, pin.rev))
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
