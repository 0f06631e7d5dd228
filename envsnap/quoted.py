"""Go's words of a flag variable (``CGO_CFLAGS``, ``CGO_LDFLAGS``, ``GOFLAGS``, ``CC``...), in
time linear in the value's length.

Go splits these with ``cmd/internal/quoted.Split``: words are separated by spaces, tabs, newlines
and carriage returns; a word that starts with a single or a double quote runs to the next such
quote, which ends it, with no unescaping inside. :func:`shlex.split` follows the shell's rules
instead and takes time quadratic in the length of one word, which a committed lock controls.
"""

from __future__ import annotations

import re

QUOTES = "'\""
_SPACES = re.compile(r"[ \t\n\r]*")
_WORD = re.compile(r"[^ \t\n\r]*")


class UnterminatedQuote(ValueError):
    """A quote with no closing quote: Go refuses the whole value."""


def split(value: str) -> list[str]:
    """The words Go makes of *value* (``quoted.Split``); :class:`UnterminatedQuote` where Go
    reports an unterminated string."""
    words: list[str] = []
    at = _skip_spaces(value, 0)
    while at < len(value):
        if value[at] in QUOTES:
            end = value.find(value[at], at + 1)
            if end < 0:
                raise UnterminatedQuote(f"unterminated {value[at]} string")
            words.append(value[at + 1 : end])
            at = end + 1
        else:
            end = _end_of_word(value, at)
            words.append(value[at:end])
            at = end
        at = _skip_spaces(value, at)
    return words


def _skip_spaces(value: str, at: int) -> int:
    found = _SPACES.match(value, at)
    return at if found is None else found.end()


def _end_of_word(value: str, at: int) -> int:
    found = _WORD.match(value, at)
    return at if found is None else found.end()
