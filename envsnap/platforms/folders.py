"""The per-user folders each system keeps configuration in, as Go finds them.

(The cache folder is :func:`envsnap.stamps.user_cache_dir`'s: a clean verify imports only the
fast path's own modules.)
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

# GOOS -> the configuration folder under the home folder (Go's os.UserConfigDir), where there is
# no absolute XDG_CONFIG_HOME; macOS ignores XDG_CONFIG_HOME
CONFIG_BASE = {"darwin": "Library/Application Support"}


def this_goos() -> str:
    """This machine's system by its GOOS name (``sys.platform`` says ``linux``, ``darwin``)."""
    name = sys.platform
    return "linux" if name.startswith("linux") else name


def user_config_dir(goos: str, environ: Mapping[str, str]) -> str:
    """The folder Go's ``os.UserConfigDir`` names on *goos*; empty when it cannot say."""
    home, config = environ.get("HOME", ""), environ.get("XDG_CONFIG_HOME", "")
    if goos in CONFIG_BASE:
        return f"{home}/{CONFIG_BASE[goos]}" if home else ""
    return config if config.startswith("/") else f"{home}/.config" if home else ""
