"""A repository never names a program envsnap runs: toolchain names with a path separator
(CVE-2023-39320) and programs found through a relative PATH entry are never executed.

The module of the first cases is Go's own ``cmd/go/testdata/script/mod_toolchain_slash.txt``,
read from the Go source at test time: its files are written out, its scripts additionally leave
a marker, and each directory the script runs ``go`` in is a case. The real go is run there first
(it must refuse, as the script says), then every envsnap command, and the git pre-commit hook
through a real ``git commit``.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from envsnap.host import LocalHost
from tests.conftest import Result, envsnap, require_tool
from tests.test_git_hook import gui_env, install, try_commit
from tests.test_git_repo import commit_all, init_repo
from tests.test_gover import go_source

__all__ = ["gui_env"]  # a fixture, used by name

SCRIPT = "cmd/go/testdata/script/mod_toolchain_slash.txt"
TOOLCHAIN_LINE = re.compile(r"^toolchain .*\n", re.MULTILINE)


@dataclass(frozen=True)
class Txtar:
    """A Go txtar script: its commands and its files."""

    commands: tuple[str, ...]
    files: dict[str, str]

    def go_dirs(self) -> list[str]:
        """The directories the script runs ``go`` in (after each ``cd``)."""
        where, dirs = ".", []
        for command in self.commands:
            if command.startswith("cd "):
                where = command.split(None, 1)[1]
            elif re.match(r"(! )?go ", command) and where not in dirs:
                dirs.append(where)
        return dirs

    def executables(self) -> list[str]:
        return [c.split()[2] for c in self.commands if c.startswith("chmod ")]


def read_txtar(path: Path) -> Txtar:
    parts = re.split(r"^-- (.+?) --\n", path.read_text(), flags=re.MULTILINE)
    commands = tuple(
        line.strip() for line in parts[0].splitlines() if line.strip() and line[0] != "#"
    )
    return Txtar(commands, dict(zip(parts[1::2], parts[2::2], strict=True)))


def write_case(root: Path, txtar: Txtar, marker: Path) -> None:
    """The script's files under *root*; each script it makes executable also appends its name
    to *marker* when run."""
    for name, text in txtar.files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name in txtar.executables():
            shebang, rest = text.split("\n", 1)
            text = f"{shebang}\necho {name} >> '{marker}'\n{rest}"
        path.write_text(text)
        if name in txtar.executables():
            path.chmod(0o777)


@pytest.fixture
def upstream() -> Txtar:
    txtar = read_txtar(go_source() / SCRIPT)
    assert txtar.go_dirs() == [".", "subdir"] and txtar.executables()  # the script as known
    return txtar


def real_go_refuses(where: Path, marker: Path) -> None:
    """The script's own check (``! go list all``, ``! stdout 'RAN SCRIPT'``) on the real go."""
    env = {**os.environ, "GOTOOLCHAIN": "auto", "GOFLAGS": ""}
    ran = subprocess.run(
        [require_tool("go"), "list", "all"], cwd=where, env=env, capture_output=True, text=True
    )
    assert ran.returncode != 0 and "RAN SCRIPT" not in ran.stdout, ran
    assert not marker.exists()


def refused_in_one_line(result: Result, codes: tuple[int, ...] = (2,)) -> None:
    assert result.returncode in codes, (result.returncode, result.stderr, result.stdout)
    assert "Traceback" not in result.stderr and "RAN SCRIPT" not in result.stdout
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_the_toolchain_slash_module_runs_nothing_from_the_repository(
    upstream: Txtar, tmp_path: Path, gui_env: dict[str, str]
) -> None:
    root, marker = tmp_path / "exploit", tmp_path / "ran"
    write_case(root, upstream, marker)
    # no -mod=mod (the suite's default): a `go list` under it would drop the toolchain line
    env = {**gui_env, "GOTOOLCHAIN": "auto", "GOFLAGS": ""}
    for where in (root / d for d in upstream.go_dirs()):
        real_go_refuses(where, marker)
        hostile = (where / "go.mod").read_text()
        (where / "go.mod").write_text(TOOLCHAIN_LINE.sub("", hostile))
        locked = envsnap("lock", env=env, cwd=where)  # a lock of the module before the attack
        assert locked.returncode == 0, locked.stderr
        (where / "go.mod").write_text(hostile)
        for command in ("show", "lock", "verify"):
            result = envsnap(command, env=env, cwd=where)
            assert not marker.exists(), f"envsnap {command} ran the repository's script"
            refused_in_one_line(result)
            assert "invalid toolchain" in result.stderr and "path separator" in result.stderr
            assert (where / "go.mod").read_text() == hostile
        doctor = envsnap("doctor", env=env, cwd=where)
        assert not marker.exists(), "envsnap doctor ran the repository's script"
        assert doctor.returncode == 1 and "go.toolchain: invalid toolchain" in doctor.stdout


def test_the_pre_commit_hook_runs_nothing_from_the_repository(
    upstream: Txtar, tmp_path: Path, gui_env: dict[str, str]
) -> None:
    """git runs the hook at the top of the work tree, where the module's go.mod names
    ``go1.999999-/run.sh``: a relative name that would resolve to the committed script."""
    repo, marker = init_repo(tmp_path / "repo"), tmp_path / "ran"
    write_case(repo, upstream, marker)
    hostile = (repo / "go.mod").read_text()
    (repo / "go.mod").write_text(TOOLCHAIN_LINE.sub("", hostile))
    locked = envsnap("lock", "-C", str(repo), env=gui_env)
    assert locked.returncode == 0, locked.stderr
    commit_all(repo, "the module, locked")
    install(repo)
    (repo / "go.mod").write_text(hostile)
    blocked = try_commit(repo, {**gui_env, "GOTOOLCHAIN": "auto", "GOFLAGS": ""})
    assert not marker.exists(), "the hook ran the repository's script"
    assert blocked.returncode != 0 and "invalid toolchain" in blocked.stderr, blocked.stderr


def test_a_go_work_toolchain_with_a_slash_runs_nothing(
    tmp_path: Path, gui_env: dict[str, str]
) -> None:
    """The workspace's go.work decides the switch (go's modGoToolchain): the same refusal, from
    a module whose folder holds the script the name would resolve to."""
    marker, module = tmp_path / "ran", tmp_path / "m"
    (tmp_path / "go.work").write_text("go 1.21\ntoolchain go1.999999-/run.sh\n\nuse ./m\n")
    (module / "go1.999999-").mkdir(parents=True)
    plant(module / "go1.999999-", "run.sh", marker)
    (module / "go.mod").write_text("module example.com/m\n\ngo 1.21\n")
    env = {**gui_env, "GOTOOLCHAIN": "auto", "GOFLAGS": ""}
    go = subprocess.run(["go", "list", "all"], cwd=module, env=env, capture_output=True, text=True)
    assert 'invalid toolchain "go1.999999-/run.sh" in ../go.work' in go.stderr, go.stderr
    assert not marker.exists()
    result = envsnap("show", env=env, cwd=module)
    assert not marker.exists(), "envsnap show ran the module's script"
    refused_in_one_line(result)
    assert "invalid toolchain 'go1.999999-/run.sh' in go.work" in result.stderr


# --- relative PATH entries: what go's exec.LookPath refuses (ErrDot) -------------------------

PLANTED = "#!/bin/sh\necho planted >> '{marker}'\nexit 1\n"


def plant(directory: Path, name: str, marker: Path) -> None:
    path = directory / name
    path.write_text(PLANTED.format(marker=marker))
    path.chmod(0o755)


@pytest.mark.parametrize("entry", [".", ""])
def test_a_toolchain_found_only_through_a_relative_path_entry_is_never_run(
    entry: str, tmp_path: Path, gui_env: dict[str, str]
) -> None:
    """go.mod asks for go1.99.1 and the module's top holds an executable of that name; PATH
    starts with `.` (or an empty entry): go refuses to run it (ErrDot), and so does envsnap."""
    module, marker = tmp_path / "m", tmp_path / "ran"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/m\n\ngo 1.21\n\ntoolchain go1.99.1\n")
    (module / "p.go").write_text("package p\n")
    plant(module, "go1.99.1", marker)
    env = {**gui_env, "PATH": f"{entry}:{gui_env['PATH']}", "GOTOOLCHAIN": "auto", "GOFLAGS": ""}
    go = subprocess.run(
        ["go", "version"], cwd=module, env={**env, "GOPROXY": "off"}, capture_output=True
    )
    assert go.returncode != 0 and not marker.exists()  # go would download, not run ./go1.99.1
    for command in ("show", "lock"):
        result = envsnap(command, env=env, cwd=module)
        assert not marker.exists(), f"envsnap {command} ran the module's own program"
        refused_in_one_line(result)
        assert "go1.99.1" in result.stderr and "module cache" in result.stderr


@pytest.mark.parametrize("entry", [".", ""])
def test_a_go_found_only_through_a_relative_path_entry_is_named_not_run(
    entry: str, tmp_path: Path, gui_env: dict[str, str]
) -> None:
    """The shell would run the module's own `go` here; envsnap says so in one line instead."""
    module, marker = tmp_path / "m", tmp_path / "ran"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/m\n\ngo 1.21\n")
    plant(module, "go", marker)
    env = {**gui_env, "PATH": f"{entry}:{gui_env['PATH']}"}
    for command in ("show", "lock"):
        result = envsnap(command, env=env, cwd=module)
        assert not marker.exists(), f"envsnap {command} ran the module's own program"
        refused_in_one_line(result)
        assert "`go` on PATH is ./go, found through a relative PATH entry" in result.stderr


def test_a_name_with_a_directory_part_resolves_only_when_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plant(tmp_path, "tool", tmp_path / "ran")
    monkeypatch.chdir(tmp_path)
    host = LocalHost({"PATH": "/usr/bin:/bin"})
    assert host.which("./tool") is None and host.which("../" + tmp_path.name + "/tool") is None
    assert host.which(str(tmp_path / "tool")) == str(tmp_path / "tool")
    assert host.which("sh") in ("/usr/bin/sh", "/bin/sh")
