"""``envsnap sbom``: a CycloneDX or SPDX document of a lock entry, or of a built binary.

Without BINARY the document describes one entry of envsnap.lock (this machine's platform unless
--platform says another). With BINARY it describes what that binary links and holds, each slice
compared with its entry exactly as ``envsnap inspect`` compares it: the document is written
either way, the differences are reported on stderr, and the exit code is inspect's (1 when the
binary was built otherwise than the lock says).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from envsnap.commands import SUMMARIES
from envsnap.errors import EXIT_OK, EnvsnapError, LockError, WriteError, expected_os_error
from envsnap.names import LOCK_NAME

if TYPE_CHECKING:
    from datetime import datetime

    from envsnap.binfacts.facts import Binary
    from envsnap.entry import Entry
    from envsnap.host import Host
    from envsnap.lockfile import LockFile
    from envsnap.sbom.binary import CheckedSlice
    from envsnap.sbom.model import Bill
    from envsnap.workspace import Workspace

OUTPUT_LIMIT = 64 * 1024 * 1024  # an existing -o file larger than this is not one we wrote


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    from envsnap.sbom import FORMATS

    parser = subparsers.add_parser("sbom", parents=[common], help=SUMMARIES["sbom"])
    parser.add_argument(
        "binary", nargs="?", metavar="BINARY", help="describe what this built binary links"
    )
    parser.add_argument(
        "--platform",
        metavar="GOOS-GOARCH",
        help="the entry to describe (default: this machine's platform; the binary's)",
    )
    parser.add_argument(
        "--variant",
        metavar="NAME",
        help="the build variant's entry (default: the default one; the binary's tags)",
    )
    parser.add_argument(
        "--format", choices=FORMATS, default=FORMATS[0], help="the format (default: %(default)s)"
    )
    parser.add_argument("-o", dest="output", metavar="FILE", help="write here instead of stdout")
    parser.add_argument("--force", action="store_true", help="replace a FILE envsnap did not write")
    parser.add_argument(
        "--timestamp",
        action="store_true",
        help="date the document: $SOURCE_DATE_EPOCH, else now (default: no time in it)",
    )


def run(args: argparse.Namespace) -> int:
    from envsnap import sbom
    from envsnap.workspace import Workspace

    sbom.require(args.format)  # before any work: a missing extra is one line and exit 2
    created = _created(args)
    ws = Workspace.from_args(args)
    try:
        if args.binary:
            bill, code = _of_binary(ws, args, created)
        else:
            bill, code = _of_entry(ws, args, created), EXIT_OK
    finally:
        ws.close()
    _write(sbom.render(bill, args.format), args)
    return code


def _created(args: argparse.Namespace) -> datetime | None:
    """The document's time: none unless --timestamp; then SOURCE_DATE_EPOCH, else now."""
    import os
    from datetime import UTC, datetime

    if not args.timestamp:
        return None
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if not epoch:
        return datetime.now(UTC).replace(microsecond=0)
    if not epoch.isdigit() or len(epoch) > 12:
        raise EnvsnapError(
            f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds",
            "set it to an integer such as $(git log -1 --format=%ct), or unset it",
        )
    return datetime.fromtimestamp(int(epoch), UTC)


def _nix_attributes(ws: Workspace) -> dict[str, str]:
    from envsnap.emit.plan import load_tables

    return load_tables(ws.config).libraries


# --- a lock entry ------------------------------------------------------------------------------


def _of_entry(ws: Workspace, args: argparse.Namespace, created: datetime | None) -> Bill:
    from envsnap import checking
    from envsnap.sbom.build import from_entry
    from envsnap.snapshot import validate_entry

    lock, name = checking.load_lock(ws.lock_path, None)
    key = _entry_key(lock, args, ws.host)
    entry = validate_entry(key, checking.checked_entry(lock, key, name))
    module = _module_path(ws.module_root)
    return from_entry(key, entry, module, _nix_attributes(ws), created)


def _entry_key(lock: LockFile, args: argparse.Namespace, host: Host) -> str:
    from envsnap.config import DEFAULT_VARIANT
    from envsnap.probes.collect import GOARCH
    from envsnap.variants import entry_key

    platform = args.platform or f"{host.system}-{GOARCH.get(host.machine, host.machine)}"
    key = entry_key(platform, args.variant or DEFAULT_VARIANT)
    if key not in lock.platforms:
        entries = ", ".join(sorted(lock.platforms)) or "none"
        raise LockError(
            f"envsnap.lock has no entry for {key} (it has: {entries})",
            "name one with --platform (and --variant), or run `envsnap lock` on that platform",
        )
    return key


def _module_path(root: Path) -> str:
    """The module path go.mod declares (the folder's name when it declares none)."""
    from envsnap import gomod
    from envsnap.safeio import read_regular

    try:
        text = read_regular(root / "go.mod", 1024 * 1024).decode("utf-8", "replace")
    except OSError:
        return root.name
    return gomod.parse(text).module or root.name


# --- a binary ----------------------------------------------------------------------------------


def _of_binary(
    ws: Workspace, args: argparse.Namespace, created: datetime | None
) -> tuple[Bill, int]:
    from envsnap.binfacts import read
    from envsnap.sbom.binary import from_binary

    binary = read(args.binary)
    checked = _checked_slices(ws, binary, args)
    code = _report(binary, checked)
    name = Path(binary.path).name
    bill = from_binary(name, _sha256(binary.path), checked, _nix_attributes(ws), created)
    return bill, code


def _checked_slices(ws: Workspace, binary: Binary, args: argparse.Namespace) -> list[CheckedSlice]:
    """Each slice with its entry and inspect's findings, chosen and made as inspect does."""
    from envsnap import checking
    from envsnap.commands.inspect import entry_findings, slices_without_entry
    from envsnap.sbom.binary import CheckedSlice

    lock, name = checking.load_lock(ws.lock_path, None)
    policy = checking.policy_of(ws.config)
    rows = [
        (binary, piece, *entry_findings(lock, name, piece, args, policy, binary.path))
        for piece in binary.slices
    ]
    return [
        CheckedSlice(piece, key, _valid_entry(lock, key), tuple(findings))
        for _, piece, key, findings in slices_without_entry(rows)
    ]


def _valid_entry(lock: LockFile, key: str) -> Entry | None:
    """The entry inspect compared a slice with (its digest checked there), as the schema
    validated it before anything is read from it; None when the lock has no entry for the
    slice."""
    from envsnap.snapshot import validate_entry

    entry = lock.platforms.get(key)
    return None if entry is None else validate_entry(key, entry)


def _report(binary: Binary, checked: list[CheckedSlice]) -> int:
    """inspect's text report of each slice, on stderr (stdout may be the document); its code."""
    from envsnap.report import Outcome, render_text
    from envsnap.sbom.binary import private

    code = EXIT_OK
    for row in checked:
        arch = f" [{row.piece.goarch}]" if len(binary.slices) > 1 else ""
        outcome = Outcome(f"{binary.path}{arch} ({row.key})", LOCK_NAME, row.findings)
        sys.stderr.write(private(render_text(outcome)))  # the binary may hold secrets
        code = max(code, outcome.exit_code)
    return code


def _sha256(path: str) -> str:
    import hashlib
    import os
    import stat

    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise EnvsnapError(f"{path} is not a regular file", "give the path of the binary")
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- the document ------------------------------------------------------------------------------


def _write(text: str, args: argparse.Namespace) -> None:
    if not args.output:
        sys.stdout.write(text)
        return
    from envsnap.atomic import atomic_write

    path = Path(args.output)
    if not args.force:
        _refuse_foreign(path)
    try:
        atomic_write(path, text.encode())
    except OSError as exc:
        known = expected_os_error(exc, "cannot write")
        raise known or WriteError(
            f"cannot write {path}: {exc.strerror or exc}", "check that its folder exists"
        ) from None
    print(f"wrote {path}", file=sys.stderr)


def _refuse_foreign(path: Path) -> None:
    """An existing FILE is replaced only when envsnap sbom wrote it."""
    from envsnap.safeio import read_regular
    from envsnap.sbom import is_own_document

    hint = "pass --force to replace it, or -o another path"
    try:
        data = read_regular(path, OUTPUT_LIMIT)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise EnvsnapError(f"{path} exists and cannot be read: {exc.strerror}", hint) from None
    if not is_own_document(data):
        raise EnvsnapError(f"{path} exists and was not written by envsnap sbom", hint)
