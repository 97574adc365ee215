package config

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testPKI is a throw-away CA with a broker and a client certificate.
type testPKI struct {
	caFile, certFile, keyFile string // the CA, the client certificate and its key, PEM
	otherKeyFile              string // a key of no certificate
	broker                    tls.Certificate
	caPool                    *x509.CertPool
}

// newPKI generates a self-signed CA and certificates it signs into t.TempDir().
func newPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey := newKey(t)
	caTemplate := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ordergate test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(serial int64, name string, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		key := newKey(t)
		der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			DNSNames:     []string{name},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		}, ca, key.Public(), caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	p := testPKI{
		caFile:       filepath.Join(dir, "ca.pem"),
		certFile:     filepath.Join(dir, "client.pem"),
		keyFile:      filepath.Join(dir, "client-key.pem"),
		otherKeyFile: filepath.Join(dir, "other-key.pem"),
		caPool:       x509.NewCertPool(),
	}
	p.caPool.AddCert(ca)
	clientDER, clientKey := issue(2, "ordergate", x509.ExtKeyUsageClientAuth)
	brokerDER, brokerKey := issue(3, "kafka.test", x509.ExtKeyUsageServerAuth)
	p.broker = tls.Certificate{Certificate: [][]byte{brokerDER}, PrivateKey: brokerKey}
	writePEM(t, p.caFile, "CERTIFICATE", caDER)
	writePEM(t, p.certFile, "CERTIFICATE", clientDER)
	writePEM(t, p.keyFile, "PRIVATE KEY", marshalKey(t, clientKey))
	writePEM(t, p.otherKeyFile, "PRIVATE KEY", marshalKey(t, newKey(t)))
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func marshalKey(t *testing.T, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestKafkaTLSIsNilWhenDisabled(t *testing.T) {
	c, _, err := loadWith(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := c.KafkaTLS()
	if cfg != nil || err != nil {
		t.Errorf("KafkaTLS() = %v, %v; want nil, nil", cfg, err)
	}
}

func TestKafkaTLSWithSystemRoots(t *testing.T) {
	c, _, err := loadWith(t, []string{"ORDERGATE_KAFKA_TLS_ENABLED=true"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := c.KafkaTLS()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 || cfg.RootCAs != nil || len(cfg.Certificates) != 0 {
		t.Errorf("KafkaTLS() = MinVersion %x, RootCAs %v, %d certificates; want TLS 1.2, system roots, none",
			cfg.MinVersion, cfg.RootCAs, len(cfg.Certificates))
	}
}

// TestKafkaTLSWithGeneratedCA shakes hands with a broker whose certificate the
// CA file signs and which requires the client certificate.
func TestKafkaTLSWithGeneratedCA(t *testing.T) {
	pki := newPKI(t)
	c, _, err := loadWith(t, []string{
		"ORDERGATE_KAFKA_TLS_ENABLED=true",
		"ORDERGATE_KAFKA_TLS_CA_FILE=" + pki.caFile,
		"ORDERGATE_KAFKA_TLS_CERT_FILE=" + pki.certFile,
		"ORDERGATE_KAFKA_TLS_KEY_FILE=" + pki.keyFile,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := c.KafkaTLS()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 || len(cfg.Certificates) != 1 {
		t.Fatalf("KafkaTLS() = MinVersion %x, %d certificates; want TLS 1.2 and 1", cfg.MinVersion, len(cfg.Certificates))
	}

	clientConn, brokerConn := net.Pipe()
	defer clientConn.Close()
	defer brokerConn.Close()
	broker := tls.Server(brokerConn, &tls.Config{
		Certificates: []tls.Certificate{pki.broker},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pki.caPool,
	})
	brokerDone := make(chan error, 1)
	go func() { brokerDone <- broker.Handshake() }()

	cfg = cfg.Clone()
	cfg.ServerName = "kafka.test" // as kafka-go does, from the broker's address
	client := tls.Client(clientConn, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := client.HandshakeContext(ctx); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if err := <-brokerDone; err != nil {
		t.Fatalf("broker handshake: %v", err)
	}
	if got := broker.ConnectionState().PeerCertificates; len(got) != 1 || got[0].Subject.CommonName != "ordergate" {
		t.Errorf("the broker saw client certificates %v, want the one of %s", got, pki.certFile)
	}
}

func TestKafkaSASL(t *testing.T) {
	tests := []struct {
		mechanism string
		want      string // the mechanism's Name(), "" for none
	}{
		{"", ""},
		{"PLAIN", "PLAIN"},
		{"SCRAM-SHA-256", "SCRAM-SHA-256"},
		{"scram-sha-512", "SCRAM-SHA-512"},
	}
	for _, tt := range tests {
		env := []string{"ORDERGATE_KAFKA_SASL_MECHANISM=" + tt.mechanism}
		if tt.mechanism != "" {
			env = append(env, "ORDERGATE_KAFKA_SASL_USERNAME=app", "ORDERGATE_KAFKA_SASL_PASSWORD=pw")
		}
		c, _, err := loadWith(t, env)
		if err != nil {
			t.Fatalf("%q: %v", tt.mechanism, err)
		}
		m, err := c.KafkaSASL()
		if err != nil {
			t.Fatalf("%q: KafkaSASL: %v", tt.mechanism, err)
		}
		switch {
		case tt.want == "" && m != nil:
			t.Errorf("%q: KafkaSASL() = %v, want nil", tt.mechanism, m.Name())
		case tt.want != "" && (m == nil || m.Name() != tt.want):
			t.Errorf("%q: KafkaSASL() = %v, want %s", tt.mechanism, m, tt.want)
		}
	}
}

func TestKafkaSASLPlainCarriesTheCredentials(t *testing.T) {
	t.Parallel()
	c := Config{KafkaSASLMechanism: "PLAIN", KafkaSASLUsername: "app", KafkaSASLPassword: "pw"}
	m, err := c.KafkaSASL()
	if err != nil {
		t.Fatal(err)
	}
	_, first, err := m.Start(context.Background())
	if err != nil || !strings.Contains(string(first), "\x00app\x00pw") {
		t.Errorf("PLAIN start = %q, %v; want the user name and password", first, err)
	}
}
