package order

import "time"

// Record is one input record: what the worker reads from Kafka, what the rules decide, what
// an event answers and what the tools and tests produce. The rules read Value, Headers and
// Time; the event also reads Key and Source.
//
// The strings of a decision (a lookup's value, the fields of a violation, the billing
// account) may share the memory of Value and of the header values, which are therefore not
// copied: they must not be modified while the decision is in use. kafka-go gives every
// message a value and header values of their own, so the worker meets that condition for
// free.
type Record struct {
	// Key is the record key; nil or empty means none.
	Key []byte
	// Value is the request body.
	Value []byte
	// Headers are the record headers, in order.
	Headers []Header
	// Time is the record timestamp: "today" of the date rules is its date in Paris.
	Time time.Time
	// Source says where the record was read; zero for a record not read from a topic.
	Source Source
	// Trace is the trace context of the worker's own span for this record, set when the
	// worker traces (see processor's Tracing) and written into the event's traceparent
	// and tracestate. Zero when it does not: the event then carries the input's own trace
	// context (TraceContextOf the headers), if any.
	Trace TraceContext
}

// Source locates a record in its topic.
type Source struct {
	Topic     string
	Partition int
	Offset    int64
}

// Header is one record header.
type Header struct {
	Key   string
	Value []byte
}

// HeaderPairs returns headers given as [name, value] pairs (the form of the sample
// manifest and of test tables), in order.
func HeaderPairs(pairs [][2]string) []Header {
	if len(pairs) == 0 {
		return nil
	}
	hs := make([]Header, len(pairs))
	for i, p := range pairs {
		hs[i] = Header{Key: p[0], Value: []byte(p[1])}
	}
	return hs
}
