"""The command line: parse, dispatch to ``envsnap.commands.<verb>``, turn errors into exit codes."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

from envsnap import __version__
from envsnap.commands import OVERVIEW_EPILOG, SUMMARIES
from envsnap.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    AtWorkspaceRoot,
    EnvsnapError,
    expected_os_error,
)

TYPE_CHECKING = False  # typing itself is not imported: a clean verify never needs it
if TYPE_CHECKING:
    import argparse
    from pathlib import Path
    from types import ModuleType

COMMANDS = tuple(SUMMARIES)
# What the status line says (on a terminal, after a second) until a probe says more.
PROGRESS_LABELS = {
    "lock": "probing the toolchain",
    "verify": "probing the toolchain",
    "diff": "comparing",
    "show": "probing the toolchain",
    "record": "recording every probe",
    "log": "reading the history of envsnap.lock",
    "doctor": "running the checks",
}
_OPTIONS_WITH_VALUES = ("-C", "--replay")


def _common_options(defaults: bool) -> argparse.ArgumentParser:
    """-C and --replay, accepted before the verb and after it (like ``make -C``)."""
    import argparse

    parent = argparse.ArgumentParser(add_help=False)
    default = (lambda value: value) if defaults else (lambda value: argparse.SUPPRESS)
    parent.add_argument(
        "-C",
        dest="directory",
        metavar="DIR",
        default=default("."),
        help="run as if started in DIR (envsnap walks up to the nearest go.mod)",
    )
    parent.add_argument(
        "--replay",
        metavar="RECORDING",
        default=default(None),
        help="answer every probe from a directory written by `envsnap record`",
    )
    return parent


def command_module(name: str) -> ModuleType:
    """``envsnap.commands.<verb>``, a dash in the verb spelled ``_`` (merge-driver)."""
    return importlib.import_module(f"envsnap.commands.{name.replace('-', '_')}")


def requested_verb(argv: Sequence[str]) -> str | None:
    """The verb on the command line, found without importing any command module."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _OPTIONS_WITH_VALUES:
            skip = True
        elif not arg.startswith("-"):
            return arg if arg in SUMMARIES else None
    return None


def version_line() -> str:
    """envsnap's version and the Python that runs it (which venv or pipx install answered)."""
    import sys

    python = ".".join(str(part) for part in sys.version_info[:3])
    return f"envsnap {__version__} (Python {python}, {sys.executable})"


def _version_action() -> type[argparse.Action]:
    """``--version``: the line as it is, never wrapped to the terminal (argparse's own
    version action re-flows it, breaking a long interpreter path across lines)."""
    import argparse

    class Version(argparse.Action):
        def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
            print(version_line())
            parser.exit()

    return Version


def build_parser(argv: Sequence[str] = (), every: bool = False) -> argparse.ArgumentParser:
    """The parser; only the requested verb's module is imported.

    Without a verb (``--version``, ``--help``, a typo) no command module is imported at all: the
    top-level help lists the verbs from ``SUMMARIES`` alone, which is what each verb's own
    parser shows there too.
    """
    import argparse

    verb = requested_verb(argv)
    parser = argparse.ArgumentParser(
        prog="envsnap",
        description="Lock, verify and recreate the cgo toolchain a Go module builds with.",
        parents=[_common_options(defaults=True)],
        epilog=OVERVIEW_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action=_version_action(), nargs=0, help="print envsnap's version and exit"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = _common_options(defaults=False)
    for name in COMMANDS:
        if name == verb or every:  # every: the whole grammar, for shell completion
            command_module(name).add_parser(subparsers, common)
            _teach(subparsers.choices[name], name)
        else:
            subparsers.add_parser(name, help=SUMMARIES[name])
    return parser


def _teach(parser: argparse.ArgumentParser, verb: str) -> None:
    """A verb's description and examples, from ``envsnap.commands.manual``."""
    import argparse
    import textwrap

    from envsnap.commands.manual import DESCRIPTIONS, epilog

    parser.description = textwrap.fill(DESCRIPTIONS[verb], width=79)
    parser.epilog = epilog(verb)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def help_text(verb: str | None) -> str:
    """The overview (no verb) or one verb's whole help, as `envsnap help [VERB]` prints it."""
    parser = build_parser([verb] if verb else [])
    if verb is None:
        return parser.format_help()
    return _subparser(parser, verb).format_help()


def _subparser(parser: argparse.ArgumentParser, verb: str) -> argparse.ArgumentParser:
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser = action.choices[verb]
            return found
    raise LookupError(verb)


def _crash_folders() -> list[Path]:
    """Where a crash log may go: ``$TMPDIR/envsnap-<uid>``, else the user's cache folder."""
    import tempfile
    from pathlib import Path

    from envsnap.stamps import cache_dir

    folders = [Path(tempfile.gettempdir(), f"envsnap-{os.geteuid()}")]
    cache = cache_dir(os.environ)
    return folders + ([cache] if cache is not None else [])


def _write_crash_log(text: str) -> Path:
    """The crash log, written in the first folder that is private to this user (created 0700;
    one owned by another user, a symlink or open to others is refused and never followed)."""
    from envsnap.atomic import atomic_write, private_folder

    refusal: OSError | None = None
    for folder in _crash_folders():
        try:
            log = private_folder(folder, parents=True) / "crash.log"
            atomic_write(log, text.encode(), mode=0o600, follow_symlinks=False)
            return log
        except OSError as exc:
            refusal = refusal or exc
    raise refusal or OSError("no folder for a crash log")


def _scrubbed(text: str) -> str:
    """An error's text without the credentials a tool's message or a value may carry."""
    from envsnap.redact import scrub, secret_values

    return scrub(text, secret_values(os.environ))


def _report_internal_error(exc: BaseException) -> int:
    import traceback

    try:
        log = _write_crash_log(_scrubbed("".join(traceback.format_exception(exc))))
        where = f"details in {log}"
    except OSError as refused:
        where = f"no log could be written: {refused.filename or ''} {refused.strerror or ''}"
    said = _scrubbed(f"{type(exc).__name__}: {exc}")
    print(f"envsnap: internal error: {said} ({where.rstrip()})", file=sys.stderr)
    return EXIT_INTERNAL


def _clean_verify(argv: Sequence[str]) -> int | None:
    """A clean verify answered from its remembered verdict (envsnap.shortcut), or None."""
    if argv[:1] != ["verify"]:
        return None
    from envsnap.shortcut import clean_verify

    try:
        return clean_verify(argv)
    except Exception:  # noqa: BLE001 - only a shortcut: the full verify runs and reports
        return None


def _complete() -> int | None:
    """Answer a shell's completion request (the script `envsnap completion SHELL` prints sets
    _ARGCOMPLETE and calls envsnap); None when the environment makes no such request, and the
    command runs as if _ARGCOMPLETE were not set."""
    from envsnap.commands import completion

    why_not = completion.not_a_request(os.environ)
    if why_not is not None:
        print(
            f"envsnap: warning: _ARGCOMPLETE is set but this is no shell's completion request "
            f"({why_not}); running the command",
            file=sys.stderr,
        )
        return None
    try:
        return completion.answer(build_parser(every=True))
    except Exception as exc:  # noqa: BLE001 - a failed completion is never a command's exit 0
        return _report_internal_error(exc)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command with stdout and stderr escaped (envsnap.termsafe): whatever a lock, a
    tool or git hands envsnap, no control character reaches the terminal."""
    if "_ARGCOMPLETE" in os.environ and argv is None:
        answered = _complete()
        if answered is not None:
            return answered
    from envsnap.termsafe import SafeStream

    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(sys.stdout), SafeStream(sys.stderr)
    try:
        return _main(sys.argv[1:] if argv is None else list(argv))
    finally:
        sys.stdout, sys.stderr = streams


def _main(argv: list[str]) -> int:
    if requested_verb(argv) == "lock":
        from envsnap import prefetch

        prefetch.start_listing(argv)  # before the probes are imported (envsnap.prefetch)
        try:
            return _command(argv)
        finally:
            prefetch.discard()
    return _command(argv)


def _command(argv: list[str]) -> int:
    shortcut = _clean_verify(argv)
    if shortcut is not None:
        return shortcut
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if args.command is None:  # `envsnap` alone: the overview, not an error
        print(parser.format_help(), end="")
        return 0
    from envsnap import progress

    try:
        with progress.shown(PROGRESS_LABELS.get(args.command, args.command)):
            code: int = command_module(args.command).run(args)
    except AtWorkspaceRoot as exc:
        if args.command not in EVERY_MODULE:
            print(_scrubbed(exc.render()), file=sys.stderr)
            return exc.exit_code
        return _every_module(argv, args, exc)
    except EnvsnapError as exc:
        print(_scrubbed(exc.render()), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("envsnap: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except OSError as exc:
        expected = expected_os_error(exc)
        if expected is None:
            return _report_internal_error(exc)
        print(expected.render(), file=sys.stderr)
        return expected.exit_code
    except Exception as exc:  # noqa: BLE001 - the one place unexpected errors become exit 3
        return _report_internal_error(exc)
    return code


#: The commands that, at a go.work root, run once for each module the workspace uses.
EVERY_MODULE = ("lock", "verify")
#: Exit codes from the least to the most serious: a workspace run answers the worst.
_SERIOUSNESS = (0, 1, 2, EXIT_INTERNAL)


def _every_module(argv: list[str], args: argparse.Namespace, root: AtWorkspaceRoot) -> int:
    """Run *argv* in each module of the workspace (a later ``-C`` wins over the first)."""
    if getattr(args, "json", False):
        print(
            f"envsnap: {args.command} --json prints one document per module: pass one module "
            "with -C (a go.work root holds several)",
            file=sys.stderr,
        )
        return 2
    if not root.modules:
        print(_scrubbed(root.render()), file=sys.stderr)
        return root.exit_code
    worst = 0
    for module in root.modules:
        print(f"envsnap: module {module}", file=sys.stderr)
        code = _main([*argv, "-C", module])
        if code == EXIT_INTERRUPTED:
            return code
        worst = max(worst, code, key=lambda c: _SERIOUSNESS.index(c) if c in _SERIOUSNESS else 3)
    return worst


def console_main() -> None:
    raise SystemExit(main())
