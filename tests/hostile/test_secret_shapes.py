"""Which tracked values are credentials, judged by their shape: the fast, unit-level corpus.

Each credential of the corpus is placed in each variable the way a user would put it there and
must be refused by ``check_secrets`` (what ``lock``, ``show`` and ``verify`` call on every value
they read), with a message naming the variable and never the value. Ordinary defines whose
*names* hold a secret word, and every flag of Go's own ``goodCompilerFlags`` and
``goodLinkerFlags`` tables (parsed from the real Go's source at test time), are locked as they
are. A NUL byte is refused by name. Text a tool prints is scrubbed of what the machine holds.
"""

from __future__ import annotations

import json
import random
import re
import string
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from envsnap.credentials import credential_parts
from envsnap.emit.direnv import render_envrc
from envsnap.entry import Entry
from envsnap.errors import EXIT_USAGE, LockError, NulRefused, SecretRefused
from envsnap.normalize import check_secrets
from envsnap.probes import capped
from envsnap.redact import REDACTED, scrub, secret_values
from tests.conftest import require_tool

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiJjaS1kZXBsb3kiLCJpYXQiOjE3MDAwMDAwMDB9"
    ".Zq7xYvP4kLm2Rt7Yp0Wz5Nc8Hd1Fg4Js6AeUq3ZbXw"
)
HEX32 = "4b1e9c07d2a6f35e8c1b7a90d4e26f13"  # 32 lowercase hex: a Datadog- or Mailgun-style key
UUID = "3f9c2e71-8b4d-4a6e-9c15-7d2e0b8a4f63"  # a Heroku-style API key
# name -> the credential, each made up (none is valid), placed bare where a value goes.
CORPUS = {
    "jwt": JWT,
    "hex32": HEX32,
    "hex32-upper": HEX32.upper(),
    "uuid": UUID,
    "random-base62": "Zq7xYvP4kLm2Rt7Yp0Wz5Nc8",  # no known prefix: judged by its randomness
    "github": "ghp_" + "R4nd0mT0k3nV4lu3Xy9Zq8Wp7Lm6Kj5Hg4F",
    "github-pat": "github_pat_" + "11ABCDEFG0" + "xYz9Wv8Ut7Sr6Qp5On4Ml3Kj2",
    "aws-key-id": "AKIA" + "Q7ZX3M5N2P4R6T8V",
    "slack": "xoxb-" + "2048-4096-Gh7Jk9Lm2Np4Qr6St8Vw",
    "stripe": "sk_live_" + "51Hq7xYvP4kLm2Rt7Yp0Wz5Nc",
    "stripe-restricted": "rk_test_" + "51Hq7xYvP4kLm2Rt7Yp0Wz5Nc",
    "gitlab": "glpat-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm",
    "google": "AIza" + "SyZq7xYvP4kLm2Rt7Yp0Wz5Nc8Hd1Fg4Js6",
    "private-key": "-----BEGIN EC PRIVATE KEY-----MHcCAQEEIBkq-----END EC PRIVATE KEY-----",
}
# How each variable carries a value: a define, a wrapper's flag, a linker -X, a list element.
PLACEMENTS = {
    "CGO_CFLAGS": "-O2 -DKEY={s}",
    "CGO_LDFLAGS": "-L/opt/lib -Wl,--defsym,k={s}",
    "CC": "gcc -DKEY={s}",
    "GOFLAGS": "-mod=mod -ldflags=-X=main.key={s}",
    "PKG_CONFIG_PATH": "/usr/lib/pkgconfig:{s}",
    "GOPRIVATE": "github.com/acme/*,{s}",
}
# A short password, as each of these variables would carry it: a define, a linker -X.
PASSWORDS = {
    "CGO_CFLAGS": "-O2 -DDB_PASSWORD=hunter2",
    "CGO_CPPFLAGS": "-DSMTP_PASSWD='Tr0ub4dor&3'",
    "CC": "gcc -DDB_PASSWORD=hunter2",
    "GOFLAGS": "-mod=mod -ldflags=-X=main.dbPassword=hunter2",
    "CGO_LDFLAGS": "-Wl,--defsym,API_SECRET=s3cr3t99",
}
# Defines whose names hold a secret word but whose values are no credential: a number, a
# constant's name, a word, a path. They are flags, and lock.
ORDINARY_DEFINES = (
    "-DMAX_TOKEN=4096",
    "-DTOKEN=TK_IDENT",
    "-DSECRET=SECRET_DEFAULT",
    "-DAUTH_KEY=hmac",
    '-DPASSWD="/etc/passwd"',
)
# More values from real builds that a shape-judge must leave alone.
ORDINARY_VALUES = (
    "-DBUILD_COMMIT=e9c443d7a1f03b52c86d4e0f9b21a7c3d5e8f604",  # a git SHA: 40 hex
    "-DSRC_SHA256=3f1c9a8e0b7d6c5f4e3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e",
    "-DOPENSSL_API_COMPAT=0x10100000L",
    "-DPASSWORD_MAX=64 -DTOKEN_TYPE=bearer -DAUTH_ALGO=sha256 -DSESSION_TIMEOUT=30",
    "-DAPI_KEY_HEADER=X_API_KEY -DDB_PASSWORD=$(DB_PASSWORD) -DAPP_SECRET=${APP_SECRET}",
    "-DgoBuildVersion2EnabledForTheWholeModuleTree=1 -DNSObjectFromStringV2Compat=1",
    "-ldflags=-X=main.version=v1.2.3-0.20240101120000-abcdef123456 -trimpath -buildvcs=false",
    "-mod=mod -tags=netgo,osusergo,sqlite_omit_load_extension",
    "zig cc -target x86_64-linux-gnu -mmacosx-version-min=10.15",
    "-I/nix/store/0c8fnz6jkh8f4s3cylm4vqzr1d4ah1lm-zlib-1.3.1/include",
    "-I/tmp/systemd-private-4b1e9c07d2a6f35e8c1b7a90d4e26f13-colord.service-xyz/include",
    "-F/Users/me/Library/Developer/CoreSimulator/Devices/3F9C2E71-8B4D-4A6E-9C15-7D2E0B8A4F63",
    "*.corp.example.com,github.com/acme,gitlab.example.com/team-7/*",
    "/opt/homebrew/opt/openssl@3/lib/pkgconfig:/usr/local/lib/pkgconfig",
    "-framework CoreFoundation -Wl,-rpath,$ORIGIN/../lib",
)


def refused(name: str, value: str, where: str = "go env") -> SecretRefused | None:
    try:
        check_secrets({name: value}, where)
    except SecretRefused as exc:
        return exc
    return None


def placed() -> Iterator[tuple[str, str, str]]:
    for kind, secret in CORPUS.items():
        for variable, template in PLACEMENTS.items():
            yield kind, variable, template.replace("{s}", secret)


@pytest.mark.parametrize(("kind", "variable", "value"), list(placed()))
def test_each_credential_is_refused_in_each_variable(kind: str, variable: str, value: str) -> None:
    refusal = refused(variable, value)
    assert refusal is not None, f"{kind} in {variable} was kept"
    message = refusal.render()
    assert f"{variable} (go env) looks like it contains a credential" in message
    assert CORPUS[kind] not in message and "\n" not in message
    assert refusal.exit_code == EXIT_USAGE


@pytest.mark.parametrize(("variable", "value"), list(PASSWORDS.items()))
def test_a_short_password_assigned_to_a_secret_named_macro_is_refused(
    variable: str, value: str
) -> None:
    refusal = refused(variable, value)
    assert refusal is not None
    assert "hunter2" not in refusal.render() and "s3cr3t" not in refusal.render()


@pytest.mark.parametrize("define", ORDINARY_DEFINES)
@pytest.mark.parametrize("variable", ["CGO_CFLAGS", "CGO_CPPFLAGS", "CC"])
def test_an_ordinary_define_named_like_a_secret_is_locked(variable: str, define: str) -> None:
    value = f"gcc {define}" if variable == "CC" else f"-O2 {define}"
    assert check_secrets({variable: value}, "go env") == {variable: value}


@pytest.mark.parametrize("value", ORDINARY_VALUES)
def test_an_ordinary_value_is_locked(value: str) -> None:
    for variable in ("CGO_CFLAGS", "GOFLAGS", "PKG_CONFIG_PATH", "GOPRIVATE", "CC"):
        assert check_secrets({variable: value}, "go env") == {variable: value}


def go_flag_table(name: str) -> list[list[str]]:
    """A table of Go's cmd/go/internal/work/security_test.go, read from the real Go's source."""
    go = require_tool("go")
    goroot = subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True, check=True)
    source = Path(goroot.stdout.strip(), "src/cmd/go/internal/work/security_test.go")
    body = re.search(rf"var {name} = \[\]\[\]string\{{\n(.*?)\n\}}\n", source.read_text(), re.S)
    assert body, f"{name} not found in {source}"
    rows = [line.strip() for line in body.group(1).splitlines() if line.strip().startswith("{")]
    return [[json.loads(s) for s in re.findall(r'"(?:[^"\\]|\\.)*"', row)] for row in rows]


@pytest.mark.parametrize(
    ("table", "variable"),
    [("goodCompilerFlags", "CGO_CFLAGS"), ("goodLinkerFlags", "CGO_LDFLAGS")],
)
def test_gos_good_flags_are_locked(table: str, variable: str) -> None:
    rows = go_flag_table(table)
    assert len(rows) > 50  # the whole table was read
    for row in rows:
        value = " ".join(row)
        assert check_secrets({variable: value}, "go env") == {variable: value}, row
    every = " ".join(word for row in rows for word in row)
    assert check_secrets({variable: every}, "go env") == {variable: every}


def random_keys(alphabet: str, lengths: range, count: int) -> list[str]:
    generator = random.Random(20240611)  # derandomised: the same keys every run
    return [
        "".join(generator.choice(alphabet) for _ in range(generator.choice(lengths)))
        for _ in range(count)
    ]


def test_random_keys_without_a_known_prefix_are_refused() -> None:
    """Entropy with length: keys of 24 to 64 random letters and digits, in a neutral define."""
    base62 = string.ascii_letters + string.digits
    keys = random_keys(base62, range(24, 65), 500)
    kept = [k for k in keys if refused("CGO_CFLAGS", f"-DK={k}") is None]
    assert len(kept) <= len(keys) // 50, kept  # a key this random is caught 49 times in 50
    hex_keys = random_keys("0123456789abcdef", range(32, 33), 200)
    assert all(refused("GOFLAGS", f"-ldflags=-X=main.k={k}") for k in hex_keys)


def test_a_tracked_value_with_a_nul_byte_is_refused_by_name() -> None:
    for where in ("go env", "environment"):
        with pytest.raises(NulRefused) as raised:
            check_secrets({"CPATH": "/usr/include", "CGO_CFLAGS": "-O2\0-DX=1"}, where)
        message = raised.value.render()
        assert "CGO_CFLAGS" in message and "NUL" in message and "\n" not in message
        assert raised.value.exit_code == EXIT_USAGE


def test_the_envrc_emitter_refuses_a_nul_byte_by_name() -> None:
    entry = {"go": {"version": "go1.22.0", "env": {"CGO_CFLAGS": "-O2\0-DX=1"}}, "env": {}}
    with pytest.raises(LockError, match=r"CGO_CFLAGS in envsnap\.lock holds a NUL byte"):
        render_envrc([("linux-amd64", cast(Entry, entry))])


# ---- tool output is scrubbed of what the machine holds ----


def test_a_version_line_kept_in_the_lock_is_scrubbed() -> None:
    for secret in (JWT, CORPUS["stripe"], CORPUS["github"]):
        line = capped(f"cc-wrapper 2.1 (remote cache, auth {secret}) gcc 13.2.0")
        assert secret not in line and REDACTED in line and line.startswith("cc-wrapper 2.1")


def test_a_credential_inside_a_variable_is_hidden_wherever_a_tool_prints_it() -> None:
    """`go env -json` prints CGO_CFLAGS whole, JSON-escaped; a tool's error quotes one flag."""
    environ = {"CGO_CFLAGS": f'-DNAME="x" -DKEY={UUID} -DK2={HEX32}', "CC": "gcc"}
    secrets = secret_values(environ)
    printed = json.dumps({"CGO_CFLAGS": environ["CGO_CFLAGS"]}) + f"\ncc: bad -DKEY={UUID}\n"
    assert UUID not in scrub(printed, secrets) and HEX32 not in scrub(printed, secrets)


def test_a_go_env_file_is_read_for_the_machines_secrets(tmp_path: Path) -> None:
    goenv = tmp_path / "go-env"
    goenv.write_text(f"CGO_CFLAGS=-O2 -DKEY={UUID}\nGOFLAGS=-ldflags=-X=main.dbPassword=hunter2\n")
    secrets = secret_values({"GOENV": str(goenv)})
    said = scrub(f'{{"CGO_CFLAGS": "-O2 -DKEY={UUID}", "x": "user hunter2"}}', secrets)
    assert UUID not in said and "hunter2" not in said
    assert secret_values({"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}) == set()


@pytest.mark.parametrize("kind", ["jwt", "hex32", "uuid", "stripe", "random-base62"])
def test_free_text_hides_each_new_shape(kind: str) -> None:
    for context in ("{s}", "error: key {s} rejected", '{{"key": "{s}"}}', "Bearer {s}\n"):
        text = context.replace("{s}", CORPUS[kind]).replace("{{", "{").replace("}}", "}")
        assert CORPUS[kind] not in scrub(text), text


def test_free_text_keeps_digests_and_the_folders_of_a_path() -> None:
    for text in (
        "fatal: bad object e9c443d7a1f03b52c86d4e0f9b21a7c3d5e8f604",
        "/tmp/systemd-private-4b1e9c07d2a6f35e8c1b7a90d4e26f13-colord.service-xyz/cc.log",
        f"/Library/Developer/CoreSimulator/Devices/{UUID.upper()}/data",
    ):
        assert scrub(text) == text


@pytest.mark.parametrize(
    "blob",
    ["a1" * 100_000, "0123456789abcdef/" * 12_000, "K=" * 100_000, "-Da=" * 50_000, "aZ9" * 70_000],
    ids=["hex-run", "hex-folders", "pairs", "defines", "mixed-run"],
)
def test_judging_a_hostile_value_takes_linear_time(blob: str) -> None:
    start = time.monotonic()
    credential_parts(blob, "CGO_CFLAGS")
    scrub(blob)
    assert time.monotonic() - start < 3  # well under a second; a quadratic scan takes minutes
