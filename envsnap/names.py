"""The names of envsnap's own files beside go.mod.

It imports nothing: the clean-verify fast path (:mod:`envsnap.verdict`, :mod:`envsnap.shortcut`,
:mod:`envsnap.checking`) names the lock too.
"""

LOCK_NAME = "envsnap.lock"
CONFIG_NAME = "envsnap.toml"
