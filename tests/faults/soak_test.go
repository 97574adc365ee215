//go:build long

package faults

import (
	"testing"
	"time"
)

// TestNetworkFaultsSoak is the network matrix at length: 20,000 records a row, each fault
// held 30 s. Run it with `make soak` (build tag long); `make test` runs the short rows.
func TestNetworkFaultsSoak(t *testing.T) {
	runNetworkFaults(t, 20000, 30*time.Second)
}
