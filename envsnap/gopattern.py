"""Go's package patterns, as ``go list`` reads them: ``./...``, ``./cmd/...``, ``net/...``.

:func:`match_pattern` is ``cmd/internal/pkgpattern.MatchPattern`` (``...`` is any string, a
trailing ``/...`` also matches the empty string, and a wildcard never matches a ``vendor``
element that is not the last); :func:`clean` is the canonical form ``cmd/go`` gives a pattern
(``search.CleanPatterns``). A relative pattern matches a directory written ``./dir`` (``.`` for
the module's own), as ``search.MatchDirs`` does; any other matches an import path.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable

_VENDOR = "\x00"  # what a non-final vendor element becomes: the wildcard never matches it
_WILD = f"[^{_VENDOR}]*"


def is_relative(pattern: str) -> bool:
    """``.``, ``..``, ``./x`` or ``../x``: a pattern of directories (``search.IsRelativePath``)."""
    return pattern in (".", "..") or pattern.startswith(("./", "../"))


def clean(pattern: str) -> str:
    """The pattern as cmd/go canonicalises it: ``path.Clean``, keeping a leading ``./``."""
    if pattern.startswith("./"):
        cleaned = "./" + posixpath.normpath(pattern)
        return "." if cleaned == "./." else cleaned
    return posixpath.normpath(pattern) if pattern else pattern


def _replace_vendor(text: str) -> str:
    """*text* with each ``vendor`` element but the last replaced by the unmatchable mark."""
    elements = text.split("/")
    return "/".join(
        _VENDOR if element == "vendor" and index < len(elements) - 1 else element
        for index, element in enumerate(elements)
    )


def _regex(pattern: str) -> re.Pattern[str]:
    quoted = _replace_vendor(re.escape(pattern).replace(r"\/", "/"))
    trailing = f"/{_VENDOR}/" + re.escape("...")
    if quoted.endswith(trailing):
        quoted = quoted.removesuffix(trailing) + f"(/vendor|/{_VENDOR}/" + re.escape("...") + ")"
    elif quoted == f"{_VENDOR}/" + re.escape("..."):
        quoted = f"(/vendor|/{_VENDOR}/" + re.escape("...") + ")"
    if quoted.endswith("/" + re.escape("...")):
        quoted = quoted.removesuffix("/" + re.escape("...")) + "(/" + re.escape("...") + ")?"
    return re.compile(quoted.replace(re.escape("..."), _WILD))


def match_pattern(pattern: str) -> Callable[[str], bool]:
    """Whether a name matches *pattern*, by Go's rules (``pkgpattern.MatchPattern``)."""
    if _VENDOR in pattern:
        return lambda name: False
    compiled = _regex(pattern)

    def matches(name: str) -> bool:
        return _VENDOR not in name and compiled.fullmatch(_replace_vendor(name)) is not None

    return matches
