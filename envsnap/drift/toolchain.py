"""The C toolchain's rules: the C compiler, the linker and the C++ compiler (``cc.*``).

What identifies a tool binary is declared on its fields (:class:`envsnap.entry.Tool`): its path
and the command that named it are presentation, so the same compiler reached through /bin (a
merged-/usr symlink) or another PATH entry is the same.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from envsnap.drift.actions import Action, relock, set_variable
from envsnap.drift.engine import Diff, Explain, Pack, Probe, Rule, const, fixed, section, tools
from envsnap.drift.finding import NOTHING_TO_DO, RELOCK, Severity, Verdict
from envsnap.entry import Comparison, JsonObject, Tool, fields_of_kind

LABELS = {"compiler": "C compiler", "linker": "linker", "cxx": "C++ compiler"}
COMPILER_VARIABLES = {"CC": "compiler", "CXX": "cxx"}  # the go env variables that name them


@functools.cache
def tool_fields(*wanted: Comparison) -> tuple[str, ...]:
    """The fields of a tool declared with a *wanted* kind."""
    return fields_of_kind(Tool, *wanted)


def _tool_of(d: Diff, tool: str, live: bool) -> Tool:
    return tools(d.live_entry if live else d.locked_entry).get(tool) or Tool()


def same_tool(d: Diff, tool: str) -> bool:
    """The locked and the live *tool* ("compiler", "linker", "cxx") are the same binary: equal
    real path, hash and version, and at least a real path or a hash to go by."""
    a, b = _tool_of(d, tool, live=False), _tool_of(d, tool, live=True)
    if not a or not b or "error" in a or "error" in b:
        return False
    if a.get("realpath") is None and a.get("sha256") is None:
        return False
    plain_a, plain_b = dict(a.items()), dict(b.items())
    return all(plain_a.get(key) == plain_b.get(key) for key in tool_fields("identity", "version"))


def _tool(tool: str, severity: Severity, why: str, fix: str) -> Explain:
    """A tool field's rule: a path alone that differs, for the same binary, is info."""

    def explain(d: Diff) -> Verdict:
        if d.path[-1] in tool_fields("presentation") and same_tool(d, tool):
            real = _tool_of(d, tool, live=True).get("realpath") or "the same file"
            return (
                "info",
                f"the same {LABELS[tool]} ({real}, same hash and version) reached by another path",
                NOTHING_TO_DO,
            )
        if (moved := variable_move(d, tool)) is not None:
            name, locked, live = moved
            return (
                severity,
                f"{name} names {live or 'no compiler'} here, {locked} in the lock: {why}",
                f"set {name} back to the locked `{locked}` (`export {name}={locked}`, or unset "
                f"{name} where your shell or `go env -w` set it), or {RELOCK}",
            )
        return (severity, why, fix)

    return explain


def variable_move(d: Diff, tool: str) -> tuple[str, str, str] | None:
    """The go env variable (CC, CXX) that names *tool*, its locked and its live value, when
    they differ: the variable is what changed the compiler."""
    name = next((n for n, t in COMPILER_VARIABLES.items() if t == tool), None)
    if name is None:
        return None
    locked_env, live_env = section(d.locked_entry, "go"), section(d.live_entry, "go")
    was, now = _env_value(locked_env, name), _env_value(live_env, name)
    return (name, was, now) if was and was != now else None


def _env_value(go: JsonObject, name: str) -> str:
    env = go.get("env")
    value = env.get(name) if isinstance(env, dict) else None
    return value if isinstance(value, str) else ""


def _variable_actions(tool: str) -> Callable[[Diff], tuple[Action, ...]]:
    """Set the variable that names *tool* back to its locked value; or re-lock, by hand."""

    def actions(d: Diff) -> tuple[Action, ...]:
        moved = variable_move(d, tool)
        if moved is None or same_tool(d, tool):
            return ()
        name, locked, _ = moved
        return (set_variable(name, locked), relock())

    return actions


def _named_by_variable(d: Diff) -> str | None:
    """CC and CXX (go env) join the compiler they name."""
    if d.path[:2] == ("go", "env") and d.path[2] in COMPILER_VARIABLES:
        return LABELS[COMPILER_VARIABLES[d.path[2]]]
    return None


TOOL_WHY = "a different C compiler or linker builds the C parts differently"
TOOL_FIX = "put the locked tool first on PATH or `go env -w CC=…`, or " + RELOCK
CXX_WHY = "a different C++ compiler builds the C++ parts, and links the whole program"
CXX_FIX = "put the locked compiler first on PATH or `go env -w CXX=…`, or " + RELOCK
REBUILT = {
    "compiler": "same version, different binary: the compiler was rebuilt or replaced",
    "linker": "same version, different binary: the linker was rebuilt or replaced",
    "cxx": "same version, different binary: the C++ compiler was replaced",
}
WRAPPER = fixed(
    "warning",
    "the wrapper in front of the compiler (ccache, sccache, distcc) changed; the compiler "
    "behind it is checked on its own",
    f"restore the wrapper in CC, or {RELOCK}",
)


def _rules(tool: str, why: str, fix: str) -> tuple[Rule, ...]:
    subject = const(LABELS[tool])
    return (
        Rule(("cc", tool, "*"), subject, _tool(tool, "error", why, fix), _variable_actions(tool)),
        Rule(("cc", tool, "sha256"), subject, fixed("warning", REBUILT[tool], RELOCK)),
        Rule(("cc", tool, "wrapper*"), const("compiler wrapper"), WRAPPER),
    )


PACK = Pack(
    "C toolchain",
    rules=(
        *_rules("compiler", TOOL_WHY, TOOL_FIX),
        *_rules("linker", TOOL_WHY, TOOL_FIX),
        *_rules("cxx", CXX_WHY, CXX_FIX),
    ),
    causes=(_named_by_variable,),
    # without the compiler there is no linker to ask and no search path to resolve -l against
    probes=(Probe(("cc", "compiler"), hides=(("cc", "linker"), ("libraries",))),),
    headline={"version": 2},
)
