package main

import (
	"fmt"

	"github.com/ordergate/ordergate/internal/foundation/metrics"
)

func cmdVersion(args []string, e *env) int {
	fs := newFlags(e, "version", "", "Prints the version of ordergate, the revision it was built from and the Go release.")
	if _, err := fs.parse(args); err != nil {
		return status(err)
	}
	b := metrics.Build()
	fmt.Fprintf(e.stdout, "ordergate %s (revision %s, %s)\n", b.Version, b.Revision, b.GoVersion)
	return exitOK
}
