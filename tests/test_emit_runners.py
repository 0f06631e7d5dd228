"""`emit --github-actions` runs each Mac job on the runner image that has the locked toolchain.

The expected images and paths are looked up here in actions/runner-images' own readmes, as
github/runner-images.toml cites them (each row names the readme and commit it was copied from);
every emitted workflow is checked against GitHub's workflow schema.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, cast

import pytest
from ruamel.yaml import YAML

from envsnap.emit.native import render_workflow
from envsnap.emit.runners import NoRunner
from envsnap.entry import Entry
from tests.conftest import RECORDINGS, REPO, envsnap
from tests.test_emit_native import check_workflow, replay_locked

TABLE = tomllib.loads((REPO / "github" / "runner-images.toml").read_text())


def apps(label: str) -> dict[str, dict[str, Any]]:
    """The Xcodes of one image in the table, by app path."""
    (image,) = [i for i in TABLE["image"] if i["label"] == label]
    return {x["app"]: x for x in image.get("xcode", [])}


def mac_entry(**apple: Any) -> Entry:
    """The parts of a Mac's entry the workflow reads."""
    return cast(
        Entry,
        {
            "go": {"version": "go1.26.6", "env": {"CC": "clang", "CXX": "clang++"}},
            "apple": apple,
            "libraries": [],
        },
    )


def job_of(tmp_path: Path, entry: Entry) -> dict[str, Any]:
    text, _ = render_workflow([("darwin-arm64", entry)])
    path = tmp_path / "envsnap.yml"
    path.write_text(text)
    check_workflow(path)
    (job,) = YAML(typ="safe").load(text)["jobs"].values()
    assert isinstance(job, dict)
    return job


def test_every_image_cites_its_readme() -> None:
    for image in TABLE["image"]:
        assert "actions/runner-images" in image["source"] and "@" in image["source"], image


def test_an_xcode_27_beta_lock_runs_where_that_beta_is(tmp_path: Path) -> None:
    """Xcode 27.0 beta 4 (27A5228h): the xcode-27 image names it Xcode_27_beta_4.app
    (images/macos/xcode-27-arm64-Readme.md); /Applications/Xcode_27.0.app is only a symlink
    there and on no other image."""
    entry = mac_entry(
        developer_dir_kind="xcode",
        developer_dir_realpath="/Applications/Xcode-beta.app/Contents/Developer",
        xcode_version="27.0",
        xcode_build="27A5228h",
        xcode_beta=True,
        sdk_version="27.0",
    )
    job = job_of(tmp_path, entry)
    assert job["runs-on"] == "xcode-27"
    app = job["env"]["DEVELOPER_DIR"].removesuffix("/Contents/Developer")
    assert app in apps("xcode-27") and apps("xcode-27")[app]["build"] == "27A5228h"
    assert app == "/Applications/Xcode_27_beta_4.app"


def test_a_clt_26_lock_runs_on_a_macos_26_image(tmp_path: Path) -> None:
    """CLT 26.6 (26.6.0.0.1781586589) with its SDK 26.5: macos-26 has that CLT; macos-15, which
    lead's table chose, has CLT 16.4."""
    entry = mac_entry(
        developer_dir_kind="clt",
        developer_dir_realpath="/Library/Developer/CommandLineTools",
        clt_version="26.6.0.0.1781586589",
        sdk_version="26.5",
    )
    job = job_of(tmp_path, entry)
    assert job["runs-on"] == "macos-26"
    assert job["env"]["DEVELOPER_DIR"] == "/Library/Developer/CommandLineTools"
    assert (job["env"]["CC"], job["env"]["CXX"]) == ("clang", "clang++")


def test_a_recorded_beta_lock_names_an_existing_path_or_exits_1(tmp_path: Path) -> None:
    """Xcode 16.3 beta 2 (16E5121h) is on no image: the job names an Xcode the table has, with a
    warning, or emit exits 1 naming the closest image."""
    module = replay_locked(tmp_path / "beta", RECORDINGS / "macos15-arm64-xcodes-beta")
    result = envsnap("emit", "--github-actions", "--stdout", "-C", str(module))
    if result.returncode == 1:
        assert "no GitHub-hosted runner image" in result.stderr and "closest" in result.stderr
        return
    assert result.returncode == 0, result.stderr
    (job,) = YAML(typ="safe").load(result.stdout)["jobs"].values()
    app = job["env"]["DEVELOPER_DIR"].removesuffix("/Contents/Developer")
    assert app in apps(job["runs-on"])
    assert "Xcode 16.3 beta 2" in result.stderr  # the warning names what differs


def test_a_lock_no_image_can_run_exits_1_naming_the_closest(tmp_path: Path) -> None:
    """An Intel Mac with the macOS 12.3 SDK (macos12 recording): no x64 image ships it."""
    module = replay_locked(tmp_path / "intel", RECORDINGS / "macos12-x86_64-clt")
    result = envsnap("emit", "--github-actions", "-C", str(module))
    assert result.returncode == 1, result.stderr
    assert "macOS SDK 12.3" in result.stderr and "the closest is macos-" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (module / ".github").exists()
    with pytest.raises(NoRunner):
        render_workflow([("darwin-amd64", mac_entry(developer_dir_kind="clt", sdk_version="12.3"))])
