"""The few facts doctor reads from go.mod's text: the module path, local replaces, go versions."""

from __future__ import annotations


def module_path(go_mod: str) -> str | None:
    for line in go_mod.splitlines():
        words = _words(line)
        if len(words) == 2 and words[0] == "module":
            return words[1]
    return None


def local_replacements(go_mod: str) -> list[tuple[int, str, str]]:
    """(line number, line, target) for every ``replace`` whose target is a local directory."""
    found = []
    in_block = False
    for number, line in enumerate(go_mod.splitlines(), start=1):
        words = _words(line)
        if words[:2] == ["replace", "("]:
            in_block = True
            continue
        if in_block and words[:1] == [")"]:
            in_block = False
            continue
        spec = words[1:] if words[:1] == ["replace"] else words if in_block else []
        if "=>" in spec:
            target = spec[spec.index("=>") + 1 :]
            if len(target) == 1 and is_local_path(target[0]):
                found.append((number, line.strip(), target[0]))
    return found


def is_local_path(target: str) -> bool:
    """go.mod's rule: a replacement starting with ./ ../ or / is a directory, not a module."""
    return target.startswith(("./", "../", "/")) or target in (".", "..")


def go_mod_versions(go_mod: str | None) -> tuple[str | None, str | None]:
    """go.mod's ``go`` line and its ``toolchain`` line (without the ``go`` prefix)."""
    go_line = toolchain = None
    for line in (go_mod or "").splitlines():
        words = _words(line)
        if len(words) == 2 and words[0] == "go":
            go_line = words[1]
        elif len(words) == 2 and words[0] == "toolchain":
            toolchain = words[1].removeprefix("go")
    return go_line, toolchain


def _words(line: str) -> list[str]:
    return [w.strip('"`') for w in line.split("//", 1)[0].split()]
