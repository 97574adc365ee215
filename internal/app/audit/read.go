package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

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
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, nil, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		return nil, nil, fmt.Errorf("topic %s: %v", topic, meta.Topics[0].Error)
	}
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for _, p := range meta.Topics[0].Partitions {
		req.Topics[topic] = append(req.Topics[topic], kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
	}
	resp, err := client.ListOffsets(ctx, req)
	if err != nil {
		return nil, nil, fmt.Errorf("offsets of %s: %w", topic, err)
	}
	first, last = map[int]int64{}, map[int]int64{}
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			return nil, nil, fmt.Errorf("offsets of %s/%d: %w", topic, po.Partition, po.Error)
		}
		first[po.Partition], last[po.Partition] = po.FirstOffset, po.LastOffset
	}
	return first, last, nil
}

// readPartition reads the records of one partition from first to last (excluded).
func readPartition(ctx context.Context, dialer *kafka.Dialer, brokers []string, topic string, p int, first, last int64) ([]kafka.Message, error) {
	if last <= first {
		return nil, nil
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: brokers, Topic: topic, Partition: p, Dialer: dialer,
		MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 100 * time.Millisecond,
	})
	defer r.Close()
	if err := r.SetOffset(first); err != nil {
		return nil, err
	}
	var out []kafka.Message
	for {
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		m, err := r.FetchMessage(rctx)
		cancel()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				return nil, fmt.Errorf("%s/%d: no record at offset %d within 30s (the topic ends at %d)", topic, p, r.Offset(), last)
			}
			return nil, fmt.Errorf("%s/%d: %w", topic, p, err)
		}
		out = append(out, m)
		if m.Offset+1 >= last {
			return out, nil
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
