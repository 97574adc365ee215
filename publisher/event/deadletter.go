package event

import (
	"strconv"
	"strings"

	"github.com/ordergate/ordergate/processor/order"
)

// Headers added to a dead-letter record.
const (
	HeaderDLQReason = "dlq_reason"
	HeaderDLQSource = "dlq_source"
)

// DeadLetter is the record published on the DLQ topic for an input whose event the broker
// refused for good: the input's key and value unchanged (so it can be replayed), its headers
// except client_secret, and dlq_reason, dlq_source (topic/partition/offset) and ce_id (the
// id of the event that could not be published).
type DeadLetter struct {
	Key     []byte
	Value   []byte
	Headers []order.Header
}

// BuildDeadLetter returns the dead-letter record of an input; reason says why its event
// was refused.
func BuildDeadLetter(in *order.Record, eventID, reason string) DeadLetter {
	dl := DeadLetter{Key: in.Key, Value: in.Value}
	for _, h := range in.Headers {
		if strings.EqualFold(h.Key, "client_secret") {
			continue
		}
		dl.Headers = append(dl.Headers, order.Header{Key: h.Key, Value: h.Value})
	}
	src := in.Source.Topic + "/" + strconv.Itoa(in.Source.Partition) + "/" + strconv.FormatInt(in.Source.Offset, 10)
	dl.Headers = append(dl.Headers,
		order.Header{Key: HeaderDLQReason, Value: []byte(reason)},
		order.Header{Key: HeaderDLQSource, Value: []byte(src)},
		order.Header{Key: HeaderID, Value: []byte(eventID)},
	)
	return dl
}
