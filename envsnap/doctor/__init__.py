"""``envsnap doctor``'s pure checks (docs/doctor.md): each turns the :class:`Facts` gathered
through a Host into one :class:`Check`; nothing here runs a command or touches the file system.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from envsnap.doctor.cgo import (
    check_cc,
    check_cgo_enabled,
    check_env_flags_vendor,
    check_libraries,
    check_library_prefix,
    check_pkg_config,
)
from envsnap.doctor.facts import STATUS_ORDER, AppleFacts, Check, Evidence, Facts, Status
from envsnap.doctor.lock import check_lock
from envsnap.doctor.macos import check_clt_xcode, check_developer_dir, check_nix_paths, check_sdk
from envsnap.doctor.module import (
    check_gopath_mode,
    check_gopath_path,
    check_import_path,
    check_module_root,
    check_packages,
    check_replace,
    check_requirements,
    check_test_cycle,
)
from envsnap.doctor.toolchain import check_toolchain
from envsnap.platforms import platform_for

__all__ = [
    "CHECKS",
    "MACOS_CHECKS",
    "STATUS_ORDER",
    "Check",
    "Evidence",
    "Facts",
    "Status",
    "diagnose",
    "exit_code",
]

CHECKS: tuple[Callable[[Facts], Check], ...] = (
    check_module_root,
    check_gopath_mode,
    check_gopath_path,
    check_import_path,
    check_requirements,
    check_replace,
    check_test_cycle,
    check_packages,
    check_toolchain,
    check_cgo_enabled,
    check_cc,
    check_pkg_config,
    check_libraries,
    check_library_prefix,
    check_env_flags_vendor,
)
MACOS_CHECKS: tuple[Callable[[AppleFacts], Check], ...] = (
    check_developer_dir,
    check_sdk,
    check_clt_xcode,
    check_nix_paths,
)


def diagnose(facts: Facts) -> list[Check]:
    """Every check that applies to *facts*' platform, in a stable order; the lock comes last."""
    results = [check(facts) for check in CHECKS]
    if platform_for(facts.system).has_developer_tools and facts.apple is not None:
        results += [check(facts.apple) for check in MACOS_CHECKS]
    return [*results, check_lock(facts)]


def exit_code(checks: Sequence[Check]) -> int:
    return 1 if any(c.status == "problem" for c in checks) else 0
