package servicepoint

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
)

// TestInventoryFailuresAreTransient: every answer of the inventory other than 200 with a
// JSON array and 404, and every failure to get an answer, is a TransientError with its
// cause: never an answer, never cached; the next batch after recovery succeeds.
func TestInventoryFailuresAreTransient(t *testing.T) {
	const timeout = 300 * time.Millisecond
	addr := testredis.Shared(t)
	raw := rawClient(t, addr)
	for _, tc := range []struct {
		mode   string
		cause  string
		result string
	}{
		{"503", CauseInventoryStatus, ResultStatus},
		{"500", CauseInventoryStatus, ResultStatus},
		{"429", CauseInventoryStatus, ResultStatus},
		{"401", CauseInventoryStatus, ResultStatus},
		{"403", CauseInventoryStatus, ResultStatus},
		{"400", CauseInventoryStatus, ResultStatus},
		{"garbage", CauseInventoryBody, ResultBody},
		{"object", CauseInventoryBody, ResultBody},
		{"no-id", CauseInventoryBody, ResultBody},
		{"numbers", CauseInventoryBody, ResultBody},
		{"truncated", CauseInventoryBody, ResultBody},
		{"gateway404", CauseInventoryStatus, ResultStatus},
		{"hang", CauseInventoryTimeout, ResultTimeout},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			inv := newInventoryServer(t)
			inv.mode.Store(tc.mode)
			obs := newRecorder()
			r, hook := newResolver(t, addr, NewHTTPInventory(inv.URL, "", timeout, nil), Options{Observer: obs})
			l := []order.Lookup{byID("SP-3")}
			start := time.Now()
			got, err := r.Resolve(context.Background(), l)
			elapsed := time.Since(start)
			var te *TransientError
			if !errors.As(err, &te) || te.Cause() != tc.cause || !errors.Is(err, ErrTransient) || got != nil {
				t.Fatalf("got %+v, %v; want a transient %s error and no answer", got, err, tc.cause)
			}
			if elapsed > timeout+time.Second {
				t.Errorf("took %v with a %v inventory timeout", elapsed, timeout)
			}
			if raw.Exists(context.Background(), r.Key(l[0])).Val() != 0 {
				t.Fatal("a failure was cached")
			}
			if _, pipelines, _ := hook.counts(); !reflect.DeepEqual(pipelines, []string{"getrange*1"}) {
				t.Errorf("a batch whose only key failed wrote to Redis: %v", pipelines)
			}
			if o := obs.snapshot(); !reflect.DeepEqual(o.results, map[string]int{tc.result: 1}) {
				t.Errorf("observed %v, want one %s call", o.results, tc.result)
			}

			inv.mode.Store("ok")
			got, err = r.Resolve(context.Background(), l)
			if err != nil || len(got[0]) != 1 {
				t.Fatalf("after recovery: %+v, %v", got, err)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		url := "http://" + l.Addr().String()
		l.Close()
		r, _ := newResolver(t, addr, NewHTTPInventory(url, "", time.Second, nil), Options{})
		got, err := r.Resolve(context.Background(), []order.Lookup{byID("SP-3")})
		var te *TransientError
		if !errors.As(err, &te) || te.Cause() != CauseInventoryUnavailable || got != nil {
			t.Fatalf("got %+v, %v; want a transient inventory_unavailable error", got, err)
		}
		if strings.Contains(err.Error(), url) {
			t.Errorf("the error repeats the URL: %v", err)
		}
	})
}

// TestPartialFailure: when one key of a batch fails, the batch fails, and the answers of the
// other keys are cached so that the retry asks the inventory only for the failed key.
func TestPartialFailure(t *testing.T) {
	inv := newInventoryServer(t)
	failing := &failingInventory{Inventory: NewHTTPInventory(inv.URL, "", time.Second, nil), fail: "SP-bad"}
	r, _ := newResolver(t, testredis.Shared(t), failing, Options{})
	batch := []order.Lookup{byID("SP-1"), byID("SP-bad"), byID("SP-2")}
	got, err := r.Resolve(context.Background(), batch)
	var te *TransientError
	if !errors.As(err, &te) || te.Cause() != CauseInventoryStatus || got != nil {
		t.Fatalf("got %+v, %v", got, err)
	}
	failing.fail = ""
	if got, err = r.Resolve(context.Background(), batch); err != nil || len(got[1]) != 1 {
		t.Fatalf("retry: %+v, %v", got, err)
	}
	if inv.callsFor(byID("SP-1")) != 1 || inv.callsFor(byID("SP-2")) != 1 || inv.callsFor(byID("SP-bad")) != 1 {
		t.Fatal("the retry asked the inventory again for keys answered before the failure")
	}
}

// failingInventory fails the lookups of one id with a status error, other errors wrapped.
type failingInventory struct {
	Inventory
	fail string
}

func (f *failingInventory) Find(ctx context.Context, l order.Lookup) ([]order.ServicePoint, error) {
	if l.Value == f.fail {
		return nil, transient(CauseInventoryStatus, "inventory answered 502 Bad Gateway")
	}
	return f.Inventory.Find(ctx, l)
}

// TestForeignInventoryErrors: an error of an Inventory of another package becomes transient,
// a deadline becoming inventory_timeout.
func TestForeignInventoryErrors(t *testing.T) {
	for _, tc := range []struct {
		err   error
		cause string
	}{
		{errors.New("boom"), CauseInventoryUnavailable},
		{context.DeadlineExceeded, CauseInventoryTimeout},
	} {
		r, _ := newResolver(t, testredis.Shared(t), inventoryFunc(func(context.Context, order.Lookup) ([]order.ServicePoint, error) {
			return nil, tc.err
		}), Options{})
		_, err := r.Resolve(context.Background(), []order.Lookup{byID("SP-1")})
		var te *TransientError
		if !errors.As(err, &te) || te.Cause() != tc.cause || !errors.Is(err, tc.err) {
			t.Errorf("%v: got %v, want a transient %s error wrapping it", tc.err, err, tc.cause)
		}
	}
}

type inventoryFunc func(context.Context, order.Lookup) ([]order.ServicePoint, error)

func (f inventoryFunc) Find(ctx context.Context, l order.Lookup) ([]order.ServicePoint, error) {
	return f(ctx, l)
}
