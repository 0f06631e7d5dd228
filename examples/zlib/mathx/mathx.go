// Package mathx calls the C math library through a plain -lm link flag.
package mathx

// #cgo LDFLAGS: -lm
// #include <math.h>
import "C"

// Hypot returns sqrt(x*x + y*y) computed by libm.
func Hypot(x, y float64) float64 { return float64(C.hypot(C.double(x), C.double(y))) }
