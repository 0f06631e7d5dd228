"""``envsnap doctor``: why ``go run`` works and ``go test`` does not; no lock needed.

The facts come from :mod:`envsnap.doctor.gather`, the checks from :func:`envsnap.doctor.diagnose`
and the report from :mod:`envsnap.doctor.render`. Exit 0 without a problem, 1 with.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from envsnap.commands import SUMMARIES
from envsnap.config import Config, Variant, load_config
from envsnap.doctor import diagnose, exit_code
from envsnap.doctor.gather import gather, with_lock
from envsnap.doctor.render import render_json, render_text
from envsnap.errors import ConfigError, NotInModule
from envsnap.host import Host, LocalHost
from envsnap.module import find_module_root
from envsnap.variants import user_goflags, variant_host
from envsnap.workspace import make_host


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    parser = subparsers.add_parser(
        "doctor",
        parents=[common],
        help=SUMMARIES["doctor"],
    )
    parser.add_argument("--json", action="store_true", help="print a JSON document")
    parser.add_argument(
        "--variant",
        metavar="NAME",
        help="diagnose this build variant (its tags and packages) and check only its lock "
        "entry (default: the default build, and every variant's entry)",
    )


def run(args: argparse.Namespace) -> int:
    directory = Path(args.directory).absolute()
    if not directory.is_dir():
        raise NotInModule(f"{directory} is not a directory", "pass an existing directory with -C")
    build = diagnosed_variant(directory, args.variant)
    host = make_host(args)
    try:
        facts = gather(build_host(host, build, directory), str(directory), build.packages)
        checks = diagnose(with_lock(facts, host, directory, args.variant))
    finally:
        if isinstance(host, LocalHost):
            host.close()
    render = render_json if args.json else render_text
    sys.stdout.write(render(facts, checks))
    return exit_code(checks)


def diagnosed_variant(directory: Path, wanted: str | None) -> Variant:
    """The build doctor diagnoses: *wanted* (envsnap.toml must then be readable and declare
    it), else the default build with envsnap.toml's packages (the whole module without one;
    the lock check reports a broken envsnap.toml)."""
    try:
        config = load_config(find_module_root(directory))
    except NotInModule:
        config = Config()
    except ConfigError:
        if wanted:
            raise
        config = Config()
    return config.variant(wanted) if wanted else config.default


def build_host(host: Host, variant: Variant, directory: Path) -> Host:
    """*host* with GOFLAGS carrying the variant's tags (itself without tags, or without go)."""
    if not variant.tags:
        return host
    go = host.which("go")
    module_dir = host.module_dir(str(directory))
    return variant_host(host, variant, user_goflags(host, go, module_dir) if go else "")
