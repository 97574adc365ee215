// Package syncbuf is a buffer safe for concurrent use: the output of a process or a logger
// that one goroutine writes while another reads it.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer collects output; it is safe for concurrent use. The zero value is empty.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
