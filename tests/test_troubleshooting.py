"""docs/troubleshooting.md cannot drift from envsnap: every block of envsnap output on the page
is reproduced here with the real envsnap and compared, line for line, with what it prints now.

Each such block follows a ``<!-- reproduce … -->`` comment, one step a line, run in order:

- ``dir: NAME``: the module directory is /tmp/ds/NAME (default ``app``); the test's own temporary
  directory stands in for /tmp/ds, in the steps and in the output.
- ``copy: examples/zlib``: a copy of that directory of this repository, without its lock.
- ``file: PATH`` and the lines indented by four spaces below it: write that file (PATH relative to
  the module, or absolute under /tmp/ds).
- ``remove: PATH``; ``edit: PATH: OLD => NEW`` (OLD must occur once).
- ``replay: RECORDING``: the later ``lock`` and ``run`` steps run on
  tests/fixtures/recordings/RECORDING (``envsnap --replay``) instead of this machine's real tools.
- ``lock``: ``envsnap lock`` in the module, which must succeed.
- ``env: NAME=VALUE``: set for the later steps (``$NAME`` expands from the environment).
- ``run: ARGS``: ``envsnap ARGS`` in the module; the block shows its stdout, then its stderr.
- ``exit: N``: the exit code of that run.
- ``unreproducible: REASON``: the block is not checked (at most MAX_UNREPRODUCIBLE of them).

A block shows the output whole, except that a line "…" (at any indent) stands for any number of
lines; its first line is never elided. In a ``console`` block, the ``$ envsnap …`` line is the
run step's command, not output.
"""

from __future__ import annotations

import difflib
import os
import platform
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import RECORDINGS, REPO, Result, envsnap, require_tool, unavailable

PAGE = REPO / "docs" / "troubleshooting.md"
PAGE_ROOT = "/tmp/ds"  # where the page's reproductions live; the test's tmp dir stands in for it
MAX_UNREPRODUCIBLE = 3
GAP = "…"
INDENT = "    "

FENCE = re.compile(r"^```[^\n]*\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)
# a line only envsnap prints: its headline, or a finding's or doctor check's first line
ENVSNAP_LINE = re.compile(r"^(envsnap[ :.]|(error|warning|info|problem|ok|skipped) +\S)")
STEP_KINDS = frozenset(
    {"dir", "copy", "file", "remove", "edit", "replay", "lock", "env", "run", "exit"}
)

# The page's Linux outputs were made on Debian 12 amd64. Besides the test's directory (the page's
# /tmp/ds), these are the values another such host may print differently: a Debian point release
# moves a package's revision (+deb12uN). Each entry: the value on the page, and the command whose
# first line of output is this host's value; the host's value is replaced by the page's.
HOST_VALUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("gcc (Debian 12.2.0-14+deb12u1) 12.2.0", ("gcc", "--version")),
    ("Debian clang version 14.0.6", ("clang", "--version")),
    (
        "libpng-dev 1.6.39-2+deb12u4",
        ("dpkg-query", "--show", "--showformat=${Package} ${Version}\n", "libpng-dev"),
    ),
)
LINUX_TOOLS = ("go", "gcc", "clang", "pkg-config", "dpkg-query")


@dataclass(frozen=True)
class Step:
    kind: str
    argument: str
    content: str = ""  # a file step's text


@dataclass(frozen=True)
class Block:
    """A fenced block of the page, with the reproduce comment just before it, if any."""

    line: int  # of the opening fence
    lines: tuple[str, ...]
    annotation: str | None

    @property
    def shows_envsnap_output(self) -> bool:
        return any(ENVSNAP_LINE.match(line) for line in self.lines if not line.startswith("$ "))

    @property
    def steps(self) -> tuple[Step, ...]:
        return parse_steps(self.annotation or "")

    @property
    def reproducible(self) -> bool:
        return self.annotation is not None and "unreproducible" not in {s.kind for s in self.steps}


def annotation_ending(text: str) -> str | None:
    """The steps of the reproduce comment that *text* ends with (blank lines aside), if any."""
    head = text.rstrip()
    comment = head[head.rfind("<!--") :]
    if not (comment.startswith("<!-- reproduce\n") and comment.endswith("\n-->")):
        return None
    return comment.removeprefix("<!-- reproduce\n").removesuffix("-->")


def page_blocks(text: str) -> list[Block]:
    return [
        Block(
            text.count("\n", 0, match.start()) + 1,
            tuple(match["body"].rstrip("\n").split("\n")),
            annotation_ending(text[: match.start()]),
        )
        for match in FENCE.finditer(text)
    ]


def parse_steps(text: str) -> tuple[Step, ...]:
    steps: list[Step] = []
    lines = text.splitlines()
    while lines:
        line = lines.pop(0)
        if not line.strip():
            continue
        kind, _, argument = (part.strip() for part in line.partition(":"))
        body: list[str] = []
        while kind == "file" and lines and (lines[0].startswith(INDENT) or not lines[0].strip()):
            body.append(lines.pop(0).removeprefix(INDENT))
        content = "\n".join(body).strip("\n") + "\n" if body else ""
        steps.append(Step(kind, argument, content))
    return tuple(steps)


BLOCKS = page_blocks(PAGE.read_text(encoding="utf-8"))
ANNOTATED = [b for b in BLOCKS if b.annotation is not None]
REPRODUCED = [b for b in ANNOTATED if b.reproducible]


def shown_lines(block: Block) -> list[str]:
    """The block's output lines: a console block's `$ envsnap …` line is the command."""
    return [line.rstrip() for line in block.lines if not line.startswith("$ ")]


def shows(shown: list[str], printed: list[str]) -> bool:
    """Whether *shown* is *printed*, line for line, where a line "…" stands for any lines."""
    segments: list[list[str]] = [[]]
    for line in shown:
        if line.strip() == GAP:
            segments.append([])
        else:
            segments[-1].append(line)
    if len(segments) == 1:
        return shown == printed
    first, *middle, last = segments
    at = len(first) if printed[: len(first)] == first else None
    for segment in middle:
        at = None if at is None else after(segment, printed, at)
    return (
        at is not None
        and len(printed) - at >= len(last)
        and printed[len(printed) - len(last) :] == last
    )


def after(segment: list[str], printed: list[str], start: int) -> int | None:
    """Where the first *segment* in *printed* from *start* on ends; None if there is none."""
    for i in range(start, len(printed) - len(segment) + 1):
        if printed[i : i + len(segment)] == segment:
            return i + len(segment)
    return None


@cache
def host_values() -> tuple[tuple[str, str], ...]:
    """(this host's value, the page's value) for each entry of HOST_VALUES."""
    pairs = []
    for page_value, argv in HOST_VALUES:
        out = subprocess.run(argv, capture_output=True, text=True, check=False)
        if out.returncode != 0 or not out.stdout.strip():
            unavailable(f"`{shlex.join(argv)}` failed: the page's Linux outputs need Debian 12")
        pairs.append((out.stdout.splitlines()[0], page_value))
    return tuple(pairs)


@dataclass
class Scene:
    """Where a reproduction runs: /tmp/ds (*root*), its module directory and environment."""

    root: Path
    module: Path
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    replay: tuple[str, ...] = ()
    result: Result | None = None
    exit_code: int | None = None

    def path(self, name: str) -> Path:
        if name == PAGE_ROOT or name.startswith(PAGE_ROOT + "/"):
            return self.root / name.removeprefix(PAGE_ROOT).lstrip("/")
        return self.module / name

    def localised(self, text: str) -> str:
        return text.replace(PAGE_ROOT, str(self.root))

    def printed(self) -> list[str]:
        """What the run printed, as the page would show it."""
        assert self.result is not None, "no run: step"
        text = (self.result.stdout + self.result.stderr).replace(str(self.root), PAGE_ROOT)
        if not self.replay:
            for host, page in host_values():
                text = text.replace(host, page)
        return [line.rstrip() for line in text.rstrip("\n").split("\n")]


def step_dir(scene: Scene, step: Step) -> None:
    scene.module = scene.root / step.argument
    scene.module.mkdir(parents=True, exist_ok=True)


def step_copy(scene: Scene, step: Step) -> None:
    shutil.copytree(
        REPO / step.argument,
        scene.module,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("envsnap.lock"),
    )


def step_file(scene: Scene, step: Step) -> None:
    path = scene.path(step.argument)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(scene.localised(step.content), encoding="utf-8")


def step_remove(scene: Scene, step: Step) -> None:
    scene.path(step.argument).unlink()


def step_edit(scene: Scene, step: Step) -> None:
    name, _, change = step.argument.partition(": ")
    old, _, new = change.partition(" => ")
    path = scene.path(name)
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{name} holds {old!r} {text.count(old)} times"
    path.write_text(text.replace(old, new), encoding="utf-8")


def step_replay(scene: Scene, step: Step) -> None:
    recording = RECORDINGS / step.argument
    assert recording.is_dir(), f"no recording {step.argument}"
    scene.replay = ("--replay", str(recording))


def step_lock(scene: Scene, step: Step) -> None:
    locked = envsnap(*scene.replay, "lock", env=scene.env, cwd=scene.module)
    assert locked.returncode == 0, locked.stderr


def step_env(scene: Scene, step: Step) -> None:
    name, _, value = step.argument.partition("=")

    def expand(match: re.Match[str]) -> str:
        if match[1] not in scene.env:
            unavailable(f"{match[1]} is not set (scripts/test.sh sets it)")
        return scene.env[match[1]]

    scene.env[name] = re.sub(r"\$(\w+)", expand, value)


def step_run(scene: Scene, step: Step) -> None:
    argv = [scene.localised(word) for word in shlex.split(step.argument)]
    scene.result = envsnap(*scene.replay, *argv, env=scene.env, cwd=scene.module)


def step_exit(scene: Scene, step: Step) -> None:
    scene.exit_code = int(step.argument)


STEPS: dict[str, Callable[[Scene, Step], None]] = {
    "dir": step_dir,
    "copy": step_copy,
    "file": step_file,
    "remove": step_remove,
    "edit": step_edit,
    "replay": step_replay,
    "lock": step_lock,
    "env": step_env,
    "run": step_run,
    "exit": step_exit,
}


def require_this_platform(steps: tuple[Step, ...]) -> None:
    """The Linux reproductions run the real tools of a Debian 12 amd64 host like the page's."""
    if any(step.kind == "replay" for step in steps):
        return
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "amd64"):
        unavailable("the page's Linux outputs were made on linux-amd64")
    for tool in LINUX_TOOLS:
        require_tool(tool)


def reproduce(steps: tuple[Step, ...], tmp_path: Path) -> Scene:
    root = (tmp_path / "ds").resolve()
    scene = Scene(root, root / "app")
    scene.module.mkdir(parents=True)
    for step in steps:
        STEPS[step.kind](scene, step)
    return scene


def block_id(block: Block) -> str:
    return f"L{block.line}:{shown_lines(block)[0][:60]}"


def test_the_page_reproduces_many_blocks_on_both_kinds_of_host() -> None:
    assert len(REPRODUCED) >= 20, [b.line for b in REPRODUCED]
    replayed = [b for b in REPRODUCED if "replay:" in (b.annotation or "")]
    assert len(replayed) >= 5 and len(REPRODUCED) - len(replayed) >= 10


def test_every_block_of_envsnap_output_is_annotated() -> None:
    bare = [b.line for b in BLOCKS if b.shows_envsnap_output and b.annotation is None]
    assert not bare, f"docs/troubleshooting.md: blocks without <!-- reproduce -->, lines {bare}"
    comments = re.findall(r"^<!-- reproduce$", PAGE.read_text(encoding="utf-8"), re.MULTILINE)
    assert len(comments) == len(ANNOTATED), "a reproduce comment without its block"


def unreproducible(blocks: list[Block]) -> list[Block]:
    """The annotated blocks marked unreproducible, each with its reason."""
    marked = [b for b in blocks if b.annotation is not None and not b.reproducible]
    for block in marked:
        (step,) = block.steps
        assert step.kind == "unreproducible" and step.argument, f"line {block.line}: no reason"
    return marked


def test_few_blocks_are_unreproducible() -> None:
    marked = unreproducible(BLOCKS)
    assert len(marked) <= MAX_UNREPRODUCIBLE, [b.line for b in marked]


def test_an_unreproducible_block_is_counted_not_run() -> None:
    marked = "<!-- reproduce\nunreproducible: needs two Macs\n-->\n```\nenvsnap: x\n```\n\n"
    blocks = page_blocks(marked * (MAX_UNREPRODUCIBLE + 1))
    assert len(unreproducible(blocks)) == MAX_UNREPRODUCIBLE + 1
    assert not any(block.reproducible for block in blocks)


@pytest.mark.parametrize("block", ANNOTATED, ids=block_id)
def test_every_annotation_is_well_formed(block: Block) -> None:
    steps = block.steps
    if block in REPRODUCED:
        kinds = [step.kind for step in steps]
        assert set(kinds) <= STEP_KINDS, kinds
        assert kinds.count("run") == 1 and kinds[-2:] == ["run", "exit"], kinds
        assert shown_lines(block)[0].strip() != GAP, "the first line is never elided"
        commands = [line for line in block.lines if line.startswith("$ ")]
        assert commands in ([], [f"$ envsnap {steps[-2].argument}"]), commands


@pytest.mark.parametrize("block", REPRODUCED, ids=block_id)
def test_the_page_shows_what_envsnap_prints(block: Block, tmp_path: Path) -> None:
    steps = block.steps
    require_this_platform(steps)
    scene = reproduce(steps, tmp_path)
    printed, shown = scene.printed(), shown_lines(block)
    if not shows(shown, printed):
        diff = "\n".join(difflib.unified_diff(shown, printed, "page", "envsnap", lineterm=""))
        pytest.fail(
            f"docs/troubleshooting.md line {block.line} is not what envsnap prints now:\n{diff}"
        )
    assert scene.result is not None and scene.result.returncode == scene.exit_code


@pytest.mark.parametrize(
    ("shown", "printed", "expected"),
    [
        (["a", "b"], ["a", "b"], True),
        (["a"], ["a", "b"], False),  # a block without "…" is the whole output
        (["a", "…"], ["a", "b", "c"], True),
        (["a", "  …", "c"], ["a", "b", "c"], True),
        (["a", "…", "c"], ["a", "b", "c", "d"], False),
        (["a", "…", "c", "…", "b"], ["a", "b", "c", "d", "b"], True),
        (["a", "…", "c", "…", "b"], ["a", "c", "b", "d"], False),
        (["x", "…"], ["a", "x"], False),  # the first line is compared
        (["a", "…", "b", "…"], ["a", "c"], False),
    ],
)
def test_a_gap_stands_for_any_lines_and_nothing_else(
    shown: list[str], printed: list[str], expected: bool
) -> None:
    assert shows(shown, printed) is expected


def test_unannotated_output_is_noticed() -> None:
    (stale,) = page_blocks("text\n\n```\nenvsnap: linux-amd64 matches envsnap.lock\n```\n")
    assert stale.shows_envsnap_output and stale.annotation is None
    (other,) = page_blocks('```\n# runtime/cgo\ncgo: C compiler "x" not found\n```\n')
    assert not other.shows_envsnap_output


def test_a_file_step_takes_its_indented_lines() -> None:
    steps = parse_steps("dir: x\nfile: go.mod\n    module a\n\n    go 1.22\nlock\n")
    assert steps == (
        Step("dir", "x"),
        Step("file", "go.mod", "module a\n\ngo 1.22\n"),
        Step("lock", ""),
    )


def test_a_block_takes_only_the_comment_just_before_it() -> None:
    text = "<!-- reproduce\nrun: verify\nexit: 0\n-->\n```\na\n```\n\n```\nb\n```\n"
    first, second = page_blocks(text)
    assert first.annotation == "run: verify\nexit: 0\n" and second.annotation is None
