"""Build variants: lock keys, the build tags in GOFLAGS, and the host a variant is probed on.

A variant's lock entry is keyed ``GOOS-GOARCH+NAME`` (the default variant keeps the plain
``GOOS-GOARCH`` key, so locks written before variants existed stay valid). A variant is probed on
the same host with ``GOFLAGS`` carrying its tags next to the ones the user's GOFLAGS already has,
so every go command a probe runs (``go env``, ``go list``, …) sees them, and the memo of probes
(keyed by the environment) keeps variants apart.
"""

from __future__ import annotations

from envsnap import quoted
from envsnap.config import DEFAULT_VARIANT, Variant
from envsnap.errors import EnvsnapError, HostError
from envsnap.host import Host, LocalHost

SEPARATOR = "+"
GO_ENV_TIMEOUT = 20.0
_TAG_FLAGS = ("-tags=", "--tags=")


def entry_key(platform: str, variant: str) -> str:
    """The lock key of *variant* on *platform*: ``linux-amd64`` or ``linux-amd64+withz``."""
    return platform if variant == DEFAULT_VARIANT else f"{platform}{SEPARATOR}{variant}"


def split_key(key: str) -> tuple[str, str]:
    """A lock key's platform and variant name."""
    platform, sep, variant = key.partition(SEPARATOR)
    return platform, (variant if sep else DEFAULT_VARIANT)


def tags_flag(value: str) -> list[str]:
    """The build tags of ``-tags=VALUE`` as go reads them (cmd/go's tagsFlag): split like a flag
    variable (envsnap.quoted) where VALUE holds a space or a single quote (go 1.12's
    ``-tags='a b'``), else at commas, empty tags dropped. :class:`quoted.UnterminatedQuote`
    where go refuses the value."""
    if " " in value or "'" in value:
        return quoted.split(value)
    return [tag for tag in value.split(",") if tag]


def goflags_tags(goflags: str) -> list[str]:
    """The build tags GOFLAGS sets (its last ``-tags=`` wins, as in go's flag parsing), sorted;
    none where go cannot split GOFLAGS or its -tags (every go command refuses them, and says so
    where the probes run it)."""
    tags: list[str] = []
    try:
        for word in quoted.split(goflags):
            for flag in _TAG_FLAGS:
                if word.startswith(flag):
                    tags = tags_flag(word[len(flag) :])
    except quoted.UnterminatedQuote:
        return []
    return sorted(set(tags))


def with_tags(goflags: str, tags: tuple[str, ...]) -> str:
    """*goflags* with its ``-tags`` replaced by the union of its tags and *tags*."""
    kept = [w for w in goflags.split() if not w.startswith(_TAG_FLAGS)]
    union = sorted(set(goflags_tags(goflags)) | set(tags))
    return " ".join([*kept, f"-tags={','.join(union)}"])


def user_goflags(host: Host, go: str, module_dir: str) -> str:
    """GOFLAGS as the user's go reads it (environment, else the ``go env -w`` file)."""
    result = host.run([go, "env", "GOFLAGS"], cwd=module_dir, timeout=GO_ENV_TIMEOUT)
    if not result.ok:
        raise HostError(f"cannot read GOFLAGS: {result.describe_failure()}", "run `go env` by hand")
    return result.out.strip()


def variant_host(host: Host, variant: Variant, goflags: str) -> Host:
    """The host on which *variant* is probed: *host* itself for a variant without tags, else
    *host* with GOFLAGS (the user's *goflags*) carrying the variant's tags too."""
    if not variant.tags:
        return host
    if not isinstance(host, LocalHost):
        raise EnvsnapError(
            f"variant {variant.name} cannot be probed on a replayed host (its tags must reach "
            "the go commands)",
            "verify variants on the machine itself, or pass --variant default",
        )
    return host.with_environment({"GOFLAGS": with_tags(goflags, variant.tags)})
