"""Properties of the lock, over generated snapshot-shaped entries (hypothesis).

Entries are shaped like envsnap.snapshot.PlatformEntry, with hostile strings (unicode, control
characters, quotes, backslashes, empty values) in every value and key: each one survives
make_entry → render → parse_lock unchanged, with the same digest, whatever the key order and
the hash seed; and `verify` and `lock --check` agree on every locked/live pair.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envsnap.checking import findings_for, is_clean
from envsnap.commands.lock import updated
from envsnap.config import Config
from envsnap.entry import Content, Entry
from envsnap.lockfile import LockFile, entry_digest, make_entry, parse_lock, render, with_entry
from envsnap.probes.collect import Snapshot
from envsnap.snapshot import validate_entry
from tests.entries import content as as_content

SETTINGS = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
HOSTILE = ['"', "'", '"""', "\\", "\\n", "\n", "\r\n", "\t", "\x00", "\x1b[31m", "\x7f", "\u2028",
           "\ufeff", "é", "日本", "🙂", "", " ", "#", "[x]", "=", "0x1F"]  # fmt: skip

text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=10),
    st.lists(st.sampled_from(HOSTILE), max_size=3).map("".join),
)
maybe = st.none() | text
sha = st.none() | st.binary(min_size=32, max_size=32).map(lambda b: "sha256:" + b.hex())
words = st.lists(text, max_size=3)


def optional(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A dict holding any subset of *fields*, never a None value (TOML has no null)."""
    return st.fixed_dictionaries({}, optional=fields).map(
        lambda d: {k: v for k, v in d.items() if v is not None}
    )


def tool() -> st.SearchStrategy[dict[str, Any]]:
    return optional(command=maybe, path=maybe, realpath=maybe, version=maybe, sha256=sha)


def with_required(
    required: dict[str, st.SearchStrategy[Any]], **fields: st.SearchStrategy[Any]
) -> st.SearchStrategy[dict[str, Any]]:
    return st.tuples(st.fixed_dictionaries(required), optional(**fields)).map(
        lambda pair: {**pair[0], **pair[1]}
    )


file_ref = with_required({"path": text}, sha256=sha)
library = with_required(
    {
        "name": text,
        "found_by": st.sampled_from(["pkg-config", "ldflags"]),
        "provider": text,
        "used_by": words,
    },
    version=maybe,
    pc_file=st.none() | file_ref,
    files=st.lists(file_ref, max_size=2),
)
package = with_required(
    {"path": text, "pkg_config": words, "cflags": words, "ldflags": words},
    cxx=st.none() | st.booleans(),
)
content = with_required(
    {
        "os": with_required({"goos": text, "goarch": text}, name=maybe, glibc=maybe),
        "go": with_required(
            {"version": text, "path": text, "goroot": text, "env": st.dictionaries(text, text)},
            tags=st.none() | words,
        ),
        "cc": with_required({"compiler": tool(), "linker": tool()}, cxx=st.none() | tool()),
        "env": st.dictionaries(text, text, max_size=3),
        "cgo": optional(packages=st.lists(package, max_size=2), package_errors=words, error=maybe),
        "libraries": st.lists(library, max_size=3, unique_by=lambda lib: lib["name"]),
    },
    apple=st.none() | optional(sdk_version=maybe, sdk_path=maybe, has_xcrun=st.booleans()),
)
platform = st.from_regex(r"\A[a-z0-9]{1,8}-[a-z0-9]{1,8}\Z")


def reordered(data: Any, rng: random.Random) -> Any:
    """*data* with every table's keys in a shuffled order (the values unchanged)."""
    if isinstance(data, dict):
        keys = list(data)
        rng.shuffle(keys)
        return {k: reordered(data[k], rng) for k in keys}
    if isinstance(data, list):
        return [reordered(v, rng) for v in data]
    return data


@SETTINGS
@given(platform, content, st.randoms(use_true_random=False))
def test_an_entry_survives_render_and_parse(name: str, entry: Content, rng: random.Random) -> None:
    made = make_entry(reordered(entry, rng))
    assert made == make_entry(entry) and made["digest"] == entry_digest(made)
    validate_entry(name, made)
    lock = with_entry(LockFile(Path("envsnap.lock")), name, entry)
    parsed = parse_lock(Path("envsnap.lock"), render(lock))
    assert parsed.platforms == {name: made}
    assert parsed.digest_ok(name)
    again = parse_lock(Path("envsnap.lock"), render(parsed))
    assert render(again) == render(parsed)


DIGESTS = """
import json, sys
from envsnap.lockfile import make_entry
for line in sys.stdin:
    print(make_entry(json.loads(line))["digest"])
"""


def test_the_digest_does_not_depend_on_the_hash_seed_or_the_key_order() -> None:
    entries: list[Content] = []

    @SETTINGS
    @given(content)
    def collect(entry: Content) -> None:
        entries.append(entry)

    collect()
    rng = random.Random(7)
    expected = [make_entry(entry)["digest"] for entry in entries]
    for seed in ("0", "1"):
        lines = "".join(json.dumps(reordered(e, rng)) + "\n" for e in entries)
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run(
            [sys.executable, "-c", DIGESTS],
            input=lines,
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=60,
        )
        assert proc.stdout.split() == expected
    assert len(set(expected)) > len(expected) // 2  # the examples are not all alike


# ---------------------------------------------------------------------------------------------
# verify and lock --check agree: verify reports a finding exactly when lock would rewrite.


def _shuffled_lists(data: Any, rng: random.Random) -> Any:
    if isinstance(data, dict):
        return {k: _shuffled_lists(v, rng) for k, v in data.items()}
    if isinstance(data, list):
        items = [_shuffled_lists(v, rng) for v in data]
        rng.shuffle(items)
        return items
    return data


def _empty_table(data: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    if "apple" in data:
        return {k: v for k, v in data.items() if k != "apple"}
    return {**data, "apple": {}}


def _one_value(data: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    return {**data, "os": {**data["os"], "goarch": data["os"]["goarch"] + "x"}}


MUTATIONS = {
    "same": lambda data, rng: data,
    "reordered keys": reordered,
    "shuffled lists": _shuffled_lists,
    "an empty table": _empty_table,
    "one value": _one_value,
}


def verify_reports(locked: Entry, live: dict[str, Any], name: str) -> bool:
    if is_clean(locked, as_content(live)):
        return False
    return bool(findings_for(locked, as_content(live), name, Config()))


def lock_check_fails(lock: LockFile, live: dict[str, Any], name: str) -> bool:
    before = render(lock)
    return render(updated(lock, [Snapshot(name, cast(Content, live))])) != before


seen: dict[str, set[bool]] = {}


@SETTINGS
@given(platform, content, st.sampled_from(sorted(MUTATIONS)), st.randoms(use_true_random=False))
def test_verify_and_lock_check_agree(
    name: str, entry: Content, mutation: str, rng: random.Random
) -> None:
    lock = parse_lock(Path("envsnap.lock"), render(with_entry(LockFile(Path("x")), name, entry)))
    live = MUTATIONS[mutation](entry, rng)
    reported = verify_reports(lock.platforms[name], live, name)
    assert reported == lock_check_fails(lock, live, name), mutation
    seen.setdefault(mutation, set()).add(reported)


def test_the_agreement_covered_both_answers() -> None:
    if not seen:  # run alone
        test_verify_and_lock_check_agree()
    assert seen["same"] == seen["reordered keys"] == {False}
    assert seen["one value"] == {True}
    assert True in seen["shuffled lists"] and True in seen["an empty table"]


def test_a_difference_no_rule_explains_is_named_and_can_be_ignored() -> None:
    lib = {"found_by": "ldflags", "provider": "p", "used_by": []}
    libraries = [{"name": "z", **lib}, {"name": "m", **lib}]
    entry = as_content(
        {
            "os": {"goos": "linux", "goarch": "amd64"},
            "go": {"version": "go1.22.1", "path": "/go", "goroot": "/go", "env": {}},
            "cc": {"compiler": {}, "linker": {}},
            "env": {},
            "cgo": {},
            "libraries": libraries,
        }
    )
    live = {**entry, "libraries": libraries[::-1]}
    locked = make_entry(entry)
    (finding,) = findings_for(locked, as_content(live), "linux-amd64", Config())
    assert finding.severity == "warning" and finding.id == "unexplained.libraries"
    assert finding.why == "the entry differs in a way no rule explains: libraries"
    ignored = Config(ignore=("unexplained.*",))
    assert findings_for(locked, as_content(live), "linux-amd64", ignored) == []
