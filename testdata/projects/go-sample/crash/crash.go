// Package crash has a test that panics, which stops its whole test binary.
package crash
