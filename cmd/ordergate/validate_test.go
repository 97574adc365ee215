package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/foundation/samples"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/publisher/event"
)

var update = flag.Bool("update", false, "rewrite internal/foundation/samples/requests/golden from what `ordergate validate` prints")

// samplesDir is internal/foundation/samples/requests seen from the package directory (go test runs there).
const samplesDir = "../../internal/foundation/samples/requests"

var (
	inventoryFile = filepath.Join(samplesDir, "inventory.json")
	clientsFile   = filepath.Join(samplesDir, "clients.json")
	// goldenClock is the decision time (eventTime) of every golden event.
	goldenClock = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
)

// validateResult is what one `ordergate validate` call wrote and returned.
type validateResult struct {
	code           int
	stdout, stderr string
}

// runValidate runs `ordergate validate ARGS...` with stdin as standard input and the clock
// stopped at goldenClock.
func runValidate(t *testing.T, stdin string, args ...string) validateResult {
	t.Helper()
	r := runCLI(t, stdin, append([]string{"validate"}, args...)...)
	return validateResult(r)
}

// sampleArgs are the flags and file of a sample's validate call: -H per header in order,
// --key when it has one, --at its time, the inventory, the clients file only for the samples
// marked "clients": true, and --pretty so that golden files read well in reviews.
func sampleArgs(s *samples.Sample) []string {
	args := []string{"--pretty"}
	for _, h := range s.Headers {
		args = append(args, "-H", h[0]+"="+h[1])
	}
	if s.Key != "" {
		args = append(args, "--key", s.Key)
	}
	args = append(args, "--at", s.Time.Format(time.RFC3339Nano), "--inventory", inventoryFile)
	if s.Clients {
		args = append(args, "--clients", clientsFile)
	}
	return append(args, filepath.Join(samplesDir, s.Body))
}

// printedEvent is the part of a printed event the manifest's outcome is checked against.
type printedEvent struct {
	EventID       string          `json:"eventId"`
	EventType     string          `json:"eventType"`
	EventTime     string          `json:"eventTime"`
	CorrelationID string          `json:"correlationId"`
	RequestType   *string         `json:"requestType"`
	Source        printedSource   `json:"source"`
	Error         *printedError   `json:"error"`
	Errors        []printedError  `json:"errors"`
	Warnings      []string        `json:"warnings"`
	Request       json.RawMessage `json:"request"`
	Truncated     bool            `json:"requestTruncated"`
	ServicePoint  *struct {
		ID                string `json:"id"`
		Reference         string `json:"reference"`
		CustomerReference string `json:"customerReference"`
		Name              string `json:"name"`
		Market            string `json:"market"`
		State             string `json:"state"`
	} `json:"servicePoint"`
	BillingAcct *struct {
		BusinessID string `json:"businessId"`
		ID         string `json:"id"`
	} `json:"billingAccount"`
}

type printedSource struct {
	Topic     string `json:"topic"`
	Partition int    `json:"partition"`
	Offset    int64  `json:"offset"`
	Timestamp string `json:"timestamp"`
}

type printedError struct {
	Status      int    `json:"status"`
	Code        int    `json:"code"`
	Message     string `json:"message"`
	Description string `json:"description"`
	Field       string `json:"field"`
}

func decodeEvent(t *testing.T, data string) printedEvent {
	t.Helper()
	var ev printedEvent
	dec := json.NewDecoder(strings.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("not an event: %v\n%s", err, data)
	}
	return ev
}

// eventLines splits the output of validate without --pretty into its events, one per line.
func eventLines(t *testing.T, stdout string) []printedEvent {
	t.Helper()
	if !strings.HasSuffix(stdout, "\n") {
		t.Fatalf("output does not end with a newline: %q", stdout)
	}
	var evs []printedEvent
	for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		evs = append(evs, decodeEvent(t, line))
	}
	return evs
}

// TestGolden pins the event `ordergate validate --pretty` prints for every sample, alone
// (offset 0), byte for byte: any change of decision, code, text, field, id or layout fails
// here. `go test ./cmd/ordergate -run TestGolden -update` rewrites the golden files from
// the code; review their diff like code.
func TestGolden(t *testing.T) {
	list, err := samples.Load(os.DirFS(samplesDir))
	if err != nil {
		t.Fatal(err)
	}
	goldenDir := filepath.Join(samplesDir, "golden")
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	names := map[string]bool{}
	for i := range list {
		s := &list[i]
		names[s.Name+".json"] = true
		t.Run(s.Name, func(t *testing.T) {
			r := runValidate(t, "", sampleArgs(s)...)
			wantCode := exitOK
			if s.Outcome == "rejected" {
				wantCode = exitFailure
			}
			if r.code != wantCode || r.stderr != "" {
				t.Fatalf("exit %d (want %d for %s), stderr %q", r.code, wantCode, s.Outcome, r.stderr)
			}
			ev := decodeEvent(t, r.stdout)
			checkOutcome(t, s, &ev)
			file := filepath.Join(samplesDir, s.GoldenPath())
			if *update {
				if err := os.WriteFile(file, []byte(r.stdout), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (generate it with -update)", err)
			}
			if r.stdout != string(want) {
				t.Errorf("the event differs from %s:\n%s\n(if the change is intended, run go test ./cmd/ordergate -run TestGolden -update and review the diff)",
					s.GoldenPath(), firstDifference(string(want), r.stdout))
			}
		})
	}
	// A golden file without a sample would pin nothing and mislead a reader.
	entries, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range entries {
		if names[de.Name()] {
			continue
		}
		if *update {
			if err := os.Remove(filepath.Join(goldenDir, de.Name())); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("golden/%s belongs to no sample of %s", de.Name(), samples.Manifest)
	}
}

// TestEventsDocExamples checks that every example of docs/events.md marked
// "<!-- golden: NAME -->" is golden/NAME.json, byte for byte, so that the examples downstream
// teams read are the events the code prints.
func TestEventsDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	examples := regexp.MustCompile("(?s)<!-- golden: ([a-z0-9-]+) -->\n```json\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(examples) < 3 {
		t.Fatalf("docs/events.md has %d golden examples, want at least 3", len(examples))
	}
	if n := bytes.Count(doc, []byte("<!-- golden: ")); n != len(examples) {
		t.Errorf("docs/events.md has %d golden markers but %d are followed by a json block", n, len(examples))
	}
	for _, m := range examples {
		name := string(m[1])
		want, err := os.ReadFile(filepath.Join(samplesDir, "golden", name+".json"))
		if err != nil {
			t.Errorf("docs/events.md: %v", err)
			continue
		}
		if !bytes.Equal(m[2], want) {
			t.Errorf("docs/events.md: the example %s differs from its golden file:\n%s", name, firstDifference(string(want), string(m[2])))
		}
	}
}

// checkOutcome checks a sample's event against its manifest entry: eventType, and for a
// rejection the code of error and errors[0] and the field of errors[0].
func checkOutcome(t *testing.T, s *samples.Sample, ev *printedEvent) {
	t.Helper()
	if ev.EventType != "order."+s.Outcome {
		t.Errorf("eventType %s, manifest says %s", ev.EventType, s.Outcome)
	}
	if s.Outcome == "accepted" {
		if ev.Error != nil || ev.Errors != nil {
			t.Errorf("accepted event with error %+v, errors %+v", ev.Error, ev.Errors)
		}
		return
	}
	if ev.Error == nil || len(ev.Errors) == 0 {
		t.Fatalf("rejected event without error or errors")
	}
	if ev.Error.Code != s.Code || ev.Errors[0].Code != s.Code {
		t.Errorf("error.code %d, errors[0].code %d, manifest says %d", ev.Error.Code, ev.Errors[0].Code, s.Code)
	}
	if ev.Errors[0].Field != s.Field {
		t.Errorf("errors[0].field %q, manifest says %q", ev.Errors[0].Field, s.Field)
	}
	if first := ev.Errors[0]; ev.Error.Field != "" || ev.Error.Status != first.Status || ev.Error.Message != first.Message || ev.Error.Description != first.Description {
		t.Errorf("error %+v is not errors[0] %+v without its field", *ev.Error, first)
	}
}

// firstDifference describes the first line where two texts differ.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl || i >= len(w) || i >= len(g) {
			return fmt.Sprintf("line %d:\n  golden: %.300s\n  now:    %.300s", i+1, wl, gl)
		}
	}
	return "(same lines)"
}

// Sample bodies the CLI tests use.
var (
	acceptedDisconnect  = filepath.Join(samplesDir, "bodies/disconnect-by-id.json")           // SP-FR-0002
	acceptedDisconnect2 = filepath.Join(samplesDir, "bodies/disconnect-all-identifiers.json") // SP-FR-0003
	acceptedUpdate      = filepath.Join(samplesDir, "bodies/update-by-customer-reference.json")
	rejectedRow12       = filepath.Join(samplesDir, "bodies/seed-disconnect-example.json") // 412/65 before resolution
	accountBody         = filepath.Join(samplesDir, "bodies/seed-account-example.json")
)

// accountHeaders are the headers the account example needs to be accepted, in order.
var accountHeaders = []string{
	"-H", "type=PATCH-billingAccountById", "-H", "businessId=PA", "-H", "id=PA-ACC-100234",
	"-H", "client_id=channel-pa-jm", "-H", "client_secret=sample-secret-pa-jm",
}

const sampleTime = "2026-12-04T10:00:00Z"

// TestValidateFiles checks the events and the exit status of validate for one or several
// request files: one JSON line per file, in order, with offsets 0, 1, 2 on topic "file".
func TestValidateFiles(t *testing.T) {
	for _, tc := range []struct {
		name     string
		files    []string
		wantCode int
		wantType []string
	}{
		{"every request accepted: exit 0", []string{acceptedDisconnect, acceptedDisconnect2, acceptedUpdate}, exitOK,
			[]string{"order.accepted", "order.accepted", "order.accepted"}},
		{"one request rejected: exit 1", []string{acceptedDisconnect, rejectedRow12, acceptedUpdate}, exitFailure,
			[]string{"order.accepted", "order.rejected", "order.accepted"}},
		{"every request rejected: exit 1", []string{rejectedRow12}, exitFailure, []string{"order.rejected"}},
		{"the same file twice: two events, two ids", []string{acceptedDisconnect, acceptedDisconnect}, exitOK,
			[]string{"order.accepted", "order.accepted"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runValidate(t, "", append([]string{"--at", sampleTime, "--inventory", inventoryFile}, tc.files...)...)
			if r.code != tc.wantCode || r.stderr != "" {
				t.Fatalf("exit %d (want %d), stderr %q", r.code, tc.wantCode, r.stderr)
			}
			evs := eventLines(t, r.stdout)
			if len(evs) != len(tc.files) {
				t.Fatalf("%d events for %d files:\n%s", len(evs), len(tc.files), r.stdout)
			}
			ids := map[string]bool{}
			for i, ev := range evs {
				if ev.EventType != tc.wantType[i] {
					t.Errorf("event %d: %s, want %s", i, ev.EventType, tc.wantType[i])
				}
				want := printedSource{Topic: "file", Partition: 0, Offset: int64(i), Timestamp: "2026-12-04T10:00:00.000Z"}
				if ev.Source != want {
					t.Errorf("event %d: source %+v, want %+v", i, ev.Source, want)
				}
				if ev.EventTime != "2026-12-04T12:00:00.000Z" {
					t.Errorf("event %d: eventTime %s, want the clock's", i, ev.EventTime)
				}
				if ids[ev.EventID] {
					t.Errorf("event %d: eventId %s repeated", i, ev.EventID)
				}
				ids[ev.EventID] = true
			}
		})
	}
}

// TestValidateStdin checks that "-" reads standard input, as a file at its place would be.
func TestValidateStdin(t *testing.T) {
	body, err := os.ReadFile(acceptedUpdate)
	if err != nil {
		t.Fatal(err)
	}
	flags := []string{"--at", sampleTime, "--inventory", inventoryFile}
	fromFile := runValidate(t, "", append(flags, acceptedDisconnect, acceptedUpdate)...)
	fromStdin := runValidate(t, string(body), append(flags, acceptedDisconnect, "-")...)
	if fromStdin.code != exitOK || fromStdin.stderr != "" {
		t.Fatalf("exit %d, stderr %q", fromStdin.code, fromStdin.stderr)
	}
	if fromStdin.stdout != fromFile.stdout {
		t.Errorf("standard input gives\n%s\nthe file gives\n%s", fromStdin.stdout, fromFile.stdout)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		t.Fatal(err)
	}
	if ev := eventLines(t, fromStdin.stdout)[1]; string(ev.Request) != compact.String() {
		t.Errorf("request %s is not standard input", ev.Request)
	}
	// An empty standard input is an empty record value: row 1.
	r := runValidate(t, "", "--at", sampleTime, "-")
	if ev := eventLines(t, r.stdout)[0]; r.code != exitFailure || ev.Errors[0].Code != 21 || string(ev.Request) != "null" {
		t.Errorf("empty stdin: exit %d, event %s", r.code, r.stdout)
	}
}

// TestValidatePretty checks that --pretty indents each event by two spaces and changes
// nothing else.
func TestValidatePretty(t *testing.T) {
	flags := []string{"--at", sampleTime, "--inventory", inventoryFile, acceptedDisconnect, rejectedRow12}
	compact := runValidate(t, "", flags...)
	pretty := runValidate(t, "", append([]string{"--pretty"}, flags...)...)
	if pretty.code != exitFailure || compact.code != exitFailure {
		t.Fatalf("exit %d and %d, want 1", pretty.code, compact.code)
	}
	if !strings.HasPrefix(pretty.stdout, "{\n  \"eventId\": \"") || !strings.Contains(pretty.stdout, "\n  \"source\": {\n    \"topic\": \"file\",\n") {
		t.Errorf("not indented by two spaces:\n%.400s", pretty.stdout)
	}
	if !strings.HasSuffix(pretty.stdout, "\n}\n") || strings.Count(pretty.stdout, "\n}\n") != 2 {
		t.Errorf("want two events, each ending with \"}\" and a newline:\n%s", pretty.stdout)
	}
	var got bytes.Buffer
	dec := json.NewDecoder(strings.NewReader(pretty.stdout))
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		if err := json.Compact(&got, raw); err != nil {
			t.Fatal(err)
		}
		got.WriteByte('\n')
	}
	if got.String() != compact.stdout {
		t.Errorf("--pretty changes the events:\n%s\nwithout:\n%s", got.String(), compact.stdout)
	}
}

// TestValidateHeaders checks that -H is repeatable, keeps its order and reads names
// without regard to case.
func TestValidateHeaders(t *testing.T) {
	t.Run("repeated -H make the account request", func(t *testing.T) {
		r := runValidate(t, "", append(append([]string{"--at", sampleTime}, accountHeaders...), accountBody)...)
		if r.code != exitOK {
			t.Fatalf("exit %d: %s%s", r.code, r.stderr, r.stdout)
		}
		ev := eventLines(t, r.stdout)[0]
		if ev.RequestType == nil || *ev.RequestType != "PATCH-billingAccountById" || ev.BillingAcct == nil ||
			ev.BillingAcct.BusinessID != "PA" || ev.BillingAcct.ID != "PA-ACC-100234" {
			t.Errorf("event %s", r.stdout)
		}
	})
	t.Run("order kept: the first X-Correlation-ID is the event's", func(t *testing.T) {
		for _, order := range [][2]string{{"first", "second"}, {"second", "first"}} {
			r := runValidate(t, "", "--at", sampleTime, "-H", "X-Correlation-ID="+order[0], "-H", "x-correlation-id="+order[1], acceptedDisconnect)
			ev := eventLines(t, r.stdout)[0]
			if ev.CorrelationID != order[0] {
				t.Errorf("-H %s then %s: correlationId %q", order[0], order[1], ev.CorrelationID)
			}
			// Two different values of a header the contract reads: row 4.
			if r.code != exitFailure || ev.Errors[0].Code != 26 || ev.Errors[0].Field != "headers.X-Correlation-ID" {
				t.Errorf("exit %d, errors %+v", r.code, ev.Errors)
			}
		}
	})
	t.Run("order kept: deprecated headers warn in the contract's order whatever theirs", func(t *testing.T) {
		args := append([]string{"--at", sampleTime}, accountHeaders...)
		args = append(args, "-H", "targetSystem=X", "-H", "lob=Y", "-H", "channelId=Z", accountBody)
		r := runValidate(t, "", args...)
		ev := eventLines(t, r.stdout)[0]
		want := []string{"header 'channelId' is deprecated", "header 'lob' is deprecated", "header 'targetSystem' is deprecated"}
		if r.code != exitOK || !slices.Equal(ev.Warnings, want) {
			t.Errorf("exit %d, warnings %q", r.code, ev.Warnings)
		}
	})
	t.Run("a value may hold '='", func(t *testing.T) {
		r := runValidate(t, "", "--at", sampleTime, "--inventory", inventoryFile, "-H", "X-Correlation-ID=a=b", acceptedDisconnect)
		if ev := eventLines(t, r.stdout)[0]; r.code != exitOK || ev.CorrelationID != "a=b" {
			t.Errorf("exit %d, correlationId %q", r.code, ev.CorrelationID)
		}
	})
	t.Run("-H without '=' is a usage error", func(t *testing.T) {
		r := runValidate(t, "", "-H", "X-Correlation-ID", acceptedDisconnect)
		if r.code != exitUsage || r.stdout != "" || !strings.Contains(r.stderr, "want NAME=VALUE") {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
}

// TestValidateKey checks the key rule: the event's key is --key, else the X-Correlation-ID
// header (read without regard to case), else the eventId. validate prints only the
// event's value, so the key is checked on the event validate builds (same input, same
// id); the printed correlationId, which stands in for a missing key, is checked on the
// output, and --key must not change the printed value.
func TestValidateKey(t *testing.T) {
	body, err := os.ReadFile(acceptedDisconnect)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name            string
		flags           []string
		wantKey         string // "" = the eventId
		wantCorrelation string // "" = the eventId
	}{
		{"--key sets the key", []string{"--key", "WAN-AAT-AA002-001", "-H", "X-Correlation-ID=corr-1"}, "WAN-AAT-AA002-001", "corr-1"},
		{"--key without a correlation id", []string{"--key", "WAN-AAT-AA002-001"}, "WAN-AAT-AA002-001", ""},
		{"no key: the X-Correlation-ID header", []string{"-H", "X-Correlation-ID=corr-1"}, "corr-1", "corr-1"},
		{"no key: a lower-case x-correlation-id header", []string{"-H", "x-correlation-id=corr-2"}, "corr-2", "corr-2"},
		{"no key: an empty X-Correlation-ID is none", []string{"-H", "X-Correlation-ID="}, "", ""},
		{"no key, no correlation id: the eventId", nil, "", ""},
		{"--key \"\" is no key", []string{"--key", "", "-H", "X-CORRELATION-ID=corr-3"}, "corr-3", "corr-3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"--at", sampleTime, "--inventory", inventoryFile}, tc.flags...), acceptedDisconnect)
			r := runValidate(t, "", args...)
			if r.code != exitOK {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			ev := eventLines(t, r.stdout)[0]
			wantCorrelation := tc.wantCorrelation
			if wantCorrelation == "" {
				wantCorrelation = ev.EventID
			}
			if ev.CorrelationID != wantCorrelation {
				t.Errorf("correlationId %q, want %q", ev.CorrelationID, wantCorrelation)
			}
			// The key of the event validate builds for this input.
			fs := flag.NewFlagSet("", flag.ContinueOnError)
			var hs headerFlags
			fs.Var(&hs, "H", "")
			key := fs.String("key", "", "")
			fs.String("at", "", "")
			fs.String("inventory", "", "")
			if err := fs.Parse(args); err != nil {
				t.Fatal(err)
			}
			in := &order.Record{
				Key:     []byte(*key),
				Value:   body,
				Headers: []order.Header(hs),
				Time:    time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC),
				Source:  order.Source{Topic: "file", Offset: 0},
			}
			d := order.Decision{Outcome: order.Accepted}
			built := event.Build(in, &d, goldenClock, false)
			if built.ID != ev.EventID {
				t.Fatalf("eventId %s, validate printed %s", built.ID, ev.EventID)
			}
			wantKey := tc.wantKey
			if wantKey == "" {
				wantKey = ev.EventID
			}
			if string(built.Key) != wantKey {
				t.Errorf("key %q, want %q", built.Key, wantKey)
			}
			// The key only orders the events: the printed value is the same without it.
			if *key != "" {
				var noKey []string
				for i := 0; i < len(args); i++ {
					if args[i] == "--key" {
						i++
						continue
					}
					noKey = append(noKey, args[i])
				}
				if r2 := runValidate(t, "", noKey...); r2.stdout != r.stdout {
					t.Errorf("--key changes the value:\n%s\nwithout:\n%s", r.stdout, r2.stdout)
				}
			}
		})
	}
}

// TestValidateClock checks that the record time is --at, else the clock.
func TestValidateClock(t *testing.T) {
	r := runValidate(t, "", "--inventory", inventoryFile, rejectedRow12)
	ev := eventLines(t, r.stdout)[0]
	if ev.Source.Timestamp != "2026-12-04T12:00:00.000Z" || ev.EventTime != "2026-12-04T12:00:00.000Z" {
		t.Errorf("without --at: source.timestamp %s, eventTime %s, want the clock's", ev.Source.Timestamp, ev.EventTime)
	}
	r = runValidate(t, "", "--at", "2026-12-04T11:00:00.123+01:00", rejectedRow12)
	if ev := eventLines(t, r.stdout)[0]; ev.Source.Timestamp != "2026-12-04T10:00:00.123Z" {
		t.Errorf("--at with an offset: source.timestamp %s, want it in UTC", ev.Source.Timestamp)
	}
}

// TestValidateErrors checks the usage and file errors: exit 2, nothing on standard output,
// and, where a single problem is reported, exactly one line on standard error that says it.
func TestValidateErrors(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "not-json.json")
	if err := os.WriteFile(notJSON, []byte("[{"), 0o600); err != nil {
		t.Fatal(err)
	}
	badClient := filepath.Join(dir, "bad-client.json")
	if err := os.WriteFile(badClient, []byte(`[{"clientId": "a", "secretSha256": "00", "businessIds": ["PA"]}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.json")
	for _, tc := range []struct {
		name    string
		args    []string
		oneLine bool
		want    []string // substrings of stderr
		notWant []string
	}{
		{"--at not RFC 3339", []string{"--at", "2026-12-04 10:00", acceptedDisconnect}, true,
			[]string{"--at", `"2026-12-04 10:00"`, "RFC 3339"}, nil},
		{"--at a date only", []string{"--at", "2026-12-04", acceptedDisconnect}, true, []string{"--at", "RFC 3339"}, nil},
		{"unreadable file", []string{"--at", sampleTime, missing}, true, []string{missing, "no such file"}, nil},
		{"a directory for a file", []string{"--at", sampleTime, dir}, true, []string{dir}, nil},
		{"unreadable file after a good one", []string{"--at", sampleTime, rejectedRow12, missing}, true, []string{missing}, nil},
		{"--clients missing", []string{"--clients", missing, acceptedDisconnect}, true,
			[]string{"--clients", missing, "no such file"}, []string{"ORDERGATE_CLIENTS_FILE", ": :", "=" + missing}},
		{"--clients not JSON", []string{"--clients", notJSON, acceptedDisconnect}, true,
			[]string{"--clients", notJSON}, []string{"ORDERGATE_CLIENTS_FILE", ": :", "=" + notJSON}},
		{"--clients with an invalid client", []string{"--clients", badClient, acceptedDisconnect}, true,
			[]string{"--clients", badClient, "clientId"}, []string{"ORDERGATE_CLIENTS_FILE"}},
		{"--inventory missing", []string{"--inventory", missing, acceptedDisconnect}, true, []string{"--inventory", missing}, nil},
		{"--inventory not JSON", []string{"--inventory", notJSON, acceptedDisconnect}, true, []string{"--inventory", notJSON}, nil},
		{"a BVPN request that reaches resolution without --inventory", []string{"--at", sampleTime, acceptedDisconnect}, true,
			[]string{acceptedDisconnect, "needs --inventory"}, nil},
		{"no file: usage", []string{"--at", sampleTime}, false, []string{"no request file given", "Usage: ordergate validate", "--inventory FILE"}, nil},
		{"unknown flag", []string{"--no-such-flag", acceptedDisconnect}, true, []string{"unknown flag --no-such-flag", "see ordergate validate -h"}, nil},
		{"--max-message-bytes not a number", []string{"--max-message-bytes", "lots", acceptedDisconnect}, false, []string{"-max-message-bytes"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runValidate(t, "", tc.args...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want %d", r.code, exitUsage)
			}
			// Events of the files before the bad one are printed; nothing else is.
			if want := strings.Count(strings.Join(tc.args, " "), rejectedRow12); strings.Count(r.stdout, "\n") != want {
				t.Errorf("stdout %q", r.stdout)
			}
			if tc.oneLine && (strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n")) {
				t.Errorf("stderr is not one line: %q", r.stderr)
			}
			if tc.oneLine && !strings.HasPrefix(r.stderr, "ordergate validate: ") {
				t.Errorf("stderr does not name the command: %q", r.stderr)
			}
			for _, s := range tc.want {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr %q does not say %q", r.stderr, s)
				}
			}
			for _, s := range tc.notWant {
				if strings.Contains(r.stderr, s) {
					t.Errorf("stderr %q says %q", r.stderr, s)
				}
			}
		})
	}
	// Requests decided before resolution need no inventory.
	r := runValidate(t, "", append(append([]string{"--at", sampleTime}, accountHeaders...), accountBody)...)
	if r.code != exitOK || r.stderr != "" {
		t.Errorf("account request without --inventory: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runValidate(t, "", "--at", sampleTime, rejectedRow12); r.code != exitFailure || r.stderr != "" {
		t.Errorf("row-12 rejection without --inventory: exit %d, stderr %q", r.code, r.stderr)
	}
}
