package servicepoint

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/ordergate/ordergate/processor/order"
)

// TestHTTPInventoryRequest: the request is GET {base}/servicePoints?{criterion}={value} with
// the value query-escaped, Accept: application/json and the bearer token when one is set.
func TestHTTPInventoryRequest(t *testing.T) {
	odd := "A&B=C D/é+%#?x"
	inv := newInventoryServer(t, order.ServicePoint{ID: "SP-odd", CustomerReference: odd})
	for _, base := range []string{inv.URL, inv.URL + "/"} {
		h := NewHTTPInventory(base, "t0ken", time.Second, nil)
		got, err := h.Find(context.Background(), order.Lookup{Criterion: order.ByCustomerReference, Value: odd})
		if err != nil || len(got) != 1 || got[0].ID != "SP-odd" {
			t.Fatalf("base %q: got %+v, %v", base, got, err)
		}
		req := inv.lastReq.Load()
		if req.Method != http.MethodGet || req.URL.Path != "/servicePoints" {
			t.Errorf("request %s %s", req.Method, req.URL)
		}
		if q := req.URL.Query(); len(q) != 1 || len(q["customerReference"]) != 1 || q.Get("customerReference") != odd {
			t.Errorf("query %q decodes to %v, want customerReference=%q only", req.URL.RawQuery, q, odd)
		}
		if a := req.Header.Get("Authorization"); a != "Bearer t0ken" {
			t.Errorf("Authorization %q", a)
		}
		if a := req.Header.Get("Accept"); a != "application/json" {
			t.Errorf("Accept %q", a)
		}
	}

	h := NewHTTPInventory(inv.URL, "", time.Second, nil)
	if _, err := h.Find(context.Background(), byID("SP-1")); err != nil {
		t.Fatal(err)
	}
	if _, ok := inv.lastReq.Load().Header["Authorization"]; ok {
		t.Error("Authorization sent without a token")
	}
}

// TestHTTPInventoryAnswers: 404 and an empty array both mean none (an empty list, not nil),
// and members the contract does not know are ignored.
func TestHTTPInventoryAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   []order.ServicePoint
	}{
		{"404", http.StatusNotFound, `{"error":"not found"}`, []order.ServicePoint{}},
		{"empty array", http.StatusOK, " [ ]\n", []order.ServicePoint{}},
		{"unknown members", http.StatusOK, `[{"id":"X","market":"FR","links":{"self":"/x"},"since":2020}]`, []order.ServicePoint{{ID: "X", Market: "FR"}}},
		{"several", http.StatusOK, `[{"id":"X"},{"id":"Y","state":"TERMINATED"}]`, []order.ServicePoint{{ID: "X"}, {ID: "Y", State: "TERMINATED"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			got, err := NewHTTPInventory(srv.URL, "", time.Second, nil).Find(context.Background(), byID("X"))
			if err != nil || got == nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, %v; want %#v", got, err, tc.want)
			}
		})
	}
}

// TestHTTPInventoryBodyErrors: a 200 body that is not a JSON array of service points each
// with a string id is an inventory_body failure.
func TestHTTPInventoryBodyErrors(t *testing.T) {
	for _, body := range []string{"", "null", `{"id":"X"}`, "[", `[{"id":"X"}] trailing`, `[{"id":""}]`, `[{"id":1}]`,
		`[{"id":"X","id":"Y"}]`, "[\"\xff\"]", "<html></html>"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }))
		_, err := NewHTTPInventory(srv.URL, "", time.Second, nil).Find(context.Background(), byID("X"))
		srv.Close()
		var te *TransientError
		if !errors.As(err, &te) || te.Cause() != CauseInventoryBody {
			t.Errorf("body %q: %v, want an inventory_body error", body, err)
		}
	}
}

// TestHTTPInventoryTimeout: the per-call timeout bounds a call, and a zero timeout means
// the default rather than none.
func TestHTTPInventoryTimeout(t *testing.T) {
	inv := newInventoryServer(t)
	inv.mode.Store("hang")
	start := time.Now()
	_, err := NewHTTPInventory(inv.URL, "", 100*time.Millisecond, nil).Find(context.Background(), byID("SP-1"))
	var te *TransientError
	if !errors.As(err, &te) || te.Cause() != CauseInventoryTimeout {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("a 100ms timeout took %v", d)
	}
	if h := NewHTTPInventory(inv.URL, "", 0, nil); h.timeout != DefaultInventoryTimeout {
		t.Fatalf("zero timeout became %v", h.timeout)
	}
}
