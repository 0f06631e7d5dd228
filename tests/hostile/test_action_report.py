"""The GitHub Action's report (scripts/action-report) given hostile verify documents: values
that a lock committed in a pull request controls, written to break out of a table cell, into
HTML or into a workflow command; and documents that are truncated or not verify's at all."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import REPO

REPORT = REPO / "scripts" / "action-report"
HOSTILE = "x | y\n::error::injected\r\n<img src=x onerror=alert(1)>`[link](javascript:alert(1))`%0A"
UNESCAPED_BAR = re.compile(r"(?<!\\)\|")


def finding(severity: str, value: str) -> dict[str, Any]:
    return {
        "id": f"libraries.{value}.version",
        "subject": f"library {value}",
        "category": "changed",
        "severity": severity,
        "locked": value,
        "live": None,
        "why": value,
        "fix": value,
        "also": [],
        "detail": "",
    }


def document(findings: list[dict[str, Any]]) -> dict[str, Any]:
    errors = sum(f["severity"] == "error" for f in findings)
    verdict = {
        "schema": "envsnap-verify/1",
        "platform": "linux-amd64",
        "against": "envsnap.lock",
        "ok": errors == 0,
        "exit_code": 1 if errors else 0,
        "summary": {
            s: sum(f["severity"] == s for f in findings) for s in ("error", "warning", "info")
        },
        "findings": findings,
    }
    schema = json.loads((REPO / "docs" / "verify.schema.json").read_text())
    jsonschema.validate(verdict, schema)  # a document verify could print
    return verdict


def report(
    tmp_path: Path, content: bytes, exit_code: str
) -> tuple[subprocess.CompletedProcess[str], str]:
    """action-report run on *content* as verify's document: its result and the job summary."""
    (tmp_path / "verify.json").write_bytes(content)
    (tmp_path / "verify.err").write_text("envsnap: the lock cannot be used\n")
    env = {
        "PATH": "/usr/bin:/bin",
        "ENVSNAP_VERIFY_JSON": str(tmp_path / "verify.json"),
        "ENVSNAP_VERIFY_ERR": str(tmp_path / "verify.err"),
        "ENVSNAP_VERIFY_EXIT": exit_code,
        "ENVSNAP_MODULE": ".",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }
    result = subprocess.run(
        [sys.executable, str(REPORT)], env=env, capture_output=True, text=True, timeout=60
    )
    return result, (tmp_path / "summary.md").read_text()


def test_hostile_values_stay_inside_their_annotation_and_their_cell(tmp_path: Path) -> None:
    findings = [finding("error", HOSTILE), finding("warning", HOSTILE), finding("info", HOSTILE)]
    result, summary = report(tmp_path, json.dumps(document(findings)).encode(), "1")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(" ", 1)[0] for line in lines if line.startswith("::")] == [
        "::error",
        "::warning",
        "::notice",
    ]
    assert len(lines) == 4  # three annotations and the count line: no line was smuggled in
    rows = [line for line in summary.splitlines() if line.startswith("|")]
    assert len(rows) == 2 + len(findings), summary
    assert all(len(UNESCAPED_BAR.findall(row)) == 6 for row in rows), rows
    html = summary.replace("<code>", "").replace("</code>", "")
    assert "<" not in html and "](" not in html.replace("\\](", ""), summary
    assert not [line for line in summary.splitlines() if line.startswith("::")]


@pytest.mark.parametrize(
    "content",
    [
        b'{"schema": "envsnap-verify/1", "platform": "linux-amd64", "findi',  # truncated
        b"[]",
        b'{"schema": "envsnap-verify/2", "findings": []}',
        json.dumps({**document([]), "findings": [{"severity": "fatal"}]}).encode(),
        json.dumps(
            {**document([]), "findings": [{**finding("error", "z"), "added": "-DX"}]}
        ).encode(),
        json.dumps({**document([]), "summary": None}).encode(),
        b'{"schema": "envsnap-verify/1", "platform": "\xff"}',  # not UTF-8
    ],
)
def test_a_document_that_is_not_verifys_reports_verifys_message(
    tmp_path: Path, content: bytes
) -> None:
    result, summary = report(tmp_path, content, "2")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout == "::error title=envsnap verify::envsnap: the lock cannot be used\n"
    assert "envsnap: the lock cannot be used" in summary
    assert "|---|" not in summary
