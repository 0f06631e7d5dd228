"""What every command starts from: the module, its lock, its settings and the host to probe."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from envsnap.config import Config, load_config
from envsnap.host import Host, LocalHost, ReplayHost
from envsnap.lockfile import LOCK_NAME
from envsnap.module import find_module_root


@dataclass
class Workspace:
    module_root: Path
    config: Config
    host: Host

    @property
    def lock_path(self) -> Path:
        return self.module_root / LOCK_NAME

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Workspace:
        root = find_module_root(Path(args.directory))
        return cls(root, load_config(root), make_host(args))

    def close(self) -> None:
        if isinstance(self.host, LocalHost):
            self.host.close()


def make_host(args: argparse.Namespace) -> Host:
    replay = getattr(args, "replay", None)
    if replay:
        return ReplayHost(Path(replay))
    from envsnap.prefetch import taken_host

    return taken_host() or LocalHost()
