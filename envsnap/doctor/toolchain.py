"""The Go toolchain check: does the local go satisfy go.mod without switching to another?

Versions are compared and the switch is predicted by go's own rules (:mod:`envsnap.gover`,
:func:`envsnap.probes.toolchain.select_toolchain`), never by a second reading of them.
"""

from __future__ import annotations

from envsnap import gomod, gover
from envsnap.doctor.facts import (
    Check,
    Evidence,
    Facts,
    go_env_evidence,
    go_mod_evidence,
    skipped,
)
from envsnap.errors import EnvsnapError
from envsnap.probes.toolchain import Choice, select_toolchain

CHECK_ID, TITLE = "go.toolchain", "the local go satisfies go.mod without switching"


def check_toolchain(facts: Facts) -> Check:
    if facts.go_path is None:
        missing = Evidence("environment", "PATH", ("`go` is not on PATH",))
        return Check(CHECK_ID, TITLE, "problem", "`go` is not on PATH", (missing,), "install Go")
    goversion = facts.go_env.get("GOVERSION", "")
    local, go_line = gover.from_toolchain(goversion), gomod.parse(facts.go_mod or "").go
    if not local or go_line is None:
        return skipped(CHECK_ID, TITLE, "no go.mod go line or no GOVERSION to compare")
    evidence = toolchain_evidence(facts)
    fixed = facts.gotoolchain or ""
    if fixed.startswith("go1") and "+" not in fixed and fixed != goversion:
        return Check(
            CHECK_ID,
            TITLE,
            "warning",
            f"GOTOOLCHAIN={fixed}: go runs {fixed} (downloading it if needed), not the local "
            f"go {local}",
            evidence,
            "unset GOTOOLCHAIN, or install that version first on PATH",
        )
    try:
        choice = _choice(facts, goversion)
    except EnvsnapError as refused:  # go stops on it: every go command fails in the module
        return Check(CHECK_ID, TITLE, "problem", refused.message, evidence, refused.hint)
    if gover.compare(go_line, local) > 0 and not choice.switches:
        return _too_old(facts, go_line, local, evidence)
    if choice.switches:
        return _switches(facts, choice, local, evidence)
    return Check(CHECK_ID, TITLE, "ok", f"go {local} satisfies go.mod's go {go_line}", evidence)


def _choice(facts: Facts, goversion: str) -> Choice:
    """The toolchain go's own switch picks, from the lines it reads as it reads them."""
    text = facts.go_mod or ""
    lines = gover.go_mod_lookup(text, "go"), gover.go_mod_lookup(text, "toolchain")
    return select_toolchain(facts.gotoolchain, goversion, *lines)


def _too_old(facts: Facts, go_line: str, local: str, evidence: tuple[Evidence, ...]) -> Check:
    said = facts.list_module
    extra = (said.evidence(),) if said is not None and "requires go" in said.stderr else ()
    return Check(
        CHECK_ID,
        TITLE,
        "problem",
        f"go.mod requires go >= {go_line}, the local go is {local} and "
        f"GOTOOLCHAIN={facts.gotoolchain} forbids a switch: every go command refuses the module",
        evidence + extra,
        f"install go {go_line} or newer first on PATH (then `envsnap lock`)",
    )


def _switches(facts: Facts, choice: Choice, local: str, evidence: tuple[Evidence, ...]) -> Check:
    if facts.switch_missing and (choice.path_only or _no_downloads(facts)):
        return Check(
            CHECK_ID,
            TITLE,
            "problem",
            f"go.mod needs {choice.name} ({choice.why}), which is not on this machine and go "
            f"cannot download it ({_no_download_reason(facts, choice)}): every go command in "
            "the module fails",
            evidence,
            f"install {choice.name} first on PATH, or lower go.mod's go/toolchain line to a Go "
            "you have",
        )
    how = "search PATH for" if choice.path_only else "download"
    return Check(
        CHECK_ID,
        TITLE,
        "warning",
        f"go runs {choice.name}, not the local go {local} ({choice.why}): it will {how} "
        f"{choice.name} and build with it, not with the go envsnap probed",
        evidence,
        f"install {choice.name} first on PATH, or set GOTOOLCHAIN=local to make go refuse "
        "instead of switching silently",
    )


def _no_downloads(facts: Facts) -> bool:
    """GOPROXY=off (first in its list): go cannot download a toolchain."""
    return facts.go_env.get("GOPROXY", "").split(",")[0].split("|")[0].strip() == "off"


def _no_download_reason(facts: Facts, choice: Choice) -> str:
    return f"GOTOOLCHAIN={choice.setting}" if choice.path_only else "GOPROXY=off"


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
