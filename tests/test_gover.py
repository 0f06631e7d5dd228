"""envsnap.gover, the toolchain switch and doctor's toolchain check follow Go's own rules.

The tables are read at test time from the Go source that ships with the go on PATH
(``$GOROOT/src/…/_test.go``), so these tests follow Go as it changes; the rows written here are
checked against the real go command, never against envsnap's answer.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

from envsnap import gover
from envsnap.doctor.facts import Facts
from envsnap.doctor.toolchain import check_toolchain
from envsnap.errors import EnvsnapError
from envsnap.probes.toolchain import select_toolchain
from tests.conftest import require_tool, unavailable, write_module

Row = tuple[str | int | bool, ...]

_GO_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"|-?\d+|\btrue\b|\bfalse\b')


@cache
def go_source() -> Path:
    go = require_tool("go")
    goroot = subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True, check=True)
    source = Path(goroot.stdout.strip(), "src")
    if not (source / "internal" / "gover" / "gover_test.go").is_file():
        unavailable(f"the Go source with its tests is not under {source}")
    return source


def _value(literal: str) -> str | int | bool:
    if literal.startswith('"'):
        text: str = json.loads(literal)  # the tables' strings use no escape JSON lacks
        return text
    if literal in ("true", "false"):
        return literal == "true"
    return int(literal)


@cache
def go_table(path: str, name: str) -> tuple[Row, ...]:
    """The rows of ``var NAME = []testCase…{ {…}, … }`` in a Go test file: its literals, in
    order (a ``Version{…}`` row gives its five strings after the input)."""
    text = (go_source() / path).read_text()
    body = re.search(rf"^var {name} = \[\][^{{]*\{{\n(.*?)^\}}", text, re.MULTILINE | re.DOTALL)
    assert body is not None, f"{name} is not in {path}"
    rows = [
        tuple(_value(m) for m in _GO_LITERAL.findall(line[: line.rindex("},") + 2]))
        for line in map(str.strip, body[1].splitlines())
        if line.startswith("{") and "}," in line  # a row, without its trailing // comment
    ]
    assert rows, f"{name} in {path} has no rows"
    return tuple(rows)


def table_cases(*tables: tuple[str, str]) -> list[object]:
    return [
        pytest.param(row, id=f"{path.removesuffix('_test.go')}:{name}:{n}")
        for path, name in tables
        for n, row in enumerate(go_table(path, name))
    ]


INTERNAL = "internal/gover/gover_test.go"
CMD = "cmd/go/internal/gover/gover_test.go"
TOOLCHAIN = "cmd/go/internal/gover/toolchain_test.go"
GO_VERSION = "go/version/version_test.go"


def lazy(*tables: tuple[str, str]) -> list[object]:
    """The cases of *tables*, or one case that skips (or fails in CI) when Go's source is absent."""
    try:
        return table_cases(*tables)
    except pytest.skip.Exception as skipped:
        return [pytest.param(None, marks=pytest.mark.skip(reason=str(skipped)))]


# --- Go's gover tables -------------------------------------------------------------------------


@pytest.mark.parametrize("row", lazy((INTERNAL, "compareTests"), (CMD, "compareTests")))
def test_compare_follows_go(row: Row) -> None:
    x, y, want = row
    assert (gover.compare(str(x), str(y)), gover.compare(str(y), str(x))) == (want, -int(want))


@pytest.mark.parametrize("row", lazy((INTERNAL, "parseTests")))
def test_parse_follows_go(row: Row) -> None:
    text, *fields = row
    assert tuple(gover.parse(str(text))) == tuple(fields)


@pytest.mark.parametrize("row", lazy((INTERNAL, "isLangTests"), (CMD, "isLangTests")))
def test_is_lang_follows_go(row: Row) -> None:
    text, want = row
    assert gover.is_lang(str(text)) is want


@pytest.mark.parametrize("row", lazy((INTERNAL, "isValidTests"), (CMD, "isValidTests")))
def test_is_valid_follows_go(row: Row) -> None:
    text, want = row
    assert gover.is_valid(str(text)) is want


@pytest.mark.parametrize("row", lazy((TOOLCHAIN, "fromToolchainTests")))
def test_from_toolchain_follows_go(row: Row) -> None:
    name, want = row
    assert gover.from_toolchain(str(name)) == want


@pytest.mark.parametrize("row", lazy((GO_VERSION, "compareTests")))
def test_toolchain_names_compare_as_go_version_compares_them(row: Row) -> None:
    """select_toolchain compares toolchain names (GOVERSION, a toolchain line) through
    from_toolchain; that is go/version.Compare on every row of its table."""
    x, y, want = row
    assert gover.compare(gover.from_toolchain(str(x)), gover.from_toolchain(str(y))) == want


# Rows Go's tables lack, each with the Go source that decides it.
MORE_VALIDITY = [
    # gover.Parse: "we are disallowing prereleases (alpha, beta, rc) for patch releases here"
    ("1.21.3rc1", False),
    ("1.21.0beta1", False),
    ("1.21rc1", True),
    ("1.26.10", True),
    ("01.21", False),  # cutInt: no unnecessary leading zero
    ("1.021", False),
    ("1x21", False),  # Parse: after the major number, the end or a "."
]


@pytest.mark.parametrize(("text", "valid"), MORE_VALIDITY)
def test_more_validity_rows(text: str, valid: bool) -> None:
    assert gover.is_valid(text) is valid


IS_VALID_PROGRAM = """package main

import (
	"fmt"
	"go/version"
	"os"
)

func main() {
	for _, v := range os.Args[1:] {
		fmt.Println(version.IsValid("go" + v))
	}
}
"""


def test_the_more_validity_rows_are_the_real_go_s(tmp_path: Path) -> None:
    """The rows above are what go/version.IsValid (internal/gover.Parse) answers."""
    module = write_module(tmp_path / "isvalid", {"main.go": IS_VALID_PROGRAM})
    texts = [text for text, _ in MORE_VALIDITY]
    ran = subprocess.run(
        [require_tool("go"), "run", ".", *texts],
        cwd=module,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert ran.stdout.split() == [str(valid).lower() for _, valid in MORE_VALIDITY]


MORE_ORDER = ["1.9", "1.10", "1.21", "1.21rc1", "1.21rc2", "1.21.0", "1.21.1", "1.26.6", "1.26.10"]


def test_numbers_of_different_lengths_compare_as_numbers() -> None:
    """https://go.dev/doc/toolchain#version: 1.21 < 1.21rc1 < 1.21rc2 < 1.21.0 < 1.21.1."""
    for low, high in itertools.pairwise(MORE_ORDER):
        assert (gover.compare(low, high), gover.compare(high, low)) == (-1, 1), (low, high)


SLASHED = ["go1.999999-/run.sh", "go1.999999-/../../run.sh", "go1.21.0-\\x", "go1.21/x", "/go1.2"]


@pytest.mark.parametrize("name", SLASHED)
def test_a_toolchain_name_with_a_path_separator_names_no_version(name: str) -> None:
    """cmd/go/internal/gover/toolchain.go: FromToolchain refuses \\ and / (CVE-2023-39320)."""
    assert gover.from_toolchain(name) == ""


# --- the switch, held to the real go ------------------------------------------------------------


def real_go_says(tmp_path: Path, setting: str, go_line: str, toolchain_line: str) -> str:
    """What the real go does in a module with these lines: ``local``, the toolchain it sets out
    to run (``go1.…``), or ``refused: <go's message>``. Nothing is downloaded (GOPROXY=off)."""
    extra = f"toolchain {toolchain_line}\n" if toolchain_line else ""
    return real_go_reads(tmp_path, setting, f"module example.com/m\n\ngo {go_line}\n{extra}")


def real_go_reads(tmp_path: Path, setting: str, go_mod: str) -> str:
    """What the real go does under GOTOOLCHAIN=*setting* in a module with this go.mod."""
    module = write_module(tmp_path / "m", {"p.go": "package p\n"})
    (module / "go.mod").write_text(go_mod)
    env = {**os.environ, "GOTOOLCHAIN": setting, "GOPROXY": "off", "GOSUMDB": "off"}
    ran = subprocess.run(
        [require_tool("go"), "version"], cwd=module, env=env, capture_output=True, text=True
    )
    if ran.returncode == 0:
        return "local"
    wanted = re.search(r'(?:download(?:ing)?|find) "?(go[^\s":]+)', ran.stderr)
    return wanted[1] if wanted else f"refused: {ran.stderr.strip().splitlines()[0]}"


def envsnap_says(local: str, setting: str, go_line: str, toolchain_line: str) -> str:
    try:
        choice = select_toolchain(setting, local, go_line, toolchain_line)
    except EnvsnapError as refused:
        return f"refused: {refused.message}"
    return choice.name


# GOTOOLCHAIN, go line, toolchain line: what to do is the real go's answer, not written here.
SWITCH_ROWS = [
    ("auto", "1.26", "go1.26.10"),  # 10 > 6: numbers, not strings
    ("auto", "1.26.10", ""),
    ("auto", "1.21", "go1.26.6-bigcorp"),  # the same version: no switch
    ("auto", "1.99.3rc1", ""),  # not a version: go does not switch for it
    ("go2", "1.21", ""),
    ("go2+auto", "1.21", ""),
    ("auto", "1.21", "go2.0.0"),
    ("auto", "2.0", ""),
    ("auto", "1.21", "go1.21.3rc1"),
    ("go1.21.3rc1", "1.21", ""),
    ("auto", "1.21", "go1.999999-/run.sh"),
    ("auto", "1.21", "go1.999999-\\run.sh"),
    ("path", "1.21", "go1.99.1-/x"),
    ("go1.99.1-/x+auto", "1.21", ""),
    ("go1.99.1-/x", "1.21", ""),
]


def local_go() -> str:
    go = require_tool("go")
    ran = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=True)
    return ran.stdout.strip()


@pytest.mark.parametrize(("setting", "go_line", "toolchain_line"), SWITCH_ROWS)
def test_the_switch_or_the_refusal_is_the_real_go_s(
    tmp_path: Path, setting: str, go_line: str, toolchain_line: str
) -> None:
    go_said = real_go_says(tmp_path, setting, go_line, toolchain_line)
    said = envsnap_says(local_go(), setting, go_line, toolchain_line)
    if go_said.startswith("refused"):
        words = re.match(
            r'refused: go: (invalid (?:GOTOOLCHAIN|toolchain)) ("(?:[^"\\]|\\.)*")', go_said
        )
        assert words, go_said  # go names what it refuses; envsnap names the same thing
        assert said.startswith(f"refused: {words[1]} {json.loads(words[2])!r}"), (go_said, said)
    else:
        assert said == go_said


# go.mod texts whose go/toolchain lines go's GoModLookup reads (or not) as it trims spaces.
LOOKUPS = [
    "module m\n\ngo 1.21\n\x1ctoolchain go1.99.1\n",  # not a space to go: no toolchain line
    "module m\n\ngo 1.21\n\xa0toolchain go1.99.1\n",  # a space to go
    "module m\n\ngo 1.99.1\x1f\n",  # not a version
    "module m\n\ngo 1.99.1\u3000\n",
    "module m\n\ngo 1.21\ntoolchain go1.99.1// c\n",
    "module m\n\ngo 1.21\ntoolchain\tgo1.99.1 // c\n",
    "module m\n\ngo 1.21\ntoolchaingo1.99.1\n",
    "module m\n\ngo 1.21\ntoolchain go1.99.1 // a comment // with a slash pair\n",
]


@pytest.mark.parametrize("go_mod", LOOKUPS)
def test_the_lines_the_switch_reads_are_go_s(tmp_path: Path, go_mod: str) -> None:
    lines = gover.go_mod_lookup(go_mod, "go"), gover.go_mod_lookup(go_mod, "toolchain")
    choice = select_toolchain("auto", local_go(), *lines)
    assert choice.name == real_go_reads(tmp_path, "auto", go_mod)


def test_a_longer_patch_number_is_newer() -> None:
    choice = select_toolchain("auto", "go1.26.6", "1.26", "go1.26.10")
    assert choice.switches and choice.name == "go1.26.10"


# GOTOOLCHAIN settings: which go accepts is the real go's answer.
SETTINGS = [
    "auto",
    "path",
    "local",
    "local+auto",
    "local+path",
    "go1.25.0",
    "go1.25.0+auto",
    "go1.21.0-bigcorp+path",
    "auto+auto",
    "path+auto",
    "local+x",
    "go2",
    "go2+auto",
    "gccgo-go1.21.0",
    "bash",
    "go1.21.3rc1",
    "go1.21.0-/../../run.sh",
    "go1.21.0-/x+auto",
    "go1.21.0-\\x",
    "go2-go1.21.0",  # a version (2) that is not go1, with a -go1 suffix: go looks for it
    "go2-go1.21.0+auto",
    "go2-bigcorp",
]


@pytest.mark.parametrize("setting", SETTINGS)
def test_a_setting_go_refuses_is_never_pinned(tmp_path: Path, setting: str) -> None:
    """The emitted .envrc exports pinned_toolchain's GOTOOLCHAIN: never one go refuses (a lock's
    ``go1.21.0-/../../run.sh`` would make a go before 1.21.1 run a file of the repository)."""
    refused = real_go_says(tmp_path, setting, "1.21", "").startswith("refused: go: invalid GOTO")
    assert gover.is_setting(setting) is not refused
    pinned = gover.pinned_toolchain("go1.26.6", setting)
    assert (pinned is None) is refused and (refused or gover.is_setting(str(pinned)))


# Locked Go versions that name no release go could switch to: go refuses them as GOTOOLCHAIN.
UNRELEASED = ["go1.21.3rc1", "go1.26.6.1"]


@pytest.mark.parametrize("version", UNRELEASED)
def test_a_version_that_names_no_release_is_never_pinned(tmp_path: Path, version: str) -> None:
    """pinned_toolchain keeps the locked setting when the locked go is no release: pinning
    *version*+auto would give a GOTOOLCHAIN the real go refuses."""
    assert real_go_says(tmp_path, f"{version}+auto", "1.21", "").startswith("refused: go: invalid")
    for setting in ("auto", "path", "local", "local+auto"):
        pinned = gover.pinned_toolchain(version, setting)
        assert pinned is not None
        assert not real_go_says(tmp_path, pinned, "1.21", "").startswith("refused"), pinned


# --- doctor's check, held to Go's compare table -----------------------------------------------


def doctor_says(go_line: str, local: str, setting: str) -> str:
    facts = Facts(
        system="linux",
        directory="/m",
        module_root="/m",
        go_path="/usr/bin/go",
        go_env={"GOVERSION": f"go{local}"},
        go_env_run=None,
        gotoolchain=setting,
        gotoolchain_source="environment",
        go_mod=f"module example.com/m\n\ngo {go_line}\n",
        list_module=None,
        listing=None,
    )
    return check_toolchain(facts).status


@pytest.mark.parametrize("row", lazy((INTERNAL, "compareTests"), (CMD, "compareTests")))
def test_doctor_compares_as_go(row: Row) -> None:
    """Each row of Go's table as go line and local go, both ways round: under GOTOOLCHAIN=local
    a go line newer than the local go is a problem, under auto a switch (a warning)."""
    x, y, want = str(row[0]), str(row[1]), int(row[2])
    for go_line, local, newer in ((x, y, want > 0), (y, x, want < 0)):
        if not gover.is_valid(local) or not go_line:
            continue  # no local version to compare (a development go) or no go line
        assert doctor_says(go_line, local, "local") == ("problem" if newer else "ok"), row
        assert doctor_says(go_line, local, "auto") == ("warning" if newer else "ok"), row
