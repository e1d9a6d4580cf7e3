package calc

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

func TestAdd(t *testing.T) {
	if got := Add(2, 3); got != 5 {
		t.Errorf("Add(2, 3) = %d, want 5", got)
	}
}

// TestAddFails reports two errors with t.Errorf and runs to the end.
func TestAddFails(t *testing.T) {
	if got := Add(2, 2); got != 5 {
		t.Errorf("Add(2, 2) = %d, want 5", got)
	}
	t.Errorf("second error\nwith a second line")
}

// TestMulFatal stops at t.Fatalf.
func TestMulFatal(t *testing.T) {
	t.Log("before the fatal error")
	if got := Mul(3, 3); got != 10 {
		t.Fatalf("Mul(3, 3) = %d, want %d", got, 10)
	}
	t.Log("never printed")
}

func assertEqual(t *testing.T, got, want int) {
	t.Helper()
	if got != want {
		t.Errorf("got %d, want %d", got, want)
	}
}

// TestHelperFails fails inside a t.Helper() function: the location is this test's line.
func TestHelperFails(t *testing.T) {
	assertEqual(t, Mul(2, 3), 7)
}

func TestSubtests(t *testing.T) {
	t.Run("passes", func(t *testing.T) {})
	t.Run("with spaces in name", func(t *testing.T) {
		t.Log("the name has spaces")
	})
	t.Run("with/slash", func(t *testing.T) {})
	t.Run("nested", func(t *testing.T) {
		t.Run("level two", func(t *testing.T) {
			t.Run("fails deep", func(t *testing.T) {
				t.Error("failure three levels down")
			})
			t.Run("passes deep", func(t *testing.T) {})
		})
	})
	t.Run("dup", func(t *testing.T) {})
	t.Run("dup", func(t *testing.T) {})
	t.Run("skipped", func(t *testing.T) {
		t.Skip("subtest skipped: not on this platform")
	})
}

func TestDivTable(t *testing.T) {
	tests := []struct {
		name string
		a, b int
		want int
	}{
		{"6/3", 6, 3, 2},
		{"7 / 2 rounds down", 7, 2, 3},
		{"wrong expectation", 1, 1, 2},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			if got := Div(tt.a, tt.b); got != tt.want {
				t.Errorf("Div(%d, %d) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestSkipped(t *testing.T) {
	t.Log("checking for a database")
	t.Skip("needs a database")
}

func TestOutput(t *testing.T) {
	fmt.Println("fmt.Println to stdout")
	fmt.Fprintln(os.Stderr, "fmt.Fprintln to stderr")
	t.Log("t.Log line")
	t.Logf("t.Logf value=%d", 42)
	t.Log("multi\nline log")
}

// TestFlaky fails on its first attempt and passes afterwards. The attempt
// counter lives in /tmp/flaky-sample-go, which the recording deletes before each run.
func TestFlaky(t *testing.T) {
	const counter = "/tmp/flaky-sample-go"
	n := 0
	if b, err := os.ReadFile(counter); err == nil {
		n, _ = strconv.Atoi(string(b))
	}
	n++
	if err := os.WriteFile(counter, []byte(strconv.Itoa(n)), 0o644); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("flaky attempt %d\n", n)
	if n == 1 {
		t.Fatalf("flaky: fails on attempt %d", n)
	}
}
