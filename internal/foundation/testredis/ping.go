package testredis

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// ping speaks RESP to addr and expects +PONG within timeout. A server that requires a
// password answers -NOAUTH, which is returned as an error that names it.
func ping(addr string, timeout time.Duration) error {
	_, err := exchange(addr, "PING", timeout)
	return err
}

// serverPID asks the server at addr for its process id (INFO server), so that a test never
// takes another server that happens to hold the port for its own.
func serverPID(addr string, timeout time.Duration) (int, error) {
	info, err := exchange(addr, "INFO server", timeout)
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, fmt.Errorf("INFO server names no process_id")
}

// exchange sends one inline command and reads one simple-string or bulk-string reply.
func exchange(addr, command string, timeout time.Duration) (string, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	if _, err := io.WriteString(c, command+"\r\n"); err != nil {
		return "", err
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	switch {
	case strings.HasPrefix(line, "+"):
		return line[1:], nil
	case strings.HasPrefix(line, "$"):
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", fmt.Errorf("%s answered %q", command, line)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return "", fmt.Errorf("%s answered %q", command, line)
}

// answers reports whether an error of ping still proves that a Redis server is there: one
// that asks for a password answers, just not to strangers.
func answers(err error) bool {
	return err == nil || strings.Contains(err.Error(), "NOAUTH") || strings.Contains(err.Error(), "-ERR AUTH")
}
