"""envsnap.gopattern and the exclusions of envsnap.toml follow Go's package patterns.

``match_pattern`` is held to Go's own table (``cmd/internal/pkgpattern/pat_test.go``, read at
test time from the Go source that ships with the go on PATH); the exclusions of a real module
to what the real ``go list`` lists for the same pattern.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import cast

import pytest

from envsnap.entry import JsonObject
from envsnap.gopattern import clean, match_pattern
from envsnap.probes.cgo import iter_json_stream
from envsnap.probes.scope import excluded_by
from tests.conftest import require_tool, write_module
from tests.test_gover import go_source

PAT_TEST = "cmd/internal/pkgpattern/pat_test.go"


def go_match_rows() -> list[tuple[str, str, bool]]:
    """(pattern, name, matches) of ``matchPatternTests``, parsed as its testPatterns does."""
    text = (go_source() / PAT_TEST).read_text()
    table = re.search(r"var matchPatternTests = `(.*?)`", text, re.DOTALL)
    assert table is not None, f"matchPatternTests is not in {PAT_TEST}"
    rows: list[tuple[str, str, bool]] = []
    patterns: list[str] = []
    for line in table[1].splitlines():
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] == "pattern":
            patterns = words[1:]
            continue
        assert words[0] in ("match", "not"), line
        rows += [(p, name, words[0] == "match") for p in patterns for name in words[1:]]
    assert len(rows) > 20
    return rows


def test_match_pattern_follows_gos_table() -> None:
    wrong = [row for row in go_match_rows() if match_pattern(row[0])(row[1]) != row[2]]
    assert not wrong


def test_the_table_can_fail() -> None:
    assert any(match_pattern(p)(name) != (not want) for p, name, want in go_match_rows())
    assert not match_pattern("net/...")("netchan") and match_pattern("net...")("netchan")


DIRS = ("a", "a/b", "a/b/c", "ab", "x/internal/y", "x/testdata/t", "_skip/s", "vendorish/v")
PATTERNS = (
    "./...",
    ".",
    "./a",
    "./a/...",
    "./a/b/...",
    "./a...",
    "./x/.../y",
    "example.com/m/...",
    "example.com/m/a",
    "example.com/m/a/...",
    "example.com/m/a...",
    "example.com/m/.../c",
)


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_tool("go")
    files = {f"{d}/p.go": f"package {d.rsplit('/', 1)[-1]}\n" for d in DIRS}
    return write_module(
        tmp_path_factory.mktemp("patterns") / "m", {**files, "root.go": "package m\n"}
    )


def go_list(module: Path, *args: str) -> list[JsonObject]:
    out = subprocess.run(
        ["go", "list", "-e", "-json=ImportPath,Dir", "--", *args],
        cwd=module,
        capture_output=True,
        text=True,
        check=True,
    )
    return [p for p in iter_json_stream(out.stdout) if p.get("Dir")]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_an_exclusion_matches_what_go_list_lists_for_it(module: Path, pattern: str) -> None:
    every = go_list(module, "./...")
    assert len(every) == 7  # testdata and _skip are not packages of ./...
    go_says = {p["ImportPath"] for p in go_list(module, pattern)}
    ours = {p["ImportPath"] for p in every if excluded_by(pattern, p, (str(module),))}
    assert ours == go_says


@pytest.mark.parametrize("pattern", ["./a/", "./a//b/...", "./a/./b", "example.com/m//a/"])
def test_clean_is_the_pattern_go_reports(module: Path, pattern: str) -> None:
    out = subprocess.run(
        ["go", "list", "-e", "-json=Match", "--", pattern],
        cwd=module,
        capture_output=True,
        text=True,
        check=True,
    )
    listed = iter_json_stream(out.stdout)
    matches = {tuple(cast(list[str], p["Match"])) for p in listed}
    assert listed and matches == {(clean(pattern),)}, json.dumps(listed)
