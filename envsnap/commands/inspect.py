"""``envsnap inspect``: was this binary built with the locked toolchain?

Each binary is read without running it (:mod:`envsnap.binfacts`); each of its slices is compared
with the lock entry of the slice's own platform (:mod:`envsnap.inspection`), with verify's rules,
report and exit codes. ``--show`` prints the facts alone and needs no lock.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from envsnap import termsafe
from envsnap.commands import SUMMARIES
from envsnap.errors import EXIT_OK, EXIT_USAGE, EnvsnapError
from envsnap.report import Outcome, colour_wanted, paint, render_text

if TYPE_CHECKING:
    from envsnap.binfacts.facts import Binary, Slice
    from envsnap.commands import Subparsers
    from envsnap.drift import Finding, Policy
    from envsnap.lockfile import LockFile

    # one slice of a binary, the lock entry it is compared with, and what differs
    Row = tuple[Binary, Slice, str, list[Finding]]

SCHEMA_ID = "envsnap-inspect/1"


def add_parser(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("inspect", parents=[common], help=SUMMARIES["inspect"])
    parser.add_argument("binaries", nargs="+", metavar="BINARY", help="an executable or library")
    parser.add_argument("--show", action="store_true", help="print what the binary says, no lock")
    parser.add_argument("--json", action="store_true", help="print a JSON document")
    parser.add_argument("--strict", action="store_true", help="warnings fail too")
    parser.add_argument(
        "--platform", metavar="GOOS-GOARCH", help="compare with this entry (default: the binary's)"
    )
    parser.add_argument(
        "--variant",
        metavar="NAME",
        help="compare with this build variant (default: the one whose tags the binary has)",
    )


def run(args: argparse.Namespace) -> int:
    from envsnap.binfacts import read

    binaries, failed = [], False
    for path in args.binaries:
        try:
            binaries.append(read(path))
        except EnvsnapError as exc:
            print(termsafe.escape(exc.render(), lines=False), file=sys.stderr)
            failed = True
    if args.show:
        _print_facts(binaries, args)
        return EXIT_USAGE if failed else EXIT_OK
    code = _compare(binaries, args) if binaries else EXIT_OK
    return EXIT_USAGE if failed else code


def _print_facts(binaries: list[Binary], args: argparse.Namespace) -> None:
    if args.json:
        document = {"schema": SCHEMA_ID, "binaries": [b.to_json() for b in binaries]}
        sys.stdout.write(termsafe.dumps(document))
        return
    from envsnap.inspection_text import render_facts

    sys.stdout.write("".join(render_facts(binary) for binary in binaries))


def _compare(binaries: list[Binary], args: argparse.Namespace) -> int:
    from envsnap import checking
    from envsnap.workspace import Workspace

    ws = Workspace.from_args(args)
    try:
        lock, name = checking.load_lock(ws.lock_path, None)
        policy = checking.policy_of(ws.config)
        results: list[Row] = []
        for binary in binaries:
            checked = [
                (binary, piece, *entry_findings(lock, name, piece, args, policy, binary.path))
                for piece in binary.slices
            ]
            results += slices_without_entry(checked)
    finally:
        ws.close()
    return _emit(results, name, args)


def entry_findings(
    lock: LockFile, name: str, piece: Slice, args: argparse.Namespace, policy: Policy, path: str
) -> tuple[str, list[Finding]]:
    from envsnap import checking
    from envsnap.inspection import inspect_slice, missing_entry

    platform = args.platform or piece.platform
    key = _entry_key(lock, platform, piece, args.variant)
    if key is None:
        return platform, [missing_entry(platform, sorted(lock.platforms))]
    locked = checking.checked_entry(lock, key, name)
    return key, inspect_slice(piece, locked, path, policy)


def slices_without_entry(checked: list[Row]) -> list[Row]:
    """A universal binary may hold slices for platforms the lock does not cover: while one of
    its slices has an entry, the others are a warning, not an error."""
    from dataclasses import replace

    from envsnap.inspection import MISSING_ENTRY

    def uncovered(findings: list[Finding]) -> bool:
        return bool(findings) and findings[0].id.startswith(MISSING_ENTRY)

    if all(uncovered(findings) for *_, findings in checked):
        return checked
    rows = []
    for binary, piece, key, findings in checked:
        if uncovered(findings):
            findings = [replace(f, severity="warning") for f in findings]
        rows.append((binary, piece, key, findings))
    return rows


def _entry_key(lock: LockFile, platform: str, piece: Slice, variant: str | None) -> str | None:
    """The lock entry a slice is compared with: --variant's, else the variant whose tags the
    binary was built with, else the platform's default entry."""
    from envsnap.inspection import binary_tags, locked_tags
    from envsnap.variants import entry_key, split_key

    if variant:
        key = entry_key(platform, variant)
        if key not in lock.platforms:
            raise EnvsnapError(
                f"the lock has no entry for variant {variant} on {platform}",
                "check the name in envsnap.toml, or run `envsnap lock`",
            )
        return key
    keys: list[str] = [k for k in lock.platforms if split_key(k)[0] == platform]
    tags = binary_tags(piece)
    same = [k for k in keys if tags is not None and locked_tags(lock.platforms[k]) == tags]
    if same:
        return same[0]
    return platform if platform in keys else (keys[0] if keys else None)


def _label(binary: Binary, piece: Slice, key: str) -> str:
    arch = f" [{piece.goarch}]" if len(binary.slices) > 1 else ""
    return f"{binary.path}{arch} ({key})"


def _emit(results: list[Row], name: str, args: argparse.Namespace) -> int:
    outcomes = [
        (binary, piece, Outcome(_label(binary, piece, key), name, findings, args.strict))
        for binary, piece, key, findings in results
    ]
    code = max((o.exit_code for _, _, o in outcomes), default=EXIT_OK)
    if args.json:
        sys.stdout.write(termsafe.dumps(_document(results, outcomes, name, code, args.strict)))
        return code
    text = "\n".join(render_text(outcome) for _, _, outcome in outcomes)
    if colour_wanted(sys.stdout):
        termsafe.write_raw(sys.stdout, paint(termsafe.json_text(text)))
    else:
        sys.stdout.write(text)
    return code


def _document(
    results: list[Row],
    outcomes: list[tuple[Binary, Slice, Outcome]],
    name: str,
    code: int,
    strict: bool,
) -> dict[str, object]:
    from envsnap.vocabulary import SEVERITIES

    findings = []
    for (binary, piece, key, _), (_, _, outcome) in zip(results, outcomes, strict=True):
        for finding in outcome.findings:
            findings.append(
                {
                    **finding.to_json(),
                    "binary": binary.path,
                    "platform": piece.platform,
                    "entry": key,
                }
            )
    return {
        "schema": SCHEMA_ID,
        "against": name,
        "strict": strict,
        "ok": code == EXIT_OK,
        "exit_code": code,
        "summary": {s: sum(o.count(s) for _, _, o in outcomes) for s in SEVERITIES},
        "findings": findings,
        "binaries": [
            {**binary.to_json(), "entries": [key for b, _, key, _ in results if b is binary]}
            for binary in dict.fromkeys(b for b, _, _, _ in results)
        ],
    }
