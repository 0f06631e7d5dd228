"""Release readiness: one version, a changelog, an sdist whose own wheel carries envsnap's data
files and passes `twine check --strict`, and a Homebrew formula (read by Ruby) that installs the
published sdist with exactly the wheel's runtime dependencies, pinned."""

from __future__ import annotations

import email.parser
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_sdist_filename

from envsnap import DISTRIBUTION, __version__
from envsnap.cli import COMMANDS
from tests.conftest import REPO, require_tool, unavailable

CHANGELOG = REPO / "CHANGELOG.md"
FORMULA = REPO / "Formula" / "envsnap.rb"
LOCK = REPO / "Formula" / "requirements.lock"
SCRIPTS = [REPO / "scripts" / "gen-formula", REPO / "scripts" / "action-report"]
COPY_SKIP = shutil.ignore_patterns(
    ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"
)
#: Keep a Changelog's kinds of change (https://keepachangelog.com/en/1.1.0/).
KINDS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
SHA256 = re.compile(r"[0-9a-f]{64}")

#: Homebrew's Formula DSL, stubbed: the formula is loaded by Ruby and what it declares is printed
#: as JSON; its `test do` block runs with `bin` = $FORMULA_BIN.
FORMULA_READER = r"""
require "json"

module Language
  module Python
    module Virtualenv
      def virtualenv_install_with_resources
        Formula::FACTS["install"] = "virtualenv_install_with_resources"
      end
    end
  end
end

class Formula
  FACTS = { "resources" => [], "depends_on" => [] }

  class Resource
    attr_reader :facts

    def initialize(name)
      @facts = { "name" => name }
    end

    def url(value) = @facts["url"] = value
    def sha256(value) = @facts["sha256"] = value
  end

  class << self
    %w[desc homepage url sha256 license].each do |field|
      define_method(field) { |value| FACTS[field] = value }
    end

    def depends_on(dependency) = FACTS["depends_on"] << dependency

    def resource(name, &block)
      resource = Resource.new(name)
      resource.instance_eval(&block)
      FACTS["resources"] << resource.facts
    end

    def test(&block) = @test = block

    def inherited(subclass)
      super
      FACTS["class"] = subclass.name
    end
  end

  def bin = ENV.fetch("FORMULA_BIN")
  def version = FACTS["url"][/-(\d+(?:\.\d+)*)\.tar\.gz\z/, 1]

  def shell_output(command, status = 0)
    output = `#{command}`
    raise "#{command}: exit #{$?.exitstatus}" unless $?.exitstatus == status
    output
  end

  def assert_match(expected, actual)
    pattern = expected.is_a?(Regexp) ? expected : Regexp.new(Regexp.escape(expected))
    raise "#{actual.inspect} does not match #{pattern.inspect}" unless pattern.match?(actual)
    Formula::FACTS["test"] = "passed"
  end
end

load ARGV.fetch(0)
formula = Object.const_get(Formula::FACTS.fetch("class"))
Formula::FACTS["virtualenv"] = formula.include?(Language::Python::Virtualenv)
formula.new.install
formula.new.instance_eval(&formula.instance_variable_get(:@test)) if ENV["FORMULA_BIN"]
puts JSON.generate(Formula::FACTS)
"""


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    via: tuple[str, ...]


def locked_pins() -> dict[str, Pin]:
    """Formula/requirements.lock: `name==version` lines, each followed by `# via a, b`."""
    pins: dict[str, Pin] = {}
    lines = [line for line in LOCK.read_text().splitlines() if not line.startswith("#")]
    for pin, via in zip(lines[::2], lines[1::2], strict=True):
        name, version = pin.split("==")
        parents = via.strip().removeprefix("# via ").split(", ")
        pins[name] = Pin(name, version, tuple(parents))
    return pins


def read_formula(bin_dir: Path | None = None) -> dict[str, Any]:
    ruby = require_tool("ruby")
    env = {"PATH": "/usr/bin:/bin"} | ({"FORMULA_BIN": str(bin_dir)} if bin_dir else {})
    result = subprocess.run(
        [ruby, "-", str(FORMULA)],
        input=FORMULA_READER,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    facts: dict[str, Any] = json.loads(result.stdout)
    return facts


# The version and the changelog -------------------------------------------------------------


def test_the_version_is_written_in_one_place() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]
    assert pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "envsnap.__version__"}
    assignments = [
        path.relative_to(REPO).as_posix()
        for path in (REPO / "envsnap").rglob("*.py")
        if re.search(r"^__version__\s*=", path.read_text(), re.MULTILINE)
    ]
    assert assignments == ["envsnap/__init__.py"]


def test_the_changelog_keeps_a_changelog() -> None:
    text = CHANGELOG.read_text()
    assert text.startswith("# Changelog\n")
    assert "https://keepachangelog.com/en/1.1.0/" in text and "https://semver.org/" in text
    releases = re.findall(r"^## (.*)$", text, re.MULTILINE)
    assert releases[0] == "[Unreleased]"
    for release in releases[1:]:
        assert re.fullmatch(r"\[\d+\.\d+\.\d+\] - \d{4}-\d{2}-\d{2}", release), release
    assert set(re.findall(r"^### (.*)$", text, re.MULTILINE)) <= KINDS


def test_the_unreleased_section_names_every_command() -> None:
    unreleased = CHANGELOG.read_text().split("## [Unreleased]", 1)[1].split("\n## ", 1)[0]
    missing = [name for name in COMMANDS if f"`envsnap {name}" not in unreleased]
    assert not missing, f"CHANGELOG.md's Unreleased section does not mention {missing}"


# The sdist and the wheel built from it -----------------------------------------------------


@dataclass(frozen=True)
class Distributions:
    sdist: Path
    wheel: Path


def build(args: list[str], source: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "build", *args, str(source)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0 and "Could not find a version" in result.stdout + result.stderr:
        unavailable("python -m build could not fetch setuptools for its isolated environment")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


@pytest.fixture(scope="module")
def distributions(tmp_path_factory: pytest.TempPathFactory) -> Distributions:
    """The sdist of a copy of this checkout, then the wheel built from that sdist unpacked
    where nothing of the checkout is around: what PyPI's users and Homebrew build."""
    root = tmp_path_factory.mktemp("release")
    checkout = root / "checkout"
    shutil.copytree(REPO, checkout, ignore=COPY_SKIP, symlinks=True)
    build(["--sdist", "-o", str(root / "dist")], checkout)
    (sdist,) = (root / "dist").glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(root / "unpacked", filter="data")
    (source,) = (root / "unpacked").iterdir()
    build(["--wheel", "-o", str(root / "dist")], source)
    (wheel,) = (root / "dist").glob("*.whl")
    return Distributions(sdist, wheel)


def data_files() -> dict[str, bytes]:
    """What envsnap/_data links to: the nixpkgs tables and the templates, by wheel path."""
    files = {f"envsnap/_data/nix/{p.name}": p.read_bytes() for p in (REPO / "nix").glob("*.toml")}
    for path in (REPO / "templates").iterdir():
        files[f"envsnap/_data/templates/{path.name}"] = path.read_bytes()
    assert any(name.endswith(".toml") for name in files) and len(files) >= 3
    return files


def test_the_sdist_holds_the_data_files_themselves(distributions: Distributions) -> None:
    prefix = f"{distributions.sdist.name.removesuffix('.tar.gz')}/"
    with tarfile.open(distributions.sdist) as archive:
        for name, content in data_files().items():
            member = archive.getmember(prefix + name)
            assert member.isfile(), f"{name} is not a regular file in the sdist"
            extracted = archive.extractfile(member)
            assert extracted is not None and extracted.read() == content, name


def test_the_wheel_built_from_the_sdist_carries_the_data_files(
    distributions: Distributions,
) -> None:
    with zipfile.ZipFile(distributions.wheel) as archive:
        for name, content in data_files().items():
            assert archive.read(name) == content, name
        assert "envsnap/py.typed" in archive.namelist()


def twine_check(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_twine_check_strict_passes_both(distributions: Distributions) -> None:
    result = twine_check(distributions.sdist, distributions.wheel)
    assert result.returncode == 0, result.stdout + result.stderr


def test_twine_check_strict_would_fail_a_description_pypi_cannot_render(
    distributions: Distributions, tmp_path: Path
) -> None:
    """The check can fail: the same wheel without its description's content type."""
    broken = tmp_path / distributions.wheel.name
    with zipfile.ZipFile(distributions.wheel) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename.endswith(".dist-info/METADATA"):
                content = re.sub(rb"Description-Content-Type: [^\n]*\n", b"", content)
            target.writestr(item, content)
    assert twine_check(broken).returncode != 0


# The Homebrew formula ----------------------------------------------------------------------


def test_the_formula_is_valid_ruby() -> None:
    result = subprocess.run(
        [require_tool("ruby"), "-c", str(FORMULA)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and result.stdout.strip() == "Syntax OK", result.stderr


def test_the_formula_installs_this_versions_sdist_in_a_virtualenv() -> None:
    facts = read_formula()
    assert facts["class"] == "Envsnap" and facts["virtualenv"] is True
    sdist = f"{DISTRIBUTION.replace('-', '_')}-{__version__}.tar.gz"
    assert facts["url"] == (
        f"https://files.pythonhosted.org/packages/source/e/{DISTRIBUTION}/{sdist}"
    ), "Formula/envsnap.rb is not this version's: run scripts/gen-formula"
    assert SHA256.fullmatch(facts["sha256"])
    assert "python@3.12" in facts["depends_on"]
    assert facts["install"] == "virtualenv_install_with_resources"
    assert facts["license"] == "MIT" and facts["desc"] and facts["homepage"].startswith("https://")


def test_the_formulas_resources_are_the_locked_sdists() -> None:
    resources = read_formula()["resources"]
    names = [resource["name"] for resource in resources]
    assert names == sorted(names) and len(set(names)) == len(names)
    pins = locked_pins()
    assert names == sorted(pins)
    for resource in resources:
        assert resource["url"].startswith("https://files.pythonhosted.org/packages/")
        name, version = parse_sdist_filename(resource["url"].rsplit("/", 1)[1])
        pin = pins[resource["name"]]
        assert (name, str(version)) == (pin.name, pin.version), resource
        assert SHA256.fullmatch(resource["sha256"]), resource


def test_rust_is_a_build_dependency_for_the_rust_resources() -> None:
    facts = read_formula()
    assert "pydantic-core" in locked_pins()  # a Rust crate (maturin), built from its sdist
    assert {"rust": "build"} in facts["depends_on"]


def test_the_formulas_test_block_runs_envsnap_version(tmp_path: Path) -> None:
    shim = tmp_path / "envsnap"
    shim.write_text(f'#!/bin/sh\nPYTHONPATH="{REPO}" exec "{sys.executable}" -m envsnap "$@"\n')
    shim.chmod(0o755)
    assert read_formula(tmp_path)["test"] == "passed"


def wheel_requirements(wheel: Path) -> list[Requirement]:
    """The wheel's Requires-Dist without extras: what `pip install envsnap-cgo` installs."""
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        headers = email.parser.Parser().parsestr(archive.read(metadata).decode())
    requirements = [Requirement(line) for line in headers.get_all("Requires-Dist") or []]
    return [r for r in requirements if r.marker is None or r.marker.evaluate({"extra": ""})]


def test_the_lock_is_the_wheels_requirements_and_what_they_need(
    distributions: Distributions,
) -> None:
    pins = locked_pins()
    direct = {canonicalize_name(r.name): r for r in wheel_requirements(distributions.wheel)}
    stale = "Formula/requirements.lock is stale: run scripts/gen-formula"
    assert {name for name, pin in pins.items() if DISTRIBUTION in pin.via} == set(direct), stale
    for name, requirement in direct.items():
        assert requirement.specifier.contains(pins[name].version), (stale, requirement)
    for pin in pins.values():
        assert set(pin.via) <= set(pins) | {DISTRIBUTION}, pin


@pytest.mark.slow
def test_the_resources_are_the_closure_pip_resolves_for_the_wheel(
    distributions: Distributions,
) -> None:
    """Independently of gen-formula: pip's own resolution of the built wheel, today."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
         "--report", "-", str(distributions.wheel)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        unavailable(f"pip could not resolve from the index: {result.stderr.strip()[-300:]}")
    report = json.loads(result.stdout)
    resolved = {canonicalize_name(item["metadata"]["name"]) for item in report["install"]}
    resources = {resource["name"] for resource in read_formula()["resources"]}
    assert resolved - {DISTRIBUTION} == resources


# The scripts -------------------------------------------------------------------------------


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_the_release_scripts_are_linted_formatted_and_typed(script: Path, tmp_path: Path) -> None:
    """`ruff check .` and `mypy` skip files without `.py`: these are checked by name."""
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
