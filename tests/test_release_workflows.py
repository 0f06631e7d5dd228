"""The project's GitHub files: the CI and release workflows and the action are valid against
GitHub's schemas (the ones check-jsonschema ships), every shell step passes shellcheck, and each
workflow does what docs/releasing.md and the README say it does."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from envsnap import DISTRIBUTION, __version__
from tests.conftest import REPO, require_tool

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
ACTION = REPO / "action.yml"
RECIPES = sorted((REPO / "docs" / "recipes").glob("*.yml"))
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = YAML(typ="safe").load(path.read_text())
    return document


def check_schema(path: Path, schema: str) -> subprocess.CompletedProcess[str]:
    """check-jsonschema against one of its built-in schemas (no network)."""
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def shell_steps(path: Path) -> list[tuple[str, str]]:
    """(where, script) of every step of a workflow or a composite action that runs in bash."""
    document = load(path)
    jobs = {"action": document["runs"]} if "runs" in document else document["jobs"]
    found = []
    for job_name, job in jobs.items():
        shell = job.get("defaults", {}).get("run", {}).get("shell", "bash")
        for number, step in enumerate(job["steps"], 1):
            if "run" in step and step.get("shell", shell) == "bash":
                where = f"{path.relative_to(REPO)} {job_name} step {number} ({step.get('name')})"
                found.append((where, step["run"]))
    return found


def shellcheck(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("shellcheck"), "--shell=bash", "-"],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def step_named(job: dict[str, Any], name: str) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [step for step in job["steps"] if step.get("name") == name]
    (step,) = steps
    return step


# Schemas and shellcheck --------------------------------------------------------------------


def test_the_project_has_its_workflows() -> None:
    assert [path.name for path in WORKFLOWS] == ["ci.yml", "mutation.yml", "release.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_each_workflow_is_valid(path: Path) -> None:
    result = check_schema(path, "vendor.github-workflows")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_action_is_valid() -> None:
    result = check_schema(ACTION, "vendor.github-actions")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_checks_can_fail(tmp_path: Path) -> None:
    workflow, action = tmp_path / "workflow.yml", tmp_path / "action.yml"
    workflow.write_text(
        (REPO / ".github/workflows/release.yml").read_text().replace("needs:", "need:")
    )
    action.write_text(ACTION.read_text().replace("using: composite", "using: compost"))
    assert check_schema(workflow, "vendor.github-workflows").returncode != 0
    assert check_schema(action, "vendor.github-actions").returncode != 0


OURS = [step for path in [*WORKFLOWS, ACTION] for step in shell_steps(path)]
STEPS = OURS + [step for path in RECIPES for step in shell_steps(path)]


@pytest.mark.parametrize("where, script", STEPS, ids=[where for where, _ in STEPS])
def test_every_shell_step_passes_shellcheck(where: str, script: str) -> None:
    """The recipes' steps too; an expression (GitHub replaces it before bash runs) is checked as
    the word it becomes."""
    result = shellcheck(EXPRESSION.sub("EXPRESSION", script))
    assert result.returncode == 0, f"{where}:\n{result.stdout}"


@pytest.mark.parametrize("where, script", OURS, ids=[where for where, _ in OURS])
def test_no_step_of_ours_pastes_an_expression_into_a_script(where: str, script: str) -> None:
    """Values reach the project's scripts through env: nothing is pasted into shell code."""
    assert not EXPRESSION.search(script), where


def test_shellcheck_can_fail() -> None:
    assert shellcheck("for f in $(ls *.txt); do rm $f; done\n").returncode != 0


# What each workflow does -------------------------------------------------------------------


def release() -> dict[str, Any]:
    return load(REPO / ".github" / "workflows" / "release.yml")


def test_a_v_tag_builds_then_publishes_with_trusted_publishing() -> None:
    workflow = release()
    assert workflow["on"] == {"push": {"tags": ["v*"]}}
    assert workflow["permissions"] == {"contents": "read"}
    build, publish = workflow["jobs"]["build"], workflow["jobs"]["publish"]
    assert publish["needs"] == "build"
    assert publish["environment"]["name"] == "pypi"
    assert publish["environment"]["url"] == f"https://pypi.org/project/{DISTRIBUTION}/"
    assert publish["permissions"] == {"id-token": "write"}
    uses = [step.get("uses", "") for step in publish["steps"]]
    assert uses == ["actions/download-artifact@v4", "pypa/gh-action-pypi-publish@release/v1"]
    (upload,) = [
        step for step in build["steps"] if step.get("uses", "").startswith("actions/upload")
    ]
    assert upload["with"]["name"] == publish["steps"][0]["with"]["name"] == "dist"
    commands = step_named(build, "Build and check")["run"]
    assert "python3 -m build\n" in commands
    assert "twine check --strict dist/*" in commands


def test_only_the_publish_job_may_mint_a_token() -> None:
    for name, job in release()["jobs"].items():
        if name != "publish":
            assert "id-token" not in job.get("permissions", {}), name


def run_tag_check(tag: str) -> subprocess.CompletedProcess[str]:
    """The build job's first check, run as written in a checkout whose tag is *tag*."""
    script = step_named(release()["jobs"]["build"], "The tag names the version envsnap reports")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"GITHUB_REF_NAME": tag}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script["run"]],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_tag_must_be_v_and_the_version() -> None:
    assert run_tag_check(f"v{__version__}").returncode == 0
    wrong = run_tag_check("v99.0.0")
    assert wrong.returncode == 1
    assert wrong.stdout.startswith("::error title=release::the tag is v99.0.0 and ")
    assert f"tag v{__version__}, or set __version__" in wrong.stdout


def test_the_formula_job_writes_the_formula_of_the_published_sdist() -> None:
    formula = release()["jobs"]["formula"]
    assert formula["needs"] == "publish"
    run = step_named(formula, "scripts/gen-formula --sdist")["run"]
    assert 'scripts/gen-formula --sdist "${sdists[0]}"' in run


def ci() -> dict[str, Any]:
    return load(REPO / ".github" / "workflows" / "ci.yml")


def test_ci_runs_the_readme_test_command_with_every_tool_required() -> None:
    job = ci()["jobs"]["linux"]
    assert job["runs-on"] == "ubuntu-latest"
    runs = [step.get("run", "") for step in job["steps"]]
    assert "sudo -E .ci/run" in runs
    ci_run = (REPO / ".ci" / "run").read_text()
    assert "export ENVSNAP_REQUIRE_TOOLS=1\n" in ci_run and "exec scripts/test.sh\n" in ci_run
    assert "$ scripts/test.sh\n" in (REPO / "README.md").read_text()


def macos_test_files() -> list[str]:
    (job,) = [job for job in ci()["jobs"].values() if job["runs-on"].startswith("macos")]
    runs: list[str] = [s["run"] for s in job["steps"] if "scripts/test.sh" in s.get("run", "")]
    (run,) = runs
    words = run.split()
    assert words[0] == "scripts/test.sh" and "ENVSNAP_REQUIRE_TOOLS" not in str(job)
    return words[1:]


def test_ci_runs_the_macos_replays_on_a_mac() -> None:
    listed = macos_test_files()
    assert all((REPO / name).is_file() for name in listed), listed
    replays = {
        path.relative_to(REPO).as_posix()
        for pattern in ("test_*macos*.py", "test_*macho*.py")
        for path in (REPO / "tests").glob(pattern)
    }
    assert replays <= set(listed), replays - set(listed)


# envsnap on real Macs --------------------------------------------------------------------

MACOS_CHECK = REPO / ".github" / "scripts" / "macos-check.sh"


def macos_real() -> dict[str, Any]:
    job: dict[str, Any] = ci()["jobs"]["macos-real"]
    return job


def test_ci_runs_envsnap_on_real_macs_arm64_and_intel() -> None:
    job = macos_real()
    assert job["runs-on"] == "${{ matrix.runner }}"
    assert job["strategy"]["matrix"]["runner"] == ["macos-14", "macos-13"]
    assert job["strategy"]["fail-fast"] is False
    uses = [step.get("uses", "") for step in job["steps"]]
    assert uses[:4] == ["actions/checkout@v4", "actions/setup-python@v5", "actions/setup-go@v5", ""]
    install = step_named(job, "Install envsnap, and pkg-config when the image lacks it")["run"]
    assert install.startswith("python -m pip install .\n")
    check = step_named(job, ".github/scripts/macos-check.sh")
    assert check["run"] == '.github/scripts/macos-check.sh "$WORK" "$OUT"'
    (upload,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert upload["if"] == "always()" and upload["with"]["path"] == check["env"]["OUT"]
    assert upload["with"]["if-no-files-found"] == "error"


def test_the_macos_check_script_passes_shellcheck() -> None:
    result = shellcheck(MACOS_CHECK.read_text())
    assert result.returncode == 0, result.stdout


def test_the_macos_check_switches_xcode_and_restores_it() -> None:
    script = MACOS_CHECK.read_text()
    assert "trap 'sudo xcode-select -s \"$current\"' EXIT" in script
    assert 'sudo xcode-select -s "$other"' in script
    assert "step verify-other-xcode 1 verify --json" in script  # verify must exit 1


def run_check_step(work: Path, out: Path, bin_dir: Path) -> subprocess.CompletedProcess[str]:
    """The job's check step, run as written in the checkout (envsnap is this checkout's)."""
    check = step_named(macos_real(), ".github/scripts/macos-check.sh")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env |= {"PATH": f"{bin_dir}:{env['PATH']}", "WORK": str(work), "OUT": str(out)}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", check["run"]],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_macos_check_runs_as_written_off_macos(tmp_path: Path) -> None:
    """Off macOS the check runs every step that is not macOS-specific: doctor, lock, verify
    --strict and record on a copy of examples/zlib; the checkout is left as it was."""
    for tool in ("go", "gcc", "pkg-config"):
        require_tool(tool)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    envsnap = bin_dir / "envsnap"  # the installed command, run from this checkout
    envsnap.write_text(f'#!/bin/sh\nPYTHONPATH={REPO} exec {sys.executable} -m envsnap "$@"\n')
    envsnap.chmod(0o755)
    example = REPO / "examples" / "zlib"
    before = {p: p.read_bytes() for p in example.rglob("*") if p.is_file()}
    work, out = tmp_path / "work", tmp_path / "out"
    result = run_check_step(work, out, bin_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not macOS: the Xcode switch is skipped" in result.stdout
    assert (out / "verify.out").read_text().endswith("matches envsnap.lock\n")
    assert (out / "recording" / "host.json").is_file()
    replayed = subprocess.run(
        [envsnap, "--replay", out / "recording", "verify", "-C", work / "zlib"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert {p: p.read_bytes() for p in example.rglob("*") if p.is_file()} == before


def test_the_macos_check_fails_when_a_step_fails(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "envsnap").write_text("#!/bin/sh\necho broken >&2\nexit 3\n")
    (bin_dir / "envsnap").chmod(0o755)
    result = run_check_step(tmp_path / "work", tmp_path / "out", bin_dir)
    assert result.returncode == 1
    assert "::error title=envsnap doctor::exit 3, expected 0" in result.stdout


def mutation() -> dict[str, Any]:
    return load(REPO / ".github" / "workflows" / "mutation.yml")


def test_mutation_testing_runs_weekly_and_by_hand_never_on_a_push() -> None:
    triggers = mutation()["on"]
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    ((cron,),) = [[entry["cron"] for entry in triggers["schedule"]]]
    minute, hour, day, month, weekday = cron.split()
    assert (day, month) == ("*", "*") and minute.isdigit() and hour.isdigit()
    assert weekday.isdigit() and 0 <= int(weekday) <= 6


def mutate_step(job: dict[str, Any]) -> dict[str, Any]:
    return step_named(job, "scripts/mutate")


def test_mutation_testing_covers_every_module_of_the_mapping() -> None:
    """The matrix is scripts/mutate.toml's modules, each run with its report kept."""
    job = mutation()["jobs"]["mutate"]
    mapping = tomllib.loads((REPO / "scripts" / "mutate.toml").read_text())
    assert job["strategy"]["matrix"]["module"] == list(mapping["modules"])
    assert job["strategy"]["fail-fast"] is False and job["runs-on"] == "ubuntu-latest"
    step = mutate_step(job)
    assert step["env"]["MODULE"] == "${{ matrix.module }}"
    words = shlex.split(step["run"])
    assert words[words.index("scripts/mutate") :][:2] == ["scripts/mutate", "$MODULE"]
    out = words[words.index("--out") + 1]
    (upload,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert upload["if"] == "always()" and upload["with"]["path"].rstrip("/") == out


def test_mutation_testing_is_set_up_as_ci_is() -> None:
    """The same checkout handed to root as ci.yml's, then scripts/test.sh (which installs what
    the tests need) with every tool required."""
    job, linux = mutation()["jobs"]["mutate"], ci()["jobs"]["linux"]
    assert job["steps"][:2] == linux["steps"][:2]
    setup = job["steps"][2]["run"]
    assert "ENVSNAP_REQUIRE_TOOLS=1 scripts/test.sh --collect-only" in setup
    assert "ENVSNAP_REQUIRE_TOOLS=1" in mutate_step(job)["run"]


def exported_test_variables(script: str) -> dict[str, str]:
    """The ENVSNAP_TEST_* variables a shell script exports, its own variables expanded."""
    assigned = dict(re.findall(r"^([A-Z_]+)=(\S+)$", script, re.MULTILINE))
    exported = re.findall(r'(ENVSNAP_TEST_[A-Z_]+)="([^"]*)"', script)
    return {
        name: re.sub(r"\$([A-Z_]+)", lambda m: assigned.get(m[1], m[0]), value)
        for name, value in exported
    }


def test_mutation_testing_gives_the_tests_what_scripts_test_sh_gives_them() -> None:
    step = mutate_step(mutation()["jobs"]["mutate"])["run"]
    exported = exported_test_variables((REPO / "scripts" / "test.sh").read_text())
    assert exported and exported_test_variables(step) == exported
