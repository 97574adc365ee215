package publisher

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
)

// writerBatchSize is the most events of one output partition in one produce request (see
// NewWriter): a full input batch of 1000 records over six output partitions gives each
// about 170.
const writerBatchSize = 256

// DefaultTopicLimit is Kafka's default max.message.bytes (1 MiB plus a record batch
// overhead), used when the topics' configuration cannot be read.
const DefaultTopicLimit = 1048588

// NewWriter returns the kafka-go Writer of the events: every write acknowledged by all
// in-sync replicas, batches flushed after 1 ms, one key's events always in one output
// partition (murmur2, as Java producers), no batch larger than limit bytes (before
// compression), batches compressed with compression (0: none), and few internal attempts,
// since the caller retries with its own backoff and metrics.
//
// BatchSize is writerBatchSize, not the 1000 records of an input batch: kafka-go allocates
// and clears room for BatchSize messages for each output partition's batch of every call,
// whatever it holds (152 KiB at 1000, for the 170 events a partition gets from a full
// input batch, or the two of a batch at low load).
func NewWriter(brokers []string, transport *kafka.Transport, limit int, compression kafka.Compression) *kafka.Writer {
	return &kafka.Writer{
		Addr:            kafka.TCP(brokers...),
		Balancer:        kafka.Murmur2Balancer{},
		RequiredAcks:    kafka.RequireAll,
		BatchTimeout:    100 * time.Microsecond,
		BatchSize:       writerBatchSize,
		BatchBytes:      int64(limit),
		Compression:     compression,
		MaxAttempts:     3,
		WriteBackoffMin: 10 * time.Millisecond,
		WriteBackoffMax: 200 * time.Millisecond,
		ReadTimeout:     10 * time.Second,
		WriteTimeout:    10 * time.Second,
		Transport:       transport,
	}
}

// TopicLimit returns the smallest max.message.bytes of the topics, read from the cluster.
func TopicLimit(ctx context.Context, client *kafka.Client, topics ...string) (int, error) {
	limits, err := TopicLimits(ctx, client, topics...)
	if err != nil {
		return 0, err
	}
	limit := 0
	for _, n := range limits {
		if limit == 0 || n < limit {
			limit = n
		}
	}
	return limit, nil
}

// TopicLimits returns the max.message.bytes of each topic, read from the cluster.
func TopicLimits(ctx context.Context, client *kafka.Client, topics ...string) (map[string]int, error) {
	req := &kafka.DescribeConfigsRequest{}
	for _, t := range topics {
		req.Resources = append(req.Resources, kafka.DescribeConfigRequestResource{
			ResourceType: kafka.ResourceTypeTopic, ResourceName: t, ConfigNames: []string{"max.message.bytes"},
		})
	}
	resp, err := client.DescribeConfigs(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("describe the output topics: %w", err)
	}
	limits := map[string]int{}
	for _, r := range resp.Resources {
		if r.Error != nil {
			return nil, fmt.Errorf("describe topic %s: %w", r.ResourceName, r.Error)
		}
		for _, e := range r.ConfigEntries {
			if e.ConfigName != "max.message.bytes" {
				continue
			}
			n, err := strconv.Atoi(e.ConfigValue)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("topic %s: max.message.bytes %q is not a positive number", r.ResourceName, e.ConfigValue)
			}
			limits[r.ResourceName] = n
		}
	}
	for _, t := range topics {
		if _, ok := limits[t]; !ok {
			return nil, fmt.Errorf("no max.message.bytes for topic %s", t)
		}
	}
	return limits, nil
}
