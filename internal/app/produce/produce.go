// Package produce writes input records to a topic as an upstream would: a keyed record goes
// to the partition murmur2 picks, as Java producers do, with its headers and timestamp, and
// is acknowledged by every in-sync replica. `ordergate produce`, `ordergate dev`, the bench
// and the test kit all produce through it.
package produce

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/processor/order"
)

// Chunk is the most records Write hands to the writer in one call.
const Chunk = 5000

// Message returns the kafka-go message of a record: no key when the key is empty.
func Message(r *order.Record) kafka.Message {
	m := kafka.Message{Value: r.Value, Time: r.Time}
	if len(r.Key) > 0 {
		m.Key = r.Key
	}
	if len(r.Headers) > 0 {
		m.Headers = make([]kafka.Header, len(r.Headers))
		for i, h := range r.Headers {
			m.Headers[i] = kafka.Header{Key: h.Key, Value: h.Value}
		}
	}
	return m
}

// NewWriter returns a writer of records to topic through transport (nil: plain TCP).
func NewWriter(brokers []string, topic string, transport kafka.RoundTripper) *kafka.Writer {
	return &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, Balancer: kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond, BatchSize: Chunk, BatchBytes: 8 << 20,
		Transport: transport}
}

// Write writes records in order, in calls of at most Chunk records, and returns once the
// broker acknowledged them all.
func Write(ctx context.Context, w *kafka.Writer, recs []order.Record) error {
	msgs := make([]kafka.Message, 0, min(len(recs), Chunk))
	for len(recs) > 0 {
		n := min(len(recs), Chunk)
		msgs = msgs[:0]
		for i := range recs[:n] {
			msgs = append(msgs, Message(&recs[i]))
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			return fmt.Errorf("produce: %w", err)
		}
		recs = recs[n:]
	}
	return nil
}

// One writes one record to the partition murmur2 picks among partitions (a random one for
// a record without a key) and returns that partition and the record's offset.
func One(ctx context.Context, client *kafka.Client, topic string, partitions []int, r *order.Record) (partition int, offset int64, err error) {
	m := Message(r)
	rec := kafka.Record{Time: m.Time, Value: kafka.NewBytes(m.Value), Headers: m.Headers}
	if m.Key != nil {
		rec.Key = kafka.NewBytes(m.Key)
	}
	partition = kafka.Murmur2Balancer{}.Balance(m, partitions...)
	resp, err := client.Produce(ctx, &kafka.ProduceRequest{
		Topic: topic, Partition: partition, RequiredAcks: kafka.RequireAll, Records: kafka.NewRecordReader(rec),
	})
	if err == nil && resp.Error != nil {
		err = resp.Error
	}
	if err != nil {
		return partition, 0, err
	}
	return partition, resp.BaseOffset, nil
}
