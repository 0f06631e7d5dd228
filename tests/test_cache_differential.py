"""The differential property: a cached ``verify`` always says what an uncached one says.

A real locked module (a workspace of two modules, a pkg-config library with its own ``.pc``
file, a static library, a dependency from a private module cache, a Go file a build constraint
excludes, an asdf-style go shim in front of a private GOROOT that falls back to a goenv-style
global version file, a relative PATH entry, a ``-B`` directory in CGO_LDFLAGS) goes through
random sequences of the changes people make to a machine, several of them crafted to keep sizes
and mtimes, and is verified through its real path, with ``-C`` through a symlink, or from inside
the symlinked checkout as a shell that cd'd there. After each step the cached verify and
``ENVSNAP_NO_CACHE=1 verify`` must give the same report. The seed is fixed (derandomize) so
that CI runs the same sequences every time, and the test fails unless every kind of change was
exercised.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests import modcache
from tests.conftest import envsnap, other_go, require_tool, write_module
from tests.test_cache_inputs import fake_ld
from tests.test_cache_truth import MAIN_IMPORTING, NO_GO_INDEX, rewrite_keeping_size_and_mtime

KINDS = {
    "cgo-line",
    "package",
    "go-work",
    "go-env-w",
    "go-binary",
    "library",
    "pc-file",
    "symlinked-checkout",
    "symlinked-cwd",
    "version-file",
    "version-global",
    "module-cache",
    "relative-path",
    "b-dir",
    "constrained-file",
}
SEEN: set[str] = set()


Step = TypeVar("Step", bound=Callable[..., None])


def unseen_first(kind: str) -> Callable[[Step], Step]:
    """A rule runs only while its kind is still unseen, or once every kind was seen: the first
    steps exercise each kind once, in an order the search picks, and then anything goes."""
    enabled: Callable[[Step], Step] = precondition(lambda _: kind not in SEEN or SEEN >= KINDS)
    return enabled


SETTLE = 0.15  # past the racy window, so that each verify's memo is kept for the next step

CGO = """package {name}

// #cgo {directive}
import "C"

func F() {{}}
"""
EXCLUDED = "//go:build ignore\n\n"
FOO_PC = "prefix={libs}\nName: foo\nDescription: test\nVersion: 1.0\nLibs: -L{libs} -lfoo\n"


def _run(
    *argv: str, cwd: Path | None = None, env: dict[str, str] | None = None, check: bool = True
) -> bytes:
    return subprocess.run(argv, cwd=cwd, env=env, check=check, capture_output=True).stdout


@cache
def _archives() -> tuple[bytes, bytes]:
    """Two real static libraries of the same size (``foo`` returning 1, and 2)."""
    work = Path(tempfile.mkdtemp())
    made = []
    for value in (1, 2):
        (work / "foo.c").write_text(f"int foo(void) {{ return {value}; }}\n")
        _run("gcc", "-c", "-o", "foo.o", "foo.c", cwd=work)
        (work / "libfoo.a").unlink(missing_ok=True)
        _run("ar", "rcD", "libfoo.a", "foo.o", cwd=work)
        made.append((work / "libfoo.a").read_bytes())
    shutil.rmtree(work)
    assert len(made[0]) == len(made[1]) and made[0] != made[1]
    return made[0], made[1]


@cache
def _go_binaries() -> tuple[bytes, bytes, Path]:
    """The go 1.26.6 and 1.26.5 binaries padded to one size, and 1.26.6's GOROOT."""
    go = shutil.which("go")
    assert go is not None
    root = Path(_run(go, "env", "GOROOT").decode().strip())
    other = Path(other_go("ENVSNAP_TEST_GO_OTHER_PATCH"), "go").resolve()
    one, two = (root / "bin" / "go").read_bytes(), other.read_bytes()
    size = max(len(one), len(two))
    return one.ljust(size, b"\0"), two.ljust(size, b"\0"), root


class Machine(RuleBasedStateMachine):
    """One locked workspace, changed step by step."""

    def __init__(self) -> None:
        super().__init__()
        self.top = Path(tempfile.mkdtemp(prefix="envsnap-diff-"))
        self.work = self.top / "work"
        self.mod = self.work / "mod"
        self.way = "real"  # how verify reaches the module: its real path, -C link, cd link
        self.env = self._environment()
        self._make_tree()
        locked = envsnap("lock", "-C", str(self.mod), env=self.env, cwd=self.top / "cwd")
        assert locked.returncode == 0, locked.stderr
        time.sleep(SETTLE)

    def _environment(self) -> dict[str, str]:
        go_new, _, real_root = _go_binaries()
        root = self.top / "goroot"
        (root / "bin").mkdir(parents=True)
        (root / "bin" / "go").write_bytes(go_new)
        (root / "bin" / "go").chmod(0o755)
        for entry in real_root.iterdir():
            if entry.name != "bin":
                (root / entry.name).symlink_to(entry)
        older = Path(other_go("ENVSNAP_TEST_GO_OTHER_MINOR"), "go")
        shims = self.top / "shims"
        shims.mkdir()
        (shims / "go").write_text(
            "#!/bin/sh\ndir=$PWD\n"
            'while [ "$dir" != / ] && [ ! -f "$dir/.tool-versions" ]; do dir=$(dirname "$dir");'
            " done\n"
            'selected=$(cat "$dir/.tool-versions" 2>/dev/null)\n'
            'case "$selected" in *global) selected=$(cat "$GOENV_ROOT/version");; esac\n'
            'case "$selected" in\n'
            f'  *1.25.5) exec "{older}" "$@" ;;\n'
            f'  *) exec "{root}/bin/go" "$@" ;;\nesac\n'
        )
        (shims / "go").chmod(0o755)
        return {
            **os.environ,
            **NO_GO_INDEX,
            "PATH": f"bin:{shims}:{os.environ['PATH']}",  # bin under the working directory
            "GOFLAGS": "",  # workspace mode refuses -mod=mod
            "GOPROXY": "off",
            "GOSUMDB": "off",
            "GOMODCACHE": str(self.top / "modcache"),
            "GOENV_ROOT": str(self.top / "goenv"),
            "CGO_LDFLAGS": f"-O2 -g -B {self.top / 'ldbin'}/",
            "PKG_CONFIG_PATH": str(self.top / "pc"),
            "XDG_CONFIG_HOME": str(self.top / "config"),
            "XDG_CACHE_HOME": str(self.top / "cache"),
        }

    def _make_tree(self) -> None:
        libs, pc = self.top / "libs", self.top / "pc"
        for folder in (libs, pc, self.top / "ldbin", self.top / "goenv", self.top / "cwd"):
            folder.mkdir()
        (self.top / "goenv" / "version").write_text("1.26.6\n")
        (libs / "libfoo.a").write_bytes(_archives()[0])
        (pc / "foo.pc").write_text(FOO_PC.format(libs=libs))
        main = MAIN_IMPORTING.format(target="example.com/other/oo").replace(
            "import _",
            'import (\n\t_ "example.com/m/zz"\n\t_ "example.com/m/mm"\n'
            f'\t_ "{modcache.DEP}"\n)\nimport _',
        )
        write_module(
            self.mod,
            {
                "main.go": main,
                "zz/zz.go": CGO.format(name="zz", directive="pkg-config: foo"),
                "mm/mm.go": CGO.format(name="mm", directive=f"LDFLAGS: -L{libs} -lfoo -lm"),
                "cc/cc.go": EXCLUDED + CGO.format(name="cc", directive="LDFLAGS: -lz"),
                ".tool-versions": "golang 1.26.6\n",
            },
        )
        with (self.mod / "go.mod").open("a") as go_mod:
            go_mod.write(f"\nrequire {modcache.DEP} {modcache.VERSION}\n")
        self.proxy = modcache.dep_proxy(self.top / "proxy")
        said = modcache.download(self.env, self.proxy, self.mod)
        (self.mod / "go.sum").write_text(modcache.go_sum(said))
        write_module(
            self.work / "other",
            {"oo/oo.go": CGO.format(name="oo", directive="LDFLAGS: -lm")},
            module="example.com/other",
        )
        (self.work / "go.work").write_text(self._go_work(["./mod", "./other"]))
        write_module(self.work / "third", {"t.go": "package third\n"}, module="example.com/third")
        (self.top / "link").symlink_to(self.work, target_is_directory=True)

    @staticmethod
    def _go_work(uses: list[str]) -> str:
        return "go 1.21\n\nuse (\n" + "".join(f"\t{u}\n" for u in uses) + ")\n"

    def teardown(self) -> None:
        modcache.make_writable(self.top / "modcache")
        shutil.rmtree(self.top, ignore_errors=True)

    def _cwd(self) -> Path:
        """Where verify runs: inside the checkout through the symlink, or a folder beside it."""
        return self.top / "link" / "mod" if self.way == "cd link" else self.top / "cwd"

    def _verify(self, cached: bool) -> dict[str, Any]:
        cwd = self._cwd()
        env = {**self.env, "ENVSNAP_NO_CACHE": "0" if cached else "1", "PWD": str(cwd)}
        where = {"real": ["-C", str(self.mod)], "-C link": ["-C", str(self.top / "link" / "mod")]}
        result = envsnap("verify", "--json", *where.get(self.way, []), env=env, cwd=cwd)
        assert result.returncode in (0, 1), result.stderr
        document: dict[str, Any] = json.loads(result.stdout)
        return document

    def _check(self, kind: str) -> None:
        SEEN.add(kind)
        time.sleep(SETTLE)
        cached = self._verify(cached=True)
        assert cached == self._verify(cached=False), kind

    @unseen_first("cgo-line")
    @rule(source=st.sampled_from(["mod/mm/mm.go", "other/oo/oo.go"]), swap=st.booleans())
    def edit_cgo_line(self, source: str, swap: bool) -> None:
        path = self.work / source
        old, new = (b"-lm\n", b"-lz\n") if swap else (b"-lz\n", b"-lm\n")
        if old in path.read_bytes():
            rewrite_keeping_size_and_mtime(path, old, new)
        self._check("cgo-line")

    @unseen_first("package")
    @rule()
    def toggle_package(self) -> None:
        package = self.mod / "pp"
        if package.exists():
            shutil.rmtree(package)
        else:
            package.mkdir()
            (package / "pp.go").write_text(CGO.format(name="pp", directive="LDFLAGS: -lz"))
            main = self.mod / "main.go"
            text = main.read_text()
            if "example.com/m/pp" not in text:
                main.write_text(text.replace("import _", 'import _ "example.com/m/pp"\nimport _'))
        self._check("package")

    @unseen_first("go-work")
    @rule(uses=st.sampled_from([["./mod", "./other"], ["./mod", "./other", "./third"], []]))
    def change_go_work(self, uses: list[str]) -> None:
        go_work = self.work / "go.work"
        if uses:
            go_work.write_text(self._go_work(uses))
        else:
            go_work.unlink(missing_ok=True)
        self._check("go-work")

    @unseen_first("go-env-w")
    @rule(value=st.sampled_from(["-O1", "-O2", None]))
    def go_env_w(self, value: str | None) -> None:
        go = shutil.which("go", path=self.env["PATH"])
        assert go is not None
        argv = ["env", "-w", f"CGO_CFLAGS={value}"] if value else ["env", "-u", "CGO_CFLAGS"]
        _run(go, *argv, cwd=self.mod, env=self.env, check=value is not None)
        self._check("go-env-w")

    @unseen_first("go-binary")
    @rule(newer=st.booleans())
    def swap_go_binary(self, newer: bool) -> None:
        go_new, go_old, _ = _go_binaries()
        binary = self.top / "goroot" / "bin" / "go"
        mtime = binary.stat().st_mtime_ns
        replacement = binary.with_name("go.new")
        replacement.write_bytes(go_new if newer else go_old)
        replacement.chmod(0o755)
        os.utime(replacement, ns=(mtime, mtime))
        os.replace(replacement, binary)
        self._check("go-binary")

    @unseen_first("library")
    @rule(first=st.booleans())
    def rewrite_library(self, first: bool) -> None:
        one, two = _archives()
        path = self.top / "libs" / "libfoo.a"
        current = path.read_bytes()
        wanted = one if first else two
        if current != wanted:
            rewrite_keeping_size_and_mtime(path, current, wanted)
        self._check("library")

    @unseen_first("pc-file")
    @rule(version=st.sampled_from([b"1.0", b"1.1"]))
    def change_pc_file(self, version: bytes) -> None:
        path = self.top / "pc" / "foo.pc"
        other = b"1.1" if version == b"1.0" else b"1.0"
        if b"Version: " + other in path.read_bytes():
            rewrite_keeping_size_and_mtime(path, b"Version: " + other, b"Version: " + version)
        self._check("pc-file")

    @unseen_first("symlinked-checkout")
    @rule(way=st.sampled_from(["real", "-C link"]))
    def switch_checkout_path(self, way: str) -> None:
        self.way = way
        self._check("symlinked-checkout")

    @unseen_first("symlinked-cwd")
    @rule()
    def cd_into_the_link(self) -> None:
        self.way = "cd link"
        self._check("symlinked-cwd")

    @unseen_first("version-file")
    @rule(version=st.sampled_from([b"1.26.6", b"1.25.5", b"global"]))
    def rewrite_version_file(self, version: bytes) -> None:
        path = self.mod / ".tool-versions"
        current = path.read_bytes().split()[1]
        if current != version:
            rewrite_keeping_size_and_mtime(path, current, version)
        self._check("version-file")

    @unseen_first("version-global")
    @rule(version=st.sampled_from([b"1.26.6", b"1.25.5"]))
    def rewrite_global_version(self, version: bytes) -> None:
        path = self.top / "goenv" / "version"
        current = path.read_bytes().strip()
        if current != version:
            rewrite_keeping_size_and_mtime(path, current, version)
        self._check("version-global")

    @unseen_first("module-cache")
    @rule(present=st.booleans())
    def toggle_module_in_cache(self, present: bool) -> None:
        if present:
            modcache.download(self.env, self.proxy, self.mod)
        else:
            modcache.remove(self.top / "modcache")
        self._check("module-cache")

    @unseen_first("relative-path")
    @rule()
    def toggle_compiler_under_relative_path(self) -> None:
        planted = self._cwd() / "bin" / "gcc"
        if planted.exists():
            planted.unlink()
        else:
            planted.parent.mkdir(exist_ok=True)
            planted.write_text(f'#!/bin/sh\nexec "{shutil.which("gcc")}" "$@"\n')
            planted.chmod(0o755)
        self._check("relative-path")

    @unseen_first("b-dir")
    @rule()
    def toggle_linker_in_b_dir(self) -> None:
        planted = self.top / "ldbin" / "ld"
        if planted.exists():
            planted.unlink()
        else:
            fake_ld(planted.parent)
        self._check("b-dir")

    @unseen_first("constrained-file")
    @rule()
    def toggle_build_constraint(self) -> None:
        path = self.mod / "cc" / "cc.go"
        text = path.read_text()
        with path.open("w") as handle:  # in place, as the shell's > rewrites a file
            handle.write(
                text.removeprefix(EXCLUDED) if text.startswith(EXCLUDED) else EXCLUDED + text
            )
        self._check("constrained-file")


def test_cached_and_uncached_verify_agree_after_any_changes() -> None:
    for tool in ("go", "gcc", "ar", "pkg-config"):
        require_tool(tool)
    SEEN.clear()
    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=10,
            stateful_step_count=10,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],  # a failure is shown as found, unshrunk
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    assert SEEN == KINDS, f"never exercised: {sorted(KINDS - SEEN)}"
