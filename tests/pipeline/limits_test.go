package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/internal/app/audit"
	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
)

// TestPerTopicLimits runs the worker on output topics of different max.message.bytes (issue
// 19), one way then the other: every event lands on its own topic, whole when its own topic
// takes it, cut only when its own topic needs it; and 60 rejections published at once, each
// small, all land whole on a small rejected topic (its batches stay within its limit).
// Before, the smallest limit of the two applied to both: a valid request's event was cut or
// dead-lettered although the accepted topic took it whole.
func TestPerTopicLimits(t *testing.T) {
	const large, small = 16384, 6000 // small: a 7.5 KB event is cut (to about 4.7 KB)
	acc := []string{"type", "PATCH-billingAccountById", "businessId", "PA", "id", "ACC-1", "client_id", "abcde", "client_secret", "fghij"}
	valid := `{"contact":[{"contactName":"J","partyRoleType":"OWNER","contactMedium":[{"mediumType":"Email","characteristic":{"contactType":"e","emailAddress":"j@x.fr"}}]}]}`
	big := strings.Replace(valid, `"J"`, `"`+strings.Repeat("J", 7000)+`"`, 1)
	rejected := `{"contact":7}`
	bigRejected := `{"contact":7,"note":"` + strings.Repeat("n", 7000) + `"}`
	for _, tc := range []struct {
		name     string
		acc, rej int
		// want is the outcome of valid, big, rejected, bigRejected: topic and whether cut.
		want [4]string
	}{
		{"accepted large, rejected small", large, small, [4]string{"accepted", "accepted", "rejected", "rejected cut"}},
		{"accepted small, rejected large", small, large, [4]string{"accepted", "accepted cut", "rejected", "rejected"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testkit.NewCluster(t, 3, nil)
			alter(t, c, map[string]int{testkit.Topics.Accepted: tc.acc, testkit.Topics.Rejected: tc.rej})
			cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
			testkit.StartWorker(t, cfg, worker.Options{Inventory: testkit.Inventory(t, 1)})
			var recs []order.Record
			for i, v := range []string{valid, big, rejected, bigRejected} {
				recs = append(recs, testkit.Record("limit-"+strconv.Itoa(i), []byte(v), testkit.RecordTime, acc...))
			}
			for i := range 60 {
				recs = append(recs, testkit.Record(fmt.Sprintf("burst-%d", i), []byte(`{"contact":[1,2,3,4,5,6,7,8,9]}`), testkit.RecordTime, acc...))
			}
			c.Produce(t, recs...)
			c.WaitCommitted(t, cfg.KafkaGroupID, time.Minute)
			got := map[string]string{}
			for _, topic := range []string{testkit.Topics.Accepted, testkit.Topics.Rejected} {
				for _, m := range c.Read(t, topic) {
					var ev struct {
						RequestTruncated bool `json:"requestTruncated"`
					}
					if err := json.Unmarshal(m.Value, &ev); err != nil {
						t.Fatal(err)
					}
					o := strings.TrimPrefix(topic, "orders.")
					if ev.RequestTruncated {
						o += " cut"
					}
					got[string(m.Key)] = o
				}
			}
			for i, want := range tc.want {
				if k := "limit-" + strconv.Itoa(i); got[k] != want {
					t.Errorf("record %d: %q, want %q", i, got[k], want)
				}
			}
			for i := range 60 {
				if k := fmt.Sprintf("burst-%d", i); got[k] != "rejected" {
					t.Errorf("burst record %d: %q, want rejected, whole", i, got[k])
				}
			}
			if n := c.Count(t, testkit.Topics.DLQ); n != 0 {
				t.Errorf("%d dead letters, want none", n)
			}
			c.Check(t, audit.Options{})
		})
	}
}

// alter sets max.message.bytes of topics.
func alter(t *testing.T, c *testkit.Cluster, limits map[string]int) {
	t.Helper()
	req := &kafka.AlterConfigsRequest{}
	for topic, n := range limits {
		req.Resources = append(req.Resources, kafka.AlterConfigRequestResource{ResourceType: kafka.ResourceTypeTopic, ResourceName: topic,
			Configs: []kafka.AlterConfigRequestConfig{{Name: "max.message.bytes", Value: strconv.Itoa(n)}}})
	}
	resp, err := c.Client.AlterConfigs(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for r, err := range resp.Errors {
		if err != nil {
			t.Fatalf("alter %v: %v", r, err)
		}
	}
}
