// Package worker has the parallel tests of the recorded Go test outputs.
package worker

import "strings"

// Upper upper-cases s.
func Upper(s string) string { return strings.ToUpper(s) }
