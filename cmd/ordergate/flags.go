package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/ordergate/ordergate/config"
)

// flags are a command's flags, parsed as users of Go command-line tools expect: flags may
// come before, between or after the other arguments (`validate FILE --pretty`), "--" ends
// them, "-" is an argument (standard input), -name and --name are the same flag, and an
// unknown flag gets a "did you mean". The flags are declared on the embedded
// flag.FlagSet as usual; only its parsing and usage printing are replaced.
type flags struct {
	*flag.FlagSet
	e       *env
	command string          // "produce"
	usage   string          // "[flags] FILE...", after "Usage: ordergate COMMAND "
	about   string          // what the command does, printed under the usage line
	secret  map[string]bool // flags whose values are never echoed (-H client_secret=...)
}

func newFlags(e *env, command, usage, about string) *flags {
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // messages are written by parse
	return &flags{FlagSet: fs, e: e, command: command, usage: usage, about: about, secret: map[string]bool{}}
}

// errHelp reports that the user asked for the usage.
var errHelp = flag.ErrHelp

// parse sets the flags found in args and returns the other arguments, in order. On -h or
// --help it prints the usage to standard output and returns errHelp; on a bad flag it
// prints one line and the usage line to standard error. status turns its error into the
// exit status.
func (f *flags) parse(args []string) ([]string, error) {
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			rest = append(rest, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if name == "" || name[0] == '-' {
			return nil, f.fail(fmt.Sprintf("bad flag syntax %q", a))
		}
		if name == "h" || name == "help" {
			f.printUsage(f.e.stdout)
			return nil, errHelp
		}
		fl := f.Lookup(name)
		if fl == nil {
			msg := "unknown flag " + dashes(name)
			var names []string
			f.VisitAll(func(fl *flag.Flag) { names = append(names, fl.Name) })
			if s := config.Closest(name, names); s != "" {
				msg += " (did you mean " + dashes(s) + "?)"
			}
			return nil, f.fail(msg)
		}
		switch {
		case hasValue:
		case isBool(fl):
			value = "true"
		case i+1 < len(args):
			i++
			value = args[i]
		default:
			return nil, f.fail("flag " + dashes(name) + " needs a value")
		}
		if err := f.Set(name, value); err != nil {
			shown := fmt.Sprintf("%q", value)
			if f.secret[name] {
				shown = "(not shown: it may hold a secret)"
			}
			return nil, f.fail(fmt.Sprintf("invalid value %s for %s: %v", shown, dashes(name), err))
		}
	}
	return rest, nil
}

// parseNoArgs parses args for a command that takes flags only.
func (f *flags) parseNoArgs(args []string) error {
	rest, err := f.parse(args)
	if err == nil && len(rest) > 0 {
		err = f.fail(fmt.Sprintf("unexpected argument %q", rest[0]))
	}
	return err
}

// fail prints a usage error on one line, with where to find the usage, and returns an
// error that status turns into exitUsage.
func (f *flags) fail(msg string) error {
	fmt.Fprintf(f.e.stderr, "ordergate %s: %s; see ordergate %s -h\n", f.command, msg, f.command)
	return errors.New(msg)
}

// failUsage prints a usage error followed by the whole usage (for a command run without
// what it needs), and returns an error that status turns into exitUsage.
func (f *flags) failUsage(msg string) error {
	fmt.Fprintf(f.e.stderr, "ordergate %s: %s\n\n", f.command, msg)
	f.printUsage(f.e.stderr)
	return errors.New(msg)
}

// status is the exit status after a parse error: 0 when the usage was asked for, 2
// otherwise.
func status(err error) int {
	if errors.Is(err, errHelp) {
		return exitOK
	}
	return exitUsage
}

// printUsage writes the usage line, what the command does, and its flags as --name VALUE.
func (f *flags) printUsage(w io.Writer) {
	fmt.Fprintln(w, strings.TrimSpace("Usage: ordergate "+f.command+" "+f.usage))
	if f.about != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(f.about))
	}
	first := true
	f.VisitAll(func(fl *flag.Flag) {
		if first {
			fmt.Fprintln(w, "\nFlags (before or after the other arguments):")
			first = false
		}
		placeholder, usage := flag.UnquoteUsage(fl)
		line := "  " + dashes(fl.Name)
		if !isBool(fl) {
			line += " " + strings.ToUpper(placeholder)
		}
		if !isZeroValue(fl) {
			usage += fmt.Sprintf(" (default %s)", fl.DefValue)
		}
		fmt.Fprintf(w, "%-28s %s\n", line, usage)
	})
}

// dashes writes a flag name as users type it: -H for one letter, --name otherwise.
func dashes(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

func isBool(fl *flag.Flag) bool {
	b, ok := fl.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// isZeroValue reports whether a flag's default is its type's zero value (not worth
// printing), as the flag package decides it.
func isZeroValue(fl *flag.Flag) bool {
	typ := reflect.TypeOf(fl.Value)
	var z reflect.Value
	if typ.Kind() == reflect.Pointer {
		z = reflect.New(typ.Elem())
	} else {
		z = reflect.Zero(typ)
	}
	zero, ok := z.Interface().(flag.Value)
	return ok && fl.DefValue == zero.String() || fl.DefValue == "" || fl.DefValue == "0" || fl.DefValue == "false"
}
