"""The lock's canonical form: digests, per-platform blocks kept byte for byte, the hash cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from envsnap.hashing import HashCache
from envsnap.lockfile import LockFile, entry_digest, make_entry, parse_lock, render, with_entry
from envsnap.redact import looks_like_credential, scrub, strip_userinfo
from tests.entries import content as as_content

CONTENT = as_content(
    {
        "os": {"goos": "linux", "goarch": "amd64", "name": "linux"},
        "env": {"PKG_CONFIG_PATH": "~/lib/pkgconfig", "CPATH": "/opt/é"},
        "libraries": [{"name": "z", "files": [{"path": "/usr/lib/libz.so.1"}]}],
    }
)
# Computed by hand, without Python: the canonical JSON of CONTENT plus envsnap = "0.1.0",
# typed out and piped through `printf '%s' '{"env":{"CPATH":"/opt/é",…}}' | sha256sum`.
PINNED = "sha256:43522201857b65cc53676804208682f59747861920608487bc0a440279343575"


def recipe_digest(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "digest"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    out = subprocess.run(["sha256sum"], input=text.encode(), capture_output=True, check=True)
    return "sha256:" + out.stdout.decode().split()[0]


def test_digest_follows_the_documented_recipe() -> None:
    entry = {"envsnap": "0.1.0", **CONTENT}
    assert entry_digest(entry) == recipe_digest(entry)


@pytest.mark.parametrize("seed", ["0", "4242"])
def test_digest_is_pinned_across_hash_seeds(seed: str) -> None:
    code = (
        "import json,sys;from envsnap.lockfile import entry_digest;"
        "print(entry_digest(json.loads(sys.stdin.read())))"
    )
    entry = {"envsnap": "0.1.0", **CONTENT}
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(entry),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": seed},
    )
    assert out.stdout.strip() == recipe_digest(entry)
    assert out.stdout.strip() == PINNED


def test_other_platform_blocks_are_copied_through(tmp_path: Path) -> None:
    hand_formatted = (
        b'schema = 1\n\n[platforms."darwin-arm64"]\nenvsnap = "0.0.9"\ndigest = "x"\n'
        b"# a comment someone kept\n"
        b'[platforms."darwin-arm64".os]\ngoos = "darwin"\ngoarch="arm64"\n'
    )
    lock = parse_lock(tmp_path / "envsnap.lock", hand_formatted)
    updated = render(with_entry(lock, "linux-amd64", CONTENT))
    kept = hand_formatted.split(b"\n\n", 1)[1]
    assert kept in updated
    assert updated.index(kept) < updated.index(b"[platforms.linux-amd64]")


def test_an_unchanged_entry_keeps_its_text_and_digest(tmp_path: Path) -> None:
    first = render(with_entry(LockFile(tmp_path / "l"), "linux-amd64", CONTENT))
    again = render(with_entry(parse_lock(tmp_path / "l", first), "linux-amd64", CONTENT))
    assert again == first
    entry = make_entry(CONTENT)
    assert list(entry)[:2] == ["envsnap", "digest"]


def test_corrupt_hash_cache_is_discarded(tmp_path: Path) -> None:
    cache_file = tmp_path / "cache" / "file-hashes.json"
    cache_file.parent.mkdir()
    cache_file.write_bytes(b"\x00{not json")
    target = tmp_path / "lib.so"
    target.write_bytes(b"library bytes")
    os.utime(target, (1_000_000_000, 1_000_000_000))  # not modified "just now" (racy)
    time.sleep(0.2)  # nor its ctime
    cache = HashCache(cache_file)
    digest = cache.digest(str(target))
    assert digest is not None and digest.startswith("sha256:")
    cache.save()
    assert json.loads(cache_file.read_text())["version"] == 4


def test_hash_cache_sees_a_rewritten_file(tmp_path: Path) -> None:
    cache = HashCache(tmp_path / "c.json")
    target = tmp_path / "lib.so"
    target.write_bytes(b"one")
    first = cache.digest(str(target))
    target.write_bytes(b"two!")
    assert cache.digest(str(target)) != first


def test_devices_and_fifos_are_never_hashed(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    cache = HashCache(None)
    assert cache.digest(str(fifo)) is None
    assert cache.digest("/dev/zero") is None


@pytest.mark.parametrize(
    "value",
    [
        "ghp_" + "a" * 10 + "B" * 10 + "1234567890",
        "-O2 -DKEY=AKIAIOSFODNN7EXAMPLE",
        "password=hunter2",
    ],
)
def test_credentials_are_recognised(value: str) -> None:
    assert looks_like_credential(value)
    assert "<redacted>" in scrub(value)


@pytest.mark.parametrize(
    "value",
    [
        "-O2 -g -I/opt/homebrew/opt/openssl@3/include",
        "/nix/store/0c8fnz6jkh8f4s3cylm4vqzr1d4ah1lm-zlib-1.3.1/lib",
        "sha256:7e2a72b4c4b38c61e6962de6e3f4a5e9ae692e732c68deead10a7ce2135a7f68",
        "-fPIC -m64 -pthread -Wl,--no-gc-sections -fmessage-length=0",
    ],
)
def test_ordinary_build_values_are_not_credentials(value: str) -> None:
    assert not looks_like_credential(value)


def test_url_userinfo_is_stripped() -> None:
    assert strip_userinfo("https://u:p@proxy/x,direct") == "https://proxy/x,direct"
