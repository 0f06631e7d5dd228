"""What the emitted files tell a person: no placeholder, and names that the tools they name accept.

Every file `emit` writes, from every recording's lock, is searched for what a placeholder looks
like (``?``, ``None``, ``unknown``); the Xcode and Command Line Tools names are held to the names
Apple's downloads and xcodes use, as public scripts and transcripts show them.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import pytest

from envsnap.emit.apple import clt_download_name
from tests.conftest import RECORDINGS, envsnap

TARGETS = ("direnv", "nix", "flake", "apt", "brewfile", "github-actions")
PLACEHOLDER = re.compile(r"\?|\bNone\b|unknown", re.IGNORECASE)
# The syntax of the target languages, which is no placeholder: Nix's default argument
# (`{ pkgs ? import … }`) and sh's exit status (`$?`).
SYNTAX = re.compile(r"\{ pkgs \? import |\$\?")
# Every Go minor of the recordings, mapped so that the Nix files are written at all.
NIX_GO = (
    '[nix.attributes.go]\n"1.16" = "go_1_25"\n"1.22" = "go_1_25"\n"1.24" = "go_1_25"\n'
    '[nix.attributes.apple_sdk]\n"12" = "apple-sdk_14"\n'
)


def annotate_script() -> set[str]:
    """The workflow's annotation step is envsnap's own Python (``is None`` is code there)."""
    text = (files("envsnap") / "_data" / "templates" / "github-annotate").read_text()
    return {line.strip() for line in text.splitlines() if line.strip()}


#: Recordings of a Mac whose developer tools are gone: `lock` refuses them (exit 1).
UNLOCKABLE = {"macos14-arm64-clt-missing"}


def locked_module(tmp_path: Path, recording: Path) -> Path | None:
    module = tmp_path / "m"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    (module / "envsnap.toml").write_text(NIX_GO)
    result = envsnap("--replay", str(recording), "lock", "-C", str(module))
    return module if result.returncode == 0 else None


@pytest.mark.parametrize("name", sorted(p.name for p in RECORDINGS.iterdir()))
def test_no_emitted_file_holds_a_placeholder(name: str, tmp_path: Path) -> None:
    module = locked_module(tmp_path, RECORDINGS / name)
    if name in UNLOCKABLE:  # nothing to emit from: the lock itself is refused there
        assert module is None, f"{name} was expected to refuse a lock"
        return
    assert module is not None, f"envsnap lock failed on the recording {name}"
    code = annotate_script()
    for target in TARGETS:
        result = envsnap("emit", f"--{target}", "--stdout", "-C", str(module))
        no_runner = target == "github-actions" and "no GitHub-hosted runner" in result.stderr
        # a beta SDK nixpkgs does not package yet: emit refuses it, naming the override
        no_sdk = target in ("nix", "flake") and "nixpkgs has no attribute for" in result.stderr
        assert result.returncode == (1 if no_runner or no_sdk else 0), (target, result.stderr)
        for number, line in enumerate(result.stdout.splitlines(), 1):
            if target == "github-actions" and line.strip() in code:
                continue
            assert not PLACEHOLDER.search(SYNTAX.sub("", line)), (target, number, line)
        for line in result.stderr.splitlines():
            assert not PLACEHOLDER.search(line), (target, line)


# Command Line Tools package versions (pkgutil --pkg-info) and the file Apple's download page
# serves for that release, each seen in public material:
CLT_DOWNLOADS = [
    # marslo/ibook docs/osx/apps/xcode.md; Command_Line_Tools_for_Xcode_15.3.dmg in many setup
    # scripts (download.developer.apple.com/Developer_Tools/Command_Line_Tools_for_Xcode_15.3/)
    ("15.3.0.0.1.1708646388", "Command_Line_Tools_for_Xcode_15.3.dmg"),
    # marslo/ibook (pkgutil); Command_Line_Tools_for_Xcode_14.3.1.dmg is Apple's name for it
    ("14.3.1.0.1.1683849156", "Command_Line_Tools_for_Xcode_14.3.1.dmg"),
    # a brew config sample; a Dockerfile copying Command_Line_Tools_for_Xcode_16.2.dmg
    ("16.2.0.0.1.1733547573", "Command_Line_Tools_for_Xcode_16.2.dmg"),
    # the macos-15 runner image's CLT; Command_Line_Tools_for_Xcode_16.4.dmg in setup scripts
    ("16.4.0.0.1.1747106510", "Command_Line_Tools_for_Xcode_16.4.dmg"),
    # a setup note: after Command_Line_Tools_26.6_Universal.dmg "the version is 26.6.0.0.1781586589"
    ("26.6.0.0.1781586589", "Command_Line_Tools_26.6_Universal.dmg"),
]


@pytest.mark.parametrize(("package", "dmg"), CLT_DOWNLOADS)
def test_clt_download_name_is_apples(package: str, dmg: str) -> None:
    name = clt_download_name(package)
    assert name is not None
    assert dmg.startswith(name.replace(" ", "_") + ("." if "for_Xcode" in dmg else "_"))


def mac_envrc(tmp_path: Path, recording: str) -> str:
    module = locked_module(tmp_path, RECORDINGS / recording)
    assert module is not None
    result = envsnap("emit", "--direnv", "--stdout", "-C", str(module))
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_beta_xcode_is_named_as_xcodes_lists_it(tmp_path: Path) -> None:
    """Xcode 16.3 beta 2 (16E5121h) at Xcode_16.3_beta_2.app: `xcodes list` prints it as
    "16.3 Beta 2 (16E5121h)", and `xcodes install 16.3` would install the release instead."""
    text = mac_envrc(tmp_path, "macos15-arm64-xcodes-beta")
    assert "xcodes install 16.3 Beta 2)" in text
    assert "xcodes install 16.3)" not in text
    assert "Xcode 16.3 beta 2 (build 16E5121h)" in text


def test_a_clt_version_is_named_as_apple_offers_it(tmp_path: Path) -> None:
    text = mac_envrc(tmp_path, "macos14-arm64-clt-brew-openssl")
    assert "install Command Line Tools for Xcode 15.3 from developer.apple.com" in text
    assert "(xcode-select --install, or" not in text  # it cannot install a chosen version
