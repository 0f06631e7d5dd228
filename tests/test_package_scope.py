"""Which packages are locked (envsnap.toml ``[packages]``), and what ``go list`` could not load,
on real modules: a package whose library this machine lacks, and a test dependency missing from
the module cache (GOPROXY=off, as every test runs)."""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ZLIB_PACKAGE, envsnap, require_tool, write_module

NO_LIBRARY = """package pfring

// #cgo LDFLAGS: -lnosuchlib_envsnap
import "C"

import "example.com/m/pfring/ring"

func Open() { ring.Open() }
"""

# imported only by pfring: leaving pfring out leaves it out too
RING = """package ring

// #cgo pkg-config: nosuch-envsnap-ring
import "C"

func Open() {}
"""

TEST_DEPENDENCY = """package zz

import (
	"testing"

	"example.com/missingdep/assert"
)

func TestVersion(t *testing.T) { assert.True(t, Version() != "") }
"""

EXTERNAL_TEST = """package other_test

import (
	"testing"

	"example.com/missingdep/require"
)

func TestNothing(t *testing.T) { require.True(t, true) }
"""


@pytest.fixture
def tools() -> None:
    for name in ("go", "gcc", "pkg-config"):
        require_tool(name)


@pytest.fixture
def pfring_module(tmp_path: Path, tools: None) -> Path:
    """gopacket's shape: a package (and one only it imports) needing libraries Debian lacks."""
    files = {"zz/zz.go": ZLIB_PACKAGE, "pfring/pfring.go": NO_LIBRARY, "pfring/ring/ring.go": RING}
    return write_module(tmp_path / "mod", files)


def lock_entry(module: Path) -> dict[str, Any]:
    (entry,) = tomllib.loads((module / "envsnap.lock").read_text())["platforms"].values()
    assert isinstance(entry, dict)
    return entry


def cgo_paths(entry: dict[str, Any]) -> list[str]:
    return [p["path"] for p in entry["cgo"]["packages"]]


def configure(module: Path, text: str) -> None:
    (module / "envsnap.toml").write_text(text)


def test_a_package_whose_library_is_missing_fails_lock_naming_both(pfring_module: Path) -> None:
    result = envsnap("lock", "-C", str(pfring_module))
    assert result.returncode == 1, result.stderr
    assert "library -lnosuchlib_envsnap (used by example.com/m/pfring)" in result.stderr
    assert "pkg-config module nosuch-envsnap-ring (used by example.com/m/pfring/ring)" in (
        result.stderr
    )
    assert not (pfring_module / "envsnap.lock").exists()


@pytest.mark.parametrize("pattern", ["./pfring/...", "example.com/m/pfring/..."])
def test_excluded_by_pattern_the_module_locks_and_verifies_clean(
    pfring_module: Path, pattern: str
) -> None:
    configure(pfring_module, f'[packages]\nexclude = ["{pattern}"]\n')
    locked = envsnap("lock", "-C", str(pfring_module))
    assert locked.returncode == 0, locked.stderr
    assert "not locked: 2 packages excluded in envsnap.toml: example.com/m/pfring, " in (
        locked.stderr
    )
    entry = lock_entry(pfring_module)
    assert cgo_paths(entry) == ["example.com/m/zz"]
    assert [lib["name"] for lib in entry["libraries"]] == ["zlib"]
    assert entry["cgo"]["exclude"] == [pattern] and "include" not in entry["cgo"]
    verified = envsnap("verify", "-C", str(pfring_module))
    assert verified.returncode == 0, verified.stdout
    assert envsnap("lock", "--check", "-C", str(pfring_module)).returncode == 0
    # go itself agrees: what is kept builds
    kept = subprocess.run(["go", "build", "./zz"], cwd=pfring_module, capture_output=True)
    assert kept.returncode == 0, kept.stderr


def test_a_dot_slash_exclusion_matches_directories_as_go_does(pfring_module: Path) -> None:
    # ./pfring matches the directory pfring alone; ring, below it, is still locked
    configure(pfring_module, '[packages]\nexclude = ["./pfring"]\n')
    result = envsnap("lock", "-C", str(pfring_module))
    assert result.returncode == 1
    assert "nosuch-envsnap-ring" in result.stderr and "nosuchlib_envsnap" not in result.stderr


def test_show_prints_the_package_set(pfring_module: Path) -> None:
    configure(pfring_module, '[packages]\nexclude = ["./pfring/..."]\n')
    shown = envsnap("show", "-C", str(pfring_module))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(
        "# packages: ./...\n# excluding: ./pfring/...\n"
        "# not locked: example.com/m/pfring example.com/m/pfring/ring\n"
    )
    document = json.loads(envsnap("show", "--json", "-C", str(pfring_module)).stdout)
    assert document["packages"] == {
        "include": ["./..."],
        "exclude": ["./pfring/..."],
        "excluded": ["example.com/m/pfring", "example.com/m/pfring/ring"],
    }
    assert document["snapshot"]["cgo"]["exclude"] == ["./pfring/..."]


def test_include_patterns_choose_the_packages(pfring_module: Path) -> None:
    configure(pfring_module, '[packages]\ninclude = ["./zz/..."]\n')
    assert envsnap("lock", "-C", str(pfring_module)).returncode == 0
    entry = lock_entry(pfring_module)
    assert cgo_paths(entry) == ["example.com/m/zz"] and entry["cgo"]["include"] == ["./zz/..."]


def test_changing_the_patterns_without_relocking_is_an_error(pfring_module: Path) -> None:
    configure(pfring_module, '[packages]\nexclude = ["./pfring/..."]\n')
    assert envsnap("lock", "-C", str(pfring_module)).returncode == 0
    configure(pfring_module, '[packages]\nexclude = ["./pfring/...", "./nothing/..."]\n')
    result = envsnap("verify", "--json", "-C", str(pfring_module))
    document = json.loads(result.stdout)
    (finding,) = document["findings"]
    assert (finding["id"], finding["severity"]) == ("cgo.exclude", "error")
    assert finding["subject"] == "package patterns" and result.returncode == 1


def test_an_exclusion_that_matches_nothing_is_a_warning(pfring_module: Path) -> None:
    configure(pfring_module, '[packages]\nexclude = ["./pfring/...", "./pfrnig/..."]\n')
    result = envsnap("lock", "-C", str(pfring_module))
    assert result.returncode == 0, result.stderr
    assert "warning: the exclusion './pfrnig/...' matches none of the packages of ./..." in (
        result.stderr
    )


def test_a_variant_has_its_own_package_set(pfring_module: Path) -> None:
    configure(
        pfring_module,
        '[packages]\nexclude = ["./pfring/..."]\n'
        '[variants.full]\ntags = ["full"]\npackages = { exclude = [] }\n',
    )
    result = envsnap("lock", "-C", str(pfring_module))
    assert result.returncode == 1
    assert "probe failed (variant full): library -lnosuchlib_envsnap" in result.stderr
    assert "not locked: 2 packages" in result.stderr  # the default variant leaves them out


# What go list could not load ---------------------------------------------------------------


@pytest.fixture
def missing_test_dependency(tmp_path: Path, tools: None) -> Path:
    """kafka's shape: go.mod requires a module only tests import, and it is not in the cache."""
    module = write_module(
        tmp_path / "mod",
        {
            "zz/zz.go": ZLIB_PACKAGE,
            "zz/zz_test.go": TEST_DEPENDENCY,
            "other/other.go": "package other\n",
            "other/other_test.go": EXTERNAL_TEST,
        },
    )
    with (module / "go.mod").open("a") as go_mod:
        go_mod.write("\nrequire example.com/missingdep v1.2.3\n")
    assert os.environ["GOPROXY"] == "off"
    build = subprocess.run(["go", "build", "./..."], cwd=module, capture_output=True)
    assert build.returncode == 0  # go build works; go test does not
    return module


MISSING = (
    "2 packages need modules missing from the module cache: example.com/missingdep — "
    "`go mod download` or exclude them in envsnap.toml [packages]"
)


def test_lock_names_a_test_dependency_missing_from_the_cache(
    missing_test_dependency: Path,
) -> None:
    refused = envsnap("lock", "-C", str(missing_test_dependency))
    assert refused.returncode == 1
    assert f"error: probe failed: package list (go list): {MISSING}\n" in refused.stderr
    assert not (missing_test_dependency / "envsnap.lock").exists()
    allowed = envsnap("lock", "--allow-incomplete", "-C", str(missing_test_dependency))
    assert allowed.returncode == 0 and f"warning: probe failed: package list (go list): {MISSING}"
    entry = lock_entry(missing_test_dependency)
    assert entry["cgo"]["package_errors"] == [MISSING]
    assert entry["incomplete"] == [f"package list (go list): {MISSING}"]


def test_excluding_the_packages_that_need_it_locks_clean(missing_test_dependency: Path) -> None:
    configure(missing_test_dependency, '[packages]\nexclude = ["./zz", "./other"]\n')
    result = envsnap("lock", "-C", str(missing_test_dependency))
    assert result.returncode == 0, result.stderr
    assert "package_errors" not in lock_entry(missing_test_dependency)["cgo"]


def test_doctor_reports_what_go_list_cannot_load(missing_test_dependency: Path) -> None:
    result = envsnap("doctor", "--json", "-C", str(missing_test_dependency))
    document = json.loads(result.stdout)
    checks = {c["id"]: c for c in document["checks"]}
    assert result.returncode == 1 and not document["ok"]
    packages = checks["module.packages"]
    assert packages["status"] == "problem"
    assert packages["evidence"][0]["lines"] == [MISSING]
    text = envsnap("doctor", "-C", str(missing_test_dependency)).stdout
    assert f"problem  module.packages: `go list` cannot load every package: {MISSING}" in text


def test_each_other_cause_is_named_with_its_package(tmp_path: Path, tools: None) -> None:
    module = write_module(
        tmp_path / "mod",
        {
            "zz/zz.go": ZLIB_PACKAGE,
            "broken/broken.go": 'package broken\n\nimport _ "nosuchstd/x"\n',
        },
    )
    result = envsnap("lock", "-C", str(module))
    assert result.returncode == 1
    (line,) = [line for line in result.stderr.splitlines() if "package list" in line]
    assert line.startswith("envsnap: error: probe failed: package list (go list): ")
    assert "example.com/m/broken: package nosuchstd/x is not in std" in line
    assert line.endswith("— fix it, or exclude it in envsnap.toml [packages]")
