// Package zlib reports the version of the system zlib, found through pkg-config.
package zlib

// #cgo pkg-config: zlib
// #include <zlib.h>
import "C"

// Version is the version string of the zlib library the binary is linked against.
func Version() string { return C.GoString(C.zlibVersion()) }
