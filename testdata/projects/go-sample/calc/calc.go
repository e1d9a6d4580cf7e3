// Package calc is a tiny library for the recorded Go test outputs.
package calc

// Add returns a + b.
func Add(a, b int) int { return a + b }

// Mul returns a * b.
func Mul(a, b int) int { return a * b }

// Div returns a / b (integer division).
func Div(a, b int) int { return a / b }
