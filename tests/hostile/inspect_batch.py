"""Run many ``envsnap inspect`` commands on hostile binaries in one process; write what each did.

Run as ``python -m tests.hostile.inspect_batch JOBS RESULTS`` (both JSON files), in a child with
a memory limit (tests/hostile/test_binaries.py). A job is ``{"label", "path", "argvs"}`` and, to
truncate a real binary at many offsets without writing a copy per offset, ``"source"`` and
``"offsets"``: the source is copied to *path* once and cut at each offset, longest first, and the
commands run after each cut (``{}`` in an argv stands for the path); or ``"source"`` and
``"patches"``, each a list of ``[offset, hex bytes]`` written over the copy for its commands and
undone after. One command that runs longer than :data:`HANG_SECONDS` is recorded as hung and ends
the batch.

Running the commands through ``envsnap.cli.main`` in one warm interpreter keeps thousands of
cases within seconds; the same entry point handles an unexpected exception (exit 3) as the
command line does. Building the argument parser is most of a command's time here, so the parser
of each verb is built once (it depends on the verb alone) and reused.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from envsnap import cli
from envsnap.cli import main

HANG_SECONDS = 20


class Hung(BaseException):
    """Raised by the alarm; a BaseException so that no ``except Exception`` swallows it."""


def _on_alarm(signum: int, frame: object) -> None:
    raise Hung


def _run(argv: list[str]) -> dict[str, Any]:
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    signal.alarm(HANG_SECONDS)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code: int | str = main(argv)
    except Hung:
        code = "hung"
    finally:
        signal.alarm(0)
    seconds = round(time.monotonic() - started, 3)
    return {"argv": argv, "code": code, "out": out.getvalue(), "err": err.getvalue(), "s": seconds}


Patch = list[tuple[int, str]]


def _states(job: dict[str, Any]) -> Iterator[tuple[str, int | None]]:
    """(label, offset) of each state of the job's file, each prepared before it is yielded."""
    if "source" not in job:
        yield job["label"], None
        return
    shutil.copyfile(job["source"], job["path"])
    for index, patch in enumerate(job.get("patches", [])):
        with _patched(job["path"], patch):
            yield f"{job['label']}#{index}", None
    for offset in sorted(set(job.get("offsets", [])), reverse=True):
        os.truncate(job["path"], offset)
        yield f"{job['label']}@{offset}", offset


@contextlib.contextmanager
def _patched(path: str, patch: Patch) -> Iterator[None]:
    with open(path, "r+b") as handle:
        saved = []
        for offset, data in patch:
            handle.seek(offset)
            saved.append((offset, handle.read(len(data) // 2)))
            handle.seek(offset)
            handle.write(bytes.fromhex(data))
        handle.flush()
        try:
            yield
        finally:
            for offset, old in reversed(saved):
                handle.seek(offset)
                handle.write(old)


def run_jobs(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    results = []
    for job in jobs:
        for label, offset in _states(job):
            for argv in job["argvs"]:
                result = _run([job["path"] if part == "{}" else part for part in argv])
                results.append({"label": label, "offset": offset, **result})
                if result["code"] == "hung":
                    return results
    return results


def _reuse_parsers() -> None:
    build = cli.build_parser
    built: dict[str | None, Any] = {}

    def cached(argv: Any = (), every: bool = False) -> Any:
        verb = cli.requested_verb(argv)
        if every or verb is None:
            return build(argv, every)
        if verb not in built:
            built[verb] = build(argv)
        return built[verb]

    cli.build_parser = cached


if __name__ == "__main__":
    _reuse_parsers()
    signal.signal(signal.SIGALRM, _on_alarm)
    jobs_file, results_file = sys.argv[1:3]
    done = run_jobs(json.loads(Path(jobs_file).read_text()))
    Path(results_file).write_text(json.dumps(done))
