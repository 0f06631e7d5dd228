"""Which environment variable names say they hold a secret (``GITHUB_TOKEN``, ``DB_PASSWORD``).

Plain substrings, so that verify's clean path can test a name without importing ``re``;
:mod:`envsnap.redact` builds its pattern from the same words.
"""

from __future__ import annotations

SECRET_WORDS = (
    "token",
    "secret",
    "passw",
    "credential",
    "apikey",
    "api_key",
    "privatekey",
    "private_key",
    "auth",
    "session",
)


def is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)
