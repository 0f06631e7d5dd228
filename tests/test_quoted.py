"""envsnap.quoted against Go's own table: the rows of TestSplit in
$GOROOT/src/cmd/internal/quoted/quoted_test.go, read from the real Go's source at test time."""

from __future__ import annotations

import json
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from envsnap import quoted
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
