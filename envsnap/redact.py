"""Keeping credentials out of everything envsnap writes or prints.

Two questions with two answers:

- *May a tracked value be locked?* (:func:`looks_like_credential`, from
  :mod:`envsnap.credentials`) A value is refused for the shape of what it holds: a known token
  format, a random key outside a path, or a literal credential assigned to a secret-named macro.
  Compiler flags are not credentials: ``-DMAX_TOKEN=4096``, a hex constant, a git SHA, a path.
- *What must a recording, a log or stderr hide?* (:func:`scrub`) That is free text, so beside
  the token shapes it hides every secret assignment whatever its value (to any name holding a
  secret word, so a lowercase-hex key is hidden by its name), every long opaque run of mixed
  case and digits, except the parts of it that are plainly not secret (a numeric constant such
  as ``0x10100000L``, a lowercase hex digest), every run as random as a key, UUID or hex key
  standing as a word of its own (not a path's folder), and every value, or credential inside a
  value, that this machine's environment and ``go env -w`` file hold.

URL userinfo (``https://user:pw@host``, up to the last ``@`` before the host, as Go reads it) is
stripped from every value before either question. Every pattern scans in linear time: a
recording scrubs blobs of megabytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from envsnap.credentials import (
    AWS_SECRET,
    BEARER,
    NETRC,
    TOKEN_PATTERNS,
    UUID,
    classes,
    credential_parts,
    is_aws_secret,
    is_hex_key,
    is_random_run,
    looks_like_credential,
)
from envsnap.platforms.folders import this_goos, user_config_dir
from envsnap.secretnames import is_secret_name

__all__ = ["REDACTED", "looks_like_credential", "scrub", "scrub_message", "strip_userinfo"]

REDACTED = "<redacted>"

# As Go's net/url reads a URL: the authority ends at the first '/', '?' or '#', and the userinfo
# is all of it up to its LAST '@' ('@' and quotes may stand in a password). Greedy, then back to
# that '@'. Free text is scrubbed with a wider reach: up to the last '@' before a '/' or a space.
# A scheme of at most 32 characters, so a long run of letters costs a linear scan, not one
# scan per letter (a flag's prefix may run into it: -Ihttps://…).
_SCHEME = r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]{0,31}://)"
_URL_USERINFO = re.compile(_SCHEME + r"(?P<userinfo>[^/?#\s]*)@")
_URL_USERINFO_WIDE = re.compile(_SCHEME + r"(?P<userinfo>[^/\s]*)@")

# ``password=…``, ``API_TOKEN=…``, ``secret: …``: scrubbed from free text whatever the value.
_ASSIGNMENT = re.compile(
    r"(?i)(?:password|passwd|secret|token|credentials?|(?:session|auth)[_-]?(?:key|token)"
    r"|(?:api|access|secret|private)[_-]?key)"
    r"[\"']?\s*[=:]\s*[\"']?(?P<value>[^\s'\"]+)"  # the quotes of JSON or YAML too
)
# Free text only: any name holding a secret word (``DEPLOY_SESSION_KEY: 5f0c…``, even a
# lowercase-hex value), its value hidden whatever it is. Too wide to refuse a flag by
# (``-DAUTHOR=…``), so a tracked value is judged by :mod:`envsnap.credentials` alone.
# The name is matched whole (from where a word starts, at most 100 characters) and its words
# tested after, so a megabyte-long run of name characters costs a linear scan.
_NAMED_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9_.-])(?P<name>[A-Za-z0-9_.-]{1,100}[\"']?\s*[=:]\s*[\"']?)"
    r"(?P<value>[^\s'\",;]+)"
)

# Free text: a long unbroken run of token characters (an AWS secret key, a JWT part).
_OPAQUE_RUN = re.compile(r"[A-Za-z0-9+/=_-]{32,}")
# Parts of such a run, between '=', that are plainly not secret: a numeric constant
# (0x10100000L, 1234) or a lowercase hex digest (a git SHA).
_PLAIN_PART = re.compile(r"(?:0[xX][0-9A-Fa-f]+|[0-9]+)[uUlL]*|[0-9a-f]+")

# Free text: a UUID or a hex key standing as a word of its own; one joined to a path by '/',
# '-' or '.' is left alone (a machine id's folder, a systemd unit's private folder).
_FREE_KEY = re.compile(r"(?<![A-Za-z0-9/.-])(?:" + UUID + r"|[0-9A-Fa-f]{32,})(?![A-Za-z0-9/.-])")
# ... and a run as random as a key, on the same terms (a Nix hash is a path's folder).
_FREE_RUN = re.compile(r"(?<![A-Za-z0-9_+/.-])[A-Za-z0-9_+-]{20,}(?![A-Za-z0-9_+/.-])")

# The settings file `go env -w` writes, at most this large (go's own is a few hundred bytes).
_GO_ENV_FILE_LIMIT = 1024 * 1024
# Shorter values are not hidden by value: they would hide ordinary words everywhere.
_MIN_SECRET_CHARS = 6


def strip_userinfo(value: str) -> str:
    """Remove ``user:password@`` from every URL inside *value*."""
    return _URL_USERINFO.sub(lambda m: m.group("scheme"), value)


def _is_opaque_secret(run: str) -> bool:
    """A long run of free text that may be a key: once the plainly harmless parts are set aside,
    upper case, lower case and digits are all there (and it is no path or digest we print)."""
    if run.startswith("sha256:") or "/" in run:
        return False
    rest = "=".join(part for part in run.split("=") if not _PLAIN_PART.fullmatch(part))
    return classes(rest) == 3


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace known secret values, URL userinfo and secret-shaped strings with a marker."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, REDACTED)
    text = _URL_USERINFO_WIDE.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
    for pattern in TOKEN_PATTERNS:
        text = pattern.sub(REDACTED, text)
    text = AWS_SECRET.sub(lambda m: REDACTED if is_aws_secret(m) else m.group(0), text)
    text = _ASSIGNMENT.sub(REDACTED, text)  # free text: every assignment, as a safe default
    text = NETRC.sub(REDACTED, text)
    text = BEARER.sub(REDACTED, text)
    text = _NAMED_ASSIGNMENT.sub(_hide_named_value, text)
    text = _FREE_KEY.sub(_hide_free_key, text)
    text = _FREE_RUN.sub(lambda m: REDACTED if is_random_run(m.group(0)) else m.group(0), text)
    return _OPAQUE_RUN.sub(
        lambda m: REDACTED if _is_opaque_secret(m.group(0)) else m.group(0), text
    )


def _hide_named_value(match: re.Match[str]) -> str:
    name, value = match.group("name"), match.group("value")
    if value == REDACTED or not is_secret_name(name):
        return match.group(0)
    return name + REDACTED


def _hide_free_key(match: re.Match[str]) -> str:
    key = match.group(0)
    return REDACTED if "-" in key or is_hex_key(key) else key


def _secret_shaped(value: str) -> bool:
    """*value* holds something :func:`scrub` would hide as free text."""
    return looks_like_credential(value) or any(
        _is_opaque_secret(m.group(0)) for m in _OPAQUE_RUN.finditer(value)
    )


def secret_values(environ: Mapping[str, str]) -> set[str]:
    """What must never leave the machine, from *environ* and the ``go env -w`` file it names:
    every value that is secret-named or secret-shaped, each credential inside a value (hidden
    wherever it appears, quoted or escaped) and each URL's userinfo."""
    found: set[str] = set()
    for name, value in {**go_env_file(environ), **environ}.items():
        stripped = strip_userinfo(value)
        found.update(p for p in credential_parts(stripped, name) if len(p) >= _MIN_SECRET_CHARS)
        if len(value) < _MIN_SECRET_CHARS:
            continue
        if is_secret_name(name) or _secret_shaped(stripped):
            found.add(value)
        for match in _URL_USERINFO_WIDE.finditer(value):
            found.add(match.group("userinfo"))
    return found


def go_env_file(environ: Mapping[str, str]) -> dict[str, str]:
    """The settings in the file ``go env -w`` writes, where go finds it: ``$GOENV``, else the
    user's configuration folder (``os.UserConfigDir``); empty when there is none to read."""
    from envsnap.safeio import read_regular

    path = _go_env_path(environ)
    if path is None:
        return {}
    try:
        text = read_regular(path, _GO_ENV_FILE_LIMIT).decode("utf-8", errors="replace")
    except OSError:
        return {}
    pairs = (line.partition("=") for line in text.splitlines())
    return {key.strip(): value for key, sep, value in pairs if sep and key.strip()}


def _go_env_path(environ: Mapping[str, str]) -> str | None:
    goenv = environ.get("GOENV", "")
    if goenv:
        return None if goenv == "off" else goenv
    folder = user_config_dir(this_goos(), environ)
    return f"{folder}/go/env" if folder else None


def scrub_message(text: str) -> str:
    """An error's text (a tool's stderr, a failed probe) as it may be shown or locked: token
    shapes, URL userinfo and this machine's secret values hidden."""
    import os

    return scrub(text, secret_values(os.environ))
