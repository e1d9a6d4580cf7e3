package crash

import (
	"fmt"
	"testing"
)

func TestBeforePanic(t *testing.T) {
	t.Log("runs before the panic")
}

// TestParallelPaused is paused until the sequential tests finish, which never happens.
func TestParallelPaused(t *testing.T) {
	t.Parallel()
	t.Log("never resumes")
}

func TestPanics(t *testing.T) {
	fmt.Println("about to panic")
	var m map[string]int
	m["key"] = 1
}

// TestAfterPanic never runs: the panic ends the test binary.
func TestAfterPanic(t *testing.T) {}
