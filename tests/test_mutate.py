"""scripts/mutate, the mutation testing of the core modules (docs/testing.md), without running
mutmut: its command line, its mapping of modules to tests, the copy it works in, and how a Python
a test starts reports what it reaches. The mutation runs themselves are weekly
(.github/workflows/mutation.yml), never part of this suite."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO, unavailable

SCRIPT = REPO / "scripts" / "mutate"
SITE = REPO / "scripts" / "mutate_site"
CORE = {
    "gover",
    "stamps",
    "verdict",
    "probecache",
    "atomic",
    "lockfile",
    "redact",
    "normalize",
    "hooks",
    "drift",
    "binfacts",
}


def load_script() -> ModuleType:
    """scripts/mutate as a module (it has no .py suffix)."""
    loader = importlib.machinery.SourceFileLoader("scripts_mutate", str(SCRIPT))
    spec = importlib.util.spec_from_loader("scripts_mutate", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["scripts_mutate"] = module  # dataclasses look their module up there
    loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def mutate() -> ModuleType:
    return load_script()


def require_mutmut() -> None:
    """mutmut is a dev dependency (scripts/test.sh installs it)."""
    if importlib.util.find_spec("mutmut") is None:
        unavailable("mutmut is not installed: pip install -e '.[dev]'")


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_names_every_module() -> None:
    result = run_script("--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: scripts/mutate ")
    assert all(name in result.stdout for name in CORE)


def test_an_unknown_module_is_a_one_line_usage_error() -> None:
    result = run_script("gvoer")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("scripts/mutate: no module 'gvoer'; one of: gover, ")
    assert result.stderr.count("\n") == 1


def test_resume_takes_only_a_kept_run_of_the_same_module(tmp_path: Path) -> None:
    nothing = run_script("gover", "--resume", str(tmp_path))
    assert (nothing.returncode, nothing.stdout) == (2, "")
    assert (
        nothing.stderr
        == f"scripts/mutate: {tmp_path} holds no run that scripts/mutate --keep kept\n"
    )
    (tmp_path / "tree" / "mutants").mkdir(parents=True)
    (tmp_path / "tree" / "pyproject.toml").write_text(
        '[tool.mutmut]\nonly_mutate = ["envsnap/stamps.py"]\n'
    )
    other = run_script("gover", "--resume", str(tmp_path))
    assert other.returncode == 2
    assert other.stderr.endswith("holds a run of envsnap/stamps.py, not of gover\n")
    (tmp_path / "tree" / "pyproject.toml").write_text(
        '[tool.mutmut]\nonly_mutate = ["envsnap/gover.py"]\n'
    )
    (tmp_path / "tree" / "envsnap").mkdir()
    (tmp_path / "tree" / "envsnap" / "gover.py").write_text("# another gover\n")
    changed = run_script("gover", "--resume", str(tmp_path))
    assert changed.returncode == 2
    assert changed.stderr.endswith("envsnap/gover.py changed since that run: start a new one\n")


def test_the_mapping_names_the_core_modules_and_files_that_exist(mutate: ModuleType) -> None:
    modules = mutate.load_modules()
    assert set(modules) == CORE
    for module in modules.values():
        assert all(sorted(REPO.glob(pattern)) for pattern in module.mutate), module
        assert all((REPO / test).is_file() for test in module.tests), module
    for node in modules["gover"].deselect:
        file, _, name = node.partition("::")
        assert f"def {name}(" in (REPO / file).read_text()


def test_the_listing_is_the_mapping() -> None:
    result = run_script("--list")
    assert result.returncode == 0, result.stderr
    assert {line.split(":")[0] for line in result.stdout.splitlines()} == CORE


BAD_MAPPINGS = [
    ('[modules.m]\nmutate = ["envsnap/gover.py"]\ntests = ["tests/test_nothing.py"]\n', "is not"),
    ('[modules.m]\nmutate = ["envsnap/nothing.py"]\ntests = ["tests/test_gover.py"]\n', "no file"),
    ('[modules.m]\nmutate = ["envsnap/gover.py"]\n', "has mutate, tests"),
    ('[modules.m]\nmutate = "envsnap/gover.py"\ntests = ["tests/test_gover.py"]\n', "list"),
    (
        '[modules.m]\nmutate = ["envsnap/gover.py"]\ntests = ["tests/test_gover.py"]\n'
        '[[modules.m.equivalent]]\nmutant = "x"\nline = "y"\n',
        "exactly",
    ),
    ('deselect = ["tests/test_gover.py::test_none"]\n[modules.m]\n', "no test"),
    ("[modules\n", "cannot read"),
    ("", r"no \[modules.NAME\]"),
]


@pytest.mark.parametrize(("text", "said"), BAD_MAPPINGS)
def test_a_bad_mapping_is_refused(mutate: ModuleType, tmp_path: Path, text: str, said: str) -> None:
    mapping = tmp_path / "mutate.toml"
    mapping.write_text(text)
    with pytest.raises(mutate.UsageError, match=said):
        mutate.load_modules(mapping)


DIFF = """--- envsnap/gover.py
+++ envsnap/gover.py
@@ -4,4 +4,4 @@
         return 0
-    return -1 if x < y else 1
+    return -1 if x <= y else 1
"""


def test_an_equivalent_is_excused_while_its_line_matches(mutate: ModuleType) -> None:
    record = mutate.Equivalent(
        "envsnap.gover.x_cmp_int__mutmut_14", "return -1 if x <= y else 1", ""
    )
    module = mutate.Module("gover", ("envsnap/gover.py",), ("tests/test_gover.py",), (record,))
    assert module.excuse("envsnap.gover.x_cmp_int__mutmut_14", DIFF) == record
    assert module.excuse("envsnap.gover.x_cmp_int__mutmut_15", DIFF) is None
    renumbered = DIFF.replace("x <= y", "x >= y")
    assert module.excuse("envsnap.gover.x_cmp_int__mutmut_14", renumbered) is None


def test_the_copy_has_the_tree_without_version_control_or_caches(
    mutate: ModuleType, tmp_path: Path
) -> None:
    tree = mutate.copy_tree(tmp_path)
    assert (tree / "envsnap" / "gover.py").read_bytes() == (REPO / "envsnap/gover.py").read_bytes()
    assert not any((tree / name).exists() for name in (".git", ".venv", "mutants"))
    assert not list(tree.rglob("__pycache__"))
    assert (tree / "envsnap" / "_data" / "nix").resolve().is_relative_to(tree.resolve())
    copied = mutate.also_copy(tree)
    assert {"tests", "docs", "templates", "envsnap/_data/nix"} <= set(copied)
    assert "envsnap" not in copied


def test_a_python_a_test_starts_reports_what_it_reaches(mutate: ModuleType, tmp_path: Path) -> None:
    """While mutmut maps tests to functions (MUTANT_UNDER_TEST=stats), the copy's envsnap
    writes down what a child process reaches instead of calling mutmut's recorder, which would
    look for mutmut's settings in the child's folder."""
    require_mutmut()
    tree = mutate.copy_tree(tmp_path)
    mutate.hook_children(tree)
    reached = (
        "import envsnap\n"
        "from mutmut.mutation import trampoline\n"
        "trampoline.record_trampoline_hit('envsnap.gover.x_parse')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tree), "MUTANT_UNDER_TEST": "stats"}
    child = subprocess.run(
        [sys.executable, "-c", reached], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert child.returncode == 0, child.stderr
    (written,) = (tree / "scripts" / "mutate_site" / "reach").glob("*.reach")
    assert written.read_text() == "envsnap.gover.x_parse"
    assert (REPO / "envsnap" / "__init__.py").read_text() in (
        tree / "envsnap/__init__.py"
    ).read_text()
    assert "_scripts_mutate_child" not in (REPO / "envsnap" / "__init__.py").read_text()


SCRIPTS = [SCRIPT, *sorted(SITE.glob("*.py"))]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_the_script_is_linted_formatted_and_typed(script: Path, tmp_path: Path) -> None:
    """`ruff check .` and `mypy` skip scripts/mutate (no .py) and mypy skips scripts/."""
    require_mutmut()  # the files of scripts/mutate_site import it
    checks = [
        ["ruff", "check", str(script)],
        ["ruff", "format", "--check", str(script)],
        ["mypy", "--strict", "--cache-dir", str(tmp_path), str(script)],
    ]
    for check in checks:
        result = subprocess.run(
            [sys.executable, "-m", *check], capture_output=True, text=True, cwd=REPO, check=False
        )
        assert result.returncode == 0, f"{' '.join(check)}:\n{result.stdout}{result.stderr}"
