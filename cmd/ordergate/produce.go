package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ordergate/ordergate/internal/app/produce"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/segmentio/kafka-go"
)

func cmdProduce(args []string, e *env) int {
	fs := newFlags(e, "produce", "[flags] FILE...  (- reads standard input)",
		`Publishes each file as one record of the input topic and prints its partition and offset.
The broker is --brokers, else ORDERGATE_KAFKA_BROKERS (with the ORDERGATE_KAFKA_SASL_* and
_TLS_* settings), else a running ordergate dev.`)
	var headers headerFlags
	fs.Var(&headers, "H", "a record header `NAME=VALUE` (or \"NAME: VALUE\"); repeatable")
	fs.secret["H"] = true
	key := fs.String("key", "", "the record `KEY`")
	at := fs.String("at", "", "the record timestamp, an RFC 3339 `TIME` (default: now; a LogAppendTime topic overrides it)")
	brokers := fs.String("brokers", "", "comma-separated `HOST:PORT` list (default: ORDERGATE_KAFKA_BROKERS, else a running dev)")
	topic := fs.String("topic", "", "the `TOPIC` (default: ORDERGATE_TOPIC_REQUESTS)")
	asJSON := fs.Bool("json", false, "print one JSON object per file instead of a line")
	files, err := fs.parse(args)
	if err != nil {
		return status(err)
	}
	if len(files) == 0 {
		fs.failUsage("no request file given")
		return exitUsage
	}
	recordTime, err := parseAt(*at, e.now)
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate produce:", err)
		return exitUsage
	}
	cfg, k, ok := toolClients(e, "produce", *brokers)
	if !ok {
		return exitUsage
	}
	addrs := strings.Join(cfg.KafkaBrokers, ",")
	if *topic == "" {
		*topic = cfg.TopicRequests
	}
	defer k.Close()
	ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	defer cancel()
	partitions, err := partitionsOf(ctx, k.Client, *topic)
	if err != nil {
		printErr(e, "produce", cfg, fmt.Errorf("%s at %s: %w", *topic, addrs, err))
		return exitFailure
	}
	enc := json.NewEncoder(e.stdout)
	for _, name := range files {
		value, err := readInput(name, e.stdin)
		if err != nil {
			fmt.Fprintln(e.stderr, "ordergate produce:", err)
			return exitUsage
		}
		// The partition Java producers and ordergate's own writer would pick: murmur2 of
		// the key (a random partition without a key).
		rec := order.Record{Key: []byte(*key), Value: value, Headers: headers, Time: recordTime}
		p, offset, err := produce.One(ctx, k.Client, *topic, partitions, &rec)
		if err != nil {
			printErr(e, "produce", cfg, fmt.Errorf("%s to %s at %s: %w", name, *topic, addrs, err))
			return exitFailure
		}
		if *asJSON {
			_ = enc.Encode(produced{File: name, Topic: *topic, Partition: p, Offset: offset})
			continue
		}
		fmt.Fprintf(e.stdout, "%s: %s partition %d offset %d\n", name, *topic, p, offset)
	}
	return exitOK
}

// produced is one line of `produce --json`.
type produced struct {
	File      string `json:"file"`
	Topic     string `json:"topic"`
	Partition int    `json:"partition"`
	Offset    int64  `json:"offset"`
}

// partitionsOf returns the partition ids of a topic; an unknown topic's error names the
// closest topic the broker has.
func partitionsOf(ctx context.Context, client *kafka.Client, topic string) ([]int, error) {
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, err
	}
	if len(meta.Topics) != 1 {
		return nil, fmt.Errorf("no metadata for the topic")
	}
	if err := meta.Topics[0].Error; err != nil {
		return nil, topicError(ctx, client, topic, err)
	}
	ids := make([]int, 0, len(meta.Topics[0].Partitions))
	for _, p := range meta.Topics[0].Partitions {
		ids = append(ids, p.ID)
	}
	return ids, nil
}
