"""envsnap's GitHub Action (action.yml), run as written: each `run:` step of the composite action
goes to bash as GitHub's runner gives it (`bash --noprofile --norc -eo pipefail`), with its
`${{ … }}` expressions replaced, the step's env, working directory, output file and the job
summary file, against a real locked copy of examples/zlib. The install step really installs
envsnap from a copy of this checkout into a virtualenv, once for the whole file."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from envsnap import __version__
from tests.conftest import REPO, envsnap, require_tool, unavailable

ACTION = REPO / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
COPY_SKIP = shutil.ignore_patterns(
    ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"
)
WITHZ = """//go:build withz

package main

// #cgo LDFLAGS: -lm
// #include <math.h>
import "C"

func hypot(x, y float64) float64 { return float64(C.hypot(C.double(x), C.double(y))) }
"""


def action() -> dict[str, Any]:
    document: dict[str, Any] = YAML(typ="safe").load(ACTION.read_text())
    return document


def steps() -> list[dict[str, Any]]:
    return list(action()["runs"]["steps"])


@dataclass
class Run:
    """What one use of the action left: its exit code, output, outputs and job summary."""

    exit_code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str

    def annotations(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.startswith("::")]


@dataclass
class Runner:
    """A GitHub runner's share of a composite action: the checkout of the action, the job's
    temporary folder and the workspace, and the outputs of the steps so far."""

    action_path: Path
    temp: Path
    workspace: Path
    inputs: dict[str, str] = field(default_factory=dict)
    step_outputs: dict[str, str] = field(default_factory=dict)

    def context(self) -> dict[str, str]:
        defaults = {name: str(spec.get("default", "")) for name, spec in action()["inputs"].items()}
        inputs = {f"inputs.{name}": value for name, value in {**defaults, **self.inputs}.items()}
        return {
            **inputs,
            **self.step_outputs,
            "github.action_path": str(self.action_path),
            "runner.temp": str(self.temp),
        }

    def expand(self, text: object) -> str:
        """*text* with its expressions evaluated; the output of a step that did not run (or did
        not set it) is empty, as on GitHub."""
        context = self.context()

        def value(match: re.Match[str]) -> str:
            if match[1].startswith("steps."):
                return context.get(match[1], "")
            return context[match[1]]

        return EXPRESSION.sub(value, str(text))

    def run_step(self, step: dict[str, Any], env: Mapping[str, str], summary: Path) -> Run:
        assert step["shell"] == "bash"
        script = self.temp / f"step-{step.get('id', 'report')}.sh"
        script.write_text(self.expand(step["run"]))
        output = self.temp / "github-output"
        output.write_text("")
        step_env = {name: self.expand(value) for name, value in step.get("env", {}).items()}
        cwd = self.workspace / self.expand(step.get("working-directory", "."))
        runner_env = {
            "GITHUB_ACTION_PATH": str(self.action_path),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_WORKSPACE": str(self.workspace),
            "RUNNER_TEMP": str(self.temp),
        }
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=cwd,
            env={**env, **step_env, **runner_env},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        for line in output.read_text().splitlines():
            name, _, value = line.partition("=")
            self.step_outputs[f"steps.{step.get('id')}.outputs.{name}"] = value
        text = summary.read_text() if summary.exists() else ""
        return Run(result.returncode, result.stdout, result.stderr, {}, text)

    def run_steps(self, chosen: list[dict[str, Any]], env: Mapping[str, str]) -> Run:
        """The steps in order, as GitHub does: the first that fails ends the action."""
        summary = self.temp / "step-summary.md"
        stdout, stderr, last = "", "", Run(0, "", "", {}, "")
        for step in chosen:
            last = self.run_step(step, env, summary)
            stdout, stderr = stdout + last.stdout, stderr + last.stderr
            if last.exit_code != 0:
                break
        outputs = {name: self.expand(spec["value"]) for name, spec in action()["outputs"].items()}
        return Run(last.exit_code, stdout, stderr, outputs, last.summary)


def action_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The job's environment: this process's, without the PYTHONPATH that would let the
    installed envsnap import this checkout instead of itself."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return {**env, **(extra or {})}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The action's install step, run once: a copy of this checkout as the action's checkout
    (the step builds it in place), envsnap installed into RUNNER_TEMP."""
    require_tool("bash")
    root = tmp_path_factory.mktemp("action")
    action_path = root / "action-checkout"
    shutil.copytree(REPO, action_path, ignore=COPY_SKIP, symlinks=True)
    runner = Runner(action_path, root / "runner-temp", root / "workspace")
    runner.temp.mkdir()
    runner.workspace.mkdir()
    env = action_env({"HOME": str(root / "home"), "XDG_CACHE_HOME": str(root / "cache")})
    result = runner.run_steps([steps()[0]], env)
    if result.exit_code != 0 and "pip" in result.stderr:
        unavailable(f"the install step could not install from PyPI: {result.stderr[-500:]}")
    assert result.exit_code == 0, result.stdout + result.stderr
    version = result.stdout.strip()  # the installed envsnap's, not this checkout's
    assert version.startswith(f"envsnap {__version__} ("), version
    assert version.endswith(f"{runner.temp}/envsnap-action/bin/python)"), version
    return runner.step_outputs


@pytest.fixture
def zlib_module(tmp_path: Path) -> Path:
    """A locked copy of examples/zlib, at the top of the workspace."""
    for tool in ("go", "gcc", "pkg-config"):
        require_tool(tool)
    workspace = tmp_path / "workspace"
    shutil.copytree(REPO / "examples" / "zlib", workspace)
    (workspace / "envsnap.lock").unlink()
    return workspace


def lock(module: Path) -> None:
    result = envsnap("lock", "-C", str(module))
    assert result.returncode == 0, result.stderr


def use_action(
    installed: dict[str, str],
    workspace: Path,
    inputs: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Run:
    """The verify and report steps of the action, in *workspace*, after the install step."""
    temp = workspace.parent / "runner-temp"
    temp.mkdir(exist_ok=True)
    runner = Runner(ACTION.parent, temp, workspace, dict(inputs or {}), dict(installed))
    return runner.run_steps(steps()[1:], action_env(env))


def test_a_clean_module_passes_with_no_annotation(
    installed: dict[str, str], zlib_module: Path
) -> None:
    lock(zlib_module)
    run = use_action(installed, zlib_module)
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.annotations() == []
    assert run.outputs == {"exit-code": "0"}
    assert "This machine matches envsnap.lock." in run.summary
    assert "|---|" not in run.summary


def test_drift_is_an_error_annotation_a_summary_row_and_exit_1(
    installed: dict[str, str], zlib_module: Path
) -> None:
    lock(zlib_module)
    run = use_action(installed, zlib_module, env={"CGO_CFLAGS": "-DX=1"})
    assert run.exit_code == 1, run.stdout + run.stderr
    assert run.outputs == {"exit-code": "1"}
    (error,) = run.annotations()
    assert error.startswith("::error file=envsnap.lock,title=envsnap%3A CGO_CFLAGS (go env)::")
    assert "added -DX=1; removed -O2 -g" in error
    rows = [line for line in run.summary.splitlines() if line.startswith("| error |")]
    assert len(rows) == 1, run.summary
    assert rows[0].startswith("| error | CGO\\_CFLAGS (go env) | added -DX=1; removed -O2 -g | ")
    assert rows[0].endswith(" | <code>go.env.CGO\\_CFLAGS</code> |")
    assert "envsnap.lock: 1 error, 0 warnings, 0 info." in run.summary


def test_strict_makes_a_warning_fail(installed: dict[str, str], zlib_module: Path) -> None:
    lock(zlib_module)
    env = {"C_INCLUDE_PATH": str(zlib_module)}
    relaxed = use_action(installed, zlib_module, env=env)
    assert relaxed.exit_code == 0, relaxed.stdout + relaxed.stderr
    (warning,) = relaxed.annotations()
    assert warning.startswith("::warning file=envsnap.lock,title=envsnap%3A C_INCLUDE_PATH")
    strict = use_action(installed, zlib_module, {"strict": "true"}, env)
    assert strict.exit_code == 1
    assert strict.outputs == {"exit-code": "1"}
    assert "| warning | C\\_INCLUDE\\_PATH (environment) |" in strict.summary


def test_an_input_strict_that_is_not_a_boolean_is_one_error(
    installed: dict[str, str], zlib_module: Path
) -> None:
    lock(zlib_module)
    run = use_action(installed, zlib_module, {"strict": "yes"})
    assert run.exit_code == 2
    assert run.annotations() == ["::error title=envsnap::the input strict is true or false"]


def test_variant_checks_that_variant_alone(installed: dict[str, str], zlib_module: Path) -> None:
    (zlib_module / "envsnap.toml").write_text('[variants.withz]\ntags = ["withz"]\n')
    lock(zlib_module)
    (zlib_module / "withz.go").write_text(WITHZ)  # the withz build now links libm too
    every = use_action(installed, zlib_module)
    assert every.exit_code == 1, every.stdout + every.stderr
    assert every.annotations() and all("[withz]" in a for a in every.annotations())
    assert use_action(installed, zlib_module, {"variant": "default"}).exit_code == 0
    withz = use_action(installed, zlib_module, {"variant": "withz"})
    assert withz.exit_code == 1
    assert "| error | \\[withz\\] " in withz.summary


def test_a_module_in_a_subfolder_gets_its_lock_annotated(
    installed: dict[str, str], zlib_module: Path, tmp_path: Path
) -> None:
    workspace = tmp_path / "repository"
    workspace.mkdir()
    zlib_module.rename(workspace / "go")
    lock(workspace / "go")
    run = use_action(installed, workspace, {"working-directory": "go"}, {"CGO_CFLAGS": "-DX"})
    assert run.exit_code == 1
    (error,) = run.annotations()
    assert error.startswith("::error file=go/envsnap.lock,title=")


def test_a_missing_lock_is_exit_2_with_envsnaps_message(
    installed: dict[str, str], zlib_module: Path
) -> None:
    run = use_action(installed, zlib_module)
    assert run.exit_code == 2
    assert run.outputs == {"exit-code": "2"}
    (error,) = run.annotations()
    assert error.startswith("::error title=envsnap verify::")
    assert "there is no envsnap.lock beside go.mod" in error
    assert "there is no envsnap.lock beside go.mod" in run.summary


def test_an_old_python_is_refused_with_a_hint(tmp_path: Path) -> None:
    """The install step on a runner whose python3 is older than envsnap needs."""
    require_tool("bash")
    old = tmp_path / "bin"
    old.mkdir()
    (old / "python3").write_text(
        '#!/bin/sh\n[ "$1" = -V ] && echo "Python 3.10.12" && exit 0\nexit 1\n'
    )
    (old / "python3").chmod(0o755)
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    runner = Runner(ACTION.parent, temp, tmp_path)
    env = action_env({"PATH": f"{old}{os.pathsep}{os.environ['PATH']}"})
    run = runner.run_steps(steps(), env)
    assert run.exit_code == 2
    assert run.annotations() == [
        "::error title=envsnap::envsnap needs Python 3.11 or newer; python3 is Python 3.10.12:"
        " add actions/setup-python before this action"
    ]
    assert not (temp / "envsnap-action").exists()
