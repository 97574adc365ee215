package publisher

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/processor"
	"github.com/ordergate/ordergate/processor/order"
)

// fakeWriter answers each WriteMessages call with the next scripted answer: per message, nil
// (acknowledged) or an error.
type fakeWriter struct {
	calls   [][]kafka.Message
	answers []func(msgs []kafka.Message) error
}

func (f *fakeWriter) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	f.calls = append(f.calls, append([]kafka.Message(nil), msgs...))
	if len(f.answers) == 0 {
		return nil
	}
	a := f.answers[0]
	f.answers = f.answers[1:]
	return a(msgs)
}

// failIf answers a WriteErrors with err for the messages pred selects.
func failIf(pred func(m kafka.Message) bool, err error) func([]kafka.Message) error {
	return func(msgs []kafka.Message) error {
		werrs := make(kafka.WriteErrors, len(msgs))
		any := false
		for i, m := range msgs {
			if pred(m) {
				werrs[i], any = err, true
			}
		}
		if !any {
			return nil
		}
		return werrs
	}
}

type recorder struct {
	published []Kind
	failed    map[string]int
}

func (r *recorder) Published(_ *processor.Result, k Kind, _ time.Time) {
	r.published = append(r.published, k)
}
func (r *recorder) Failed(cause string, n int) {
	if r.failed == nil {
		r.failed = map[string]int{}
	}
	r.failed[cause] += n
}

var at = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

// results decides values (account requests, no resolution needed) into results.
func results(t *testing.T, values ...string) []processor.Result {
	t.Helper()
	out := make([]processor.Result, len(values))
	for i, v := range values {
		in := &order.Record{Source: order.Source{Topic: "in", Partition: 0, Offset: int64(i)}, Time: at, Key: []byte("k"), Value: []byte(v),
			Headers: []order.Header{{Key: "type", Value: []byte("PATCH-billingAccountById")}, {Key: "businessId", Value: []byte("PA")},
				{Key: "id", Value: []byte("A1")}, {Key: "client_id", Value: []byte("abcde")}, {Key: "client_secret", Value: []byte("s3cret")}}}
		d := (&order.Rules{}).Decide(in)
		out[i] = processor.Result{Record: in, Decision: d, Decided: at}
	}
	return out
}

const valid = `{"contact":[{"contactName":"J","partyRoleType":"OWNER","contactMedium":[{"mediumType":"Email","characteristic":{"contactType":"e","emailAddress":"j@x.fr"}}]}]}`

var topics = Topics{Accepted: "acc", Rejected: "rej", DLQ: "dlq"}

func TestSendRetriesOnlyWhatFailedInOrder(t *testing.T) {
	w := &fakeWriter{answers: []func([]kafka.Message) error{
		failIf(func(m kafka.Message) bool { return m.Topic == "rej" }, kafka.NotEnoughReplicas),
	}}
	rec := &recorder{}
	p := New(w, topics, DefaultTopicLimit, rec, nil)
	b := p.Prepare(results(t, valid, `{"contact":[]}`, valid, `{"contact":7}`))
	err := p.Send(context.Background(), b)
	var perr *Error
	if !errors.As(err, &perr) || perr.Cause() != "kafka_produce" || b.Pending() != 2 {
		t.Fatalf("first send: %v, %d pending", err, b.Pending())
	}
	if err := p.Send(context.Background(), b); err != nil || b.Pending() != 0 {
		t.Fatalf("second send: %v, %d pending", err, b.Pending())
	}
	second := w.calls[1]
	if len(second) != 2 || !strings.Contains(string(second[0].Value), `"offset":1`) || !strings.Contains(string(second[1].Value), `"offset":3`) {
		t.Fatalf("the retry must resend only the failed records, in input order")
	}
	if len(rec.published) != 4 || rec.failed["kafka_produce"] != 2 {
		t.Fatalf("observer: %v %v", rec.published, rec.failed)
	}
}

func TestTooLargeEventIsCut(t *testing.T) {
	big := strings.Replace(valid, `"J"`, `"`+strings.Repeat("J", 20000)+`"`, 1)
	p := New(&fakeWriter{}, topics, 8000, nil, nil)
	b := p.Prepare(results(t, valid, big))
	if b.kinds[0] != KindEvent || b.kinds[1] != KindTruncated {
		t.Fatalf("kinds %v", b.kinds)
	}
	var ev map[string]any
	if err := json.Unmarshal(b.msgs[1].Value, &ev); err != nil || ev["requestTruncated"] != true {
		t.Fatalf("cut event: %v %v", err, ev["requestTruncated"])
	}
	if size(&b.msgs[1]) > 8000 {
		t.Fatalf("cut event of %d bytes over the limit", size(&b.msgs[1]))
	}
}

func TestEventTooLargeEvenCutGoesToDLQ(t *testing.T) {
	p := New(&fakeWriter{}, topics, 1000, nil, nil)
	b := p.Prepare(results(t, valid))
	m := b.msgs[0]
	if b.kinds[0] != KindDLQ || m.Topic != "dlq" || string(m.Value) != valid || string(m.Key) != "k" {
		t.Fatalf("kind %v topic %s value %q", b.kinds[0], m.Topic, m.Value)
	}
	hs := map[string]string{}
	for _, h := range m.Headers {
		hs[h.Key] = string(h.Value)
	}
	if _, ok := hs["client_secret"]; ok {
		t.Fatal("client_secret kept on a dead-letter record")
	}
	if hs["dlq_source"] != "in/0/0" || hs["ce_id"] == "" || !strings.Contains(hs["dlq_reason"], "larger than the output topic accepts") {
		t.Fatalf("dead-letter headers %v", hs)
	}
}

func TestBrokerRefusals(t *testing.T) {
	t.Run("too large: the record is cut, then sent to the DLQ", func(t *testing.T) {
		w := &fakeWriter{answers: []func([]kafka.Message) error{
			failIf(func(m kafka.Message) bool { return true }, kafka.MessageSizeTooLarge),
			failIf(func(m kafka.Message) bool { return m.Topic != "dlq" }, kafka.MessageSizeTooLarge),
		}}
		rec := &recorder{}
		p := New(w, topics, DefaultTopicLimit, rec, nil)
		b := p.Prepare(results(t, valid))
		for i := 0; i < 3 && b.Pending() > 0; i++ {
			_ = p.Send(context.Background(), b)
		}
		if b.Pending() != 0 || len(rec.published) != 1 || rec.published[0] != KindDLQ {
			t.Fatalf("pending %d, published %v, calls %d", b.Pending(), rec.published, len(w.calls))
		}
		if w.calls[1][0].Topic != "acc" || !strings.Contains(string(w.calls[1][0].Value), `"requestTruncated":true`) {
			t.Fatalf("second attempt was not the cut event")
		}
	})
	t.Run("invalid record: straight to the DLQ", func(t *testing.T) {
		w := &fakeWriter{answers: []func([]kafka.Message) error{failIf(func(kafka.Message) bool { return true }, kafka.InvalidRecord)}}
		p := New(w, topics, DefaultTopicLimit, nil, nil)
		b := p.Prepare(results(t, valid))
		_ = p.Send(context.Background(), b)
		if err := p.Send(context.Background(), b); err != nil || w.calls[1][0].Topic != "dlq" {
			t.Fatalf("%v, %v", err, w.calls)
		}
	})
	t.Run("a dead-letter record refused stays pending with its own cause", func(t *testing.T) {
		w := &fakeWriter{answers: []func([]kafka.Message) error{
			failIf(func(kafka.Message) bool { return true }, kafka.InvalidRecord),
			failIf(func(kafka.Message) bool { return true }, kafka.InvalidRecord),
		}}
		p := New(w, topics, DefaultTopicLimit, nil, nil)
		b := p.Prepare(results(t, valid))
		_ = p.Send(context.Background(), b)
		err := p.Send(context.Background(), b)
		var perr *Error
		if !errors.As(err, &perr) || perr.Cause() != "kafka_refused" || b.Pending() != 1 {
			t.Fatalf("%v, pending %d", err, b.Pending())
		}
	})
	t.Run("an error for the whole call leaves everything pending", func(t *testing.T) {
		w := &fakeWriter{answers: []func([]kafka.Message) error{func([]kafka.Message) error { return context.DeadlineExceeded }}}
		p := New(w, topics, DefaultTopicLimit, nil, nil)
		b := p.Prepare(results(t, valid, valid))
		if err := p.Send(context.Background(), b); err == nil || b.Pending() != 2 {
			t.Fatalf("%v, pending %d", err, b.Pending())
		}
	})
}

// TestPerTopicLimits checks issue 19: each output topic's own limit decides the cut and the
// dead letter of its events, and each topic's records go through its own writer (whose
// batches stay within that topic's limit). With a tiny rejected topic, a valid request is
// published whole on a large accepted topic (it went to the DLQ when the smallest limit of
// the two applied to both); and the reverse. Small (6000): a 7.5 KB event is cut; tiny
// (300): nothing fits, even cut.
func TestPerTopicLimits(t *testing.T) {
	big := strings.Replace(valid, `"J"`, `"`+strings.Repeat("J", 7000)+`"`, 1) // accepted, about 7.5 KB
	rejected := `{"contact":7}`
	bigRejected := `{"contact":7,"note":"` + strings.Repeat("n", 7000) + `"}`
	for _, tc := range []struct {
		name       string
		acc, rej   int
		wantTopics []string
		wantKinds  []Kind
	}{
		{"accepted large, rejected tiny", 16384, 300,
			[]string{"acc", "acc", "dlq", "dlq"}, []Kind{KindEvent, KindEvent, KindDLQ, KindDLQ}},
		{"accepted large, rejected small", 16384, 6000,
			[]string{"acc", "acc", "rej", "rej"}, []Kind{KindEvent, KindEvent, KindEvent, KindTruncated}},
		{"accepted small, rejected large", 6000, 16384,
			[]string{"acc", "acc", "rej", "rej"}, []Kind{KindEvent, KindTruncated, KindEvent, KindEvent}},
		{"accepted tiny, rejected large", 300, 16384,
			[]string{"dlq", "dlq", "rej", "rej"}, []Kind{KindDLQ, KindDLQ, KindEvent, KindEvent}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			accW, rejW, dlqW := &fakeWriter{}, &fakeWriter{}, &fakeWriter{}
			p := New(accW, topics, tc.acc, nil, nil)
			p.SetTopicLimit("acc", tc.acc)
			p.SetTopicLimit("rej", tc.rej)
			p.SetTopicWriter("rej", rejW)
			p.SetDeadLetterWriter(dlqW)
			b := p.Prepare(results(t, valid, big, rejected, bigRejected))
			for i := range b.msgs {
				if b.msgs[i].Topic != tc.wantTopics[i] || b.kinds[i] != tc.wantKinds[i] {
					t.Errorf("record %d: %s as %v, want %s as %v", i, b.msgs[i].Topic, b.kinds[i], tc.wantTopics[i], tc.wantKinds[i])
				}
				if b.kinds[i] != KindDLQ && size(&b.msgs[i]) > p.LimitOf(b.msgs[i].Topic) {
					t.Errorf("record %d: %d bytes over its topic's limit", i, size(&b.msgs[i]))
				}
			}
			if err := p.Send(context.Background(), b); err != nil {
				t.Fatal(err)
			}
			for w, topic := range map[*fakeWriter]string{accW: "acc", rejW: "rej", dlqW: "dlq"} {
				for _, call := range w.calls {
					for _, m := range call {
						if m.Topic != topic {
							t.Errorf("a record of %s went through the writer of %s", m.Topic, topic)
						}
					}
				}
			}
		})
	}
	t.Run("a refusal reads each topic's limit again", func(t *testing.T) {
		w := &fakeWriter{answers: []func([]kafka.Message) error{
			failIf(func(m kafka.Message) bool { return m.Topic == "acc" }, kafka.MessageSizeTooLarge),
		}}
		p := New(w, topics, 16384, nil, nil)
		p.SetTopicLimit("acc", 16384)
		p.SetTopicLimit("rej", 16384)
		p.SetLimitSource(func(context.Context) (map[string]int, error) { return map[string]int{"acc": 6000, "rej": 16384}, nil })
		b := p.Prepare(results(t, big, bigRejected))
		_ = p.Send(context.Background(), b)
		if err := p.Send(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		if p.LimitOf("acc") != 6000 || p.LimitOf("rej") != 16384 || b.kinds[0] != KindTruncated || b.kinds[1] != KindEvent {
			t.Fatalf("limits %d/%d, kinds %v", p.LimitOf("acc"), p.LimitOf("rej"), b.kinds)
		}
	})
}

func TestReleasedBatchHoldsNothingAndIsReused(t *testing.T) {
	w := &fakeWriter{}
	p := New(w, topics, DefaultTopicLimit, nil, nil)
	b := p.Prepare(results(t, valid, `{"contact":[]}`, valid))
	if err := p.Send(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	p.Release(b)
	if b.results != nil || len(b.msgs) != 0 || b.Pending() != 0 {
		t.Fatalf("a released batch keeps %d results, %d records, %d pending", len(b.results), len(b.msgs), b.Pending())
	}
	for i, m := range b.msgs[:cap(b.msgs)] {
		if m.Key != nil || m.Value != nil || m.Headers != nil {
			t.Fatalf("record %d of a released batch still refers to its key, value or headers", i)
		}
	}
	second := results(t, `{"contact":7}`, valid)
	again := p.PrepareInto(b, second)
	want := New(&fakeWriter{}, topics, DefaultTopicLimit, nil, nil).Prepare(results(t, `{"contact":7}`, valid))
	if again != b || len(again.msgs) != 2 {
		t.Fatalf("the released batch was not reused for the next one")
	}
	for i := range want.msgs {
		g, x := again.msgs[i], want.msgs[i]
		if g.Topic != x.Topic || string(g.Key) != string(x.Key) || string(g.Value) != string(x.Value) || len(g.Headers) != len(x.Headers) {
			t.Fatalf("record %d after a release: %s %q %d headers, want %s %q %d", i, g.Topic, g.Key, len(g.Headers), x.Topic, x.Key, len(x.Headers))
		}
		for j := range x.Headers {
			if g.Headers[j].Key != x.Headers[j].Key || string(g.Headers[j].Value) != string(x.Headers[j].Value) {
				t.Fatalf("record %d header %d after a release: %s=%q, want %s=%q", i, j, g.Headers[j].Key, g.Headers[j].Value, x.Headers[j].Key, x.Headers[j].Value)
			}
		}
	}
}

// meetingWriter is a topic's writer that, once called, waits until the other topic's writer
// has been called too (or a second passes, and fails).
type meetingWriter struct {
	fakeWriter
	me, other chan struct{}
}

func (m *meetingWriter) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	close(m.me)
	select {
	case <-m.other:
		return m.fakeWriter.WriteMessages(ctx, msgs...)
	case <-time.After(time.Second):
		return errors.New("the other topic's writer was not called while this one waited")
	}
}

func TestTopicWritersSendAtOnce(t *testing.T) {
	acc, rej := make(chan struct{}), make(chan struct{})
	accW := &meetingWriter{me: acc, other: rej}
	rejW := &meetingWriter{me: rej, other: acc}
	p := New(&fakeWriter{}, topics, DefaultTopicLimit, nil, nil)
	p.SetTopicWriter(topics.Accepted, accW)
	p.SetTopicWriter(topics.Rejected, rejW)
	b := p.Prepare(results(t, valid, `{"contact":[]}`, valid, `{"contact":7}`))
	if err := p.Send(context.Background(), b); err != nil || b.Pending() != 0 {
		t.Fatalf("send through two topic writers: %v, %d pending; they must write at once, not in turn", err, b.Pending())
	}
	if len(accW.calls) != 1 || len(accW.calls[0]) != 2 || len(rejW.calls) != 1 || len(rejW.calls[0]) != 2 ||
		!strings.Contains(string(rejW.calls[0][0].Value), `"offset":1`) || !strings.Contains(string(rejW.calls[0][1].Value), `"offset":3`) {
		t.Fatalf("each writer must get its topic's records once, in input order")
	}
}
