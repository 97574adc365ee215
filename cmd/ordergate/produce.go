package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/produce"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/processor/order"
)

// devStateFile is where a running `ordergate dev` writes its broker address, so that
// produce and check find it without flags.
func devStateFile() string {
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "ordergate-dev.json")
}

type devState struct {
	Brokers []string `json:"brokers"`
	PID     int      `json:"pid"`
}

// processAlive reports whether a process with that pid exists (signal 0 checks without
// sending anything).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	return err == nil && p.Signal(syscall.Signal(0)) == nil
}

// resolveBrokers picks the brokers: the flag, else a running dev, else the configuration.
func resolveBrokers(flagValue string, cfg config.Config) []string {
	if flagValue != "" {
		return strings.Split(flagValue, ",")
	}
	if b, err := os.ReadFile(devStateFile()); err == nil {
		var s devState
		if json.Unmarshal(b, &s) == nil && len(s.Brokers) > 0 && processAlive(s.PID) {
			return s.Brokers
		}
	}
	return cfg.KafkaBrokers
}

func cmdProduce(args []string, e *env) int {
	fs := flag.NewFlagSet("produce", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var headers headerFlags
	fs.Var(&headers, "H", "a record header `name=value` (repeatable)")
	key := fs.String("key", "", "the record key")
	at := fs.String("at", "", "the record timestamp, RFC 3339 (default: now; a LogAppendTime topic overrides it)")
	brokers := fs.String("brokers", "", "comma-separated brokers (default: a running `ordergate dev`, else ORDERGATE_KAFKA_BROKERS)")
	topic := fs.String("topic", "", "the topic (default: ORDERGATE_TOPIC_REQUESTS)")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: ordergate produce [flags] FILE...  (- reads standard input)")
		fmt.Fprintln(e.stderr, "\nPublishes each file as one record of the input topic and prints its partition and offset.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return parseStatus(err)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	cfg, _, err := config.Load()
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate:", err)
		return exitUsage
	}
	recordTime, err := parseAt(*at, e.now)
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate produce:", err)
		return exitUsage
	}
	if *topic == "" {
		*topic = cfg.TopicRequests
	}
	addrs := resolveBrokers(*brokers, cfg)
	k, err := worker.KafkaClients(cfg, addrs)
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate:", err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	defer cancel()
	partitions, err := partitionsOf(ctx, k.Client, *topic)
	if err != nil {
		fmt.Fprintf(e.stderr, "ordergate produce: %s at %s: %v\n", *topic, strings.Join(addrs, ","), err)
		return exitFailure
	}
	for _, name := range fs.Args() {
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
			fmt.Fprintf(e.stderr, "ordergate produce: %s to %s at %s: %v\n", name, *topic, strings.Join(addrs, ","), err)
			return exitFailure
		}
		fmt.Fprintf(e.stdout, "%s: %s partition %d offset %d\n", name, *topic, p, offset)
	}
	return exitOK
}

// partitionsOf returns the partition ids of a topic.
func partitionsOf(ctx context.Context, client *kafka.Client, topic string) ([]int, error) {
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, err
	}
	if len(meta.Topics) != 1 {
		return nil, fmt.Errorf("no metadata for the topic")
	}
	if err := meta.Topics[0].Error; err != nil {
		return nil, err
	}
	ids := make([]int, 0, len(meta.Topics[0].Partitions))
	for _, p := range meta.Topics[0].Partitions {
		ids = append(ids, p.ID)
	}
	return ids, nil
}
