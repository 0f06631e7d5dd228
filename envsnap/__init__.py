"""envsnap: lock, verify and recreate the cgo toolchain a Go module builds with."""

__version__ = "0.1.0"

#: The name envsnap is published under on PyPI (the command and the import package are `envsnap`;
#: an unrelated project holds the name "envsnap" there).
DISTRIBUTION = "envsnap-cgo"
