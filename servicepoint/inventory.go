package servicepoint

import (
	"context"

	"github.com/ordergate/ordergate/order"
)

// Inventory is the source of truth of service points: Find returns the service points whose
// criterion equals the value (an empty list when there is none). An error is transient
// (*TransientError), never "none".
type Inventory interface {
	Find(ctx context.Context, l order.Lookup) ([]order.ServicePoint, error)
}

// Results of inventory calls, as reported to the Observer.
const (
	ResultOK          = "ok"
	ResultNotFound    = "not_found"
	ResultTimeout     = "timeout"
	ResultUnavailable = "unavailable"
	ResultStatus      = "status"
	ResultBody        = "body"
)

// resultOf maps a transient failure to the result label of its call.
func resultOf(err error) string {
	if te, ok := err.(*TransientError); ok {
		switch te.cause {
		case CauseInventoryTimeout:
			return ResultTimeout
		case CauseInventoryUnavailable:
			return ResultUnavailable
		case CauseInventoryStatus:
			return ResultStatus
		case CauseInventoryBody:
			return ResultBody
		}
	}
	return ResultUnavailable
}
