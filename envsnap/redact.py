"""Keeping credentials out of everything envsnap writes or prints.

Two defences: URL userinfo (``https://user:pw@host``) is stripped from any value, and a value
that still looks like a credential is refused by name (the value itself is never shown).
Recordings, which are meant to be attached to bug reports, additionally scrub every value of
the process environment whose *name* says it is secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from envsnap.secretnames import SECRET_WORDS

REDACTED = "<redacted>"

_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s'\"]+)@")

# Well-known token shapes. Each is specific enough that a compiler flag or a path never matches.
_TOKEN_PATTERNS = [
    re.compile(p)
    for p in (
        r"gh[pousr]_[A-Za-z0-9]{20,}",  # GitHub tokens
        r"github_pat_[A-Za-z0-9_]{20,}",
        r"glpat-[A-Za-z0-9_-]{20,}",  # GitLab
        r"xox[abprs]-[A-Za-z0-9-]{10,}",  # Slack
        r"(?:AKIA|ASIA)[A-Z0-9]{16}",  # AWS access key ids
        r"sk-[A-Za-z0-9_-]{20,}",  # OpenAI-style secret keys
        r"AIza[0-9A-Za-z_-]{35}",  # Google API keys
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
        r"(?i)(?:password|passwd|secret|token|api[_-]?key|access[_-]?key)\s*[=:]\s*[^\s'\"]+",
    )
]

# A long unbroken run of mixed letters and digits (e.g. an AWS secret key, a JWT) that is not
# a path, a hash we print ourselves or a version: at least 32 characters with upper, lower and
# digits all present.
_OPAQUE_RUN = re.compile(r"[A-Za-z0-9+/=_-]{32,}")

SECRET_NAME = re.compile("(?i)(" + "|".join(SECRET_WORDS) + ")")


def strip_userinfo(value: str) -> str:
    """Remove ``user:password@`` from every URL inside *value*."""
    return _URL_USERINFO.sub(lambda m: m.group("scheme"), value)


def _is_opaque_secret(run: str) -> bool:
    if run.startswith("sha256:") or "/" in run:
        return False
    return (
        any(c.isupper() for c in run)
        and any(c.islower() for c in run)
        and any(c.isdigit() for c in run)
    )


def looks_like_credential(value: str) -> bool:
    """True when *value* (already stripped of URL userinfo) resembles a secret."""
    if any(p.search(value) for p in _TOKEN_PATTERNS):
        return True
    return any(_is_opaque_secret(m.group(0)) for m in _OPAQUE_RUN.finditer(value))


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace known secret values, URL userinfo and token-shaped strings with a marker."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, REDACTED)
    text = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return _OPAQUE_RUN.sub(
        lambda m: REDACTED if _is_opaque_secret(m.group(0)) else m.group(0), text
    )


def secret_values(environ: Mapping[str, str]) -> set[str]:
    """Values of *environ* that must never leave the machine: secret-named or secret-shaped."""
    found = set()
    for name, value in environ.items():
        if len(value) < 6:
            continue
        if SECRET_NAME.search(name) or looks_like_credential(strip_userinfo(value)):
            found.add(value)
        for match in _URL_USERINFO.finditer(value):
            found.add(match.group("userinfo"))
    return found
