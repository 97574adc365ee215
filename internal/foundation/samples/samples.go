// Package samples reads the sample requests of internal/foundation/samples/requests: each sample is a request
// body with the headers, key and record time it travels with, and the outcome it must get.
// `ordergate dev` replays them, and the golden tests pin their events.
package samples

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"time"
)

// Manifest is the name of the file that lists the samples.
const Manifest = "samples.json"

// Sample is one entry of the manifest: a request with its record metadata and its expected
// outcome. The record itself is an order.Record built from Key, Value, Headers (with
// order.HeaderPairs) and Time; this package stays below the domain and does not build it.
type Sample struct {
	// Name identifies the sample; its golden event is golden/NAME.json.
	Name string `json:"name"`
	// What says what the sample shows (the rule or the seed example).
	What string `json:"what"`
	// Body is the request file, relative to the samples directory.
	Body string `json:"body"`
	// Key is the record key ("" = none).
	Key string `json:"key,omitempty"`
	// Headers are the record headers, in order, as [name, value] pairs.
	Headers [][2]string `json:"headers,omitempty"`
	// Time is the record timestamp (RFC 3339), pinned so that date rules replay.
	Time time.Time `json:"time"`
	// Clients reports that the sample is decided with the clients file (clients.json);
	// every other sample is decided without one.
	Clients bool `json:"clients,omitempty"`
	// Outcome is "accepted" or "rejected".
	Outcome string `json:"outcome"`
	// Code is the error code of a rejection (0 when accepted).
	Code int `json:"code,omitempty"`
	// Field is the field of the first error of a rejection.
	Field string `json:"field,omitempty"`

	// Value is the body's content, read by Load.
	Value []byte `json:"-"`
}

// GoldenPath is the path of the sample's golden event, relative to the samples directory.
func (s *Sample) GoldenPath() string { return path.Join("golden", s.Name+".json") }

// Load reads the manifest and every body from fsys (the samples directory).
func Load(fsys fs.FS) ([]Sample, error) {
	data, err := fs.ReadFile(fsys, Manifest)
	if err != nil {
		return nil, err
	}
	var list []Sample
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("%s: %w", Manifest, err)
	}
	seen := map[string]bool{}
	for i := range list {
		s := &list[i]
		if s.Name == "" || seen[s.Name] {
			return nil, fmt.Errorf("%s: sample %d: missing or repeated name %q", Manifest, i+1, s.Name)
		}
		seen[s.Name] = true
		if s.Outcome != "accepted" && s.Outcome != "rejected" {
			return nil, fmt.Errorf("%s: sample %s: outcome must be accepted or rejected", Manifest, s.Name)
		}
		if s.Value, err = fs.ReadFile(fsys, s.Body); err != nil {
			return nil, fmt.Errorf("%s: sample %s: %w", Manifest, s.Name, err)
		}
	}
	return list, nil
}
