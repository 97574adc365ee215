package security

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ordergate/ordergate/processor/order"
)

// ---------------------------------------------------------------------------------------
// Canaries: values that must never come out where they do not belong. Every secret holds
// "CANARY" in capitals, which nothing else the tests write does.

// canary is a value planted in the worker's input or configuration.
type canary struct {
	name, value string
}

// The secrets of the tests, and the names that go with them (not secret).
const (
	clientID       = "sec-client-01"
	clientSecret   = "cs-CANARY-7f3a9c1e5b"    // the client's secret (client_secret header)
	otherClientID  = "sec-client-02"           // a second client (reload test)
	otherSecret    = "cs-CANARY-B-5e0d7a31"    // its secret
	wrongSecret    = "cs-CANARY-WRONG-2d8e4b"  // a wrong client_secret
	dupSecret      = "cs-CANARY-DUP-9a1c44"    // a second, different client_secret header
	saslUser       = "ordergate-sasl"          // the Kafka SASL user
	saslPassword   = "sasl-CANARY-4c2e8a6f"    // ORDERGATE_KAFKA_SASL_PASSWORD
	wrongSASL      = "sasl-CANARY-WRONG-8c11"  // a wrong SASL password
	redisUser      = "ordergate-cache"         // the Redis ACL user
	redisPassword  = "redis-CANARY-9b7d3f1a"   // the password in ORDERGATE_REDIS_URL
	wrongRedis     = "redis-CANARY-WRONG-1f0e" // a wrong Redis password
	inventoryToken = "inv-CANARY-3e5a7c9b1d"   // ORDERGATE_INVENTORY_TOKEN
	wrongToken     = "inv-CANARY-WRONG-6f2a90" // a token the inventory refuses
	redisPrefix    = "ordergate-sec:"          // the key prefix the Redis ACL user may use
	canaryMarker   = "CANARY"                  // in every secret
)

// The personal data of the test requests (testdata/*.json).
const (
	personalFirst  = "Zephyrine"
	personalLast   = "Quillfeather"
	personalPhone  = "+33655501234"
	personalMobile = "+33655509876"
	personalEmail  = "zephyrine.quillfeather@canary.example"
)

// secrets are every secret the tests use, and the client secret's digest (what the clients
// file holds: a leaked digest allows an offline guess of a weak secret).
var secrets = []canary{
	{"client_secret", clientSecret},
	{"second client's secret", otherSecret},
	{"wrong client_secret", wrongSecret},
	{"second client_secret", dupSecret},
	{"SASL password", saslPassword},
	{"wrong SASL password", wrongSASL},
	{"Redis password", redisPassword},
	{"wrong Redis password", wrongRedis},
	{"inventory token", inventoryToken},
	{"wrong inventory token", wrongToken},
	{"client_secret's SHA-256", digest(clientSecret)},
	{"second client's SHA-256", digest(otherSecret)},
	{"any secret", canaryMarker},
}

// personal is the personal data of the test requests.
var personal = []canary{
	{"first name", personalFirst},
	{"last name", personalLast},
	{"phone", personalPhone},
	{"phone digits", strings.TrimPrefix(personalPhone, "+")},
	{"mobile", personalMobile},
	{"e-mail", personalEmail},
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// encodings are the forms under which a value could leak: as is, base64 (a PLAIN SASL
// exchange, a basic Authorization header), hexadecimal, upper-case hexadecimal.
func encodings(v string) map[string]string {
	return map[string]string{
		"":             v,
		" (base64)":    base64.StdEncoding.EncodeToString([]byte(v)),
		" (base64url)": base64.RawURLEncoding.EncodeToString([]byte(v)),
		" (hex)":       hex.EncodeToString([]byte(v)),
		" (HEX)":       strings.ToUpper(hex.EncodeToString([]byte(v))),
	}
}

// leaks lists the canaries found in data, with the text around the first occurrence.
func leaks(data []byte, sets ...[]canary) []string {
	var found []string
	for _, set := range sets {
		for _, c := range set {
			for form, v := range encodings(c.value) {
				if i := bytes.Index(data, []byte(v)); i >= 0 {
					from, to := max(0, i-80), min(len(data), i+len(v)+80)
					found = append(found, fmt.Sprintf("%s%s: …%s…", c.name, form, data[from:to]))
				}
			}
		}
	}
	return found
}

// noLeak fails the test for every canary of sets found in data.
func noLeak(t *testing.T, where string, data []byte, sets ...[]canary) {
	t.Helper()
	for _, l := range leaks(data, sets...) {
		t.Errorf("%s leaks the %s", where, l)
	}
}

// ---------------------------------------------------------------------------------------
// The inventory service and the clients file.

// inventory is an HTTP inventory of testdata/inventory.json that requires a bearer token.
// A refused token is echoed in the 401 body, as careless gateways do, so that a worker that
// logs the inventory's answers would leak it.
type inventory struct {
	*httptest.Server
	calls        atomic.Int64 // calls with the right token
	unauthorized atomic.Int64 // calls without it
	fail         atomic.Int64 // answer 503 to this many calls with the right token first
}

func newInventory(t *testing.T, token string) *inventory {
	t.Helper()
	var points []order.ServicePoint
	must(t, json.Unmarshal(testdata(t, "inventory.json"), &points), "testdata/inventory.json")
	inv := &inventory{}
	inv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		if auth != "Bearer "+token {
			inv.unauthorized.Add(1)
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":"invalid token %s"}`, strings.TrimPrefix(auth, "Bearer "))
			return
		}
		inv.calls.Add(1)
		if inv.fail.Add(-1) >= 0 {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		q := r.URL.Query()
		found := []order.ServicePoint{}
		for _, sp := range points {
			if (q.Has("id") && q.Get("id") == sp.ID) || (q.Has("reference") && q.Get("reference") == sp.Reference) ||
				(q.Has("customerReference") && q.Get("customerReference") == sp.CustomerReference) {
				found = append(found, sp)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(found)
	}))
	t.Cleanup(inv.Close)
	return inv
}

// client is one entry of a clients file.
type client struct {
	ID          string
	Secret      string
	BusinessIDs []string
}

// clientsJSON returns a clients file (contract section 5) for the clients.
func clientsJSON(t *testing.T, clients ...client) []byte {
	t.Helper()
	type entry struct {
		ClientID     string   `json:"clientId"`
		SecretSHA256 string   `json:"secretSha256"`
		BusinessIDs  []string `json:"businessIds"`
	}
	entries := []entry{}
	for _, c := range clients {
		entries = append(entries, entry{c.ID, digest(c.Secret), c.BusinessIDs})
	}
	data, err := json.MarshalIndent(entries, "", "  ")
	must(t, err, "clients file")
	return data
}

// writeClients writes a clients file in a new temporary directory and returns its path.
func writeClients(t *testing.T, clients ...client) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "clients.json")
	writeFile(t, path, clientsJSON(t, clients...))
	return path
}

// ---------------------------------------------------------------------------------------
// Requests.

// body returns a testdata request, compact, after the replacements (old, new pairs).
func body(t *testing.T, name string, replace ...string) []byte {
	t.Helper()
	b := string(compact(t, testdata(t, name)))
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(b, replace[i]) {
			t.Fatalf("testdata/%s holds no %q", name, replace[i])
		}
		b = strings.Replace(b, replace[i], replace[i+1], 1)
	}
	return []byte(b)
}

// padded returns an account request with an extra first-level attribute of n bytes (the
// account request lets them through).
func padded(t *testing.T, n int, replace ...string) []byte {
	t.Helper()
	b := body(t, "account.json", replace...)
	return append([]byte(`{"accountNote":"`+strings.Repeat("n", n)+`",`), b[1:]...)
}

// creds are the headers of a known client.
func creds(secret string) [][2]string {
	return [][2]string{{"client_id", clientID}, {"client_secret", secret}}
}

// accountHeaders are the URL parameters of an account request, as headers.
func accountHeaders(businessID string) [][2]string {
	return [][2]string{{"type", "PATCH-billingAccountById"}, {"businessId", businessID}, {"id", businessID + "-ACC-0001"}}
}

func headers(sets ...[][2]string) []order.Header {
	var out [][2]string
	for _, s := range sets {
		out = append(out, s...)
	}
	return order.HeaderPairs(out)
}
