package order

// ServicePoint is one entry of the service-point inventory (contract section 4).
// Every field is a string; Market is the ISO 3166-1 alpha-2 country of its market and
// State one of INSTALLING, OPERATIONAL, TERMINATED, CANCELLED, UNKNOWN (carried into the
// event, never a rule).
type ServicePoint struct {
	ID                string `json:"id"`
	Reference         string `json:"reference"`
	CustomerReference string `json:"customerReference"`
	Name              string `json:"name"`
	Market            string `json:"market"`
	State             string `json:"state"`
	// Stale reports an answer served from a cache entry past its time to live because the
	// inventory could not be asked (serve-stale, ORDERGATE_CACHE_STALE_FOR); the event says
	// so. It is never part of the inventory's data nor of a cache entry.
	Stale bool `json:"-"`
}

// Criterion names the identifier a service-point lookup uses.
type Criterion string

// The three criteria of the inventory, from the most specific to the least.
const (
	ByID                Criterion = "id"
	ByReference         Criterion = "reference"
	ByCustomerReference Criterion = "customerReference"
)

// Lookup is one service-point query: the most specific identifier a request gives.
// Resolution answers it with the list of matching service points (possibly empty); the
// agreement of the request's other identifiers with the match is checked by the rules,
// not by the resolver.
type Lookup struct {
	Criterion Criterion
	Value     string
}
