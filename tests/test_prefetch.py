"""``envsnap lock`` starts ``go list`` before it imports the probes (envsnap.prefetch), and the
cgo probe is handed that run only when it asks for exactly that run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from envsnap.variants import split_key
from tests.conftest import LIBM_PACKAGE, ZLIB_PACKAGE, envsnap, require_tool, write_module

PROBES = "envsnap.probes.collect"
# envsnap's command line, with the time the probes' module is first imported noted in a file;
# a delay there (seconds) stands for a slow import
LAUNCHER = f"""
import importlib.abc, json, sys, time

PROBES = {PROBES!r}
marks = {{}}

class Mark(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == PROBES and name not in marks:
            marks[name] = time.time()
            time.sleep(float(sys.argv[2]))
        return None

sys.meta_path.insert(0, Mark())
from envsnap.cli import main

try:
    code = main(sys.argv[3:])
finally:
    with open(sys.argv[1], "w") as out:
        json.dump(marks, out)
sys.exit(code)
"""


def lock(module: Path, tmp_path: Path, delay: float = 0.0, **env: str) -> tuple[float, list[Any]]:
    """Lock *module* traced: when the probes were imported, and the trace's runs of go list."""
    trace, marks = tmp_path / f"trace-{time.monotonic_ns()}", tmp_path / "marks.json"
    argv = [sys.executable, "-c", LAUNCHER, str(marks), str(delay), "lock", "-C", str(module)]
    environ = {**os.environ, "ENVSNAP_TRACE": str(trace), **env}
    done = subprocess.run(argv, capture_output=True, text=True, env=environ, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    runs = [line for line in lines if line["call"] == "run" and line["argv"][1:2] == ["list"]]
    return json.loads(marks.read_text())[PROBES], runs


def started(run: dict[str, Any]) -> float:
    return float(run["at"]) - float(run["seconds"])


def entry_of(module: Path, variant: str = "default") -> dict[str, Any]:
    platforms = tomllib.loads((module / "envsnap.lock").read_text())["platforms"]
    (entry,) = [e for key, e in platforms.items() if split_key(key)[1] == variant]
    assert isinstance(entry, dict)
    return entry


def cgo_paths(entry: dict[str, Any]) -> list[str]:
    return [p["path"] for p in entry["cgo"]["packages"]]


@pytest.fixture
def module(tmp_path: Path) -> Path:
    for tool in ("go", "gcc", "pkg-config"):
        require_tool(tool)
    return write_module(tmp_path / "mod", {"zz/zz.go": ZLIB_PACKAGE, "mm/mm.go": LIBM_PACKAGE})


def test_lock_lists_once_and_before_the_probes_are_imported(module: Path, tmp_path: Path) -> None:
    imported, runs = lock(module, tmp_path)
    assert len(runs) == 1, runs
    assert runs[0]["argv"][-1] == "./..." and runs[0]["exit"] == 0
    assert started(runs[0]) < imported  # started before the probes' module was imported
    assert cgo_paths(entry_of(module)) == ["example.com/m/mm", "example.com/m/zz"]


def test_other_package_patterns_get_their_own_listing(module: Path, tmp_path: Path) -> None:
    (module / "envsnap.toml").write_text('[packages]\ninclude = ["./mm"]\n')
    imported, runs = lock(module, tmp_path)
    early = [run for run in runs if run["argv"][-1] == "./..."]
    assert len(early) == 1 and started(early[0]) < imported  # started, then left unused
    own = [run for run in runs if run["argv"][-2:] == ["--", "./mm"]]
    assert len(own) == 1 and own[0]["exit"] == 0 and started(own[0]) > imported
    assert cgo_paths(entry_of(module)) == ["example.com/m/mm"]


TAGGED = """//go:build withz

package tt

// #cgo pkg-config: zlib
// #include <zlib.h>
import "C"
"""


def test_a_variant_gets_its_own_listing_and_the_default_the_early_one(
    module: Path, tmp_path: Path
) -> None:
    (module / "tt").mkdir()
    (module / "tt" / "tt.go").write_text(TAGGED)
    (module / "envsnap.toml").write_text('[variants.withz]\ntags = ["withz"]\n')
    imported, runs = lock(module, tmp_path)
    assert len(runs) == 2, runs
    early, own = sorted(runs, key=started)
    assert started(early) < imported < started(own)
    assert "example.com/m/tt" not in cgo_paths(entry_of(module))
    assert "example.com/m/tt" in cgo_paths(entry_of(module, "withz"))


def test_a_file_changed_while_the_early_listing_ran_is_not_memoised_clean(
    module: Path, tmp_path: Path
) -> None:
    """go lists the old text; the file is changed right after, long before the probe starts
    (the probes' import is slowed): the memo must count from go list's start, not the probe's,
    or verify would take the memoised old listing for the new file."""
    real_go = shutil.which("go")
    assert real_go is not None
    fake = tmp_path / "bin"
    fake.mkdir()
    changed = LIBM_PACKAGE.replace("-lm", "-lm -lz")
    (tmp_path / "changed.go").write_text(changed)
    (fake / "go").write_text(
        "#!/bin/sh\n"
        'if [ "$1" = list ] && [ "$3" = -test ]; then\n'
        f'  out=$("{real_go}" "$@"); code=$?\n'
        f'  cp "{tmp_path / "changed.go"}" "{module / "mm" / "mm.go"}"\n'
        '  printf "%s\\n" "$out"; exit $code\n'
        "fi\n"
        f'exec "{real_go}" "$@"\n'
    )
    (fake / "go").chmod(0o755)
    path = f"{fake}{os.pathsep}{os.environ['PATH']}"
    imported, runs = lock(module, tmp_path, delay=1.0, PATH=path)
    assert (module / "mm" / "mm.go").read_text() == changed
    # changed as go list ended, out of the racy window of the probe's start (after the delay)
    assert float(runs[0]["at"]) < imported + 1.0 - 0.3
    assert "-lz" not in entry_of(module)["cgo"]["packages"][0]["ldflags"]  # go's old answer
    verified = envsnap("verify", "-C", str(module), env={**os.environ, "PATH": path})
    assert verified.returncode == 1, verified.stdout + verified.stderr
    assert "mm" in verified.stdout + verified.stderr
