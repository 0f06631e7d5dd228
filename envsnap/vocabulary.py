"""The words every layer shares: which variables a cgo build reads, and how severities rank.

A plain-data module with no imports, so that the rules (:mod:`envsnap.drift`), the report, the
probes, emit and doctor name the same variables without importing one another (see
docs/architecture.md). The go env keys and the allowlist are what a lock records: changing them
changes every lock's digest.
"""

from __future__ import annotations

# --- severities ------------------------------------------------------------------------------

SEVERITIES = ("error", "warning", "info")  # most severe first: the order reports use
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}

# --- environment variables -------------------------------------------------------------------

# The flags go passes to the C compiler and linker (``go env``; FIELD-GUIDE §1).
CGO_FLAG_VARIABLES = ("CGO_CFLAGS", "CGO_CPPFLAGS", "CGO_CXXFLAGS", "CGO_LDFLAGS")

# go's defaults for the flag variables when nothing sets them (cmd/go/internal/cfg).
CGO_FLAG_DEFAULTS = {
    "CGO_CFLAGS": "-O2 -g",
    "CGO_CPPFLAGS": "",
    "CGO_CXXFLAGS": "-O2 -g",
    "CGO_FFLAGS": "-O2 -g",
    "CGO_LDFLAGS": "-O2 -g",
}

# The go env settings that select the C toolchain; exported by an emitted .envrc.
CGO_TOOL_VARIABLES = ("CC", "CXX", "CGO_ENABLED", *CGO_FLAG_VARIABLES, "PKG_CONFIG")

# Variables that carry the cgo flags or tools: a change in them is an error, elsewhere a warning.
CGO_VARIABLES = frozenset({*CGO_TOOL_VARIABLES, "CGO_FFLAGS"})

# The go env fields that change what a cgo build does (FIELD-GUIDE §1), as a lock records them.
GO_ENV_KEYS = (
    "GOVERSION",
    "GOOS",
    "GOARCH",
    "CGO_ENABLED",
    "CC",
    "CXX",
    *CGO_FLAG_VARIABLES,
    "PKG_CONFIG",
    "GOFLAGS",
    "GO111MODULE",
    "GOEXPERIMENT",
    "GOAMD64",
    "GOARM64",
)

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
