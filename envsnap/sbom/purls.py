"""Package URLs (purl) of what a lock names, built with packageurl-python.

A purl is given where the package-url specification defines the type: ``deb`` for a library or
compiler that dpkg says a Debian package owns, ``brew`` for a Homebrew keg, ``nix`` (nixpkgs
attribute and version) for a Nix store path whose library has a known attribute, and
``golang`` for a Go module. Anything else has none: the document names it with its hashes alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from envsnap.emit.native import BREW_FORMULA, DEBIAN_NAME, DEBIAN_VERSION, DPKG_ARCH
from envsnap.platforms import platform_for
from envsnap.vocabulary import brew_formula

DEBIAN_VENDOR = re.compile(r"[a-z0-9][a-z0-9._-]*")  # os-release's ID: debian, ubuntu, …
BREW_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+~-]*")  # 3.4.0, 1.2.3_1, 2024a
# The outputs a multi-output derivation's store path names after its version (zlib-1.3.1-dev)
NIX_OUTPUTS = ("dev", "lib", "bin", "out", "static")


def _purl(
    kind: str, namespace: str | None, name: str, version: str | None, **qualifiers: str
) -> str | None:
    from packageurl import PackageURL

    try:
        made = PackageURL(kind, namespace, name, version or None, qualifiers or None)
    except ValueError:  # a value packageurl-python refuses: the part goes without a purl
        return None
    return str(made.to_string())


def debian(package: object, entry: Mapping[str, object]) -> str | None:
    """``pkg:deb/debian/zlib1g-dev@1:1.2.13.dfsg-1?arch=amd64`` for dpkg's owner of a file
    (``package = "zlib1g-dev 1:1.2.13.dfsg-1"``) on a Debian-family system. (*entry* is read
    as plain data: its ``os`` section is all that is needed.)"""
    os_section = entry.get("os")
    if not isinstance(os_section, Mapping):
        return None
    vendor = str(os_section.get("id") or "").lower()
    goos = os_section.get("goos")
    if not isinstance(package, str) or platform_for(str(goos or "")).package_manager != "apt":
        return None
    name, _, version = package.partition(" ")
    if not (DEBIAN_NAME.fullmatch(name) and DEBIAN_VERSION.fullmatch(version)):
        return None  # not dpkg's answer: a Nix store name, or a hand-made value
    if not DEBIAN_VENDOR.fullmatch(vendor):
        return None
    arch = DPKG_ARCH.get(str(os_section.get("goarch")))
    return _purl("deb", vendor, name, version, **({"arch": arch} if arch else {}))


def homebrew(provider: object) -> str | None:
    """``pkg:brew/openssl%403@3.4.0`` for a ``brew:openssl@3 3.4.0`` provider; a tap's formula
    (``org/tap/name``) keeps its tap as the namespace."""
    formula = brew_formula(provider)
    version = str(provider).partition(" ")[2]
    if not (BREW_FORMULA.fullmatch(formula) and BREW_VERSION.fullmatch(version)):
        return None
    tap, _, name = formula.rpartition("/")
    return _purl("brew", tap or None, name.lower(), version)


def parse_drv_name(name: str) -> tuple[str, str]:
    """A store path name split as Nix's ``builtins.parseDrvName`` splits it: the version starts
    after the first dash that is not followed by a letter."""
    for index, char in enumerate(name[:-1]):
        if char == "-" and not name[index + 1].isalpha():
            return name[:index], name[index + 1 :]
    return name, ""


def nix(provider: object, keys: list[str], attributes: Mapping[str, str]) -> str | None:
    """``pkg:nix/nixpkgs/zlib@1.3.1`` for a ``nix:zlib-1.3.1-dev`` provider whose library has
    a nixpkgs attribute (envsnap emit's table, by pkg-config module, ``-l`` name or formula)."""
    text = str(provider)
    if not text.startswith("nix:"):
        return None
    attribute = next((attributes[k] for k in keys if attributes.get(k)), None)
    if attribute is None:
        return None
    version = parse_drv_name(text.removeprefix("nix:"))[1]
    for output in NIX_OUTPUTS:
        version = version.removesuffix(f"-{output}")
    return _purl("nix", "nixpkgs", attribute, version)


def go_module(path: str, version: str) -> str | None:
    """``pkg:golang/golang.org/x/sys@v0.20.0``; none for a path without a namespace (the
    purl type needs one) and no version for ``(devel)``."""
    namespace, _, name = path.rpartition("/")
    if not namespace or not name:
        return None
    return _purl("golang", namespace, name, None if version in ("", "(devel)") else version)
