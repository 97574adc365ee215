package servicepoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/ordergate/ordergate/internal/foundation/tracing"
	"github.com/ordergate/ordergate/processor/order"
)

// DefaultInventoryTimeout bounds an inventory call when NewHTTPInventory is given none
// (ORDERGATE_INVENTORY_TIMEOUT's default).
const DefaultInventoryTimeout = 2 * time.Second

// maxInventoryBody bounds an inventory answer, so that a broken service cannot exhaust
// memory; a longer answer is a body failure.
const maxInventoryBody = 8 << 20

// maxDrain is how much of an unused answer is read so that its connection can be reused.
const maxDrain = 64 << 10

// HTTPInventory is the inventory service ("Core Information API", resource servicePoints):
// GET {base}/servicePoints?{criterion}={value}. A 200 answer with a JSON array (possibly
// empty) of service points is the list of matches, and a 404 means none when it is the
// inventory's own answer: an empty body or a JSON one (Content-Type application/json or
// +json). Every other answer (a 404 page of a gateway or a proxy, 5xx, 429, 401, 403, 400,
// a redirect...), a 200 body that is not a JSON array of objects each with a string id, a
// timeout and a connection error are transient failures, each with its cause. Unknown
// members of a service point are ignored, so that the inventory can grow.
//
// Redirects are never followed: the bearer token would go wherever the inventory's
// address, or whoever answers in its place, points, possibly over plain http. A 3xx is an
// inventory failure whose message says to set ORDERGATE_INVENTORY_URL to the final address.
type HTTPInventory struct {
	base    string
	token   string
	timeout time.Duration
	client  *http.Client
}

// NewHTTPInventory returns the inventory at base (http or https, with or without a trailing
// slash, without a query), sending token as "Authorization: Bearer {token}" when it is not
// empty. Each call is bounded by timeout (DefaultInventoryTimeout when not positive). A nil
// client means a client of its own that keeps up to 64 idle connections to the inventory
// (http.DefaultTransport keeps 2 per host, so that 16 concurrent calls would open new
// connections all the time); a client given is copied, and neither follows redirects.
func NewHTTPInventory(base, token string, timeout time.Duration, client *http.Client) *HTTPInventory {
	if client == nil {
		client = &http.Client{}
		if t, ok := http.DefaultTransport.(*http.Transport); ok {
			t = t.Clone()
			t.MaxIdleConnsPerHost = 64
			client.Transport = t
		}
	} else {
		c := *client // the caller's client keeps its own policy
		client = &c
	}
	client.CheckRedirect = refuseRedirect
	if timeout <= 0 {
		timeout = DefaultInventoryTimeout
	}
	return &HTTPInventory{base: strings.TrimRight(base, "/"), token: token, timeout: timeout, client: client}
}

// Find implements Inventory. The value is sent query-escaped, so that "&", "=", "#", "+",
// spaces and non-ASCII characters reach the inventory unchanged.
func (h *HTTPInventory) Find(ctx context.Context, l order.Lookup) ([]order.ServicePoint, error) {
	if err := checkLookup(l); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	ctx, span := h.startSpan(ctx, l)
	matches, err := h.find(ctx, l, span)
	if span != nil {
		if err != nil {
			tracing.Fail(span, err, time.Now())
		}
		span.End()
	}
	return matches, err
}

// find makes the call of Find in ctx; span, when not nil, is the call's trace span, whose
// context the request carries (traceparent, tracestate).
func (h *HTTPInventory) find(ctx context.Context, l order.Lookup, span trace.Span) ([]order.ServicePoint, error) {
	u := h.base + "/servicePoints?" + url.Values{string(l.Criterion): {l.Value}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, transient(CauseInventoryUnavailable, "inventory URL: %w", stripURL(err))
	}
	req.Header.Set("Accept", "application/json")
	if h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	if span != nil {
		propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(req.Header))
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, h.classify(ctx, err)
	}
	defer resp.Body.Close()
	if span != nil {
		span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
	}
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
	case code == http.StatusNotFound:
		if isJSON(resp.Header.Get("Content-Type")) || isEmpty(resp.Body) {
			drain(resp.Body)
			return none, nil
		}
		drain(resp.Body)
		return nil, transient(CauseInventoryStatus, "inventory answered %s with a body that is not JSON (%s): not the inventory's own answer (a gateway's or a proxy's page?)",
			resp.Status, mediaType(resp.Header.Get("Content-Type")))
	case code >= 300 && code < 400:
		drain(resp.Body)
		return nil, transient(CauseInventoryStatus, "inventory answered %s: redirects are not followed (set ORDERGATE_INVENTORY_URL to the final address)", resp.Status)
	default:
		drain(resp.Body)
		return nil, transient(CauseInventoryStatus, "inventory answered %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxInventoryBody+1))
	if err != nil {
		return nil, h.classify(ctx, err)
	}
	if len(body) > maxInventoryBody {
		return nil, transient(CauseInventoryBody, "inventory answer longer than %d bytes", maxInventoryBody)
	}
	return decodeAnswer(body)
}

// startSpan starts the client span of a call when ctx carries the span of a record (see
// Resolver.Resolve): "GET /servicePoints", with the criterion but not the value (it may
// identify a customer), so the URL is left out too. Without one it returns a nil span.
func (h *HTTPInventory) startSpan(ctx context.Context, l order.Lookup) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.SpanContext().IsValid() {
		return ctx, nil
	}
	attrs := []attribute.KeyValue{semconv.HTTPRequestMethodGet, semconv.URLTemplate("/servicePoints"),
		tracing.AttrLookupCriterion.String(string(l.Criterion))}
	if u, err := url.Parse(h.base); err == nil {
		attrs = append(attrs, semconv.ServerAddress(u.Hostname()))
		if p, err := strconv.Atoi(u.Port()); err == nil {
			attrs = append(attrs, semconv.ServerPort(p))
		}
	}
	return tracing.Tracer(parent.TracerProvider()).Start(ctx, "GET /servicePoints",
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
}

// decodeAnswer reads a 200 answer: a JSON array of service points, each with an id.
func decodeAnswer(body []byte) ([]order.ServicePoint, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '[' {
		return nil, transient(CauseInventoryBody, "inventory answer is not a JSON array (%s)", describe(trimmed))
	}
	var list []order.ServicePoint
	if err := json.Unmarshal(trimmed, &list); err != nil {
		return nil, transient(CauseInventoryBody, "inventory answer is not a JSON array of service points: %w", err)
	}
	for i := range list {
		if list[i].ID == "" {
			return nil, transient(CauseInventoryBody, "inventory answer: service point %d has no id", i)
		}
	}
	if len(list) == 0 {
		return none, nil
	}
	return list, nil
}

// describe names the start of a body that is not an array, without echoing much of it.
func describe(b []byte) string {
	switch {
	case len(b) == 0:
		return "empty"
	case b[0] == '{':
		return "an object"
	case b[0] == '<':
		return "HTML or XML"
	case bytes.Equal(b, []byte("null")):
		return "null"
	}
	return "starts with " + fmt.Sprintf("%q", b[:min(len(b), 16)])
}

// classify tells a timeout from an unreachable service.
func (h *HTTPInventory) classify(ctx context.Context, err error) error {
	var ne net.Error
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return transient(CauseInventoryTimeout, "inventory did not answer within %v", h.timeout)
	}
	return transient(CauseInventoryUnavailable, "inventory unreachable: %w", stripURL(err))
}

// stripURL leaves the URL out of an error of net/http: it repeats the lookup's value, and a
// URL may hold credentials someone put there.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// refuseRedirect is the CheckRedirect of the inventory's client: the 3xx answer itself is
// returned, and Find reports it as a failure.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// isJSON reports whether a Content-Type is application/json or a +json type.
func isJSON(contentType string) bool {
	t := mediaType(contentType)
	return t == "application/json" || strings.HasPrefix(t, "application/") && strings.HasSuffix(t, "+json")
}

// mediaType returns the media type of a Content-Type, lower case, or "none".
func mediaType(contentType string) string {
	t, _, err := mime.ParseMediaType(contentType)
	if err != nil || t == "" {
		return "none"
	}
	return t
}

// isEmpty reports whether body has no byte left; it may consume one.
func isEmpty(body io.Reader) bool {
	var b [1]byte
	n, _ := io.ReadFull(body, b[:])
	return n == 0
}

// drain reads what is left of an answer, up to maxDrain, so that its connection can serve
// the next call.
func drain(r io.Reader) { _, _ = io.Copy(io.Discard, io.LimitReader(r, maxDrain)) }
