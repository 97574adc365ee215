// Package ordergate holds the files the binary carries: the sample requests of
// testdata/samples, so that `ordergate dev` works from any directory.
package ordergate

import (
	"embed"
	"io/fs"
)

//go:embed testdata/samples
var samplesFS embed.FS

// Samples returns the samples directory (see package samples).
func Samples() fs.FS {
	sub, err := fs.Sub(samplesFS, "testdata/samples")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sub
}
