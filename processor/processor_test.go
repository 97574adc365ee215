package processor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ordergate/ordergate/processor/order"
)

// recordTime makes "today" 2026-12-04 in Paris.
var recordTime = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

// decidedAt is the processor's clock in these tests.
var decidedAt = time.Date(2026, 12, 4, 10, 0, 1, 0, time.UTC)

// disconnect is a valid R_BVPN_FR_1 request naming service point id.
func disconnect(id string) order.Record {
	return order.Record{Time: recordTime, Value: fmt.Appendf(nil, `{"type":"R_BVPN_FR_1","requestedAt":"2027-01-04",`+
		`"properties":{"servicePoint":{"id":%q},"contacts":{"primary":{"title":"M","firstName":"Paul","lastName":"LANGEL",`+
		`"phone":"+33401010101","mobile":"+33600200200","email":"paul.langel@mycompany.com"}}}}`, id)}
}

// account is a valid account request, which needs no service point.
func account() order.Record {
	return order.Record{Time: recordTime, Value: []byte(`{"contact":[{"contactName":"J","partyRoleType":"OWNER","contactMedium":[` +
		`{"mediumType":"Email","characteristic":{"emailAddress":"j@example.com","contactType":"email"}}]}]}`),
		Headers: order.HeaderPairs([][2]string{{"type", "PATCH-billingAccountById"}, {"businessId", "PA"}, {"id", "ACC-1"},
			{"client_id", "channel-1"}, {"client_secret", "s3cret-1"}})}
}

// fakeResolver answers lookups by id from points, remembers every call, and fails while
// failing > 0.
type fakeResolver struct {
	points  map[string][]order.ServicePoint
	calls   [][]order.Lookup
	failing int
}

var errRedisDown = errors.New("redis: connection refused")

func (f *fakeResolver) Resolve(_ context.Context, lookups []order.Lookup) ([][]order.ServicePoint, error) {
	f.calls = append(f.calls, slices.Clone(lookups))
	if f.failing > 0 {
		f.failing--
		return nil, errRedisDown
	}
	out := make([][]order.ServicePoint, len(lookups))
	for i, l := range lookups {
		out[i] = f.points[l.Value]
	}
	return out, nil
}

func newResolver() *fakeResolver {
	return &fakeResolver{points: map[string][]order.ServicePoint{
		"SP-FR":     {{ID: "SP-FR", Market: "FR", State: "OPERATIONAL"}},
		"SP-BE":     {{ID: "SP-BE", Market: "BE", State: "OPERATIONAL"}},
		"SP-TWICE":  {{ID: "SP-TWICE", Market: "FR"}, {ID: "SP-TWICE", Market: "FR"}},
		"SP-ABSENT": nil,
	}}
}

// outcome is a result as "accepted", "rejected:CODE" or "pending".
func outcome(r *Result) string {
	if e := r.Decision.Error(); e != nil {
		return fmt.Sprintf("rejected:%d", e.Code())
	}
	return r.Decision.Outcome.String()
}

// TestProcessResolvesThePendingRecordsOfABatchAtOnce: a batch mixing records that the
// pure rows decide with records that need a service point makes one resolver call, with
// the lookups of the pending records only, in input order, and each answer goes to its
// record.
func TestProcessResolvesThePendingRecordsOfABatchAtOnce(t *testing.T) {
	in := []order.Record{
		disconnect("SP-FR"),
		{Time: recordTime, Value: []byte(`{"type":`)},
		disconnect("SP-BE"),
		account(),
		disconnect("SP-ABSENT"),
		disconnect("SP-TWICE"),
	}
	res := newResolver()
	p := New(&order.Rules{}, res, func() time.Time { return decidedAt })
	out := make([]Result, len(in))
	if err := p.Process(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	want := []string{"accepted", "rejected:22", "rejected:3620", "accepted", "rejected:3622", "rejected:3621"}
	for i := range out {
		if got := outcome(&out[i]); got != want[i] {
			t.Errorf("record %d: %s, want %s", i, got, want[i])
		}
		if out[i].Record != &in[i] || !out[i].Decided.Equal(decidedAt) || out[i].DecideDuration < 0 {
			t.Errorf("record %d: result of %p at %v, want of its own record %p at the processor's clock", i, out[i].Record, out[i].Decided, &in[i])
		}
	}
	wantLookups := []order.Lookup{{Criterion: order.ByID, Value: "SP-FR"}, {Criterion: order.ByID, Value: "SP-BE"},
		{Criterion: order.ByID, Value: "SP-ABSENT"}, {Criterion: order.ByID, Value: "SP-TWICE"}}
	if len(res.calls) != 1 || !slices.Equal(res.calls[0], wantLookups) {
		t.Errorf("resolver calls %v, want one call with %v", res.calls, wantLookups)
	}
	if sp := out[0].Decision.ServicePoint; sp == nil || sp.ID != "SP-FR" {
		t.Errorf("accepted disconnect carries service point %v, want SP-FR", sp)
	}
}

// TestProcessWithNothingToResolveMakesNoCall: a batch the pure rows decide entirely costs
// no resolver call (no Redis round trip).
func TestProcessWithNothingToResolveMakesNoCall(t *testing.T) {
	in := []order.Record{account(), {Time: recordTime}, {Time: recordTime, Value: []byte(`[1]`)}}
	res := newResolver()
	out := make([]Result, len(in))
	if err := New(&order.Rules{}, res, nil).Process(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	if len(res.calls) != 0 {
		t.Errorf("%d resolver calls for a batch without pending records", len(res.calls))
	}
	if got := []string{outcome(&out[0]), outcome(&out[1]), outcome(&out[2])}; !slices.Equal(got, []string{"accepted", "rejected:21", "rejected:22"}) {
		t.Errorf("outcomes %v", got)
	}
}

// TestProcessResolverFailureFailsTheBatch: a failed resolution is never a decision: the
// error comes back as it is (for the consumer to retry), and the batch processed again
// gets every decision.
func TestProcessResolverFailureFailsTheBatch(t *testing.T) {
	in := []order.Record{account(), disconnect("SP-FR"), disconnect("SP-ABSENT")}
	res := newResolver()
	res.failing = 1
	p := New(&order.Rules{}, res, func() time.Time { return decidedAt })
	out := make([]Result, len(in))
	if err := p.Process(context.Background(), in, out); !errors.Is(err, errRedisDown) {
		t.Fatalf("Process returned %v, want the resolver's error", err)
	}
	if err := p.Process(context.Background(), in, out); err != nil {
		t.Fatalf("the batch again: %v", err)
	}
	if got := []string{outcome(&out[0]), outcome(&out[1]), outcome(&out[2])}; !slices.Equal(got, []string{"accepted", "accepted", "rejected:3622"}) {
		t.Errorf("outcomes after the retry %v", got)
	}
}

// TestProcessUsesTheRulesInForce: rules replaced (a reload) apply to the next batch.
func TestProcessUsesTheRulesInForce(t *testing.T) {
	p := New(&order.Rules{}, newResolver(), nil)
	in := []order.Record{account()}
	out := make([]Result, 1)
	p.SetRules(&order.Rules{MaxBodyBytes: 10})
	if err := p.Process(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	if got := outcome(&out[0]); got != "rejected:66" || p.Rules().MaxBodyBytes != 10 {
		t.Errorf("with a 10-byte limit: %s, want rejected:66", got)
	}
}
