"""The words every layer shares: which variables a cgo build reads, and how severities rank.

A plain-data module that imports no other envsnap module, so that the rules
(:mod:`envsnap.drift`), the report, the probes, emit and doctor name the same variables without
importing one another (see docs/architecture.md). Each go env setting a lock records is declared
once, in :data:`GO_VARIABLES`; every list of them is derived from there. The go env keys and the
allowlist are what a lock records: changing them changes every lock's digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# --- severities ------------------------------------------------------------------------------

SEVERITIES = ("error", "warning", "info")  # most severe first: the order reports use
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}

# --- environment variables -------------------------------------------------------------------


@dataclass(frozen=True)
class GoVariable:
    """A setting ``go env`` reports that a lock records in ``go.env``, declared once.

    *role*: ``flags`` for the flags go passes to the C compiler and linker, ``tool`` for what
    selects the C toolchain, ``go`` for what changes the Go build itself. *unset* is go's own
    value when nothing sets the variable (cmd/go/internal/cfg, cmd/go/internal/work), and a lock
    written before envsnap recorded the variable is held to it. *build_info*: ``go version -m``
    records it among a binary's build settings (cmd/go/internal/load: setBuildInfo), so
    ``inspect`` compares it. *exported*: an emitted .envrc exports the locked value.
    """

    name: str
    role: Literal["flags", "tool", "go"]
    unset: str | None = None
    build_info: bool = False
    exported: bool = False

    @property
    def cgo(self) -> bool:
        """A change in it changes how cgo compiles or links (an error, elsewhere a warning)."""
        return self.role in ("flags", "tool")


# FIELD-GUIDE §1. The order is the lock's and the reports'.
GO_VARIABLES = (
    GoVariable("GOVERSION", "go"),
    GoVariable("GOOS", "go", build_info=True),
    GoVariable("GOARCH", "go", build_info=True),
    GoVariable("CC", "tool", exported=True),
    GoVariable("CXX", "tool", exported=True),
    GoVariable("CGO_ENABLED", "tool", build_info=True, exported=True),
    GoVariable("CGO_CFLAGS", "flags", unset="-O2 -g", build_info=True, exported=True),
    GoVariable("CGO_CPPFLAGS", "flags", unset="", build_info=True, exported=True),
    GoVariable("CGO_CXXFLAGS", "flags", unset="-O2 -g", build_info=True, exported=True),
    GoVariable("CGO_LDFLAGS", "flags", unset="-O2 -g", build_info=True, exported=True),
    GoVariable("CGO_FFLAGS", "flags", unset="-O2 -g", exported=True),  # for gfortran
    GoVariable("PKG_CONFIG", "tool", exported=True),
    GoVariable("GOFLAGS", "go"),
    GoVariable("GO111MODULE", "go"),
    # the architecture's level: go env reports only the one of the target's GOARCH
    GoVariable("GOAMD64", "go", build_info=True),
    GoVariable("GOARM64", "go", build_info=True),
    GoVariable("GOEXPERIMENT", "go", build_info=True),
)
GO_VARIABLE = {variable.name: variable for variable in GO_VARIABLES}

# The flags go passes to the C compiler and linker.
CGO_FLAG_VARIABLES = tuple(v.name for v in GO_VARIABLES if v.role == "flags")

# go's defaults for the flag variables when nothing sets them.
CGO_FLAG_DEFAULTS = {
    v.name: v.unset for v in GO_VARIABLES if v.role == "flags" and v.unset is not None
}

# The go env settings that select the C toolchain; exported by an emitted .envrc.
CGO_TOOL_VARIABLES = tuple(v.name for v in GO_VARIABLES if v.exported)

# Variables that carry the cgo flags or tools: a change in them is an error, elsewhere a warning.
CGO_VARIABLES = frozenset(v.name for v in GO_VARIABLES if v.cgo)

# The go env fields that change what a cgo build does, as a lock records them.
GO_ENV_KEYS = tuple(v.name for v in GO_VARIABLES)

# The go env settings a binary's build information records, as a lock records them: those of
# the C toolchain first, then Go's own.
BUILD_INFO_VARIABLES = tuple(
    v.name for v in sorted(GO_VARIABLES, key=lambda v: v.role == "go") if v.build_info
)

# Variables whose value is a list of words (go splits them with cmd/internal/quoted): a change
# is shown as the words added and removed.
WORD_VARIABLES = frozenset({*CGO_FLAG_VARIABLES, "GOFLAGS"})

# Apple's developer-tools selectors: xcrun and the compiler driver read them.
APPLE_VARIABLES = ("SDKROOT", "DEVELOPER_DIR")

# pkg-config's own search settings.
PKG_CONFIG_VARIABLES = ("PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR", "PKG_CONFIG_SYSROOT_DIR")

# Variables a cgo build reads directly, beyond what ``go env`` reports (FIELD-GUIDE §1): the
# allowlist of the lock's ``env`` section. Only these (and envsnap.toml's [track] env) are read.
ENV_ALLOWLIST = (
    *APPLE_VARIABLES,
    "MACOSX_DEPLOYMENT_TARGET",
    *PKG_CONFIG_VARIABLES,
    "LIBRARY_PATH",
    "CPATH",
    "C_INCLUDE_PATH",
    "LD_LIBRARY_PATH",
    "DYLD_LIBRARY_PATH",
    "DYLD_FALLBACK_LIBRARY_PATH",
)


def developer_dir_kind(path: str) -> str:
    """What kind of macOS developer dir *path* is: nix, clt, xcode or other."""
    if path.startswith("/nix/store/"):
        return "nix"
    if path.rstrip("/").endswith("/CommandLineTools"):
        return "clt"
    if ".app/Contents/Developer" in path:
        return "xcode"
    return "other"


def brew_provider(formula: str, version: str) -> str:
    """How a lock names a library that a Homebrew formula provides: ``brew:openssl@3 3.3.0``."""
    return f"brew:{formula} {version}"


def brew_formula(provider: object) -> str:
    """The formula of a ``brew:FORMULA VERSION`` provider; empty for any other provider."""
    text = str(provider)
    if not text.startswith("brew:"):
        return ""
    formula, space, _ = text[len("brew:") :].partition(" ")
    return formula if space and formula else ""
