package main

import (
	"fmt"
	"io"
	"time"
)

// progress shows how far a long read has gone, on one line of standard error that it
// rewrites, only when standard error is a terminal (never in logs or pipes).
type progress struct {
	w    io.Writer
	what string
	on   bool
	last time.Time
	// shown reports that a line is on screen (to clear).
	shown bool
}

func newProgress(e *env, what string) *progress {
	return &progress{w: e.stderr, what: what, on: isTerminal(e.stderr)}
}

// update shows done of total, at most ten times a second, and always the last one.
func (p *progress) update(done, total int) {
	if !p.on || (done < total && time.Since(p.last) < 100*time.Millisecond) {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "\r%s: %d/%d records\033[K", p.what, done, total)
	p.shown = true
}

// done clears the line.
func (p *progress) done() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}
