"""Recreating the toolchain without Nix, checked by the real consumers: dpkg and apt-get, ruby
(a Brewfile is Ruby), shellcheck, and GitHub's workflow schema."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any, cast

import pytest
from ruamel.yaml import YAML

from envsnap.emit import native
from envsnap.entry import Entry
from envsnap.host import LocalHost
from envsnap.probes.packages import dpkg_owners, parse_search
from tests.conftest import (
    RECORDINGS,
    REPO,
    ZLIB_PACKAGE,
    envsnap,
    require_tool,
    unavailable,
    write_module,
)
from tests.entries import compare

MAC_BREW = RECORDINGS / "macos14-arm64-clt-brew-openssl"
MAC_XCODE = RECORDINGS / "macos15-arm64-xcode16"

PNG_PACKAGE = """package pp

// #cgo LDFLAGS: -lpng16
// #include <png.h>
import "C"

func Version() uint32 { return uint32(C.png_access_version_number()) }
"""


def dpkg_version(package: str) -> str:
    """What dpkg itself says is installed: "name version"."""
    require_tool("dpkg-query")
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package} ${Version}", package],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        unavailable(f"{package} is not installed")
    return out.stdout.strip()


def lock_of(module: Path) -> dict[str, Any]:
    platforms: dict[str, Any] = tomllib.loads((module / "envsnap.lock").read_text())["platforms"]
    return platforms


def emitted(module: Path, *args: str) -> str:
    result = envsnap("emit", *args, "-C", str(module))
    assert result.returncode == 0, result.stderr
    return result.stderr


@pytest.fixture
def zlib_png_module(tmp_path: Path) -> Path:
    for tool in ("go", "gcc", "pkg-config"):
        require_tool(tool)
    module = write_module(tmp_path / "zp", {"zz/zz.go": ZLIB_PACKAGE, "pp/pp.go": PNG_PACKAGE})
    result = envsnap("lock", "-C", str(module))
    assert result.returncode == 0, result.stderr
    return module


def replay_locked(module: Path, *hosts: Path) -> Path:
    module.mkdir(exist_ok=True)
    if not (module / "go.mod").exists():
        (module / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    for host in hosts:
        result = envsnap("--replay", str(host), "lock", "-C", str(module))
        assert result.returncode == 0, result.stderr
    return module


# --- lock: the owning packages --------------------------------------------------------------


def test_lock_records_the_dev_package_and_the_compilers_package(zlib_png_module: Path) -> None:
    (entry,) = lock_of(zlib_png_module).values()
    libs = {lib["name"]: lib for lib in entry["libraries"]}
    assert libs["zlib"]["package"] == dpkg_version("zlib1g-dev")
    assert libs["png16"]["package"] == dpkg_version("libpng-dev")
    compiler = entry["cc"]["compiler"]
    owner = subprocess.run(
        ["dpkg-query", "-S", compiler["realpath"]], capture_output=True, text=True, check=True
    ).stdout.split(":")[0]
    assert compiler["package"] == dpkg_version(owner)


def test_a_file_dpkg_knows_only_by_its_merged_usr_twin_is_owned() -> None:
    require_tool("dpkg-query")
    real = Path("/usr/lib/x86_64-linux-gnu/libz.so.1").resolve()
    known = subprocess.run(["dpkg-query", "-S", str(real)], capture_output=True, check=False)
    if known.returncode == 0 or not Path("/lib").is_symlink():
        unavailable("dpkg knows this file by its /usr name (not a merged-/usr Debian)")
    owners = dpkg_owners(LocalHost(), [str(real)])
    assert owners == {str(real): dpkg_version("zlib1g")}


def test_dpkg_search_lines_of_every_shape_are_read() -> None:
    text = (
        "zlib1g:amd64: /lib/x86_64-linux-gnu/libz.so.1.2.13\n"
        "gcc-12: /usr/bin/x86_64-linux-gnu-gcc-12\n"
        "diversion by dash from: /bin/sh\n"
        "libc6-dev:amd64, libc6-dev:i386: /usr/share/doc/x\n"
    )
    assert parse_search(text) == {
        "/lib/x86_64-linux-gnu/libz.so.1.2.13": "zlib1g",
        "/usr/bin/x86_64-linux-gnu-gcc-12": "gcc-12",
        "/usr/share/doc/x": "libc6-dev",
    }


def test_no_dpkg_means_no_package_field(tmp_path: Path) -> None:
    module = replay_locked(tmp_path / "mac", MAC_BREW)
    (entry,) = lock_of(module).values()
    assert all("package" not in lib for lib in entry["libraries"])
    assert "package" not in entry["cc"]["compiler"]


ZLIB = {"name": "zlib", "found_by": "pkg-config", "provider": "pkg-config", "used_by": ["a"]}


def entry_with(lib: dict[str, Any]) -> dict[str, Any]:
    """A small Linux entry whose one library is *lib*."""
    return {
        "os": {"goos": "linux", "goarch": "amd64"},
        "go": {"version": "go1.22.3", "path": "/g", "goroot": "/x", "env": {}},
        "cc": {"compiler": {"version": "gcc 12"}, "linker": {"version": "ld"}},
        "env": {},
        "cgo": {"packages": []},
        "libraries": [lib],
    }


def test_another_version_of_the_owning_package_is_a_drift_of_the_library() -> None:
    base = entry_with({**ZLIB, "package": "zlib1g-dev 1:1.2.13.dfsg-1"})
    live = copy.deepcopy(base)
    live["libraries"][0]["package"] = "zlib1g-dev 1:1.3.dfsg-3"
    (finding,) = compare(base, live)
    assert finding.id == "libraries.zlib.package"
    assert finding.severity == "error"
    assert "1:1.3.dfsg-3" in finding.why


# --- emit --apt ------------------------------------------------------------------------------


def apt_pins(script: str) -> list[str]:
    """The pinned packages of the script's cases (``pins='name=version …'``)."""
    return [p for words in re.findall(r"^ +pins='([^']*)'$", script, re.M) for p in words.split()]


def test_the_apt_script_installs_nothing_new_on_the_machine_that_locked(
    zlib_png_module: Path,
) -> None:
    emitted(zlib_png_module, "--apt")
    script = zlib_png_module / "envsnap-apt.sh"
    subprocess.run([require_tool("shellcheck"), str(script)], check=True)
    pins = apt_pins(script.read_text())
    for package in ("zlib1g-dev", "libpng-dev"):
        name, version = dpkg_version(package).split(" ")
        assert f"{name}={version}" in pins
    require_tool("apt-get")
    dry = subprocess.run(
        ["apt-get", "install", "--dry-run", "-y", "--no-install-recommends", *pins],
        capture_output=True,
        text=True,
        check=False,
    )
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert re.search(r"^0 upgraded, 0 newly installed, 0 to remove", dry.stdout, re.M), dry.stdout
    if Path("/usr/bin/id").exists() and subprocess.check_output(["id", "-u"]).strip() == b"0":
        run = subprocess.run([str(script), "--dry-run"], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        assert re.search(r"^0 upgraded, 0 newly installed", run.stdout, re.M), run.stdout


def test_the_apt_script_plans_the_compiler_command_and_pkgconf_on_a_root_without_them(
    tmp_path: Path,
) -> None:
    """A fresh Debian has neither `gcc` (which owns /usr/bin/gcc, the locked CC) nor pkgconf,
    and apt pairs a pinned zlib1g-dev with the newest zlib1g unless told its exact version.
    apt-get simulates the script on a dpkg status that holds no package at all."""
    for tool in ("go", "gcc", "pkg-config", "apt-get", "shellcheck"):
        require_tool(tool)
    if subprocess.check_output(["id", "-u"]).strip() != b"0":
        unavailable("the script runs apt-get through sudo unless it is root")
    module = tmp_path / "zlib"
    shutil.copytree(REPO / "examples" / "zlib", module)
    assert envsnap("lock", "-C", str(module)).returncode == 0
    emitted(module, "--apt")
    script = module / "envsnap-apt.sh"
    subprocess.run(["shellcheck", str(script)], check=True)
    empty = tmp_path / "status"
    empty.write_text("")
    plan = subprocess.run(
        ["sh", str(script), "--simulate", "-o", f"Dir::State::status={empty}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert plan.returncode == 0, plan.stdout + plan.stderr
    planned = dict(re.findall(r"^Inst (\S+) \((\S+) ", plan.stdout, re.M))
    assert {"gcc", "pkgconf", "zlib1g-dev", "zlib1g"} <= set(planned), plan.stdout
    zlib = dpkg_version("zlib1g-dev").split(" ")[1]
    assert planned["zlib1g-dev"] == zlib and planned["zlib1g"] == zlib


def test_each_command_is_provided_by_the_package_the_script_installs() -> None:
    """dpkg's own answer for the commands installed here (cc is an alternative gcc registers)."""
    for command, package in native.DEBIAN_COMMANDS.items():
        path = shutil.which(command)
        if path is None or not path.startswith("/usr/bin/"):
            continue
        if command in ("cc", "c++"):
            query = ["update-alternatives", "--query", command]
            best = re.search(r"^Value: (\S+)", subprocess.check_output(query, text=True), re.M)
            assert best is not None
            path = best[1]
        owner = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True, check=False)
        name = owner.stdout.split(":")[0]
        # the package itself, or one it depends on (pkgconf brings pkgconf-bin's /usr/bin/pkgconf)
        depends = subprocess.run(["apt-cache", "depends", package], capture_output=True, text=True)
        required = re.findall(r"^\s+Depends: (\S+)$", depends.stdout, re.M)
        assert name in (package, *required), (command, owner.stdout + owner.stderr)


def test_the_apt_script_is_idempotent_and_protected(zlib_png_module: Path) -> None:
    emitted(zlib_png_module, "--apt")
    script = zlib_png_module / "envsnap-apt.sh"
    first = script.read_bytes()
    emitted(zlib_png_module, "--apt")
    assert script.read_bytes() == first
    script.write_text("#!/bin/sh\necho mine\n")
    refused = envsnap("emit", "--apt", "-C", str(zlib_png_module))
    assert refused.returncode != 0
    assert "not written by envsnap" in refused.stderr and "Traceback" not in refused.stderr
    assert script.read_text() == "#!/bin/sh\necho mine\n"
    emitted(zlib_png_module, "--apt", "--force")
    assert script.read_bytes() == first


# --- emit --brewfile -------------------------------------------------------------------------


def brew_names(brewfile: Path) -> list[str]:
    """The formulae the Brewfile asks for, as Ruby itself evaluates it."""
    ruby = require_tool("ruby")
    stub = "def brew(name, *args, **opts); puts name; end; load ARGV[0]"
    out = subprocess.run([ruby, "-e", stub, str(brewfile)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_the_brewfile_is_ruby_and_names_the_locked_keg_only_formula(tmp_path: Path) -> None:
    module = replay_locked(tmp_path / "mac", MAC_BREW)
    result = envsnap("--replay", str(MAC_BREW), "emit", "--brewfile", "-C", str(module))
    assert result.returncode == 0, result.stderr
    brewfile = module / "Brewfile"
    check = subprocess.run([require_tool("ruby"), "-c", str(brewfile)], capture_output=True)
    assert check.returncode == 0 and b"Syntax OK" in check.stdout, check.stderr
    # the library's formula, pkgconf (macOS has no pkg-config), and Homebrew's go (the locked Go)
    assert brew_names(brewfile) == ["openssl@3", "pkgconf", "go"]
    (entry,) = lock_of(module).values()
    locked = {lib["provider"].split(" ")[1] for lib in entry["libraries"]}
    assert all(version in brewfile.read_text() for version in locked)


def test_the_brewfile_takes_the_locked_version_from_each_lock(tmp_path: Path) -> None:
    module = replay_locked(tmp_path / "mac", RECORDINGS / "macos14-arm64-clt-brew-openssl-3.4.0")
    text = envsnap("emit", "--brewfile", "--stdout", "-C", str(module)).stdout
    (entry,) = lock_of(module).values()
    (version,) = {lib["provider"].split(" ")[1] for lib in entry["libraries"]}
    assert f"locked: {version} " in text


# --- emit --github-actions -------------------------------------------------------------------


def check_workflow(path: Path) -> None:
    schema = "vendor.github-workflows"  # shipped inside check-jsonschema: no network
    out = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_workflow_has_one_job_per_locked_platform_as_locked(zlib_png_module: Path) -> None:
    replay_locked(zlib_png_module, MAC_XCODE)
    emitted(zlib_png_module, "--github-actions")
    path = zlib_png_module / ".github" / "workflows" / "envsnap.yml"
    check_workflow(path)
    jobs = YAML(typ="safe").load(path.read_text())["jobs"]
    lock = lock_of(zlib_png_module)
    assert set(jobs) == set(lock) == {"linux-amd64", "darwin-arm64"}
    expected_runner = {"linux-amd64": "ubuntu-24.04", "darwin-arm64": "macos-15"}
    for platform, entry in lock.items():
        job = jobs[platform]
        assert job["runs-on"] == expected_runner[platform]
        (setup,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-go")]
        assert "go" + str(setup["with"]["go-version"]) == entry["go"]["version"]
        runs = [str(s.get("run", "")) for s in job["steps"]]
        verify = next(i for i, r in enumerate(runs) if "envsnap verify --json" in r)
        assert runs[-1] == "go test ./..." and verify < len(runs) - 1
    xcode = lock["darwin-arm64"]["apple"]["xcode_version"]
    developer_dir = f"/Applications/Xcode_{xcode}.app/Contents/Developer"
    assert jobs["darwin-arm64"]["env"]["DEVELOPER_DIR"] == developer_dir
    apt = " ".join(str(s.get("run", "")) for s in jobs["linux-amd64"]["steps"])
    assert "zlib1g-dev=" + dpkg_version("zlib1g-dev").split(" ")[1] in apt


def test_the_workflow_installs_the_locked_formulae_on_macos(tmp_path: Path) -> None:
    module = replay_locked(tmp_path / "mac", MAC_BREW)
    emitted(module, "--github-actions")
    path = module / ".github" / "workflows" / "envsnap.yml"
    check_workflow(path)
    (job,) = YAML(typ="safe").load(path.read_text())["jobs"].values()
    brew = [str(s["run"]) for s in job["steps"] if "brew install" in str(s.get("run", ""))]
    assert brew == ["brew install 'openssl@3' 'pkgconf'"]  # Go comes from actions/setup-go
    # no image has the locked CLT 15.3; macos-14's Xcode 15.0.1 ships the locked SDK 14.0
    # (actions/runner-images images/macos/macos-14-arm64-Readme.md, "Installed SDKs")
    assert job["runs-on"] == "macos-14"
    assert job["env"]["DEVELOPER_DIR"] == "/Applications/Xcode_15.0.1.app/Contents/Developer"


def test_a_homebrew_go_lock_sets_the_locked_cc_and_cxx_in_its_job(tmp_path: Path) -> None:
    """Homebrew's go says CC=cc, CXX=c++; actions/setup-go's Go defaults to clang and clang++,
    so a job that leaves them unset verifies another compiler and fails before go test."""
    module = replay_locked(tmp_path / "mac", MAC_BREW)
    go_env = lock_of(module)["darwin-arm64"]["go"]["env"]
    assert (go_env["CC"], go_env["CXX"]) == ("cc", "c++")  # the recorded Homebrew go env
    emitted(module, "--github-actions")
    path = module / ".github" / "workflows" / "envsnap.yml"
    check_workflow(path)
    (job,) = YAML(typ="safe").load(path.read_text())["jobs"].values()
    assert any("actions/setup-go" in str(step.get("uses")) for step in job["steps"])
    assert (job["env"]["CC"], job["env"]["CXX"]) == ("cc", "c++")


def test_a_lock_that_never_recorded_the_package_has_no_drift_for_it() -> None:
    lib = dict(ZLIB)
    base = entry_with(lib)
    live = copy.deepcopy(base)
    live["libraries"][0]["package"] = "zlib1g-dev 1:1.3.dfsg-3"
    live["cc"]["compiler"]["package"] = "gcc-12 12.2.0-14"
    assert compare(base, live) == []
    (gone,) = compare(live, {**live, "libraries": [lib]})
    assert (gone.id, gone.severity) == ("libraries.zlib.package", "error")
    assert "-> none" in gone.why


def test_a_locked_value_holding_a_github_expression_never_reaches_the_workflow() -> None:
    from envsnap.emit.native import render_workflow

    entry: dict[str, Any] = {
        "go": {"version": "go1.22.3", "tags": ["x"], "env": {"GOFLAGS": "-tags=${{ secrets.T }}"}},
        "libraries": [],
    }
    text, warnings = render_workflow([("linux-amd64", cast(Entry, entry))])
    assert "secrets.T" not in text
    assert any("${{" in w for w in warnings)
