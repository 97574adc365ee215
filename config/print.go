package config

import (
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
)

// Write prints the effective configuration, one ORDERGATE_NAME=value line per
// variable in the contract's order. A secret shows as *** when set and empty
// when unset; a URL shows its user name but not its password.
func (c Config) Write(w io.Writer) error {
	fields := reflect.ValueOf(c)
	var b strings.Builder
	for _, v := range variables {
		value := v.show(format(fields.Field(v.index)))
		if strings.ContainsFunc(value, unicode.IsControl) {
			value = strconv.Quote(value) // keep one variable per line
		}
		fmt.Fprintf(&b, "%s=%s\n", v.name, value)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteReference prints the reference of every variable, one per line in the
// contract's order under a header: name, default and meaning (with the unit).
// It is generated from the tags of Config, so it cannot drift from the code.
func WriteReference(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tDEFAULT\tMEANING")
	for _, v := range variables {
		def := v.def
		if def == "" {
			def = "(unset)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", v.name, def, v.desc)
	}
	return tw.Flush()
}

// format returns a field's value as it would be written in the environment.
func format(field reflect.Value) string {
	switch v := field.Interface().(type) {
	case []string:
		return strings.Join(v, ",")
	case time.Duration:
		return formatDuration(v)
	case Secret:
		return string(v) // masked by the caller
	}
	return fmt.Sprint(field.Interface())
}

// formatDuration writes d without the zero units of time.Duration.String:
// 10m rather than 10m0s, 1h rather than 1h0m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// maskPassword replaces the password of a URL's user information with ***,
// keeping the user name, and any copy of the password elsewhere in the URL.
func maskPassword(raw string) string {
	head, user, password, tail := splitUserinfo(raw)
	if password == "" {
		return raw
	}
	return head + user + ":***" + strings.ReplaceAll(tail, password, "***")
}

// splitUserinfo splits raw as head + user + ":" + password + tail, password
// "" when raw has none. It works on text that does not parse as a URL too
// (user:password@host, a bad escape...), so that an error about an invalid
// URL cannot show its password: whatever sits between "scheme://" and the
// last "@" is taken as the user information.
func splitUserinfo(raw string) (head, user, password, tail string) {
	start := 0
	if i := strings.Index(raw, "://"); i >= 0 {
		start = i + len("://")
	}
	at := strings.LastIndex(raw[start:], "@")
	if at < 0 {
		return raw, "", "", ""
	}
	user, password, _ = strings.Cut(raw[start:start+at], ":")
	return raw[:start], user, password, raw[start+at:]
}
