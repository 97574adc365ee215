package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// maxMessageBytes is the ceiling of ORDERGATE_MAX_MESSAGE_BYTES (100 MiB), a
// hundred times a broker's default record limit: a larger value is a typo.
const maxMessageBytes = 100 << 20

// checks validate a Config in the contract's order; some normalize the
// values that have one spelling (spaces around the brokers, log level and
// format, SASL mechanism, inventory URL).
var checks = []func(*Config) error{
	checkBrokers,
	checkGroupAndTopics,
	checkRedis,
	checkInventory,
	checkClients,
	checkHTTP,
	checkMessageBytes,
	checkLog,
	checkSASL,
	checkTLS,
	checkCompression,
	checkCounts,
}

// validate runs every check on c and returns all the problems found.
func validate(c *Config) error {
	var errs Errors
	for _, check := range checks {
		errs.add(check(c))
	}
	return errs.err()
}

// RequireInventory reports an error when neither ORDERGATE_INVENTORY_URL nor
// ORDERGATE_INVENTORY_FILE is set: `run` needs one of them, `config` does not.
func (c Config) RequireInventory() error {
	if c.InventoryURL == "" && c.InventoryFile == "" {
		return errorf("ORDERGATE_INVENTORY_URL", "", "unset, and so is ORDERGATE_INVENTORY_FILE: set one of them")
	}
	return nil
}

func checkBrokers(c *Config) error {
	const name = "ORDERGATE_KAFKA_BROKERS"
	if len(c.KafkaBrokers) == 0 {
		return errorf(name, "", "no broker given (comma-separated host:port list)")
	}
	return checkAddrList(name, c.KafkaBrokers, "broker", "kafka:9092")
}

// checkAddrList trims the entries of a comma-separated host:port list in place and
// reports the first one that is empty or not host:port, as what (broker, address) with an
// example.
func checkAddrList(name string, list []string, what, example string) error {
	// envconfig splits the value at each comma (a blank value gives no
	// entry): joining the entries gives the value back as written.
	raw := strings.Join(list, ",")
	for i, b := range list {
		b = strings.TrimSpace(b)
		list[i] = b
		if b == "" {
			return errorf(name, raw, "empty entry in the list (a stray comma?)")
		}
		if reason := checkHostPort(b, false); reason != "" {
			return errorf(name, raw, fmt.Sprintf("%s %q %s; want host:port, e.g. %s", what, b, reason, example))
		}
	}
	return nil
}

// checkHostPort returns what is wrong with addr as host:port, or "". An
// empty host is allowed for a listen address only, and so is port 0.
func checkHostPort(addr string, listen bool) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		if !strings.Contains(addr, ":") {
			return "has no port"
		}
		return "is not host:port"
	}
	if host == "" && !listen {
		return "has no host"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 || n == 0 && !listen {
		return fmt.Sprintf("has an invalid port %q", port)
	}
	return ""
}

func checkGroupAndTopics(c *Config) error {
	var errs Errors
	if strings.TrimSpace(c.KafkaGroupID) == "" {
		errs.add(errorf("ORDERGATE_KAFKA_GROUP_ID", c.KafkaGroupID, "must not be empty"))
	}
	topics := []struct{ name, value string }{
		{"ORDERGATE_TOPIC_REQUESTS", c.TopicRequests},
		{"ORDERGATE_TOPIC_ACCEPTED", c.TopicAccepted},
		{"ORDERGATE_TOPIC_REJECTED", c.TopicRejected},
		{"ORDERGATE_TOPIC_DLQ", c.TopicDLQ},
	}
	for i, t := range topics {
		if reason := checkTopic(t.value); reason != "" {
			errs.add(errorf(t.name, t.value, reason))
			continue
		}
		for _, earlier := range topics[:i] {
			if t.value == earlier.value {
				errs.add(errorf(t.name, t.value, "same topic as "+earlier.name+"; the four topics must differ"))
				break
			}
		}
	}
	return errs.err()
}

// checkTopic applies Kafka's rules for topic names.
func checkTopic(topic string) string {
	switch {
	case topic == "":
		return "must not be empty"
	case len(topic) > 249:
		return "longer than 249 characters"
	case topic == "." || topic == "..":
		return `"." and ".." are not topic names`
	}
	for _, r := range topic {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return "a topic name has only letters, digits, '.', '_' and '-'"
		}
	}
	return ""
}

func checkRedis(c *Config) error { return checkRedisSettings(c) }

func checkInventory(c *Config) error {
	var errs Errors
	if c.InventoryURL != "" {
		normalized, reason := checkInventoryURL(c.InventoryURL)
		if reason != "" {
			errs.add(errorf("ORDERGATE_INVENTORY_URL", c.InventoryURL, reason))
		} else {
			c.InventoryURL = normalized
		}
	}
	if strings.ContainsFunc(string(c.InventoryToken), func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		errs.add(errorf("ORDERGATE_INVENTORY_TOKEN", string(c.InventoryToken), "contains a space or a control character"))
	}
	if c.InventoryFile != "" {
		if c.InventoryURL != "" {
			errs.add(errorf("ORDERGATE_INVENTORY_FILE", c.InventoryFile, "set together with ORDERGATE_INVENTORY_URL: set only one"))
		} else {
			errs.add(checkReadable("ORDERGATE_INVENTORY_FILE", c.InventoryFile))
		}
	}
	return errs.err()
}

// checkInventoryURL returns raw without its trailing slashes, or what is
// wrong with it: the worker appends /servicePoints?criterion=value to it.
func checkInventoryURL(raw string) (string, string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return "", "not an absolute URL (e.g. https://inventory.example/api)"
	case u.Scheme != "http" && u.Scheme != "https":
		return "", "scheme must be http or https"
	case u.User != nil:
		return "", "must not hold credentials: use ORDERGATE_INVENTORY_TOKEN"
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#"):
		return "", "must not have a query or a fragment (the worker appends /servicePoints?...)"
	}
	return strings.TrimRight(raw, "/"), ""
}

func checkClients(c *Config) error {
	if c.ClientsFile == "" {
		return nil
	}
	return checkReadable("ORDERGATE_CLIENTS_FILE", c.ClientsFile)
}

// checkReadable reports an error naming the variable when path cannot be
// opened for reading or is a directory.
func checkReadable(name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fileError(name, path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fileError(name, path, err)
	}
	if info.IsDir() {
		return errorf(name, path, "is a directory, not a file")
	}
	return nil
}

// fileError names the variable whose file could not be read, without
// repeating the path that the message already shows.
func fileError(name, path string, err error) error {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		err = pathErr.Err
	}
	return errorf(name, path, "cannot read the file: "+err.Error())
}

// privateFiles says what each variable's file holds, for FileOpenToOthers.
var privateFiles = map[string]string{
	"ORDERGATE_CLIENTS_FILE":       "the digests of the client secrets (weak secrets can be guessed from them)",
	"ORDERGATE_KAFKA_TLS_KEY_FILE": "the private key of the client certificate",
}

// FileOpenToOthers returns a warning when path, the file of the variable named (the
// clients file, the TLS private key), can be read by its group or by others, else "".
func FileOpenToOthers(name, path string) string {
	holds, private := privateFiles[name]
	if path == "" || !private {
		return ""
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm()&0o044 == 0 {
		return ""
	}
	return fmt.Sprintf("%s=%s is readable by its group or by others (mode %#o) and holds %s: chmod 600 it",
		name, path, info.Mode().Perm(), holds)
}

func checkHTTP(c *Config) error {
	if reason := checkHostPort(c.HTTPAddr, true); reason != "" {
		return errorf("ORDERGATE_HTTP_ADDR", c.HTTPAddr, reason+"; want host:port, e.g. :8080")
	}
	return nil
}

func checkMessageBytes(c *Config) error {
	if c.MaxMessageBytes < 1 || c.MaxMessageBytes > maxMessageBytes {
		return errorf("ORDERGATE_MAX_MESSAGE_BYTES", strconv.Itoa(c.MaxMessageBytes), "must be between 1 and 104857600 (100 MiB)")
	}
	return nil
}

func checkLog(c *Config) error {
	var errs Errors
	switch level := strings.ToLower(strings.TrimSpace(c.LogLevel)); level {
	case "debug", "info", "warn", "error":
		c.LogLevel = level
	default:
		errs.add(errorf("ORDERGATE_LOG_LEVEL", c.LogLevel, "must be debug, info, warn or error"))
	}
	switch format := strings.ToLower(strings.TrimSpace(c.LogFormat)); format {
	case "json", "text":
		c.LogFormat = format
	default:
		errs.add(errorf("ORDERGATE_LOG_FORMAT", c.LogFormat, "must be json or text"))
	}
	return errs.err()
}

func checkSASL(c *Config) error {
	const (
		mechanism = "ORDERGATE_KAFKA_SASL_MECHANISM"
		username  = "ORDERGATE_KAFKA_SASL_USERNAME"
		password  = "ORDERGATE_KAFKA_SASL_PASSWORD"
	)
	raw := c.KafkaSASLMechanism
	var errs Errors
	switch m := strings.ToUpper(strings.TrimSpace(raw)); m {
	case "":
		c.KafkaSASLMechanism = ""
		if c.KafkaSASLUsername != "" {
			errs.add(errorf(username, c.KafkaSASLUsername, "set without "+mechanism+" (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)"))
		}
		if c.KafkaSASLPassword != "" {
			errs.add(errorf(password, string(c.KafkaSASLPassword), "set without "+mechanism+" (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)"))
		}
		return errs.err()
	case mechPlain, mechSCRAM256, mechSCRAM512:
		c.KafkaSASLMechanism = m
	default:
		return errorf(mechanism, raw, "must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	}
	if c.KafkaSASLUsername == "" {
		errs.add(errorf(username, "", "required when "+mechanism+" is set"))
	}
	if c.KafkaSASLPassword == "" {
		errs.add(errorf(password, "", "required when "+mechanism+" is set"))
	}
	if len(errs) > 0 {
		return errs.err()
	}
	_, err := c.KafkaSASL()
	return err
}

func checkTLS(c *Config) error {
	if !c.KafkaTLSEnabled {
		for _, f := range []struct{ name, value string }{
			{"ORDERGATE_KAFKA_TLS_CA_FILE", c.KafkaTLSCAFile},
			{"ORDERGATE_KAFKA_TLS_CERT_FILE", c.KafkaTLSCertFile},
			{"ORDERGATE_KAFKA_TLS_KEY_FILE", c.KafkaTLSKeyFile},
		} {
			if f.value != "" {
				return errorf("ORDERGATE_KAFKA_TLS_ENABLED", "false", "must be true when "+f.name+" is set")
			}
		}
		return nil
	}
	_, err := c.KafkaTLS()
	return err
}

func checkCompression(c *Config) error {
	codec := strings.ToLower(strings.TrimSpace(c.KafkaCompression))
	if _, ok := compressionCodecs[codec]; !ok {
		return errorf("ORDERGATE_KAFKA_COMPRESSION", c.KafkaCompression, "must be none, gzip, snappy, lz4 or zstd")
	}
	c.KafkaCompression = codec
	return nil
}

func checkCounts(c *Config) error {
	var errs Errors
	if c.InventoryConcurrency < 1 {
		errs.add(errorf("ORDERGATE_INVENTORY_CONCURRENCY", strconv.Itoa(c.InventoryConcurrency), "must be at least 1"))
	}
	if c.BatchMaxRecords < 1 || c.BatchMaxRecords > 100000 {
		errs.add(errorf("ORDERGATE_BATCH_MAX_RECORDS", strconv.Itoa(c.BatchMaxRecords), "must be between 1 and 100000"))
	}
	return errs.err()
}

// advice returns warnings about settings that work but are probably not meant.
func (c Config) advice() []string {
	var w []string
	// Issue 23, item 6: files that hold secrets, or digests that allow guessing weak
	// secrets offline, should be readable by their owner only.
	for _, f := range [][2]string{{"ORDERGATE_CLIENTS_FILE", c.ClientsFile}, {"ORDERGATE_KAFKA_TLS_KEY_FILE", c.KafkaTLSKeyFile}} {
		if warning := FileOpenToOthers(f[0], f[1]); warning != "" {
			w = append(w, warning)
		}
	}
	if c.KafkaSASLMechanism == mechPlain && !c.KafkaTLSEnabled {
		w = append(w, "ORDERGATE_KAFKA_SASL_MECHANISM=PLAIN without ORDERGATE_KAFKA_TLS_ENABLED=true sends the Kafka password in clear text")
	}
	if c.RedisTLSInsecureSkipVerify {
		w = append(w, "ORDERGATE_REDIS_TLS_INSECURE_SKIP_VERIFY=true: the certificate of Redis is not checked, so anyone on the network path can pose as Redis")
	}
	if c.InventoryToken != "" {
		switch {
		case c.InventoryURL == "":
			w = append(w, "ORDERGATE_INVENTORY_TOKEN is set but ORDERGATE_INVENTORY_URL is not: the token is not used")
		case strings.HasPrefix(strings.ToLower(c.InventoryURL), "http://"):
			w = append(w, "ORDERGATE_INVENTORY_TOKEN is sent in clear text: ORDERGATE_INVENTORY_URL is http, not https")
		}
	}
	return w
}
