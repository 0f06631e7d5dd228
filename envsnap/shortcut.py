"""A clean ``verify``, answered before the command line is even parsed.

``envsnap verify`` runs in commit hooks, and most runs find nothing to report. When the command
line is a plain ``verify`` (``-C DIR``, ``--json``, ``--quiet``, ``--strict``,
``--allow-missing-platform``, ``--variant NAME``, nothing else) and a remembered clean verdict
still holds (:mod:`envsnap.verdict`), its report is printed and nothing else is imported: not
argparse, not pathlib, no probe. Anything unusual (another option, no verdict, a stamp that
changed, an error) returns None, and the ordinary command runs and reports it properly.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from envsnap.names import LOCK_NAME

# --allow-missing-platform changes nothing when the platform's entry verified clean
FLAGS = ("--json", "--quiet", "--strict", "--allow-missing-platform")
VALUED = ("-C", "--variant")


def _options(argv: Sequence[str]) -> dict[str, str | bool] | None:
    """The options of a plain ``verify`` command line, or None for anything else."""
    if not argv or argv[0] != "verify":
        return None
    options: dict[str, str | bool] = {"-C": "."}
    words = list(argv[1:])
    while words:
        word = words.pop(0)
        name, equals, value = word.partition("=")
        if word in FLAGS:
            options[word] = True
        elif name in VALUED and equals:
            options[name] = value
        elif word in VALUED and words:
            options[word] = words.pop(0)
        else:
            return None
    return options


def _module_root(start: str) -> str | None:
    from envsnap.workdir import absolute

    directory = absolute(start)
    while True:
        if os.path.isfile(os.path.join(directory, "go.mod")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _in_git_work_tree(directory: str) -> bool:
    """A cheap guess (one stat per parent folder), as envsnap.git's."""
    while True:
        if os.path.exists(os.path.join(directory, ".git")):
            return True
        parent = os.path.dirname(directory)
        if parent == directory:
            return "GIT_DIR" in os.environ
        directory = parent


def clean_verify(argv: Sequence[str]) -> int | None:
    """0 after printing a still-valid clean report; None when the full verify must run."""
    from envsnap.stamps import caching_disabled

    options = _options(argv)
    if options is None or caching_disabled(os.environ):
        return None
    start = str(options["-C"])
    root = _module_root(start)
    if root is None:
        return None
    from envsnap.verdict import clean_report

    variant = options.get("--variant") or os.environ.get("ENVSNAP_VARIANT") or None
    report = clean_report(os.environ, start, root, variant)
    if report is None:
        return None
    if not options.get("--quiet") and _in_git_work_tree(root):
        from pathlib import Path

        from envsnap.checking import uncommitted_warning
        from envsnap.git import lock_status

        warning = uncommitted_warning(
            lock_status(Path(root, LOCK_NAME)), "GIT_INDEX_FILE" in os.environ
        )
        if warning:
            sys.stderr.write(f"envsnap: warning: {LOCK_NAME} {warning}\n")
    if options.get("--json"):
        sys.stdout.write(report["json"])
    elif options.get("--quiet"):
        sys.stderr.write(report["quiet"])
    else:
        sys.stdout.write(report["text"])
    return 0
