"""Nothing a lock, a tool, git or a directory name holds can drive the terminal or run.

Every command is run with hostile input (escape sequences, C1 controls, bidi overrides in lock
values, git authors and subjects, tool stderr, package directories; shell syntax in directory
names; option-shaped pkg-config words; format fields in envsnap.toml) and its stdout and stderr
are searched for any control character other than newline and tab.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from envsnap.lockfile import content_of, parse_lock, render, with_entry
from envsnap.report import Outcome, render_json
from tests.conftest import require_tool, write_module

# An OSC 52 clipboard write, a screen clear, a one-byte C1 CSI, a bidi override, a line
# separator, DEL: each would act on a terminal if printed raw.
HOSTILE = "x\x1b]52;c;cHduZWQ=\x07\x1b[2J\x9b31m\u202etxt.exe\u2028\x7fy"
UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\udc80-\udc9f]"
)


def assert_terminal_safe(data: bytes, where: str = "") -> None:
    text = data.decode("utf-8", errors="surrogateescape")
    found = sorted({f"U+{ord(c):04X}" for c in UNSAFE.findall(text)})
    assert not found, f"{where}: {found} in {text[:400]!r}"


def run(*args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> bytes:
    """envsnap's stdout and stderr (bytes), checked: no traceback, no crash, terminal safe."""
    proc = subprocess.run(
        [sys.executable, "-m", "envsnap", *args],
        capture_output=True,
        env=dict(os.environ if env is None else env),
        cwd=cwd,
        timeout=120,
        check=False,
    )
    assert proc.returncode in (0, 1, 2), proc.stderr
    assert b"Traceback" not in proc.stderr and b"internal error" not in proc.stderr
    for name, data in (("stdout", proc.stdout), ("stderr", proc.stderr)):
        assert_terminal_safe(data, f"envsnap {' '.join(args)} {name}")
    return proc.stdout + proc.stderr


# ---- the helper itself ----


def test_every_unsafe_character_is_spelled_out_and_json_keeps_the_value() -> None:
    from envsnap import termsafe

    every = "".join(map(chr, [*range(0x00, 0x20), *range(0x7F, 0xA0)])) + "\u2028\u202e\u2066"
    for spelled in (
        termsafe.escape(every),
        termsafe.json_text(json.dumps(every, ensure_ascii=False)),
    ):
        assert not UNSAFE.search(spelled.replace("\n", "").replace("\t", ""))
    assert json.loads(termsafe.dumps({"v": every})) == {"v": every}
    assert termsafe.escape("a\tb\nc") == "a\tb\nc"
    assert termsafe.escape("a\tb\nc", lines=False) == "a\\tb\\nc"
    assert termsafe.escape("é ü 日本 ✓") == "é ü 日本 ✓"  # printable text is left alone


def test_verify_json_escapes_c1_and_bidi() -> None:
    """json.dumps(ensure_ascii=False) keeps U+009B and U+202E raw; the document must not."""

    class _Finding:
        severity = "error"

        def to_json(self) -> dict[str, str]:
            return {"locked": HOSTILE}

    outcome = Outcome("linux-amd64", "envsnap.lock", [_Finding()])  # type: ignore[list-item]
    text = render_json(outcome)
    assert_terminal_safe(text.encode())
    assert json.loads(text)["findings"][0]["locked"] == HOSTILE


# ---- every command, end to end ----

ZLIB = 'package zz\n\n// #cgo pkg-config: zlib\n// #include <zlib.h>\nimport "C"\n\nconst V = 1\n'


@pytest.fixture
def locked(tmp_path: Path) -> Path:
    require_tool("go")
    require_tool("gcc")
    require_tool("pkg-config")
    mod = write_module(tmp_path / "m", {"zz/zz.go": ZLIB})
    run("lock", "-C", str(mod))
    return mod


def poison(mod: Path, **where: tuple[str, ...]) -> None:
    """Put HOSTILE at each path of the lock's only entry, with a valid digest."""
    path = mod / "envsnap.lock"
    lock = parse_lock(path, path.read_bytes())
    (platform,) = lock.platforms
    content = content_of(lock.platforms[platform])
    for keys in where.values():
        node: Any = content
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = f"{node[keys[-1]]} {HOSTILE}"
    path.write_bytes(render(with_entry(lock, platform, content)))


def test_hostile_lock_values_reach_no_terminal(locked: Path) -> None:
    poison(
        locked,
        cflags=("go", "env", "CGO_CFLAGS"),
        compiler=("cc", "compiler", "version"),
        go=("go", "version"),
    )
    mod = str(locked)
    for args in (
        ("verify",),
        ("verify", "--quiet"),
        ("diff",),
        ("emit", "--direnv", "--stdout"),
        ("emit", "--nix", "--stdout"),
        ("emit", "--flake", "--stdout"),
    ):
        run(*args, "-C", mod)
    said = run("verify", "--json", "-C", mod)
    document = json.loads(said[: said.rindex(b"}") + 1])
    assert any("\x1b]52;c;" in str(f["locked"]) for f in document["findings"])  # decoded back


def test_a_hostile_lock_structure_gives_one_safe_line(locked: Path) -> None:
    path = locked / "envsnap.lock"
    good = path.read_text()
    for number, bad in enumerate(
        (
            good.replace("schema = 1", 'schema = "\\u001b]0;owned\\u0007"'),
            good.replace("[platforms.linux-amd64", '[platforms."linux\\u001b[2J\\u009b-amd64"'),
            good + '\n[platforms.x]\nenvsnap = "\\u001b[31m"\n',
            "\x1b]0;owned\x07 = 1\n",
        )
    ):
        path.write_text(bad)
        for args in (("verify",), ("emit", "--nix", "--stdout"), ("diff",))[: 3 - number // 2]:
            said = run(*args, "-C", str(locked))
            assert said.count(b"\n") <= 2 or b"envsnap" in said


def git(repo: Path, *args: str, **env: str) -> None:
    subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, env={**os.environ, **env}
    )


def test_git_authors_and_subjects_reach_no_terminal(locked: Path) -> None:
    require_tool("git")
    evil = {"GIT_AUTHOR_NAME": f"Mallory {HOSTILE}", "GIT_AUTHOR_EMAIL": "m@example.com"}
    evil |= {"GIT_COMMITTER_NAME": "c", "GIT_COMMITTER_EMAIL": "c@example.com"}
    git(locked, "init", "-q")
    git(locked, "add", "-A")
    git(locked, "commit", "-qm", f"lock {HOSTILE}", **evil)
    poison(locked, cflags=("go", "env", "CGO_CFLAGS"))
    git(locked, "commit", "-qam", f"\x1b[2J\x9b2J relock {HOSTILE}", **evil)
    said = run("log", "-C", str(locked))
    assert b"Mallory" in said and b"\\x1b" in said  # shown, escaped
    run("diff", "HEAD~1", "HEAD", "-C", str(locked))
    run("verify", "--rev", "HEAD", "-C", str(locked))


def test_merge_driver_explanations_reach_no_terminal(locked: Path, tmp_path: Path) -> None:
    path = locked / "envsnap.lock"
    base = tmp_path / "base"
    base.write_bytes(path.read_bytes())
    poison(locked, cflags=("go", "env", "CGO_CFLAGS"))
    ours = tmp_path / "ours"
    ours.write_bytes(path.read_bytes())
    path.write_bytes(base.read_bytes())
    poison(locked, compiler=("cc", "compiler", "version"))
    theirs = tmp_path / "theirs"
    theirs.write_bytes(path.read_bytes())
    said = run("merge-driver", str(base), str(ours), str(theirs), f"envsnap.lock{HOSTILE}")
    assert b"both branches changed" in said


HOSTILE_DIRS = (
    "$(touch pwned)",
    ";touch pwned;",
    "nl\nx",
    "esc\x1b]0;t\x07",
    "c1\x9bq",
    "bi\u202ex",
)
CGO_PKG = 'package p\n\n// #cgo LDFLAGS: -lm\nimport "C"\n'
OPTION_WORDS = (
    'package q\n\n// #cgo pkg-config: --define-variable=prefix=/tmp -zlib @resp zlib\nimport "C"\n'
)


def fake_pkg_config(folder: Path) -> Path:
    """A pkg-config that logs its argv, says something hostile on stderr, then does its job."""
    folder.mkdir()
    real = require_tool("pkg-config")
    log = folder / "argv.log"
    tool = folder / "pkg-config"
    tool.write_text(
        f"#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done >> '{log}'\n"
        f"printf 'warning: \\033]0;owned\\007 \\302\\233 2J\\n' >&2\nexec '{real}' \"$@\"\n"
    )
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    return log


def test_hostile_directories_tool_output_and_pkg_config_words(tmp_path: Path) -> None:
    require_tool("go")
    require_tool("gcc")
    files = {f"{d}/p.go": CGO_PKG for d in HOSTILE_DIRS} | {
        "zz/zz.go": ZLIB,
        "q/q.go": OPTION_WORDS,
    }
    mod = write_module(tmp_path / "m", files)
    (mod / "sentinel").write_text("still here\n")
    log = fake_pkg_config(tmp_path / "bin")
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"}
    failing_cc = tmp_path / "bin" / "cc-wrapper"
    failing_cc.write_text(
        "#!/bin/sh\nprintf 'cc: \\033[2J\\033]52;c;eA==\\007 no\\n' >&2\nexit 1\n"
    )
    failing_cc.chmod(0o755)
    for args in (
        ("lock", "--allow-incomplete"),
        ("show",),
        ("verify", "--json"),
        ("doctor",),
        ("doctor", "--json"),
        ("record", str(tmp_path / "rec")),
    ):
        run(*args, "-C", str(mod), env=env)
    for args in (("lock",), ("doctor",)):
        run(*args, "-C", str(mod), env={**env, "CC": str(failing_cc)})
    argv = log.read_bytes().split(b"\0")
    assert b"zlib" in argv  # the fake really ran
    assert not [a for a in argv if a.startswith((b"--define", b"-zlib", b"@"))]
    assert not list(tmp_path.rglob("pwned")) and not Path("pwned").exists()
    assert (mod / "sentinel").exists()


def test_hook_in_a_hostile_directory_runs_nothing(tmp_path: Path) -> None:
    require_tool("git")
    require_tool("go")
    top = tmp_path / "repo"
    mod = write_module(top / "$(touch pwned)'\n;touch pwned", {"p.go": "package p\n"})
    git(top, "init", "-q")
    run("lock", "-C", str(mod))
    run("hook", "install", "-C", str(mod))
    hook = next((top / ".git" / "hooks").glob("pre-commit"))
    subprocess.run(["sh", str(hook)], cwd=top, capture_output=True, timeout=120, check=False)
    assert not list(tmp_path.rglob("pwned"))


@pytest.mark.parametrize(
    ("nix", "complaint"),
    [
        ("nixpkgs = '{rev.__class__.__mro__}'", b"not a nixpkgs commit"),
        (
            "nixpkgs = '0123abc'\ntarball_url = 'https://x/{rev.__class__.__mro__}'",
            b"tarball_url",
        ),
        ("nixpkgs = '0123abc'\ntarball_url = 'https://x/{rev}/{0}'", b"tarball_url"),
        ("nixpkgs = '0123abc'\nnixpkgs_sha256 = '$(touch pwned)'", b"sha256"),
    ],
)
def test_a_nix_setting_is_never_formatted(locked: Path, nix: str, complaint: bytes) -> None:
    sha = "" if "nixpkgs_sha256" in nix else "\nnixpkgs_sha256 = '" + "1" * 52 + "'"
    (locked / "envsnap.toml").write_text(f"[nix]\n{nix}{sha}\n")
    said = run("emit", "--nix", "--stdout", "-C", str(locked))
    assert complaint in said and b"class" not in said.replace(b"__class__", b"")
    assert said.count(b"\n") == 1  # one line


def test_a_nix_branch_is_refused_as_a_pin(locked: Path) -> None:
    """A branch moves, so it pins nothing: refused in one line, naming the setting."""
    (locked / "envsnap.toml").write_text(
        "[nix]\nnixpkgs = 'nixos-24.05'\nnixpkgs_sha256 = 'sha256-" + "A" * 43 + "='\n"
    )
    said = run("emit", "--nix", "--stdout", "-C", str(locked))
    assert b"not a nixpkgs commit" in said and b"Traceback" not in said
