package pipeline

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/app/audit"
	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/internal/foundation/samples"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
)

// goldenClock is the decision time of the golden files.
var goldenClock = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

// TestSamplesGiveTheirGoldenEvents publishes every sample to the input topic and compares
// each event the worker publishes with the sample's golden file. Only what depends on where
// the record landed differs (eventId, source, and the correlation id and key when they
// default to the eventId); everything else must be equal.
func TestSamplesGiveTheirGoldenEvents(t *testing.T) {
	fsys := samples.Files()
	all, err := samples.Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	invData, err := os.ReadFile("../../internal/foundation/samples/requests/inventory.json")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := servicepoint.ParseFileInventory(invData)
	if err != nil {
		t.Fatal(err)
	}
	c := testkit.NewCluster(t, 1, nil)
	var recs []order.Record
	var sent []samples.Sample
	for _, s := range all {
		if s.Clients {
			continue // decided with the clients file: see the security tests
		}
		recs = append(recs, testkit.SampleRecord(&s))
		sent = append(sent, s)
	}
	c.Produce(t, recs...)
	cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
	testkit.StartWorker(t, cfg, worker.Options{Inventory: inv, Now: func() time.Time { return goldenClock }})
	c.WaitEvents(t, len(sent), time.Minute)
	c.Check(t, audit.Options{})

	bySource := map[int64]map[string]any{} // one partition: the offset is the sample's index
	keys := map[int64]string{}
	for _, topic := range []string{testkit.Topics.Accepted, testkit.Topics.Rejected} {
		for _, m := range c.Read(t, topic) {
			var ev map[string]any
			if err := json.Unmarshal(m.Value, &ev); err != nil {
				t.Fatal(err)
			}
			off := int64(ev["source"].(map[string]any)["offset"].(float64))
			bySource[off], keys[off] = ev, string(m.Key)
		}
	}
	for i, s := range sent {
		got, ok := bySource[int64(i)]
		if !ok {
			t.Errorf("%s: no event", s.Name)
			continue
		}
		data, err := os.ReadFile("../../internal/foundation/samples/requests/" + s.GoldenPath())
		if err != nil {
			t.Fatal(err)
		}
		var want map[string]any
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		id := got["eventId"]
		if got["correlationId"] == id {
			got["correlationId"] = want["eventId"]
		}
		wantKey := s.Key
		if wantKey == "" {
			wantKey = got["correlationId"].(string)
			if wantKey == want["eventId"] {
				wantKey = id.(string)
			}
		}
		if keys[int64(i)] != wantKey {
			t.Errorf("%s: key %q, want %q", s.Name, keys[int64(i)], wantKey)
		}
		got["eventId"], got["source"] = want["eventId"], want["source"]
		if !reflect.DeepEqual(got, want) {
			g, _ := json.MarshalIndent(got, "", "  ")
			t.Errorf("%s: the worker's event differs from its golden file:\n%s", s.Name, g)
		}
	}
}
