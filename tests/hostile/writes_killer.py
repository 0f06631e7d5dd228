"""SIGKILL `envsnap lock` at random moments; print what the lock file was after each kill.

Run as ``python -m tests.hostile.writes_killer MODULE REC_A REC_B KILLS SEED``: rounds go on
until KILLS runs were killed (a run may finish before its kill; at most 4 x KILLS rounds). The
parent imports envsnap once and forks one ``lock`` per round (alternating the two recordings,
so every run changes the lock), kills it after a random delay spread over a whole run, and
reads the lock: it must always be exactly the lock of A or of B. Forking keeps 200+ kills
within seconds.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time
from pathlib import Path

from envsnap.cli import main


def _quiet_main(argv: list[str]) -> int:
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(2)
    os.dup2(devnull, 2)
    try:
        return main(argv)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _fork_lock(argv: list[str]) -> int:
    pid = os.fork()
    if pid == 0:  # the child: one real `lock`, silenced
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        try:
            code = main(argv)
        except BaseException:  # noqa: BLE001 - any escape is reported as 99
            code = 99
        os._exit(code)
    return pid


def temporaries(module: Path) -> list[str]:
    return sorted(p.name for p in module.iterdir() if p.name.endswith(".tmp"))


def kill_loop(module: Path, recs: list[str], count: int, seed: int) -> dict[str, object]:
    lock = module / "envsnap.lock"
    states, durations = [], []
    for rec in [*recs, *recs]:  # the second pass is timed: warm caches, as the kills see them
        started = time.monotonic()
        assert _quiet_main(["--replay", rec, "lock", "-C", str(module)]) == 0
        durations.append(time.monotonic() - started)
        states.append(lock.read_bytes())
    states, durations = states[2:], durations[2:]
    assert states[0] != states[1]
    rng = random.Random(seed)
    report: dict[str, object] = {"killed": 0, "finished": 0, "bad": [], "exits": []}
    outcomes = {"killed_old": 0, "killed_new": 0}
    span = max(durations) * 1.3
    i = 0
    while report["killed"] < count and i < 4 * count:  # type: ignore[operator]
        i += 1
        before = lock.read_bytes()
        pid = _fork_lock(["--replay", recs[i % 2], "lock", "-C", str(module)])
        # most kills anywhere in a run; one in five near its end, so that some land after the
        # rename even when a forked run is slower than the timed ones
        late = rng.random() < 0.2
        time.sleep(rng.uniform(span * 0.6, span * 1.6) if late else rng.uniform(0, span))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        data = lock.read_bytes() if lock.exists() else b"<missing>"
        if data not in states:
            report["bad"].append(i)  # type: ignore[attr-defined]
        if os.WIFSIGNALED(status):
            report["killed"] += 1  # type: ignore[operator]
            outcomes["killed_new" if data != before else "killed_old"] += 1
        else:
            report["finished"] += 1  # type: ignore[operator]
            if os.WEXITSTATUS(status) != 0:
                report["exits"].append(os.WEXITSTATUS(status))  # type: ignore[attr-defined]
    report["left_after_kills"] = len(temporaries(module))
    report["final_exit"] = _quiet_main(["--replay", recs[0], "lock", "-C", str(module)])
    report["left_after_final"] = temporaries(module)
    report["final_is_a"] = lock.read_bytes() == states[0]
    report["run_seconds"] = durations
    return {**report, **outcomes}


if __name__ == "__main__":
    module_dir, rec_a, rec_b, how_many, seed_text = sys.argv[1:6]
    result = kill_loop(Path(module_dir), [rec_a, rec_b], int(how_many), int(seed_text))
    print(json.dumps(result))


def race(module: Path, recs: list[str], tmpdirs: list[str]) -> list[int]:
    """Fork one `lock` per recording at once, each with its own TMPDIR; their exit codes."""
    import importlib
    import tempfile

    for name in ("envsnap.commands.lock", "envsnap.probes.collect", "envsnap.snapshot"):
        importlib.import_module(name)  # once, before forking: the children start warm
    pids = []
    for rec, tmpdir in zip(recs, tmpdirs, strict=True):
        pid = os.fork()
        if pid == 0:
            os.environ["TMPDIR"] = tmpdir
            tempfile.tempdir = None  # gettempdir() reads TMPDIR again, as a new process would
            os._exit(_fork_body(["--replay", rec, "lock", "-C", str(module)]))
        pids.append(pid)
    return [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]


def _fork_body(argv: list[str]) -> int:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        return main(argv)
    except BaseException:  # noqa: BLE001 - any escape is reported as 99
        return 99
