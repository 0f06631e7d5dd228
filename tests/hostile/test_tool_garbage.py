"""Tools that answer with garbage: a compiler that prints instead of compiling, pkg-config or go
env output with a NUL byte, JSON nested past any parser's depth, and a $CC that floods the go
env running it. Each ends in one line naming the tool, within time and memory caps
(docs/security.md, "Tools that misbehave")."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.hostile.conftest import Ran, Tools, assert_reported
from tests.hostile.files_common import cap_memory

MIB = 1024 * 1024
DEEP = 100_000  # levels of nesting: far past Python's recursion limit


def capped_envsnap(tools: Tools, *args: str, limit: float, **env: str) -> Ran:
    """envsnap in a child with at most 1 GiB of address space; a hang past *limit* fails."""
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "envsnap", *args],
            capture_output=True,
            text=True,
            env={**tools.env, **env},
            timeout=limit,
            stdin=subprocess.DEVNULL,
            preexec_fn=cap_memory,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"envsnap {' '.join(args)} hung for {limit}s")
    return Ran(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def test_a_compiler_that_prints_instead_of_compiling_is_named(
    tools: Tools, cgo_module: Path
) -> None:
    tools.fake("gcc", "*", "printf '\\377\\376garbage\\001 %s\\n' \"$*\"; exit 0")
    ran = capped_envsnap(tools, "lock", "-C", str(cgo_module), limit=60, ENVSNAP_NO_CACHE="1")
    line = assert_reported(ran, "gcc -x c -c main.c mark.c` exited 0 but wrote no main.o")
    assert line.startswith("envsnap: error: probe failed: ")
    assert not (cgo_module / "envsnap.lock").exists()


@pytest.mark.parametrize("when", ["--libs*", "--modversion*", "--variable=pcfiledir*"])
def test_pkg_config_printing_a_nul_byte_is_named(tools: Tools, cgo_module: Path, when: str) -> None:
    tools.fake("pkg-config", when, "printf -- '-L/usr/lib\\000x -lz\\n'; exit 0")
    ran = capped_envsnap(tools, "lock", "-C", str(cgo_module), limit=60, ENVSNAP_NO_CACHE="1")
    option = when.rstrip("*")
    assert_reported(ran, f"`pkg-config {option}", "zlib` printed a NUL byte")


def test_a_nul_byte_in_go_env_flags_is_one_line(tools: Tools, cgo_module: Path) -> None:
    """go env -json may spell a NUL (\\u0000); no program can be given it as an argument."""
    real = require_tool("go")
    nul = 's/"CGO_LDFLAGS": "/"CGO_LDFLAGS": "-L\\/x\\\\u0000y /'
    tools.fake("go", '"env -json"', f"{real} env -json | sed '{nul}'; exit 0")
    ran = capped_envsnap(tools, "lock", "-C", str(cgo_module), limit=60, ENVSNAP_NO_CACHE="1")
    assert_reported(ran, "CGO_LDFLAGS (go env) holds a NUL byte", codes=(2,))  # by its name


NESTED = {
    "arrays": "[" * DEEP + "]" * DEEP,
    "objects": '{"a":' * DEEP + "1" + "}" * DEEP,
}


@pytest.mark.parametrize("shape", NESTED)
@pytest.mark.parametrize(
    ("when", "said"),
    [
        ("list*", "`go list -json` printed something that is not JSON objects"),
        ('"env -json"', "env -json` printed JSON that is not an object of strings (it is nested"),
    ],
    ids=["go list", "go env"],
)
def test_deeply_nested_json_from_go_is_one_line(
    tools: Tools, cgo_module: Path, tmp_path: Path, when: str, said: str, shape: str
) -> None:
    printed = tmp_path / "nested.json"
    printed.write_text(f'{{"a": {NESTED[shape]}}}')
    tools.fake("go", when, f"cat {printed}; exit 0")
    ran = capped_envsnap(tools, "lock", "-C", str(cgo_module), limit=60, ENVSNAP_NO_CACHE="1")
    assert_reported(ran, said, codes=(2,))
    assert len(ran.stderr.strip().splitlines()) == 1, ran.stderr


TREE_PEAK = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(done.returncode, peak, done.stderr.strip(), sep="\\n")
"""


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_a_compiler_flooding_the_go_env_that_runs_it_ends_in_bounded_memory(
    tools: Tools, cgo_module: Path, stream: str
) -> None:
    """go env runs $CC and keeps all it prints: envsnap caps each tool's memory (2 GiB of
    data), so go fails within seconds instead of growing by gigabytes until its timeout."""
    tools.fake("gcc", '*"-x c -"*', f"yes flood {'>&2' if stream == 'stderr' else ''}; exit 0")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", TREE_PEAK, sys.executable, "-m", "envsnap", "lock"],
        capture_output=True,
        text=True,
        cwd=cgo_module,
        env={**tools.env, "ENVSNAP_NO_CACHE": "1"},
        timeout=120,
        check=False,
    )
    code, peak_kib, stderr = done.stdout.split("\n", 2)
    ran = Ran(int(code), "", stderr, time.monotonic() - started)
    assert_reported(ran, "go env -json` ran out of memory", codes=(2,))
    assert ran.seconds < 15
    assert int(peak_kib) * 1024 < 2560 * MIB, peak_kib  # the biggest process of the tree
