"""Allowlisted environment variables: read one by one, never the whole environment."""

from __future__ import annotations

from collections.abc import Iterable

from envsnap.host import Host
from envsnap.probes import Section

# Variables a cgo build reads directly, beyond what ``go env`` reports (FIELD-GUIDE §1).
ALLOWLIST = (
    "SDKROOT",
    "DEVELOPER_DIR",
    "MACOSX_DEPLOYMENT_TARGET",
    "PKG_CONFIG_PATH",
    "PKG_CONFIG_LIBDIR",
    "PKG_CONFIG_SYSROOT_DIR",
    "LIBRARY_PATH",
    "CPATH",
    "C_INCLUDE_PATH",
    "LD_LIBRARY_PATH",
    "DYLD_LIBRARY_PATH",
    "DYLD_FALLBACK_LIBRARY_PATH",
)

# Variables that carry the cgo flags: a change in them is an error, elsewhere a warning.
CGO_VARIABLES = frozenset(
    {
        "CGO_ENABLED",
        "CGO_CFLAGS",
        "CGO_CPPFLAGS",
        "CGO_CXXFLAGS",
        "CGO_LDFLAGS",
        "CGO_FFLAGS",
        "CC",
        "CXX",
        "PKG_CONFIG",
    }
)


def probe_env(host: Host, extra: Iterable[str] = ()) -> Section:
    names = dict.fromkeys([*ALLOWLIST, *extra])
    values = {}
    for name in names:
        value = host.getenv(name)
        if value is not None:
            values[name] = value
    return values
