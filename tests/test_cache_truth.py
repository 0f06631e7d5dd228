"""Each way the caches once said "matches" while the build had changed, on real files and a real go.

Every test locks, runs a cached verify to fill the caches, changes one thing the build depends on
(keeping sizes and mtimes where a cache might be fooled by them), and then requires the cached
verify to report exactly what ``ENVSNAP_NO_CACHE=1 verify`` reports, which is the drift.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LIBM_PACKAGE, envsnap, other_go, require_tool, write_module

MAIN_IMPORTING = """package main

import _ "{target}"

func main() {{}}
"""


def verify(module: Path, env: Mapping[str, str], cached: bool) -> dict[str, Any]:
    env = {**env, "ENVSNAP_NO_CACHE": "0" if cached else "1"}
    result = envsnap("verify", "--json", "-C", str(module), env=env)
    assert result.returncode in (0, 1), result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def paths_of(document: dict[str, Any]) -> list[str]:
    return [f["id"] for f in document["findings"]]


def warm(module: Path, env: Mapping[str, str]) -> None:
    """Lock, then fill every cache with a clean verify (twice: the second must be all hits)."""
    locked = envsnap("lock", "-C", str(module), env=env)
    assert locked.returncode == 0, locked.stderr
    time.sleep(0.2)  # older than the racy window, so the caches keep what they see
    for _ in range(2):
        assert verify(module, env, cached=True)["exit_code"] == 0


def after_change(module: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """The cached verify's report, checked to equal the uncached one's."""
    cached = verify(module, env, cached=True)
    fresh = verify(module, env, cached=False)
    assert cached == fresh
    return cached


# Go's own package index (in GOCACHE) trusts a directory whose files keep their names, sizes and
# mtimes, so go itself would miss a .go file rewritten that way once the index has it; the tests
# that rewrite Go files like that ask go to read the files (GODEBUG=goindex=0).
NO_GO_INDEX = {"GODEBUG": "goindex=0"}


def rewrite_keeping_size_and_mtime(path: Path, old: bytes, new: bytes) -> None:
    assert len(old) == len(new)
    before = path.stat()
    data = path.read_bytes()
    assert old in data
    with path.open("r+b") as handle:  # in place: same inode
        handle.write(data.replace(old, new))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )


@pytest.fixture
def tools() -> None:
    for name in ("go", "gcc", "pkg-config"):
        require_tool(name)


def test_a_cgo_line_in_the_second_module_of_a_parent_go_work(tmp_path: Path, tools: None) -> None:
    lib = write_module(tmp_path / "lib", {"mm/mm.go": LIBM_PACKAGE}, module="example.com/lib")
    app = write_module(
        tmp_path / "app", {"main.go": MAIN_IMPORTING.format(target="example.com/lib/mm")}
    )
    (tmp_path / "go.work").write_text("go 1.21\n\nuse (\n\t./app\n\t./lib\n)\n")
    env = {**os.environ, **NO_GO_INDEX, "GOFLAGS": ""}  # -mod=mod is refused in workspaces
    warm(app, env)
    rewrite_keeping_size_and_mtime(lib / "mm" / "mm.go", b"-lm\n", b"-lz\n")
    assert "libraries.-lz" in paths_of(after_change(app, env))


def test_go_env_w_is_seen_wherever_go_keeps_its_settings(tmp_path: Path, tools: None) -> None:
    module = write_module(tmp_path / "mod", {"mm/mm.go": LIBM_PACKAGE})
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    warm(module, env)
    go = shutil.which("go", path=env["PATH"])
    assert go is not None
    subprocess.run([go, "env", "-w", "CGO_CFLAGS=-O1"], env=env, check=True)
    assert "go.env.CGO_CFLAGS" in paths_of(after_change(module, env))


def _shim(tmp_path: Path, versions: dict[str, str]) -> Path:
    """An asdf-style `go` shim: it runs the go named by the nearest .tool-versions."""
    cases = "\n".join(f'  "golang {v}") exec "{go}" "$@" ;;' for v, go in versions.items())
    script = f"""#!/bin/sh
dir=$PWD
while [ "$dir" != / ] && [ ! -f "$dir/.tool-versions" ]; do dir=$(dirname "$dir"); done
case "$(cat "$dir/.tool-versions" 2>/dev/null)" in
{cases}
  *) echo "no go selected" >&2; exit 126 ;;
esac
"""
    shim_dir = tmp_path / "shims"
    shim_dir.mkdir()
    (shim_dir / "go").write_text(script)
    (shim_dir / "go").chmod(0o755)
    return shim_dir


def test_a_version_file_rewritten_in_place_behind_a_shim(tmp_path: Path, tools: None) -> None:
    local = shutil.which("go")
    assert local is not None
    older = str(Path(other_go("ENVSNAP_TEST_GO_OTHER_MINOR"), "go"))
    shims = _shim(tmp_path, {"1.26.6": local, "1.25.5": older})
    module = write_module(tmp_path / "mod", {"mm/mm.go": LIBM_PACKAGE})
    (module / ".tool-versions").write_text("golang 1.26.6\n")
    env = {**os.environ, "PATH": f"{shims}:{os.environ['PATH']}"}
    warm(module, env)
    rewrite_keeping_size_and_mtime(module / ".tool-versions", b"1.26.6", b"1.25.5")
    assert "go.version" in paths_of(after_change(module, env))


def _private_goroot(tmp_path: Path) -> Path:
    """A GOROOT of its own (the real go binary, the rest linked) behind a wrapper script."""
    go = shutil.which("go")
    assert go is not None
    real_root = Path(
        subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True, check=True).stdout
    )
    real_root = Path(str(real_root).strip())
    root = tmp_path / "goroot"
    (root / "bin").mkdir(parents=True)
    shutil.copy2(real_root / "bin" / "go", root / "bin" / "go")
    for entry in real_root.iterdir():
        if entry.name not in ("bin", "go.env"):
            (root / entry.name).symlink_to(entry)
    shutil.copy2(real_root / "go.env", root / "go.env")
    wrapper = tmp_path / "wrapper" / "go"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nexec "{root}/bin/go" "$@"\n')
    wrapper.chmod(0o755)
    return root


def test_goroot_go_env_behind_a_wrapper(tmp_path: Path, tools: None) -> None:
    root = _private_goroot(tmp_path)
    module = write_module(tmp_path / "mod", {"mm/mm.go": LIBM_PACKAGE})
    env = {**os.environ, "PATH": f"{tmp_path / 'wrapper'}:{os.environ['PATH']}"}
    warm(module, env)
    with (root / "go.env").open("a") as handle:
        handle.write("CGO_CFLAGS=-O1\n")
    assert "go.env.CGO_CFLAGS" in paths_of(after_change(module, env))


def test_a_package_directory_that_is_a_symlink(tmp_path: Path, tools: None) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "mm.go").write_text(LIBM_PACKAGE)
    module = write_module(
        tmp_path / "mod", {"main.go": MAIN_IMPORTING.format(target="example.com/m/linked")}
    )
    (module / "linked").symlink_to(outside, target_is_directory=True)
    env = {**os.environ, **NO_GO_INDEX}
    warm(module, env)
    rewrite_keeping_size_and_mtime(outside / "mm.go", b"-lm\n", b"-lz\n")
    assert "libraries.-lz" in paths_of(after_change(module, env))


LIBFOO = "int foo(void) {{ return {value}; }}\n"


def _archive(workdir: Path, value: int) -> bytes:
    (workdir / "foo.c").write_text(LIBFOO.format(value=value))
    subprocess.run(["gcc", "-c", "-o", "foo.o", "foo.c"], cwd=workdir, check=True)
    (workdir / "libfoo.a").unlink(missing_ok=True)
    subprocess.run(["ar", "rcD", "libfoo.a", "foo.o"], cwd=workdir, check=True)
    return (workdir / "libfoo.a").read_bytes()


def test_a_library_rewritten_in_place_with_size_and_mtime_kept(tmp_path: Path, tools: None) -> None:
    libs = tmp_path / "libs"
    libs.mkdir()
    second = _archive(libs, 2)
    first = _archive(libs, 1)
    package = LIBM_PACKAGE.replace("-lm", f"-L{libs} -lfoo -lm")
    module = write_module(tmp_path / "mod", {"mm/mm.go": package})
    warm(module, os.environ)
    rewrite_keeping_size_and_mtime(libs / "libfoo.a", first, second)
    document = after_change(module, os.environ)
    assert any(p.startswith("libraries.-lfoo") for p in paths_of(document)), document


INCLUDING = LIBM_PACKAGE.replace("-lm", "-lm\n// #cgo CFLAGS: -I${SRCDIR}/include")


def test_a_checkout_reached_through_a_symlink(tmp_path: Path, tools: None) -> None:
    module = write_module(tmp_path / "real" / "mod", {"mm/mm.go": INCLUDING, "mm/include/m.h": ""})
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "real", target_is_directory=True)
    warm(module, os.environ)
    assert after_change(link / "mod", os.environ)["findings"] == []  # the same checkout
