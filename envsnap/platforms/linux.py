"""Linux: gcc, GNU ld (or lld, gold) with linker scripts, ELF, dpkg owning the libraries."""

from __future__ import annotations

from envsnap.platforms.base import Unix


class Linux(Unix):
    default_cc = "gcc"
    default_cxx = "g++"
    package_manager: str | None = "apt"
    runner_labels: tuple[str, ...] = ("ubuntu-",)


LINUX = Linux("linux")
