// Package testkit runs ordergate against real parts for the integration tests: an
// in-process kfake broker (a real Kafka-protocol server), the real redis-server, an
// inventory, and the worker either in-process or as the built binary in its own process
// (so that tests can SIGTERM and SIGKILL it).
package testkit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/audit"
	"github.com/ordergate/ordergate/internal/app/produce"
	"github.com/ordergate/ordergate/internal/foundation/samples"
	"github.com/ordergate/ordergate/internal/foundation/syncbuf"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
)

// Topics are the default topic names.
var Topics = audit.Topics{Requests: "orders.requests", Accepted: "orders.accepted", Rejected: "orders.rejected", DLQ: "orders.dlq"}

// Cluster is an in-process Kafka broker with the four topics.
type Cluster struct {
	*kfake.Cluster
	Brokers []string
	Client  *kafka.Client
	// Dialer and Transport carry the TLS and SASL settings of a secured cluster (nil:
	// plain); a test that secures the cluster sets them, and Client's transport too.
	Dialer    *kafka.Dialer
	Transport kafka.RoundTripper
}

// NewCluster starts a one-broker kfake cluster with the four topics, each with partitions
// partitions (outputConfigs applies to the three output topics, e.g. max.message.bytes).
func NewCluster(t testing.TB, partitions int, outputConfigs map[string]string, opts ...kfake.Opt) *Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(c.Close)
	if err := c.CreateTopic(Topics.Requests, int32(partitions), nil); err != nil {
		t.Fatal(err)
	}
	for _, topic := range []string{Topics.Accepted, Topics.Rejected, Topics.DLQ} {
		if err := c.CreateTopic(topic, int32(partitions), outputConfigs); err != nil {
			t.Fatal(err)
		}
	}
	brokers := c.ListenAddrs()
	return &Cluster{Cluster: c, Brokers: brokers, Client: &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}}
}

// Produce writes records to the input topic, keyed records by murmur2 as Java producers,
// in order, acknowledged by the broker.
func (c *Cluster) Produce(t testing.TB, recs ...order.Record) {
	t.Helper()
	w := produce.NewWriter(c.Brokers, Topics.Requests, c.Transport)
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := produce.Write(ctx, w, recs); err != nil {
		t.Fatal(err)
	}
}

// Record returns a record of key and value at time t, with headers given as name, value
// pairs.
func Record(key string, value []byte, t time.Time, headers ...string) order.Record {
	r := order.Record{Key: []byte(key), Value: value, Time: t}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Headers = append(r.Headers, order.Header{Key: headers[i], Value: []byte(headers[i+1])})
	}
	return r
}

// SampleRecord returns the record of a sample of the manifest.
func SampleRecord(s *samples.Sample) order.Record {
	return order.Record{Key: []byte(s.Key), Value: s.Value, Headers: order.HeaderPairs(s.Headers), Time: s.Time}
}

// Read returns every record of a topic, partition by partition.
func (c *Cluster) Read(t testing.TB, topic string) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	msgs, err := audit.ReadAll(ctx, c.Client, c.dialer(), c.Brokers, topic)
	if err != nil {
		t.Fatalf("read %s: %v", topic, err)
	}
	return msgs
}

func (c *Cluster) dialer() *kafka.Dialer {
	if c.Dialer != nil {
		return c.Dialer
	}
	return &kafka.Dialer{Timeout: 10 * time.Second}
}

// Count returns the records of a topic (sum of partition high watermarks minus starts).
func (c *Cluster) Count(t testing.TB, topic string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	meta, err := c.Client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		t.Fatalf("metadata: %v", err)
	}
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for _, p := range meta.Topics[0].Partitions {
		req.Topics[topic] = append(req.Topics[topic], kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
	}
	resp, err := c.Client.ListOffsets(ctx, req)
	if err != nil {
		t.Fatalf("list offsets: %v", err)
	}
	n := 0
	for _, po := range resp.Topics[topic] {
		n += int(po.LastOffset - po.FirstOffset)
	}
	return n
}

// Events returns the number of records on the three output topics.
func (c *Cluster) Events(t testing.TB) int {
	return c.Count(t, Topics.Accepted) + c.Count(t, Topics.Rejected) + c.Count(t, Topics.DLQ)
}

// WaitEvents waits until the output topics hold at least n records.
func (c *Cluster) WaitEvents(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := c.Events(t)
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events after %v, want %d", got, timeout, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Committed returns the committed offset of every input partition for a group (-1 when
// none).
func (c *Cluster) Committed(t testing.TB, group string) map[int]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	meta, err := c.Client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{Topics.Requests}})
	if err != nil {
		t.Fatalf("metadata: %v", err)
	}
	var parts []int
	for _, p := range meta.Topics[0].Partitions {
		parts = append(parts, p.ID)
	}
	resp, err := c.Client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{Topics.Requests: parts}})
	if err != nil {
		t.Fatalf("offset fetch: %v", err)
	}
	out := map[int]int64{}
	for _, p := range resp.Topics[Topics.Requests] {
		out[p.Partition] = p.CommittedOffset
	}
	return out
}

// Check runs the invariant checker on the topics and fails the test on any problem.
func (c *Cluster) Check(t testing.TB, opts audit.Options) *audit.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := audit.Read(ctx, c.Client, c.dialer(), c.Brokers, Topics, opts)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if !r.OK() {
		var b bytes.Buffer
		r.Write(&b, 10)
		t.Fatalf("invariants broken:\n%s", b.String())
	}
	return r
}

// Config returns a worker configuration for the cluster and a Redis address, with a key
// prefix and a group of its own, the HTTP endpoints on a free loopback port, and quick
// retries.
func Config(t testing.TB, c *Cluster, redisAddr, prefix string) config.Config {
	t.Helper()
	clearEnv(t)
	cfg, _, err := config.Load()
	if err != nil {
		t.Fatalf("default configuration: %v", err)
	}
	cfg.KafkaBrokers = c.Brokers
	cfg.KafkaGroupID = "ordergate-test"
	cfg.RedisURL = config.Secret("redis://" + redisAddr + "/0")
	cfg.RedisKeyPrefix = prefix
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.RetryMaxBackoff = 500 * time.Millisecond
	cfg.ShutdownTimeout = 10 * time.Second
	cfg.LogLevel = "warn"
	return cfg
}

// Env returns the configuration as ORDERGATE_* variables, for a worker process. Secrets are
// written masked by config.Write: give them to the process separately.
func Env(t testing.TB, cfg config.Config) []string {
	t.Helper()
	var b bytes.Buffer
	if err := cfg.Write(&b); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "ORDERGATE_") && !strings.HasSuffix(line, "=") {
			env = append(env, line)
		}
	}
	return env
}

// clearEnv unsets every ORDERGATE_* variable for the test, so that config.Load gives the
// defaults whatever the shell set.
func clearEnv(t testing.TB) {
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "ORDERGATE_") {
			if tt, ok := t.(*testing.T); ok {
				tt.Setenv(name, "")
			}
			os.Unsetenv(name)
		}
	}
}

// build is one build of the ordergate command, made once per test process.
type build struct {
	once sync.Once
	path string
	err  error
}

var raceBuild, plainBuild build

// Binary builds the ordergate command with the race detector once per test process and
// returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	return raceBuild.get(t, "-race")
}

// PlainBinary builds the ordergate command as users run it (no race detector, whose shadow
// memory distorts memory figures) once per test process and returns its path.
func PlainBinary(t testing.TB) string {
	t.Helper()
	return plainBuild.get(t)
}

func (b *build) get(t testing.TB, flags ...string) string {
	t.Helper()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "ordergate-bin-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, "ordergate")
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..", "..")
		cmd := exec.Command("go", append(append([]string{"build"}, flags...), "-o", b.path, "./cmd/ordergate")...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// Process is an ordergate process.
type Process struct {
	Cmd  *exec.Cmd
	logs *Buffer
	done chan error
}

// StartProcess runs `ordergate args...` with the environment given (and nothing else of
// the test's ORDERGATE_* variables).
func StartProcess(t testing.TB, env []string, args ...string) *Process {
	t.Helper()
	return StartBinary(t, Binary(t), env, args...)
}

// StartBinary is StartProcess with a binary of the caller's choice (see PlainBinary).
func StartBinary(t testing.TB, bin string, env []string, args ...string) *Process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ORDERGATE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	p := &Process{Cmd: cmd, logs: &Buffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("ordergate %s output:\n%s", strings.Join(args, " "), p.Logs())
		}
	})
	return p
}

// Logs returns what the process printed so far.
func (p *Process) Logs() string { return p.logs.String() }

// Wait waits for the process to exit and returns its exit code (-1 if killed by a signal).
func (p *Process) Wait(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		p.done <- nil
	case <-time.After(timeout):
		t.Fatalf("process still running after %v:\n%s", timeout, p.Logs())
	}
	return p.Cmd.ProcessState.ExitCode()
}

// Buffer collects a process's or a worker's output; it is safe for concurrent use.
type Buffer = syncbuf.Buffer

// WaitCommitted waits until the group has committed every record of the input topic: then
// every input has its event acknowledged. Counting events is not enough when a crash repeats
// some of them.
func (c *Cluster) WaitCommitted(t testing.TB, group string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	inputs := c.Count(t, Topics.Requests)
	for {
		committed := 0
		for _, off := range c.Committed(t, group) {
			if off > 0 {
				committed += int(off)
			}
		}
		if committed >= inputs {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s committed %d of %d records after %v", group, committed, inputs, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// RecordTime is the timestamp of the test records: "today" is Friday 2026-12-04 in Paris,
// when the requestedAt of Disconnect (2027-01-04, a Monday) is far enough ahead.
var RecordTime = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

// Disconnect returns a valid R_BVPN_FR_1 request naming service point spID (requestedAt
// 2027-01-04: valid for records at RecordTime); seq makes each body distinct.
func Disconnect(spID string, seq int) []byte {
	return fmt.Appendf(nil, `{"type":"R_BVPN_FR_1","requestedAt":"2027-01-04","customerReference":"WAN-%07d",`+
		`"properties":{"servicePoint":{"id":%q},"contacts":{"primary":{"title":"M","firstName":"Paul","lastName":"LANGEL",`+
		`"phone":"+33401010101","mobile":"+33600200200","email":"paul.langel@mycompany.com"}}}}`, seq, spID)
}

// InventoryData returns the JSON of an inventory of n French service points: SP-i, REF-i
// and CR-i for i from 0 to n-1, each OPERATIONAL.
func InventoryData(n int) []byte {
	list := make([]order.ServicePoint, n)
	for i := range list {
		list[i] = order.ServicePoint{ID: fmt.Sprintf("SP-%d", i), Reference: fmt.Sprintf("REF-%d", i),
			CustomerReference: fmt.Sprintf("CR-%d", i), Name: "site", Market: "FR", State: "OPERATIONAL"}
	}
	data, err := json.Marshal(list)
	if err != nil {
		panic(err) // a list of plain structs always marshals
	}
	return data
}

// Inventory returns the inventory of InventoryData(n), for an in-process worker.
func Inventory(t testing.TB, n int) *servicepoint.FileInventory {
	t.Helper()
	inv, err := servicepoint.ParseFileInventory(InventoryData(n))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// InventoryFile writes InventoryData(n) to a file of the test's and returns its path, for a
// worker process.
func InventoryFile(t testing.TB, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "inventory.json")
	if err := os.WriteFile(path, InventoryData(n), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
