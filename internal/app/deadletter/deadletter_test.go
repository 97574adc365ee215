package deadletter

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

var t0 = time.Date(2026, 12, 6, 15, 0, 0, 0, time.UTC)

func letter(off int64, id string, hs ...string) Letter {
	l := Letter{Topic: "orders.dlq", Partition: 1, Offset: off, Time: t0.Add(time.Duration(off) * time.Minute), EventID: id,
		Key: []byte("K"), Value: []byte(`{"contact":[]}`), Reason: "event of 3612 bytes is larger than the output topic accepts", RequestType: "PATCH-billingAccountById"}
	for _, h := range hs {
		k, v, _ := strings.Cut(h, "=")
		l.Headers = append(l.Headers, kafka.Header{Key: k, Value: []byte(v)})
	}
	return l
}

func TestFilter(t *testing.T) {
	l := letter(3, "e1")
	for _, tc := range []struct {
		f    Filter
		want bool
	}{
		{Filter{}, true},
		{Filter{Since: t0.Add(3 * time.Minute)}, true},
		{Filter{Since: t0.Add(4 * time.Minute)}, false},
		{Filter{Until: t0.Add(3 * time.Minute)}, false},
		{Filter{Reason: "LARGER THAN"}, true},
		{Filter{Reason: "invalid"}, false},
		{Filter{Type: "PATCH-billingAccountById"}, true},
		{Filter{Type: "none"}, false},
		{Filter{Key: "K"}, true},
		{Filter{Key: "k"}, false},
		{Filter{Pending: true}, true},
	} {
		if got := tc.f.Match(&l); got != tc.want {
			t.Errorf("%+v: %v, want %v", tc.f, got, tc.want)
		}
	}
	l.Replays = []Replay{{Record: "orders.requests/0/9"}}
	if (&Filter{Pending: true}).Match(&l) {
		t.Error("a replayed dead letter is pending")
	}
}

// TestPlan checks what a replay sends and refuses: only the contract's headers, the
// client's secret from the credentials, replay_of and replay_dead_letter; a second replay of
// an event refused unless forced; one replay per event; no secret, no replay.
func TestPlan(t *testing.T) {
	creds, err := ParseCredentials(strings.NewReader("# secrets\nchannel-1=s3cret-1\n\nother = s2\n"))
	if err != nil {
		t.Fatal(err)
	}
	fresh := letter(0, "e1", "type=PATCH-billingAccountById", "client_id=channel-1", "Authorization=Bearer old", "dlq_source=orders.requests/0/4", "ce_id=e1")
	replayed := letter(1, "e2", "client_id=channel-1")
	replayed.Replays = []Replay{{Time: t0, Record: "orders.requests/0/7"}}
	repeat := letter(2, "e1", "client_id=channel-1")
	stranger := letter(3, "e3", "client_id=stranger")
	plan := Plan([]*Letter{&fresh, &replayed, &repeat, &stranger}, creds, false)
	var got []string
	for _, h := range plan[0].Headers {
		got = append(got, h.Key+"="+string(h.Value))
	}
	if want := "type=PATCH-billingAccountById client_id=channel-1 client_secret=s3cret-1 replay_of=e1 replay_dead_letter=orders.dlq/1/0"; strings.Join(got, " ") != want || plan[0].Refused != "" {
		t.Errorf("headers %q (refused %q), want %q", strings.Join(got, " "), plan[0].Refused, want)
	}
	if p := plan[0].PrintableHeaders(); strings.Contains(fmt.Sprint(p), "s3cret") {
		t.Errorf("printable headers show the secret: %v", p)
	}
	for i, want := range []string{"", "already replayed at 2026-12-06T15:00:00Z as orders.requests/0/7", "the same event as dead letter 1/0", `needs the client_secret of client "stranger"`} {
		if !strings.Contains(plan[i].Refused, want) || (want == "") != (plan[i].Refused == "") {
			t.Errorf("plan %d refused %q, want %q", i, plan[i].Refused, want)
		}
	}
	if forced := Plan([]*Letter{&replayed}, creds, true); forced[0].Refused != "" {
		t.Errorf("forced replay refused: %s", forced[0].Refused)
	}
	if s := fmt.Sprintf("%v %+v %#v %s", creds, creds, creds, creds); strings.Contains(s, "s3cret") || strings.Contains(s, "s2") {
		t.Errorf("credentials print their secrets: %s", s)
	}
	for _, bad := range []string{"channel-1 s3cret-CANARY", "=s3cret-CANARY", "a=s3cret-CANARY\na=x"} {
		if _, err := ParseCredentials(strings.NewReader(bad)); err == nil || strings.Contains(err.Error(), "CANARY") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
