"""A verify that finds a drift re-checks only what drifted, on a copy of examples/zlib with the
real go, gcc and pkg-config: no tool runs twice and no link is traced for a changed flag (at most
the tools of an uncached clean verify; ENVSNAP_TRACE counts); a drift of the libraries is still
confirmed by the real link; and a drift seen in an answer remembered from an earlier run is
asked again before it is reported."""

from __future__ import annotations

import json
import os
import shutil
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tests.conftest import envsnap, heavy_imports_of, require_tool

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "zlib"
LINK_TRACE = "-Wl,--trace"


@pytest.fixture
def module(tmp_path: Path) -> Path:
    for tool in ("go", "gcc", "pkg-config"):
        require_tool(tool)
    copy = tmp_path / "zlib"
    shutil.copytree(EXAMPLE, copy)
    assert envsnap("lock", "-C", str(copy)).returncode == 0
    time.sleep(0.2)  # the lock's stamps out of the racy window
    assert envsnap("verify", "-C", str(copy)).returncode == 0
    return copy


def verify(module: Path, tmp_path: Path, **variables: str) -> tuple[dict[str, Any], list[str]]:
    """verify --json's document, and the command line of each tool it ran."""
    trace = tmp_path / f"trace-{time.monotonic_ns()}.jsonl"
    env = {**os.environ, **variables, "ENVSNAP_TRACE": str(trace)}
    result = envsnap("verify", "--json", "-C", str(module), env=env)
    assert result.returncode in (0, 1), result.stderr
    lines = [json.loads(line) for line in trace.read_text().splitlines()] if trace.exists() else []
    return json.loads(result.stdout), [" ".join(x["argv"]) for x in lines if x["call"] == "run"]


def test_a_changed_flag_runs_no_tool_twice_and_no_link(module: Path, tmp_path: Path) -> None:
    _, uncached = verify(module, tmp_path, ENVSNAP_NO_CACHE="1")
    document, ran = verify(module, tmp_path, CGO_CFLAGS="-O3")
    assert [f["id"] for f in document["findings"]] == ["go.env.CGO_CFLAGS"]
    (finding,) = document["findings"]
    assert (finding["locked"], finding["live"]) == ("-O2 -g", "-O3")
    assert finding["actions"][0]["command"] == "unset CGO_CFLAGS"
    assert not [argv for argv in ran if LINK_TRACE in argv], "a changed flag traces no link"
    assert len(ran) == len(set(ran)), f"a tool ran twice: {ran}"
    assert sorted(ran) == sorted(uncached), "the tools of one uncached clean verify, no more"


def test_a_drift_of_the_libraries_is_confirmed_by_the_real_link(
    module: Path, tmp_path: Path
) -> None:
    source = module / "mathx" / "mathx.go"
    source.write_text(source.read_text().replace("-lm", "-lm -lz"))
    document, ran = verify(module, tmp_path)
    fresh, _ = verify(module, tmp_path, ENVSNAP_NO_CACHE="1")
    assert document == fresh
    assert "libraries.-lz" in [f["id"] for f in document["findings"]]
    assert [argv for argv in ran if LINK_TRACE in argv], "the drifted libraries, from the link"


def test_a_drift_seen_in_a_remembered_answer_is_asked_again(module: Path, tmp_path: Path) -> None:
    """A compiler version the memo of an earlier run holds (sealed as envsnap seals, every stamp
    current) but the compiler does not give: the re-check asks gcc, and verify is clean."""
    from envsnap.probecache import CACHE_VERSION, check_of
    from envsnap.stamps import cache_secret, write_cache_json

    memo = Path(os.environ["XDG_CACHE_HOME"], "envsnap", "probes.json")
    entries = json.loads(memo.read_text())["entries"]
    secret = cache_secret(memo)
    assert secret is not None
    for slot, entry in entries.items():
        if slot.startswith("cc:"):
            entry["value"]["version"] = "gcc (Debian 99.1.0-1) 99.1.0"
            entry["check"] = check_of(secret, slot, entry["manifest"], entry["value"])
    write_cache_json(memo, CACHE_VERSION, entries)
    Path(memo.parent, "verdicts").unlink()
    document, ran = verify(module, tmp_path)
    assert document["findings"] == [] and document["exit_code"] == 0
    assert [argv for argv in ran if argv.endswith("gcc --version")], "the compiler asked again"


def test_the_entry_lock_wrote_is_not_validated_again(
    module: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lock validated the entry it wrote; a drift against it builds no pydantic validator, and
    an entry edited by hand (a digest that is its own, a field of the wrong type) still is."""
    monkeypatch.setenv("CGO_CFLAGS", "-O3")
    rc, heavy, _ = heavy_imports_of(["verify", "-C", str(module)])
    assert (rc, "pydantic" in heavy) == (1, False)
    from envsnap.lockfile import entry_digest

    lock = tomllib.loads((module / "envsnap.lock").read_text())
    (entry,) = lock["platforms"].values()
    entry["go"]["version"] = 126  # a wrong type, digest made again: a hand edit
    entry["digest"] = entry_digest(entry)
    (module / "envsnap.lock").write_text(tomli_w.dumps(lock))
    result = envsnap("verify", "-C", str(module))
    assert result.returncode == 2 and "does not match the lock schema" in result.stderr
