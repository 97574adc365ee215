package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/processor/order"
)

// cmdClients runs the clients-file tools: hash and check.
func cmdClients(args []string, e *env) int {
	const about = `Tools for the clients file (ORDERGATE_CLIENTS_FILE), a JSON array of
` + order.ClientsShape + `

  ordergate clients hash         reads a client secret from standard input and prints its
                                 secretSha256 (a terminal does not echo it; never give a
                                 secret as an argument: it would stay in the shell history)
  ordergate clients check FILE   reads a clients file as the worker does and says what is wrong`
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fs := newFlags(e, "clients", "hash | check FILE", about)
		w := e.stdout
		if len(args) == 0 {
			w = e.stderr
		}
		fs.printUsage(w)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	switch args[0] {
	case "hash":
		return clientsHash(args[1:], e)
	case "check":
		return clientsCheck(args[1:], e)
	}
	fmt.Fprintf(e.stderr, "ordergate clients: unknown tool %q: hash or check\n", args[0])
	return exitUsage
}

// clientsHash prints the secretSha256 of the secret read from standard input.
func clientsHash(args []string, e *env) int {
	fs := newFlags(e, "clients hash", "< SECRET", `Reads a client secret from standard input (one line; a trailing newline is not part of it)
and prints the SHA-256 digest to put in the clients file as "secretSha256". On a terminal it
asks for the secret without echoing it. Example: printf '%s' "$SECRET" | ordergate clients hash`)
	rest, err := fs.parse(args)
	if err != nil {
		return status(err)
	}
	if len(rest) > 0 {
		// The argument is not repeated: it may be the secret.
		fs.fail("the secret is read from standard input, never from an argument (it would stay in the shell history and show in ps)")
		return exitUsage
	}
	secret, err := readSecret(e)
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate clients hash:", err)
		return exitUsage
	}
	if n := len([]rune(secret)); n < 5 {
		fmt.Fprintf(e.stderr, "ordergate clients hash: the secret has %d characters; the worker refuses secrets shorter than 5 (401, code 41)\n", n)
		return exitUsage
	}
	sum := sha256.Sum256([]byte(secret))
	fmt.Fprintln(e.stdout, hex.EncodeToString(sum[:]))
	return exitOK
}

// readSecret reads one secret from standard input: without echo on a terminal, else the
// whole input without its final line break.
func readSecret(e *env) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, "client secret (not shown): ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		return string(b), nil
	}
	b, err := io.ReadAll(bufio.NewReader(io.LimitReader(e.stdin, 1<<20)))
	if err != nil {
		return "", fmt.Errorf("standard input: %w", err)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return "", fmt.Errorf("no secret on standard input (printf '%%s' \"$SECRET\" | ordergate clients hash)")
	}
	if strings.ContainsAny(s, "\r\n") {
		return "", fmt.Errorf("standard input holds several lines: give one secret")
	}
	return s, nil
}

// clientsCheck reads a clients file as the worker does.
func clientsCheck(args []string, e *env) int {
	fs := newFlags(e, "clients check", "FILE", "Reads a clients file as the worker does (at start and on SIGHUP) and says what is wrong, with its line and column.")
	files, err := fs.parse(args)
	if err != nil {
		return status(err)
	}
	if len(files) != 1 {
		fs.fail("give one clients file")
		return exitUsage
	}
	c, err := worker.LoadClients(files[0])
	if err != nil {
		msg := strings.TrimLeft(strings.TrimPrefix(err.Error(), "ORDERGATE_CLIENTS_FILE"), ":= ")
		fmt.Fprintln(e.stderr, "ordergate clients check:", msg)
		return exitFailure
	}
	if w := config.FileOpenToOthers("ORDERGATE_CLIENTS_FILE", files[0]); w != "" {
		fmt.Fprintln(e.stderr, "ordergate clients check: warning:", w)
	}
	fmt.Fprintf(e.stdout, "%s: %d clients\n", files[0], c.Len())
	return exitOK
}
