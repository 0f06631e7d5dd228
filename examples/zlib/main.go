//go:build ignore

// Run with `go run main.go` to see the linked zlib version.
package main

import (
	"fmt"

	"example.com/envsnap/zlib"
	"example.com/envsnap/zlib/mathx"
)

func main() {
	fmt.Println("zlib", zlib.Version(), "hypot(3,4) =", mathx.Hypot(3, 4))
}
