package servicepoint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ordergate/ordergate/order"
)

// maxInventoryBody bounds an inventory answer, so that a broken service cannot exhaust memory.
const maxInventoryBody = 8 << 20

// HTTPInventory is the inventory service: GET {base}/servicePoints?{criterion}={value}.
// 200 with a JSON array is the list of matches, 404 is none; every other answer, a body that
// is not a JSON array of service points, a timeout and a connection error are transient
// failures.
type HTTPInventory struct {
	base    string
	token   string
	timeout time.Duration
	client  *http.Client
}

// NewHTTPInventory returns an inventory at base (no trailing slash needed), sending token as
// a bearer token when not empty, each call bounded by timeout.
func NewHTTPInventory(base, token string, timeout time.Duration, client *http.Client) *HTTPInventory {
	if client == nil {
		client = http.DefaultClient
	}
	return &HTTPInventory{base: strings.TrimRight(base, "/"), token: token, timeout: timeout, client: client}
}

// Find implements Inventory.
func (h *HTTPInventory) Find(ctx context.Context, l order.Lookup) ([]order.ServicePoint, error) {
	if h.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.timeout)
		defer cancel()
	}
	u := h.base + "/servicePoints?" + url.Values{string(l.Criterion): {l.Value}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, transient(CauseInventoryUnavailable, "%v", err)
	}
	req.Header.Set("Accept", "application/json")
	if h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, classify(ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxInventoryBody+1))
	if err != nil {
		return nil, classify(ctx, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return []order.ServicePoint{}, nil
	default:
		return nil, transient(CauseInventoryStatus, "inventory answered %s", resp.Status)
	}
	if len(body) > maxInventoryBody {
		return nil, transient(CauseInventoryBody, "inventory answer larger than %d bytes", maxInventoryBody)
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '[' {
		return nil, transient(CauseInventoryBody, "inventory answer is not a JSON array")
	}
	var list []order.ServicePoint
	if err := json.Unmarshal(trimmed, &list); err != nil {
		return nil, transient(CauseInventoryBody, "inventory answer is not a JSON array of service points: %v", err)
	}
	if list == nil {
		list = []order.ServicePoint{}
	}
	return list, nil
}

// classify tells a timeout from an unreachable service. The URL is left out of the message,
// which could otherwise carry credentials a user put in it.
func classify(ctx context.Context, err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded || (errors.As(err, &ne) && ne.Timeout()) {
		return transient(CauseInventoryTimeout, "inventory did not answer in time")
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return transient(CauseInventoryUnavailable, "inventory unreachable: %v", err)
}
