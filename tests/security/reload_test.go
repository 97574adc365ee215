package security

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/processor/order"
)

// TestReloadClientsOnSIGHUP rotates the clients file of a worker process: a client added to
// the file is accepted after SIGHUP, a removed one is refused (401/41; without a secret at
// all 401/40), and a broken file keeps the table in force, with an error line that says so.
func TestReloadClientsOnSIGHUP(t *testing.T) {
	c := testkit.NewCluster(t, 1, nil)
	cfg := transportConfig(t, c)
	clients := filepath.Join(t.TempDir(), "clients.json")
	a := client{clientID, clientSecret, []string{"PA"}}
	b := client{otherClientID, otherSecret, []string{"PA"}}
	writeFile(t, clients, clientsJSON(t, a))
	cfg.ClientsFile = clients
	cfg.LogLevel = "info"

	p := testkit.StartProcess(t, processEnv(t, cfg), "run")
	httpAddr(t, p) // SIGHUP is handled once the worker has started

	offset := int64(0)
	want := map[int64]string{}
	// send produces one update request with the credentials given and waits for its event.
	send := func(outcome string, creds ...[2]string) {
		t.Helper()
		produce(t, c, access{}, order.Record{Key: []byte("WAN-SEC-002"), Value: body(t, "update.json"), Headers: headers(creds), Time: testkit.RecordTime})
		want[offset] = outcome
		offset++
		c.WaitEvents(t, int(offset), time.Minute)
	}
	idA, secretA := [2]string{"client_id", clientID}, [2]string{"client_secret", clientSecret}
	idB, secretB := [2]string{"client_id", otherClientID}, [2]string{"client_secret", otherSecret}
	hup := func(msg string, n int) {
		t.Helper()
		must(t, p.Cmd.Process.Signal(syscall.SIGHUP), "SIGHUP")
		waitLog(t, p, `"msg":"`+msg+`"`, n, 30*time.Second)
	}

	send("accepted", idA, secretA)
	send("rejected:41", idB, secretB) // not in the file yet

	writeFile(t, clients, clientsJSON(t, a, b))
	hup("reload: clients file read again", 1)
	send("accepted", idB, secretB)
	send("accepted", idA, secretA)

	writeFile(t, clients, clientsJSON(t, b)) // a's secret is revoked
	hup("reload: clients file read again", 2)
	send("rejected:41", idA, secretA)
	send("rejected:40", idA) // no secret at all: row 5
	send("accepted", idB, secretB)

	// Broken files: each is refused and the table of b alone stays in force.
	broken := []struct {
		name string
		data []byte
	}{
		{"truncated JSON", clientsJSON(t, a, b)[:40]},
		{"digest not 64 hex digits", []byte(`[{"clientId":"` + clientID + `","secretSha256":"` + digest(clientSecret)[:63] + `","businessIds":["PA"]}]`)},
		{"unassigned business unit", []byte(strings.Replace(string(clientsJSON(t, a, b)), `"PA"`, `"UK"`, 1))},
		{"empty file", []byte{}},
		{"empty list (issue 17, item 6)", []byte("[]")},
		{"missing file", nil},
	}
	for i, f := range broken {
		t.Logf("broken file: %s", f.name)
		if f.data == nil {
			must(t, os.Remove(clients), "remove the clients file")
		} else {
			writeFile(t, clients, f.data)
		}
		hup("reload: clients file kept as it was", i+1)
		send("rejected:41", idA, secretA)
		send("accepted", idB, secretB)
	}

	stop(t, p)

	got := outcomes(t, c, access{})
	for off := int64(0); off < offset; off++ {
		if got[off] != want[off] {
			t.Errorf("input %d: %q, want %q", off, got[off], want[off])
		}
	}
	lines := logLines(p.Logs())
	errorsSeen := 0
	for _, l := range lines {
		noLeak(t, "log line", []byte(l.Raw), secrets, personal, []canary{{"digest's first digits", digest(clientSecret)[:20]}})
		if l.Msg == "reload: clients file kept as it was" {
			errorsSeen++
			if l.Level != "ERROR" {
				t.Errorf("a refused file is logged at %s, want ERROR: %s", l.Level, l.Raw)
			}
			if !strings.Contains(l.Raw, "ORDERGATE_CLIENTS_FILE") {
				t.Errorf("the line does not name ORDERGATE_CLIENTS_FILE: %s", l.Raw)
			}
		}
		if l.Msg == "reload: clients file read again" && l.Attrs["clients"] == nil {
			t.Errorf("the reload line does not count the clients: %s", l.Raw)
		}
	}
	if errorsSeen != len(broken) {
		t.Errorf("%d lines say that the file was kept, want %d", errorsSeen, len(broken))
	}
}
