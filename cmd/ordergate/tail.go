package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/config"
)

func cmdTail(args []string, e *env) int {
	fs := newFlags(e, "tail", "[flags]", `Reads the accepted, rejected and dead-letter topics (names from the ORDERGATE_TOPIC_*
variables) and prints one line per event, as ordergate dev does: where its input was, the
request type, the key and the decision. --json prints the events themselves, one per line
(a dead-letter record as {"deadLetter": {...}}). Runs until Ctrl-C, or until -n records.`)
	brokers := fs.String("brokers", "", "comma-separated `HOST:PORT` list (default: ORDERGATE_KAFKA_BROKERS, else a running dev)")
	fromStart := fs.Bool("from-beginning", false, "read the topics from their first record instead of from now")
	count := fs.Int("n", 0, "exit after `N` records (0: run until Ctrl-C)")
	asJSON := fs.Bool("json", false, "print the raw events, one JSON object per line")
	if err := fs.parseNoArgs(args); err != nil {
		return status(err)
	}
	cfg, k, ok := toolClients(e, "tail", *brokers)
	if !ok {
		return exitUsage
	}
	defer k.Close()
	ctx, stop := signalContext(e, nil)
	defer stop()
	readers, err := tailReaders(ctx, cfg, k.Client, k.Dialer, *fromStart)
	if err != nil {
		printErr(e, "tail", cfg, fmt.Errorf("%s: %w", strings.Join(cfg.KafkaBrokers, ","), err))
		return exitUsage
	}
	records := make(chan tailRecord)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, r := range readers {
		wg.Go(func() { r.follow(ctx, records) })
	}
	defer func() {
		cancel()
		wg.Wait()
	}()
	p := newPrinter(e.stdout, useColor(e.stdout), len("input 00/000000"))
	out := json.NewEncoder(e.stdout)
	for n := 0; *count == 0 || n < *count; n++ {
		var rec tailRecord
		select {
		case rec = <-records:
		case <-ctx.Done():
			return exitOK
		}
		if *asJSON {
			writeRawEvent(out, e.stdout, rec)
			continue
		}
		o := parseOutcome(rec.dlq, rec.msg)
		p.line(o, "input "+o.source, nil)
	}
	return exitOK
}

// tailRecord is one record of an output topic.
type tailRecord struct {
	dlq bool
	msg kafka.Message
}

// tailReader follows one partition of an output topic.
type tailReader struct {
	r   *kafka.Reader
	dlq bool
}

// tailReaders opens a reader per partition of the three output topics, at their end (or
// their start with fromStart).
func tailReaders(ctx context.Context, cfg config.Config, client *kafka.Client, dialer *kafka.Dialer, fromStart bool) ([]tailReader, error) {
	var readers []tailReader
	for _, topic := range []string{cfg.TopicAccepted, cfg.TopicRejected, cfg.TopicDLQ} {
		partitions, err := partitionsOf(ctx, client, topic)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", topic, err)
		}
		for _, p := range partitions {
			r := kafka.NewReader(kafka.ReaderConfig{Brokers: cfg.KafkaBrokers, Topic: topic, Partition: p, Dialer: dialer,
				MaxWait: 200 * time.Millisecond, MaxBytes: 16 << 20})
			offset := kafka.LastOffset
			if fromStart {
				offset = kafka.FirstOffset
			}
			if err := r.SetOffset(offset); err != nil {
				r.Close()
				return nil, err
			}
			readers = append(readers, tailReader{r: r, dlq: topic == cfg.TopicDLQ})
		}
	}
	return readers, nil
}

// follow sends every record of the partition until ctx ends, then closes the reader.
func (t tailReader) follow(ctx context.Context, out chan<- tailRecord) {
	defer t.r.Close()
	for {
		m, err := t.r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, io.EOF) {
				return
			}
			select { // a broker that went away: try again in a moment
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		select {
		case out <- tailRecord{dlq: t.dlq, msg: m}:
		case <-ctx.Done():
			return
		}
	}
}

// writeRawEvent prints an event as it was published (one line), or a dead-letter record as
// an object that carries its headers and the input's value.
func writeRawEvent(enc *json.Encoder, w io.Writer, rec tailRecord) {
	if !rec.dlq {
		var compact bytes.Buffer
		if err := json.Compact(&compact, rec.msg.Value); err == nil {
			compact.WriteByte('\n')
			_, _ = w.Write(compact.Bytes())
			return
		}
	}
	headers := map[string]string{}
	for _, h := range rec.msg.Headers {
		headers[h.Key] = string(h.Value)
	}
	_ = enc.Encode(map[string]any{"deadLetter": map[string]any{
		"topic": rec.msg.Topic, "partition": rec.msg.Partition, "offset": rec.msg.Offset,
		"key": string(rec.msg.Key), "headers": headers, "value": string(rec.msg.Value),
	}})
}
