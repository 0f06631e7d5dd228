"""Nothing envsnap prints can drive the terminal: one table of the characters that could.

A lock, a tool's stderr, a git author, a directory name: any of them may hold an escape sequence
(``ESC]52;…`` writes the clipboard, ``ESC[2J`` clears the screen, ``U+009B`` is a one-byte CSI)
or a character that reorders what is shown (bidi overrides, ``U+2028``). :func:`escape` spells
each of them out as ``\\x1b``/``\\u202e``; :func:`json_text` spells them as JSON ``\\uXXXX``
escapes, which a JSON reader turns back into the same string; :class:`SafeStream` does that on
every write to stdout and stderr (installed by :func:`envsnap.cli.main`), so no printer can
forget and a JSON document stays valid JSON.

``str.translate`` with a prebuilt table: no ``re`` import, so a clean verify stays fast.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported: every command, a clean verify too, loads this
if TYPE_CHECKING:
    from typing import TextIO

_C0 = [c for c in range(0x20) if c not in (0x09, 0x0A)]  # tab and newline are layout
_C1 = list(range(0x7F, 0xA0))  # DEL and the C1 controls (U+009B is a CSI by itself)
_LAYOUT = [0x2028, 0x2029, 0x200E, 0x200F, 0x061C]  # line/paragraph separators, marks
_BIDI = [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]  # embeddings, overrides, isolates
_SURROGATES = list(range(0xDC80, 0xDD00))  # undecodable bytes of a file name (surrogateescape)
UNSAFE = frozenset(_C0 + _C1 + _LAYOUT + _BIDI + _SURROGATES)


def _spelled(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_TEXT_TABLE = {code: _spelled(code) for code in UNSAFE}
_TEXT_TABLE_NO_LAYOUT = {**_TEXT_TABLE, 0x09: "\\t", 0x0A: "\\n"}
_JSON_TABLE = {code: f"\\u{code:04x}" for code in UNSAFE}


def escape(text: str, *, lines: bool = True) -> str:
    """*text* with every character that could drive a terminal spelled out; tab and newline
    kept unless *lines* is False (a value shown on one line)."""
    return text.translate(_TEXT_TABLE if lines else _TEXT_TABLE_NO_LAYOUT)


def json_text(text: str) -> str:
    """A JSON document (from ``json.dumps``) with those characters as ``\\uXXXX`` escapes: they
    can only stand inside its strings, where the escape means the same character."""
    return text.translate(_JSON_TABLE)


def dumps(document: object, sort_keys: bool = False) -> str:
    """``json.dumps`` for output people and programs read: indented, UTF-8 kept, controls
    escaped."""
    import json

    text = json.dumps(document, indent=2, sort_keys=sort_keys, ensure_ascii=False)
    return json_text(text) + "\n"


class SafeStream:
    """A text stream that escapes what it is given before passing it on; :meth:`write_raw`
    is the one door for envsnap's own colour codes, around text already escaped."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        # Spelled \u001b: valid inside a JSON string too, so a JSON document stays one.
        return self._stream.write(json_text(text))

    def write_raw(self, text: str) -> int:
        return self._stream.write(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def write_raw(stream: TextIO, text: str) -> None:
    """Write *text* (already escaped, with envsnap's own colour codes) unchanged."""
    (getattr(stream, "write_raw", None) or stream.write)(text)
