package mainexit

import (
	"fmt"
	"os"
	"testing"
)

// TestMain runs the tests, which pass, then fails a leak check and exits 1.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		fmt.Println("TestMain: leak check failed: 1 goroutine still running")
		code = 1
	}
	os.Exit(code)
}

func TestPassesInMainExit(t *testing.T) {}
