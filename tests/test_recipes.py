"""docs/recipes/github-actions.yml is a valid workflow, and its two envsnap steps, run as written
(bash for `envsnap verify`, python3 for the annotations), turn a real `envsnap verify --json`
into GitHub's workflow commands and stop the job on drift."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tests.conftest import FIXTURES, REPO, envsnap, require_tool

WORKFLOW = REPO / "docs" / "recipes" / "github-actions.yml"
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def check_workflow(path: Path) -> subprocess.CompletedProcess[str]:
    schema = "vendor.github-workflows"  # shipped inside check-jsonschema: no network
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def steps() -> dict[str, dict[str, Any]]:
    """The steps of the workflow's one job, by name."""
    workflow = YAML(typ="safe").load(WORKFLOW.read_text())
    (job,) = workflow["jobs"].values()
    return {step["name"]: step for step in job["steps"] if "name" in step}


def expand(value: str, context: dict[str, str]) -> str:
    """The `${{ … }}` expressions the envsnap steps use, replaced as the runner would."""
    return EXPRESSION.sub(lambda match: context[match.group(1)], value)


def run_envsnap_steps(
    module: Path, tmp_path: Path, verify_options: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    """The workflow's `envsnap verify` step (with *verify_options* added, as a user would), then
    its annotation step, in *module*."""
    require_tool("bash")
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    output = tmp_path / "github-output"
    output.write_text("")
    base = {**os.environ, **env, "ENVSNAP_MODULE": ".", "RUNNER_TEMP": str(runner_temp)}
    base["PYTHONPATH"] = str(REPO)  # the envsnap of this checkout, as `envsnap` on PATH
    verify, annotate = steps()["envsnap verify"], steps()["envsnap findings as annotations"]
    shim = tmp_path / "bin"
    shim.mkdir(exist_ok=True)
    (shim / "envsnap").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m envsnap "$@"\n')
    (shim / "envsnap").chmod(0o755)
    base["PATH"] = f"{shim}{os.pathsep}{base['PATH']}"
    command = verify["run"].replace(
        "envsnap verify --json", f"envsnap verify --json {verify_options}"
    )
    subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", command],
        cwd=module,
        env={**base, "GITHUB_OUTPUT": str(output)},
        check=True,
        timeout=120,
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    context = {
        "runner.temp": str(runner_temp),
        "steps.verify.outputs.exit_code": outputs["exit_code"],
    }
    step_env = {name: expand(str(value), context) for name, value in annotate["env"].items()}
    assert annotate["shell"] == "python3 {0}"
    script = tmp_path / "annotate.py"
    script.write_text(annotate["run"])
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=module,
        env={**base, **step_env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_the_workflow_is_a_valid_github_workflow() -> None:
    result = check_workflow(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on:", "runs_on:", 1))
    assert check_workflow(broken).returncode != 0


def test_the_workflow_runs_verify_on_macos_and_linux_before_go_test() -> None:
    workflow = YAML(typ="safe").load(WORKFLOW.read_text())
    (job,) = workflow["jobs"].values()
    platforms = {(entry["os"], entry["platform"]) for entry in job["strategy"]["matrix"]["include"]}
    assert platforms == {("macos-15", "darwin-arm64"), ("ubuntu-24.04", "linux-amd64")}
    names = [step.get("name", step.get("uses")) for step in job["steps"]]
    assert names.index("envsnap verify") < names.index("go test")
    assert "envsnap verify --json" in steps()["envsnap verify"]["run"]


def test_drift_becomes_error_annotations_and_stops_the_job(
    cgo_module: Path, tmp_path: Path
) -> None:
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    result = run_envsnap_steps(cgo_module, tmp_path, CGO_CFLAGS="-DX")
    assert result.returncode == 1, result.stderr
    (error,) = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert error.startswith(
        "::error file=envsnap.lock,title=envsnap%3A CGO_CFLAGS (go env)"
        "::added -DX; removed -O2 -g%0Awhy: CGO_CFLAGS "
    )
    assert "%0Afix: " in error and error.endswith("%0Aid: go.env.CGO_CFLAGS")
    assert "linux-amd64: errors 1, warnings 0, info 0" in result.stdout


def test_a_warning_becomes_a_warning_annotation_and_the_job_goes_on(
    cgo_module: Path, tmp_path: Path
) -> None:
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    result = run_envsnap_steps(cgo_module, tmp_path, C_INCLUDE_PATH=str(tmp_path))
    assert result.returncode == 0, result.stderr
    (warning,) = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert warning.startswith(
        "::warning file=envsnap.lock,title=envsnap%3A C_INCLUDE_PATH (environment)::absent → "
    )


def test_a_clean_machine_prints_no_annotation(cgo_module: Path, tmp_path: Path) -> None:
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    result = run_envsnap_steps(cgo_module, tmp_path)
    assert result.returncode == 0, result.stderr
    assert not [line for line in result.stdout.splitlines() if line.startswith("::")]


def test_a_missing_lock_is_one_error_annotation_with_envsnaps_message(
    cgo_module: Path, tmp_path: Path
) -> None:
    result = run_envsnap_steps(cgo_module, tmp_path)
    assert result.returncode == 2
    assert result.stdout.startswith("::error title=envsnap verify::")
    assert "there is no envsnap.lock beside go.mod" in result.stdout


def test_an_allowed_missing_platform_is_a_notice_and_the_job_goes_on(
    cgo_module: Path, tmp_path: Path
) -> None:
    darwin_only = FIXTURES / "locks" / "schema-1" / "darwin-arm64-openssl" / "envsnap.lock"
    shutil.copy(darwin_only, cgo_module / "envsnap.lock")
    result = run_envsnap_steps(cgo_module, tmp_path, "--allow-missing-platform")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("::notice title=envsnap verify::")
    assert "no entry for linux-amd64" in result.stdout


def test_the_go_step_reads_the_locked_release_and_survives_a_missing_lock(
    cgo_module: Path, tmp_path: Path
) -> None:
    script = steps()["Go version locked for ${{ matrix.platform }}"]["run"]
    output = tmp_path / "github-output"

    def go_release() -> str:
        output.write_text("")
        env = {**os.environ, "ENVSNAP_MODULE": ".", "PLATFORM": "linux-amd64"}
        env["GITHUB_OUTPUT"] = str(output)
        subprocess.run(["bash", "-e", "-c", script], cwd=cgo_module, env=env, check=True)
        return output.read_text()

    assert go_release() == "go=\n"
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    version = subprocess.run(
        ["go", "env", "GOVERSION"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert go_release() == f"go={version.removeprefix('go')}\n"
