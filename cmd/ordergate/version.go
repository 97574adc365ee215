package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

func cmdVersion(_ []string, e *env) int {
	version, revision := "devel", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	fmt.Fprintf(e.stdout, "ordergate %s (revision %s, %s)\n", version, revision, runtime.Version())
	return exitOK
}
