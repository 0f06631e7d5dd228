"""Tools that hang, or whose grandchildren hold envsnap's pipes: every command ends within its
budget and names the tool that hung (docs/security.md, "Tools that misbehave")."""

from __future__ import annotations

from pathlib import Path

from tests.hostile.conftest import Tools, assert_reported

MARGIN = 5.0  # seconds of envsnap's own work on top of a budget, generously


def test_a_grandchild_that_leaves_the_group_cannot_hold_verify(
    tools: Tools, cgo_module: Path
) -> None:
    assert tools.envsnap("lock", "-C", str(cgo_module), limit=60).returncode == 0
    tools.fake("gcc", "*--version*", "setsid sleep 100 & sleep 100")
    ran = tools.envsnap(
        "verify", "-C", str(cgo_module), limit=40, ENVSNAP_TIMEOUT="3", ENVSNAP_NO_CACHE="1"
    )
    assert ran.seconds < 3 + MARGIN
    assert_reported(ran, "gcc --version", in_report=True)


def test_a_daemon_keeping_stdout_open_does_not_hold_a_finished_tool(
    tools: Tools, cgo_module: Path
) -> None:
    """The tool answers and exits; what it left behind still holds the pipe: the answer counts."""
    tools.fake("gcc", "*--version*", 'setsid sleep 100 & /usr/bin/gcc "$@"; exit $?')
    ran = tools.envsnap("lock", "-C", str(cgo_module), limit=60, ENVSNAP_TIMEOUT="10")
    assert ran.returncode == 0, ran.stderr
    assert ran.seconds < 10
    assert 'version = "gcc' in (cgo_module / "envsnap.lock").read_text()


def test_a_hung_go_ends_verify_when_go_env_times_out(tools: Tools, cgo_module: Path) -> None:
    """go env (20 s) and go list (120 s) run side by side: the failure of the first ends both."""
    assert tools.envsnap("lock", "-C", str(cgo_module), limit=60).returncode == 0
    tools.fake("go", "*", "sleep 300")
    ran = tools.envsnap("verify", "-C", str(cgo_module), limit=150, ENVSNAP_NO_CACHE="1")
    assert ran.seconds < 20 + MARGIN
    line = assert_reported(ran, "go env", "20s", codes=(2,))
    assert len(ran.stderr.strip().splitlines()) == 1, ran.stderr
    assert line.startswith("envsnap: ")


def test_envsnap_timeout_bounds_the_whole_command(tools: Tools, cgo_module: Path) -> None:
    """Four tools hang one after another; ENVSNAP_TIMEOUT=3 is the total, not each one's."""
    for name, when in (("pkg-config", "*"), ("getconf", "*"), ("ld", "*--version*")):
        tools.fake(name, when, "sleep 100")
    tools.fake("gcc", "*--version*|*-print-search-dirs*", "sleep 100")
    ran = tools.envsnap(
        "lock", "-C", str(cgo_module), limit=120, ENVSNAP_TIMEOUT="3", ENVSNAP_NO_CACHE="1"
    )
    assert ran.seconds < 3 + MARGIN
    assert_reported(ran, "did not finish within")
    assert not (cgo_module / "envsnap.lock").exists()


def test_the_timeout_names_the_tool_that_hung_not_the_go_that_ran_it(
    tools: Tools, cgo_module: Path
) -> None:
    """go env runs $CC to probe its flags: when gcc hangs there, the message names gcc."""
    tools.fake("gcc", "*", "sleep 100")
    ran = tools.envsnap("lock", "-C", str(cgo_module), limit=60, ENVSNAP_TIMEOUT="3")
    assert ran.seconds < 3 + MARGIN
    line = assert_reported(ran, "go env", codes=(2,))
    assert f"{tools.bin}/gcc" in line, line


def test_a_hung_gcc_version_is_named_even_when_it_spent_the_budget(
    tools: Tools, cgo_module: Path
) -> None:
    """verify re-checks the drifted compiler: the budget is spent by then, and the report
    leads with the gcc that spent it rather than the go env that could not run (this run's answer
    of go env is not asked again)."""
    assert tools.envsnap("lock", "-C", str(cgo_module), limit=60).returncode == 0
    tools.fake("gcc", "*--version*", "sleep 100")
    ran = tools.envsnap(
        "verify", "-C", str(cgo_module), limit=90, ENVSNAP_TIMEOUT="3", ENVSNAP_NO_CACHE="1"
    )
    assert ran.seconds < 3 + MARGIN
    line = assert_reported(ran, "gcc --version", in_report=True)
    assert line.index("gcc --version") < line.find("go env") or "go env" not in line
