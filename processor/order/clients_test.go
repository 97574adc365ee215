package order

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// digestOf is the secretSha256 of a secret.
func digestOf(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func TestParseClientsAccepts(t *testing.T) {
	t.Parallel()
	data := "[\n  {\"clientId\": \"pa-channel\", \"secretSha256\": \"" + digestOf("s3cret-pa") + "\", \"businessIds\": [\"PA\"]},\n" +
		"  {\"clientId\": \"jm-channel\", \"secretSha256\": \"" + digestOf("s3cret-jm") + "\", \"businessIds\": []}\n]\n"
	c, err := ParseClients([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 2 {
		t.Fatalf("Len = %d", c.Len())
	}
	if cl, ok := c.authenticate("pa-channel", "s3cret-pa"); !ok || !cl.allows("PA") {
		t.Errorf("pa-channel is not authenticated for PA")
	}
}

// TestParseClientsErrorsSayWhereAndWhat (issue 21, item 7): errors of the clients file
// give the line and column, the entry, what was expected instead of a Go type name, and
// point a "clientSecret" at secretSha256 and `ordergate clients hash`. Issue 17, item 6:
// an empty list is refused with a clear message.
func TestParseClientsErrorsSayWhereAndWhat(t *testing.T) {
	t.Parallel()
	d := digestOf("s3cret-pa")
	tests := []struct {
		name string
		data string
		want []string // parts of the message
	}{
		{"empty list (issue 17, item 6)", "[]", []string{"line 1, column 2: ", "the list of clients is empty", "every request would be refused", "ORDERGATE_CLIENTS_FILE"}},
		{"empty list on lines", "[\n\n]\n", []string{"line 3, column 1: ", "the list of clients is empty"}},
		{"an object, not an array", `{"clientId": "pa-channel"}`, []string{"line 1, column 1: ", "expected a JSON array of clients", `"secretSha256"`}},
		{"the secret itself", "[\n  {\"clientId\": \"pa-channel\", \"clientSecret\": \"s3cret-pa\", \"businessIds\": [\"PA\"]}\n]",
			[]string{"line 2, column 30: ", "entry 1: ", `unknown field "clientSecret"`, `"secretSha256"`, "ordergate clients hash"}},
		{"misspelt member", "[{\"clientID\": \"pa-channel\"}]", []string{"line 1, column 3: ", "entry 1: ", `unknown field "clientID" (did you mean "clientId"?)`}},
		{"snake case", "[{\"client_id\": \"pa-channel\"}]", []string{`unknown field "client_id" (did you mean "clientId"?)`}},
		{"other member", "[{\"color\": \"red\"}]", []string{`unknown field "color": an entry has "clientId", "secretSha256" and "businessIds"`}},
		{"array of objects expected", "[\n  \"pa-channel\"\n]", []string{"line 2, column 3: ", "entry 1: the entry: expected an object", "found a string"}},
		{"business ids as a string", "[{\"clientId\": \"pa-channel\", \"secretSha256\": \"" + d + "\",\n \"businessIds\": \"PA\"}]",
			[]string{"line 2, column 17: ", "entry 1: businessIds: expected an array of country codes", "found a string"}},
		{"a number in business ids", "[{\"clientId\": \"pa-channel\", \"secretSha256\": \"" + d + "\", \"businessIds\": [\"PA\", 5]}]",
			[]string{"entry 1: businessIds[1]: expected a country code in a string", "found a number"}},
		{"syntax error", "[\n  {\"clientId\": \"pa-channel\",}\n]", []string{"line 2, column ", "invalid JSON"}},
		{"cut short", "[\n  {\"clientId\": \"pa-channel\"", []string{"line 2, column ", "ends too early"}},
		{"data after the array", "[{\"clientId\": \"pa-channel\", \"secretSha256\": \"" + d + "\"}]\n[]", []string{"line 2, column 1: ", "data after the JSON array"}},
		{"short client id", "[\n {\"clientId\": \"pa\", \"secretSha256\": \"" + d + "\"}]", []string{"line 2, column 2: ", `entry 1 (clientId "pa"): clientId must have at least 5 characters`}},
		{"digest not hex", "[{\"clientId\": \"pa-channel\", \"secretSha256\": \"s3cret-pa\"}]", []string{"entry 1 (clientId \"pa-channel\"): secretSha256 must be 64 hexadecimal digits", "ordergate clients hash"}},
		{"second entry twice", "[{\"clientId\": \"pa-channel\", \"secretSha256\": \"" + d + "\"},\n {\"clientId\": \"pa-channel\", \"secretSha256\": \"" + d + "\"}]",
			[]string{"line 2, column 2: entry 2 (clientId \"pa-channel\"): clientId given twice"}},
		{"duplicated member", "[{\"clientId\": \"pa-channel\", \"clientId\": \"jm-channel\"}]", []string{"line 1, column 29: ", "invalid JSON", `member "clientId" given twice`}},
		{"unassigned business id", "[{\"clientId\": \"pa-channel\", \"secretSha256\": \"" + d + "\", \"businessIds\": [\"UK\"]}]", []string{`businessIds: "UK" is not an assigned ISO 3166-1 alpha-2 code`}},
		{"empty file", "", []string{"line 1, column 1: the file is empty; expected a JSON array of clients"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseClients([]byte(tt.data))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			for _, never := range []string{"Go value", "order.clientEntry", "[]order", "s3cret", d[:16]} {
				if strings.Contains(msg, never) {
					t.Errorf("error %q shows %q", msg, never)
				}
			}
			if !strings.HasPrefix(msg, "line ") {
				t.Errorf("error %q does not start with its line and column", msg)
			}
		})
	}
}
