"""`envsnap doctor` on this machine: one real module per check, made broken by real means.

Each broken module trips one check and no other check is a problem (or a warning); a clean cgo
module trips nothing. Every run is validated against docs/doctor.schema.json.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import LIBM_PACKAGE, REPO, ZLIB_PACKAGE, envsnap, require_tool, write_module

SCHEMA = json.loads((REPO / "docs" / "doctor.schema.json").read_text())
MAIN = 'package main\n\nimport "{path}"\n\nfunc main() {{ {call} }}\n'


def with_env(**values: str) -> dict[str, str]:
    return {**os.environ, **values}


def doctor(directory: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run doctor twice (JSON and text); both must agree on the exit code; no traceback."""
    result = envsnap("doctor", "--json", "-C", str(directory), env=env)
    assert "Traceback" not in result.stderr, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    assert document["exit_code"] == result.returncode
    text = envsnap("doctor", "-C", str(directory), env=env)
    assert text.returncode == result.returncode and "Traceback" not in text.stderr
    for check in document["checks"]:
        if check["status"] in ("problem", "warning"):
            assert f"{check['id']}: {check['summary']}" in text.stdout
            assert f"fix: {check['fix']}" in text.stdout
    return document


def statuses(document: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in document["checks"]}


def tripped(document: dict[str, Any], check_id: str, status: str = "problem") -> dict[str, Any]:
    """The check *check_id* has *status*, evidence and a fix; no other check is a problem or a
    warning."""
    (check,) = [c for c in document["checks"] if c["id"] == check_id]
    assert check["status"] == status, check
    assert check["evidence"] and check["fix"]
    others = {i: s for i, s in statuses(document).items() if i != check_id}
    assert not {i: s for i, s in others.items() if s in ("problem", "warning")}, others
    assert document["exit_code"] == (1 if status == "problem" else 0)
    found: dict[str, Any] = check
    return found


def evidence_text(check: dict[str, Any]) -> str:
    return "\n".join(f"{e['source']}\n" + "\n".join(e["lines"]) for e in check["evidence"])


@pytest.fixture
def tools() -> None:
    for name in ("go", "gcc", "pkg-config"):
        require_tool(name)


def test_clean_cgo_module_has_no_problem(cgo_module: Path) -> None:
    document = doctor(cgo_module)
    assert document["exit_code"] == 0 and document["ok"]
    assert {s for s in statuses(document).values()} <= {"ok", "skipped"}
    found = statuses(document)
    for check_id in ("module.gomod", "module.test-cycle", "cgo.cc", "cgo.pkg-config"):
        assert found[check_id] == "ok"
    assert found["cgo.libraries"] == "ok" and found["lock.verify"] == "skipped"
    assert document["module_path"] == "example.com/m" and document["platform"] == "linux-amd64"
    assert not any(i.startswith("macos.") for i in found)


def test_no_go_mod(tmp_path: Path, tools: None) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "main.go").write_text("package main\n\nfunc main() {}\n")
    check = tripped(doctor(loose), "module.gomod")
    assert "command-line-arguments" in evidence_text(check)
    assert "go mod init" in check["fix"]
    assert "GOMOD=/dev/null" in evidence_text(check)


def test_go_mod_go_cannot_parse(tmp_path: Path, tools: None) -> None:
    root = write_module(tmp_path / "m", {"main.go": "package main\n\nfunc main() {}\n"})
    with (root / "go.mod").open("a") as go_mod:
        go_mod.write("\nrequire example.com/x\n")  # no version
    check = tripped(doctor(root), "module.gomod")
    assert "go.mod:5: usage: require module/path v1.2.3" in evidence_text(check)


def test_modules_switched_off(cgo_module: Path) -> None:
    check = tripped(doctor(cgo_module, with_env(GO111MODULE="off")), "module.gopath-mode")
    assert "GO111MODULE=off" in evidence_text(check)


def gopath_module(tmp_path: Path, below: str, module: str) -> tuple[Path, dict[str, str]]:
    gopath = tmp_path / "gopath"
    root = write_module(gopath / "src" / below, {"mm/mm.go": LIBM_PACKAGE}, module=module)
    return root, with_env(GOPATH=str(gopath))


def test_auto_mode_inside_gopath(tmp_path: Path, tools: None) -> None:
    root, env = gopath_module(tmp_path, "example.com/m", "example.com/m")
    assert statuses(doctor(root, env))["module.gopath-mode"] == "ok"
    check = tripped(doctor(root, {**env, "GO111MODULE": "auto"}), "module.gopath-mode", "warning")
    assert f"{tmp_path}/gopath/src" in check["summary"]


def test_module_path_differs_from_its_place_in_gopath(tmp_path: Path, tools: None) -> None:
    root, env = gopath_module(tmp_path, "github.com/someone/tool", "example.com/m")
    check = tripped(doctor(root, env), "module.gopath-path", "warning")
    assert "module example.com/m" in evidence_text(check)
    assert "module github.com/someone/tool" in check["fix"]


def test_test_file_imports_own_package_by_old_module_path(tmp_path: Path, tools: None) -> None:
    old_import = (
        'package main\n\nimport (\n\t"testing"\n\n\t"example.com/old/util"\n)\n\n'
        "func TestX(t *testing.T) { util.Do() }\n"
    )
    root = write_module(
        tmp_path / "renamed",
        {
            "main.go": MAIN.format(path="example.com/new/util", call="util.Do()"),
            "main_test.go": old_import,
            "util/util.go": "package util\n\nfunc Do() {}\n",
        },
        module="example.com/new",
    )
    build = subprocess.run(["go", "build", "./..."], cwd=root, capture_output=True, check=False)
    assert build.returncode == 0  # go build (and go run) work; only go test is broken
    check = tripped(doctor(root), "module.import-path")
    assert "example.com/old/util" in check["summary"] and "example.com/new/util" in check["fix"]
    assert "main_test.go" in evidence_text(check)


def test_an_import_no_required_module_provides_is_a_missing_requirement(
    tmp_path: Path, tools: None
) -> None:
    # go-sdl2's shape: its own ./raster package, and an import of freetype's raster package,
    # which go.mod does not require. That is not a stale import of ./raster.
    root = write_module(
        tmp_path / "sdl2",
        {
            "main.go": MAIN.format(path="github.com/golang/freetype/raster", call="raster.X()"),
            "raster/raster.go": "package raster\n\nfunc X() {}\n",
        },
        module="github.com/veandco/go-sdl2",
    )
    document = doctor(root)
    check = tripped(document, "module.requirements")
    assert "`github.com/golang/freetype/raster`" in check["summary"]
    assert "go get github.com/golang/freetype/raster" in check["fix"]
    assert "providing package github.com/golang/freetype/raster" in evidence_text(check)
    (imports,) = [c for c in document["checks"] if c["id"] == "module.import-path"]
    assert imports["status"] == "ok"


REPLACES = """
require (
	example.com/dep v0.0.0
	example.com/other v0.0.0
)

replace example.com/dep => ../dep

replace (
	example.com/other v0.0.0 => ./other // a block, with a comment
)
"""


def test_replace_points_at_a_missing_directory(tmp_path: Path, tools: None) -> None:
    root = write_module(tmp_path / "m", {"main.go": "package main\n\nfunc main() {}\n"})
    with (root / "go.mod").open("a") as go_mod:
        go_mod.write(REPLACES)
    listed = subprocess.run(["go", "list", "-m", "all"], cwd=root, capture_output=True, text=True)
    assert listed.returncode != 0 and "../dep/go.mod" in listed.stderr  # real go agrees
    check = tripped(doctor(root), "module.replace")
    assert "(and 1 more)" in check["summary"]
    assert "10: replace example.com/dep => ../dep" in evidence_text(check)
    assert f"{tmp_path}/dep does not exist" in evidence_text(check)
    assert f"{root}/other does not exist" in evidence_text(check)
    (tmp_path / "dep").mkdir()  # a directory without go.mod is not a module either
    (root / "other").mkdir()
    (root / "other" / "go.mod").write_text("module example.com/other\n\ngo 1.21\n")
    check = tripped(doctor(root), "module.replace")
    assert f"{tmp_path}/dep has no go.mod" in evidence_text(check)
    assert "other" not in evidence_text(check)
    (tmp_path / "dep" / "go.mod").write_text("module example.com/dep\n\ngo 1.21\n")
    assert statuses(doctor(root))["module.replace"] == "ok"


def test_import_cycle_only_tests_create(tmp_path: Path, tools: None) -> None:
    root = write_module(
        tmp_path / "cyc",
        {
            "a/a.go": 'package a\n\nimport "example.com/m/b"\n\nfunc A() { b.B() }\n',
            "b/b.go": "package b\n\nfunc B() {}\n",
            "b/b_test.go": (
                'package b\n\nimport (\n\t"testing"\n\n\t"example.com/m/a"\n)\n\n'
                "func TestB(t *testing.T) { a.A() }\n"
            ),
        },
    )
    assert subprocess.run(["go", "build", "./..."], cwd=root, check=False).returncode == 0
    check = tripped(doctor(root), "module.test-cycle")
    assert "import cycle not allowed in test" in evidence_text(check)
    assert "example.com/m/b -> example.com/m/a -> example.com/m/b" in evidence_text(check)
    assert "package b_test" in check["fix"]


def test_toolchain_line_newer_than_local_go_with_auto(cgo_module: Path) -> None:
    with (cgo_module / "go.mod").open("a") as go_mod:
        go_mod.write("\ntoolchain go1.99.1\n")
    proxy = with_env(GOTOOLCHAIN="auto", GOPROXY="https://proxy.golang.org")  # go may download
    check = tripped(doctor(cgo_module, proxy), "go.toolchain", "warning")
    assert "go1.99.1" in check["summary"] and "download" in check["summary"]
    assert "GOTOOLCHAIN=auto" in evidence_text(check)
    assert statuses(doctor(cgo_module, with_env(GOTOOLCHAIN="local")))["go.toolchain"] == "ok"
    # with GOPROXY=off go cannot download it: every go command in the module fails
    offline = with_env(GOTOOLCHAIN="auto", GOPROXY="off")
    check = tripped(doctor(cgo_module, offline), "go.toolchain", "problem")
    assert "go1.99.1" in check["summary"] and "GOPROXY=off" in check["summary"]


def test_gotoolchain_naming_another_version(cgo_module: Path) -> None:
    check = tripped(doctor(cgo_module, with_env(GOTOOLCHAIN="go1.25.5")), "go.toolchain", "warning")
    assert check["summary"].startswith("GOTOOLCHAIN=go1.25.5: go runs go1.25.5")


def test_go_not_on_path(cgo_module: Path) -> None:
    go_dir = Path(shutil.which("go") or "").parent
    path = ":".join(d for d in os.environ["PATH"].split(":") if Path(d) != go_dir)
    assert shutil.which("go", path=path) is None
    check = tripped(doctor(cgo_module, with_env(PATH=path)), "go.toolchain")
    assert check["summary"] == "`go` is not on PATH"


def test_go_line_newer_than_local_go_with_local(cgo_module: Path) -> None:
    go_mod = cgo_module / "go.mod"
    go_mod.write_text(go_mod.read_text().replace("go 1.21", "go 1.99"))
    check = tripped(doctor(cgo_module, with_env(GOTOOLCHAIN="local")), "go.toolchain")
    assert "go.mod requires go >= 1.99" in evidence_text(check)  # what go itself says


def test_cgo_disabled_while_the_module_has_cgo_files(cgo_module: Path) -> None:
    check = tripped(doctor(cgo_module, with_env(CGO_ENABLED="0")), "cgo.enabled")
    assert "CGO_ENABLED=0" in evidence_text(check)
    assert "example.com/m/mm: CgoFiles mm.go" in evidence_text(check)


def test_cc_not_on_path(cgo_module: Path) -> None:
    check = tripped(doctor(cgo_module, with_env(CC="envsnap-no-such-cc")), "cgo.cc")
    assert "CC=envsnap-no-such-cc" in evidence_text(check)


def test_pkg_config_missing(cgo_module: Path, tmp_path: Path) -> None:
    absent = str(tmp_path / "no" / "pkg-config")
    check = tripped(doctor(cgo_module, with_env(PKG_CONFIG=absent)), "cgo.pkg-config")
    assert absent in check["summary"] and "example.com/m/zz" in check["summary"]


def test_pkg_config_module_it_cannot_find(tmp_path: Path, tools: None) -> None:
    package = ZLIB_PACKAGE.replace("pkg-config: zlib", "pkg-config: envsnap-absent")
    root = write_module(tmp_path / "m", {"zz/zz.go": package})
    check = tripped(doctor(root), "cgo.pkg-config")
    real = subprocess.run(
        ["pkg-config", "--modversion", "envsnap-absent"], capture_output=True, text=True
    )
    assert real.returncode != 0
    assert real.stderr.strip().splitlines()[0] in evidence_text(check)


def test_library_that_resolves_nowhere(tmp_path: Path, tools: None) -> None:
    package = LIBM_PACKAGE.replace("-lm", "-lenvsnapabsent")
    main = MAIN.format(path="example.com/m/mm", call="mm.Hypot(3, 4)")
    root = write_module(tmp_path / "m", {"mm/mm.go": package, "main.go": main})
    check = tripped(doctor(root), "cgo.libraries")
    assert "-lenvsnapabsent" in check["summary"]
    link = subprocess.run(["go", "build", "."], cwd=root, capture_output=True, text=True)
    assert link.returncode != 0 and "envsnapabsent" in link.stderr  # the real linker agrees


def test_library_a_pkg_config_module_names_resolves_nowhere(tmp_path: Path, tools: None) -> None:
    pc_dir = tmp_path / "pc"
    pc_dir.mkdir()
    (pc_dir / "envsnap-broken.pc").write_text(
        "Name: envsnap-broken\nDescription: names a library nobody installed\nVersion: 1.0\n"
        f"Libs: -L{tmp_path}/nolib -lenvsnapabsent\nCflags:\n"
    )
    package = ZLIB_PACKAGE.replace("pkg-config: zlib", "pkg-config: envsnap-broken")
    root = write_module(tmp_path / "m", {"zz/zz.go": package})
    check = tripped(doctor(root, with_env(PKG_CONFIG_PATH=str(pc_dir))), "cgo.libraries")
    assert check["summary"].startswith("-lenvsnapabsent (from pkg-config envsnap-broken)")
    assert f"-L{tmp_path}/nolib -lenvsnapabsent" in evidence_text(check)  # pkg-config's answer


def system_libz() -> Path:
    named = subprocess.run(
        ["gcc", "-print-file-name=libz.so"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert named != "libz.so", "zlib1g-dev is required"
    return Path(os.path.normpath(named))  # gcc prints …/gcc/x86_64-linux-gnu/12/../../../…


def test_library_linked_from_outside_its_header_prefix(tmp_path: Path, tools: None) -> None:
    system = system_libz()
    prefix = tmp_path / "opt" / "zlib"
    (prefix / "include").mkdir(parents=True)
    (prefix / "lib").mkdir()
    shutil.copy2(os.path.realpath(system), prefix / "lib" / "libz.so")
    package = (
        f"package zz\n\n// #cgo CFLAGS: -I{prefix}/include\n"
        f"// #cgo LDFLAGS: -L{system.parent} -L{prefix}/lib -lz\n"
        '// #include <zlib.h>\nimport "C"\n\n'
        "func Version() string { return C.GoString(C.zlibVersion()) }\n"
    )
    root = write_module(tmp_path / "m", {"zz/zz.go": package})
    check = tripped(doctor(root), "cgo.library-prefix", "warning")
    assert f"links {system}" in check["summary"] and str(prefix) in check["summary"]
    assert f"-L{prefix}/lib" in check["fix"]
    (root / "zz" / "zz.go").write_text(package.replace(f"-L{system.parent} ", ""))
    assert statuses(doctor(root))["cgo.library-prefix"] == "ok"


def test_cgo_flags_only_in_the_environment_of_a_vendored_module(
    tmp_path: Path, tools: None
) -> None:
    dep = LIBM_PACKAGE.replace("package mm", "package dep")
    write_module(tmp_path / "dep", {"dep.go": dep}, module="example.com/dep")
    root = write_module(
        tmp_path / "app",
        {"main.go": MAIN.format(path="example.com/dep", call="dep.Hypot(3, 4)")},
        module="example.com/app",
    )
    with (root / "go.mod").open("a") as go_mod:
        go_mod.write("\nrequire example.com/dep v0.0.0\n\nreplace example.com/dep => ../dep\n")
    env = with_env(GOFLAGS="")
    subprocess.run(["go", "mod", "vendor"], cwd=root, env=env, check=True, capture_output=True)
    assert (root / "vendor" / "modules.txt").is_file()
    assert statuses(doctor(root, env))["cgo.env-flags-vendor"] == "ok"
    flagged = {**env, "CGO_LDFLAGS": f"-L{tmp_path}/extra"}
    check = tripped(doctor(root, flagged), "cgo.env-flags-vendor", "warning")
    assert f"CGO_LDFLAGS=-L{tmp_path}/extra" in evidence_text(check)
    assert "in the environment" in check["summary"]


def test_verify_summary_with_a_lock(cgo_module: Path) -> None:
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    clean = [c for c in doctor(cgo_module)["checks"] if c["id"] == "lock.verify"]
    assert clean[0]["status"] == "ok" and clean[0]["summary"] == "linux-amd64 matches envsnap.lock"
    check = tripped(doctor(cgo_module, with_env(CGO_CFLAGS="-O2 -g -DEXTRA")), "lock.verify")
    assert check["summary"] == "linux-amd64 differs from envsnap.lock: 1 error"
    assert "error: CGO_CFLAGS (go env)" in evidence_text(check)


def test_a_hanging_pkg_config_is_stopped(cgo_module: Path, tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "pkg-config"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexec sleep 60\n")
    fake.chmod(0o755)
    env = with_env(PKG_CONFIG=str(fake), ENVSNAP_TIMEOUT="2")
    check = tripped(doctor(cgo_module, env), "cgo.pkg-config")
    # ENVSNAP_TIMEOUT bounds the whole command: the call gets what is left of the 2 s
    assert re.search(r"pkg-config --\S+ zlib` did not finish within", check["summary"])


def test_usage_error_is_exit_2(tmp_path: Path) -> None:
    result = envsnap("doctor", "-C", str(tmp_path / "absent"))
    assert result.returncode == 2 and "is not a directory" in result.stderr
