"""No credential leaves the machine, wherever it is placed and whichever command runs.

A corpus of real-shaped credentials (none of them valid) is placed in the environment under
secret names, in tracked variables, in a `go env -w` file and in a failing tool's stderr; every
output of every command (stdout, stderr, the lock, a recording, emitted files, doctor's text and
JSON, the crash log) is searched for each value and for its distinctive core.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import unquote

import pytest

from envsnap import cli, redact, safeio
from envsnap.errors import SecretRefused
from envsnap.normalize import check_secrets
from envsnap.redact import (
    REDACTED,
    go_env_file,
    looks_like_credential,
    scrub,
    scrub_message,
    secret_values,
    strip_userinfo,
)
from tests.conftest import envsnap, require_tool, write_module
from tests.hostile.test_secret_shapes import HEX32, JWT, UUID

PEM_BODY = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB"
GCP_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
PEM_BEGIN = "-----BEGIN PRIVATE KEY-----"
AWS_SECRET = "k3Vb/9xQ+Lm2Rt7Yp0Wz5Nc8Hd1Fg4Js6Ae/Uq3Z"  # 40 characters, '/' and '+' inside
assert len(AWS_SECRET) == 40
HEX_KEY = "5f0c2a9be4d17386c0aa41fe29b8d3e6c7015d4a"  # 40 lowercase hex: only its name tells

# name -> (the value as placed, the distinctive cores that must not appear either)
SECRETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "github": ("ghp_" + "R4nd0mT0k3nV4lu3Xy9Zq8Wp7Lm6Kj5Hg4F", ("R4nd0mT0k3nV4lu3Xy9Zq8Wp7",)),
    "gitlab": ("glpat-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm", ("Zx9Yw8Vu7Ts6Rq5Po4Nm",)),
    "aws-key-id": ("AKIA" + "Q7ZX3M5N2P4R6T8V", ("Q7ZX3M5N2P4R6T8V",)),
    "aws-secret": (AWS_SECRET, (AWS_SECRET, "Lm2Rt7Yp0Wz5Nc8Hd1Fg4Js6Ae")),
    "gcp-service-account": (
        json.dumps(
            {
                "type": "service_account",
                "private_key": f"{PEM_BEGIN}\n{GCP_BODY}\n-----END PRIVATE KEY-----\n",
                "client_email": "ci@example-project.iam.gserviceaccount.com",
            }
        ),
        (GCP_BODY,),
    ),
    "slack": ("xoxb-" + "2048-4096-Gh7Jk9Lm2Np4Qr6St8Vw", ("Gh7Jk9Lm2Np4Qr6St8Vw",)),
    "npm": ("npm_" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2", ("Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8",)),
    "pypi": (
        "pypi-AgE" + "IcHlwaS5vcmcCJDk0ZjM4NjQxLWU3ZWMtNGQ3Ni1hNmQ5LWI2YjE4YzZl",
        ("IcHlwaS5vcmcCJDk0ZjM4NjQx",),
    ),
    "private-key": (
        f"-----BEGIN OPENSSH PRIVATE KEY-----\n{PEM_BODY}\n-----END OPENSSH PRIVATE KEY-----",
        (PEM_BODY,),
    ),
    "url-password": ('https://deploy:Pa@ss"w0rd-Zq7x@git.example.com/org/repo.git', ("w0rd-Zq7x",)),
    "netrc": ("machine git.example.com login deploy password Hunter2-Zq7xYv", ("Hunter2-Zq7xYv",)),
    "hex-api-key": (f"API_KEY={HEX_KEY}", (HEX_KEY,)),
    "jwt": (JWT, (JWT.split(".")[2],)),
    "hex32-key": (HEX32, (HEX32,)),
    "uuid-key": (UUID, (UUID,)),
    "stripe": ("sk_live_" + "51Hq7xYvP4kLm2Rt7Yp0Wz5Nc", ("51Hq7xYvP4kLm2Rt7Yp0Wz5Nc",)),
}
SINGLE_LINE = {k: v for k, (v, _) in SECRETS.items() if "\n" not in v}
# Secret-named environment variables holding each value as it is (the hex key bare).
SECRET_ENV = {
    f"CI_{name.upper().replace('-', '_')}_TOKEN": value.removeprefix("API_KEY=")
    for name, (value, _) in SECRETS.items()
}


def leaks(text: str) -> list[str]:
    """The corpus entries whose value or core appears in *text*."""
    return [
        name
        for name, (value, cores) in SECRETS.items()
        if value.removeprefix("API_KEY=") in text or any(core in text for core in cores)
    ]


# ---- the protection itself, over every secret in every context (fast) ----

TRACKED_CONTEXTS = (
    "{s}",
    "-DK={s}",
    "-I/usr/include -DBUILD_KEY='{s}' -O2",
    "-DCFG={s}",
    "/opt/cfg/pkgconfig:{s}",
)
FREE_CONTEXTS = (
    "{s}",
    "pkg-config: error: cannot fetch: {s}",
    "sccache: auth failed for '{s}'\n",
    "{j}",  # the value inside JSON (quotes and newlines escaped)
    "key: {s} (from ~/.netrc)",
)
TRACKED_NAMES = ("CGO_CFLAGS", "PKG_CONFIG_PATH", "DEPLOY_SECRET")
BARE_UNDETECTABLE = {"hex-api-key"}  # 40 lowercase hex alone is a git SHA: only context tells


def tracked_cases() -> Iterator[tuple[str, str, str]]:
    for name, (value, _) in SECRETS.items():
        for context in TRACKED_CONTEXTS:
            for variable in TRACKED_NAMES:
                if name in BARE_UNDETECTABLE and variable != "DEPLOY_SECRET":
                    value_here = value  # placed with its API_KEY= context
                else:
                    value_here = value.removeprefix("API_KEY=")
                yield name, variable, context.replace("{s}", value_here)


@pytest.mark.parametrize(("name", "variable", "value"), list(tracked_cases()))
def test_a_tracked_value_is_refused_or_kept_without_its_secret(
    name: str, variable: str, value: str
) -> None:
    try:
        kept = check_secrets({variable: value}, "go env")
    except SecretRefused as refused:
        assert not leaks(refused.render())
        return
    assert not leaks(kept[variable]), f"{name} in {variable} was kept"


def free_cases() -> Iterator[tuple[str, str]]:
    for name, (value, _) in SECRETS.items():
        for context in FREE_CONTEXTS:
            yield name, context.replace("{s}", value).replace("{j}", json.dumps({"v": value}))


@pytest.mark.parametrize(("name", "text"), list(free_cases()))
def test_scrub_hides_every_secret_in_free_text(name: str, text: str) -> None:
    assert not leaks(scrub(text)), name
    assert REDACTED in scrub(text)


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {HEX_KEY}",
        f"curl -H 'Authorization: Basic {HEX_KEY}'",
        f"DEPLOY_SESSION={HEX_KEY}",
        f'{{"client_secret_v2": "{HEX_KEY}"}}',
        f"x-auth-header: {HEX_KEY}",
    ],
)
def test_a_lowercase_hex_key_is_hidden_by_its_context(text: str) -> None:
    assert HEX_KEY not in scrub(text)


@pytest.mark.parametrize(
    "blob",
    ["abc" * 70_000, "a_b-c." * 35_000, "a-" * 100_000, "x://a@" * 35_000, "password " * 25_000],
    ids=["letters", "name-characters", "dashes", "schemes", "keywords"],
)
def test_scrub_takes_linear_time_on_a_hostile_blob(blob: str) -> None:
    """A recording scrubs blobs of megabytes: no pattern may scan once per character."""
    start = time.monotonic()
    scrub(blob)
    strip_userinfo(blob)
    assert time.monotonic() - start < 3  # about 0.1 s; a quadratic pattern takes minutes


def test_a_git_sha_in_free_text_is_left_alone() -> None:
    text = f"fatal: bad object {HEX_KEY} (HEAD {HEX_KEY[:12]})"
    assert scrub(text) == text


def test_a_secret_named_variables_value_is_hidden_by_value() -> None:
    secrets = {v for v in SECRET_ENV.values()}
    for value in SECRET_ENV.values():
        assert not leaks(scrub(f"cc: warning: {value} unused", secrets))


@pytest.mark.parametrize(
    "uuid",
    # of one class only, it is still a UUID (no hex key has so few kinds of characters)
    [UUID, "12345678-1234-1234-1234-123456789012", "abcdefab-abcd-abcd-abcd-abcdefabcdef"],
)
def test_a_uuid_standing_alone_is_hidden(uuid: str) -> None:
    assert scrub(f"key {uuid} refused") == f"key {REDACTED} refused"


@pytest.mark.parametrize(
    ("environ", "hidden"),
    [
        # secret-shaped, not a known token: hidden even glued to a path, where no pattern sees it
        (
            {"BUILD_SEED": "Abcdefgh12345678IJKLMNOP90qrstuvWXyz"},
            "Abcdefgh12345678IJKLMNOP90qrstuvWXyz",
        ),
        # the part of a secret-named value that looks random, alone
        ({"DB_PASSWORD": "user=ada pass=Xk9mQ2vL7pR4"}, "pass=Xk9mQ2vL7pR4"),
        # a credential of the shortest length hidden, inside a flag or a whole secret-named value
        ({"CGO_CFLAGS": "-DAPI_TOKEN=Hunt3r -O2"}, "Hunt3r"),
        ({"API_TOKEN": "482913"}, "482913"),
    ],
)
def test_a_machine_s_secret_values_are_hidden_wherever_they_appear(
    environ: dict[str, str], hidden: str
) -> None:
    text = f"cc: cannot open {hidden}/lib.a ({hidden})"
    assert hidden in scrub(text)  # no pattern would hide it
    assert scrub(text, secret_values(environ)) == f"cc: cannot open {REDACTED}/lib.a ({REDACTED})"


def test_an_error_message_hides_this_machine_s_secret_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("API_TOKEN", "482913")
    assert scrub_message("login 482913 refused") == f"login {REDACTED} refused"


def test_the_go_env_file_is_read_as_go_writes_it(tmp_path: Path) -> None:
    goenv = tmp_path / "env"
    # a value holding '=' (go env -w GOFLAGS=-ldflags=-X=…), and bytes that are no UTF-8
    goenv.write_bytes(
        b"GOFLAGS=-ldflags=-X=main.key=Q1w2E3r4\nGOPRIVATE=corp\xff.example\n"
        b"a line without a setting\n = no name\n"  # go skips both
    )
    assert go_env_file({"GOENV": str(goenv)}) == {
        "GOFLAGS": "-ldflags=-X=main.key=Q1w2E3r4",
        "GOPRIVATE": "corp\ufffd.example",
    }


def test_the_go_env_file_is_where_go_looks_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    (config / "go").mkdir(parents=True)
    (config / "go" / "env").write_text("GOPRIVATE=corp.example\n")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "off").write_text("GOPRIVATE=not.read\n")  # GOENV=off names no file
    found = {"GOPRIVATE": "corp.example"}
    assert go_env_file({"XDG_CONFIG_HOME": str(config)}) == found  # os.UserConfigDir
    assert go_env_file({"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(config)}) == found
    assert go_env_file({"GOENV": "off", "XDG_CONFIG_HOME": str(config)}) == {}
    mac = tmp_path / "mac" / "Library" / "Application Support" / "go"
    mac.mkdir(parents=True)
    (mac / "env").write_text("GOPRIVATE=mac.example\n")
    monkeypatch.setattr(redact, "this_goos", lambda: "darwin")  # macOS's own folder, not XDG's
    assert go_env_file({"HOME": str(tmp_path / "mac"), "XDG_CONFIG_HOME": str(config)}) == {
        "GOPRIVATE": "mac.example"
    }
    read: list[str] = []

    def read_regular(path: str, limit: int) -> bytes:
        read.append(path)
        return b""

    monkeypatch.setattr(safeio, "read_regular", read_regular)
    assert go_env_file({}) == {} and read == []  # no HOME: no folder, and no file in its place


def test_a_long_lowercase_run_with_an_equals_sign_is_no_secret() -> None:
    """Upper case, lower case and digits make an opaque run a key; '=' joins its parts and
    adds no class."""
    text = "ld: -Wl,--defsym=libfoo_bar_baz_1_2_3=module_name_for_test_99 kept"
    assert scrub(text) == text


def test_a_longer_secret_is_hidden_before_the_shorter_one_inside_it() -> None:
    hidden = scrub("auth ada:hunter22 failed", {"hunter22", "ada:hunter22"})
    assert hidden == f"auth {REDACTED} failed"  # not "ada:<redacted>": the user stays hidden


# What Go's net/url makes of each URL (go1.26: `url.Parse`, then `u.User` and the URL without
# it; None where Go refuses the URL). test_the_table_is_what_go_says re-asks Go itself.
GO_URLS: dict[str, tuple[str, str] | None] = {
    'https://u:p@ss"w@host/path': None,  # Go refuses '"' in userinfo; git and curl take it
    "https://u:p@ss@w@host/path": ("u:p@ss@w", "https://host/path"),
    "https://user@host:8080/p@th": ("user", "https://host:8080/p@th"),
    "https://u:pa'ss@host?q=a@b": ("u:pa'ss", "https://host?q=a@b"),
    "git+ssh://u:p%40w@host/x": ("u:p@w", "git+ssh://host/x"),
    "https://host/path@2x.png": ("", "https://host/path@2x.png"),
    "https://u:pw@host": ("u:pw", "https://host"),
    "https://u:p@ss#frag@x": ("u:p", "https://ss#frag@x"),
    "https://a:b@c@d:e@host.example/p?x=@y": ("a:b@c@d:e", "https://host.example/p?x=@y"),
}


@pytest.mark.parametrize(("url", "go"), list(GO_URLS.items()))
def test_userinfo_is_what_go_net_url_reads(url: str, go: tuple[str, str] | None) -> None:
    stripped = strip_userinfo(url)
    if go is not None:
        user, rest = go
        assert stripped == rest
    else:  # refused by Go, still stripped up to its last '@' before the path
        user = url.split("://", 1)[1].rsplit("@", 1)[0]
        assert user not in stripped
    password = user.partition(":")[2]
    assert not password or password not in scrub(url).split("://", 1)[1]


@pytest.mark.slow
def test_the_table_is_what_go_says(tmp_path: Path) -> None:
    go = require_tool("go")
    (tmp_path / "go.mod").write_text("module oracle\n\ngo 1.21\n")
    (tmp_path / "main.go").write_text(GO_ORACLE)
    env = {**os.environ, "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0"}
    said = subprocess.run(
        [go, "run", ".", *GO_URLS], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert said.returncode == 0, said.stderr
    for line in said.stdout.splitlines():
        answer = json.loads(line)
        expected = GO_URLS[answer["url"]]
        if answer.get("error"):
            assert expected is None
        else:
            assert expected == (unquote(answer["user"]), answer["rest"])


GO_ORACLE = """package main

import (
\t"encoding/json"
\t"fmt"
\t"net/url"
\t"os"
)

func main() {
\tfor _, raw := range os.Args[1:] {
\t\tanswer := map[string]any{"url": raw}
\t\tif u, err := url.Parse(raw); err != nil {
\t\t\tanswer["error"] = true
\t\t} else {
\t\t\tanswer["user"] = u.User.String()
\t\t\tu.User = nil
\t\t\tanswer["rest"] = u.String()
\t\t}
\t\tout, _ := json.Marshal(answer)
\t\tfmt.Println(string(out))
\t}
}
"""


# ---- every command, end to end ----

ZLIB = 'package zz\n\n// #cgo pkg-config: zlib\n// #include <zlib.h>\nimport "C"\n\nconst V = 1\n'


@pytest.fixture
def vendored(tmp_path: Path) -> Path:
    """A cgo module that vendors (so doctor shows CGO_*FLAGS as evidence)."""
    require_tool("go")
    require_tool("gcc")
    require_tool("pkg-config")
    mod = write_module(tmp_path / "m", {"zz/zz.go": ZLIB, "vendor/modules.txt": "# none\n"})
    return mod


def outputs(mod: Path, env: Mapping[str, str], *runs: tuple[str, ...]) -> dict[str, str]:
    """stdout and stderr of each command run in *mod*, keyed by the command."""
    seen = {}
    for argv in runs:
        result = envsnap(*argv, "-C", str(mod), env=env)
        assert "Traceback" not in result.stderr and result.returncode in (0, 1, 2), result.stderr
        seen[" ".join(argv)] = result.stdout + result.stderr
    return seen


def files_under(*roots: Path) -> dict[str, str]:
    found = {}
    for root in roots:
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            found[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    return found


def assert_nothing_leaks(texts: Mapping[str, str]) -> None:
    leaked = {where: leaks(text) for where, text in texts.items() if leaks(text)}
    assert not leaked


COMMANDS = (
    ("lock",),
    ("show",),
    ("show", "--json"),
    ("verify",),
    ("verify", "--json"),
    ("doctor",),
    ("doctor", "--json"),
    ("emit", "--direnv", "--stdout"),
    ("emit", "--nix", "--stdout"),
)


def test_secret_named_environment_variables_reach_no_output(vendored: Path, tmp_path: Path) -> None:
    url, _ = SECRETS["url-password"]
    env = {**os.environ, **SECRET_ENV, "GOPROXY": url, "GONOSUMDB": url}
    seen = outputs(vendored, env, *COMMANDS, ("record", str(tmp_path / "rec")))
    assert "wrote" in seen["lock"]
    assert_nothing_leaks({**seen, **files_under(vendored / "envsnap.lock", tmp_path / "rec")})


def test_secrets_in_tracked_variables_are_refused_and_never_shown(
    vendored: Path, tmp_path: Path
) -> None:
    words = " ".join(f"-DK{i}={v}" for i, v in enumerate(SINGLE_LINE.values()))
    paths = ":".join(f"/opt/{v}/lib/pkgconfig" for v in SINGLE_LINE.values())
    env = {**os.environ, "CGO_LDFLAGS": words, "PKG_CONFIG_PATH": paths}
    seen = outputs(vendored, env, *COMMANDS, ("record", str(tmp_path / "rec")))
    assert "looks like it contains a credential" in seen["lock"]
    assert not (vendored / "envsnap.lock").exists()
    assert REDACTED in seen["doctor"] and REDACTED in seen["doctor --json"]  # shown, hidden
    assert_nothing_leaks({**seen, **files_under(tmp_path / "rec")})


def test_secrets_in_a_go_env_file_are_refused_and_never_shown(
    vendored: Path, tmp_path: Path
) -> None:
    goenv = tmp_path / "goenv"
    words = " ".join(f"-DK{i}={v}" for i, v in enumerate(SINGLE_LINE.values()))
    goenv.write_text(f"CGO_CFLAGS={words}\nGOPROXY={SECRETS['url-password'][0]}\n")
    seen = outputs(vendored, {**os.environ, "GOENV": str(goenv)}, *COMMANDS)
    assert "go env -u CGO_CFLAGS" in seen["lock"]
    assert REDACTED in seen["doctor"]
    assert_nothing_leaks(seen)


def fake_tool(folder: Path, name: str) -> Path:
    """*name* that prints every secret of the corpus on stderr, as a failing tool's message."""
    folder.mkdir(exist_ok=True)
    said = "\n".join(f"error: {value}" for value, _ in SECRETS.values())
    (folder / "said.txt").write_text(said + "\n")
    tool = folder / name
    tool.write_text(f"#!/bin/sh\ncat '{folder / 'said.txt'}' >&2\nexit 1\n")
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    return tool


def test_a_tools_stderr_reaches_no_lock_report_or_message(vendored: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    fake_tool(bin_dir, "pkg-config")
    cc = fake_tool(bin_dir, "sccache-cc")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CC": str(cc)}
    seen = outputs(
        vendored,
        env,
        ("lock",),
        ("lock", "--allow-incomplete"),
        *(c for c in COMMANDS[1:] if c not in (("show",), ("verify",))),
        ("record", str(tmp_path / "rec")),
    )
    lock = (vendored / "envsnap.lock").read_text()
    assert "error" in lock and REDACTED in lock  # the failure is kept, its secrets are not
    assert_nothing_leaks({**seen, **files_under(vendored / "envsnap.lock", tmp_path / "rec")})


def test_the_crash_log_and_its_message_hold_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    monkeypatch.setenv("CI_DEPLOY_TOKEN", HEX_KEY)
    message = " ".join(v for v, _ in SECRETS.values())
    try:
        raise RuntimeError(f"unexpected: {message}")
    except RuntimeError as exc:
        assert cli._report_internal_error(exc) == 3
    log = (tmp_path / f"envsnap-{os.getuid()}" / "crash.log").read_text()
    assert "RuntimeError" in log
    assert_nothing_leaks({"crash.log": log, "stderr": capsys.readouterr().err})


def test_an_ordinary_path_or_flag_is_not_mistaken_for_an_aws_secret() -> None:
    for value in (
        "/usr/local/Cellar/openssl3/lib/pkgconfig",
        "usr/local/Cellar/openssl3/lib/pkgconfig0",  # 40 characters, like an AWS secret
        "Library/Developer/CommandLineTools/SDKs1",
        "-I/nix/store/0a1b2c3d4e5f6g7h8i9jAbCdEfGh/include",
        "-DBUILD_COMMIT=e9c443d7a1f03b52c86d4e0f9b21a7c3d5e8f604",
    ):
        assert not looks_like_credential(value, "CGO_CFLAGS"), value
        assert scrub(value) == value
