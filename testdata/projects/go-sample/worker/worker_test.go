package worker

import (
	"fmt"
	"testing"
	"time"
)

func TestParallelSlow(t *testing.T) {
	t.Parallel()
	time.Sleep(60 * time.Millisecond)
	t.Log("slow parallel test done")
}

func TestParallelFast(t *testing.T) {
	t.Parallel()
	time.Sleep(10 * time.Millisecond)
	if got := Upper("go"); got != "GO" {
		t.Errorf("Upper = %q", got)
	}
}

func TestParallelSubtests(t *testing.T) {
	for i, name := range []string{"first", "second", "third"} {
		i, name := i, name
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			time.Sleep(time.Duration(30-10*i) * time.Millisecond)
			t.Logf("parallel subtest %s", name)
			if name == "second" {
				t.Errorf("parallel subtest %s failed", name)
			}
		})
	}
}

func TestSequential(t *testing.T) {
	fmt.Println("sequential test runs while the parallel ones are paused")
}

// TestNoNewline prints output that does not end in a newline.
func TestNoNewline(t *testing.T) {
	fmt.Print("partial line without newline")
}
