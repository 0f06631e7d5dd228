"""shell.nix and flake.nix from the lock's shell plans."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from envsnap.emit import DEFAULT_CHOICE, VariantChoice, header, refuse_nul, safe_comment
from envsnap.emit.plan import ShellPlan
from envsnap.errors import EnvsnapError

DEFAULT_TARBALL = "https://github.com/NixOS/nixpkgs/archive/{rev}.tar.gz"
# A pin is a commit (7 to 40 hex digits: a branch name moves, so it pins nothing); a hash is
# what nix prints: 52 characters of Nix base32, 64 hex digits, or SRI (sha256-…=).
_REVISION = re.compile(r"[0-9a-f]{7,40}")
_SHA256 = re.compile(r"[0-9a-df-np-sv-z]{52}|[0-9a-f]{64}|sha256-[A-Za-z0-9+/]{43}=")
# A tarball URL names the revision with {rev} and nothing else in braces: it is filled in by
# replacement, never by str.format (which would evaluate {rev.__class__…} from envsnap.toml).
_TARBALL = re.compile(r"https://[^\s{}\\\"'$]+\{rev\}[^\s{}\\\"'$]*")
UNPINNED_FLAKE = "github:NixOS/nixpkgs/nixpkgs-unstable"
FLAKE_PREFIX = "github:NixOS/nixpkgs/"
_NIX_ESCAPES = {"\\": "\\\\", '"': '\\"', "$": "\\$", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


NO_NIXPKGS = (
    "the Nix here has no nixpkgs on its search path (`nix-instantiate --find-file nixpkgs` "
    "fails, as on a Nix without channels), so this unpinned shell.nix cannot load here and the "
    ".envrc falls back to the locked values; pin nixpkgs (--nixpkgs REV --nixpkgs-sha256 HASH)"
)


def nixpkgs_missing() -> bool:
    """Whether a Nix is installed here whose search path has no ``nixpkgs``."""
    finder = shutil.which("nix-instantiate")
    if finder is None:
        return False
    try:
        found = subprocess.run(
            [finder, "--find-file", "nixpkgs"], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return found.returncode != 0


def nix_string(value: str) -> str:
    """A Nix double-quoted string whose value is exactly *value* (no interpolation possible)."""
    return '"' + "".join(_NIX_ESCAPES.get(c, c) for c in value) + '"'


@dataclass(frozen=True)
class Pin:
    """A nixpkgs revision to pin (``--nixpkgs REV --nixpkgs-sha256 HASH`` or envsnap.toml's
    ``[nix] nixpkgs = "github:NixOS/nixpkgs/<rev>"``); without a sha256 only the flake is
    reproducible (flake.lock records the hash), shell.nix then fetches the revision unchecked."""

    rev: str
    sha256: str | None = None

    def __post_init__(self) -> None:
        if not _REVISION.fullmatch(self.rev):
            raise EnvsnapError(
                f"{safe_comment(self.rev[:80])!r} is not a nixpkgs commit",
                "pass a hex revision, or github:NixOS/nixpkgs/<rev> in envsnap.toml",
            )
        if self.sha256 is not None and not _SHA256.fullmatch(self.sha256):
            raise EnvsnapError(
                "the nixpkgs sha256 is malformed",
                "use the hash `nix-prefetch-url --unpack` prints for the revision's tarball",
            )

    @classmethod
    def parse(cls, reference: str, sha256: str | None) -> Pin:
        """A pin from a bare revision or a ``github:NixOS/nixpkgs/<rev>`` flake reference."""
        return cls(reference.removeprefix(FLAKE_PREFIX), sha256)


def _comment_lines(notes: Sequence[str], indent: str) -> list[str]:
    return [f"{indent}# {safe_comment(note)}" for note in notes]


def _binding(name: str, values: dict[str, str], indent: str) -> list[str]:
    """``name = { "K" = "v"; … };`` over several lines, every key and value quoted."""
    refuse_nul(values)
    if not values:
        return [f"{indent}{name} = {{ }};"]
    lines = [f"{indent}{name} = {{"]
    lines += [f"{indent}  {nix_string(k)} = {nix_string(v)};" for k, v in sorted(values.items())]
    return [*lines, f"{indent}}};"]


def _packages(plan: ShellPlan, pkgs: str) -> str:
    return "[ " + " ".join(f"{pkgs}.{name}" for name in plan.packages) + " ]"


def _build_inputs(plan: ShellPlan, pkgs: str) -> str:
    """The SDK (and deployment target) in buildInputs: how nixpkgs' darwin stdenv selects them."""
    inputs = [f"{pkgs}.{plan.sdk}"] if plan.sdk else []
    if plan.deployment_target:
        inputs.append(f"({pkgs}.darwinMinVersionHook {nix_string(plan.deployment_target)})")
    return "[ " + " ".join(inputs) + " ]" if inputs else "[ ]"


def _platform_block(plan: ShellPlan, indent: str) -> list[str]:
    return [
        f"{indent}# {safe_comment(plan.platform)}",
        *_comment_lines(plan.notes, indent),
        f"{indent}{nix_string(plan.system)} = {{",
        f"{indent}  packages = {_packages(plan, 'pkgs')};",
        f"{indent}  buildInputs = {_build_inputs(plan, 'pkgs')};",
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
        return (
            "# nixpkgs is not pinned: <nixpkgs> is whatever channel this machine has. Pin it with\n"
            '# [nix] nixpkgs = "github:NixOS/nixpkgs/<rev>" and nixpkgs_sha256 in envsnap.toml.\n'
            "{ pkgs ? import <nixpkgs> { } }:"
        )
    url = nix_string(tarball_url(tarball, pin.rev))
    sha256 = [f"    sha256 = {nix_string(pin.sha256)};\n"] if pin.sha256 else []
    unchecked = "" if pin.sha256 else "# no nixpkgs_sha256: this download is unchecked\n"
    return (
        unchecked + "{ pkgs ? import (fetchTarball {\n"
        f"    url = {url};\n" + "".join(sha256) + "  }) { }\n}:"
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
        "  inherit (shell) packages buildInputs env;",
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
        f"{indent}  buildInputs = pkgs: {_build_inputs(plan, 'pkgs')};",
        *_binding("env", plan.env, indent + "  "),
        f"{indent}}};",
    ]


def render_flake(
    plans: Sequence[ShellPlan], pin: Pin | None, choice: VariantChoice = DEFAULT_CHOICE
) -> str:
    ref = f"{FLAKE_PREFIX}{pin.rev}" if pin else UNPINNED_FLAKE
    unpinned = [] if pin else ["# nixpkgs follows nixpkgs-unstable until flake.lock fixes it;"]
    unpinned += [] if pin else ['# pin it with [nix] nixpkgs = "github:NixOS/nixpkgs/<rev>".']
    lines = [
        header("#", "--flake", choice).rstrip("\n"),
        *unpinned,
        "{",
        '  description = "The cgo toolchain locked in envsnap.lock";',
        f"  inputs.nixpkgs.url = {nix_string(ref)};",
        "  outputs = { self, nixpkgs }:",
        "    let",
        "      shell = { system, packages, buildInputs, env }:",
        "        let pkgs = nixpkgs.legacyPackages.${system}; in",
        "        pkgs.mkShell {",
        "          packages = packages pkgs;",
        "          buildInputs = buildInputs pkgs;",
        "          inherit env;",
        "        };",
        "    in",
        "    {",
        "      devShells = {",
    ]
    for plan in plans:
        lines += _flake_shell(plan)
    lines += ["      };", "    };", "}"]
    return "\n".join(lines) + "\n"
