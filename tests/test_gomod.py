"""envsnap.gomod reads go.mod and go.work as go does: each case is compared with what ``go mod
edit -json`` / ``go work edit -json`` print for the same file (nothing here is expected output
written by hand, except the doctor-facing line numbers)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from envsnap import gomod
from tests.conftest import require_tool

GO_MODS = {
    "minimal": "module example.com/m\n\ngo 1.21\n",
    "comments and blocks": """// The module.
module "example.com/quoted path" // trailing

go 1.23.1 // the language
toolchain go1.24.2
godebug (
\tdefault=go1.21
\tpanicnil=1
)
godebug asynctimerchan=0

require example.com/a v1.2.3 // indirect
require (
\texample.com/b v0.1.0
\t"example.com/c" v1.0.0 // indirect; kept for the test
\texample.com/f v1.0.0 // not indirect
)
exclude example.com/e v1.0.0
exclude (
\texample.com/e v1.0.1
)
replace example.com/a => ../a
replace (
\texample.com/b v0.1.0 => example.com/b2 v0.2.0
\texample.com/c => /abs/c
\t"example.com/g" => "./g dir"
)
tool example.com/tool/cmd
ignore ./node_modules
""",
    "deprecated": """// Deprecated: use example.com/m/v2 instead.
module example.com/m

go 1.22
""",
    "deprecated paragraph": """// Package m does things.
//
// Deprecated: use v2.
module example.com/m
""",
    "retractions": """module example.com/m

go 1.22

// a bad tag
retract v1.0.1

retract [v1.1.0, v1.2.0] // a broken range
retract (
\t// published by mistake
\tv0.9.0
\tv0.9.1
)
// the whole block
retract (
\tv0.8.0
)
""",
    "windows line ends and tabs": (
        "module\texample.com/m\r\n\r\ngo\t1.22\r\ntoolchain\tgo1.22.4\r\n"
    ),
    "no go line": "module example.com/m\n",
    # go's lexer ends a word at `//`: the comment is not glued to the value nor the line lost
    "comments right after a value": """module example.com/m// the module

go 1.21// the language
toolchain go1.22.0// the toolchain
require example.com/a v1.0.0// indirect
require (
\texample.com/b v1.0.0// indirect
) // the block
retract [v1.0.0,v1.1.0]// a rationale
replace example.com/c => ../c// local
""",
    "comments right after a value, windows line ends": (
        "module example.com/m\r\ngo 1.22\r\ntoolchain go1.22.1// c\r\n"
    ),
    "a module block": "module (\n\texample.com/m\n)\n\ngo 1.22\n",
    "a deprecated module in a block": """// the block's comment
module (
\t// Deprecated: use v2.
\texample.com/m
)
""",
    "empty blocks": "module example.com/m\n\ngo 1.22\nrequire ()\nexclude (\n)\n",
}

GO_WORKS = {
    "workspace": """go 1.23
toolchain go1.24.0

use (
\t./a // the first
\t"./b c"
)
use ./d
replace example.com/y => ../y
godebug default=go1.21
""",
    "comments right after a value": """go 1.21// the language
toolchain go1.22.0// the toolchain
use ./a// the first
use (
\t./b// the second
\t"./c d"// the third
)
""",
}


def ask_go(tmp_path: Path, kind: str, text: str) -> dict[str, Any]:
    name = "go.mod" if kind == "mod" else "go.work"
    (tmp_path / name).write_text(text)
    out = subprocess.run(
        [require_tool("go"), kind, "edit", "-json", name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "GOTOOLCHAIN": "local"},
    )
    assert out.returncode == 0, out.stderr
    answer: dict[str, Any] = json.loads(out.stdout)
    # go prints some empty lists as null ("Retract": null beside a tool directive): absent alike
    return {key: value for key, value in answer.items() if value is not None}


@pytest.mark.parametrize("case", sorted(GO_MODS))
def test_a_go_mod_reads_as_go_mod_edit_json_prints_it(case: str, tmp_path: Path) -> None:
    text = GO_MODS[case]
    assert gomod.to_json(gomod.parse(text)) == ask_go(tmp_path, "mod", text)


@pytest.mark.parametrize("case", sorted(GO_WORKS))
def test_a_go_work_reads_as_go_work_edit_json_prints_it(case: str, tmp_path: Path) -> None:
    text = GO_WORKS[case]
    assert gomod.to_json(gomod.parse(text), work=True) == ask_go(tmp_path, "work", text)


def test_the_fields_envsnap_reads(tmp_path: Path) -> None:
    text = GO_MODS["comments and blocks"]
    go = ask_go(tmp_path, "mod", text)
    parsed = gomod.parse(text)
    assert (parsed.module, parsed.go, parsed.toolchain) == (
        go["Module"]["Path"],
        go["Go"],
        go["Toolchain"],
    )
    local = [(r.line.number, r.new_path) for r in parsed.replaces if r.is_local]
    numbered = enumerate(text.split("\n"), start=1)
    assert local == [
        (n, t) for n, line in numbered for t in ("../a", "/abs/c", "./g dir") if t in line
    ]
    assert [r["New"]["Path"] for r in go["Replace"]] == [r.new_path for r in parsed.replaces]


def test_a_line_go_refuses_is_skipped_and_named(tmp_path: Path) -> None:
    text = 'module example.com/m\n\ngo 1.22\nrequire example.com/a"b v1.0.0\n'
    (tmp_path / "go.mod").write_text(text)
    refused = subprocess.run(
        [require_tool("go"), "mod", "edit", "-json"], cwd=tmp_path, capture_output=True
    )
    assert refused.returncode != 0
    parsed = gomod.parse(text)
    assert (parsed.module, parsed.go) == ("example.com/m", "1.22")
    assert [e.split(":")[0] for e in parsed.errors] == ["4"]
    assert gomod.parse("module m\nrequire (\n\tx v1\n").errors == ("4: unterminated require block",)


def test_the_memo_stamps_each_module_a_go_work_uses_quoted_paths_included(tmp_path: Path) -> None:
    """A quoted ``use`` path with a space was split in two: its go.mod was never stamped."""
    from envsnap.toolinputs import workspace_uses

    work = tmp_path / "go.work"
    work.write_text(GO_WORKS["workspace"])
    disk_paths = [u["DiskPath"] for u in ask_go(tmp_path, "work", GO_WORKS["workspace"])["Use"]]
    assert workspace_uses(str(work)) == [str(tmp_path / p.removeprefix("./")) for p in disk_paths]
