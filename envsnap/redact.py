"""Keeping credentials out of everything envsnap writes or prints.

Two questions with two answers:

- *May a tracked value be locked?* (:func:`looks_like_credential`) A value is refused only for a
  shape that really is a credential: a known token prefix (GitHub, GitLab, Slack, AWS key id,
  npm, PyPI, Google, OpenAI-style), a private key block, an AWS secret access key, a ``.netrc``
  line, a ``Bearer`` credential, a ``password=``/``token=``/``"private_key":`` assignment, or,
  in a variable whose *name* says it is secret, a high-entropy opaque run. Compiler flags
  are not credentials: a ``-D`` define, a hex constant, a git SHA, a path or a long identifier.
- *What must a recording, a log or stderr hide?* (:func:`scrub`) That is free text, so beside
  the token shapes it hides every secret assignment whatever its value (to any name holding a
  secret word, so a lowercase-hex key is hidden by its name), and every long opaque
  run of mixed case and digits, except the parts of it that are plainly not secret (a numeric
  constant such as ``0x10100000L``, a lowercase hex digest).

URL userinfo (``https://user:pw@host``, up to the last ``@`` before the host, as Go reads it) is
stripped from every value before either question. Every pattern scans in linear time: a
recording scrubs blobs of megabytes.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping

from envsnap.secretnames import is_secret_name

REDACTED = "<redacted>"

# As Go's net/url reads a URL: the authority ends at the first '/', '?' or '#', and the userinfo
# is all of it up to its LAST '@' ('@' and quotes may stand in a password). Greedy, then back to
# that '@'. Free text is scrubbed with a wider reach: up to the last '@' before a '/' or a space.
# A scheme of at most 32 characters, so a long run of letters costs a linear scan, not one
# scan per letter (a flag's prefix may run into it: -Ihttps://…).
_SCHEME = r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]{0,31}://)"
_URL_USERINFO = re.compile(_SCHEME + r"(?P<userinfo>[^/?#\s]*)@")
_URL_USERINFO_WIDE = re.compile(_SCHEME + r"(?P<userinfo>[^/\s]*)@")

_START = r"(?<![A-Za-z0-9])"  # a token starts a word: "disk-…" holds no "sk-" key
_END = r"(?![A-Za-z0-9])"
_MIXED = r"(?=[\w-]*[A-Z])(?=[\w-]*[a-z])(?=[\w-]*[0-9])"  # upper, lower and digit ahead

# Well-known token shapes, each starting a word so that a path or a flag never matches; one
# alternation behind one look-behind, which scans a large blob as fast as a single pattern.
_TOKEN_SHAPES = (
    r"gh[pousr]_[A-Za-z0-9]{20,}",  # GitHub tokens
    r"github_pat_[A-Za-z0-9_]{20,}",
    r"glpat-[A-Za-z0-9_-]{20,}",  # GitLab
    r"xox[abeprs]-[A-Za-z0-9-]{10,}",  # Slack
    r"(?:AKIA|ASIA)[A-Z0-9]{16}" + _END,  # AWS access key ids
    r"npm_[A-Za-z0-9]{36}" + _END,  # npm access tokens
    r"pypi-AgE[A-Za-z0-9_-]{50,}",  # PyPI API tokens (a macaroon)
    r"AIza[0-9A-Za-z_-]{35}",  # Google API keys
    r"sk-(?:proj-|svcacct-|admin-)?" + _MIXED + r"[A-Za-z0-9_-]{20,}",  # OpenAI-style
)
_TOKEN_PATTERNS = (
    re.compile(_START + "(?:" + "|".join(_TOKEN_SHAPES) + ")"),
    # a private key: the whole block, or to the end of a text cut short
    re.compile(
        r"(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----"
        r"(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----|.*)"
    ),
)

# ``password=…``, ``API_TOKEN=…``, ``secret: …``. Refused unless the value is plain (below);
# scrubbed from free text whatever the value.
_ASSIGNMENT = re.compile(
    r"(?i)(?:password|passwd|secret|token|credentials?|(?:session|auth)[_-]?(?:key|token)"
    r"|(?:api|access|secret|private)[_-]?key)"
    r"[\"']?\s*[=:]\s*[\"']?(?P<value>[^\s'\"]+)"  # the quotes of JSON or YAML too
)
# An HTTP credential: ``Authorization: Bearer …``, ``Basic …``.
_BEARER = re.compile(r"(?i)\b(?:bearer|basic)\s+(?P<value>[A-Za-z0-9._~+/=-]{16,})")
# Free text only: any name holding a secret word (``DEPLOY_SESSION_KEY: 5f0c…``, even a
# lowercase-hex value), its value hidden whatever it is. Too wide to refuse a flag by
# (``-DAUTHOR=…``), so a tracked value is judged by _ASSIGNMENT alone.
# The name is matched whole (from where a word starts, at most 100 characters) and its words
# tested after, so a megabyte-long run of name characters costs a linear scan.
_NAMED_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9_.-])(?P<name>[A-Za-z0-9_.-]{1,100}[\"']?\s*[=:]\s*[\"']?)"
    r"(?P<value>[^\s'\",;]+)"
)
# A .netrc line: ``machine host login me password hunter2``.
_NETRC = re.compile(r"(?i)\b(?:machine|login|account)\s+\S+\s+password\s+(?P<value>[^\s'\"]+)")
# Assigned values that hold no secret: a small number or a hex constant (``-DMAX_TOKEN=64``),
# a switch, a reference to another variable. A longer number may be a PIN.
_PLAIN_VALUE = re.compile(
    r"(?i)(?:0x[0-9a-f]+|[0-9]{1,3})[ul]*|true|false|yes|no|on|off|none|null"
    r"|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?"
)

# Free text: a long unbroken run of token characters (an AWS secret key, a JWT part).
_OPAQUE_RUN = re.compile(r"[A-Za-z0-9+/=_-]{32,}")
# Parts of such a run, between '=', that are plainly not secret: a numeric constant
# (0x10100000L, 1234) or a lowercase hex digest (a git SHA).
_PLAIN_PART = re.compile(r"(?:0[xX][0-9A-Fa-f]+|[0-9]+)[uUlL]*|[0-9a-f]+")

# An AWS secret access key: 40 characters of base64, '/' and '+' among them. A path has the same
# characters, so the run must look random: upper, lower and digits, high entropy (40 random
# base64 characters score above 4.35; "usr/local/Cellar/openssl3/lib/pkgconfig0" 4.0), and no
# segment between slashes that is a plain word ("lib", "Cellar").
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9+/_.-])[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/=_.-])")
_AWS_MIN_ENTROPY = 4.3
_WORD = re.compile(r"[a-z]{3,}|[A-Z][a-z]{2,}")

# A secret-named variable: a run of 16+ token characters that is not a path.
_NAMED_RUN = re.compile(r"[A-Za-z0-9+/=_.~-]{16,}")
_MIN_ENTROPY = 3.0  # bits per character; "aaaaaaaaaaaaaaa1" has 0.3, a 40-hex SHA about 3.7


def strip_userinfo(value: str) -> str:
    """Remove ``user:password@`` from every URL inside *value*."""
    return _URL_USERINFO.sub(lambda m: m.group("scheme"), value)


def _has_token(value: str) -> bool:
    return any(p.search(value) for p in _TOKEN_PATTERNS) or any(
        map(_is_aws_secret, _AWS_SECRET.finditer(value))
    )


def _is_aws_secret(match: re.Match[str]) -> bool:
    run = match.group(0)
    if run.startswith("/") or "//" in run or _classes(run) < 3:
        return False
    if any(_WORD.fullmatch(part) for part in run.split("/")):
        return False
    return _entropy(run) >= _AWS_MIN_ENTROPY


def _secret_assignment(match: re.Match[str]) -> bool:
    return not _PLAIN_VALUE.fullmatch(match.group("value"))


def _assignments(value: str) -> Iterable[re.Match[str]]:
    yield from _ASSIGNMENT.finditer(value)
    yield from _NETRC.finditer(value)
    yield from _BEARER.finditer(value)


def _classes(text: str) -> int:
    """How many of upper case, lower case and digits *text* holds."""
    return sum(any(test(c) for c in text) for test in (str.isupper, str.islower, str.isdigit))


def _entropy(text: str) -> float:
    counts = Counter(text).values()
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts)


def _high_entropy(run: str) -> bool:
    if run.startswith(("/", ".", "~")) or "//" in run:  # a path or a URL
        return False
    return _classes(run) >= 2 and _entropy(run) >= _MIN_ENTROPY


def looks_like_credential(value: str, name: str = "") -> bool:
    """True when *value* (already stripped of URL userinfo), held by the variable *name*, is a
    credential: a known token shape or a secret assignment anywhere, and a high-entropy opaque
    run only when *name* says the variable is secret."""
    if _has_token(value) or any(map(_secret_assignment, _assignments(value))):
        return True
    if not is_secret_name(name):
        return False
    return any(_high_entropy(m.group(0)) for m in _NAMED_RUN.finditer(value))


def _is_opaque_secret(run: str) -> bool:
    """A long run of free text that may be a key: once the plainly harmless parts are set aside,
    upper case, lower case and digits are all there (and it is no path or digest we print)."""
    if run.startswith("sha256:") or "/" in run:
        return False
    rest = "=".join(part for part in run.split("=") if not _PLAIN_PART.fullmatch(part))
    return _classes(rest) == 3


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace known secret values, URL userinfo and secret-shaped strings with a marker."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, REDACTED)
    text = _URL_USERINFO_WIDE.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(REDACTED, text)
    text = _AWS_SECRET.sub(lambda m: REDACTED if _is_aws_secret(m) else m.group(0), text)
    text = _ASSIGNMENT.sub(REDACTED, text)  # free text: every assignment, as a safe default
    text = _NETRC.sub(REDACTED, text)
    text = _BEARER.sub(REDACTED, text)
    text = _NAMED_ASSIGNMENT.sub(_hide_named_value, text)
    return _OPAQUE_RUN.sub(
        lambda m: REDACTED if _is_opaque_secret(m.group(0)) else m.group(0), text
    )


def _hide_named_value(match: re.Match[str]) -> str:
    name, value = match.group("name"), match.group("value")
    if value == REDACTED or not is_secret_name(name):
        return match.group(0)
    return name + REDACTED


def _secret_shaped(value: str) -> bool:
    """*value* holds something :func:`scrub` would hide as free text."""
    return looks_like_credential(value) or any(
        _is_opaque_secret(m.group(0)) for m in _OPAQUE_RUN.finditer(value)
    )


def secret_values(environ: Mapping[str, str]) -> set[str]:
    """Values of *environ* that must never leave the machine: secret-named or secret-shaped."""
    found = set()
    for name, value in environ.items():
        if len(value) < 6:
            continue
        if is_secret_name(name) or _secret_shaped(strip_userinfo(value)):
            found.add(value)
        for match in _URL_USERINFO_WIDE.finditer(value):
            found.add(match.group("userinfo"))
    return found


def scrub_message(text: str) -> str:
    """An error's text (a tool's stderr, a failed probe) as it may be shown or locked: token
    shapes, URL userinfo and this process's secret values hidden."""
    import os

    return scrub(text, secret_values(os.environ))
