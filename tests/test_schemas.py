"""The JSON schemas in docs/ are generated from the models, and real documents match them.

``docs/lock.schema.json`` comes from the lock's models (envsnap.snapshot), the verify and doctor
schemas from envsnap.documents; ``scripts/gen-schemas`` writes them. Here: the files are what the
models generate, and what envsnap really prints or writes (a lock on this machine and on a
replayed Mac, verify and diff with findings, doctor with problems) passes both the schema and
the model.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any, get_type_hints

import jsonschema
import pytest
from pydantic import BaseModel, ValidationError

from envsnap.documents import SCHEMAS, DoctorDocument, LockDocument, VerifyDocument, generated
from tests.conftest import RECORDINGS, REPO, envsnap

MAC = RECORDINGS / "macos14-arm64-clt-brew-openssl"
MAC_UPGRADED = RECORDINGS / "macos15-arm64-clt-brew-openssl"


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((REPO / "docs" / name).read_text())
    return loaded


def valid(document: dict[str, Any], name: str, model: type[BaseModel]) -> None:
    """*document* passes the schema in docs/ and its model, strict."""
    jsonschema.validate(document, schema(name), cls=jsonschema.Draft202012Validator)
    model.model_validate_json(json.dumps(document))


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_the_schema_in_docs_is_the_generated_one(name: str) -> None:
    on_disk = (REPO / "docs" / name).read_text(encoding="utf-8")
    assert on_disk == generated()[name], f"docs/{name} is stale: run scripts/gen-schemas"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_each_schema_is_a_valid_draft_2020_12_schema(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(schema(name))


def test_the_script_finds_a_stale_file_and_rewrites_it(tmp_path: Path) -> None:
    script = [sys.executable, str(REPO / "scripts" / "gen-schemas")]
    assert subprocess.run([*script, "--check", str(tmp_path)], capture_output=True).returncode == 1
    assert subprocess.run([*script, str(tmp_path)], capture_output=True).returncode == 0
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == generated()
    (tmp_path / "verify.schema.json").write_text("{}\n")
    stale = subprocess.run([*script, "--check", str(tmp_path)], capture_output=True, text=True)
    assert stale.returncode == 1 and "verify.schema.json: differs" in stale.stderr
    assert (tmp_path / "verify.schema.json").read_text() == "{}\n"  # --check writes nothing


def locked_mac(tmp_path: Path) -> Path:
    module = tmp_path / "mac"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    result = envsnap("--replay", str(MAC), "lock", "-C", str(module))
    assert result.returncode == 0, result.stderr
    return module


def test_real_locks_match_the_lock_schema(tmp_path: Path, cgo_module: Path) -> None:
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    for module in (cgo_module, locked_mac(tmp_path)):
        lock = tomllib.loads((module / "envsnap.lock").read_text())
        valid(lock, "lock.schema.json", LockDocument)
    darwin = tomllib.loads((tmp_path / "mac" / "envsnap.lock").read_text())
    assert darwin["platforms"]["darwin-arm64"]["apple"]["sdk_version"]  # the Apple section too


def test_the_lock_schema_refuses_a_field_no_envsnap_writes(tmp_path: Path) -> None:
    lock = tomllib.loads((locked_mac(tmp_path) / "envsnap.lock").read_text())
    lock["platforms"]["darwin-arm64"]["cc"]["compiler"]["sha256"] = "md5:00"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(lock, schema("lock.schema.json"))


def test_verify_and_diff_with_findings_match_the_verify_schema(tmp_path: Path) -> None:
    module = locked_mac(tmp_path)
    drifted = envsnap("--replay", str(MAC_UPGRADED), "verify", "--json", "-C", str(module))
    assert drifted.returncode == 1, drifted.stderr
    document = json.loads(drifted.stdout)
    assert document["findings"]
    valid(document, "verify.schema.json", VerifyDocument)
    diff = envsnap("diff", "envsnap.lock", str(MAC_UPGRADED), "--json", "-C", str(module))
    assert diff.returncode == 1, diff.stderr
    valid(json.loads(diff.stdout), "verify.schema.json", VerifyDocument)
    clean = envsnap("--replay", str(MAC), "verify", "--json", "-C", str(module))
    valid(json.loads(clean.stdout), "verify.schema.json", VerifyDocument)


def test_the_verify_schema_and_model_refuse_an_unknown_field(tmp_path: Path) -> None:
    module = locked_mac(tmp_path)
    out = envsnap("--replay", str(MAC_UPGRADED), "verify", "--json", "-C", str(module)).stdout
    document = json.loads(out)
    document["findings"][0]["note"] = "not part of envsnap-verify/1"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema("verify.schema.json"))
    with pytest.raises(ValidationError):
        VerifyDocument.model_validate_json(json.dumps(document))


def test_doctor_with_problems_matches_the_doctor_schema(tmp_path: Path) -> None:
    module = locked_mac(tmp_path)
    result = envsnap("--replay", str(MAC_UPGRADED), "doctor", "--json", "-C", str(module))
    document = json.loads(result.stdout)
    assert result.returncode == 1 and document["exit_code"] == 1, result.stderr
    assert any(check["status"] == "problem" for check in document["checks"])
    valid(document, "doctor.schema.json", DoctorDocument)


def test_real_doctor_on_this_machine_matches_the_doctor_schema(cgo_module: Path) -> None:
    result = envsnap("doctor", "--json", "-C", str(cgo_module))
    valid(json.loads(result.stdout), "doctor.schema.json", DoctorDocument)


def test_the_doctor_schema_wants_evidence_and_a_fix_for_a_problem(tmp_path: Path) -> None:
    module = locked_mac(tmp_path)
    out = envsnap("--replay", str(MAC_UPGRADED), "doctor", "--json", "-C", str(module)).stdout
    document = json.loads(out)
    problem = next(check for check in document["checks"] if check["status"] == "problem")
    problem["fix"] = ""
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema("doctor.schema.json"))


def _returned(method: object) -> type:
    shape: type = get_type_hints(method)["return"]
    return shape


def test_the_inspect_and_doctor_schemas_are_the_shapes_to_json_returns() -> None:
    """One declaration: each object in the inspect and doctor schemas is the TypedDict the
    class that prints it returns from ``to_json`` (no model kept beside it in documents.py)."""
    from envsnap.binfacts.buildinfo import GoBuild, Module
    from envsnap.binfacts.facts import (
        Binary,
        BuildVersion,
        Dylib,
        DylibId,
        ElfFacts,
        MachoFacts,
        Slice,
        VersionMin,
    )
    from envsnap.doctor.facts import Check, Evidence

    facts = (Binary, Slice, ElfFacts, MachoFacts, BuildVersion, VersionMin, DylibId, Dylib)
    printers = {
        "inspect.schema.json": (*facts, GoBuild, Module),
        "doctor.schema.json": (Check, Evidence),
    }
    for name, classes in printers.items():
        defs = schema(name)["$defs"]
        for cls in classes:
            assert _returned(cls.to_json).__name__ in defs, (name, cls.__name__)
