package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/worker"
)

// A running `ordergate dev` writes its broker address to a state file, so that produce,
// tail and check find it without flags. The file lives only in a directory of the user's
// own ($XDG_RUNTIME_DIR/ordergate-UID, else $TMPDIR/ordergate-UID): owned by the user,
// mode 0700, not a symbolic link, checked with Lstat by the writer and the readers. Each
// running dev has a file of its own, dev-PID.json (mode 0600), written under a new name
// with O_EXCL|O_NOFOLLOW and renamed into place; `dev --once` writes none. A reader uses
// it only when no Kafka setting is given (issue 23, item 1: a planted file must never
// draw the credentials of a real cluster to another broker).

// devState is the content of a state file.
type devState struct {
	Brokers []string  `json:"brokers"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
}

// devStateDir returns the directory of the state files.
func devStateDir() string {
	base := os.Getenv("XDG_RUNTIME_DIR")
	if base == "" {
		base = os.TempDir()
	}
	return filepath.Join(base, "ordergate-"+strconv.Itoa(os.Getuid()))
}

// ownDir checks that dir is a directory (not a link to one) of the user's own, closed to
// others.
func ownDir(dir string) error {
	info, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return fmt.Errorf("%s is not a directory (a symbolic link?)", dir)
	}
	return ownedPrivate(dir, info)
}

// ownedPrivate checks that a file is the user's and closed to group and others.
func ownedPrivate(path string, info fs.FileInfo) error {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: cannot read its owner", path)
	}
	if int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%s belongs to user %d, not to you (%d)", path, st.Uid, os.Getuid())
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s is open to group or others (mode %#o)", path, perm)
	}
	return nil
}

// writeDevState writes the state of this dev and returns the path to remove at exit.
func writeDevState(s devState) (string, error) {
	dir := devStateDir()
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	if err := ownDir(dir); err != nil {
		return "", err
	}
	data, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	var random [8]byte
	_, _ = rand.Read(random[:])
	tmp := filepath.Join(dir, ".dev-"+hex.EncodeToString(random[:])+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return "", err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp)
		return "", err
	}
	path := filepath.Join(dir, "dev-"+strconv.Itoa(s.PID)+".json")
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return path, nil
}

// runningDev returns the state of the running `ordergate dev` started last, or an error
// that says why none can be used. A file of a dev that is gone is removed.
func runningDev() (devState, error) {
	dir := devStateDir()
	if err := ownDir(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return devState{}, errNoDev
		}
		return devState{}, fmt.Errorf("%w (state directory ignored: %v)", errNoDev, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return devState{}, fmt.Errorf("%w (%v)", errNoDev, err)
	}
	var found []devState
	for _, entry := range entries {
		name := entry.Name()
		if !strings.HasPrefix(name, "dev-") || !strings.HasSuffix(name, ".json") {
			continue
		}
		path := filepath.Join(dir, name)
		s, err := readDevState(path)
		if err != nil || strconv.Itoa(s.PID)+".json" != strings.TrimPrefix(name, "dev-") {
			continue
		}
		if !processAlive(s.PID) || !answers(s.Brokers) {
			os.Remove(path) // a dev that did not remove its file (killed)
			continue
		}
		found = append(found, s)
	}
	if len(found) == 0 {
		return devState{}, errNoDev
	}
	return slices.MaxFunc(found, func(a, b devState) int { return a.Started.Compare(b.Started) }), nil
}

// readDevState reads a state file that passes the checks: a regular file (not a link), the
// user's, mode 0600 or stricter, of reasonable size.
func readDevState(path string) (devState, error) {
	var s devState
	info, err := os.Lstat(path)
	if err != nil {
		return s, err
	}
	if !info.Mode().IsRegular() {
		return s, fmt.Errorf("%s is not a regular file", path)
	}
	if err := ownedPrivate(path, info); err != nil {
		return s, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return s, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(data, &s); err != nil || len(s.Brokers) == 0 {
		return s, fmt.Errorf("%s: not a dev state", path)
	}
	return s, nil
}

// processAlive reports whether a process with that pid exists and is ours (signal 0 checks
// without sending anything).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	return err == nil && p.Signal(syscall.Signal(0)) == nil
}

// answers reports whether the first broker accepts a connection (a pid reused by another
// process would otherwise point at a broker long gone).
func answers(brokers []string) bool {
	c, err := net.DialTimeout("tcp", brokers[0], time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// errNoDev says that no running dev was found and what to do.
var errNoDev = errors.New("no running `ordergate dev` found; pass --brokers (or set ORDERGATE_KAFKA_BROKERS)")

// kafkaSettings are the variables that point a command at a Kafka cluster: when any is
// set, the configuration is used as it is and no dev state is read.
var kafkaSettings = []string{
	"ORDERGATE_KAFKA_BROKERS", "ORDERGATE_KAFKA_SASL_MECHANISM", "ORDERGATE_KAFKA_SASL_USERNAME",
	"ORDERGATE_KAFKA_SASL_PASSWORD", "ORDERGATE_KAFKA_TLS_ENABLED", "ORDERGATE_KAFKA_TLS_CA_FILE",
	"ORDERGATE_KAFKA_TLS_CERT_FILE", "ORDERGATE_KAFKA_TLS_KEY_FILE",
}

// toolTarget returns the configuration a tool command (produce, tail, check) talks to
// Kafka with. Explicit settings win: the --brokers flag, then the ORDERGATE_KAFKA_*
// variables; only without any of them is a running `ordergate dev` looked for, and then
// the dev's plain-text broker is used without the configuration's SASL or TLS.
func toolTarget(brokersFlag string, cfg config.Config) (config.Config, error) {
	if brokersFlag != "" {
		cfg.KafkaBrokers = strings.Split(brokersFlag, ",")
		return cfg, nil
	}
	for _, name := range kafkaSettings {
		if _, set := os.LookupEnv(name); set {
			return cfg, nil
		}
	}
	s, err := runningDev()
	if err != nil {
		return cfg, err
	}
	cfg.KafkaBrokers = s.Brokers
	cfg.KafkaSASLMechanism, cfg.KafkaSASLUsername, cfg.KafkaSASLPassword = "", "", ""
	cfg.KafkaTLSEnabled, cfg.KafkaTLSCAFile, cfg.KafkaTLSCertFile, cfg.KafkaTLSKeyFile = false, "", "", ""
	return cfg, nil
}

// toolClients loads the configuration of a tool command, picks its Kafka target
// (toolTarget) and builds its clients, which the caller closes; on a problem it prints it
// and returns false.
func toolClients(e *env, command, brokersFlag string) (config.Config, *worker.Kafka, bool) {
	cfg, _, ok := loadConfig(e)
	if !ok {
		return cfg, nil, false
	}
	cfg, err := toolTarget(brokersFlag, cfg)
	if err == nil {
		var k *worker.Kafka
		if k, err = worker.KafkaClients(cfg, cfg.KafkaBrokers); err == nil {
			return cfg, k, true
		}
	}
	printErr(e, command, cfg, err)
	return cfg, nil, false
}
