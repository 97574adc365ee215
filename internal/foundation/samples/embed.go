package samples

import (
	"embed"
	"io/fs"
)

//go:embed requests
var requestsFS embed.FS

// Files returns the sample requests the binary carries (the directory requests/ beside this
// file), so that `ordergate dev` works from any directory.
func Files() fs.FS {
	sub, err := fs.Sub(requestsFS, "requests")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sub
}
