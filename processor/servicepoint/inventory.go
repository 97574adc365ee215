package servicepoint

import (
	"context"

	"github.com/ordergate/ordergate/processor/order"
)

// Inventory is the source of truth of service points. Find returns the service points whose
// criterion equals the value exactly, an empty list when there is none. An error is a
// failure (a *TransientError for the implementations of this package), never "none".
//
// Find is called at most once per key at a time by a Resolver, with a context that is not
// cancelled when one of the callers waiting for the answer gives up: an implementation must
// bound its own calls (HTTPInventory has a per-call timeout; FileInventory never blocks).
type Inventory interface {
	Find(ctx context.Context, l order.Lookup) ([]order.ServicePoint, error)
}
