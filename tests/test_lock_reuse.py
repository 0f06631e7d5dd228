"""lock on many packages: what it need not ask again, it does not (ENVSNAP_TRACE counts the tools).

One ``pkg-config --libs`` per module however many packages name it; the traced link asked again
only once its inputs' stamps or the toolchain changed (a library that appears in an earlier -L
directory is traced and locked); and a child that closes its pipes before it exits is waited for
as long as it takes, not a whole polling interval; an entry whose content was validated before
is not validated again.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from envsnap import runner
from tests.conftest import envsnap, heavy_imports_of, imports_of, require_tool, write_module
from tests.test_link_truth import build_library, main_importing, package

LINK_TRACE = "-Wl,--trace"


def traced_lock(module: Path, tmp_path: Path) -> list[list[str]]:
    trace = tmp_path / f"trace-{time.monotonic_ns()}.jsonl"
    result = envsnap("lock", "-C", str(module), env={**os.environ, "ENVSNAP_TRACE": str(trace)})
    assert result.returncode == 0, result.stderr
    lines: list[dict[str, Any]] = [json.loads(x) for x in trace.read_text().splitlines()]
    return [line["argv"] for line in lines if line["call"] == "run"]


def locked_files(module: Path) -> set[str]:
    lock = tomllib.loads((module / "envsnap.lock").read_text())
    (entry,) = lock["platforms"].values()
    return {f["path"] for lib in entry["libraries"] for f in lib.get("files", [])}


def test_one_pkg_config_call_per_module(tmp_path: Path) -> None:
    for tool in ("go", "gcc", "pkg-config"):
        require_tool(tool)
    names = ("za", "zb", "zc")
    files = {f"{n}/{n}.go": package(n, pkg_config="zlib") for n in names}
    module = write_module(tmp_path / "mod", {**files, "main.go": main_importing(*names)})
    ran = traced_lock(module, tmp_path)
    assert [argv[1:] for argv in ran if argv[1:2] == ["--libs"]] == [["--libs", "zlib"]]


def test_the_link_is_traced_again_only_when_its_inputs_change(tmp_path: Path) -> None:
    for tool in ("go", "gcc", "ar"):
        require_tool(tool)
    module = write_module(
        tmp_path / "mod",
        {
            "ff/ff.go": package("ff", "-L${SRCDIR}/../first -L${SRCDIR}/../second -lfoo", "foo"),
            "main.go": main_importing("ff"),
        },
    )
    build_library(module / "second", "foo", shared=False)
    (module / "first").mkdir()
    assert any(LINK_TRACE in argv for argv in traced_lock(module, tmp_path))
    assert locked_files(module) == {"${MODULE}/second/libfoo.a"}
    time.sleep(0.2)  # out of the racy window
    again = traced_lock(module, tmp_path)
    assert not any(LINK_TRACE in argv for argv in again), "nothing changed: the link is kept"
    assert any(argv[1:2] == ["list"] for argv in again), "go list always runs"
    build_library(module / "first", "foo", shared=False)  # now found first
    assert any(LINK_TRACE in argv for argv in traced_lock(module, tmp_path))
    assert locked_files(module) == {"${MODULE}/first/libfoo.a"}


def test_a_child_that_closed_its_pipes_is_not_waited_on_for_a_whole_poll() -> None:
    """The pipes close a moment before the child can be reaped; the wait lasts that moment."""
    argv = ["sh", "-c", "exec >&- 2>&-; sleep 0.005"]
    times = []
    for _ in range(5):
        started = time.monotonic()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        outcome = runner.run_bounded(proc, 10.0, 1024, runner.Budget(60.0))
        times.append(time.monotonic() - started)
        assert (outcome.ending, outcome.returncode) == ("exited", 0)
    assert min(times) < runner.POLL * 0.9, times


def test_an_entry_validated_before_is_not_validated_again(
    cgo_module: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pydantic builds its validator only for content this envsnap has not validated yet."""
    argv = ["lock", "-C", str(cgo_module)]
    assert heavy_imports_of(argv)[:2] == (0, ["pydantic"])  # a new entry: validated
    assert heavy_imports_of(argv)[:2] == (0, [])  # the very same content
    source = cgo_module / "mm" / "mm.go"
    source.write_text(source.read_text().replace("-lm", "-lm -lz"))
    assert heavy_imports_of(argv)[:2] == (0, ["pydantic"])  # new content
    monkeypatch.setenv("ENVSNAP_NO_CACHE", "1")
    assert heavy_imports_of(argv)[:2] == (0, ["pydantic"])  # nothing remembered


def test_a_validated_mark_not_sealed_by_this_user_is_not_taken(cgo_module: Path) -> None:
    argv = ["lock", "-C", str(cgo_module)]
    assert heavy_imports_of(argv)[:2] == (0, ["pydantic"])
    marks = Path(os.environ["XDG_CACHE_HOME"], "envsnap", "validated.json")
    document = json.loads(marks.read_text())
    document["entries"] = {key: "0" * 64 for key in document["entries"]}  # forged checks
    marks.write_text(json.dumps(document))
    assert heavy_imports_of(argv)[:2] == (0, ["pydantic"])


def test_an_unchanged_lock_imports_no_other_system_and_nothing_only_writing_needs(
    cgo_module: Path,
) -> None:
    """A lock that finds its entry unchanged on Linux loads neither macOS's platform module nor
    what only a write or a traced link uses (the random temporary names)."""
    require_tool("gcc")
    argv = ["lock", "-C", str(cgo_module)]
    assert imports_of(argv)[0] == 0  # writes the lock, traces the link
    rc, modules = imports_of(argv)
    assert rc == 0
    assert "envsnap.platforms.linux" in modules
    assert not {"envsnap.platforms.darwin", "secrets", "tempfile", "random"} & modules


def test_the_old_lock_is_parsed_only_once_go_list_is_about_to_run(
    cgo_module: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lock parses the lock it may replace while ``go list`` runs, not before: started earlier,
    the parse only holds up the probes that lead to it."""
    from envsnap.cli import main
    from envsnap.commands import lock
    from envsnap.lockfile import read_lock
    from envsnap.probes import collect
    from envsnap.probes.scope import resolve

    assert main(["lock", "-C", str(cgo_module)]) == 0
    events: list[str] = []

    def reading(*args: Any) -> Any:
        events.append("read the lock")
        return read_lock(*args)

    def resolving(*args: Any) -> Any:
        found = resolve(*args)
        events.append("resolved the packages to list")
        return found

    monkeypatch.setattr(lock, "read_lock", reading)
    monkeypatch.setattr(collect, "resolve", resolving)
    assert main(["lock", "-C", str(cgo_module)]) == 0
    assert events[:2] == ["resolved the packages to list", "read the lock"]
