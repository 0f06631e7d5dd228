"""envsnap's layering, checked on the source: who may import whom (docs/architecture.md).

Every module under envsnap/ is parsed with ``ast``; every ``import`` counts, at the top, inside a
function or under ``TYPE_CHECKING`` alike (a type is a dependency too). The rules are the table
of docs/architecture.md, which this test reads back so that the page and the test cannot part.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "envsnap"
ARCHITECTURE = REPO / "docs" / "architecture.md"

# (the modules a rule applies to, the modules they must not import, the exceptions)
# A name stands for the module and everything below it.
EVERYTHING = "envsnap"
RULES: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    ((EVERYTHING,), ("envsnap.commands",), ("envsnap.cli", "envsnap.commands")),
    (("envsnap.vocabulary",), (EVERYTHING,), ()),
    (
        ("envsnap.platforms",),
        (
            "envsnap.errors",
            "envsnap.host",
            "envsnap.stamps",
            "envsnap.probes",
            "envsnap.snapshot",
            "envsnap.lockfile",
            "envsnap.drift",
            "envsnap.checking",
            "envsnap.report",
            "envsnap.doctor",
            "envsnap.emit",
            "envsnap.git",
            "envsnap.sbom",
        ),
        (),
    ),
    (
        ("envsnap.host",),
        (
            "envsnap.probes",
            "envsnap.snapshot",
            "envsnap.lockfile",
            "envsnap.drift",
            "envsnap.checking",
            "envsnap.report",
            "envsnap.doctor",
            "envsnap.emit",
            "envsnap.git",
        ),
        (),
    ),
    (
        ("envsnap.probes",),
        (
            "envsnap.lockfile",
            "envsnap.drift",
            "envsnap.checking",
            "envsnap.report",
            "envsnap.history",
            "envsnap.doctor",
            "envsnap.emit",
            "envsnap.git",
        ),
        (),
    ),
    (
        ("envsnap.snapshot", "envsnap.lockfile"),
        (
            "envsnap.probes",
            "envsnap.drift",
            "envsnap.checking",
            "envsnap.report",
            "envsnap.doctor",
            "envsnap.emit",
            "envsnap.git",
        ),
        (),
    ),
    (
        ("envsnap.drift", "envsnap.report"),
        (
            "envsnap.probes",
            "envsnap.host",
            "envsnap.lockfile",
            "envsnap.checking",
            "envsnap.history",
            "envsnap.doctor",
            "envsnap.emit",
            "envsnap.git",
        ),
        (),
    ),
    (
        ("envsnap.checking",),
        ("envsnap.report", "envsnap.history", "envsnap.doctor", "envsnap.emit"),
        (),
    ),
    (("envsnap.doctor",), ("envsnap.emit", "envsnap.history"), ()),
    (
        ("envsnap.emit",),
        ("envsnap.probes", "envsnap.drift", "envsnap.checking", "envsnap.doctor", "envsnap.git"),
        (),
    ),
    (("envsnap.history",), ("envsnap.probes", "envsnap.doctor", "envsnap.emit"), ()),
    (
        ("envsnap.binfacts",),
        (
            "envsnap.host",
            "envsnap.probes",
            "envsnap.snapshot",
            "envsnap.lockfile",
            "envsnap.drift",
            "envsnap.checking",
            "envsnap.report",
            "envsnap.inspection",
        ),
        (),
    ),
    (
        ("envsnap.inspection",),
        ("envsnap.host", "envsnap.probes", "envsnap.lockfile", "envsnap.checking"),
        (),
    ),
    (
        ("envsnap.sbom",),
        (
            "envsnap.host",
            "envsnap.probes",
            "envsnap.lockfile",
            "envsnap.checking",
            "envsnap.report",
            "envsnap.doctor",
            "envsnap.git",
            "envsnap.history",
        ),
        (),
    ),
)

# The clean-verify fast path (envsnap.shortcut answers before argparse runs): what these
# modules import at their top must stay among themselves and light parts of the standard library.
FAST_PATH = (
    "envsnap",
    "envsnap.cli",
    "envsnap.commands",
    "envsnap.errors",
    "envsnap.shortcut",
    "envsnap.verdict",
    "envsnap.stamps",
    "envsnap.secretnames",
    "envsnap.checking",
    "envsnap.names",
)
FAST_STDLIB = {
    "__future__",
    "os",
    "sys",
    "stat",
    "importlib",
    "collections.abc",
    "hashlib",
    "_blake2",
}


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> list[str]:
    """The modules ``from X import a, b`` names: X, or X.a and X.b where they are modules."""
    if node.level:
        base = importer.split(".") if is_package else importer.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        module = ".".join([*base, *([node.module] if node.module else [])])
    else:
        module = node.module or ""
    if module == "envsnap" or (node.level and not node.module):
        return [f"{module}.{alias.name}" for alias in node.names]
    return [module]


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports(source: str, importer: str, is_package: bool, top_only: bool = False) -> Iterator[str]:
    """Every module *source* imports; with *top_only*, those imported when the module is
    (neither in a function nor under ``if TYPE_CHECKING``)."""
    tree = ast.parse(source)
    nodes: Iterator[ast.AST] = _top_level(tree.body) if top_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield from _absolute(node, importer, is_package)


def _top_level(body: list[ast.stmt]) -> Iterator[ast.AST]:
    for node in body:
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from _top_level(node.orelse)
        elif isinstance(node, ast.If | ast.Try):
            yield from _top_level(node.body)
            yield from _top_level(node.orelse)
            for handler in getattr(node, "handlers", []):
                yield from _top_level(handler.body)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def graph(top_only: bool = False) -> dict[str, set[str]]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        found[name] = set(imports(path.read_text(), name, path.name == "__init__.py", top_only))
    return found


def violations(
    edges: dict[str, set[str]],
    rules: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = RULES,
) -> list[str]:
    found = []
    for importer, imported in sorted(edges.items()):
        for applies, forbidden, exempt in rules:
            if not any(within(importer, a) for a in applies):
                continue
            if any(within(importer, e) for e in exempt):
                continue
            for target in sorted(imported):
                if any(within(target, f) for f in forbidden):
                    found.append(f"{importer} imports {target}")
    return sorted(set(found))


def test_every_module_keeps_to_its_layer() -> None:
    assert violations(graph()) == []


def test_the_checker_sees_imports_in_functions_relative_ones_and_type_only_ones() -> None:
    source = (
        "from __future__ import annotations\n"
        "TYPE_CHECKING = False\n"
        "if TYPE_CHECKING:\n    from envsnap.doctor import Check\n"
        "def f():\n    from envsnap.commands import verify\n"
        "from ..commands.diff import run\n"
        "from .. import emit\n"
    )
    edges = {"envsnap.probes.x": set(imports(source, "envsnap.probes.x", is_package=False))}
    assert violations(edges) == [
        "envsnap.probes.x imports envsnap.commands",
        "envsnap.probes.x imports envsnap.commands.diff",
        "envsnap.probes.x imports envsnap.doctor",
        "envsnap.probes.x imports envsnap.emit",
    ]
    assert violations({"envsnap.vocabulary": {"envsnap.errors"}}) == [
        "envsnap.vocabulary imports envsnap.errors"
    ]
    assert violations({"envsnap.commands.diff": {"envsnap.commands.verify"}}) == []
    assert violations({"envsnap.doctor.gather": {"envsnap.doctor.facts"}}) == []


def test_the_fast_path_imports_nothing_heavy_when_loaded() -> None:
    edges = graph(top_only=True)
    for name in FAST_PATH:
        outside = {
            target
            for target in edges[name]
            if not any(within(target, f) for f in FAST_PATH) and target not in FAST_STDLIB
        }
        assert outside == set(), name


def test_the_fast_path_check_sees_a_module_level_import() -> None:
    source = "import os\nTYPE_CHECKING = False\nif TYPE_CHECKING:\n    import json\nimport re\n"
    assert set(imports(source, "envsnap.x", False, top_only=True)) == {"os", "re"}


def documented_rules() -> list[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]]:
    """The rows of the rule table in docs/architecture.md."""
    rows = []
    text = ARCHITECTURE.read_text()
    table = text.split("<!-- layer rules: tests/test_layers.py -->", 1)[1].split("\n\n", 1)[0]
    for line in table.strip().splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        assert len(cells) == 3, line
        rows.append(tuple(_names(cell) for cell in cells))
    return rows  # type: ignore[return-value]


def _names(cell: str) -> tuple[str, ...]:
    return tuple(re.findall(r"`([\w.]+)`", cell))


@pytest.mark.parametrize("index", range(len(RULES)))
def test_the_architecture_page_states_each_rule(index: int) -> None:
    documented = documented_rules()
    assert len(documented) == len(RULES)
    assert documented[index] == RULES[index]


def test_the_names_of_envsnaps_files_are_spelled_once() -> None:
    """envsnap.lock and envsnap.toml are named by envsnap.names alone; every other module
    imports the constant (a second spelling could drift from it)."""
    spelled = sorted(
        module_name(path)
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and node.value in ("envsnap.lock", "envsnap.toml")
    )
    assert spelled == ["envsnap.names", "envsnap.names"]


def module_edges(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """*edges* between envsnap's modules alone: ``from envsnap.x import name`` counts as an
    import of ``envsnap.x``, and a module importing itself is left out."""
    modules = set(edges)

    def owner(target: str) -> str:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target

    return {
        importer: {owner(t) for t in imported if within(t, EVERYTHING)} - {importer, ""}
        for importer, imported in edges.items()
    }


def import_circles(edges: dict[str, set[str]]) -> list[str]:
    """Pairs of modules that import each other, in a function or at the top alike."""
    between = module_edges(edges)
    return sorted(
        f"{a} <-> {b}"
        for a, targets in between.items()
        for b in targets
        if a < b and a in between.get(b, set())
    )


def test_no_two_modules_import_each_other() -> None:
    assert import_circles(graph()) == []


def test_the_circle_check_sees_an_import_in_a_function() -> None:
    edges = {
        "envsnap.lockfile": {"envsnap.migrate"},
        "envsnap.migrate": {"envsnap.lockfile.SCHEMA"},
        "envsnap.errors": set(),
    }
    assert import_circles(edges) == ["envsnap.lockfile <-> envsnap.migrate"]
    assert import_circles({**edges, "envsnap.migrate": {"envsnap.errors"}}) == []


# --- the platform seam: what differs between Linux and macOS is asked of envsnap.platforms ---

SEAM = "envsnap.platforms"
# Go's GOOS values (go tool dist list) and the other names of the same systems (sys.platform,
# uname -s); a platform key is GOOS-GOARCH (``darwin-arm64``).
SYSTEM_NAMES = frozenset(
    {
        *[
            "aix",
            "android",
            "darwin",
            "dragonfly",
            "freebsd",
            "hurd",
            "illumos",
            "ios",
            "js",
            "linux",
            "netbsd",
            "openbsd",
        ],
        *["plan9", "solaris", "wasip1", "windows", "zos"],
        *["win32", "cygwin", "msys", "macos", "macosx"],
    }
)


def _names_a_system(node: ast.AST) -> bool:
    """A string literal that is a system's name or a platform key's start (``linux-``), or a
    tuple, list or set of literals holding one."""
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_names_a_system(item) for item in node.elts)
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return False
    word = node.value.lower()
    return word in SYSTEM_NAMES or (
        word.split("-", 1)[0] in SYSTEM_NAMES
        and word.isprintable()
        and " " not in word
        and "-" in word
    )


def _is_sys_platform(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "platform"
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
    )


def platform_tests(source: str) -> Iterator[int]:
    """The lines of *source* that compare a system's name with a literal, or test sys.platform."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_names_a_system(o) or _is_sys_platform(o) for o in operands):
                yield node.lineno
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("startswith", "endswith", "removeprefix", "partition")
            and (_is_sys_platform(node.func.value) or any(map(_names_a_system, node.args)))
        ):
            yield node.lineno


def test_only_the_platform_seam_tells_linux_from_macos() -> None:
    found = [
        f"{path.relative_to(REPO)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if not within(module_name(path), SEAM)
        for line in platform_tests(path.read_text())
    ]
    assert found == []


def test_the_seam_check_sees_each_way_of_asking() -> None:
    source = (
        'a = host.system == "darwin"\n'
        'b = goos != "linux"\n'
        'c = os_name in ("linux", "freebsd")\n'
        'd = key.startswith("darwin-")\n'
        'e = sys.platform.startswith("win")\n'
        "f = sys.platform == x\n"
        'g = "Darwin" == uname\n'
        'h = key == "linux-amd64"\n'
        'ok = (name == "linuxish", word.startswith("dar"), x == "ios-like thing")\n'
    )
    assert list(platform_tests(source)) == [1, 2, 3, 4, 5, 6, 7, 8]


def documented_layers() -> dict[str, tuple[str, ...]]:
    """Each layer of docs/architecture.md's table and the modules it names (``probes/``: a
    package and everything in it; ``__init__``: the package envsnap itself)."""
    text = ARCHITECTURE.read_text().split("## Layers", 1)[1].split("\n## ", 1)[0]
    layers = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 3 and cells[0] not in ("layer", "---"):
            layers[cells[0]] = tuple(re.findall(r"`([\w/]+)`", cells[1]))
    return layers


def unplaced(modules: set[str], layers: dict[str, tuple[str, ...]]) -> list[str]:
    """The modules of *modules* that no layer names."""
    names = [name for row in layers.values() for name in row]

    def dotted(name: str) -> str:
        return EVERYTHING if name == "__init__" else f"envsnap.{name.strip('/').replace('/', '.')}"

    single = {dotted(n) for n in names if not n.endswith("/")}
    packages = {dotted(n) for n in names if n.endswith("/")}
    return sorted(m for m in modules if m not in single and not any(within(m, p) for p in packages))


def test_every_module_is_in_a_layer_of_the_architecture_page() -> None:
    assert unplaced(set(graph()), documented_layers()) == []


def test_the_layer_check_sees_a_module_no_layer_names() -> None:
    layers = {"host": ("host", "__init__"), "probes": ("probes/",)}
    modules = {"envsnap", "envsnap.host", "envsnap.probes", "envsnap.probes.cc", "envsnap.hostx"}
    assert unplaced(modules, layers) == ["envsnap.hostx"]
    assert unplaced({"envsnap.host.inner"}, layers) == ["envsnap.host.inner"]
