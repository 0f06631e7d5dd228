"""What ``go list`` could not load, one line per cause, each with its fix.

``lock`` refuses an entry with such errors (the packages behind them are not locked: a module
missing from the cache may well hold cgo packages) unless ``--allow-incomplete``, and
``doctor`` reports them. A cause names the module's packages that need it, counted once each
(a package's tests count as the package), and what they need: the modules missing from the
module cache or from go.sum (by go.mod's ``require`` lines), or the imports no module provides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from envsnap.redact import scrub_message

MAX_CAUSES = 8  # lines; the rest are counted
MAX_NAMES = 4  # modules or imports named in one line
WHERE = "in envsnap.toml [packages]"


@dataclass(frozen=True)
class Kind:
    """A cause go's messages share: what the packages need, and the fix."""

    markers: tuple[str, ...]  # go's words for it
    needs: str  # "{need} modules missing from the module cache"
    fix: str
    by_module: bool  # name the modules (from go.mod), not the imports


KINDS = (
    Kind(
        ("module lookup disabled by GOPROXY=off",),
        "modules missing from the module cache",
        "`go mod download`",
        True,
    ),
    Kind(("missing go.sum entry",), "modules missing from go.sum", "`go mod tidy`", by_module=True),
    Kind(
        ("no required module provides package", "cannot find module providing package"),
        "packages no required module provides",
        "`go get` them (or `go mod tidy`)",
        by_module=False,
    ),
)


@dataclass(frozen=True)
class Failure:
    package: str  # the package named on the command line whose build or tests need it
    needs: str | None  # the package that failed to load, when go says which
    message: str  # go's message, one line


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _root(stack: Sequence[object], fallback: str, listed: set[str]) -> str:
    """The package of the module an import stack starts from: ``p (test)`` and the external
    test package ``p_test`` are p's tests, so count as p."""
    first = str(stack[0]) if stack else fallback
    first = first.split(" [", 1)[0].removesuffix(" (test)")
    if first.endswith("_test") and first.removesuffix("_test") in listed:
        return first.removesuffix("_test")
    return first


def _errors(pkg: Mapping[str, object]) -> Iterator[tuple[Mapping[str, object], bool]]:
    """The package's own error (True) and its dependencies' (False)."""
    own = pkg.get("Error")
    if isinstance(own, dict):
        yield own, True
    deps = pkg.get("DepsErrors")
    for dep in deps if isinstance(deps, list) else []:
        if isinstance(dep, dict):
            yield dep, False


def failures(packages: Iterable[Mapping[str, object]]) -> list[Failure]:
    """Each distinct error of a ``go list -e`` listing, once."""
    packages = list(packages)
    listed = {str(p.get("ImportPath", "")).split(" [", 1)[0] for p in packages}
    found: dict[tuple[str, str, tuple[str, ...]], Failure] = {}
    for pkg in packages:
        path = str(pkg.get("ImportPath", "")).split(" [", 1)[0]
        for error, own in _errors(pkg):
            message = _one_line(error.get("Err", ""))
            if not message:
                continue
            listed_stack = error.get("ImportStack")
            stack = tuple(str(s) for s in listed_stack) if isinstance(listed_stack, list) else ()
            key = (message, str(error.get("Pos", "")), stack)
            if own or key not in found:
                root = _root(stack, path, listed)
                found[key] = Failure(root, path if own else None, message)
    return list(found.values())


def module_of(import_path: str, modules: Sequence[str]) -> str:
    """The required module that holds *import_path* (the longest path prefix), else itself."""
    owners = [m for m in modules if import_path == m or import_path.startswith(m + "/")]
    return max(owners, key=len) if owners else import_path


def _kind(message: str) -> Kind | None:
    return next((k for k in KINDS if any(m in message for m in k.markers)), None)


def _names(items: Iterable[str]) -> str:
    names = sorted(set(items))
    shown = ", ".join(names[:MAX_NAMES])
    return shown + (f" and {len(names) - MAX_NAMES} more" if len(names) > MAX_NAMES else "")


def _count(number: int) -> str:
    return f"{number} package{'' if number == 1 else 's'} {'needs' if number == 1 else 'need'}"


def causes(
    packages: Iterable[Mapping[str, object]],
    modules: Sequence[str] = (),
    skip: Callable[[str], bool] = lambda message: False,
) -> list[str]:
    """One line per cause: ``3 packages need modules missing from the module cache:
    example.com/x — `go mod download` or exclude them in envsnap.toml [packages]``; *modules*
    are the required modules' paths; errors whose message *skip* accepts are left out."""
    grouped: dict[Kind | str, list[Failure]] = {}
    for failure in failures(packages):
        if skip(failure.message):
            continue
        grouped.setdefault(_kind(failure.message) or failure.message, []).append(failure)
    lines = [_line(cause, found, modules) for cause, found in grouped.items()]
    lines = sorted(scrub_message(line) for line in lines)
    if len(lines) > MAX_CAUSES:
        lines = [*lines[: MAX_CAUSES - 1], f"and {len(lines) - MAX_CAUSES + 1} more causes"]
    return lines


def _line(cause: Kind | str, found: list[Failure], modules: Sequence[str]) -> str:
    packages = {f.package for f in found}
    them = "it" if len(packages) == 1 else "them"
    if isinstance(cause, str):
        return f"{_names(packages)}: {cause} — fix it, or exclude {them} {WHERE}"
    needed = [f.needs for f in found if f.needs is not None]
    if cause.by_module:
        needed = [module_of(n, modules) for n in needed]
    named = f": {_names(needed)}" if needed else ""
    return f"{_count(len(packages))} {cause.needs}{named} — {cause.fix} or exclude {them} {WHERE}"
