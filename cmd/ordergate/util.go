package main

import (
	"errors"
	"os"
	"syscall"
)

const syscallZero = syscall.Signal(0)

func asPathError(err error, target **os.PathError) bool { return errors.As(err, target) }

// processAlive reports whether a process with that pid exists.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscallZero) == nil
}
