"""Every error envsnap raises for a person ends with what to do: each raise of an EnvsnapError
(or a subclass) in the code names a hint."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

ERRORS = {
    "EnvsnapError",
    "LockError",
    "ConfigError",
    "HostError",
    "RecordingError",
    "NotInModule",
    "SecretRefused",
    "ProbeTimeout",
    "ToolCrashed",
    "OutputTooLarge",
    "ToolNotFound",
}


def raises_without_hint() -> list[str]:
    found = []
    for path in sorted((REPO / "envsnap").rglob("*.py")):
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id not in ERRORS:
                continue
            given = len(node.args) + len(node.keywords)
            if given < 2 and not any(isinstance(a, ast.Starred) for a in node.args):
                where = Path(path).relative_to(REPO)
                found.append(f"{where}:{node.lineno}: {ast.get_source_segment(source, node)}")
    return found


def test_every_error_names_what_to_do() -> None:
    assert raises_without_hint() == []
