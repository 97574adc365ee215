package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

type causeErr string

func (e causeErr) Error() string { return string(e) }
func (e causeErr) Cause() string { return string(e) }

func TestBackoffIsCappedAndJittered(t *testing.T) {
	p := Policy{Initial: 100 * time.Millisecond, Max: time.Second}
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 60: time.Second} {
		for range 50 {
			d := p.Backoff(attempt)
			if d < want/2 || d > want {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
}

func TestDoRetriesUntilSuccess(t *testing.T) {
	var waits []time.Duration
	var causes []string
	p := Policy{
		Initial: time.Millisecond, Max: 4 * time.Millisecond,
		Sleep:   func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil },
		OnRetry: func(err error, attempt int, _ time.Time) { causes = append(causes, CauseOf(err)) },
	}
	n := 0
	err := p.Do(context.Background(), func(context.Context) error {
		n++
		if n < 5 {
			return causeErr("redis")
		}
		return nil
	})
	if err != nil || n != 5 || len(waits) != 4 || len(causes) != 4 || causes[0] != "redis" {
		t.Fatalf("err %v, attempts %d, waits %v, causes %v", err, n, waits, causes)
	}
}

func TestDoStopsOnlyWithTheContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err := Policy{Initial: time.Millisecond, Max: 2 * time.Millisecond}.Do(ctx, func(context.Context) error {
		return errors.New("down")
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	if CauseOf(err) != "other" {
		t.Fatalf("cause %q", CauseOf(err))
	}
}
