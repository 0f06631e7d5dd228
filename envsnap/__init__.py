"""envsnap: lock, verify and recreate the cgo toolchain a Go module builds with."""

__version__ = "0.1.0"
