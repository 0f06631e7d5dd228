"""Wall-clock medians of child processes, and their peak memory."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


def seconds(argv: Sequence[str], env: Mapping[str, str], cwd: Path | None = None) -> float:
    """Wall time of one run, output discarded."""
    started = time.perf_counter()
    subprocess.run(
        list(argv),
        env=dict(env),
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return time.perf_counter() - started


def paired_runs(
    first: Sequence[str],
    second: Sequence[str],
    env: Mapping[str, str],
    runs: int,
    cwd: Path | None = None,
    warmups: int = 2,
) -> tuple[list[float], list[float]]:
    """Wall times of two commands, run alternately so that drift hits both alike."""
    for _ in range(warmups):
        seconds(first, env, cwd)
        seconds(second, env, cwd)
    a: list[float] = []
    b: list[float] = []
    for _ in range(runs):
        a.append(seconds(first, env, cwd))
        b.append(seconds(second, env, cwd))
    return a, b


def prepared_medians(
    prepare: Sequence[str],
    first: Sequence[str],
    second: Sequence[str],
    env: Mapping[str, str],
    runs: int,
    warmups: int = 2,
) -> tuple[float, float]:
    """Median wall times of two commands run alternately, *prepare* run (untimed) before each
    run of *first*."""
    a: list[float] = []
    b: list[float] = []
    for run in range(warmups + runs):
        seconds(prepare, env)
        timed = seconds(first, env), seconds(second, env)
        if run >= warmups:
            a.append(timed[0])
            b.append(timed[1])
    return statistics.median(a), statistics.median(b)


def paired_medians(
    first: Sequence[str],
    second: Sequence[str],
    env: Mapping[str, str],
    runs: int,
    cwd: Path | None = None,
) -> tuple[float, float]:
    """Median wall times of two commands run alternately (see ``paired_runs``)."""
    a, b = paired_runs(first, second, env, runs, cwd)
    return statistics.median(a), statistics.median(b)


def _megabytes(maxrss: int) -> float:
    """ru_maxrss is in KiB on Linux and in bytes on macOS."""
    return maxrss / 1024**2 if sys.platform == "darwin" else maxrss / 1024


def peak_rss_mb(argv: Sequence[str], env: Mapping[str, str]) -> tuple[int, float]:
    """Exit code and peak RSS of *argv* (its largest process, children included: wait4)."""
    proc = subprocess.Popen(
        list(argv), env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, _megabytes(usage.ru_maxrss)


_SELF_RSS = (
    "import resource, sys\n"
    "from envsnap.cli import main\n"
    "rc = main(sys.argv[1:])\n"
    "print('peak-rss', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    "raise SystemExit(rc)\n"
)


def envsnap_self_rss_mb(args: Sequence[str], env: Mapping[str, str]) -> tuple[int, float]:
    """Exit code and peak RSS of the envsnap process alone, without the tools it runs."""
    proc = subprocess.run(
        [sys.executable, "-c", _SELF_RSS, *args],
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    line = next(x for x in reversed(proc.stdout.splitlines()) if x.startswith("peak-rss "))
    return proc.returncode, _megabytes(int(line.split()[1]))
