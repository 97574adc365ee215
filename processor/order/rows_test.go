package order

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// testClients is a clients table with one client allowed for Jamaica only.
func testClients(t testing.TB) *Clients {
	t.Helper()
	sum := sha256.Sum256([]byte("jm-secret-1"))
	c, err := ParseClients([]byte(`[{"clientId":"jm-channel","secretSha256":"` + hex.EncodeToString(sum[:]) + `","businessIds":["JM"]}]`))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var spFR = ServicePoint{ID: "SP-0001", Reference: "REF-0001", CustomerReference: "AAT-AA001-001", Name: "Paris site", Market: "FR", State: "OPERATIONAL"}

// TestEveryRow pins, for each row of the contract's table, the exact status, code, message,
// description and field of a record that fails it.
func TestEveryRow(t *testing.T) {
	tests := []struct {
		row         Row
		rules       Rules
		rec         *Record
		matches     []ServicePoint // for rows 17-19
		status      int
		code        int
		message     string
		description string
		field       string
	}{
		{row: 1, rec: rec(""), status: 400, code: 21, message: "Missing body",
			description: "The request body is missing."},
		{row: 2, rules: Rules{MaxBodyBytes: 100}, rec: rec(`{"type":"` + strings.Repeat("x", 100) + `"}`),
			status: 413, code: 66, message: "Request entity too large",
			description: "The request body exceeds 100 bytes."},
		{row: 3, rec: rec(`{"a":1,"a":2}`), status: 400, code: 22, message: "Invalid body",
			description: "The body gives the name 'a' twice in one object (at byte 7)."},
		{row: 4, rec: rec(accountBody, append(accountHeaders, "BUSINESSID=JM")...),
			status: 400, code: 26, message: "Invalid header value",
			description: "The header 'businessId' is given twice.", field: "headers.businessId"},
		{row: 5, rec: rec(accountBody, accountHeaders[:4]...),
			status: 401, code: 40, message: "Missing credentials",
			description: "The header 'client_secret' is missing.", field: "headers.client_secret"},
		{row: 6, rec: rec(accountBody, append(accountHeaders[:4:4], "client_secret=abc")...),
			status: 401, code: 41, message: "Invalid credentials",
			description: "The credentials are not valid.", field: "headers.client_secret"},
		{row: 7, rec: rec(edit(t, disconnectBody, "type", "-")),
			status: 412, code: 65, message: "Precondition failed",
			description: "The mandatory field 'type' is missing.", field: "type"},
		{row: 8, rec: rec(edit(t, disconnectBody, "type", `"X_FOO"`)),
			status: 400, code: 24, message: "Invalid body field",
			description: "The field 'type' has an unsupported value: X_FOO.", field: "type"},
		{row: 9, rec: rec(accountBody, "type=PATCH-billingAccountById", "id=ACC-1", "client_id=channel-1", "client_secret=s3cret-1"),
			status: 400, code: 25, message: "Missing header",
			description: "The header 'businessId' is missing.", field: "headers.businessId"},
		{row: 10, rec: rec(accountBody, "type=PATCH-billingAccountById", "businessId=UK", "id=ACC-1", "client_id=channel-1", "client_secret=s3cret-1"),
			status: 400, code: 26, message: "Invalid header value",
			description: "The header 'businessId' is not valid: not an assigned ISO 3166-1 alpha-2 country code in upper case",
			field:       "headers.businessId"},
		{row: 11, rules: Rules{Clients: testClients(t)},
			rec:    rec(accountBody, "type=PATCH-billingAccountById", "businessId=PA", "id=ACC-1", "client_id=jm-channel", "client_secret=jm-secret-1"),
			status: 403, code: 50, message: "Access denied",
			description: "The client is not allowed for business unit PA.", field: "headers.businessId"},
		{row: 12, rec: rec(edit(t, disconnectBody, "properties.contacts.primary.email", "null")),
			status: 412, code: 65, message: "Precondition failed",
			description: "The mandatory field 'properties.contacts.primary.email' is missing.",
			field:       "properties.contacts.primary.email"},
		{row: 13, rec: rec(edit(t, disconnectBody, "requestedAt", `"01/06/2027"`)),
			status: 400, code: 24, message: "Invalid body field",
			description: "The field 'requestedAt' is not valid: not a date in the form YYYY-MM-DD", field: "requestedAt"},
		{row: 14, rec: rec(edit(t, disconnectBody, "properties.contacts.primary.email", `"paul"`)),
			status: 422, code: 3620, message: "Properties item is not valid",
			description: "The 'properties' attribute is not valid due to the following error : properties.contacts.primary.email: not one e-mail address",
			field:       "properties.contacts.primary.email"},
		{row: 15, rec: rec(edit(t, accountBody, "contact[0].contactMedium[0].mediumType", `"Fax"`), accountHeaders...),
			status: 400, code: 24, message: "Invalid body field",
			description: "The field 'contact[0].contactMedium[0].mediumType' is not valid: not one of: Telephone, Mobile, Email",
			field:       "contact[0].contactMedium[0].mediumType"},
		{row: 16, rec: rec(edit(t, disconnectBody, "requestedAt", `"2026-12-10"`)),
			status: 422, code: 3611, message: "RequestedAt not Valid",
			description: "The requestedAt date must be 20 days minimum and must be a working day in France.",
			field:       "requestedAt"},
		{row: 17, rec: rec(disconnectBody), matches: []ServicePoint{spFR, spFR},
			status: 422, code: 3621, message: "Several Products match criterias",
			description: "Several Service Points match the criteria. Disconnection can be requested on only one Service Point.",
			field:       "properties.servicePoint"},
		{row: 17, rec: rec(edit(t, updateBody, "properties.servicePoint", `{"customerReference":"AAT-AA001-001"}`)),
			matches: []ServicePoint{spFR, spFR},
			status:  422, code: 3621, message: "Several Products match criterias",
			description: "Several services can match criterias.", field: "properties.servicePoint"},
		{row: 18, rec: rec(disconnectBody), matches: []ServicePoint{},
			status: 422, code: 3622, message: "No Service Point match criteria",
			description: "No Service Point was found with the current criteria.", field: "properties.servicePoint"},
		{row: 19, rec: rec(disconnectBody), matches: []ServicePoint{{ID: "SP-9", CustomerReference: "AAT-AA001-001", Market: "ES"}},
			status: 422, code: 3620, message: "Properties item is not valid",
			description: "The 'properties' attribute is not valid due to the following error : the service point is not in the French market",
			field:       "properties.servicePoint"},
	}
	seen := map[Row]bool{}
	for _, tc := range tests {
		seen[tc.row] = true
		t.Run(strings.ReplaceAll(EntryOf(tc.row).Message, " ", "_"), func(t *testing.T) {
			d := tc.rules.Decide(tc.rec)
			if tc.matches != nil {
				if d.Outcome != NeedsServicePoint {
					t.Fatalf("before resolution: outcome %v, errors %v, want pending", d.Outcome, got(d))
				}
				d.Resolve(tc.matches)
			}
			if d.Outcome != Rejected {
				t.Fatalf("outcome %v, want rejected", d.Outcome)
			}
			e := d.Error()
			if e.Row != tc.row {
				t.Fatalf("row %d (%v), want row %d", e.Row, got(d), tc.row)
			}
			if e.Status() != tc.status || e.Code() != tc.code || e.Message() != tc.message {
				t.Errorf("status/code/message = %d/%d/%q, want %d/%d/%q", e.Status(), e.Code(), e.Message(), tc.status, tc.code, tc.message)
			}
			if desc := e.Description(d.Type); desc != tc.description {
				t.Errorf("description\n got %q\nwant %q", desc, tc.description)
			}
			if e.Field != tc.field {
				t.Errorf("field %q, want %q", e.Field, tc.field)
			}
		})
	}
	for r := RowMissingBody; r <= RowNotFrenchMarket; r++ {
		if !seen[r] {
			t.Errorf("row %d has no test", r)
		}
	}
	if len(Catalog) != int(RowNotFrenchMarket) {
		t.Errorf("catalog has %d rows, the contract 19", len(Catalog))
	}
}

func TestAcceptedRequests(t *testing.T) {
	t.Run("disconnect", func(t *testing.T) {
		d := (&Rules{}).Decide(rec(disconnectBody))
		if d.Outcome != NeedsServicePoint || d.Lookup != (Lookup{ByCustomerReference, "AAT-AA001-001"}) {
			t.Fatalf("got %v %v %+v", d.Outcome, got(d), d.Lookup)
		}
		d.Resolve([]ServicePoint{spFR})
		if d.Outcome != Accepted || d.ServicePoint == nil || *d.ServicePoint != spFR || d.Type != TypeDisconnect {
			t.Fatalf("got %v %+v", d.Outcome, d)
		}
	})
	t.Run("update uses the most specific identifier", func(t *testing.T) {
		d := (&Rules{}).Decide(rec(updateBody))
		if d.Outcome != NeedsServicePoint || d.Lookup != (Lookup{ByID, "SP-0002"}) {
			t.Fatalf("got %v %v %+v", d.Outcome, got(d), d.Lookup)
		}
		d.Resolve([]ServicePoint{{ID: "SP-0002", Reference: "REF-0002", Market: "BE"}})
		if d.Outcome != Accepted || d.Type != TypeUpdate {
			t.Fatalf("an update is not bound to the French market: got %v %v", d.Outcome, got(d))
		}
	})
	t.Run("account", func(t *testing.T) {
		d := (&Rules{}).Decide(rec(accountBody, append(accountHeaders, "lob=FIXED", "channelId=BUS")...))
		if d.Outcome != Accepted || d.Type != TypeAccountContact {
			t.Fatalf("got %v %v", d.Outcome, got(d))
		}
		if d.BillingAccount == nil || *d.BillingAccount != (BillingAccount{"PA", "ACC-1"}) {
			t.Errorf("billing account %+v", d.BillingAccount)
		}
		want := []string{"header 'channelId' is deprecated", "header 'lob' is deprecated"}
		if strings.Join(d.Warnings, "|") != strings.Join(want, "|") {
			t.Errorf("warnings %q, want %q", d.Warnings, want)
		}
	})
	t.Run("account with a known client", func(t *testing.T) {
		r := Rules{Clients: testClients(t)}
		d := r.Decide(rec(accountBody, "type=PATCH-billingAccountById", "businessId=JM", "id=ACC-1", "client_id=jm-channel", "client_secret=jm-secret-1"))
		if d.Outcome != Accepted {
			t.Fatalf("got %v %v", d.Outcome, got(d))
		}
	})
}
