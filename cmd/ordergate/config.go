package main

import (
	"encoding/json"
	"fmt"

	"github.com/ordergate/ordergate/config"
)

func cmdConfig(args []string, e *env) int {
	fs := newFlags(e, "config", "[--json]", `Prints the effective configuration read from the ORDERGATE_* variables (secrets masked), then
the reference of every variable. Every bad value is reported, one per line (exit status 2).`)
	asJSON := fs.Bool("json", false, `print one JSON object: "configuration" (name: value), "warnings", "reference", or "errors"`)
	if err := fs.parseNoArgs(args); err != nil {
		return status(err)
	}
	if *asJSON {
		return configJSON(e)
	}
	cfg, warnings, ok := loadConfig(e)
	if !ok {
		return exitUsage
	}
	printWarnings(e, warnings)
	fmt.Fprintln(e.stdout, "# Effective configuration")
	if err := cfg.Write(e.stdout); err != nil {
		return exitInternal
	}
	fmt.Fprintln(e.stdout, "\n# Reference")
	if err := config.WriteReference(e.stdout); err != nil {
		return exitInternal
	}
	return exitOK
}

// configJSON prints `config --json`.
func configJSON(e *env) int {
	type problem struct {
		Variable string `json:"variable"`
		Value    string `json:"value"` // masked as in the configuration
		Reason   string `json:"reason"`
	}
	out := struct {
		Configuration map[string]string  `json:"configuration,omitempty"`
		Warnings      []string           `json:"warnings"`
		Errors        []problem          `json:"errors,omitempty"`
		Reference     []config.Reference `json:"reference"`
	}{Warnings: []string{}, Reference: config.References()}
	cfg, warnings, err := config.Load()
	out.Warnings = append(out.Warnings, warnings...)
	code := exitOK
	if err != nil {
		for _, p := range config.AsErrors(err) {
			out.Errors = append(out.Errors, problem{p.Name, p.Value, p.Reason})
		}
		code = exitUsage
	} else {
		out.Configuration = map[string]string{}
		for _, s := range cfg.Settings() {
			out.Configuration[s.Name] = s.Value
		}
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return exitInternal
	}
	return code
}
