"""The Go toolchain check: does the local go satisfy go.mod without switching to another?"""

from __future__ import annotations

import re

from envsnap import gomod
from envsnap.doctor.facts import (
    Check,
    Evidence,
    Facts,
    go_env_evidence,
    go_mod_evidence,
    skipped,
)


def check_toolchain(facts: Facts) -> Check:
    cid, title = "go.toolchain", "the local go satisfies go.mod without switching"
    if facts.go_path is None:
        missing = Evidence("environment", "PATH", ("`go` is not on PATH",))
        return Check(cid, title, "problem", "`go` is not on PATH", (missing,), "install Go")
    local = facts.go_env.get("GOVERSION", "").removeprefix("go")
    parsed = gomod.parse(facts.go_mod or "")
    go_line, toolchain = parsed.go, parsed.toolchain and parsed.toolchain.removeprefix("go")
    if not local or go_line is None:
        return skipped(cid, title, "no go.mod go line or no GOVERSION to compare")
    evidence = toolchain_evidence(facts)
    fixed = facts.gotoolchain or ""
    if fixed.startswith("go1") and "+" not in fixed and fixed.removeprefix("go") != local:
        return Check(
            cid,
            title,
            "warning",
            f"GOTOOLCHAIN={fixed}: go runs {fixed} (downloading it if needed), not the local "
            f"go {local}",
            evidence,
            "unset GOTOOLCHAIN, or install that version first on PATH",
        )
    if newer(go_line, local) and not switching(facts.gotoolchain):
        said = facts.list_module
        extra = (said.evidence(),) if said is not None and "requires go" in said.stderr else ()
        return Check(
            cid,
            title,
            "problem",
            f"go.mod requires go >= {go_line}, the local go is {local} and "
            f"GOTOOLCHAIN={facts.gotoolchain} forbids a switch: every go command refuses the "
            "module",
            evidence + extra,
            f"install go {go_line} or newer first on PATH (then `envsnap lock`)",
        )
    target = toolchain if newer(toolchain, local) else go_line if newer(go_line, local) else None
    if target is not None and switching(facts.gotoolchain):
        how = "search PATH for" if "path" in (facts.gotoolchain or "") else "download"
        return Check(
            cid,
            title,
            "warning",
            f"go.mod asks for go {target}, newer than the local go {local}, and "
            f"GOTOOLCHAIN={facts.gotoolchain}: go will {how} go{target} and build with it, "
            "not with the go envsnap probed",
            evidence,
            f"install go{target} first on PATH, or set GOTOOLCHAIN=local to make go refuse "
            "instead of switching silently",
        )
    return Check(cid, title, "ok", f"go {local} satisfies go.mod's go {go_line}", evidence)


def toolchain_evidence(facts: Facts) -> tuple[Evidence, ...]:
    setting = Evidence(
        "environment" if facts.gotoolchain_source == "environment" else "derived",
        facts.gotoolchain_source,
        (f"GOTOOLCHAIN={facts.gotoolchain}",),
    )
    return (
        go_mod_evidence(facts, r"(go|toolchain)\s"),
        go_env_evidence(facts, "GOVERSION"),
        setting,
    )


def newer(required: str | None, local: str | None) -> bool:
    if not required or not local:
        return False
    want, have = version_key(required), version_key(local)
    return want is not None and have is not None and want > have


def switching(setting: str | None) -> bool:
    """GOTOOLCHAIN values that let go run another toolchain than itself."""
    if not setting:
        return False
    return setting in ("auto", "path") or setting.endswith(("+auto", "+path"))


_VERSION = re.compile(r"^(?:go)?(\d+)\.(\d+)(?:\.(\d+)|(rc|beta)(\d+))?")


def version_key(version: str) -> tuple[int, ...] | None:
    """Go's toolchain order: 1.21 (language) < 1.21rc1 < 1.21.0 < 1.21.1."""
    match = _VERSION.match(version.strip())
    if match is None:
        return None
    major, minor, patch, pre, pre_number = match.groups()
    if patch is not None:
        return (int(major), int(minor), int(patch), 0)
    if pre is not None:
        return (int(major), int(minor), -1, int(pre_number))
    return (int(major), int(minor), -2, 0)
