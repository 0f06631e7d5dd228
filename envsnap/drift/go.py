"""Go's rules: its release and installation, its settings (``go env``), the build tags and the
workspace (``go.*``)."""

from __future__ import annotations

import functools
import re

from envsnap import gover
from envsnap.drift.actions import Action, relock, set_variable, unset_variable
from envsnap.drift.engine import FLAG_VARIABLES, Diff, Pack, Rule, Side, const, last, section, text
from envsnap.drift.finding import NOTHING_TO_DO, RELOCK, Verdict
from envsnap.drift.toolchain import COMPILER_VARIABLES, LABELS, same_tool
from envsnap.entry import Comparison, Content, GoSection, fields_of_kind
from envsnap.vocabulary import CGO_VARIABLES, GO_VARIABLE

TAGS_SUBJECT = "build tags"
WORKSPACE_SUBJECT = "Go workspace"


@functools.cache
def go_fields(*wanted: Comparison) -> tuple[str, ...]:
    """The fields of the go section declared with a *wanted* kind."""
    return fields_of_kind(GoSection, *wanted)


def go_field(entry: Content, name: str) -> Side:
    """A field of *entry*'s go section (None when absent)."""
    return section(entry, "go").get(name)


def _same_release(d: Diff) -> bool:
    wanted = go_fields("identity", "version")
    return all(go_field(d.locked_entry, k) == go_field(d.live_entry, k) for k in wanted)


def _go_installation(d: Diff) -> Verdict:
    """Go's path and GOROOT: the same release installed elsewhere builds the same."""
    version = go_field(d.locked_entry, "version")
    if d.path[1] in go_fields("presentation") and _same_release(d) and version:
        return (
            "info",
            f"the same Go release ({version}) installed at another path",
            NOTHING_TO_DO,
        )
    return ("warning", "a different Go installation", RELOCK)


def _go_toolchain(d: Diff) -> Verdict:
    """GOTOOLCHAIN naming the locked release the way the emitted files pin it runs the same Go."""
    version = go_field(d.locked_entry, "version")
    locked = text(d.locked)
    pinned = gover.pinned_toolchain(str(version), locked) if locked is not None else None
    same = go_field(d.live_entry, "version") == version
    if version and same and pinned is not None and d.live == pinned:
        return (
            "info",
            f"GOTOOLCHAIN={pinned} pins the locked Go release (as the emitted .envrc does); "
            "the same Go runs",
            "nothing to do",
        )
    return _go_installation(d)


def _go_minor(version: Side) -> tuple[int, ...] | None:
    match = re.match(r"go(\d+)\.(\d+)", str(version))
    return (int(match[1]), int(match[2])) if match else None


def _go_version(d: Diff) -> Verdict:
    same_minor = _go_minor(d.locked) == _go_minor(d.live) and _go_minor(d.live) is not None
    if same_minor:
        return (
            "warning",
            "a Go patch release: cgo output rarely changes, but builds are no longer identical",
            f"run the locked Go (`export GOTOOLCHAIN={d.locked}`), or install {d.locked}, or "
            f"{RELOCK}",
        )
    return (
        "error",
        "a different Go minor version changes cgo's generated code and the runtime it links",
        f"run the locked Go (`export GOTOOLCHAIN={d.locked}` makes go fetch it), or install "
        f"{d.locked} and put it first on PATH, or {RELOCK}",
    )


def _go_version_actions(d: Diff) -> tuple[Action, ...]:
    """Run the locked Go through go's toolchain switch (go 1.21 and later download it); or
    re-lock, by hand."""
    locked = text(d.locked)
    if locked is None or not re.fullmatch(r"go\d+\.\d+(\.\d+)?", locked):
        return (relock(),)
    return set_variable("GOTOOLCHAIN", locked), relock()


def go_env_actions(d: Diff) -> tuple[Action, ...]:
    """Put a Go setting back: unset where the lock has none or go's own value, else set it as
    locked; or re-lock, by hand."""
    if go_env(d)[2] == NOTHING_TO_DO:
        return ()
    name, locked = d.path[-1], text(d.locked)
    unset = GO_VARIABLE[name].unset if name in GO_VARIABLE else None
    if locked is None or locked == unset:
        return unset_variable(name), relock()
    if name in FLAG_VARIABLES:  # a list of flags is shown as what changed, not spelt out whole
        return (relock(),)
    return set_variable(name, locked), relock()


def go_env(d: Diff) -> Verdict:
    """A Go setting (``go env``, or a cgo flag variable set in the environment)."""
    name = d.path[-1]
    tool = COMPILER_VARIABLES.get(name)
    if tool is not None and same_tool(d, tool):
        return (
            "info",
            f"{name} names the same {LABELS[tool]} binary by another path (same real "
            "path, hash and version), so the build is the same",
            NOTHING_TO_DO,
        )
    if name == "CGO_ENABLED" and not _has_cgo(d.locked_entry):
        return (
            "info",
            "the module has no cgo package, so no C is compiled either way; only the standard "
            "library's net and os/user switch between their cgo and pure-Go code",
            "nothing to do for the C toolchain; set CGO_ENABLED=1 again if the program relies on "
            "the system's resolver or user database",
        )
    if name in CGO_VARIABLES:
        return (
            "error",
            f"{name} changes how every cgo package is compiled or linked; set in one shell or "
            "profile, it is missing in CI, in an IDE's go test and on teammates' machines",
            f"restore {name} (check `go env {name}` and your shell profile), move the flags into "
            f"#cgo directives or the emitted .envrc, or {RELOCK}",
        )
    return ("warning", f"{name} affects what go builds", f"restore {name}, or {RELOCK}")


def _has_cgo(entry: Content) -> bool:
    """Whether the locked module (or its tests) has a cgo package, or the lock cannot say."""
    cgo = entry.get("cgo")
    return not isinstance(cgo, dict) or "error" in cgo or bool(cgo.get("packages"))


def variant_of(entry: Content) -> str:
    return str(entry.get("variant", "default"))


def _tags(d: Diff) -> Verdict:
    variant = variant_of(d.locked_entry)
    return (
        "error",
        f"the build tags of variant {variant} changed (GOFLAGS -tags): go builds other files, "
        "with other #cgo directives and libraries, than the ones locked",
        "drop the -tags GOFLAGS adds (`go env GOFLAGS` shows them; set GOFLAGS as locked), "
        "and check the variant those tags build with `envsnap verify --variant NAME` "
        "(ENVSNAP_VARIANT)",
    )


def _tags_actions(d: Diff) -> tuple[Action, ...]:
    """Put GOFLAGS back as locked, which restores the locked tags."""
    locked = text(section_env(d.locked_entry).get("GOFLAGS"))
    live = text(section_env(d.live_entry).get("GOFLAGS"))
    if locked == live:
        return ()
    return (unset_variable("GOFLAGS") if not locked else set_variable("GOFLAGS", locked),)


def _go_workspace(d: Diff) -> Verdict:
    locked = go_field(d.locked_entry, "workspace")
    live = go_field(d.live_entry, "workspace")
    if locked and not live:
        return (
            "error",
            f"the lock was taken inside the workspace {locked}, and go now builds the module "
            "without it (GOWORK=off, or the go.work is gone): the workspace's other modules and "
            "their cgo packages drop out, and imports of them fail",
            f"unset GOWORK (or GOWORK={locked}) so go uses the workspace again, or {RELOCK}",
        )
    if live and not locked:
        return (
            "warning",
            f"go now builds the module inside the workspace {live}, which the lock was taken "
            "without: the workspace's modules replace the versions go.mod requires",
            f"GOWORK=off builds the module alone as locked, or {RELOCK}",
        )
    return ("warning", f"go builds the module in another workspace ({live})", RELOCK)


def _tags_changed(d: Diff) -> str | None:
    """A GOFLAGS change that changes the tags joins the build-tags finding, and so does what
    other tags made go build (other cgo packages, their directives and libraries)."""
    if d.path != ("go", "env", "GOFLAGS") and d.path[0] not in ("cgo", "libraries"):
        return None
    changed = go_field(d.locked_entry, "tags") != go_field(d.live_entry, "tags")
    return TAGS_SUBJECT if changed else None


def section_env(entry: Content) -> dict[str, str]:
    go = entry.get("go")
    env = go.get("env") if go is not None else None
    return env if isinstance(env, dict) else {}


def _cgo_turned_off(d: Diff) -> str | None:
    """Every cgo package and library is gone because cgo was turned off."""
    if d.path[0] not in ("cgo", "libraries"):
        return None
    off = section_env(d.live_entry).get("CGO_ENABLED") == "0"
    was_on = section_env(d.locked_entry).get("CGO_ENABLED") != "0"
    return "CGO_ENABLED (go env)" if off and was_on else None


def _workspace_left(d: Diff) -> str | None:
    """Locked inside a go.work, built now without it (GOWORK=off, or the go.work is gone): go
    no longer sees the workspace's other modules."""
    if d.path[0] not in ("cgo", "libraries"):
        return None
    left = go_field(d.locked_entry, "workspace") is not None
    return WORKSPACE_SUBJECT if left and go_field(d.live_entry, "workspace") is None else None


PACK = Pack(
    "Go",
    rules=(
        Rule(("go", "version"), const("Go"), _go_version, _go_version_actions),
        Rule(("go", "tags"), const(TAGS_SUBJECT), _tags, _tags_actions),
        Rule(("go", "env", "*"), last("{} (go env)"), go_env, go_env_actions),
        Rule(("go", "path"), const("Go"), _go_installation),
        Rule(("go", "goroot"), const("Go"), _go_installation),
        Rule(("go", "gotoolchain"), const("Go gotoolchain"), _go_toolchain),
        Rule(("go", "workspace"), const(WORKSPACE_SUBJECT), _go_workspace),
        Rule(("go", "*"), last("Go {}"), _go_installation),
    ),
    causes=(_tags_changed, _cgo_turned_off, _workspace_left),
    headline={"version": 2},
)
