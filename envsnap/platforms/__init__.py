"""What differs between the systems envsnap runs on, behind one interface.

Linux and macOS find libraries differently, own them through different package managers, name
their compilers differently, and only macOS has developer tools chosen outside the toolchain
(xcode-select, xcrun, an SDK). Each of these differences is a member of
:class:`~envsnap.platforms.base.Platform`; :mod:`envsnap.platforms.linux` and
:mod:`envsnap.platforms.darwin` hold the two answers. Every other module asks the platform of a
GOOS (``platform_for(host.system)``) or of a lock key (``for_key("darwin-arm64")``), and none
compares a system's name itself (tests/test_layers.py holds it to that). The one exception is
the table of cache folders in :mod:`envsnap.stamps`: a clean verify imports nothing but the fast
path's own modules, this package included.

The implementations load on the first question; :mod:`envsnap.host` imports this module.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envsnap.platforms.base import Platform

# The systems a lock may be written on, by their GOOS.
KNOWN = ("linux", "darwin")


def platform_for(goos: str) -> Platform:
    """The platform of *goos*; a system envsnap does not know behaves as a bare Unix."""
    if goos == "linux":  # each system's module loads only when asked: a lock on Linux never
        from envsnap.platforms.linux import LINUX  # imports macOS's (xcrun, SDKs, Homebrew)

        return LINUX
    if goos == "darwin":
        from envsnap.platforms.darwin import DARWIN

        return DARWIN
    from envsnap.platforms.base import Unix

    return Unix(goos)


def for_key(key: str) -> Platform:
    """The platform of a lock key: ``linux-amd64``, ``darwin-arm64+withz``."""
    return platform_for(key.partition("-")[0])


def goos_of_uname(system: str) -> str:
    """GOOS's spelling of what ``uname -s`` (Python's ``platform.system()``) says."""
    return {"Darwin": "darwin"}.get(system, system.lower())
