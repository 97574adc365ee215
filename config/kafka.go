package config

import (
	"crypto/tls"
	"crypto/x509"
	"os"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// The SASL mechanisms of ORDERGATE_KAFKA_SASL_MECHANISM.
const (
	mechPlain    = "PLAIN"
	mechSCRAM256 = "SCRAM-SHA-256"
	mechSCRAM512 = "SCRAM-SHA-512"
)

// compressionCodecs are the values of ORDERGATE_KAFKA_COMPRESSION and their codecs.
var compressionCodecs = map[string]kafka.Compression{
	"none": 0, "gzip": kafka.Gzip, "snappy": kafka.Snappy, "lz4": kafka.Lz4, "zstd": kafka.Zstd,
}

// KafkaCompressionCodec returns the codec of ORDERGATE_KAFKA_COMPRESSION for kafka-go's
// Writer.Compression (0, no compression, for none).
func (c Config) KafkaCompressionCodec() kafka.Compression {
	return compressionCodecs[c.KafkaCompression]
}

// KafkaTLS returns the TLS configuration for the brokers, or nil when
// ORDERGATE_KAFKA_TLS_ENABLED is false: TLS 1.2 or later, the CAs of
// ORDERGATE_KAFKA_TLS_CA_FILE (else the system roots) and the client
// certificate of ORDERGATE_KAFKA_TLS_CERT_FILE and _KEY_FILE when set.
// ServerName is left empty: kafka-go sets it to each broker's host.
func (c Config) KafkaTLS() (*tls.Config, error) {
	if !c.KafkaTLSEnabled {
		return nil, nil
	}
	const (
		caName   = "ORDERGATE_KAFKA_TLS_CA_FILE"
		certName = "ORDERGATE_KAFKA_TLS_CERT_FILE"
		keyName  = "ORDERGATE_KAFKA_TLS_KEY_FILE"
	)
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.KafkaTLSCAFile != "" {
		pem, err := os.ReadFile(c.KafkaTLSCAFile)
		if err != nil {
			return nil, fileError(caName, c.KafkaTLSCAFile, err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, errorf(caName, c.KafkaTLSCAFile, "holds no PEM certificate")
		}
	}
	switch {
	case c.KafkaTLSCertFile == "" && c.KafkaTLSKeyFile == "":
		return cfg, nil
	case c.KafkaTLSKeyFile == "":
		return nil, errorf(keyName, "", "required when "+certName+" is set")
	case c.KafkaTLSCertFile == "":
		return nil, errorf(certName, "", "required when "+keyName+" is set")
	}
	certPEM, err := os.ReadFile(c.KafkaTLSCertFile)
	if err != nil {
		return nil, fileError(certName, c.KafkaTLSCertFile, err)
	}
	keyPEM, err := os.ReadFile(c.KafkaTLSKeyFile)
	if err != nil {
		return nil, fileError(keyName, c.KafkaTLSKeyFile, err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, errorf(certName, c.KafkaTLSCertFile, "no certificate and key pair with "+keyName+": "+err.Error())
	}
	cfg.Certificates = []tls.Certificate{cert}
	return cfg, nil
}

// KafkaSASL returns the SASL mechanism for the brokers, or nil when
// ORDERGATE_KAFKA_SASL_MECHANISM is unset. Its error never shows the password.
func (c Config) KafkaSASL() (sasl.Mechanism, error) {
	user, password := c.KafkaSASLUsername, string(c.KafkaSASLPassword)
	var algo scram.Algorithm
	switch c.KafkaSASLMechanism {
	case "":
		return nil, nil
	case mechPlain:
		return plain.Mechanism{Username: user, Password: password}, nil
	case mechSCRAM256:
		algo = scram.SHA256
	case mechSCRAM512:
		algo = scram.SHA512
	default:
		return nil, errorf("ORDERGATE_KAFKA_SASL_MECHANISM", c.KafkaSASLMechanism, "must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	}
	m, err := scram.Mechanism(algo, user, password)
	if err == nil {
		return m, nil
	}
	// The library's message quotes the password: tell which one is at fault
	// by trying the user name alone.
	const reason = "not valid for SCRAM: SASLprep (RFC 4013) refuses a character"
	if _, err := scram.Mechanism(algo, user, ""); err != nil {
		return nil, errorf("ORDERGATE_KAFKA_SASL_USERNAME", user, reason)
	}
	return nil, errorf("ORDERGATE_KAFKA_SASL_PASSWORD", password, reason)
}
