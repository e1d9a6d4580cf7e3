// Package initpanic has a test file whose init() panics before any test runs.
package initpanic
