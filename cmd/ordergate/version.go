package main

import (
	"fmt"

	"github.com/ordergate/ordergate/internal/foundation/metrics"
)

func cmdVersion(_ []string, e *env) int {
	b := metrics.Build()
	fmt.Fprintf(e.stdout, "ordergate %s (revision %s, %s)\n", b.Version, b.Revision, b.GoVersion)
	return exitOK
}
