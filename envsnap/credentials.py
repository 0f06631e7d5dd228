"""May a tracked value be locked? A value is refused for the shape of what it holds, never for
the words in a flag's name (``-DMAX_TOKEN=4096`` and ``-DAUTH_KEY=hmac`` are flags).

:func:`credential_parts` finds, in a value already stripped of URL userinfo:

- **known token formats**, anywhere, paths included: GitHub, GitLab, Slack, AWS key ids, Stripe,
  npm, PyPI, Google, OpenAI-style, Hugging Face, SendGrid, Vault, DigitalOcean, Shopify, JWTs
  and private key blocks; an AWS secret access key (40 random base64 characters);
- **random keys**, outside filesystem paths: a UUID, a hex run of 32 or more digits that is not
  a digest's length (a git SHA-1 is 40, a SHA-256 64), or a run of 20 or more letters and
  digits that is as random as a key: upper case, lower case and digits, an entropy near the most
  its length allows (0.8 * log2 of the length), and a change between upper case, lower case and
  digit at 38 % or more of its steps (a random key changes at about 60 %, ``CamelCaseNames2``
  at about 30 %). A path's parts are not judged so: a machine id, a Nix hash or a simulator's
  UUID-named folder are paths;
- **a literal credential in a secret-named assignment**: ``-DDB_PASSWORD=hunter2``. The one rule
  that reads a name, and only its last word: a name ending in ``password``, ``passwd`` or
  ``passphrase`` holds a password, so any value is refused there but a number, a switch, a path,
  a ``$`` reference or an ``UPPER_CASE`` constant; a name ending in ``token``, ``secret``,
  ``credentials`` or ``api_key``-like words (``AUTH_KEY``, ``SECRET_KEY``, ``auth``) refuses
  such a value only when it mixes letters and digits as a key does (two changes between them,
  ``s3cr3t``, or upper case, lower case and digits, ``Zq7xYvP4``): ``hmac``, ``sha256`` or
  ``TK_IDENT`` stay flags;
- a ``.netrc`` line, an ``Authorization: Bearer …`` value;
- in a variable whose own name says it is secret (``DEPLOY_TOKEN``), its value judged as the
  assignment above, and any long high-entropy run.

Every pattern scans in linear time.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import pairwise
from typing import Literal

from envsnap.secretnames import is_secret_name

_START = r"(?<![A-Za-z0-9])"  # a token starts a word: "disk-…" holds no "sk-" key
_END = r"(?![A-Za-z0-9])"
_MIXED = r"(?=[\w-]*[A-Z])(?=[\w-]*[a-z])(?=[\w-]*[0-9])"  # upper, lower and digit ahead

# Well-known token shapes, each starting a word so that a path or a flag never matches; one
# alternation behind one look-behind, which scans a large blob as fast as a single pattern.
_TOKEN_SHAPES = (
    r"gh[pousr]_[A-Za-z0-9]{20,}",  # GitHub tokens
    r"github_pat_[A-Za-z0-9_]{20,}",
    r"gl(?:pat|dt|rt|ptt|soat)-[A-Za-z0-9_-]{20,}",  # GitLab
    r"xox[abeprs]-[A-Za-z0-9-]{10,}",  # Slack
    r"(?:AKIA|ASIA)[A-Z0-9]{16}" + _END,  # AWS access key ids
    r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}",  # Stripe secret and restricted keys
    r"whsec_[A-Za-z0-9]{24,}",  # Stripe webhook secrets
    r"npm_[A-Za-z0-9]{36}" + _END,  # npm access tokens
    r"pypi-AgE[A-Za-z0-9_-]{50,}",  # PyPI API tokens (a macaroon)
    r"AIza[0-9A-Za-z_-]{35}",  # Google API keys
    r"sk-(?:proj-|svcacct-|admin-|ant-)?" + _MIXED + r"[A-Za-z0-9_-]{20,}",  # OpenAI-style
    r"hf_[A-Za-z0-9]{30,}",  # Hugging Face
    r"SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}",  # SendGrid
    r"hv[sb]\.[A-Za-z0-9_-]{24,}",  # HashiCorp Vault
    r"do[opr]_v1_[a-f0-9]{64}",  # DigitalOcean
    r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}",  # Shopify
    r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",  # a JWT: {"… header, payload
)
TOKEN_PATTERNS = (
    re.compile(_START + "(?:" + "|".join(_TOKEN_SHAPES) + ")"),
    # a private key: the whole block, or to the end of a text cut short
    re.compile(
        r"(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----"
        r"(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----|.*)"
    ),
)

# An AWS secret access key: 40 characters of base64, '/' and '+' among them. A path has the same
# characters, so the run must look random: upper, lower and digits, high entropy (40 random
# base64 characters score above 4.35; "usr/local/Cellar/openssl3/lib/pkgconfig0" 4.0), and no
# segment between slashes that is a plain word ("lib", "Cellar").
AWS_SECRET = re.compile(r"(?<![A-Za-z0-9+/_.-])[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/=_.-])")
_AWS_MIN_ENTROPY = 4.3
_WORD = re.compile(r"[a-z]{3,}|[A-Z][a-z]{2,}")

# A .netrc line: ``machine host login me password hunter2``.
NETRC = re.compile(r"(?i)\b(?:machine|login|account)\s+\S+\s+password\s+(?P<value>[^\s'\"]+)")
# An HTTP credential: ``Authorization: Bearer …``, ``Basic …``.
BEARER = re.compile(r"(?i)\b(?:bearer|basic)\s+(?P<value>[A-Za-z0-9._~+/=][A-Za-z0-9._~+/=-]{15,})")

# ``NAME=value``, ``NAME: value``, ``"NAME": "value"``: the value is looked at, not consumed, so
# that ``-DK=API_KEY=…`` yields both pairs. A name is matched from where a word starts, at most
# 100 characters, so a long run of name characters costs a linear scan.
_PAIR = re.compile(
    r"(?<![A-Za-z0-9_.-])(?P<name>[A-Za-z0-9_.-]{1,100})[\"']?\s*[=:]"
    r"(?=\s*(?:\\?[\"'])?(?P<value>[^\s'\"\\=,;:]*))"
)
_PASSWORD_NAME = re.compile(r"(?i)(?:password|passwd|passphrase)$")
_SECRET_NAME = re.compile(
    r"(?i)(?:secret|token|credentials?|auth"
    r"|(?:api|access|private|secret|session|auth|client|signing|master)[_-]?key)$"
)
# Values that are no literal credential: a number or a switch, a path or a reference, a
# constant's name.
_NUMBER_OR_SWITCH = re.compile(
    r"(?i)[+-]?(?:0x[0-9a-f]+|[0-9]+(?:\.[0-9]+)?)[ulf]*|true|false|yes|no|on|off|none|null|nil"
)
_CONSTANT = re.compile(r"[A-Z_][A-Z0-9_]*")
_NOT_LITERAL = ("/", ".", "~", "$", "<")

# Random keys. Hex: a run of 32 or more digits that is not as long as a digest (SHA-1, SHA-224,
# SHA-256, SHA-384, SHA-512): a git SHA or a checksum in a define stays a flag.
UUID = r"[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}"
_UUID = re.compile(_START + UUID + _END)
_HEX = re.compile(_START + r"[0-9A-Fa-f]{32,}" + _END)
_DIGEST_LENGTHS = {40, 56, 64, 96, 128}
RANDOM_RUN = re.compile(r"[A-Za-z0-9_+-]{20,}")
_MIN_SWITCHES = 0.38
# Where a value is cut into pieces: a random key is looked for in each piece that is not a path.
_SEPARATORS = re.compile(r"[\s=,;'\"\\()\[\]{}<>|&!?#*@]+")

# A secret-named variable: a run of 16+ token characters that is not a path.
_NAMED_RUN = re.compile(r"[A-Za-z0-9+/=_.~-]{16,}")
_MIN_ENTROPY = 3.0  # bits per character; "aaaaaaaaaaaaaaa1" has 0.3, a 40-hex SHA about 3.7


def classes(text: str) -> int:
    """How many of upper case, lower case and digits *text* holds."""
    return sum(any(test(c) for c in text) for test in (str.isupper, str.islower, str.isdigit))


def entropy(text: str) -> float:
    """Shannon entropy of *text*, in bits per character."""
    counts = Counter(text).values()
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts)


def is_aws_secret(match: re.Match[str]) -> bool:
    run = match.group(0)
    if run.startswith("/") or "//" in run or classes(run) < 3:
        return False
    if any(_WORD.fullmatch(part) for part in run.split("/")):
        return False
    return entropy(run) >= _AWS_MIN_ENTROPY


def known_tokens(value: str) -> Iterator[str]:
    """Every token of a known format in *value*."""
    for pattern in TOKEN_PATTERNS:
        yield from (m.group(0) for m in pattern.finditer(value))
    yield from (m.group(0) for m in AWS_SECRET.finditer(value) if is_aws_secret(m))
    yield from (m.group("value") for m in (*NETRC.finditer(value), *BEARER.finditer(value)))


def _kind(char: str) -> str:
    return "upper" if char.isupper() else "lower" if char.islower() else "digit"


def _changes(kinds: list[str]) -> int:
    return sum(a != b for a, b in pairwise(kinds))


def _switch_share(run: str) -> float:
    """The share of steps between letters and digits of *run* that change case or kind."""
    kinds = [_kind(c) for c in run if c.isalnum()]
    return _changes(kinds) / (len(kinds) - 1) if len(kinds) > 1 else 0.0


def is_random_run(run: str) -> bool:
    """A run of letters and digits as random as a key (its parts joined by '_', '+' or '-')."""
    return (
        classes(run) == 3
        and entropy(run) >= 0.8 * math.log2(len(run))
        and _switch_share(run) >= _MIN_SWITCHES
    )


def _pieces(value: str) -> Iterator[str]:
    """The pieces of *value* a random key is looked for in: the words between separators, a path
    list cut at ':', a URL's host and path parts; a filesystem path is left out whole."""
    for word in _SEPARATORS.split(value):
        if "://" in word:
            yield from word.partition("://")[2].split("/")
            continue
        for piece in word.split(":"):
            if "/" not in piece and not piece.startswith(("~", ".")):
                yield piece


def is_hex_key(run: str) -> bool:
    """A hex run that is a key: letters and digits, and not as long as a digest."""
    return len(run) >= 32 and len(run) not in _DIGEST_LENGTHS and classes(run) >= 2


def random_keys(value: str) -> Iterator[str]:
    """UUIDs, non-digest hex runs and random runs in *value*, outside filesystem paths."""
    for piece in _pieces(value):
        yield from (m.group(0) for m in _UUID.finditer(piece))
        yield from (m.group(0) for m in _HEX.finditer(piece) if is_hex_key(m.group(0)))
        yield from (m.group(0) for m in RANDOM_RUN.finditer(piece) if is_random_run(m.group(0)))


def _letter_digit_changes(value: str) -> int:
    return _changes(["digit" if c.isdigit() else "letter" for c in value if c.isalnum()])


SecretKind = Literal["password", "secret"]


def secret_kind(name: str) -> SecretKind | None:
    """What a macro's or variable's *name* says it holds, by how it ends: ``DB_PASSWORD`` a
    password, ``API_TOKEN`` or ``AUTH_KEY`` another secret; None for any other name."""
    if _PASSWORD_NAME.search(name):
        return "password"
    return "secret" if _SECRET_NAME.search(name) else None


def literal_credential(value: str, kind: SecretKind) -> bool:
    """Whether *value*, assigned to a name that says it holds *kind*, is a literal credential."""
    if not value or _NUMBER_OR_SWITCH.fullmatch(value) or _CONSTANT.fullmatch(value):
        return False
    if value.startswith(_NOT_LITERAL) or "/" in value:  # a path, a reference, a marker
        return False
    return kind == "password" or _letter_digit_changes(value) >= 2 or classes(value) == 3


def secret_assignments(value: str) -> Iterator[str]:
    """The literal credentials assigned to secret-named names inside *value*."""
    for match in _PAIR.finditer(value):
        kind = secret_kind(match.group("name"))
        if kind is not None and literal_credential(match.group("value"), kind):
            yield match.group("value")


def _named_variable_parts(value: str, name: str) -> Iterator[str]:
    kind = secret_kind(name)
    if kind is not None and literal_credential(value, kind):
        yield value
    if is_secret_name(name):
        yield from (m.group(0) for m in _NAMED_RUN.finditer(value) if _high_entropy(m.group(0)))


def _high_entropy(run: str) -> bool:
    if run.startswith(("/", ".", "~")) or "//" in run:  # a path or a URL
        return False
    return classes(run) >= 2 and entropy(run) >= _MIN_ENTROPY


def credential_parts(value: str, name: str = "") -> list[str]:
    """The credentials inside *value* (already stripped of URL userinfo), held by the variable
    *name*: empty when the value may be locked."""
    found: Iterable[str] = (
        *known_tokens(value),
        *random_keys(value),
        *secret_assignments(value),
        *_named_variable_parts(value, name),
    )
    return list(dict.fromkeys(part for part in found if part))


def looks_like_credential(value: str, name: str = "") -> bool:
    """True when *value* (already stripped of URL userinfo), held by *name*, holds a credential."""
    return bool(credential_parts(value, name))
