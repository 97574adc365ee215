package config

import (
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
)

// Setting is one variable of the effective configuration as printed: its full name and
// its value as it would be written in the environment, secrets masked.
type Setting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Settings returns every variable of c in the contract's order, as Write prints them. A
// secret shows as *** when set and empty when unset; a URL shows all but its secrets
// (MaskURL).
func (c Config) Settings() []Setting {
	fields := reflect.ValueOf(c)
	out := make([]Setting, len(variables))
	for i, v := range variables {
		out[i] = Setting{Name: v.name, Value: v.show(v.format(fields.Field(v.index)))}
	}
	return out
}

// Write prints the effective configuration, one ORDERGATE_NAME=value line per
// variable in the contract's order (see Settings).
func (c Config) Write(w io.Writer) error {
	var b strings.Builder
	for _, s := range c.Settings() {
		value := s.Value
		if strings.ContainsFunc(value, unicode.IsControl) {
			value = strconv.Quote(value) // keep one variable per line
		}
		fmt.Fprintf(&b, "%s=%s\n", s.Name, value)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// LogValue logs the configuration as Write prints it, one attribute per variable: the
// configuration line of `ordergate run` masks a URL's secrets only, as `ordergate config`
// does, instead of the whole value.
func (c Config) LogValue() slog.Value {
	settings := c.Settings()
	attrs := make([]slog.Attr, len(settings))
	for i, s := range settings {
		attrs[i] = slog.String(s.Name, s.Value)
	}
	return slog.GroupValue(attrs...)
}

// Reference is the documentation of one variable, from the tags of Config.
type Reference struct {
	Name    string `json:"name"`
	Default string `json:"default"` // "" when unset by default
	Meaning string `json:"meaning"`
}

// References returns the reference of every variable in the contract's order.
func References() []Reference {
	out := make([]Reference, len(variables))
	for i, v := range variables {
		out[i] = Reference{Name: v.name, Default: v.def, Meaning: v.desc}
	}
	return out
}

// WriteReference prints the reference of every variable, one per line in the
// contract's order under a header: name, default and meaning (with the unit).
// It is generated from the tags of Config, so it cannot drift from the code.
func WriteReference(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tDEFAULT\tMEANING")
	for _, r := range References() {
		def := r.Default
		if def == "" {
			def = "(unset)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Name, def, r.Meaning)
	}
	return tw.Flush()
}

// format returns a field's value as it would be written in the environment. A duration
// equal to the default is written as the default is (60s, as the reference says, rather
// than 1m).
func (v variable) format(field reflect.Value) string {
	switch x := field.Interface().(type) {
	case []string:
		return strings.Join(x, ",")
	case time.Duration:
		if d, err := time.ParseDuration(v.def); err == nil && d == x {
			return v.def
		}
		return formatDuration(x)
	case Secret:
		return string(x) // masked by the caller
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

// splitUserinfo splits raw as head + user + ":" + password + tail, password
// "" when raw has none, cut by structure as MaskURL does (see urlParts).
func splitUserinfo(raw string) (head, user, password, tail string) {
	p := cutURL(raw)
	if !p.hasUser {
		return raw, "", "", ""
	}
	at := strings.LastIndex(raw, "@")
	return p.head, p.user, p.password, raw[at:]
}

// Scrub returns text with every secret of c replaced by ***: the SASL password, the
// inventory token and the secrets of the URLs (their passwords and the pieces of them a
// parser may quote, their query tokens). The commands pass every error they print through
// it: a library's message may quote a value it was given.
func (c Config) Scrub(text string) string {
	var secrets []string
	fields := reflect.ValueOf(c)
	for _, v := range variables {
		secrets = append(secrets, v.secrets(v.format(fields.Field(v.index)))...)
	}
	slices.SortStableFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	return scrubAll(text, secrets)
}
