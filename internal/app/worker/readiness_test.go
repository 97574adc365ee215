package worker

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// silentBroker accepts connections and never answers, as a hung broker does; it closes
// them when the test ends.
func silentBroker(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return l.Addr().String()
}

// TestKafkaProbeAsksTheBrokers (issue 17, item 1): the probe answers from the brokers
// themselves, never from a cache: nil when one of them answers, an error naming each
// broker otherwise, within the check's deadline even when a broker holds the connection
// without answering.
func TestKafkaProbeAsksTheBrokers(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	live := c.ListenAddrs()[0]
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := l.Addr().String()
	l.Close()
	hung := silentBroker(t)

	for _, tc := range []struct {
		name    string
		brokers []string
		want    []string // "" for ready
	}{
		{"one broker answering", []string{live}, nil},
		{"one of three answering", []string{refused, hung, live}, nil},
		{"refused", []string{refused}, []string{"no broker answers: " + refused + ": ", "connection refused"}},
		{"hung", []string{hung}, []string{"no broker answers: " + hung + ": no answer within the probe's deadline"}},
		{"none answering", []string{refused, hung}, []string{refused + ": ", hung + ": no answer within the probe's deadline"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := KafkaClients(defaults(t), tc.brokers)
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			start := time.Now()
			err = k.Probe(tc.brokers)(ctx)
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("the probe took %v with a 500 ms deadline", took)
			}
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("probe: %v, want nil", err)
			case tc.want != nil && err == nil:
				t.Fatal("probe: nil, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("probe: %v, want it to say %q", err, w)
				}
			}
		})
	}
}
