package config

import (
	"errors"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// prefix starts the name of every variable.
const prefix = "ORDERGATE_"

// variable describes one environment variable, taken from a Config field's tags.
type variable struct {
	name    string       // the envconfig tag: the full name, ORDERGATE_ included
	def     string       // default tag, "" when unset by default
	desc    string       // desc tag
	index   int          // field index in Config
	typ     reflect.Type // field type
	secret  bool         // a Secret field
	maskURL bool         // shown as a URL with its secrets masked (MaskURL)
	alone   reflect.Type // a struct of this field alone, for envconfig.Process
}

// variables lists every variable in the field order of Config.
var variables = describe()

func describe() []variable {
	t := reflect.TypeFor[Config]()
	vars := make([]variable, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		vars = append(vars, variable{
			name:    f.Tag.Get("envconfig"),
			def:     f.Tag.Get("default"),
			desc:    f.Tag.Get("desc"),
			index:   i,
			typ:     f.Type,
			secret:  f.Type == reflect.TypeFor[Secret](),
			maskURL: f.Tag.Get("mask") == "url",
			alone:   reflect.StructOf([]reflect.StructField{{Name: f.Name, Type: f.Type, Tag: f.Tag}}),
		})
	}
	return vars
}

// Load reads the configuration from the process environment with
// envconfig.Process and validates it.
//
// Every envconfig tag of Config is a full variable name and Load gives
// envconfig an empty prefix. envconfig reads a field from PREFIX_TAG and,
// when that is unset, from the bare TAG; with no prefix the two are the same
// name, so a REDIS_URL or LOG_LEVEL meant for another program is never read.
//
// The warnings name unknown ORDERGATE_* variables (likely typos) and
// settings that work but are probably not meant; they are returned with the
// error too, since a typo often explains it. The error reports every bad
// variable: an *Error when there is one, an Errors (one line each, in the
// contract's order) when there are several.
func Load() (Config, []string, error) {
	c, warnings, errs := LoadPartial()
	if len(errs) > 0 {
		return Config{}, warnings, errs.err()
	}
	return c, warnings, nil
}

// LoadPartial is Load for diagnostics (`ordergate doctor`): it returns every
// value that could be read and checked, the variables named in errs left at
// their zero value, so that a caller can still check what does not depend on
// them.
func LoadPartial() (Config, []string, Errors) {
	warnings := unknownVariables(os.Environ())
	var c Config
	var errs Errors
	fields := reflect.ValueOf(&c).Elem()
	for _, v := range variables {
		// envconfig stops at the first value it cannot parse: each variable is read
		// on its own, so that every bad value is reported.
		one := reflect.New(v.alone)
		if err := envconfig.Process("", one.Interface()); err != nil {
			errs.add(parseError(err))
			continue
		}
		fields.Field(v.index).Set(one.Elem().Field(0))
	}
	errs.add(checkAsGiven(&c))
	errs.add(validate(&c))
	if len(errs) > 0 {
		return c, warnings, errs.sorted()
	}
	return c, append(warnings, c.advice()...), nil
}

// parseError rewrites an *envconfig.ParseError into an *Error naming the
// variable, its value masked as the variable requires. envconfig's own
// message spans the field name, the Go type and the parser's error, which
// quotes the value unmasked.
func parseError(err error) error {
	var pe *envconfig.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	v, ok := variableNamed(pe.KeyName)
	if !ok {
		return err // not a field of Config: cannot happen
	}
	var reason string
	switch v.typ {
	case reflect.TypeFor[time.Duration]():
		reason = "not a duration (e.g. 10m, 30s)"
	case reflect.TypeFor[bool]():
		reason = "not a boolean (true or false)"
	case reflect.TypeFor[int]():
		switch {
		case errors.Is(pe.Err, strconv.ErrRange):
			reason = "integer out of range"
		case hasLeadingZero(strings.TrimLeft(pe.Value, "+-")):
			reason = "not a decimal integer" // such as 08, octal to envconfig
		default:
			reason = "not an integer"
		}
	case reflect.TypeFor[ByteSize]():
		reason = pe.Err.Error()
	default:
		reason = "not a valid " + pe.TypeName
	}
	if strings.TrimSpace(pe.Value) != pe.Value {
		reason += ": remove the spaces around the value"
	}
	return v.error(pe.Value, reason)
}

// checkAsGiven applies to c, in the contract's order, the rules on values as
// written that envconfig does not apply, and returns every problem found.
// Every duration of the worker is a timeout, a TTL or a bound, so zero or
// negative is refused for all of them, except 0 for a duration whose default
// is 0s (a feature 0 turns off).
// An integer must be written in decimal: envconfig also takes Go's 0x, 0o
// and 0b literals and underscores, and reads 010 as octal 8.
func checkAsGiven(c *Config) error {
	var errs Errors
	fields := reflect.ValueOf(c).Elem()
	for _, v := range variables {
		raw, ok := os.LookupEnv(v.name)
		if !ok {
			raw = v.def
		}
		switch x := fields.Field(v.index).Interface().(type) {
		case time.Duration:
			// A duration whose default is 0s is a feature that 0 turns off.
			if x < 0 || x == 0 && v.def != "0s" {
				errs.add(v.error(raw, "must be greater than 0"))
			}
		case int:
			if !isDecimal(raw) {
				errs.add(v.error(raw, "not a decimal integer"))
			}
		}
	}
	return errs.err()
}

// isDecimal reports whether s is an optional sign and decimal digits, with
// no leading zero.
func isDecimal(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	return s != "" && !hasLeadingZero(s) && strings.Trim(s, "0123456789") == ""
}

// hasLeadingZero reports whether s is 0 followed by more characters.
func hasLeadingZero(s string) bool {
	return len(s) > 1 && s[0] == '0'
}

// error returns an *Error for v whose value is raw, masked as v requires.
// The reason is scrubbed of the secrets of raw too: it may come from a
// library that quotes part of the value (go-redis names the database number
// it could not read, which is the tail of a password holding a '/').
func (v variable) error(raw, reason string) *Error {
	return &Error{Name: v.name, Value: v.show(raw), Reason: oneLine(scrubAll(reason, v.secrets(raw)))}
}

// secrets returns the texts of raw that must not be shown.
func (v variable) secrets(raw string) []string {
	switch {
	case v.maskURL:
		return urlSecrets(raw)
	case v.secret && raw != "":
		return []string{raw}
	}
	return nil
}

// show masks raw as v requires: a URL keeps all but its secrets (MaskURL),
// another secret shows as *** when set.
func (v variable) show(raw string) string {
	switch {
	case v.maskURL:
		return MaskURL(raw)
	case v.secret:
		return Secret(raw).String()
	}
	return raw
}

// variableNamed returns the variable named name, if any.
func variableNamed(name string) (variable, bool) {
	for _, v := range variables {
		if v.name == name {
			return v, true
		}
	}
	return variable{}, false
}

// lookup returns the variable named name; it panics on an unknown name,
// which is a bug in this package.
func lookup(name string) variable {
	v, ok := variableNamed(name)
	if !ok {
		panic("config: unknown variable " + name)
	}
	return v
}

// errorf returns an *Error for the variable named name.
func errorf(name, raw, reason string) *Error {
	return lookup(name).error(raw, reason)
}

// oneLine collapses the white space of s, new lines included, to single spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
