package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// Cluster is how the tools that read the topics reach Kafka: the client (its transport
// carries TLS and SASL), the dialer of the readers, and the brokers.
type Cluster struct {
	Client  *kafka.Client
	Dialer  *kafka.Dialer
	Brokers []string
}

// Topics names the topics to check.
type Topics struct {
	Requests, Accepted, Rejected, DLQ string
}

// Read reads the input topic's offsets and every record of the output topics up to their
// current end, and verifies them.
func Read(ctx context.Context, client *kafka.Client, dialer *kafka.Dialer, brokers []string, t Topics, opts Options) (*Report, error) {
	first, last, err := offsets(ctx, client, t.Requests)
	if err != nil {
		return nil, err
	}
	var outputs []Output
	for _, topic := range []string{t.Accepted, t.Rejected, t.DLQ} {
		ofirst, olast, err := offsets(ctx, client, topic)
		if err != nil {
			return nil, err
		}
		for p := range olast {
			recs, err := readPartition(ctx, dialer, brokers, topic, p, ofirst[p], olast[p])
			if err != nil {
				return nil, err
			}
			for _, m := range recs {
				var o Output
				if topic == t.DLQ {
					hs := map[string]string{}
					for _, h := range m.Headers {
						hs[h.Key] = string(h.Value)
					}
					if IsReplayMarker(hs) {
						continue
					}
					o, err = ParseDeadLetter(hs, t.Requests)
				} else {
					o, err = ParseEvent(m.Value, t.Requests)
				}
				if err != nil {
					return nil, fmt.Errorf("%s/%d/%d: %w", topic, p, m.Offset, err)
				}
				o.Topic, o.Partition, o.Offset, o.Key = topic, p, m.Offset, string(m.Key)
				outputs = append(outputs, o)
			}
		}
	}
	return Verify(first, last, outputs, opts), nil
}

// offsets returns the first and last (next) offset of every partition of a topic.
func offsets(ctx context.Context, client *kafka.Client, topic string) (first, last map[int]int64, err error) {
	return Offsets(ctx, client, topic)
}

// Offsets returns the first and last (next) offset of every partition of a topic.
func Offsets(ctx context.Context, client *kafka.Client, topic string) (first, last map[int]int64, err error) {
	parts, err := partitions(ctx, client, topic)
	if err != nil {
		return nil, nil, err
	}
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for _, p := range parts {
		req.Topics[topic] = append(req.Topics[topic], kafka.FirstOffsetOf(p), kafka.LastOffsetOf(p))
	}
	resp, err := listOffsets(ctx, client, topic, req)
	if err != nil {
		return nil, nil, err
	}
	first, last = map[int]int64{}, map[int]int64{}
	for _, po := range resp {
		first[po.Partition], last[po.Partition] = po.FirstOffset, po.LastOffset
	}
	return first, last, nil
}

// OffsetsAt returns, for every partition of a topic, the offset of its first record at or
// after t (the partition's last offset when there is none).
func OffsetsAt(ctx context.Context, client *kafka.Client, topic string, t time.Time) (map[int]int64, error) {
	_, last, err := Offsets(ctx, client, topic)
	if err != nil {
		return nil, err
	}
	// A separate request: kafka-go reads a "none found" answer (offset and timestamp -1)
	// as a last offset.
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for p := range last {
		req.Topics[topic] = append(req.Topics[topic], kafka.TimeOffsetOf(p, t))
	}
	resp, err := listOffsets(ctx, client, topic, req)
	if err != nil {
		return nil, err
	}
	at := map[int]int64{}
	for p, end := range last {
		at[p] = end
	}
	for _, po := range resp {
		for off := range po.Offsets {
			if off >= 0 && off < at[po.Partition] {
				at[po.Partition] = off
			}
		}
	}
	return at, nil
}

func partitions(ctx context.Context, client *kafka.Client, topic string) ([]int, error) {
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		return nil, fmt.Errorf("topic %s: %v", topic, meta.Topics[0].Error)
	}
	var ids []int
	for _, p := range meta.Topics[0].Partitions {
		ids = append(ids, p.ID)
	}
	return ids, nil
}

func listOffsets(ctx context.Context, client *kafka.Client, topic string, req *kafka.ListOffsetsRequest) ([]kafka.PartitionOffsets, error) {
	resp, err := client.ListOffsets(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("offsets of %s: %w", topic, err)
	}
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("offsets of %s/%d: %w", topic, po.Partition, po.Error)
		}
	}
	return resp.Topics[topic], nil
}

// readPartition reads the records of one partition from first to last (excluded).
func readPartition(ctx context.Context, dialer *kafka.Dialer, brokers []string, topic string, p int, first, last int64) ([]kafka.Message, error) {
	var out []kafka.Message
	err := Scan(ctx, dialer, brokers, topic, p, first, last, func(m kafka.Message) error {
		out = append(out, m)
		return nil
	})
	return out, err
}

// Scan hands each record of one partition, from first to last (excluded), to fn, in order,
// without keeping them; an error of fn stops the scan and is returned. It reads with a
// plain partition reader: no consumer group, no offset commit.
func Scan(ctx context.Context, dialer *kafka.Dialer, brokers []string, topic string, p int, first, last int64, fn func(kafka.Message) error) error {
	if last <= first {
		return nil
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: brokers, Topic: topic, Partition: p, Dialer: dialer,
		MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 100 * time.Millisecond,
	})
	defer r.Close()
	if err := r.SetOffset(first); err != nil {
		return err
	}
	for {
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		m, err := r.FetchMessage(rctx)
		cancel()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				return fmt.Errorf("%s/%d: no record at offset %d within 30s (the topic ends at %d)", topic, p, r.Offset(), last)
			}
			return fmt.Errorf("%s/%d: %w", topic, p, err)
		}
		if err := fn(m); err != nil {
			return err
		}
		if m.Offset+1 >= last {
			return nil
		}
	}
}

// ReadAll reads every record of a topic, partition by partition, up to its current end.
func ReadAll(ctx context.Context, client *kafka.Client, dialer *kafka.Dialer, brokers []string, topic string) ([]kafka.Message, error) {
	first, last, err := offsets(ctx, client, topic)
	if err != nil {
		return nil, err
	}
	var out []kafka.Message
	for p := range last {
		recs, err := readPartition(ctx, dialer, brokers, topic, p, first[p], last[p])
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	return out, nil
}
