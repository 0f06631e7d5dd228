"""The interface every system answers, and a bare Unix for a system envsnap does not know."""

from __future__ import annotations

from typing import Protocol


class Platform(Protocol):
    """What envsnap must know of a system to probe, check and recreate a toolchain on it."""

    goos: str
    # go's compilers when CC and CXX are unset (cmd/go's defaultCC, defaultCXX)
    default_cc: str
    default_cxx: str
    # developer tools chosen outside the toolchain (xcode-select, xcrun, an SDK): the entry's
    # `apple` section, doctor's macOS checks, DEVELOPER_DIR and SDKROOT in an emitted file
    has_developer_tools: bool
    # the OS's name and version are read from os-release (else from SystemVersion.plist)
    reads_os_release: bool
    # the linker is asked for its version itself (`ld -v`), not through the compiler driver
    linker_on_path: bool
    # the linker's default search path is the SDK's (else the linker is asked for it)
    library_dirs_from_sdk: bool
    # a `-l` can name a GNU ld script (glibc's libm.so) whose members the linker opens
    reads_linker_scripts: bool
    # the linker flag that prints each file it opens
    linker_trace_flag: str
    # the package manager that owns the system's libraries, by its installer: "apt" (dpkg),
    # "brew" (Homebrew); None when envsnap knows none
    package_manager: str | None
    # the prefixes of GitHub-hosted runner images of this system (github/runner-images.toml)
    runner_labels: tuple[str, ...]

    def library_names(self, name: str, static: bool) -> list[str]:
        """The file names ``-lNAME`` tries in each directory, in the linker's order."""
        ...


class Unix:
    """A system envsnap does not know: GNU ld's ways, go's fallback compilers, no package
    manager and no runner image."""

    default_cc = "cc"
    default_cxx = "c++"
    has_developer_tools = False
    reads_os_release = True
    linker_on_path = False
    library_dirs_from_sdk = False
    reads_linker_scripts = True
    linker_trace_flag = "-Wl,--trace"
    package_manager: str | None = None
    runner_labels: tuple[str, ...] = ()
    library_suffixes: tuple[str, ...] = (".so", ".a")

    def __init__(self, goos: str) -> None:
        self.goos = goos

    def library_names(self, name: str, static: bool) -> list[str]:
        """``-static`` makes GNU ld take archives alone."""
        suffixes = (".a",) if static else self.library_suffixes
        return [f"lib{name}{suffix}" for suffix in suffixes]
