"""Build variants (envsnap.toml ``[variants.NAME] tags``) on a real module whose cgo directives
differ by build tag: one lock entry per variant, verify per variant, tags in emitted shells."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from envsnap.lockfile import LockFile, make_entry, parse_lock, render
from envsnap.quoted import UnterminatedQuote
from envsnap.variants import goflags_tags, tags_flag, with_tags
from tests.conftest import REPO, envsnap, require_tool, write_module
from tests.test_emit import DUMP_ENV, direnv, eval_shell, nix_eval, source_envrc, stub_pkgs

WITHZ = """//go:build withz

package zz

// #cgo pkg-config: zlib
// #include <zlib.h>
import "C"

func Lib() string { return C.GoString(C.zlibVersion()) }
"""

PLAIN = """//go:build !withz

package zz

// #cgo LDFLAGS: -lm
// #include <math.h>
import "C"

func Lib() string { return "libm" }
"""

SCHEMA = json.loads((REPO / "docs" / "verify.schema.json").read_text())
CONFIG = '[variants.withz]\ntags = ["withz"]\n'


def with_env(**values: str) -> dict[str, str]:
    return {**os.environ, **values}


def host_platform() -> str:
    out = subprocess.run(["go", "env", "GOOS", "GOARCH"], capture_output=True, text=True)
    return "-".join(out.stdout.split())


@pytest.fixture
def tagged_module(tmp_path: Path) -> Path:
    """A module with the withz variant declared, locked."""
    for tool in ("go", "gcc", "pkg-config"):
        require_tool(tool)
    files = {"zz/z_withz.go": WITHZ, "zz/z_plain.go": PLAIN, "envsnap.toml": CONFIG}
    module = write_module(tmp_path / "mod", files)
    locked = envsnap("lock", "-C", str(module))
    assert locked.returncode == 0, locked.stderr
    return module


def lock_doc(module: Path) -> dict[str, Any]:
    doc: dict[str, Any] = tomllib.loads((module / "envsnap.lock").read_text())
    return doc


def library_names(entry: dict[str, Any]) -> set[str]:
    return {lib["name"] for lib in entry.get("libraries", [])}


def verify_json(module: Path, *extra: str, goflags: str = "-mod=mod") -> dict[str, Any]:
    result = envsnap("verify", "--json", "-C", str(module), *extra, env=with_env(GOFLAGS=goflags))
    document: dict[str, Any] = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    assert document["exit_code"] == result.returncode
    return document


def test_two_variants_lock_to_two_entries_with_their_own_libraries(tagged_module: Path) -> None:
    platform = host_platform()
    entries = lock_doc(tagged_module)["platforms"]
    assert sorted(entries) == [platform, f"{platform}+withz"]
    default, withz = entries[platform], entries[f"{platform}+withz"]
    assert library_names(default) == {"m"} and library_names(withz) == {"zlib"}
    assert "tags" not in default["go"] and "variant" not in default
    assert withz["go"]["tags"] == ["withz"] and withz["variant"] == "withz"
    assert withz["go"]["env"]["GOFLAGS"] == "-mod=mod -tags=withz"
    document = verify_json(tagged_module)
    assert document["ok"] and document["variants"] == ["default", "withz"]
    relocked = envsnap("lock", "--check", "-C", str(tagged_module))
    assert relocked.returncode == 0, relocked.stderr


@pytest.mark.parametrize("cached", [True, False])
def test_switching_goflags_tags_is_an_error_naming_the_variant(
    tagged_module: Path, cached: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not cached:
        monkeypatch.setenv("ENVSNAP_NO_CACHE", "1")
    time.sleep(0.2)  # older than the racy window, so the probe memo keeps what it sees
    assert verify_json(tagged_module)["ok"]  # fills the probe memo for both variants
    document = verify_json(tagged_module, goflags="-mod=mod -tags=withz")
    tags = [f for f in document["findings"] if f["id"] == "go.tags"]
    assert [(f["variant"], f["severity"], f["live"]) for f in tags] == [
        ("default", "error", ["withz"])
    ]
    assert "variant default" in tags[0]["why"]
    assert "go.env.GOFLAGS" in tags[0]["also"]
    assert {f["variant"] for f in document["findings"]} == {"default"}
    text = envsnap("verify", "-C", str(tagged_module), env=with_env(GOFLAGS="-mod=mod -tags=withz"))
    assert text.returncode == 1 and "[default] build tags" in text.stdout
    # the withz variant builds with those tags anyway: checked alone, it is clean
    assert verify_json(tagged_module, "--variant", "withz", goflags="-mod=mod -tags=withz")["ok"]


def test_a_drift_in_one_variant_is_reported_for_that_variant_only(tagged_module: Path) -> None:
    zz = tagged_module / "zz" / "z_withz.go"
    zz.write_text(WITHZ.replace("pkg-config: zlib", "pkg-config: zlib\n// #cgo LDFLAGS: -lm"))
    document = verify_json(tagged_module)
    assert not document["ok"]
    assert {f["variant"] for f in document["findings"]} == {"withz"}
    assert verify_json(tagged_module, "--variant", "default")["ok"]
    one = envsnap("verify", "--variant", "withz", "-C", str(tagged_module))
    assert one.returncode == 1 and "(variant withz) differs" in one.stdout
    unknown = envsnap("verify", "--variant", "nosuch", "-C", str(tagged_module))
    assert unknown.returncode == 2 and "no variant 'nosuch'" in unknown.stderr


def test_a_variant_removed_from_the_config_is_reported_then_dropped(tagged_module: Path) -> None:
    (tagged_module / "envsnap.toml").unlink()
    document = verify_json(tagged_module)
    stale = [f for f in document["findings"] if f["id"].startswith("platforms.")]
    assert [(f["severity"], f["variant"]) for f in stale] == [("warning", "withz")]
    assert document["exit_code"] == 0
    assert verify_json(tagged_module, "--strict")["exit_code"] == 1
    relocked = envsnap("lock", "-C", str(tagged_module))
    assert relocked.returncode == 0 and "dropping" in relocked.stderr
    assert sorted(lock_doc(tagged_module)["platforms"]) == [host_platform()]


def test_cross_targets_are_refused_in_one_line(tmp_path: Path) -> None:
    require_tool("go")
    config = '[variants.arm]\ntags = ["x"]\ngoarch = "arm64"\n'
    module = write_module(tmp_path / "m", {"p.go": "package p\n", "envsnap.toml": config})
    refused = envsnap("lock", "-C", str(module))
    assert refused.returncode == 2 and "cross-compiled variants are not supported" in refused.stderr
    assert not (module / "envsnap.lock").exists()
    (module / "envsnap.toml").unlink()
    other = "arm64" if host_platform().endswith("amd64") else "amd64"
    undeclared = envsnap("lock", "-C", str(module), env=with_env(GOARCH=other))
    assert undeclared.returncode == 2 and "GOOS/GOARCH select" in undeclared.stderr
    assert len(undeclared.stderr.strip().splitlines()) <= 2  # the error and its hint


def test_emitted_envrc_carries_the_variant_tags(tagged_module: Path) -> None:
    emitted = envsnap("emit", "--direnv", "--variant", "withz", "-C", str(tagged_module))
    assert emitted.returncode == 0, emitted.stderr
    text = (tagged_module / ".envrc").read_text()
    assert "--variant withz" in text and "Other variants in envsnap.lock: default" in text
    sourced = source_envrc(tagged_module)
    assert sourced["GOFLAGS"] == "-mod=mod -tags=withz" and sourced["ENVSNAP_VARIANT"] == "withz"
    assert direnv(tagged_module, "allow").returncode == 0
    loaded = direnv(tagged_module, "exec", ".", *DUMP_ENV)
    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(loaded.stdout)["GOFLAGS"] == "-mod=mod -tags=withz"
    assert "differs" not in loaded.stderr  # verify in that shell checks its own variant
    built = subprocess.run(
        ["go", "list", "-f", "{{.CgoPkgConfig}}", "./zz"],
        cwd=tagged_module,
        env=json.loads(loaded.stdout),
        capture_output=True,
        text=True,
    )
    assert built.stdout.strip() == "[zlib]", built.stderr
    assert envsnap("emit", "--direnv", "-C", str(tagged_module)).returncode == 0
    assert "withz" not in source_envrc(tagged_module).get("GOFLAGS", "")


def test_emitted_nix_shells_carry_the_variant_tags(tagged_module: Path) -> None:
    for flag in ("--nix", "--flake"):
        result = envsnap("emit", flag, "--variant", "withz", "-C", str(tagged_module))
        assert result.returncode == 0, result.stderr
    shell = eval_shell(tagged_module / "shell.nix", "x86_64-linux")
    assert shell["env"]["GOFLAGS"] == "-mod=mod -tags=withz"
    assert shell["env"]["ENVSNAP_VARIANT"] == "withz" and "zlib" in shell["packages"]
    inputs = (
        '{ self = { }; nixpkgs.legacyPackages = { "x86_64-linux" = '
        f"{stub_pkgs('x86_64-linux')}; }}; }}"
    )
    flake = nix_eval(f"((import {tagged_module / 'flake.nix'}).outputs {inputs}).devShells")
    assert flake["x86_64-linux"]["default"]["env"]["GOFLAGS"] == "-mod=mod -tags=withz"
    assert envsnap("emit", "--nix", "-C", str(tagged_module)).returncode == 0
    default = eval_shell(tagged_module / "shell.nix", "x86_64-linux")
    assert "GOFLAGS" not in default["env"] and "zlib" not in default["packages"]
    missing = envsnap("emit", "--nix", "--variant", "nosuch", "-C", str(tagged_module))
    assert missing.returncode != 0 and "no entry for variant 'nosuch'" in missing.stderr


def test_the_merge_driver_keeps_variant_entries_from_both_sides(
    tagged_module: Path, tmp_path: Path
) -> None:
    path = tagged_module / "envsnap.lock"
    ours_lock = parse_lock(path, path.read_bytes())
    platform = host_platform()
    base = LockFile(path, 1, {platform: ours_lock.platforms[platform]})
    elsewhere = json.loads(json.dumps(ours_lock.platforms[f"{platform}+withz"]))
    elsewhere["os"].update(goos="darwin", goarch="arm64")
    theirs = LockFile(path, 1, {**base.platforms, "darwin-arm64+withz": make_entry(elsewhere)})
    sides = {"base": render(base), "ours": path.read_bytes(), "theirs": render(theirs)}
    paths = []
    for name, data in sides.items():
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))
    result = envsnap("merge-driver", *paths, "envsnap.lock")
    assert result.returncode == 0, result.stderr
    merged = parse_lock(path, (tmp_path / "ours").read_bytes())
    assert sorted(merged.platforms) == sorted([platform, f"{platform}+withz", "darwin-arm64+withz"])
    assert all(merged.digest_ok(key) for key in merged.platforms)
    assert merged.blocks[f"{platform}+withz"] == ours_lock.blocks[f"{platform}+withz"]


def test_goflags_tags_are_read_and_merged_as_go_does() -> None:
    assert goflags_tags("-mod=mod -tags=b,a") == ["a", "b"]
    assert goflags_tags("-tags=a --tags=c") == ["c"]  # the last -tags wins
    assert goflags_tags("-mod=mod") == []
    assert with_tags("-mod=mod -tags=x", ("withz",)) == "-mod=mod -tags=withz,x"
    assert with_tags("", ("b", "a")) == "-tags=a,b"


# diff, log and doctor know the variants too --------------------------------------------------


def drift_withz(module: Path) -> None:
    """The withz build now links -lm too; the default build is unchanged."""
    zz = module / "zz" / "z_withz.go"
    zz.write_text(WITHZ.replace("pkg-config: zlib", "pkg-config: zlib\n// #cgo LDFLAGS: -lm"))


def diff_json(module: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = envsnap("diff", "--json", *args, "-C", str(module))
    document: dict[str, Any] = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    return result.returncode, document


def test_diff_reports_each_variant_and_variant_selects_one(
    tagged_module: Path, tmp_path: Path
) -> None:
    code, document = diff_json(tagged_module)
    assert (code, document["variants"]) == (0, ["default", "withz"])
    drift_withz(tagged_module)
    code, document = diff_json(tagged_module)
    assert code == 1 and document["variants"] == ["default", "withz"]
    assert {f["variant"] for f in document["findings"]} == {"withz"}
    assert diff_json(tagged_module, "--variant", "default")[0] == 0
    text = envsnap("diff", "--variant", "withz", "-C", str(tagged_module))
    assert text.returncode == 1 and "(variant withz) differs" in text.stdout
    assert "[withz] -lm" in text.stdout
    # two locks: each variant's entries are compared
    old = tmp_path / "old.lock"
    old.write_bytes((tagged_module / "envsnap.lock").read_bytes())
    assert envsnap("lock", "-C", str(tagged_module)).returncode == 0
    code, document = diff_json(tagged_module, str(old), "envsnap.lock")
    assert code == 1 and document["variants"] == ["default", "withz"]
    assert {(f["variant"], f["id"]) for f in document["findings"]} >= {("withz", "libraries.-lm")}
    assert {f["variant"] for f in document["findings"]} == {"withz"}


def test_log_reports_each_variant_and_variant_selects_one(tagged_module: Path) -> None:
    from tests.test_git_repo import commit_all, init_repo

    init_repo(tagged_module)
    commit_all(tagged_module, "lock")
    drift_withz(tagged_module)
    assert envsnap("lock", "-C", str(tagged_module)).returncode == 0
    commit_all(tagged_module, "withz links -lm")
    platform = host_platform()

    def log(*args: str) -> list[str]:
        result = envsnap("log", *args, "-C", str(tagged_module))
        assert result.returncode == 0, result.stderr
        return [line.split(" in ", 1)[0] for line in result.stdout.splitlines()]

    assert log() == [
        f"{platform} (variant withz): cgo package example.com/m/zz (empty) → -lm (error)",
        f"{platform} (variant withz): -lm added (error)",
        f"{platform}: entry added",
        f"{platform} (variant withz): entry added",
    ]
    assert log("--variant", "withz") == [line for line in log() if "variant withz" in line]
    assert log("--variant", "default") == [f"{platform}: entry added"]
    assert log("--platform", platform, "--variant", "default") == [f"{platform}: entry added"]


def doctor_json(module: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = envsnap("doctor", "--json", *args, "-C", str(module))
    document: dict[str, Any] = json.loads(result.stdout)
    jsonschema.validate(document, json.loads((REPO / "docs" / "doctor.schema.json").read_text()))
    return result.returncode, {c["id"]: c for c in document["checks"]}


def test_doctor_checks_each_variant_and_variant_selects_one(tagged_module: Path) -> None:
    platform = host_platform()
    drift_withz(tagged_module)
    code, checks = doctor_json(tagged_module)
    lock = checks["lock.verify"]
    assert code == 1 and lock["status"] == "problem"
    assert [e["source"] for e in lock["evidence"]] == [
        "envsnap verify --variant default",
        "envsnap verify --variant withz",
    ]
    assert lock["evidence"][0]["lines"] == [f"{platform} matches envsnap.lock"]
    assert lock["evidence"][1]["lines"][0].startswith(f"{platform}+withz differs from envsnap.lock")
    # the default build has no pkg-config package: its doctor does not look for zlib
    assert "zlib" not in checks["cgo.pkg-config"]["summary"]
    code, checks = doctor_json(tagged_module, "--variant", "default")
    assert code == 0 and checks["lock.verify"]["summary"] == f"{platform} matches envsnap.lock"
    code, checks = doctor_json(tagged_module, "--variant", "withz")
    assert code == 1 and checks["lock.verify"]["status"] == "problem"
    assert [e["source"] for e in checks["lock.verify"]["evidence"]] == [
        "envsnap verify --variant withz"
    ]
    assert "zlib" in checks["cgo.pkg-config"]["summary"]  # the withz build is diagnosed
    unknown = envsnap("doctor", "--variant", "nosuch", "-C", str(tagged_module))
    assert unknown.returncode == 2 and "no variant 'nosuch'" in unknown.stderr


def test_a_remembered_verify_of_a_variant_runs_no_go(tagged_module: Path, tmp_path: Path) -> None:
    """GOFLAGS, to which a variant adds its tags, comes from the probe memo like every other
    answer of go: once the memo holds, verify runs no go command at all."""
    calls, bin_dir = tmp_path / "go-calls", tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "go"
    real = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True)
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec {real.stdout.strip()}/bin/go "$@"\n')
    wrapper.chmod(0o755)
    env = with_env(PATH=f"{bin_dir}:{os.environ['PATH']}")
    assert envsnap("lock", "-C", str(tagged_module), env=env).returncode == 0
    time.sleep(0.2)  # older than the racy window, so the probe memo keeps what it sees
    assert envsnap("verify", "-C", str(tagged_module), env=env).returncode == 0
    assert "env GOFLAGS" in calls.read_text() or "env -json" in calls.read_text()
    calls.unlink()
    settings = tagged_module / "envsnap.toml"  # the remembered verdict no longer holds ...
    os.utime(settings, (time.time() - 60, time.time() - 60))  # ... the probe memo does
    verified = envsnap("verify", "-C", str(tagged_module), env=env)
    assert verified.returncode == 0, verified.stdout
    assert not calls.exists(), calls.read_text()


def test_show_probes_the_variant_asked_for(tagged_module: Path) -> None:
    shown = envsnap("show", "--json", "--variant", "withz", "-C", str(tagged_module))
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert document["platform"] == f"{host_platform()}+withz"
    assert document["snapshot"]["go"]["tags"] == ["withz"]
    assert library_names(document["snapshot"]) == {"zlib"}


# The -tags values go reads, against the real go (cmd/go/internal/work's tagsFlag): commas, or
# go 1.12's spaces and single quotes, an empty tag, and the open quote go refuses.
TAG_VALUES = (
    "a,b",
    "a,,b",
    ",a,",
    "a b",
    "'a b'",
    "a,b c",
    "'a,b' c",
    '"a b"',
    "b,a,b",
    "x'y",
    "'a",
)


def go_build_tags(root: Path, value: str, via_goflags: bool) -> list[str] | None:
    """The build tags the real go builds with for -tags=*value* (on its command line, or in
    GOFLAGS); None where go refuses the value."""
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": ""}
    args = ["-f", "{{range context.BuildTags}}<{{.}}>{{end}}", "."]
    if via_goflags:
        env["GOFLAGS"] = f"'-tags={value}'" if " " in value else f"-tags={value}"
    else:
        args.insert(0, f"-tags={value}")
    proc = subprocess.run(
        [require_tool("go"), "list", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if proc.returncode != 0:
        assert "unterminated" in proc.stderr or "non-flag" in proc.stderr, proc.stderr
        return None
    return sorted(set(re.findall(r"<([^>]*)>", proc.stdout)))


@pytest.mark.parametrize("value", TAG_VALUES)
def test_tags_are_read_as_go_reads_them(tmp_path: Path, value: str) -> None:
    require_tool("go")
    root = write_module(tmp_path / "m", {"p.go": "package m\n"})
    try:
        ours: list[str] | None = sorted(set(tags_flag(value)))
    except UnterminatedQuote:
        ours = None
    assert ours == go_build_tags(root, value, via_goflags=False)
    from_goflags = go_build_tags(root, value, via_goflags=True)
    goflags = f"'-tags={value}'" if " " in value else f"-tags={value}"
    assert goflags_tags(goflags) == (from_goflags or [])
