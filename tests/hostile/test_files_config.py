"""A hostile envsnap.toml: special files, a huge file, TOML that makes tomllib slow or recurse,
and values of the wrong type. Each is exit 2 with one line naming the file (and the key)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.hostile.files_common import (
    MAC,
    SPECIAL_KINDS,
    assert_one_line_refusal,
    plant,
    replay_module,
    run_child,
    run_inside,
)

# `show` reads only the settings; `verify` and `emit` read the lock too.
READERS = (("show",), ("verify",), ("emit", "--nix"))


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    module = replay_module(tmp_path_factory.mktemp("locked") / "m")
    return (module / "envsnap.lock").read_bytes()


@pytest.fixture
def module(tmp_path: Path, locked: bytes) -> Path:
    module = replay_module(tmp_path / "m", locked=False)
    (module / "envsnap.lock").write_bytes(locked)
    return module


def refused_by(capsys: pytest.CaptureFixture[str], module: Path, *words: str) -> None:
    for command in READERS:
        code, stderr = run_inside(capsys, "--replay", str(MAC), *command, "-C", str(module))
        assert_one_line_refusal(code, stderr, "envsnap.toml", *words)


@pytest.mark.parametrize("command", READERS[:2], ids=" ".join)
@pytest.mark.parametrize("kind", SPECIAL_KINDS)
def test_a_special_file_in_place_of_the_settings_is_refused(
    module: Path, kind: str, command: tuple[str, ...]
) -> None:
    plant(module / "envsnap.toml", kind)
    code, stderr = run_child("--replay", str(MAC), *command, "-C", str(module))
    assert_one_line_refusal(code, stderr, "envsnap.toml")


def test_huge_settings_are_refused(capsys: pytest.CaptureFixture[str], module: Path) -> None:
    (module / "envsnap.toml").write_text("# a comment\n" * 200_000)  # 2.4 MB
    refused_by(capsys, module, "larger than")


SLOW_OR_DEEP = {
    "a key of 80000 dotted parts": "[track]\nenv" + ".x" * 40_000 + " = 1\n",
    "a header of 40000 dotted parts": "[x" + ".x" * 40_000 + "]\n",
    "5000 nested arrays": "[nix]\nattributes = " + "[" * 5000 + "]" * 5000 + "\n",
    "2000 nested inline tables": "deep = " + "{a = " * 2000 + "1" + "}" * 2000 + "\n",
}


@pytest.mark.parametrize("text", SLOW_OR_DEEP.values(), ids=SLOW_OR_DEEP)
def test_toml_that_makes_tomllib_slow_or_recurse_is_refused_at_once(
    capsys: pytest.CaptureFixture[str], module: Path, text: str
) -> None:
    (module / "envsnap.toml").write_text(text)
    started = time.monotonic()
    refused_by(capsys, module)
    assert time.monotonic() - started < 2  # three commands; the long key alone took 91 s


WRONG_TYPES = {
    "track = 5": "[track]",
    "ignore = 3": "[ignore]",
    "severity = 1": "[severity]",
    "nix = 4": "[nix]",
    "variants = 3": "[variants]",
    '[track]\nenv = "X"': "[track] env",
    '[track]\nenv = ["A B"]': "[track] env",
    "[ignore]\npaths = 3": "[ignore] paths",
    "[ignore]\npaths = [1]": "[ignore] paths",
    '[severity]\n"x" = 1': "[severity] 'x'",
    '[severity]\nx = "fatal"': "[severity] 'x'",
    '[variants.x]\ntags = "a"': "[variants.x] tags",
    "[variants.x]\ntags = []": "[variants.x] tags",
    "[variants]\nx = 5": "[variants.x]",
    "[nix]\nnixpkgs = 5": "[nix] nixpkgs",
    "[nix]\nnixpkgs_sha256 = [1]": "[nix] nixpkgs_sha256",
    "[nix]\ntarball_url = 1": "[nix] tarball_url",
    '[nix]\nnixpkg = "abc"': "[nix] has unknown keys: nixpkg",
    "[nix]\nattributes = 5": "[nix.attributes]",
    "[nix.attributes]\ngo = 5": "[nix.attributes]",
    "packages = 3": "[packages]",
    '[packages]\nexclude = "./x/..."': "[packages] exclude",
    "[packages]\ninclude = [1]": "[packages] include",
    "[packages]\ninclude = []": "[packages] include must name at least one pattern",
    '[packages]\nonly = ["./..."]': "[packages] has unknown keys: only",
    '[variants.x]\ntags = ["a"]\npackages = 5': "[variants.x.packages]",
    '[variants.x]\ntags = ["a"]\npackages = { exclude = [2] }': "[variants.x.packages] exclude",
}


@pytest.mark.parametrize(("text", "key"), WRONG_TYPES.items(), ids=list(WRONG_TYPES))
def test_a_value_of_the_wrong_type_is_refused_naming_its_key(
    capsys: pytest.CaptureFixture[str], module: Path, text: str, key: str
) -> None:
    (module / "envsnap.toml").write_text(text + "\n")
    refused_by(capsys, module, key)


def test_well_formed_settings_are_read(capsys: pytest.CaptureFixture[str], module: Path) -> None:
    (module / "envsnap.toml").write_text(
        '[track]\nenv = ["GOPROXY"]\n[ignore]\npaths = ["cc.compiler.sha256"]\n'
        '[severity]\n"apple.clt_version" = "error"\n[nix]\nnixpkgs = "abc"\n'
        'nixpkgs_sha256 = "def"\n[nix.attributes.go]\n"1.22" = "go_1_22"\n'
    )
    code, stderr = run_inside(capsys, "--replay", str(MAC), "show", "-C", str(module))
    assert (code, stderr) == (0, "")


# A pattern reaches go's command line: nothing that go would read as a flag, nothing outside the
# module, none of go's meta-packages, no character no package path has.
HOSTILE_PATTERNS = {
    "-toolexec=/tmp/x": "starts with '-'",
    "-modfile=/tmp/go.mod": "starts with '-'",
    "/etc/...": "outside the module",
    "../other/...": "outside the module",
    "./a/../../x": "outside the module",
    "all": "meta-packages",
    "std": "meta-packages",
    "./a b": "a space",
    "./a\\u0000b": "a control character",
    "./a\\nb": "a control character",
    "example.com/m@v1.0.0": "'@'",
    "": "1 to 1024 characters",
    "./" + "x" * 1100: "1 to 1024 characters",
}


@pytest.mark.parametrize("key", ["include", "exclude"])
@pytest.mark.parametrize(
    ("pattern", "why"), HOSTILE_PATTERNS.items(), ids=[p[:24] or "empty" for p in HOSTILE_PATTERNS]
)
def test_a_pattern_go_must_not_be_given_is_refused(
    capsys: pytest.CaptureFixture[str], module: Path, key: str, pattern: str, why: str
) -> None:
    (module / "envsnap.toml").write_text(f'[packages]\n{key} = ["{pattern}"]\n')
    refused_by(capsys, module, f"[packages] {key}: the pattern", why)


def test_too_many_patterns_are_refused(capsys: pytest.CaptureFixture[str], module: Path) -> None:
    patterns = ", ".join(f'"./p{n}/..."' for n in range(300))
    (module / "envsnap.toml").write_text(f"[packages]\nexclude = [{patterns}]\n")
    refused_by(capsys, module, "[packages] exclude has 300 patterns; at most 256")
