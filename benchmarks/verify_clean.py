"""Time a clean `envsnap verify` against the bare probe commands run one after another.

The commands are taken from a recording of the same module (`envsnap record`), so the shell
script runs exactly what verify's probes run, in sequence, with nothing else. The ratio printed
is verify's median wall time over the script's; below 1 means verify costs less than running its
own probes by hand. Both run warm, as in a pre-commit hook: Python may keep its bytecode
(PYTHONDONTWRITEBYTECODE is dropped for verify, as an installed wheel has it compiled), and
verify's caches (file hashes, go env and go list) are filled by the warm-up runs.

    python benchmarks/verify_clean.py [--runs N] [--module DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def envsnap(*args: str) -> list[str]:
    return [sys.executable, "-m", "envsnap", *args]


def probe_script(recording: Path) -> str:
    """A shell script running every recorded command, in order, output discarded."""
    manifest = json.loads((recording / "host.json").read_text())
    lines = ["set +e", "export LC_ALL=C GOTOOLCHAIN=local"]
    for command in manifest["commands"]:
        cwd = command.get("cwd")
        run = shlex.join(command["argv"]) + " >/dev/null 2>&1"
        lines.append(f"(cd {shlex.quote(cwd)} && {run})" if cwd else run)
    return "\n".join(lines) + "\n"


def median_seconds(argv: list[str], runs: int) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=env
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--module", type=Path, default=REPO / "examples" / "zlib")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        module = Path(tmp, "module")
        shutil.copytree(args.module, module, ignore=shutil.ignore_patterns("envsnap.lock"))
        subprocess.run(envsnap("lock", "-C", str(module)), check=True, capture_output=True)
        verify = envsnap("verify", "--quiet", "-C", str(module))
        if subprocess.run(verify, check=False).returncode != 0:
            print("verify is not clean on this machine; cannot benchmark the clean path")
            return 1
        recording = Path(tmp, "rec")
        subprocess.run(envsnap("record", str(recording), "-C", str(module)), check=True)
        script = Path(tmp, "probes.sh")
        script.write_text(probe_script(recording))
        commands = len(json.loads((recording / "host.json").read_text())["commands"])
        median_seconds(verify, 2)  # warm the hash cache and the OS file cache
        verify_s = median_seconds(verify, args.runs)
        script_s = median_seconds(["sh", str(script)], args.runs)
    print(f"clean verify: {verify_s * 1000:.0f} ms (median of {args.runs})")
    print(f"its {commands} probe commands run one after another: {script_s * 1000:.0f} ms")
    print(f"ratio verify / bare commands: {verify_s / script_s:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
