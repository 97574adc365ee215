package deploy

import (
	"errors"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// root is the repository's root directory.
var root = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}()

// repoPath returns a repository path as a file path.
func repoPath(rel string) string { return filepath.Join(root, filepath.FromSlash(rel)) }

// cannotInstall is the exit status of an ensure script that cannot install its tool on this
// machine (no package manager, no root): the test that needs it is skipped, saying why.
const cannotInstall = 77

// tool is a program installed by a scripts/ensure-*.sh script, once per test process.
type tool struct {
	script string
	once   sync.Once
	path   string
	skip   string // why it cannot be installed here
	err    error
}

var (
	helmTool   = &tool{script: "scripts/ensure-helm.sh"}
	podmanTool = &tool{script: "scripts/ensure-podman.sh"}
)

// get runs the script (instant when the tool is there) and returns the tool's path. It skips
// the test only when the script says the tool cannot be installed on this machine.
func (tl *tool) get(t *testing.T) string {
	t.Helper()
	tl.once.Do(func() {
		var stderr strings.Builder
		cmd := exec.Command("bash", repoPath(tl.script))
		cmd.Dir, cmd.Stderr = root, &stderr
		out, err := cmd.Output()
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit) && exit.ExitCode() == cannotInstall:
			tl.skip = strings.TrimSpace(stderr.String())
		case err != nil:
			tl.err = errors.New(tl.script + ": " + err.Error() + "\n" + stderr.String())
		default:
			tl.path = strings.TrimSpace(string(out))
		}
	})
	if tl.skip != "" {
		t.Skipf("%s cannot install its tool on this machine: %s", tl.script, tl.skip)
	}
	if tl.err != nil {
		t.Fatal(tl.err)
	}
	return tl.path
}
