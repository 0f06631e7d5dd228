"""Give the macOS recordings the stamps of the files Apple's tools answer from.

A recording's ``stat`` entries may carry ``dev``, ``inode``, ``mtime_ns`` and ``ctime_ns``:
envsnap's own numbers (no tool prints them), from which a replay stamps a path for the probe
memo (docs/recording-format.md). No real stat data of those files exists in the fixtures, so the
numbers are derived, the same way for every recording, from what it already holds:

* the paths: each input of the Apple probe (:func:`envsnap.probes.apple.tool_inputs`) that the
  recording records (a ``stat`` entry or a file), and the CLT receipt's plist when ``pkgutil``
  answers with a receipt;
* ``dev`` 1 (one volume); ``inode`` 101, 102, … in the paths' sorted order;
* ``mtime_ns`` = ``ctime_ns`` = the time the receipt's CLT version ends with
  (``16.2.0.0.1.1733547573``: 1733547573 s), or 0 when the recording has no such receipt;
* ``size``: a recorded file's bytes; a directory's or an unrecorded file's entry keeps none.

Run: ``python scripts/stamp_recordings.py tests/fixtures/recordings/macos*``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from envsnap.host import ReplayHost
from envsnap.probes import apple


def receipt_time(host: ReplayHost) -> int | None:
    try:
        said = host.run(["pkgutil", f"--pkg-info={apple.CLT_PACKAGE}"])
    except Exception:  # noqa: BLE001 - not recorded, not found: no receipt
        return None
    found = re.search(r"^version: \S+\.(\d{10})$", said.out, re.MULTILINE) if said.ok else None
    return int(found.group(1)) if found else None


def stamp_recording(directory: Path) -> list[str]:
    host = ReplayHost(directory)
    section = apple.probe_apple(host)
    manifest = json.loads((directory / "host.json").read_text())
    stats, files = manifest.setdefault("stat", {}), manifest.get("files", {})
    when = receipt_time(host)
    # a path recorded as missing (null) stays missing
    paths = {p for p in apple.tool_inputs(section) if stats.get(p) is not None or files.get(p)}
    if when is not None:
        paths.add(apple.CLT_RECEIPTS[0])
    for inode, path in enumerate(sorted(paths), start=101):
        entry = stats.get(path) or {"kind": "file"}
        if files.get(path):
            entry["size"] = len((directory / files[path]).read_bytes())
        ns = (when or 0) * 1_000_000_000
        entry.update(dev=1, inode=inode, mtime_ns=ns, ctime_ns=ns)
        stats[path] = entry
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (directory / "host.json").write_text(text)
    return sorted(paths)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        sys.stdout.write(f"{name}: {stamp_recording(Path(name))}\n")
