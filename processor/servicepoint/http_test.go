package servicepoint

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
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

// TestHTTPInventoryAnswers: a 404 of the inventory itself (an empty body, or a JSON one)
// and an empty array mean none (an empty list, not nil), and members the contract does not
// know are ignored.
func TestHTTPInventoryAnswers(t *testing.T) {
	for _, tc := range []struct {
		name        string
		status      int
		contentType string
		body        string
		want        []order.ServicePoint
	}{
		{"404 JSON", http.StatusNotFound, "application/json", `{"error":"not found"}`, []order.ServicePoint{}},
		{"404 problem+json", http.StatusNotFound, "application/problem+json; charset=utf-8", `{"title":"Not Found"}`, []order.ServicePoint{}},
		{"404 empty", http.StatusNotFound, "", "", []order.ServicePoint{}},
		{"404 empty, typed text", http.StatusNotFound, "text/plain", "", []order.ServicePoint{}},
		{"empty array", http.StatusOK, "application/json", " [ ]\n", []order.ServicePoint{}},
		{"unknown members", http.StatusOK, "application/json", `[{"id":"X","market":"FR","links":{"self":"/x"},"since":2020}]`, []order.ServicePoint{{ID: "X", Market: "FR"}}},
		{"several", http.StatusOK, "application/json", `[{"id":"X"},{"id":"Y","state":"TERMINATED"}]`, []order.ServicePoint{{ID: "X"}, {ID: "Y", State: "TERMINATED"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header()["Content-Type"] = nil // no sniffing
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
				}
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

// TestGatewayNotFoundIsAFailure (issue 17, item 4): a 404 whose body is a page (HTML, text)
// is not the inventory's answer but a gateway's, a proxy's or an ingress's: an
// inventory_status failure, retried, never "none". Before the fix every 404 meant none:
// 5 s of a gateway's HTML 404 turned 4,710 valid requests into 3622.
func TestGatewayNotFoundIsAFailure(t *testing.T) {
	for _, tc := range []struct{ contentType, body string }{
		{"text/html; charset=utf-8", "<html><body><h1>404 Not Found</h1>nginx</body></html>"},
		{"text/plain; charset=utf-8", "404 page not found\n"},
		{"", "<html>no type</html>"},
		{"application/xml", "<error>not found</error>"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = nil
			if tc.contentType != "" {
				w.Header().Set("Content-Type", tc.contentType)
			}
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(tc.body))
		}))
		got, err := NewHTTPInventory(srv.URL, "", time.Second, nil).Find(context.Background(), byID("X"))
		srv.Close()
		var te *TransientError
		if !errors.As(err, &te) || te.Cause() != CauseInventoryStatus || got != nil {
			t.Errorf("404 %q %q: got %v, %v; want an inventory_status failure", tc.contentType, tc.body, got, err)
		}
	}
}

// TestRedirectsAreNotFollowed (issue 23, item 4): a redirect of the inventory, to another
// port, another host or plain http, is a failure; the token never leaves for the target.
func TestRedirectsAreNotFollowed(t *testing.T) {
	var reached atomic.Int64
	var leaked atomic.Value
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		leaked.Store(r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`[{"id":"X"}]`))
	}))
	defer target.Close()
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+r.URL.RequestURI(), code)
		}))
		for _, client := range []*http.Client{nil, {}} {
			got, err := NewHTTPInventory(srv.URL, "s3cret-token", time.Second, client).Find(context.Background(), byID("X"))
			var te *TransientError
			if !errors.As(err, &te) || te.Cause() != CauseInventoryStatus || got != nil || !strings.Contains(err.Error(), "redirects are not followed") {
				t.Errorf("%d: got %v, %v; want an inventory_status failure", code, got, err)
			}
		}
		srv.Close()
	}
	if reached.Load() != 0 {
		t.Fatalf("the redirect target was reached %d times (Authorization %q)", reached.Load(), leaked.Load())
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
