"""Compiler flags are not credentials: `lock` records them, and refuses only what really is one.

Every test runs the real `envsnap lock` on a real cgo module with the real go; a refusal's hint is
checked by doing what it says and seeing `lock` succeed.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from envsnap.redact import REDACTED, scrub
from tests.conftest import REPO, envsnap

OPENSSL_FLAGS = "-O2 -g -DOPENSSL_API_COMPAT=0x10100000L"
GIT_SHA = "e9c443d7a1f03b52c86d4e0f9b21a7c3d5e8f604"  # 40 lowercase hex, as `git rev-parse HEAD`
COMMIT_FLAGS = f"-DBUILD_COMMIT={GIT_SHA}"
# Ordinary flags that a shape-only heuristic mistakes for keys.
ORDINARY_FLAGS = (
    OPENSSL_FLAGS,
    COMMIT_FLAGS,
    "-DBUILD_SHA256=3f1c9a8e0b7d6c5f4e3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e",
    "-DgoBuildVersion2EnabledForTheWholeModuleTree=1",  # a long identifier
    "-I/home/dev/desk-top-libraries-include-dir",  # "sk-…" inside a word
    "-DMAX_TOKEN=64 -DUSE_SECRET=1",  # a numeric define named like a secret
)
GITLAB_TOKEN = "glpat-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm"
HEX_TOKEN = "5f0c2a9be4d17386c0aa41fe29b8d3e6c7015d4a"  # a classic 40-hex API token


def locked(module: Path) -> dict[str, Any]:
    (entry,) = tomllib.loads((module / "envsnap.lock").read_text())["platforms"].values()
    assert isinstance(entry, dict)
    return entry


def goenv(tmp_path: Path, **values: str) -> dict[str, str]:
    """The test environment with its own `go env -w` file."""
    return {**os.environ, "GOENV": str(tmp_path / "goenv"), **values}


@pytest.mark.parametrize("flags", ORDINARY_FLAGS)
def test_ordinary_cgo_flags_are_locked_as_they_are(
    cgo_module: Path, tmp_path: Path, flags: str
) -> None:
    result = envsnap("lock", "-C", str(cgo_module), env=goenv(tmp_path, CGO_CFLAGS=flags))
    assert result.returncode == 0, result.stderr
    assert locked(cgo_module)["go"]["env"]["CGO_CFLAGS"] == flags


def test_a_recording_keeps_the_flags_a_replayed_lock_reads(
    cgo_module: Path, tmp_path: Path
) -> None:
    env = goenv(tmp_path, CGO_CFLAGS=OPENSSL_FLAGS, CGO_CPPFLAGS=COMMIT_FLAGS)
    recording = tmp_path / "rec"
    record = envsnap("record", str(recording), "-C", str(cgo_module), env=env)
    assert record.returncode == 0, record.stderr
    assert "credential" not in record.stderr
    replay = envsnap("--replay", str(recording), "lock", "-C", str(cgo_module))
    assert replay.returncode == 0, replay.stderr
    go_env = locked(cgo_module)["go"]["env"]
    assert (go_env["CGO_CFLAGS"], go_env["CGO_CPPFLAGS"]) == (OPENSSL_FLAGS, COMMIT_FLAGS)


def test_scrub_leaves_flags_and_still_hides_free_text_keys() -> None:
    aws_secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"
    for flags in ORDINARY_FLAGS[:2]:
        assert scrub(f"cc {flags} -c x.c") == f"cc {flags} -c x.c"
    for secret in (aws_secret, f"{aws_secret}==", "password=1234"):
        text = scrub(f"error: {secret} rejected")
        assert REDACTED in text and secret not in text


def hint_of(stderr: str) -> str:
    match = re.search(r"will not record it \((?P<hint>.*)\)$", stderr.strip())
    assert match, stderr
    return match.group("hint")


def test_a_high_entropy_value_in_a_secret_named_tracked_variable_is_refused(
    cgo_module: Path, tmp_path: Path
) -> None:
    config = cgo_module / "envsnap.toml"
    env = goenv(tmp_path, MY_BUILD_ID=HEX_TOKEN, MY_API_TOKEN=HEX_TOKEN)
    config.write_text('[track]\nenv = ["MY_BUILD_ID"]\n')
    plain = envsnap("lock", "-C", str(cgo_module), env=env)
    assert plain.returncode == 0, plain.stderr  # the same value under a neutral name is data
    assert locked(cgo_module)["env"]["MY_BUILD_ID"] == HEX_TOKEN

    config.write_text('[track]\nenv = ["MY_BUILD_ID", "MY_API_TOKEN"]\n')
    refused = envsnap("lock", "-C", str(cgo_module), env=env)
    assert refused.returncode == 2
    assert "MY_API_TOKEN" in refused.stderr and "credential" in refused.stderr
    assert refused.stderr.count(HEX_TOKEN) == 0
    assert "MY_API_TOKEN" not in (cgo_module / "envsnap.lock").read_text()

    # The hint names the real setting, spelled as docs/config.md documents it; doing what it
    # says (dropping the name from that list) lets lock succeed.
    hint = hint_of(refused.stderr)
    assert 'remove "MY_API_TOKEN" from env under [track] in envsnap.toml' in hint
    assert '[track]\nenv = ["' in (REPO / "docs" / "config.md").read_text()
    config.write_text('[track]\nenv = ["MY_BUILD_ID"]\n')
    assert envsnap("lock", "-C", str(cgo_module), env=env).returncode == 0
    assert "MY_API_TOKEN" not in (cgo_module / "envsnap.lock").read_text()


def test_a_refused_go_setting_names_the_command_that_clears_it(
    cgo_module: Path, tmp_path: Path
) -> None:
    env = goenv(tmp_path)
    go_w = ["go", "env", "-w", f"CGO_CFLAGS=-O2 -DAPI_TOKEN={GITLAB_TOKEN}"]
    subprocess.run(go_w, env=env, cwd=cgo_module, check=True)
    refused = envsnap("lock", "-C", str(cgo_module), env=env)
    assert refused.returncode == 2 and GITLAB_TOKEN not in refused.stderr
    hint = hint_of(refused.stderr)
    assert "envsnap.toml" not in hint  # CGO_CFLAGS cannot be untracked: go's settings always count
    command = re.search(r"run `(?P<command>go env -u [A-Z_]+)`", hint)
    assert command, hint
    subprocess.run(shlex.split(command.group("command")), env=env, cwd=cgo_module, check=True)
    result = envsnap("lock", "-C", str(cgo_module), env=env)
    assert result.returncode == 0, result.stderr
    assert GITLAB_TOKEN not in (cgo_module / "envsnap.lock").read_text()


def test_a_refused_built_in_variable_says_to_unset_it(cgo_module: Path, tmp_path: Path) -> None:
    env = goenv(tmp_path, PKG_CONFIG_PATH=f"/opt/{GITLAB_TOKEN}/pkgconfig")
    refused = envsnap("lock", "-C", str(cgo_module), env=env)
    assert refused.returncode == 2 and GITLAB_TOKEN not in refused.stderr
    hint = hint_of(refused.stderr)
    assert "envsnap.toml" not in hint and hint.startswith("unset PKG_CONFIG_PATH")
    del env["PKG_CONFIG_PATH"]
    assert envsnap("lock", "-C", str(cgo_module), env=env).returncode == 0
