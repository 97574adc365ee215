package config

import (
	"errors"
	"slices"
	"strings"
)

// Errors are every problem of a configuration, at most one per variable, in the
// contract's order: a user fixes them all in one go instead of one per run. Load returns
// an Errors only when there are several problems (one is returned as its *Error); its
// message is one line per problem.
type Errors []*Error

// Error returns one line per problem.
func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, err := range e {
		lines[i] = err.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap gives errors.As and errors.Is each problem.
func (e Errors) Unwrap() []error {
	out := make([]error, len(e))
	for i, err := range e {
		out[i] = err
	}
	return out
}

// Has reports whether a problem names the variable.
func (e Errors) Has(name string) bool {
	return slices.ContainsFunc(e, func(err *Error) bool { return err.Name == name })
}

// AsErrors returns the problems err holds: an Errors, one *Error, or none when err is
// of another kind (or nil).
func AsErrors(err error) Errors {
	var list Errors
	if errors.As(err, &list) {
		return list
	}
	var one *Error
	if errors.As(err, &one) {
		return Errors{one}
	}
	return nil
}

// add records err, an *Error or an Errors (nil is ignored), keeping the first problem of
// each variable: a value that could not be parsed is not reported again by a check that
// sees its zero value.
func (e *Errors) add(err error) {
	for _, p := range AsErrors(err) {
		if !e.Has(p.Name) {
			*e = append(*e, p)
		}
	}
}

// sorted returns the problems in the contract's order of their variables.
func (e Errors) sorted() Errors {
	slices.SortStableFunc(e, func(a, b *Error) int { return variableIndex(a.Name) - variableIndex(b.Name) })
	return e
}

// variableIndex is the position of a variable in Config.
func variableIndex(name string) int {
	for i, v := range variables {
		if v.name == name {
			return i
		}
	}
	return len(variables)
}

// err returns nil, the one *Error, or e.
func (e Errors) err() error {
	switch len(e) {
	case 0:
		return nil
	case 1:
		return e[0]
	}
	return e
}
