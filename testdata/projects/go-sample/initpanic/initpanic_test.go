package initpanic

import "testing"

func init() {
	panic("initpanic: config file testdata/config.json not found")
}

func TestNeverRuns(t *testing.T) {}
