"""The secrets corpus end to end: the real `envsnap` on a copy of examples/zlib, with the real
go, gcc and pkg-config.

Each credential is set in each variable a cgo build reads (the environment, `go env -w`, a
variable envsnap.toml tracks) on a module already locked clean. `lock` must refuse it by the
variable's name and leave the lock as it was; `show --json`, `verify --json`, the emitted
.envrc and shell.nix, and a recording must not hold it. Defines named like secrets lock; a NUL
byte is refused by name, by `lock` and by the emitters; a compiler's version line is scrubbed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from envsnap.lockfile import content_of, parse_lock, render, with_entry
from tests.conftest import REPO, envsnap, require_tool
from tests.hostile.conftest import Tools
from tests.hostile.files_common import assert_one_line_refusal
from tests.hostile.test_secret_shapes import HEX32, JWT, ORDINARY_DEFINES, UUID

PASSWORD = "hunter2"
SECRETS = {"jwt": JWT, "hex32": HEX32, "uuid": UUID, "password": PASSWORD}
# variable -> (where it is set, the value with {s} for a key, with {s} for a password or None)
PLACES: dict[str, tuple[str, str, str | None]] = {
    "CGO_CFLAGS": ("environment", "-O2 -DKEY={s}", "-O2 -DDB_PASSWORD={s}"),
    "CC": ("environment", "gcc -DKEY={s}", "gcc -DDB_PASSWORD={s}"),
    "GOFLAGS": (
        "environment",
        "-mod=mod -ldflags=-X=main.key={s}",
        "-mod=mod -ldflags=-X=main.dbPassword={s}",
    ),
    "PKG_CONFIG_PATH": ("environment", "/usr/lib/pkgconfig:{s}", None),
    "GOPRIVATE": ("envsnap.toml", "github.com/acme/*,{s}", None),  # tracked by [track] env
    "go env -w CGO_CFLAGS": ("go env -w", "-O2 -DKEY={s}", "-O2 -DDB_PASSWORD={s}"),
}
READERS = (
    ("show", "--json"),
    ("verify", "--json"),
    ("emit", "--direnv", "--stdout"),
    ("emit", "--nix", "--stdout"),
)


@pytest.fixture
def zlib(tmp_path: Path) -> Path:
    """A copy of examples/zlib, not yet locked."""
    for tool in ("go", "gcc", "pkg-config"):
        require_tool(tool)
    module = tmp_path / "zlib"
    shutil.copytree(REPO / "examples" / "zlib", module)
    (module / "envsnap.lock").unlink()
    return module


def run(module: Path, env: Mapping[str, str], *argv: str) -> tuple[int, str]:
    """`envsnap ARGV -C MODULE`: its exit code, and stdout and stderr together."""
    result = envsnap(*argv, "-C", str(module), env=env)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout + result.stderr


def setting(place: str, variable: str, value: str, goenv: Path) -> dict[str, str]:
    """The environment that sets *variable* to *value* as *place* says."""
    if place == "go env -w":
        goenv.write_text(f"{variable.split()[-1]}={value}\n")
        return {}
    return {variable: value}


def recorded(directory: Path) -> str:
    return "".join(p.read_text("utf-8", "replace") for p in directory.rglob("*") if p.is_file())


@pytest.mark.parametrize("variable", list(PLACES))
def test_a_credential_in_a_variable_is_refused_and_reaches_no_output(
    zlib: Path, tmp_path: Path, variable: str
) -> None:
    place, template, password_template = PLACES[variable]
    goenv = tmp_path / "goenv"
    env = {**os.environ, "GOENV": str(goenv), "GOPRIVATE": "github.com/acme/*"}
    if place == "envsnap.toml":
        (zlib / "envsnap.toml").write_text('[track]\nenv = ["GOPRIVATE"]\n')
    assert run(zlib, env, "lock")[0] == 0
    clean = (zlib / "envsnap.lock").read_bytes()
    name = variable.split()[-1]
    where = "environment" if place == "envsnap.toml" or name == "PKG_CONFIG_PATH" else "go env"
    for kind, secret in SECRETS.items():
        value = password_template if kind == "password" else template
        if value is None:
            continue
        placed = {**env, **setting(place, variable, value.replace("{s}", secret), goenv)}
        code, said = run(zlib, placed, "lock")
        assert code == 2, (kind, said)
        assert f"{name} ({where}) looks like it contains a credential" in said, (kind, said)
        assert (zlib / "envsnap.lock").read_bytes() == clean, kind
        seen = {" ".join(argv): run(zlib, placed, *argv)[1] for argv in READERS}
        assert run(zlib, placed, "record", str(tmp_path / kind))[0] == 0
        seen["recording"] = recorded(tmp_path / kind)
        assert [w for w, text in {"lock": said, **seen}.items() if secret in text] == [], kind


@pytest.mark.parametrize("define", ORDINARY_DEFINES)
def test_a_define_named_like_a_secret_locks_and_verifies(zlib: Path, define: str) -> None:
    env = {**os.environ, "CGO_CFLAGS": f"-O2 {define}"}
    code, said = run(zlib, env, "lock")
    assert code == 0, said
    assert define.replace('"', '\\"') in (zlib / "envsnap.lock").read_text()
    assert run(zlib, env, "verify", "--json")[0] == 0


def test_a_nul_byte_in_a_go_setting_is_refused_by_name(zlib: Path, tmp_path: Path) -> None:
    goenv = tmp_path / "goenv"
    env = {**os.environ, "GOENV": str(goenv)}
    assert run(zlib, env, "lock")[0] == 0
    clean = (zlib / "envsnap.lock").read_bytes()
    goenv.write_bytes(b"CGO_CFLAGS=-O2\0-DX=1\n")
    result = envsnap("lock", "-C", str(zlib), env=env)
    assert_one_line_refusal(result.returncode, result.stderr, "CGO_CFLAGS", "NUL byte")
    assert "go env -u CGO_CFLAGS" in result.stderr
    assert (zlib / "envsnap.lock").read_bytes() == clean


@pytest.mark.parametrize(("flag", "written"), [("--direnv", ".envrc"), ("--nix", "shell.nix")])
def test_the_emitters_refuse_a_nul_byte_by_name(zlib: Path, flag: str, written: str) -> None:
    assert run(zlib, dict(os.environ), "lock")[0] == 0
    path = zlib / "envsnap.lock"
    lock = parse_lock(path, path.read_bytes())
    (platform,) = lock.platforms
    content = content_of(lock.platforms[platform])
    content["go"]["env"]["CGO_CFLAGS"] = "-O2\0-DX=1"
    path.write_bytes(render(with_entry(lock, platform, content)))
    result = envsnap("emit", flag, "-C", str(zlib))
    assert_one_line_refusal(result.returncode, result.stderr, "CGO_CFLAGS", "NUL byte")
    assert not (zlib / written).exists()


def test_the_workflow_refuses_a_nul_byte_by_name(zlib: Path) -> None:
    """A JSON escape (\\u0000) is a YAML one too: the job would hand its steps a CC that is
    not the lock's (a process's environment cannot hold a NUL). Refused as the other emitters
    refuse it."""
    assert run(zlib, dict(os.environ), "lock")[0] == 0
    path = zlib / "envsnap.lock"
    lock = parse_lock(path, path.read_bytes())
    (platform,) = lock.platforms
    content = content_of(lock.platforms[platform])
    content["go"]["env"]["CC"] = "gcc\0-DX=1"
    path.write_bytes(render(with_entry(lock, platform, content)))
    result = envsnap("emit", "--github-actions", "-C", str(zlib))
    assert_one_line_refusal(result.returncode, result.stderr, "CC", "NUL byte")
    assert not (zlib / ".github").exists()


def test_a_compilers_version_line_is_scrubbed(zlib: Path, tmp_path: Path) -> None:
    """A wrapper that prints its remote cache's token in its version line (first on PATH)."""
    tools = Tools(tmp_path)
    tools.fake("gcc", "--version", f'echo "gcc 13.2.0 (cache auth {JWT})"; exit 0')
    code, said = run(zlib, tools.env, "lock")
    assert code == 0, said
    locked = (zlib / "envsnap.lock").read_text()
    assert "gcc 13.2.0 (cache auth <redacted>)" in locked
    assert JWT not in locked and JWT.split(".")[2] not in locked
