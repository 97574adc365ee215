// Package bench measures ordergate against a referee, in one run on one broker: generated
// records; plain kafka-go forwarding them (Passthrough), the same writing records as heavy as
// the worker's events, and the worker's own consumer loop forwarding them (Ceiling); then the
// real worker with a cold and with a warm cache. `ordergate bench` prints its report.
package bench

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ordergate/ordergate/processor/order"
)

// Generator makes ~750-byte requests of the three types, a given share of them invalid.
type Generator struct {
	rnd           *rand.Rand
	servicePoints int
	invalidRatio  float64
}

// NewGenerator returns a deterministic generator (same seed, same records).
func NewGenerator(servicePoints int, invalidRatio float64, seed uint64) *Generator {
	return &Generator{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), servicePoints: servicePoints, invalidRatio: invalidRatio}
}

// Inventory returns the generated inventory: n service points, nine in ten French.
func Inventory(n int) []byte {
	list := make([]order.ServicePoint, n)
	for i := range list {
		market := "FR"
		if i%10 == 9 {
			market = "BE"
		}
		list[i] = order.ServicePoint{ID: fmt.Sprintf("SP-%07d", i), Reference: fmt.Sprintf("BVPN-%07d", i),
			CustomerReference: fmt.Sprintf("AAT-%07d", i), Name: fmt.Sprintf("Site %d", i), Market: market, State: "OPERATIONAL"}
	}
	data, _ := json.Marshal(list)
	return data
}

// Next returns record number i, timestamped at.
func (g *Generator) Next(i int, at time.Time) order.Record {
	sp := g.rnd.IntN(g.servicePoints)
	customer := fmt.Sprintf("CUST-%05d", g.rnd.IntN(20000))
	invalid := g.rnd.Float64() < g.invalidRatio
	var r order.Record
	switch i % 3 {
	case 0:
		// Mostly French service points (nine in ten are), so that most disconnects pass.
		if sp%10 == 9 {
			sp--
		}
		r = order.Record{Value: disconnectBody(sp, i)}
	case 1:
		r = order.Record{Value: updateBody(sp, i)}
	default:
		r = order.Record{Value: accountBody(i), Headers: order.HeaderPairs([][2]string{
			{"type", "PATCH-billingAccountById"}, {"businessId", "PA"}, {"id", fmt.Sprintf("ACC-%07d", i)},
			{"client_id", "bench-channel"}, {"client_secret", "bench-secret"},
		})}
	}
	r.Headers = append(r.Headers, order.Header{Key: "X-Correlation-ID", Value: fmt.Appendf(nil, "bench-%09d", i)})
	if invalid {
		r.Value = g.spoil(r.Value)
	}
	r.Key = []byte(customer)
	r.Time = at
	return r
}

// spoil makes a request invalid in one of several ways.
func (g *Generator) spoil(v []byte) []byte {
	switch g.rnd.IntN(4) {
	case 0:
		return v[:len(v)/2] // not JSON
	case 1:
		return replace(v, `"+33600200200"`, `"0600200200"`) // bad phone
	case 2:
		return replace(v, `"primary":{"title"`, `"primary":{"name"`) // missing field and unknown field
	default:
		return replace(v, `"SP-`, `"XX-`) // no such service point
	}
}

func replace(v []byte, old, new string) []byte {
	s := string(v)
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return []byte(s[:i] + new + s[i+len(old):])
		}
	}
	return v
}

const contacts = `"contacts":{"primary":{"title":"M.","firstName":"Paul","lastName":"LANGEL","phone":"+33401010101","mobile":"+33600200200","email":"paul.langel@mycompany.com"},` +
	`"secondary":{"title":"Mrs.","firstName":"Claire","lastName":"DUBOIS-LANGEL","phone":"+33401010102","mobile":"+33600200201","email":"claire.dubois@mycompany.com"}}`

func disconnectBody(sp, i int) []byte {
	return fmt.Appendf(nil, `{"type":"R_BVPN_FR_1","requestedAt":"2027-01-04","customerReference":"WAN-AAT-%07d-PARIS-LA-DEFENSE","contract":"%06d",`+
		`"properties":{"servicePoint":{"id":"SP-%07d","reference":"BVPN-%07d"},%s}}`, i, i%1000000, sp, sp, contacts)
}

func updateBody(sp, i int) []byte {
	return fmt.Appendf(nil, `{"type":"U_BVPN_CUSTOM003_1","customerReference":"WAN-ABT-%07d","properties":{"servicePoint":{"customerReference":"AAT-%07d"},%s,`+
		`"profile":"FDJ CONNECT FTTH","options":{"bandwidth":"8M","wifi":"1","multicast":"no","quickstart":"yes","ethernet":"2","internal_antenna":"0","external_antenna":"1"}}}`,
		i, sp, contacts)
}

func accountBody(i int) []byte {
	return fmt.Appendf(nil, `{"contact":[{"contactName":"Jodian Malcolm %d","partyRoleType":"OWNER","contactMedium":[`+
		`{"mediumType":"Telephone","characteristic":{"phoneNumber":"12345678","contactType":"home"}},`+
		`{"mediumType":"Mobile","characteristic":{"phoneNumber":"+5076123456","contactType":"mobile1"}},`+
		`{"mediumType":"Email","characteristic":{"emailAddress":"jodian.malcolm@example.com","contactType":"billEmail"}},`+
		`{"mediumType":"Email","characteristic":{"emailAddress":"jodian.m@example.org","contactType":"email"}}]},`+
		`{"contactName":"Jodian","partyRoleType":"PORTIN","contactMedium":[{"mediumType":"Telephone","characteristic":{"phoneNumber":"87654321","contactType":"home"}}]}]}`, i)
}
