"""The environment's rules: the tracked variables (``env.*``) and the operating system
(``os.*``)."""

from __future__ import annotations

from envsnap.drift.actions import Action, relock, set_variable, unset_variable
from envsnap.drift.engine import Diff, Pack, Rule, Side, const, last, text
from envsnap.drift.finding import RELOCK, Verdict
from envsnap.drift.go import go_env
from envsnap.vocabulary import CGO_VARIABLES

NIX_STORE = "/nix/store/"


def in_nix(value: Side) -> bool:
    return isinstance(value, str) and value.startswith(NIX_STORE)


def nix_switch(locked: Side, live: Side) -> bool:
    """One side inside a Nix shell and the other outside."""
    return in_nix(locked) != in_nix(live)


def nix_why(live: Side) -> str:
    if in_nix(live):
        return (
            "this shell is inside Nix (stdenv sets DEVELOPER_DIR and SDKROOT to the Nix SDK) "
            "while the lock was taken outside it"
        )
    return "the lock was taken inside a Nix shell and this shell is outside it"


def environment(d: Diff) -> Verdict:
    """A tracked variable: where the compiler, linker or pkg-config look."""
    name = d.path[-1]
    if name in CGO_VARIABLES:
        return go_env(d)
    why = f"{name} changes where the compiler, linker or pkg-config look"
    if name.startswith("GO"):  # a Go setting tracked as a variable (GOPROXY, GOFLAGS…)
        why = f"{name} is a Go setting: it changes how go fetches or builds the module"
    if name in ("SDKROOT", "DEVELOPER_DIR") and nix_switch(d.locked, d.live):
        why = nix_why(d.live)
    fix = f"unset {name}" if d.category == "extra" else f"set {name} as locked"
    return ("warning", why, fix if d.live == "" else f"{fix}, or {RELOCK}")


def variable_actions(d: Diff) -> tuple[Action, ...]:
    """Put the variable back as locked: unset it when the lock has none, else set it; or
    re-lock, by hand."""
    name, locked = d.path[-1], text(d.locked)
    if locked is not None and "${" in locked:  # ${MODULE}, ${HOME}: the lock's placeholders
        return (relock(),)  # the fix says it in words; a command would set the placeholder
    back = unset_variable(name) if locked is None else set_variable(name, locked)
    return back, relock()


def os_change(d: Diff) -> Verdict:
    """An OS update, downgrade or another build of the same version (by the version fields)."""
    was, now = (d.locked_entry.get("os") or {}), (d.live_entry.get("os") or {})
    old, new = (_release(str(o.get("version", ""))) for o in (was, now))
    kind = "an OS update" if new > old else "an OS downgrade" if new < old else "another OS build"
    why = f"{kind}; the SDK, compiler and library rules report what matters to cgo"
    return ("warning", why, RELOCK)


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


PACK = Pack(
    "environment",
    rules=(
        Rule(("env", "*"), last("{} (environment)"), environment, variable_actions),
        Rule(("os", "*"), const("operating system"), os_change),
    ),
)
