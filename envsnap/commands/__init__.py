"""One module per verb; each offers ``add_parser(subparsers, common)`` and ``run(args) -> int``.

The one-line summaries live here, so that ``envsnap <verb>`` imports only its own module: the
other verbs are listed for ``--help`` from this table alone.
"""

TYPE_CHECKING = False  # typing is not imported: a clean verify loads this module
if TYPE_CHECKING:
    import argparse
    from typing import TypeAlias

    # what each verb's add_parser is given: the command line parser's ``add_subparsers()``
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

SUMMARIES = {
    "init": "lock, install the hook and git's merge driver, say what to commit",
    "lock": "write this platform's entry of envsnap.lock",
    "verify": "compare this machine with envsnap.lock (read-only)",
    "inspect": "check that a built binary used the locked toolchain",
    "sbom": "write a CycloneDX or SPDX bill of materials of the lock or a built binary",
    "diff": "compare two locks, revisions, recordings or live",
    "emit": "write a shell.nix, flake.nix or .envrc from the lock",
    "show": "print the live snapshot",
    "doctor": "diagnose why `go run` works and `go test` does not (no lock needed)",
    "record": "record every probe's output into a directory",
    "log": "list the commits that changed envsnap.lock and what drifted in each",
    "hook": "install or remove a git pre-commit hook running verify",
    "git": "set up git for envsnap.lock (its merge driver)",
    "merge-driver": "merge envsnap.lock per platform (git runs it; see `envsnap git setup`)",
    "completion": "print the shell completion script for bash, zsh or fish",
    "help": "show the overview, or one command's options and examples",
}

# The end of `envsnap --help`: a first run and the exit codes.
OVERVIEW_EPILOG = """\
a first run:
  envsnap lock                 record this machine's cgo toolchain in envsnap.lock
  envsnap verify               compare this machine with it (exit 0 clean, 1 drift)
  envsnap hook install         run verify before every commit
  envsnap help verify          more about one command

exit codes: 0 fine, 1 drift (or `lock --check`: the lock would change), 2 a usage error or a
lock or setting that cannot be used, 3 an internal error (the message names a log file),
130 interrupted.
"""
