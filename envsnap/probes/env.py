"""Allowlisted environment variables: read one by one, never the whole environment."""

from __future__ import annotations

from collections.abc import Iterable

from envsnap.host import Host
from envsnap.vocabulary import ENV_ALLOWLIST as ALLOWLIST


def probe_env(host: Host, extra: Iterable[str] = ()) -> dict[str, str]:
    names = dict.fromkeys([*ALLOWLIST, *extra])
    values = {}
    for name in names:
        value = host.getenv(name)
        if value is not None:
            values[name] = value
    return values
