package security

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/audit"
	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/processor/order"
)

// ---------------------------------------------------------------------------------------
// Certificates, generated for each test in its own t.TempDir() with crypto/x509.

// authority is a certificate authority of a test.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	dir  string
	// File is the PEM file of the CA certificate.
	File string
	// Pool holds the CA certificate.
	Pool *x509.CertPool
}

// leaf is a certificate issued by an authority, with its key, as files and as a pair.
type leaf struct {
	CertFile, KeyFile string
	Pair              tls.Certificate
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func serial(t *testing.T) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// newAuthority creates a self-signed CA valid for a day.
func newAuthority(t *testing.T, name string) *authority {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"ordergate security tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a := &authority{cert: cert, key: key, dir: dir, File: filepath.Join(dir, name+"-ca.pem"), Pool: x509.NewCertPool()}
	a.Pool.AddCert(cert)
	writePEM(t, a.File, "CERTIFICATE", der)
	return a
}

// issue signs a certificate for name: a server certificate for localhost and 127.0.0.1, or
// a client certificate; usages, when given, replace its extended key usage (a Redis
// Cluster node's serves and authenticates as a client on the cluster bus).
func (a *authority) issue(t *testing.T, name string, server bool, usages ...x509.ExtKeyUsage) leaf {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	if len(usages) > 0 {
		tmpl.ExtKeyUsage = usages
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	l := leaf{CertFile: filepath.Join(a.dir, name+".pem"), KeyFile: filepath.Join(a.dir, name+"-key.pem")}
	writePEM(t, l.CertFile, "CERTIFICATE", der)
	writePEM(t, l.KeyFile, "PRIVATE KEY", keyDER)
	if l.Pair, err = tls.LoadX509KeyPair(l.CertFile, l.KeyFile); err != nil {
		t.Fatal(err)
	}
	return l
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// ---------------------------------------------------------------------------------------
// Kafka with SASL and TLS.

// access is how a test's own Kafka clients reach a secured broker.
type access struct {
	TLS  *tls.Config
	SASL sasl.Mechanism
}

func (a access) transport() *kafka.Transport {
	return &kafka.Transport{TLS: a.TLS, SASL: a.SASL, DialTimeout: 10 * time.Second}
}

func (a access) dialer() *kafka.Dialer {
	return &kafka.Dialer{Timeout: 10 * time.Second, DualStack: true, TLS: a.TLS, SASLMechanism: a.SASL}
}

// newCluster starts a kfake cluster with the four topics (testkit.NewCluster) and makes the
// cluster's own client (Count, Events, WaitEvents) authenticate with a.
func newCluster(t *testing.T, outputConfigs map[string]string, a access, opts ...kfake.Opt) *testkit.Cluster {
	t.Helper()
	return through(testkit.NewCluster(t, 1, outputConfigs, opts...), a)
}

// through returns the cluster as a's clients see it.
func through(c *testkit.Cluster, a access) *testkit.Cluster {
	cc := *c
	cc.Transport, cc.Dialer = a.transport(), a.dialer()
	cc.Client = &kafka.Client{Addr: kafka.TCP(c.Brokers...), Transport: cc.Transport, Timeout: 10 * time.Second}
	return &cc
}

// produce writes records to the input topic through a, in order, acknowledged.
func produce(t *testing.T, c *testkit.Cluster, a access, recs ...order.Record) {
	t.Helper()
	through(c, a).Produce(t, recs...)
}

// readTopic reads every record of a topic through a.
func readTopic(t *testing.T, c *testkit.Cluster, a access, topic string) []kafka.Message {
	t.Helper()
	return through(c, a).Read(t, topic)
}

// outcomes returns the decision of every event by input offset ("accepted" or
// "rejected:CODE"), partition 0 only (the security tests use one partition).
func outcomes(t *testing.T, c *testkit.Cluster, a access) map[int64]string {
	t.Helper()
	out := map[int64]string{}
	for _, topic := range []string{testkit.Topics.Accepted, testkit.Topics.Rejected} {
		for _, m := range readTopic(t, c, a, topic) {
			o, err := audit.ParseEvent(m.Value, testkit.Topics.Requests)
			if err != nil {
				t.Fatal(err)
			}
			out[o.Source.Offset] = o.Decision
		}
	}
	return out
}

// ---------------------------------------------------------------------------------------
// The worker as a process.

// processEnv returns the ORDERGATE_* variables of cfg for a worker process, with the secrets
// (which config.Write masks) given as they are: the Redis URL, the SASL password and the
// inventory token. extra variables come last and win.
func processEnv(t *testing.T, cfg config.Config, extra ...string) []string {
	t.Helper()
	env := testkit.Env(t, cfg)
	env = append(env, "ORDERGATE_REDIS_URL="+string(cfg.RedisURL))
	if cfg.KafkaSASLPassword != "" {
		env = append(env, "ORDERGATE_KAFKA_SASL_PASSWORD="+string(cfg.KafkaSASLPassword))
	}
	if cfg.InventoryToken != "" {
		env = append(env, "ORDERGATE_INVENTORY_TOKEN="+string(cfg.InventoryToken))
	}
	return append(env, extra...)
}

// waitLog waits until the process printed substr at least n times in all.
func waitLog(t *testing.T, p *testkit.Process, substr string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for strings.Count(p.Logs(), substr) < n {
		if p.Cmd.ProcessState != nil || time.Now().After(deadline) {
			t.Fatalf("%q printed %d times, want %d, after %v; output:\n%s", substr, strings.Count(p.Logs(), substr), n, timeout, p.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// httpAddr waits for the "ordergate started" line of a JSON-logging worker process and
// returns the address of its endpoints.
func httpAddr(t *testing.T, p *testkit.Process) string {
	t.Helper()
	waitLog(t, p, `"msg":"ordergate started"`, 1, time.Minute)
	for _, line := range logLines(p.Logs()) {
		if line.Msg == "ordergate started" {
			if addr, ok := line.Attrs["http"].(string); ok {
				return addr
			}
		}
	}
	t.Fatalf("no http address in the start line:\n%s", p.Logs())
	return ""
}

// logLine is one line of output: a JSON log record (Level, Msg, Attrs) or any other text
// (Level "").
type logLine struct {
	Raw   string
	Level string
	Msg   string
	Attrs map[string]any
}

// logLines splits output into lines and decodes the JSON ones.
func logLines(out string) []logLine {
	var lines []logLine
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		l := logLine{Raw: sc.Text()}
		var m map[string]any
		if json.Unmarshal([]byte(l.Raw), &m) == nil {
			l.Level, _ = m["level"].(string)
			l.Msg, _ = m["msg"].(string)
			l.Attrs = m
		}
		lines = append(lines, l)
	}
	return lines
}

// stop sends SIGTERM to a worker process, which must exit 0 within 30 seconds.
func stop(t *testing.T, p *testkit.Process) {
	t.Helper()
	must(t, p.Cmd.Process.Signal(syscall.SIGTERM), "SIGTERM")
	if code := p.Wait(t, 30*time.Second); code != 0 {
		t.Fatalf("exit status %d after SIGTERM, want 0", code)
	}
}

// problemLine returns the line of a failed start that says what is wrong: the one that
// starts with "ordergate:". It fails the test unless there is exactly one.
func problemLine(t *testing.T, out string) string {
	t.Helper()
	var found []string
	for _, l := range logLines(out) {
		if strings.HasPrefix(l.Raw, "ordergate:") {
			found = append(found, l.Raw)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d lines start with \"ordergate:\", want exactly one; output:\n%s", len(found), out)
	}
	return found[0]
}

// writeFile writes data to path atomically (a temporary file renamed), so that a reader
// never sees half a file.
func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// testdata reads a file of testdata/.
func testdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// compact returns a JSON document without its insignificant spaces, members in order.
func compact(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, data); err != nil {
		t.Fatalf("testdata: %v", err)
	}
	return b.Bytes()
}

// must fails the test on err.
func must(t *testing.T, err error, what string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}
