package order

import (
	"testing"
)

// benchDisconnect is a valid R_BVPN_FR_1 request of about 750 bytes, compact as producers
// usually send it.
func benchDisconnect(b *testing.B) []byte {
	body := edits(b, disconnectBody,
		"properties.contacts.secondary", `{"title":"Mme","firstName":"Claire","lastName":"DUBOIS-LANGEL","phone":"+33401010102","mobile":"+33600200201","email":"claire.dubois@mycompany.com"}`,
		"properties.servicePoint", `{"id":"SP-00000012345","reference":"REF-BVPN-000012345","customerReference":"AAT-AA001-001"}`,
		"customerReference", `"WAN-AAT-AA001-001-PARIS-LA-DEFENSE-TOUR-EUROPE-ETAGE-12-SALLE-SERVEURS-B"`,
	)
	return []byte(body)
}

// BenchmarkDecide measures parse + rows 1-16 of a valid ~750-byte disconnect request.
func BenchmarkDecide(b *testing.B) {
	value := benchDisconnect(b)
	r := &Record{Value: value, Time: testNow, Headers: []Header{
		{Key: "X-Correlation-ID", Value: []byte("5f0c6d3e-2b1a-4c8e-9f00-1a2b3c4d5e6f")},
		{Key: "channelId", Value: []byte("BUS")},
	}}
	rules := &Rules{}
	if d := rules.Decide(r); d.Outcome != NeedsServicePoint {
		b.Fatalf("benchmark record is not valid: %v", got(d))
	}
	b.SetBytes(int64(len(value)))
	b.ReportAllocs()
	for b.Loop() {
		d := rules.Decide(r)
		d.Resolve([]ServicePoint{spFR})
	}
}

// BenchmarkDecideRejected measures a request rejected by row 14 with two violations.
func BenchmarkDecideRejected(b *testing.B) {
	value := []byte(edits(b, string(benchDisconnect(b)),
		"properties.contacts.primary.phone", `"0140"`, "properties.contacts.secondary.email", `"x"`))
	r := &Record{Value: value, Time: testNow}
	rules := &Rules{}
	b.SetBytes(int64(len(value)))
	b.ReportAllocs()
	for b.Loop() {
		rules.Decide(r)
	}
}
