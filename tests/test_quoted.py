"""envsnap.quoted against Go's own table: the rows of TestSplit in
$GOROOT/src/cmd/internal/quoted/quoted_test.go, read from the real Go's source at test time."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from envsnap import quoted
from envsnap.entry import CgoPackage
from envsnap.host import LocalHost
from envsnap.probes import cc, link
from tests.conftest import require_tool

_STRING = r'(?:"(?:[^"\\]|\\.)*"|`[^`]*`)'
_ROW = re.compile(
    rf"\{{name: (?P<name>{_STRING}), value: (?P<value>{_STRING}), "
    rf"(?:want: (?P<want>nil|\[\]string\{{[^}}]*\}})|wantErr: (?P<err>{_STRING}))\}}"
)


@dataclass(frozen=True)
class Row:
    name: str
    value: str
    want: list[str] | None
    error: str


def go_string(literal: str) -> str:
    """A Go string literal's value: raw (backquoted), or interpreted (JSON's escapes suffice
    for the table's rows)."""
    if literal.startswith("`"):
        return literal[1:-1]
    value = json.loads(literal)
    assert isinstance(value, str)
    return value


def go_strings(literal: str) -> list[str]:
    """``nil`` or ``[]string{"a", `b`}``."""
    return [go_string(s) for s in re.findall(_STRING, literal.removeprefix("[]string"))]


def split_table() -> list[Row]:
    goroot = subprocess.run(
        [require_tool("go"), "env", "GOROOT"], capture_output=True, text=True, check=True
    ).stdout.strip()
    source = Path(goroot, "src/cmd/internal/quoted/quoted_test.go").read_text()
    table = source[source.index("func TestSplit") : source.index("func TestJoin")]
    rows = [
        Row(
            go_string(m["name"]),
            go_string(m["value"]),
            None if m["err"] else go_strings(m["want"]),
            go_string(m["err"]) if m["err"] else "",
        )
        for m in _ROW.finditer(table)
    ]
    assert len(rows) == table.count("{name:"), "a row of TestSplit was not understood"
    return rows


@pytest.fixture(scope="module")
def table() -> list[Row]:
    return split_table()


def test_split_follows_go_on_every_row_of_its_table(table: list[Row]) -> None:
    assert len(table) >= 15
    for row in table:
        if row.want is None:
            with pytest.raises(quoted.UnterminatedQuote, match=re.escape(row.error)):
                quoted.split(row.value)
        else:
            assert quoted.split(row.value) == row.want, row.name


def test_split_takes_linear_time_on_long_words() -> None:
    """shlex.split needs about a minute for one 2 MB word."""
    word = "-I" + "x" * 4_000_000
    started = time.monotonic()
    assert quoted.split(f" {word} '{word}'\t\"{word}\"") == [word] * 3
    with pytest.raises(quoted.UnterminatedQuote):
        quoted.split(f"'{word}")
    assert time.monotonic() - started < 1


# --- the real go: the words `go build -n` passes to the C compiler ------------------------------

BEGIN, END = "-DENVSNAP_BEGIN", "-DENVSNAP_END"
CGO_PACKAGE = (
    'package m\n\n// int f(void) { return 1; }\nimport "C"\n\nfunc F() int { return int(C.f()) }\n'
)
# Values beyond TestSplit's rows: quotes inside and after words, backslashes, empty words, the
# four separators, and the open quotes go refuses.
VALUES = (
    "a",
    "a  b",
    "a\tb\nc\rd",
    "'a b'",
    '"a b"',
    "'a '\"b \"",
    "'a \"'\"'b\"",
    "\\'",
    "''",
    '"" x',
    "'x'y",
    '"a b"c d',
    "a'b c'",
    'a"b c"',
    '\\"a b\\"',
    "-I\\ x",
    "-DX='1 2'",
    "'-DX=\"1 2\"'",
    "  -O2   -g  ",
    "'a",
    '"a',
    "x 'y",
    "x \"y'",
)


@pytest.fixture(scope="module")
def cgo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_tool("gcc")
    root = tmp_path_factory.mktemp("cgo")
    (root / "go.mod").write_text("module example.com/m\n\ngo 1.21\n")
    (root / "m.go").write_text(CGO_PACKAGE)
    return root


def go_build_lines(root: Path, **env: str) -> list[list[str]]:
    """The commands `go build -n` prints, each in its words; RuntimeError with go's message when
    go refuses to build."""
    environ = {**os.environ, "GOFLAGS": "", "GOTOOLCHAIN": "local", "CGO_ENABLED": "1", **env}
    proc = subprocess.run(
        [require_tool("go"), "build", "-n", "."],
        cwd=root,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    return [printed_words(line) for line in proc.stderr.splitlines()]


def printed_words(line: str) -> list[str]:
    """A line of ``go build -n`` in words: cmd/go prints a word bare, or as strconv.Quote does
    when it holds a space or a character Quote escapes (joinUnambiguously)."""
    words, at = [], 0
    while at < len(line):
        if line[at] == " ":
            at += 1
        elif line[at] == '"':
            end = at + 1
            while line[end] != '"':
                end += 2 if line[end] == "\\" else 1
            words.append(ast.literal_eval(line[at : end + 1]))
            at = end + 1
        else:
            end = line.find(" ", at)
            end = len(line) if end < 0 else end
            words.append(line[at:end])
            at = end
    return words


def between_markers(lines: list[list[str]]) -> list[str]:
    for words in lines:
        if BEGIN in words and END in words:
            return words[words.index(BEGIN) + 1 : words.index(END)]
    raise AssertionError("no command of go build -n holds the markers")


def go_cflags_words(root: Path, value: str) -> list[str] | None:
    """The words the real go makes of CGO_CFLAGS=*value*; None where go refuses it."""
    try:
        return between_markers(go_build_lines(root, CGO_CFLAGS=f"{BEGIN} {value} {END}"))
    except RuntimeError as refused:
        assert "unterminated" in str(refused), refused
        return None


def ours(value: str) -> list[str] | None:
    try:
        return quoted.split(value)
    except quoted.UnterminatedQuote:
        return None


@pytest.mark.parametrize("value", VALUES + tuple(row.value for row in split_table()))
def test_split_makes_the_words_the_real_go_passes_to_the_compiler(
    cgo_dir: Path, value: str
) -> None:
    assert ours(value) == go_cflags_words(cgo_dir, value)


def test_the_real_go_agrees_on_the_rows_the_brief_names(cgo_dir: Path) -> None:
    assert go_cflags_words(cgo_dir, "'a '\"b \"") == ["a ", "b "] == quoted.split("'a '\"b \"")
    assert go_cflags_words(cgo_dir, "'a") is None
    assert len(set(VALUES)) >= 20


# --- envsnap's callers: the CC and CGO_LDFLAGS words the probes use are go's -------------------

CALLER_VALUES = ("'x'y", "\\'q", "'-DX Y' z", '"" w', "-B '/tmp/a b' -fuse-ld=gold", "a\tb")


@pytest.mark.parametrize("value", CALLER_VALUES)
def test_the_compiler_words_are_the_ones_go_runs(cgo_dir: Path, value: str) -> None:
    gcc = require_tool("gcc")
    cc_value = f"{gcc} {BEGIN} {value} {END}"
    lines = go_build_lines(cgo_dir, CC=cc_value)
    runs = next(words for words in lines if words[:2] == [gcc, BEGIN])
    assert cc.compiler_words({"CC": cc_value}, "linux") == runs[: runs.index(END) + 1]


@pytest.mark.parametrize("value", CALLER_VALUES)
def test_the_link_words_of_cgo_ldflags_are_the_ones_go_passes(cgo_dir: Path, value: str) -> None:
    ldflags = f"{BEGIN} {value} {END}"
    go_words = between_markers(go_build_lines(cgo_dir, CGO_LDFLAGS=ldflags))
    go_env = {"CGO_LDFLAGS": ldflags}
    assert cc.go_words(go_env, "CGO_LDFLAGS")[1:-1] == go_words
    chosen = [w for w in go_words if w.startswith(("-fuse-ld=", "-B"))]
    assert [w for w in cc.program_options(go_env) if w.startswith(("-fuse", "-B"))] == chosen
    package: CgoPackage = {"path": "example.com/m", "pkg_config": [], "cflags": [], "ldflags": []}
    plan = link.link_plan(LocalHost(), [package], go_env, str(cgo_dir), "")
    assert [w for w in plan.words if isinstance(w, str)][1:-1] == go_words


def test_a_value_go_cannot_split_is_one_clear_error() -> None:
    asks = {
        "CC": lambda env: cc.compiler_words(env, "linux"),
        "CXX": lambda env: cc.compiler_words(env, "linux", cxx=True),
        "CGO_LDFLAGS": cc.program_options,
    }
    for key, ask in asks.items():
        with pytest.raises(cc.UnsplittableVariable) as refused:
            ask({key: "gcc '-O2"})
        assert key in refused.value.message and "\n" not in refused.value.message
        assert "close the quote" in refused.value.hint
