package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/internal/testkit"
	"github.com/ordergate/ordergate/order"
)

// writeInventory writes an inventory file of n French service points for a worker process.
func writeInventory(t *testing.T, n int) string {
	t.Helper()
	list := make([]order.ServicePoint, n)
	for i := range list {
		list[i] = order.ServicePoint{ID: fmt.Sprintf("SP-%d", i), Reference: fmt.Sprintf("REF-%d", i),
			CustomerReference: fmt.Sprintf("CR-%d", i), Name: "site", Market: "FR", State: "OPERATIONAL"}
	}
	data, _ := json.Marshal(list)
	path := filepath.Join(t.TempDir(), "inventory.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// readTopic reads every record of a topic, partition by partition.
func readTopic(t *testing.T, ctx context.Context, c *testkit.Cluster, topic string) []kafka.Message {
	t.Helper()
	meta, err := c.Client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		t.Fatal(err)
	}
	var out []kafka.Message
	for _, p := range meta.Topics[0].Partitions {
		resp, err := c.Client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID)}}})
		if err != nil {
			t.Fatal(err)
		}
		po := resp.Topics[topic][0]
		if po.LastOffset <= po.FirstOffset {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: c.Brokers, Topic: topic, Partition: p.ID, MaxWait: 50 * time.Millisecond})
		r.SetOffset(po.FirstOffset)
		for {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				r.Close()
				t.Fatalf("read %s/%d: %v", topic, p.ID, err)
			}
			out = append(out, m)
			if m.Offset+1 >= po.LastOffset {
				break
			}
		}
		r.Close()
	}
	return out
}
