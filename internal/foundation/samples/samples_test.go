package samples_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"slices"
	"testing"

	"github.com/ordergate/ordergate/internal/foundation/samples"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/order/country"
)

const dir = "requests"

// seedBodies are the seed documents' own examples, copied byte for byte (whitespace and
// final newline included) into the samples, with their SHA-256: a copy that drifts from
// the document fails here. The test never reads the seed documents themselves, so that it
// passes on a clone without them.
var seedBodies = map[string]string{
	// From seeds/001_f7bf795a3fe34d75.txt (Request to Disconnect of BVPN Site), section
	// "Full Example": the lines from "{" to "}" inside the code block.
	"bodies/seed-disconnect-example.json": "6b28e53627dbeb012ba7da81e0ced53ecd948370bc2ec318e57cc95f97c61f75",
	// From seeds/002_83a0bc397aa36cae.txt (Account Management Biz Api), the "Request Body
	// for PA": the lines from "{" to "}" before "Note:".
	"bodies/seed-account-example.json": "06085cde248332fe35dba55a6395465293451259e0e39da1005ecfdaf920ecd0",
}

func load(t *testing.T) ([]samples.Sample, []order.ServicePoint, *order.Clients) {
	t.Helper()
	list, err := samples.Load(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	inv := readStrict[[]order.ServicePoint](t, "inventory.json")
	data, err := os.ReadFile(dir + "/clients.json")
	if err != nil {
		t.Fatal(err)
	}
	clients, err := order.ParseClients(data)
	if err != nil {
		t.Fatalf("clients.json: %v", err)
	}
	return list, inv, clients
}

func readStrict[T any](t *testing.T, name string) T {
	t.Helper()
	var v T
	data, err := os.ReadFile(dir + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// matches returns the service points of the inventory whose identifier named by the lookup's
// criterion equals its value, as the inventory (or its file stand-in) answers.
func matches(inv []order.ServicePoint, l order.Lookup) []order.ServicePoint {
	var out []order.ServicePoint
	for _, sp := range inv {
		var v string
		switch l.Criterion {
		case order.ByID:
			v = sp.ID
		case order.ByReference:
			v = sp.Reference
		case order.ByCustomerReference:
			v = sp.CustomerReference
		}
		if v == l.Value {
			out = append(out, sp)
		}
	}
	return out
}

// decide decides a sample as the worker does: the rules (with the clients file when the
// sample is marked so), then the service-point resolution against inventory.json.
func decide(t *testing.T, s *samples.Sample, inv []order.ServicePoint, clients *order.Clients) order.Decision {
	t.Helper()
	rules := &order.Rules{}
	if s.Clients {
		rules.Clients = clients
	}
	d := rules.Decide(&order.Record{Value: s.Value, Headers: order.HeaderPairs(s.Headers), Time: s.Time})
	if d.Outcome == order.NeedsServicePoint {
		d.Resolve(matches(inv, d.Lookup))
	}
	if d.Outcome == order.NeedsServicePoint {
		t.Fatalf("%s: still pending after resolution", s.Name)
	}
	return d
}

func TestSamples(t *testing.T) {
	list, inv, clients := load(t)
	type variant struct {
		row order.Row
		typ order.RequestType
	}
	covered := map[order.Row]bool{}
	variants := map[variant]bool{}
	for i := range list {
		s := &list[i]
		t.Run(s.Name, func(t *testing.T) {
			d := decide(t, s, inv, clients)
			if got := d.Outcome.String(); got != s.Outcome {
				t.Fatalf("outcome %s, manifest says %s (errors %+v)", got, s.Outcome, d.Errors)
			}
			var code int
			var field string
			if e := d.Error(); e != nil {
				code, field = e.Code(), e.Field
				covered[e.Row] = true
				variants[variant{e.Row, d.Type}] = true
			}
			if code != s.Code || field != s.Field {
				t.Fatalf("code %d field %q, manifest says code %d field %q (errors %+v)", code, field, s.Code, s.Field, d.Errors)
			}
		})
	}
	for r := order.RowMissingBody; r <= order.RowNotFrenchMarket; r++ {
		if !covered[r] {
			t.Errorf("no sample is rejected by row %d", r)
		}
	}
	for _, typ := range []order.RequestType{order.TypeDisconnect, order.TypeUpdate} {
		if !variants[variant{order.RowSeveralServicePoints, typ}] {
			t.Errorf("no %s sample is rejected by row 17", typ)
		}
	}
}

// TestSeedBodies checks that the seed samples are the documents' examples, byte for byte.
func TestSeedBodies(t *testing.T) {
	for name, want := range seedBodies {
		data, err := os.ReadFile(dir + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s: sha256 %s, want %s (the verbatim copy of the seed example changed)", name, got, want)
		}
	}
	list, _, _ := load(t)
	used := map[string]bool{}
	for _, s := range list {
		used[s.Body] = true
	}
	for name := range seedBodies {
		if !used[name] {
			t.Errorf("%s: no sample uses the seed example", name)
		}
	}
}

// TestSampleFiles checks the shape of the files beside the manifest: every body is used, the
// inventory is valid and unambiguous by id, records carry the clients' secrets only where the
// README says, and row 2's body stays just over the default limit.
func TestSampleFiles(t *testing.T) {
	list, inv, clients := load(t)
	if clients.Len() != 2 {
		t.Errorf("clients.json: %d clients, want 2", clients.Len())
	}
	used := map[string]bool{}
	for _, s := range list {
		used[s.Body] = true
		if s.Time.IsZero() {
			t.Errorf("%s: no record time", s.Name)
		}
		if s.Outcome == "accepted" && (s.Code != 0 || s.Field != "") {
			t.Errorf("%s: accepted with a code or field", s.Name)
		}
	}
	bodies, err := fs.Glob(os.DirFS(dir), "bodies/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bodies {
		if !used[b] {
			t.Errorf("%s: no sample uses this body", b)
		}
	}

	ids := map[string]bool{}
	states := []string{"INSTALLING", "OPERATIONAL", "TERMINATED", "CANCELLED", "UNKNOWN"}
	for _, sp := range inv {
		if sp.ID == "" || sp.Reference == "" || sp.CustomerReference == "" || sp.Name == "" {
			t.Errorf("inventory: %+v: every field is required", sp)
		}
		if ids[sp.ID] {
			t.Errorf("inventory: id %s given twice", sp.ID)
		}
		ids[sp.ID] = true
		if !country.IsAssignedAlpha2(sp.Market) {
			t.Errorf("inventory: %s: market %q is not an ISO 3166-1 alpha-2 code", sp.ID, sp.Market)
		}
		if !slices.Contains(states, sp.State) {
			t.Errorf("inventory: %s: state %q", sp.ID, sp.State)
		}
	}

	for _, s := range list {
		if s.Name == "too-large" {
			if n := len(s.Value); n <= order.DefaultMaxBodyBytes || n > order.DefaultMaxBodyBytes+64 {
				t.Errorf("too-large: %d bytes, want just over %d", n, order.DefaultMaxBodyBytes)
			}
			if !json.Valid(s.Value) {
				t.Errorf("too-large: not valid JSON")
			}
		}
	}
}

// TestServicePointsExist checks that a BVPN sample rejected before resolution names a
// service point that exists (and is French for a disconnect): each such sample has exactly
// one fault, the one it shows.
func TestServicePointsExist(t *testing.T) {
	list, inv, clients := load(t)
	for i := range list {
		s := &list[i]
		var b struct {
			Type       string `json:"type"`
			Properties struct {
				ServicePoint struct {
					ID                string `json:"id"`
					Reference         string `json:"reference"`
					CustomerReference string `json:"customerReference"`
				} `json:"servicePoint"`
			} `json:"properties"`
		}
		if json.Unmarshal(s.Value, &b) != nil {
			continue
		}
		typ := order.ParseRequestType(b.Type)
		if !typ.IsBVPN() {
			continue
		}
		d := decide(t, s, inv, clients)
		if e := d.Error(); e != nil && e.Row >= order.RowSeveralServicePoints {
			continue // the samples of rows 17-19 name a missing, shared or foreign one on purpose
		}
		sp := b.Properties.ServicePoint
		l := order.Lookup{Criterion: order.ByID, Value: sp.ID}
		switch {
		case sp.ID != "":
		case sp.Reference != "":
			l = order.Lookup{Criterion: order.ByReference, Value: sp.Reference}
		case sp.CustomerReference != "":
			l = order.Lookup{Criterion: order.ByCustomerReference, Value: sp.CustomerReference}
		default:
			continue
		}
		m := matches(inv, l)
		switch {
		case len(m) != 1:
			t.Errorf("%s: %d service points match %s=%s, want 1", s.Name, len(m), l.Criterion, l.Value)
		case typ == order.TypeDisconnect && m[0].Market != "FR":
			t.Errorf("%s: service point %s is in market %s", s.Name, m[0].ID, m[0].Market)
		}
	}
}
